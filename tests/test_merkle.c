/* SPDX-License-Identifier: ISC */
/* test_merkle.c: the RFC 9162 tree, frontier and proofs against vectors from
 * tests/paref.py (an independent implementation) and RFC 6962's test data. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "merkle.h"
#include "merkle_vectors.h"

#define N MERKLE_VECTOR_LEAVES

/* Leaf hashes computed by the library, checked against the vectors first. */
static unsigned char leaves[N][PA_HASH_LEN];

static const unsigned char (*cleaves(void))[PA_HASH_LEN]
{
	return (const unsigned char (*)[PA_HASH_LEN])leaves;
}

static int setup_leaves(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < N; i++) {
		unsigned char buf[MERKLE_VECTOR_LEAF_MAX];
		size_t len = merkle_vector_leaf(i, buf);

		pa_hash_leaf(leaves[i], buf, len);
	}
	return 0;
}

/* SHA-256 of the empty string, from FIPS 180-2 / RFC 9162 2.1.1. */
static const unsigned char empty_hash[PA_HASH_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

static void test_empty_tree(void **state)
{
	unsigned char h[PA_HASH_LEN];
	pa_tree t;

	(void)state;
	pa_sha256(h, "", 0);
	assert_memory_equal(h, empty_hash, PA_HASH_LEN);
	pa_tree_init(&t);
	assert_int_equal(pa_tree_check(&t), 0);
	pa_tree_root(&t, h);
	assert_memory_equal(h, empty_hash, PA_HASH_LEN);
	pa_merkle_root(cleaves(), 0, 0, h);
	assert_memory_equal(h, empty_hash, PA_HASH_LEN);
	assert_memory_equal(merkle_vector_roots[0], empty_hash, PA_HASH_LEN);
}

static void test_leaf_and_node_hash(void **state)
{
	unsigned char buf[1 + 2 * PA_HASH_LEN], want[PA_HASH_LEN], h[PA_HASH_LEN];
	unsigned char l[PA_HASH_LEN], r[PA_HASH_LEN];

	(void)state;
	for (size_t i = 0; i < N; i++)
		assert_memory_equal(leaves[i], merkle_vector_leaf_hashes[i], PA_HASH_LEN);
	/* node = SHA-256(0x01 || left || right), also when out aliases an input */
	memcpy(l, leaves[3], PA_HASH_LEN);
	memcpy(r, leaves[4], PA_HASH_LEN);
	buf[0] = 0x01;
	memcpy(buf + 1, l, PA_HASH_LEN);
	memcpy(buf + 1 + PA_HASH_LEN, r, PA_HASH_LEN);
	pa_sha256(want, buf, sizeof(buf));
	pa_hash_node(h, l, r);
	assert_memory_equal(h, want, PA_HASH_LEN);
	pa_hash_node(l, l, r);
	assert_memory_equal(l, want, PA_HASH_LEN);
	memcpy(l, leaves[3], PA_HASH_LEN);
	pa_hash_node(r, l, r);
	assert_memory_equal(r, want, PA_HASH_LEN);
	/* leaf = SHA-256(0x00 || entry) */
	buf[0] = 0x00;
	memcpy(buf + 1, "abc", 3);
	pa_sha256(want, buf, 4);
	pa_hash_leaf(h, "abc", 3);
	assert_memory_equal(h, want, PA_HASH_LEN);
}

static void test_tree_every_size(void **state)
{
	unsigned char h[PA_HASH_LEN];
	pa_tree t;

	(void)state;
	pa_tree_init(&t);
	for (uint64_t n = 0; n <= N; n++) {
		if (n > 0)
			pa_tree_append(&t, leaves[n - 1]);
		assert_int_equal(t.size, n);
		assert_int_equal(t.n, (unsigned)__builtin_popcountll(n));
		assert_int_equal(pa_tree_check(&t), 0);
		pa_tree_root(&t, h);
		assert_memory_equal(h, merkle_vector_roots[n], PA_HASH_LEN);
		pa_merkle_root(cleaves(), 0, n, h);
		assert_memory_equal(h, merkle_vector_roots[n], PA_HASH_LEN);
	}
	/* A frontier whose node count disagrees with its size is refused. */
	t.n--;
	assert_int_not_equal(pa_tree_check(&t), 0);
}

static void test_rfc6962_known_answers(void **state)
{
	unsigned char kat[MERKLE_KAT_LEAVES][PA_HASH_LEN], h[PA_HASH_LEN];
	pa_tree t;

	(void)state;
	pa_tree_init(&t);
	for (size_t i = 0; i < MERKLE_KAT_LEAVES; i++) {
		pa_hash_leaf(kat[i], merkle_kat_leaves[i].data, merkle_kat_leaves[i].len);
		pa_tree_append(&t, kat[i]);
		pa_tree_root(&t, h);
		assert_memory_equal(h, merkle_kat_roots[i], PA_HASH_LEN);
		pa_merkle_root((const unsigned char (*)[PA_HASH_LEN])kat, 0, i + 1, h);
		assert_memory_equal(h, merkle_kat_roots[i], PA_HASH_LEN);
	}
}

static void test_inclusion_vectors(void **state)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];

	(void)state;
	for (size_t v = 0; v < MERKLE_INCLUSION_VECTORS; v++) {
		const struct merkle_inclusion_vector *x = &merkle_inclusion_vectors[v];
		int count = pa_merkle_inclusion_proof(cleaves(), x->size, x->index, path);

		assert_int_equal(count, (int)x->count);
		for (size_t i = 0; i < x->count; i++)
			assert_memory_equal(path[i], merkle_proof_hashes[x->first + i], PA_HASH_LEN);
		assert_int_equal(pa_merkle_verify_inclusion(x->index, x->size,
							    merkle_vector_leaf_hashes[x->index],
							    &merkle_proof_hashes[x->first], x->count,
							    merkle_vector_roots[x->size]), 0);
	}
	/* A leaf outside the tree has no proof. */
	assert_int_equal(pa_merkle_inclusion_proof(cleaves(), 5, 5, path), -1);
	assert_int_equal(pa_merkle_inclusion_proof(cleaves(), 0, 0, path), -1);
}

