/* SPDX-License-Identifier: ISC */
/* merkle.c: RFC 9162 Merkle tree hashing, frontier and proofs. */
#include "config.h"

#include <stdlib.h>
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

/* Root of D[start:end], from the leaves or from stored levels. */
typedef void (*range_root_fn)(const void *ctx, uint64_t start, uint64_t end,
			      unsigned char out[PA_HASH_LEN]);

static void leaves_root(const void *ctx, uint64_t start, uint64_t end, unsigned char out[PA_HASH_LEN])
{
	pa_merkle_root(ctx, start, end, out);
}

/* PATH(m, D[start:end]) of RFC 6962 2.1.1, appended at path[*count]. */
static void inclusion(range_root_fn root, const void *ctx, uint64_t start, uint64_t end,
		      uint64_t m, unsigned char (*path)[PA_HASH_LEN], int *count)
{
	uint64_t n = end - start, k;

	if (n <= 1)
		return;
	k = split_point(n);
	if (m < k) {
		inclusion(root, ctx, start, start + k, m, path, count);
		root(ctx, start + k, end, path[(*count)++]);
	} else {
		inclusion(root, ctx, start + k, end, m - k, path, count);
		root(ctx, start, start + k, path[(*count)++]);
	}
}

int pa_merkle_inclusion_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n, uint64_t m,
			      unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m >= n)
		return -1;
	inclusion(leaves_root, leaves, 0, n, m, path, &count);
	return count;
}

/* SUBPROOF(m, D[start:end], b) of RFC 6962 2.1.2. */
static void subproof(range_root_fn root, const void *ctx, uint64_t start, uint64_t end,
		     uint64_t m, int whole, unsigned char (*path)[PA_HASH_LEN], int *count)
{
	uint64_t n = end - start, k;

	if (m == n) {
		if (!whole)
			root(ctx, start, end, path[(*count)++]);
		return;
	}
	k = split_point(n);
	if (m <= k) {
		subproof(root, ctx, start, start + k, m, whole, path, count);
		root(ctx, start + k, end, path[(*count)++]);
	} else {
		subproof(root, ctx, start + k, end, m - k, 0, path, count);
		root(ctx, start, start + k, path[(*count)++]);
	}
}

int pa_merkle_consistency_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n,
				uint64_t m, unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m == 0 || m > n)
		return -1;
	subproof(leaves_root, leaves, 0, n, m, 1, path, &count);
	return count;
}

/* ------------------------------------------------------------ stored levels */

static const unsigned char (*level(const pa_levels *lv, unsigned h))[PA_HASH_LEN]
{
	return h == 0 ? lv->leaves : (const unsigned char (*)[PA_HASH_LEN])lv->node[h];
}

int pa_levels_build(pa_levels *lv, const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n)
{
	memset(lv, 0, sizeof(*lv));
	lv->leaves = leaves;
	lv->n[0] = n;
	lv->count = 1;
	while (lv->n[lv->count - 1] >= 2 && lv->count < PA_TREE_MAXDEPTH) {
		unsigned h = lv->count;
		uint64_t m = lv->n[h - 1] / 2;

		lv->node[h] = malloc(m * PA_HASH_LEN);
		if (lv->node[h] == NULL) {
			pa_levels_free(lv);
			return -1;
		}
		for (uint64_t i = 0; i < m; i++)
			pa_hash_node(lv->node[h][i], level(lv, h - 1)[2 * i], level(lv, h - 1)[2 * i + 1]);
		lv->n[h] = m;
		lv->count++;
	}
	return 0;
}

void pa_levels_free(pa_levels *lv)
{
	for (unsigned h = 1; h < lv->count; h++)
		free(lv->node[h]);
	memset(lv, 0, sizeof(*lv));
}

/* A perfect, aligned subtree is one stored node; any other range splits
 * into one such left part and a smaller right part: O(log n). */
static void levels_root(const void *ctx, uint64_t start, uint64_t end, unsigned char out[PA_HASH_LEN])
{
	const pa_levels *lv = ctx;
	uint64_t n = end - start, k;
	unsigned char left[PA_HASH_LEN], right[PA_HASH_LEN];

	if (n == 0) {
		pa_sha256(out, "", 0);
		return;
	}
	if ((n & (n - 1)) == 0 && (start & (n - 1)) == 0) {
		unsigned h = (unsigned)__builtin_ctzll(n);

		memcpy(out, level(lv, h)[start >> h], PA_HASH_LEN);
		return;
	}
	k = split_point(n);
	levels_root(ctx, start, start + k, left);
	levels_root(ctx, start + k, end, right);
	pa_hash_node(out, left, right);
}

void pa_levels_root(const pa_levels *lv, uint64_t n, unsigned char out[PA_HASH_LEN])
{
	levels_root(lv, 0, n, out);
}

int pa_levels_inclusion_proof(const pa_levels *lv, uint64_t n, uint64_t m,
			      unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m >= n || n > lv->n[0])
		return -1;
	inclusion(levels_root, lv, 0, n, m, path, &count);
	return count;
}

int pa_levels_consistency_proof(const pa_levels *lv, uint64_t n, uint64_t m,
				unsigned char (*path)[PA_HASH_LEN])
{
	int count = 0;

	if (m == 0 || m > n || n > lv->n[0])
		return -1;
	subproof(levels_root, lv, 0, n, m, 1, path, &count);
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
