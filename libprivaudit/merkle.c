/* merkle.c: RFC 9162 Merkle tree hashing, frontier and proofs. */
#include "config.h"

#include <string.h>

#include "merkle.h"

void pa_tree_init(pa_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void pa_tree_append(pa_tree *t, const unsigned char leaf_hash[PA_HASH_LEN])
{
	unsigned char h[PA_HASH_LEN];
	uint64_t s = t->size;

	memcpy(h, leaf_hash, PA_HASH_LEN);
	/* Like a binary increment: every trailing 1 bit is a subtree of the same
	 * height as the carry, so they merge. */
	while (s & 1u) {
		t->n--;
		pa_hash_node(h, t->node[t->n], h);
		s >>= 1;
	}
	memcpy(t->node[t->n], h, PA_HASH_LEN);
	t->n++;
	t->size++;
}

void pa_tree_root(const pa_tree *t, unsigned char out[PA_HASH_LEN])
{
	unsigned char h[PA_HASH_LEN];

	if (t->n == 0) {
		pa_sha256(out, "", 0);
		return;
	}
	memcpy(h, t->node[t->n - 1], PA_HASH_LEN);
	for (unsigned i = t->n - 1; i-- > 0;)
		pa_hash_node(h, t->node[i], h);
	memcpy(out, h, PA_HASH_LEN);
}

int pa_tree_check(const pa_tree *t)
{
	return (unsigned)__builtin_popcountll(t->size) == t->n ? 0 : -1;
}

static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

void pa_merkle_root(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t start, uint64_t end,
		    unsigned char out[PA_HASH_LEN])
{
	pa_tree t;

	if (end <= start) {
		pa_sha256(out, "", 0);
		return;
	}
	pa_tree_init(&t);
	for (uint64_t i = start; i < end; i++)
		pa_tree_append(&t, leaves[i]);
	pa_tree_root(&t, out);
}

/* PATH(m, D[start:end]) of RFC 6962 2.1.1, appended at path[*count]. */
static void inclusion(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t start, uint64_t end,
		      uint64_t m, unsigned char (*path)[PA_HASH_LEN], int *count)
{
	uint64_t n = end - start, k;

	if (n <= 1)
		return;
	k = split_point(n);
	if (m < k) {
		inclusion(leaves, start, start + k, m, path, count);
		pa_merkle_root(leaves, start + k, end, path[(*count)++]);
	} else {
		inclusion(leaves, start + k, end, m - k, path, count);
		pa_merkle_root(leaves, start, start + k, path[(*count)++]);
	}
}

int pa_merkle_inclusion_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n, uint64_t m,
			      unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m >= n)
		return -1;
	inclusion(leaves, 0, n, m, path, &count);
	return count;
}

/* SUBPROOF(m, D[start:end], b) of RFC 6962 2.1.2. */
static void subproof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t start, uint64_t end,
		     uint64_t m, int whole, unsigned char (*path)[PA_HASH_LEN], int *count)
{
	uint64_t n = end - start, k;

	if (m == n) {
		if (!whole)
			pa_merkle_root(leaves, start, end, path[(*count)++]);
		return;
	}
	k = split_point(n);
	if (m <= k) {
		subproof(leaves, start, start + k, m, whole, path, count);
		pa_merkle_root(leaves, start + k, end, path[(*count)++]);
	} else {
		subproof(leaves, start + k, end, m - k, 0, path, count);
		pa_merkle_root(leaves, start, start + k, path[(*count)++]);
	}
}

int pa_merkle_consistency_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n,
				uint64_t m, unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m == 0 || m > n)
		return -1;
	subproof(leaves, 0, n, m, 1, path, &count);
	return count;
}

int pa_merkle_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[PA_HASH_LEN],
			       const unsigned char (*path)[PA_HASH_LEN], size_t count,
			       const unsigned char root[PA_HASH_LEN])
{
	unsigned char r[PA_HASH_LEN];
	uint64_t fn, sn;

	if (index >= size)
		return -1;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, PA_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1u) || fn == sn) {
			pa_hash_node(r, path[i], r);
			while (!(fn & 1u) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			pa_hash_node(r, r, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, PA_HASH_LEN) == 0 ? 0 : -1;
}

int pa_merkle_verify_consistency(uint64_t first, uint64_t second,
				 const unsigned char first_root[PA_HASH_LEN],
				 const unsigned char second_root[PA_HASH_LEN],
				 const unsigned char (*path)[PA_HASH_LEN], size_t count)
{
	unsigned char fr[PA_HASH_LEN], sr[PA_HASH_LEN];
	const unsigned char *start;
	uint64_t fn, sn;
	size_t i = 0;

	if (first > second)
		return -1;
	if (first == second)
		return count == 0 && memcmp(first_root, second_root, PA_HASH_LEN) == 0 ? 0 : -1;
	if (first == 0)
		return count == 0 ? 0 : -1;
	if (count == 0)
		return -1;
	/* A power-of-two first tree is itself a node of the second: the proof
	 * leaves it out, so start from first_root. */
	if ((first & (first - 1)) == 0) {
		start = first_root;
	} else {
		start = path[0];
		i = 1;
	}
	fn = first - 1;
	sn = second - 1;
	while (fn & 1u) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, start, PA_HASH_LEN);
	memcpy(sr, start, PA_HASH_LEN);
	for (; i < count; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1u) || fn == sn) {
			pa_hash_node(fr, path[i], fr);
			pa_hash_node(sr, path[i], sr);
			while (!(fn & 1u) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			pa_hash_node(sr, sr, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, first_root, PA_HASH_LEN) == 0 &&
			       memcmp(sr, second_root, PA_HASH_LEN) == 0 ? 0 : -1;
}
