/* SPDX-License-Identifier: ISC */
/* test_keys.c: the 0600 two-slot key file: round trip through a seal's
 * prepare and retire, mode, any corruption refused, every state a crash can
 * leave read back as the right key, the old format read and moved, and no
 * used secret left in the file, in a leftover copy, or in an old inode. */
#include "config.h"

#include "testutil.h"

#include <sodium.h>

#include "keys.h"

static pa_keystate *sample_key(uint64_t index, const char *origin)
{
	pa_keystate *ks = pa_keys_new();

	assert_non_null(ks);
	assert_int_equal(pa_keys_generate(ks), PRIVAUDIT_OK);
	ks->key_index = index;
	memset(ks->log_id, 0x5a, sizeof(ks->log_id));
	snprintf(ks->origin, sizeof(ks->origin), "%s", origin);
	return ks;
}

/* The key that follows cur, as a seal makes it. */
static pa_keystate *next_key(const pa_keystate *cur)
{
	pa_keystate *n = sample_key(cur->key_index + 1, cur->origin);

	memcpy(n->log_id, cur->log_id, sizeof(n->log_id));
	return n;
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static pa_keystate *load_ok(int dirfd)
{
	pa_keystate *got = pa_keys_new();
	pa_err e;

	assert_non_null(got);
	assert_int_equal(pa_keys_load(&e, dirfd, got), PRIVAUDIT_OK);
	return got;
}

static void assert_same_key(const pa_keystate *a, const pa_keystate *b)
{
	assert_true(a->key_index == b->key_index);
	assert_memory_equal(a->log_id, b->log_id, sizeof(a->log_id));
	assert_memory_equal(a->pk, b->pk, sizeof(a->pk));
	assert_memory_equal(a->sk, b->sk, sizeof(a->sk));
	assert_string_equal(a->origin, b->origin);
}

static int is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* One seal's key steps: prepare next, sign (here: a made-up note), retire
 * cur.  Returns the loaded state afterwards. */
static pa_keystate *seal_step(int dirfd, pa_keystate *cur, const char *note)
{
	pa_keystate *next = next_key(cur), *got;
	pa_err e;

	assert_int_equal(pa_keys_settle(&e, dirfd, cur), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_prepare(&e, dirfd, cur, next), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_retire(&e, dirfd, cur, note, strlen(note)), PRIVAUDIT_OK);
	got = load_ok(dirfd);
	assert_same_key(next, got);
	assert_int_equal(got->note_len, strlen(note));
	assert_memory_equal(got->note, note, strlen(note));
	pa_keys_free(next);
	return got;
}

static int setup_sodium(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static void test_roundtrip(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX], origin[PA_ORIGIN_MAX], *big;
	pa_keystate *ks = sample_key(7, "test.example/keys"), *got;
	size_t fit;
	int dirfd = open_dir(dir);
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_true(tu_size(path) == (off_t)PA_KEY_FILE_SIZE);
	got = load_ok(dirfd);
	assert_same_key(ks, got);
	assert_int_equal(got->note_len, 0);
	assert_int_equal(got->from, PA_KEYS_FROM_SLOTS);
	/* a second create never overwrites a key file */
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_E_IO);
	assert_int_equal(e.err, EEXIST);
	pa_keys_free(ks);
	/* two seals: each loads the next key and the note the last one signed */
	ks = seal_step(dirfd, got, "a note\nsigned\n");
	pa_keys_free(got);
	got = seal_step(dirfd, ks, "another\n");
	pa_keys_free(ks);
	pa_keys_free(got);
	assert_int_equal(unlink(path), 0);

	/* the largest origin, and the largest note a slot holds with it */
	memset(origin, 'o', sizeof(origin) - 1);
	origin[sizeof(origin) - 1] = '\0';
	ks = sample_key(UINT64_MAX - 2, origin);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	pa_keys_free(ks);
	ks = load_ok(dirfd);
	fit = PA_KEY_SLOT - 160 - 4 - (PA_ORIGIN_MAX - 1) - 4 - 32;
	big = malloc(fit + 2);
	assert_non_null(big);
	memset(big, 'n', fit + 1);
	big[fit + 1] = '\0';
	{
		pa_keystate *next = next_key(ks);
		unsigned char *before, *after;
		size_t bl, al;

		assert_int_equal(pa_keys_prepare(&e, dirfd, ks, next), PRIVAUDIT_OK);
		/* one byte too many: refused, nothing written, the key stays */
		before = tu_read(path, &bl);
		assert_int_equal(pa_keys_retire(&e, dirfd, ks, big, fit + 1), PRIVAUDIT_E_NOTE);
		after = tu_read(path, &al);
		assert_int_equal(bl, al);
		assert_memory_equal(before, after, bl);
		free(before);
		free(after);
		got = load_ok(dirfd);
		assert_same_key(ks, got);
		pa_keys_free(got);
		assert_int_equal(pa_keys_retire(&e, dirfd, ks, big, fit), PRIVAUDIT_OK);
		got = load_ok(dirfd);
		assert_same_key(next, got);
		assert_int_equal(got->note_len, fit);
		pa_keys_free(got);
		pa_keys_free(next);
	}
	free(big);
	pa_keys_free(ks);
	pa_keys_free(NULL);
	close(dirfd);
}