/* Every inclusion proof, for every leaf of every tree up to N, verifies. */
static void test_inclusion_all(void **state)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];

	(void)state;
	for (uint64_t n = 1; n <= N; n++) {
		for (uint64_t m = 0; m < n; m++) {
			int count = pa_merkle_inclusion_proof(cleaves(), n, m, path);

			assert_true(count >= 0);
			assert_int_equal(pa_merkle_verify_inclusion(m, n, leaves[m],
								    (const unsigned char (*)[PA_HASH_LEN])path,
								    (size_t)count, merkle_vector_roots[n]), 0);
		}
	}
}

static int incl(uint64_t index, uint64_t size, const unsigned char *leaf,
		const unsigned char (*path)[PA_HASH_LEN], size_t count, const unsigned char *root)
{
	return pa_merkle_verify_inclusion(index, size, leaf, path, count, root);
}

static void test_inclusion_rejects(void **state)
{
	unsigned char path[PA_PROOF_MAX + 1][PA_HASH_LEN], tmp[PA_PROOF_MAX][PA_HASH_LEN];
	const unsigned char (*cpath)[PA_HASH_LEN] = (const unsigned char (*)[PA_HASH_LEN])path;

	(void)state;
	for (size_t v = 0; v < MERKLE_INCLUSION_VECTORS; v++) {
		const struct merkle_inclusion_vector *x = &merkle_inclusion_vectors[v];
		const unsigned char *root = merkle_vector_roots[x->size];
		const unsigned char *leaf = merkle_vector_leaf_hashes[x->index];
		uint64_t other;

		memcpy(path, &merkle_proof_hashes[x->first], x->count * PA_HASH_LEN);
		assert_int_equal(incl(x->index, x->size, leaf, cpath, x->count, root), 0);

		/* one flipped bit anywhere in the path */
		for (size_t i = 0; i < x->count; i++) {
			for (size_t b = 0; b < PA_HASH_LEN; b += 7) {
				path[i][b] ^= 0x01;
				assert_int_not_equal(incl(x->index, x->size, leaf, cpath, x->count, root), 0);
				path[i][b] ^= 0x01;
			}
		}
		/* another leaf, or the right leaf at another index */
		other = x->index + 1 < x->size ? x->index + 1 : x->index - 1;
		if (x->size > 1) {
			assert_int_not_equal(incl(x->index, x->size, merkle_vector_leaf_hashes[other], cpath,
						  x->count, root), 0);
			assert_int_not_equal(incl(other, x->size, leaf, cpath, x->count, root), 0);
		}
		assert_int_not_equal(incl(x->index ^ 1, x->size, leaf, cpath, x->count, root), 0);
		assert_int_not_equal(incl(x->size, x->size, leaf, cpath, x->count, root), 0);
		assert_int_not_equal(incl(x->index + x->size, x->size, leaf, cpath, x->count, root), 0);
		/* another tree size: not the root of that tree, and not this root
		 * when that size needs a path of another length */
		for (int d = -1; d <= 1; d += 2) {
			uint64_t size = x->size + (uint64_t)(int64_t)d;
			int want;

			if (size <= x->index || size > N)
				continue;
			want = pa_merkle_inclusion_proof(cleaves(), size, x->index, tmp);
			assert_int_not_equal(incl(x->index, size, leaf, cpath, x->count,
						  merkle_vector_roots[size]), 0);
			if (want != (int)x->count)
				assert_int_not_equal(incl(x->index, size, leaf, cpath, x->count, root), 0);
		}
		assert_int_not_equal(incl(x->index, 0, leaf, cpath, x->count, root), 0);
		/* truncated, and extended with a stray hash */
		if (x->count > 0)
			assert_int_not_equal(incl(x->index, x->size, leaf, cpath, x->count - 1, root), 0);
		memcpy(path[x->count], leaves[0], PA_HASH_LEN);
		assert_int_not_equal(incl(x->index, x->size, leaf, cpath, x->count + 1, root), 0);
		/* the right path against another root */
		if (x->size > 1)
			assert_int_not_equal(incl(x->index, x->size, leaf, cpath, x->count,
						  merkle_vector_roots[x->size - 1]), 0);
	}
}

