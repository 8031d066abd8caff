/* SPDX-License-Identifier: ISC */
/* keys.c: forward-secure one-time signing keys.  Secrets exist only in
 * sodium_malloc memory and in the 0600 key file, and are wiped after use. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "keys.h"

#define KEY_MAGIC "PRVAUDKY"
#define KEY_VERSION 1u
#define KEY_ALG "Ed"
/* magic, version, alg(2)+pad(2), key index, log id, pk, sk, origin len, origin, note len, note, checksum */
#define KEY_FIXED (8 + 4 + 4 + 8 + PA_HASH_LEN + crypto_sign_PUBLICKEYBYTES + \
		   crypto_sign_SECRETKEYBYTES + 4 + 4 + PA_HASH_LEN)
#define KEY_FILE_MAX (KEY_FIXED + PA_ORIGIN_MAX + PA_NOTE_MAX)

pa_keystate *pa_keys_new(void)
{
	pa_keystate *ks;

	/* Every key path starts here, and sodium_malloc needs the library
	 * initialised; privaudit_open() leaves that until a key is needed. */
	if (sodium_init() < 0)
		return NULL;
	ks = sodium_malloc(sizeof(*ks));
	if (ks != NULL)
		memset(ks, 0, sizeof(*ks));
	return ks;
}

privaudit_status pa_keys_generate(pa_keystate *ks)
{
	return crypto_sign_keypair(ks->pk, ks->sk) == 0 ? PRIVAUDIT_OK : PRIVAUDIT_E_CRYPTO;
}

void pa_keys_free(pa_keystate *ks)
{
	if (ks == NULL)
		return;
	sodium_memzero(ks, sizeof(*ks));
	sodium_free(ks);
}

static size_t serialize(const pa_keystate *ks, unsigned char *b)
{
	size_t ol = strlen(ks->origin), p = 0;

	memcpy(b, KEY_MAGIC, 8);
	p += 8;
	pa_store32(b + p, KEY_VERSION);
	p += 4;
	memcpy(b + p, KEY_ALG, 2);
	b[p + 2] = b[p + 3] = 0;
	p += 4;
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
	pa_store32(b + p, ks->note_len);
	p += 4;
	memcpy(b + p, ks->note, ks->note_len);
	p += ks->note_len;
	pa_sha256(b + p, b, p);
	return p + PA_HASH_LEN;
}

privaudit_status pa_keys_store(pa_err *e, int dirfd, const pa_keystate *ks)
{
	unsigned char *buf;
	privaudit_status st;
	struct stat sb;
	size_t len;
	int old;

	if (ks->note_len > PA_NOTE_MAX || strlen(ks->origin) >= PA_ORIGIN_MAX)
		return pa_fail(e, PRIVAUDIT_E_INVAL, "key state too large");
	buf = sodium_malloc(KEY_FILE_MAX);
	if (buf == NULL)
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
	len = serialize(ks, buf);
	/* Keep the old file open: once the new one is in place its bytes are
	 * overwritten, so a later look at the disk finds no used key. */
	old = openat(dirfd, PA_KEY_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	st = pa_replace_file(e, dirfd, PA_KEY_FILE, buf, len, 0600);
	sodium_memzero(buf, KEY_FILE_MAX);
	if (st == PRIVAUDIT_OK && old >= 0 && fstat(old, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size > 0 && (size_t)sb.st_size <= KEY_FILE_MAX) {
		if (pa_pwrite_full(old, buf, (size_t)sb.st_size, 0) == 0)
			(void)fdatasync(old);
	}
	if (old >= 0)
		close(old);
	sodium_free(buf);
	return st;
}

privaudit_status pa_keys_load(pa_err *e, int dirfd, pa_keystate *ks)
{
	unsigned char *buf = NULL, sum[PA_HASH_LEN];
	privaudit_status st = PRIVAUDIT_E_KEY;
	struct stat sb;
	size_t len, p = 0, ol;
	int fd;

	fd = openat(dirfd, PA_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? pa_fail(e, PRIVAUDIT_E_KEY, "no signing key (log.key) in the log directory")
				       : pa_fail_errno(e, "open", PA_KEY_FILE);
	if (fstat(fd, &sb) < 0) {
		st = pa_fail_errno(e, "stat", PA_KEY_FILE);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size < (off_t)KEY_FIXED || sb.st_size > (off_t)KEY_FILE_MAX) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: not a key file");
		goto out;
	}
	len = (size_t)sb.st_size;
	buf = sodium_malloc(KEY_FILE_MAX);
	if (buf == NULL) {
		st = pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
		goto out;
	}
	if (pa_pread_full(fd, buf, len, 0) < 0) {
		st = pa_fail_errno(e, "read", PA_KEY_FILE);
		goto out;
	}
	pa_sha256(sum, buf, len - PA_HASH_LEN);
	if (memcmp(buf, KEY_MAGIC, 8) != 0 || pa_load32(buf + 8) != KEY_VERSION ||
	    memcmp(buf + 12, KEY_ALG, 2) != 0 ||
	    sodium_memcmp(sum, buf + len - PA_HASH_LEN, PA_HASH_LEN) != 0) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad magic, version or checksum");
		goto out;
	}
	p = 16;
	ks->key_index = pa_load64(buf + p);
	p += 8;
	memcpy(ks->log_id, buf + p, PA_HASH_LEN);
	p += PA_HASH_LEN;
	memcpy(ks->pk, buf + p, crypto_sign_PUBLICKEYBYTES);
	p += crypto_sign_PUBLICKEYBYTES;
	memcpy(ks->sk, buf + p, crypto_sign_SECRETKEYBYTES);
	p += crypto_sign_SECRETKEYBYTES;
	ol = pa_load32(buf + p);
	p += 4;
	if (ol == 0 || ol >= PA_ORIGIN_MAX || p + ol + 4 + PA_HASH_LEN > len) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad origin");
		goto out;
	}
	memcpy(ks->origin, buf + p, ol);
	ks->origin[ol] = '\0';
	p += ol;
	ks->note_len = pa_load32(buf + p);
	p += 4;
	if (ks->note_len > PA_NOTE_MAX || p + ks->note_len + PA_HASH_LEN != len) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad note length");
		goto out;
	}
	memcpy(ks->note, buf + p, ks->note_len);
	/* The secret must match the public half it claims. */
	{
		unsigned char pk[crypto_sign_PUBLICKEYBYTES];

		crypto_sign_ed25519_sk_to_pk(pk, ks->sk);
		if (sodium_memcmp(pk, ks->pk, sizeof(pk)) != 0) {
			st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: secret and public key differ");
			goto out;
		}
	}
	st = PRIVAUDIT_OK;
out:
	if (buf != NULL) {
		sodium_memzero(buf, KEY_FILE_MAX);
		sodium_free(buf);
	}
	close(fd);
	if (st != PRIVAUDIT_OK)
		sodium_memzero(ks, sizeof(*ks));
	return st;
}