static void test_mode(void **state)
{
	static const mode_t masks[] = {0, 022, 077, 0277};
	const char *dir = *state;
	char path[TU_PATH_MAX];
	pa_keystate *ks = sample_key(1, "test.example/keys");
	int dirfd = open_dir(dir);
	struct stat sb;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);

		assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
		umask(old);
		assert_int_equal(lstat(path, &sb), 0);
		assert_true(S_ISREG(sb.st_mode));
		assert_int_equal(sb.st_mode & 07777, 0600);
		assert_int_equal(unlink(path), 0);
	}
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
	pa_keystate *ks = sample_key(3, "test.example/keys"), *cur;
	unsigned char *good, *bad;
	int dirfd = open_dir(dir);
	unsigned key_slot;
	size_t len;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	pa_keys_free(ks);
	ks = load_ok(dirfd);
	cur = seal_step(dirfd, ks, "note\n");   /* a SPENT slot and a KEY slot */
	key_slot = cur->slot;
	good = tu_read(path, &len);
	assert_int_equal(len, PA_KEY_FILE_SIZE);
	bad = malloc(len + 1);
	assert_non_null(bad);
	/* one changed bit in any byte: in the key's slot the load fails; in
	 * the other only the note is lost, never the key */
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			memcpy(bad, good, len);
			bad[i] ^= (unsigned char)(1u << bit);
			tu_write(path, bad, len);
			if (i / PA_KEY_SLOT == key_slot) {
				expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
			} else {
				pa_keystate *got = load_ok(dirfd);

				assert_same_key(cur, got);
				assert_int_equal(got->note_len, 0);
				pa_keys_free(got);
			}
		}
	}
	/* cut short at any length, or one byte too long */
	for (size_t cut = 0; cut < len; cut += cut < 16 ? 1 : 61) {
		tu_write(path, good, cut);
		expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	}
	memcpy(bad, good, len);
	bad[len] = 0;
	tu_write(path, bad, len + 1);
	expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	/* only the used key's note, no key */
	memcpy(bad, good, len);
	memset(bad + (size_t)key_slot * PA_KEY_SLOT, 0, PA_KEY_SLOT);
	tu_write(path, bad, len);
	expect_load_fails(dirfd, PRIVAUDIT_E_KEY);
	/* and the good bytes still load */
	tu_write(path, good, len);
	{
		pa_keystate *got = load_ok(dirfd);

		assert_same_key(cur, got);
		pa_keys_free(got);
	}
	/* a well-formed file whose secret is not the public key's */
	assert_int_equal(unlink(path), 0);
	{
		pa_keystate *mix = sample_key(3, "test.example/keys");
		unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

		crypto_sign_keypair(pk, sk);
		memcpy(mix->pk, pk, sizeof(pk));
		assert_int_equal(pa_keys_create(&e, dirfd, mix), PRIVAUDIT_OK);
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
	pa_keys_free(cur);
	close(dirfd);
}

