/* SPDX-License-Identifier: ISC */
/* cosign.c: a witness's key and its cosignatures on checkpoint notes, in the
 * C2SP tlog-cosignature format (cosignature/v1, Ed25519), and their check.
 * The secret lives in sodium_malloc memory and in a 0600 file only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cosign.h"
#include "hash.h"

#define EM_DASH "\xe2\x80\x94"
#define COSIG_HEADER "cosignature/v1\n"

/* The secret key file, all integers big-endian:
 *   magic "PAWITKEY" | version u32 | tag "Ed" 0x04 0x00 | key id [4] |
 *   name length u32 | name | public key [32] | secret key [64] |
 *   SHA-256 of everything before [32]
 * The tag (algorithm, signature type) and key id come first, as in
 * minisign, so a file for another algorithm or another key is refused
 * before its secret is looked at. */
#define SK_MAGIC "PAWITKEY"
#define SK_VERSION 1u
#define SK_HEAD (8 + 4 + 4 + 4 + 4)
#define SK_FIXED (SK_HEAD + crypto_sign_PUBLICKEYBYTES + crypto_sign_SECRETKEYBYTES + PA_HASH_LEN)
#define SK_MAX (SK_FIXED + PA_ORIGIN_MAX)

static const unsigned char sk_tag[4] = {'E', 'd', PA_SIG_COSIG_ED25519, 0};

struct privaudit_witness {
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	pa_cosigner pub;
	char vkey[PA_VKEY_MAX];
};

privaudit_status pa_cosigner_parse(const char *vkey, pa_cosigner *out)
{
	privaudit_status st;

	memset(out, 0, sizeof(*out));
	st = pa_vkey_parse_alg(vkey, PA_SIG_COSIG_ED25519, out->name, out->pk);
	if (st != PRIVAUDIT_OK)
		return st;
	pa_keyhash_alg(out->name, PA_SIG_COSIG_ED25519, out->pk, out->keyhash);
	return PRIVAUDIT_OK;
}

/* "cosignature/v1\ntime <t>\n" || body: the message a cosignature signs. */
static unsigned char *cosig_message(const pa_note *n, uint64_t t, size_t *len)
{
	char head[64];
	unsigned char *m;
	int hl;

	hl = snprintf(head, sizeof(head), COSIG_HEADER "time %" PRIu64 "\n", t);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return NULL;
	m = malloc((size_t)hl + n->body_len);
	if (m == NULL)
		return NULL;
	memcpy(m, head, (size_t)hl);
	memcpy(m + hl, n->text, n->body_len);
	*len = (size_t)hl + n->body_len;
	return m;
}

static int is_line_of(const pa_sigline *s, const pa_cosigner *c)
{
	size_t nl = strlen(c->name);

	return s->name_len == nl && memcmp(s->name, c->name, nl) == 0 &&
	       memcmp(s->keyhash, c->keyhash, 4) == 0;
}

