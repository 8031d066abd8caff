/* SPDX-License-Identifier: ISC */
/* fuzz_proof.c: Merkle inclusion and consistency proofs.  The first byte
 * picks what the rest is:
 *   0: an inclusion proof to verify: index, size (8 bytes each, big-endian),
 *      leaf hash, root, then the path, 32 bytes a hash;
 *   1: a consistency proof to verify: first, second, first root, second
 *      root, then the path;
 *   2: leaf entries (byte 1: how many less one, byte 2: which one, the rest cut into
 *      entries): proofs made by the library for them must verify, and must
 *      fail once a hash of the path is changed.
 * gen-proofs.c writes the corpus from a real log. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "merkle.h"
#include "util.h"

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void verify_given(int mode, const uint8_t *p, size_t n)
{
	unsigned char (*path)[PA_HASH_LEN] = NULL;
	size_t count;
	uint64_t a, b;

	if (n < 16 + 2 * PA_HASH_LEN)
		return;
	a = be64(p);
	b = be64(p + 8);
	count = (n - 16 - 2 * PA_HASH_LEN) / PA_HASH_LEN;
	if (count > 0) {
		/* Own copy: the path must be readable exactly count hashes long. */
		path = malloc(count * PA_HASH_LEN);
		FUZZ_CHECK(path != NULL);
		memcpy(path, p + 16 + 2 * PA_HASH_LEN, count * PA_HASH_LEN);
	}
	if (mode == 0) {
		int rc = pa_merkle_verify_inclusion(a, b, p + 16, (const unsigned char (*)[PA_HASH_LEN])path,
						    count, p + 16 + PA_HASH_LEN);

		/* No proof holds for an index outside the tree. */
		if (a >= b)
			FUZZ_CHECK(rc != 0);
	} else {
		int rc = pa_merkle_verify_consistency(a, b, p + 16, p + 16 + PA_HASH_LEN,
						      (const unsigned char (*)[PA_HASH_LEN])path, count);

		if (a > b)
			FUZZ_CHECK(rc != 0);
	}
	free(path);
}

static void roundtrip(const uint8_t *p, size_t n)
{
	unsigned char (*leaves)[PA_HASH_LEN], path[PA_PROOF_MAX][PA_HASH_LEN];
	unsigned char root[PA_HASH_LEN], root_m[PA_HASH_LEN], check[PA_HASH_LEN];
	uint64_t count, m, chunk;
	unsigned flip;
	pa_tree t;
	int k;

	if (n < 2)
		return;
	count = 1 + (uint64_t)p[0];
	m = p[1] % count;
	flip = p[0] ^ p[1];
	p += 2;
	n -= 2;
	chunk = n / count;
	leaves = malloc(count * PA_HASH_LEN);
	FUZZ_CHECK(leaves != NULL);
	pa_tree_init(&t);
	for (uint64_t i = 0; i < count; i++) {
		/* Entries of chunk bytes, the last one taking the remainder. */
		size_t len = i + 1 == count ? n - i * chunk : chunk;

		pa_hash_leaf(leaves[i], p + i * chunk, len);
		pa_tree_append(&t, leaves[i]);
	}
	FUZZ_CHECK(pa_tree_check(&t) == 0);
	pa_tree_root(&t, root);
	pa_merkle_root((const unsigned char (*)[PA_HASH_LEN])leaves, 0, count, check);
	FUZZ_CHECK(memcmp(root, check, PA_HASH_LEN) == 0);

	/* Inclusion of leaf m in the whole tree. */
	k = pa_merkle_inclusion_proof((const unsigned char (*)[PA_HASH_LEN])leaves, count, m, path);
	FUZZ_CHECK(k >= 0 && k <= PA_PROOF_MAX);
	FUZZ_CHECK(pa_merkle_verify_inclusion(m, count, leaves[m],
					      (const unsigned char (*)[PA_HASH_LEN])path,
					      (size_t)k, root) == 0);
	if (k > 0) {
		path[k - 1][flip % PA_HASH_LEN] ^= 1;
		FUZZ_CHECK(pa_merkle_verify_inclusion(m, count, leaves[m],
						      (const unsigned char (*)[PA_HASH_LEN])path,
						      (size_t)k, root) != 0);
	}
	FUZZ_CHECK(pa_merkle_inclusion_proof((const unsigned char (*)[PA_HASH_LEN])leaves, count,
					     count, path) < 0);

	/* Consistency of the first m + 1 leaves with the whole tree. */
	pa_merkle_root((const unsigned char (*)[PA_HASH_LEN])leaves, 0, m + 1, root_m);
	k = pa_merkle_consistency_proof((const unsigned char (*)[PA_HASH_LEN])leaves, count, m + 1,
					path);
	FUZZ_CHECK(k >= 0 && k <= PA_PROOF_MAX);
	FUZZ_CHECK(pa_merkle_verify_consistency(m + 1, count, root_m, root,
						(const unsigned char (*)[PA_HASH_LEN])path,
						(size_t)k) == 0);
	if (k > 0) {
		path[0][flip % PA_HASH_LEN] ^= 0x80;
		FUZZ_CHECK(pa_merkle_verify_consistency(m + 1, count, root_m, root,
							(const unsigned char (*)[PA_HASH_LEN])path,
							(size_t)k) != 0);
	}
	free(leaves);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
	case 1:
		verify_given(data[0] % 3, data + 1, size - 1);
		break;
	default:
		roundtrip(data + 1, size - 1);
		break;
	}
	return 0;
}