static void test_consistency_vectors(void **state)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];

	(void)state;
	for (size_t v = 0; v < MERKLE_CONSISTENCY_VECTORS; v++) {
		const struct merkle_consistency_vector *x = &merkle_consistency_vectors[v];
		int count = pa_merkle_consistency_proof(cleaves(), x->new_size, x->old_size, path);

		assert_int_equal(count, (int)x->count);
		for (size_t i = 0; i < x->count; i++)
			assert_memory_equal(path[i], merkle_proof_hashes[x->first + i], PA_HASH_LEN);
		assert_int_equal(pa_merkle_verify_consistency(x->old_size, x->new_size,
							      merkle_vector_roots[x->old_size],
							      merkle_vector_roots[x->new_size],
							      &merkle_proof_hashes[x->first], x->count), 0);
	}
	/* No proof from the empty tree or from a bigger one. */
	assert_int_equal(pa_merkle_consistency_proof(cleaves(), 5, 0, path), -1);
	assert_int_equal(pa_merkle_consistency_proof(cleaves(), 5, 6, path), -1);
}

/* Every consistency proof between trees up to N verifies. */
static void test_consistency_all(void **state)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];

	(void)state;
	for (uint64_t n = 1; n <= N; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			int count = pa_merkle_consistency_proof(cleaves(), n, m, path);

			assert_true(count >= 0);
			assert_int_equal(pa_merkle_verify_consistency(m, n, merkle_vector_roots[m],
								      merkle_vector_roots[n],
								      (const unsigned char (*)[PA_HASH_LEN])path,
								      (size_t)count), 0);
		}
	}
}

