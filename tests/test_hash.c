/* SPDX-License-Identifier: ISC */
/* test_hash.c: the in-house SHA-256, both implementations (the SHA-NI code
 * runs only where the CPU has it), against the FIPS 180-4 examples and
 * against libsodium's independent SHA-256 on every length up to three
 * blocks past a 1 KiB record, through each entry point. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "hash.h"

static void hex(const char *s, unsigned char out[PA_HASH_LEN])
{
	for (int i = 0; i < PA_HASH_LEN; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

static void check_vector(const char *msg, size_t len, const char *want_hex)
{
	unsigned char want[PA_HASH_LEN], got[PA_HASH_LEN];

	hex(want_hex, want);
	pa_sha256(got, msg, len);
	assert_memory_equal(got, want, PA_HASH_LEN);
}

/* FIPS 180-4 examples (one block, two blocks, the million a's) and the
 * empty string. */
static void vectors(void)
{
	char *million = malloc(1000000);

	assert_non_null(million);
	memset(million, 'a', 1000000);
	check_vector("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vector("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_vector(million, 1000000,
		     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* Every length 0..1200 (each padding case, 1 KiB records), as plain,
 * leaf (0x00 ||) and through a file; nodes of random children. */
static void against_libsodium(void)
{
	enum { MAX = 1200 };
	unsigned char data[MAX + 1], want[PA_HASH_LEN], got[PA_HASH_LEN];
	char path[] = "/tmp/test_hash.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	randombytes_buf(data, sizeof(data));
	assert_int_equal(write(fd, data + 1, MAX), MAX);
	for (size_t len = 0; len <= MAX; len++) {
		crypto_hash_sha256(want, data + 1, len);
		pa_sha256(got, data + 1, len);
		assert_memory_equal(got, want, PA_HASH_LEN);
		memset(got, 0, sizeof(got));
		assert_int_equal(pa_sha256_file(got, fd, len), 0);
		assert_memory_equal(got, want, PA_HASH_LEN);

		data[0] = 0x00;
		crypto_hash_sha256(want, data, len + 1);
		pa_hash_leaf(got, data + 1, len);
		assert_memory_equal(got, want, PA_HASH_LEN);
	}
	assert_int_equal(pa_sha256_file(got, fd, MAX + 1), -1);   /* past the end */
	close(fd);
	for (int i = 0; i < 100; i++) {
		unsigned char node[1 + 2 * PA_HASH_LEN];

		randombytes_buf(node, sizeof(node));
		node[0] = 0x01;
		crypto_hash_sha256(want, node, sizeof(node));
		pa_hash_node(got, node + 1, node + 1 + PA_HASH_LEN);
		assert_memory_equal(got, want, PA_HASH_LEN);
		pa_hash_node(node + 1, node + 1, node + 1 + PA_HASH_LEN);   /* out aliases left */
		assert_memory_equal(node + 1, want, PA_HASH_LEN);
	}
}

/* Two leaves at once give SHA-256(0x00 || entry) of each, by libsodium:
 * every pair of lengths 0..300 (each split the two-stream path makes: the
 * first 63 bytes, whole blocks read in place, the tails), entries at odd
 * addresses, then 1 KiB records. */
static void leaf_pairs(void)
{
	enum { MAX = 300 };
	unsigned char data[2 * MAX + 4], want[MAX + 1][PA_HASH_LEN], want_b[PA_HASH_LEN];
	unsigned char got_a[PA_HASH_LEN], got_b[PA_HASH_LEN];
	const unsigned char *a = data + 1, *b = data + MAX + 3;

	randombytes_buf(data, sizeof(data));
	/* want[l]: the leaf of the l bytes at b, from libsodium */
	for (size_t l = 0; l <= MAX; l++) {
		unsigned char buf[MAX + 1];

		buf[0] = 0x00;
		memcpy(buf + 1, b, l);
		crypto_hash_sha256(want[l], buf, l + 1);
	}
	for (size_t la = 0; la <= MAX; la++) {
		unsigned char want_a[PA_HASH_LEN], buf[MAX + 1];

		buf[0] = 0x00;
		memcpy(buf + 1, a, la);
		crypto_hash_sha256(want_a, buf, la + 1);
		for (size_t lb = 0; lb <= MAX; lb++) {
			pa_hash_leaf2(got_a, a, la, got_b, b, lb);
			assert_memory_equal(got_a, want_a, PA_HASH_LEN);
			assert_memory_equal(got_b, want[lb], PA_HASH_LEN);
		}
	}
	for (int i = 0; i < 50; i++) {
		unsigned char rec[2][1 + 1300];
		size_t l0 = 900 + (size_t)randombytes_uniform(400), l1 = 900 + (size_t)randombytes_uniform(400);

		randombytes_buf(rec, sizeof(rec));
		rec[0][0] = rec[1][0] = 0x00;
		crypto_hash_sha256(want[0], rec[0], l0 + 1);
		crypto_hash_sha256(want_b, rec[1], l1 + 1);
		pa_hash_leaf2(got_a, rec[0] + 1, l0, got_b, rec[1] + 1, l1);
		assert_memory_equal(got_a, want[0], PA_HASH_LEN);
		assert_memory_equal(got_b, want_b, PA_HASH_LEN);
	}
}

/* A file of several read buffers (the file hash reads 64 KiB at a time). */
static void large_file(void)
{
	enum { LEN = 200001 };
	unsigned char *data = malloc(LEN), want[PA_HASH_LEN], got[PA_HASH_LEN];
	char path[] = "/tmp/test_hash.XXXXXX";
	int fd = mkstemp(path);

	assert_non_null(data);
	assert_true(fd >= 0);
	unlink(path);
	randombytes_buf(data, LEN);
	assert_int_equal(write(fd, data, LEN), LEN);
	crypto_hash_sha256(want, data, LEN);
	assert_int_equal(pa_sha256_file(got, fd, LEN), 0);
	assert_memory_equal(got, want, PA_HASH_LEN);
	pa_sha256(got, data, LEN);
	assert_memory_equal(got, want, PA_HASH_LEN);
	crypto_hash_sha256(want, NULL, 0);
	pa_sha256(got, NULL, 0);
	assert_memory_equal(got, want, PA_HASH_LEN);
	close(fd);
	free(data);
}

/* What the CPU says about itself, asked directly: the default must use the
 * SHA extensions exactly when they are there. */
static int cpu_has_sha(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0 || !(b & (1u << 29)))
		return 0;
	if (__get_cpuid(1, &a, &b, &c, &d) == 0)
		return 0;
	return (c & (1u << 19)) && (c & (1u << 9));
#else
	return 0;
#endif
}

static void test_default(void **state)
{
	(void)state;
	pa_hash_force_portable(0);
	assert_string_equal(pa_hash_backend(), cpu_has_sha() ? "sha-ni" : "portable");
	vectors();
	against_libsodium();
	leaf_pairs();
	large_file();
}

static void test_portable(void **state)
{
	(void)state;
	pa_hash_force_portable(1);
	assert_string_equal(pa_hash_backend(), "portable");
	vectors();
	against_libsodium();
	leaf_pairs();
	large_file();
	pa_hash_force_portable(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_portable),
	};

	if (sodium_init() < 0)
		return 1;
	printf("# SHA-256 implementation on this CPU: %s\n", pa_hash_backend());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