/* Seal after seal: one inode, overwritten in place, holding the current
 * secret and none of the used ones. */
static void test_used_keys_overwritten(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	unsigned char used[8][32];
	pa_keystate *ks = sample_key(0, "test.example/keys"), *next;
	struct stat first, sb;
	int dirfd = open_dir(dir);
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_int_equal(stat(path, &first), 0);
	pa_keys_free(ks);
	ks = load_ok(dirfd);
	for (int i = 0; i < 8; i++) {
		unsigned char *buf;
		size_t len;

		memcpy(used[i], ks->sk, 32);
		next = seal_step(dirfd, ks, "signed by the key before\n");
		pa_keys_free(ks);
		ks = next;
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_ino == first.st_ino && sb.st_size == (off_t)PA_KEY_FILE_SIZE);
		assert_int_equal(sb.st_mode & 07777, 0600);
		buf = tu_read(path, &len);
		/* the search can find a secret where there is one */
		assert_true(tu_contains(buf, len, ks->sk, 32));
		for (int j = 0; j <= i; j++)
			assert_false(tu_contains(buf, len, used[j], 32));
		free(buf);
	}
	assert_int_equal(tu_count_prefix(dir, PA_KEY_FILE ".", NULL, 0), 0);
	sodium_memzero(used, sizeof(used));
	pa_keys_free(ks);
	close(dirfd);
}

/* Every state a crash can leave, read back as the key that is current. */
static void test_crash_states(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	pa_keystate *ks = sample_key(4, "test.example/keys"), *next, *got, *again;
	unsigned char *buf;
	size_t len;
	int dirfd = open_dir(dir);
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	pa_keys_free(ks);
	ks = load_ok(dirfd);
	/* killed after preparing, before retiring: nothing was signed, the
	 * older key is current and the prepared one is not */
	next = next_key(ks);
	assert_int_equal(pa_keys_prepare(&e, dirfd, ks, next), PRIVAUDIT_OK);
	got = load_ok(dirfd);
	assert_same_key(ks, got);
	assert_int_equal(got->note_len, 0);
	assert_int_equal(got->slot, ks->slot);
	/* the next seal prepares a new key over the unused one */
	again = seal_step(dirfd, got, "the retried seal\n");
	buf = tu_read(path, &len);
	assert_false(tu_contains(buf, len, next->sk, 32));
	assert_false(tu_contains(buf, len, ks->sk, 32));
	assert_true(tu_contains(buf, len, again->sk, 32));
	free(buf);
	pa_keys_free(next);
	pa_keys_free(got);
	pa_keys_free(ks);
	/* a retire that fails puts the key back: still current, no note */
	next = next_key(again);
	assert_int_equal(pa_keys_prepare(&e, dirfd, again, next), PRIVAUDIT_OK);
	assert_int_equal(chmod(path, 0400), 0);
	if (geteuid() != 0) {   /* root writes a read-only file anyway */
		assert_int_not_equal(pa_keys_retire(&e, dirfd, again, "x\n", 2), PRIVAUDIT_OK);
		got = load_ok(dirfd);
		assert_same_key(again, got);
		assert_int_equal(got->note_len, 0);
		pa_keys_free(got);
	}
	assert_int_equal(chmod(path, 0600), 0);
	/* a key file replaced behind the loader's back is never written */
	{
		unsigned char *good = tu_read(path, &len);
		char moved[TU_PATH_MAX];

		assert_int_equal(rename(path, tu_path(moved, dir, "moved")), 0);
		tu_write(path, good, len);
		assert_int_equal(pa_keys_retire(&e, dirfd, again, "x\n", 2), PRIVAUDIT_E_KEY);
		free(good);
	}
	pa_keys_free(next);
	pa_keys_free(again);
	close(dirfd);
}