static int cons(uint64_t m, uint64_t n, const unsigned char *r1, const unsigned char *r2,
		const unsigned char (*path)[PA_HASH_LEN], size_t count)
{
	return pa_merkle_verify_consistency(m, n, r1, r2, path, count);
}

static void test_consistency_rejects(void **state)
{
	unsigned char path[PA_PROOF_MAX + 1][PA_HASH_LEN], bad[PA_HASH_LEN];
	const unsigned char (*cpath)[PA_HASH_LEN] = (const unsigned char (*)[PA_HASH_LEN])path;

	(void)state;
	for (size_t v = 0; v < MERKLE_CONSISTENCY_VECTORS; v++) {
		const struct merkle_consistency_vector *x = &merkle_consistency_vectors[v];
		const unsigned char *r1 = merkle_vector_roots[x->old_size];
		const unsigned char *r2 = merkle_vector_roots[x->new_size];
		uint64_t m = x->old_size, n = x->new_size;

		memcpy(path, &merkle_proof_hashes[x->first], x->count * PA_HASH_LEN);
		assert_int_equal(cons(m, n, r1, r2, cpath, x->count), 0);
		for (size_t i = 0; i < x->count; i++) {
			for (size_t b = 0; b < PA_HASH_LEN; b += 7) {
				path[i][b] ^= 0x80;
				assert_int_not_equal(cons(m, n, r1, r2, cpath, x->count), 0);
				path[i][b] ^= 0x80;
			}
		}
		/* altered roots */
		memcpy(bad, r1, PA_HASH_LEN);
		bad[5] ^= 1;
		assert_int_not_equal(cons(m, n, bad, r2, cpath, x->count), 0);
		memcpy(bad, r2, PA_HASH_LEN);
		bad[31] ^= 1;
		assert_int_not_equal(cons(m, n, r1, bad, cpath, x->count), 0);
		/* other sizes, with the roots of those sizes */
		if (m > 1)
			assert_int_not_equal(cons(m - 1, n, merkle_vector_roots[m - 1], r2, cpath,
						  x->count), 0);
		if (m < n)
			assert_int_not_equal(cons(m + 1, n, merkle_vector_roots[m + 1], r2, cpath,
						  x->count), 0);
		if (n < N)
			assert_int_not_equal(cons(m, n + 1, r1, merkle_vector_roots[n + 1], cpath,
						  x->count), 0);
		if (n > m)
			assert_int_not_equal(cons(m, n - 1, r1, merkle_vector_roots[n - 1], cpath,
						  x->count), 0);
		/* shrinking is never consistent */
		if (m < n)
			assert_int_not_equal(cons(n, m, r2, r1, cpath, x->count), 0);
		/* truncated, and extended */
		if (x->count > 0)
			assert_int_not_equal(cons(m, n, r1, r2, cpath, x->count - 1), 0);
		memcpy(path[x->count], leaves[1], PA_HASH_LEN);
		assert_int_not_equal(cons(m, n, r1, r2, cpath, x->count + 1), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_tree),
		cmocka_unit_test(test_leaf_and_node_hash),
		cmocka_unit_test(test_tree_every_size),
		cmocka_unit_test(test_rfc6962_known_answers),
		cmocka_unit_test(test_inclusion_vectors),
		cmocka_unit_test(test_inclusion_all),
		cmocka_unit_test(test_inclusion_rejects),
		cmocka_unit_test(test_consistency_vectors),
		cmocka_unit_test(test_consistency_all),
		cmocka_unit_test(test_consistency_rejects),
	};

	return cmocka_run_group_tests(tests, setup_leaves, NULL);
}
