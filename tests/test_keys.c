/* SPDX-License-Identifier: ISC */
/* test_keys.c: the 0600 one-time key file: round trip, mode, any corruption
 * refused, and no copy of a replaced secret in the new file or the old inode. */
#include "config.h"

#include "testutil.h"

#include <sodium.h>

#include "keys.h"

static pa_keystate *sample_key(uint64_t index, const char *origin, const char *note,
			       size_t note_len)
{
	pa_keystate *ks = pa_keys_new();

	assert_non_null(ks);
	assert_int_equal(pa_keys_generate(ks), PRIVAUDIT_OK);
	ks->key_index = index;
	randombytes_buf(ks->log_id, sizeof(ks->log_id));
	snprintf(ks->origin, sizeof(ks->origin), "%s", origin);
	assert_true(note_len <= PA_NOTE_MAX);
	memcpy(ks->note, note, note_len);
	ks->note_len = (uint32_t)note_len;
	return ks;
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void assert_same_key(const pa_keystate *a, const pa_keystate *b)
{
	assert_true(a->key_index == b->key_index);
	assert_memory_equal(a->log_id, b->log_id, sizeof(a->log_id));
	assert_memory_equal(a->pk, b->pk, sizeof(a->pk));
	assert_memory_equal(a->sk, b->sk, sizeof(a->sk));
	assert_string_equal(a->origin, b->origin);
	assert_int_equal(a->note_len, b->note_len);
	assert_memory_equal(a->note, b->note, a->note_len);
}

static int is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int setup_sodium(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void test_roundtrip(void **state)
{
	const char *dir = *state;
	char *big = malloc(PA_NOTE_MAX), origin[PA_ORIGIN_MAX];
	pa_keystate *ks, *got = pa_keys_new();
	pa_err e;
	int dirfd = open_dir(dir);

	assert_non_null(big);
	assert_non_null(got);
	/* an ordinary key with a note */
	ks = sample_key(7, "test.example/keys", "a note\nsigned\n", 14);
	assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
	assert_same_key(ks, got);
	pa_keys_free(ks);
	/* no note, and key index 0 */
	ks = sample_key(0, "o", "", 0);
	assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
	assert_same_key(ks, got);
	pa_keys_free(ks);
	/* the largest origin and note */
	memset(origin, 'o', sizeof(origin) - 1);
	origin[sizeof(origin) - 1] = '\0';
	memset(big, 'n', PA_NOTE_MAX);
	ks = sample_key(UINT64_MAX - 1, origin, big, PA_NOTE_MAX);
	assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
	assert_same_key(ks, got);
	/* a note over the limit is refused, and the stored key stays */
	ks->note_len = PA_NOTE_MAX + 1;
	assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
	assert_int_equal(got->note_len, PA_NOTE_MAX);
	pa_keys_free(ks);
	pa_keys_free(got);
	pa_keys_free(NULL);
	free(big);
	close(dirfd);
}

static void test_mode(void **state)
{
	static const mode_t masks[] = {0, 022, 077, 0277};
	const char *dir = *state;
	char path[TU_PATH_MAX];
	pa_keystate *ks = sample_key(1, "test.example/keys", "", 0);
	int dirfd = open_dir(dir);
	struct stat sb;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	/* a looser file already there is replaced by a 0600 one */
	tu_write(path, "x", 1);
	assert_int_equal(chmod(path, 0666), 0);
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);

		assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_OK);
		umask(old);
		assert_int_equal(lstat(path, &sb), 0);
		assert_true(S_ISREG(sb.st_mode));
		assert_int_equal(sb.st_mode & 07777, 0600);
	}
	assert_int_equal(tu_count_prefix(dir, PA_KEY_FILE ".", NULL, 0), 0);   /* no .tmp left */
	pa_keys_free(ks);
	close(dirfd);
}

static void expect_load_fails(int dirfd, privaudit_status want)
{
	pa_keystate *got = pa_keys_new();
	pa_err e;

	assert_non_null(got);
	memset(&e, 0, sizeof(e));
	assert_int_equal(pa_keys_load(&e, dirfd, got), want);
	assert_true(e.msg[0] != '\0');
	/* nothing half-loaded is left behind (pa_keys_new zeroed it) */
	assert_true(is_zero(got, sizeof(*got)));
	pa_keys_free(got);
}