/* The old format, written as earlier versions did. */
static size_t old_format(const pa_keystate *ks, const char *note, unsigned char *b)
{
	size_t ol = strlen(ks->origin), nl = strlen(note), p = 0;

	memcpy(b, "PRVAUDKY", 8);
	pa_store32(b + 8, 1);
	memcpy(b + 12, "Ed\0\0", 4);
	p = 16;
	pa_store64(b + p, ks->key_index);
	p += 8;
	memcpy(b + p, ks->log_id, PA_HASH_LEN);
	p += PA_HASH_LEN;
	memcpy(b + p, ks->pk, crypto_sign_PUBLICKEYBYTES);
	p += crypto_sign_PUBLICKEYBYTES;
	memcpy(b + p, ks->sk, crypto_sign_SECRETKEYBYTES);
	p += crypto_sign_SECRETKEYBYTES;
	pa_store32(b + p, (uint32_t)ol);
	p += 4;
	memcpy(b + p, ks->origin, ol);
	p += ol;
	pa_store32(b + p, (uint32_t)nl);
	p += 4;
	memcpy(b + p, note, nl);
	p += nl;
	pa_sha256(b + p, b, p);
	return p + PA_HASH_LEN;
}

/* An old-format key file is read, and the next settle moves it to a fresh
 * two-slot file after overwriting the old one in place. */
static void test_old_format(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	pa_keystate *ks = sample_key(9, "test.example/keys"), *got, *after;
	unsigned char old[1024], *buf;
	struct stat so, sn;
	size_t len, olen;
	int dirfd = open_dir(dir), oldfd;
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	olen = old_format(ks, "old note\n", old);
	tu_write(path, old, olen);
	got = load_ok(dirfd);
	assert_same_key(ks, got);
	assert_int_equal(got->from, PA_KEYS_FROM_OLD);
	assert_int_equal(got->note_len, 9);
	assert_memory_equal(got->note, "old note\n", 9);
	/* a writer cannot use it as it is */
	{
		pa_keystate *next = next_key(got);

		assert_int_equal(pa_keys_prepare(&e, dirfd, got, next), PRIVAUDIT_E_STATE);
		pa_keys_free(next);
	}
	oldfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(oldfd >= 0);
	assert_int_equal(fstat(oldfd, &so), 0);
	assert_int_equal(pa_keys_settle(&e, dirfd, got), PRIVAUDIT_OK);
	assert_int_equal(got->from, PA_KEYS_FROM_SLOTS);
	/* a fresh file, two slots, the same key and note */
	assert_int_equal(stat(path, &sn), 0);
	assert_true(sn.st_ino != so.st_ino);
	assert_true(sn.st_size == (off_t)PA_KEY_FILE_SIZE);
	assert_int_equal(sn.st_mode & 07777, 0600);
	after = load_ok(dirfd);
	assert_same_key(ks, after);
	assert_int_equal(after->from, PA_KEYS_FROM_SLOTS);
	assert_int_equal(after->note_len, 9);
	pa_keys_free(after);
	/* the old inode was overwritten in place before it was let go */
	assert_int_equal(fstat(oldfd, &so), 0);
	assert_int_equal(so.st_nlink, 0);
	assert_true((size_t)so.st_size == olen);
	assert_int_equal(pread(oldfd, old, olen, 0), (ssize_t)olen);
	assert_true(is_zero(old, olen));
	close(oldfd);
	assert_int_equal(tu_count_prefix(dir, PA_KEY_FILE ".", NULL, 0), 0);
	/* and it seals from there */
	after = seal_step(dirfd, got, "first two-slot note\n");
	buf = tu_read(path, &len);
	assert_false(tu_contains(buf, len, ks->sk, 32));
	free(buf);
	pa_keys_free(after);
	pa_keys_free(got);
	pa_keys_free(ks);
	close(dirfd);
}