int pa_note_cosigned(const pa_note *n, const pa_cosigner *c, uint64_t *time)
{
	uint64_t newest = 0;
	int found = 0;

	for (size_t i = 0; i < n->nsig; i++) {
		const pa_sigline *s = &n->sig[i];
		unsigned char *m;
		size_t ml = 0;
		int ok;

		/* Name and key id first: other signers' lines are not ours to judge. */
		if (!is_line_of(s, c))
			continue;
		if (!s->is_cosig || s->cosig_time > (uint64_t)INT64_MAX)
			return -1;
		m = cosig_message(n, s->cosig_time, &ml);
		if (m == NULL)
			return -1;
		ok = crypto_sign_verify_detached(s->sig, m, ml, c->pk) == 0;
		free(m);
		if (!ok)
			return -1;
		if (!found || s->cosig_time > newest)
			newest = s->cosig_time;
		found = 1;
	}
	if (!found)
		return -1;
	if (time != NULL)
		*time = newest;
	return 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_cosignature_check(const char *vkey, const char *note,
							      size_t len, int64_t *time)
{
	pa_cosigner c;
	pa_note n;
	uint64_t t = 0;
	int rc;

	if (vkey == NULL || note == NULL)
		return PRIVAUDIT_E_INVAL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	if (pa_cosigner_parse(vkey, &c) != PRIVAUDIT_OK || pa_note_parse(note, len, &n) != PRIVAUDIT_OK)
		return PRIVAUDIT_E_NOTE;
	rc = pa_note_cosigned(&n, &c, &t);
	pa_note_free(&n);
	if (rc != 0)
		return PRIVAUDIT_E_WITNESS;
	if (time != NULL)
		*time = (int64_t)t;
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ the key file */

static size_t sk_serialize(const char *name, const unsigned char *pk, const unsigned char *sk,
			   unsigned char *b)
{
	size_t nl = strlen(name), p = 0;

	memcpy(b, SK_MAGIC, 8);
	p += 8;
	pa_store32(b + p, SK_VERSION);
	p += 4;
	memcpy(b + p, sk_tag, 4);
	p += 4;
	pa_keyhash_alg(name, PA_SIG_COSIG_ED25519, pk, b + p);
	p += 4;
	pa_store32(b + p, (uint32_t)nl);
	p += 4;
	memcpy(b + p, name, nl);
	p += nl;
	memcpy(b + p, pk, crypto_sign_PUBLICKEYBYTES);
	p += crypto_sign_PUBLICKEYBYTES;
	memcpy(b + p, sk, crypto_sign_SECRETKEYBYTES);
	p += crypto_sign_SECRETKEYBYTES;
	pa_sha256(b + p, b, p);
	return p + PA_HASH_LEN;
}

/* fsync the directory holding path, so the new file's name is durable. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Create path (never over anything: O_EXCL, and O_NOFOLLOW for a dangling
 * link) as 0600 and write buf durably; on failure nothing is left there. */
static privaudit_status write_new_secret(const char *path, const unsigned char *buf, size_t len)
{
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? PRIVAUDIT_E_EXISTS : PRIVAUDIT_E_IO;
	if (fchmod(fd, 0600) < 0 || pa_write_full(fd, buf, len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(path);
		errno = err;
		return PRIVAUDIT_E_IO;
	}
	if (close(fd) < 0 || sync_parent(path) < 0) {
		err = errno;
		unlink(path);
		errno = err;
		return PRIVAUDIT_E_IO;
	}
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_witness_keygen(const char *name, const char *secret_path,
							   char **vkey_out)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], *sk = NULL, *buf = NULL;
	privaudit_status st;
	char *vkey = NULL;
	size_t len;

	if (vkey_out != NULL)
		*vkey_out = NULL;
	if (name == NULL || secret_path == NULL || vkey_out == NULL ||
	    !pa_note_name_ok(name, strlen(name)))
		return PRIVAUDIT_E_INVAL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	vkey = malloc(PA_VKEY_MAX);
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	buf = sodium_malloc(SK_MAX);
	if (vkey == NULL || sk == NULL || buf == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto out;
	}
	if (crypto_sign_keypair(pk, sk) != 0) {
		st = PRIVAUDIT_E_CRYPTO;
		goto out;
	}
	st = pa_vkey_format_alg(name, PA_SIG_COSIG_ED25519, pk, vkey, PA_VKEY_MAX);
	if (st != PRIVAUDIT_OK)
		goto out;
	len = sk_serialize(name, pk, sk, buf);
	st = write_new_secret(secret_path, buf, len);
	if (st != PRIVAUDIT_OK)
		goto out;
	*vkey_out = vkey;
	vkey = NULL;
out:
	{
		int err = errno;   /* the caller reads why an E_IO failed */

		if (buf != NULL) {
			sodium_memzero(buf, SK_MAX);
			sodium_free(buf);
		}
		if (sk != NULL) {
			sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
			sodium_free(sk);
		}
		free(vkey);
		errno = err;
	}
	return st;
}

PRIVAUDIT_EXPORT void privaudit_witness_free(privaudit_witness *w)
{
	if (w == NULL)
		return;
	sodium_memzero(w, sizeof(*w));
	sodium_free(w);
}

/* Parse the file's bytes into w; the key id is checked before the secret. */
static privaudit_status sk_parse(const unsigned char *b, size_t len, privaudit_witness *w)
{
	unsigned char sum[PA_HASH_LEN], kh[4], pk[crypto_sign_PUBLICKEYBYTES];
	size_t p = SK_HEAD, nl;

	if (len < SK_FIXED + 1 || memcmp(b, SK_MAGIC, 8) != 0 || pa_load32(b + 8) != SK_VERSION ||
	    memcmp(b + 12, sk_tag, 4) != 0)
		return PRIVAUDIT_E_KEY;
	nl = pa_load32(b + 20);
	if (nl == 0 || nl >= PA_ORIGIN_MAX || len != SK_FIXED + nl)
		return PRIVAUDIT_E_KEY;
	pa_sha256(sum, b, len - PA_HASH_LEN);
	if (sodium_memcmp(sum, b + len - PA_HASH_LEN, PA_HASH_LEN) != 0 ||
	    !pa_note_name_ok((const char *)b + p, nl))
		return PRIVAUDIT_E_KEY;
	memcpy(w->pub.name, b + p, nl);
	w->pub.name[nl] = '\0';
	p += nl;
	memcpy(w->pub.pk, b + p, crypto_sign_PUBLICKEYBYTES);
	p += crypto_sign_PUBLICKEYBYTES;
	pa_keyhash_alg(w->pub.name, PA_SIG_COSIG_ED25519, w->pub.pk, kh);
	if (memcmp(kh, b + 16, 4) != 0)
		return PRIVAUDIT_E_KEY;
	memcpy(w->pub.keyhash, kh, 4);
	memcpy(w->sk, b + p, crypto_sign_SECRETKEYBYTES);
	/* The secret must be the one of the public key it is filed under. */
	crypto_sign_ed25519_sk_to_pk(pk, w->sk);
	if (sodium_memcmp(pk, w->pub.pk, sizeof(pk)) != 0)
		return PRIVAUDIT_E_KEY;
	return pa_vkey_format_alg(w->pub.name, PA_SIG_COSIG_ED25519, w->pub.pk, w->vkey,
				  sizeof(w->vkey)) == PRIVAUDIT_OK ? PRIVAUDIT_OK : PRIVAUDIT_E_KEY;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_witness_open(privaudit_witness **out,
							 const char *secret_path)
{
	privaudit_witness *w = NULL;
	unsigned char *buf = NULL;
	privaudit_status st;
	struct stat sb;
	int fd, err = 0;

	if (out == NULL || secret_path == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	fd = open(secret_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return PRIVAUDIT_E_IO;
	if (fstat(fd, &sb) < 0) {
		st = PRIVAUDIT_E_IO;
		goto out;
	}
	/* A secret others can read is no longer one witness's: refuse it, as
	 * ssh refuses an unprotected private key. */
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0 || sb.st_size < (off_t)SK_FIXED ||
	    sb.st_size > (off_t)SK_MAX) {
		st = PRIVAUDIT_E_KEY;
		goto out;
	}
	buf = sodium_malloc(SK_MAX);
	w = sodium_malloc(sizeof(*w));
	if (buf == NULL || w == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto out;
	}
	memset(w, 0, sizeof(*w));
	if (pa_pread_full(fd, buf, (size_t)sb.st_size, 0) < 0) {
		st = PRIVAUDIT_E_IO;
		goto out;
	}
	st = sk_parse(buf, (size_t)sb.st_size, w);
	if (st != PRIVAUDIT_OK)
		goto out;
	*out = w;
	w = NULL;
out:
	err = errno;
	close(fd);
	if (buf != NULL) {
		sodium_memzero(buf, SK_MAX);
		sodium_free(buf);
	}
	privaudit_witness_free(w);
	errno = err;
	return st;
}

PRIVAUDIT_EXPORT const char *privaudit_witness_vkey(const privaudit_witness *w)
{
	return w != NULL ? w->vkey : "";
}

PRIVAUDIT_EXPORT privaudit_status privaudit_witness_cosign(privaudit_witness *w, const char *note,
							   size_t len, int64_t time_now, char **out,
							   size_t *out_len)
{
	unsigned char raw[4 + 8 + crypto_sign_BYTES], *msg = NULL;
	char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
	privaudit_status st;
	size_t ml = 0, nlines = 0, kept = 0, cap, o;
	const char *p, *end;
	char *buf = NULL;
	pa_note n;
	uint64_t t;
	int k;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (w == NULL || note == NULL || out == NULL || out_len == NULL || time_now < 0)
		return PRIVAUDIT_E_INVAL;
	t = time_now != 0 ? (uint64_t)time_now : (uint64_t)time(NULL);
	st = pa_note_parse(note, len, &n);
	if (st != PRIVAUDIT_OK)
		return st;
	/* Every signature line must be one a verifier looks at, ours included. */
	end = n.text + len;
	for (p = n.text + n.body_len + 1; p < end; p++)
		nlines += *p == '\n';
	if (nlines != n.nsig) {
		st = PRIVAUDIT_E_NOTE;
		goto out;
	}
	msg = cosig_message(&n, t, &ml);
	if (msg == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto out;
	}
	memcpy(raw, w->pub.keyhash, 4);
	pa_store64(raw + 4, t);
	if (crypto_sign_detached(raw + 12, NULL, msg, ml, w->sk) != 0) {
		st = PRIVAUDIT_E_CRYPTO;
		goto out;
	}
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	cap = len + strlen(w->pub.name) + sizeof(b64) + 16;
	buf = malloc(cap);
	if (buf == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto out;
	}
	/* The body, the blank line, every other signer's line as it was (an
	 * earlier cosignature of ours is replaced: one per witness), ours last. */
	memcpy(buf, n.text, n.body_len + 1);
	o = n.body_len + 1;
	for (size_t i = 0; i < n.nsig; i++) {
		const char *ls = n.sig[i].name - 4;
		const char *le = memchr(ls, '\n', (size_t)(end - ls));

		if (is_line_of(&n.sig[i], &w->pub))
			continue;
		memcpy(buf + o, ls, (size_t)(le - ls) + 1);
		o += (size_t)(le - ls) + 1;
		kept++;
	}
	k = snprintf(buf + o, cap - o, EM_DASH " %s %s\n", w->pub.name, b64);
	if (k < 0 || (size_t)k >= cap - o) {
		st = PRIVAUDIT_E_INVAL;
		goto out;
	}
	o += (size_t)k;
	/* What a verifier would refuse is not handed out. */
	if (o > PA_NOTE_MAX || kept + 1 > PA_SIGLINES_MAX) {
		st = PRIVAUDIT_E_NOTE;
		goto out;
	}
	*out = buf;
	*out_len = o;
	buf = NULL;
	st = PRIVAUDIT_OK;
out:
	free(buf);
	free(msg);
	pa_note_free(&n);
	return st;
}