static void test_corrupt(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX], other[TU_PATH_MAX];
	pa_keystate *ks = sample_key(3, "test.example/keys", "note\n", 5);
	unsigned char *good, *bad;
	int dirfd = open_dir(dir);
	size_t len;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_store(&e, dirfd, ks), PRIVAUDIT_OK);
	good = tu_read(path, &len);
	bad = malloc(len + 1);
	assert_non_null(bad);
	/* one changed bit in any byte */
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			memcpy(bad, good, len);
			bad[i] ^= (unsigned char)(1u << bit);
			tu_write(path, bad, len);
			expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
		}
	}
	/* cut short at any length, or one byte too long */
	for (size_t cut = 0; cut < len; cut += cut < 16 ? 1 : 11) {
		tu_write(path, good, cut);
		expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	}
	memcpy(bad, good, len);
	bad[len] = 0;
	tu_write(path, bad, len + 1);
	expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	/* and the good bytes still load */
	tu_write(path, good, len);
	{
		pa_keystate *got = pa_keys_new();

		assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
		assert_same_key(ks, got);
		pa_keys_free(got);
	}
	/* a well-formed file whose secret is not the public key's */
	{
		pa_keystate *mix = sample_key(3, "test.example/keys", "", 0);
		unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

		crypto_sign_keypair(pk, sk);
		memcpy(mix->pk, pk, sizeof(pk));
		assert_int_equal(pa_keys_store(&e, dirfd, mix), PRIVAUDIT_OK);
		expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
		pa_keys_free(mix);
		sodium_memzero(sk, sizeof(sk));
	}
	/* missing, a directory, a symlink to a good key file */
	assert_int_equal(unlink(path), 0);
	expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	assert_int_equal(rmdir(path), 0);
	tu_write(tu_path(other, dir, "elsewhere"), good, len);
	assert_int_equal(symlink("elsewhere", path), 0);
	{
		pa_keystate *got = pa_keys_new();

		assert_int_not_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
		assert_true(is_zero(got->sk, sizeof(got->sk)));
		pa_keys_free(got);
	}
	free(good);
	free(bad);
	pa_keys_free(ks);
	close(dirfd);
}

/* After the next key is stored, the used secret is in neither file. */
static void test_old_key_overwritten(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	pa_keystate *a = sample_key(4, "test.example/keys", "note a\n", 7);
	pa_keystate *b = sample_key(5, "test.example/keys", "note b\n", 7);
	unsigned char *buf, *old;
	struct stat so, sn;
	size_t len, olen;
	int dirfd = open_dir(dir), oldfd;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_store(&e, dirfd, a), PRIVAUDIT_OK);
	oldfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(oldfd >= 0);
	assert_int_equal(fstat(oldfd, &so), 0);
	/* the search below can find a secret where there is one */
	buf = tu_read(path, &len);
	assert_true(tu_contains(buf, len, a->sk, 32));
	free(buf);

	assert_int_equal(pa_keys_store(&e, dirfd, b), PRIVAUDIT_OK);

	/* the new file: b's key, nothing of a's secret (seed or full key) */
	assert_int_equal(stat(path, &sn), 0);
	assert_true(sn.st_ino != so.st_ino);
	buf = tu_read(path, &len);
	assert_true(tu_contains(buf, len, b->sk, sizeof(b->sk)));
	assert_false(tu_contains(buf, len, a->sk, 32));
	assert_false(tu_contains(buf, len, a->sk, sizeof(a->sk)));
	free(buf);
	/* the old inode, read through the descriptor opened before: its bytes
	 * were overwritten in place before it was let go */
	assert_int_equal(fstat(oldfd, &so), 0);
	assert_int_equal(so.st_nlink, 0);
	olen = (size_t)so.st_size;
	assert_true(olen > 0);
	old = malloc(olen);
	assert_non_null(old);
	assert_int_equal(pread(oldfd, old, olen, 0), (ssize_t)olen);
	assert_false(tu_contains(old, olen, a->sk, 32));
	assert_false(tu_contains(old, olen, a->sk + 32, 32));
	assert_false(tu_contains(old, olen, b->sk, 32));
	free(old);
	close(oldfd);
	pa_keys_free(a);
	pa_keys_free(b);
	close(dirfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_mode, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_corrupt, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_old_key_overwritten, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