/* A move of log.key stopped at each step: the key is found, and settling
 * finishes the move with no copy left. */
static void test_interrupted_move(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX], newpath[TU_PATH_MAX];
	pa_keystate *ks = sample_key(2, "test.example/keys"), *got;
	unsigned char *good, garbage[PA_KEY_FILE_SIZE];
	size_t len;
	int dirfd = open_dir(dir);
	pa_err e;

	tu_path(path, dir, PA_KEY_FILE);
	tu_path(newpath, dir, PA_KEY_NEW_FILE);
	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	good = tu_read(path, &len);
	for (int step = 1; step <= 3; step++) {
		/* 1: the copy made, log.key still there; 2: log.key removed;
		 * 3: log.key left unreadable (garbage, as a torn write might) */
		tu_write(newpath, good, len);
		if (step == 2)
			assert_int_equal(unlink(path), 0);
		if (step == 3) {
			randombytes_buf(garbage, sizeof(garbage));
			tu_write(path, garbage, sizeof(garbage));
		}
		got = load_ok(dirfd);
		assert_same_key(ks, got);
		assert_int_equal(got->from, step == 1 ? PA_KEYS_FROM_SLOTS : PA_KEYS_FROM_NEW);
		assert_int_equal(got->stale_new, step == 1);
		assert_int_equal(pa_keys_settle(&e, dirfd, got), PRIVAUDIT_OK);
		assert_true(tu_size(newpath) == -1);
		pa_keys_free(got);
		got = load_ok(dirfd);
		assert_same_key(ks, got);
		assert_int_equal(got->from, PA_KEYS_FROM_SLOTS);
		assert_int_equal(got->stale_new, 0);
		pa_keys_free(got);
	}
	/* a leftover copy is never the key when log.key is good */
	{
		pa_keystate *other = sample_key(1, "test.example/keys");

		assert_int_equal(pa_keys_create(&e, dirfd, other), PRIVAUDIT_E_IO);   /* log.key is there */
		assert_int_equal(rename(path, newpath), 0);
		assert_int_equal(pa_keys_create(&e, dirfd, other), PRIVAUDIT_OK);
		assert_int_equal(rename(path, newpath), 0);   /* other's copy */
		tu_write(path, good, len);                    /* ks's file */
		got = load_ok(dirfd);
		assert_same_key(ks, got);
		pa_keys_free(got);
		pa_keys_free(other);
	}
	free(good);
	pa_keys_free(ks);
	close(dirfd);
}

/* The filesystem check: OK either way here (the answer depends on where
 * the test runs), no log is no log. */
static void test_erasure_check(void **state)
{
	const char *dir = *state;
	char why[512], empty[TU_PATH_MAX];
	pa_keystate *ks = sample_key(0, "test.example/keys");
	int dirfd = open_dir(dir);
	pa_err e;

	assert_int_equal(pa_keys_create(&e, dirfd, ks), PRIVAUDIT_OK);
	assert_int_equal(privaudit_key_erasure_check(dir, why, sizeof(why)), PRIVAUDIT_OK);
	assert_int_equal(pa_keys_erasure_risk(dirfd, why, sizeof(why)) == 1, why[0] != '\0');
	tu_path(empty, dir, "empty");
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(privaudit_key_erasure_check(empty, why, sizeof(why)), PRIVAUDIT_E_NOLOG);
	assert_int_equal(privaudit_key_erasure_check(NULL, why, sizeof(why)), PRIVAUDIT_E_INVAL);
	pa_keys_free(ks);
	close(dirfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_mode, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_corrupt, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_used_keys_overwritten, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_crash_states, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_old_format, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_interrupted_move, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_erasure_check, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
