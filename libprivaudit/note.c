/* SPDX-License-Identifier: ISC */
/* note.c: checkpoint notes in the C2SP tlog-checkpoint and signed-note
 * formats.  Every byte of a note handed to a verifier is hostile. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

#define EM_DASH "\xe2\x80\x94"
/* Decoded signature lines up to this size are decoded on the stack. */
#define SIG_RAW_STACK 256

void pa_keyhash(const char *name, const unsigned char pub[crypto_sign_PUBLICKEYBYTES],
		unsigned char out[4])
{
	pa_keyhash_alg(name, PA_SIG_ED25519, pub, out);
}

void pa_keyhash_alg(const char *name, unsigned char alg,
		    const unsigned char pub[crypto_sign_PUBLICKEYBYTES], unsigned char out[4])
{
	unsigned char buf[PA_ORIGIN_MAX + 2 + crypto_sign_PUBLICKEYBYTES];
	unsigned char h[PA_HASH_LEN];
	size_t n = strlen(name);

	if (n > PA_ORIGIN_MAX - 1)
		n = PA_ORIGIN_MAX - 1;
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = alg;
	memcpy(buf + n + 2, pub, crypto_sign_PUBLICKEYBYTES);
	pa_sha256(h, buf, n + 2 + crypto_sign_PUBLICKEYBYTES);
	memcpy(out, h, 4);
}

/* A key name: non-empty, no spaces, no '+', printable ASCII or UTF-8. */
int pa_note_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= PA_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '+')
			return 0;
	}
	return 1;
}

privaudit_status pa_vkey_format(const char *name, const unsigned char pub[crypto_sign_PUBLICKEYBYTES],
				char *buf, size_t len)
{
	return pa_vkey_format_alg(name, PA_SIG_ED25519, pub, buf, len);
}

privaudit_status pa_vkey_format_alg(const char *name, unsigned char alg,
				    const unsigned char pub[crypto_sign_PUBLICKEYBYTES], char *buf,
				    size_t len)
{
	unsigned char kh[4], raw[1 + crypto_sign_PUBLICKEYBYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
	int n;

	if (!pa_note_name_ok(name, strlen(name)))
		return PRIVAUDIT_E_INVAL;
	pa_keyhash_alg(name, alg, pub, kh);
	raw[0] = alg;
	memcpy(raw + 1, pub, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, len, "%s+%02x%02x%02x%02x+%s", name, kh[0], kh[1], kh[2], kh[3], b64);
	return n > 0 && (size_t)n < len ? PRIVAUDIT_OK : PRIVAUDIT_E_INVAL;
}

static int unhex4(const char *s, unsigned char out[4])
{
	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* Only the standard alphabet: libsodium 1.0.18 maps some bytes >= 0x80 to
 * digits, so two texts would name the same key. */
int pa_b64_chars_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/* Strict standard base64 with padding; 0 when it decodes to exactly want bytes. */
static int b64_exact(const char *s, size_t len, unsigned char *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;

	if (!pa_b64_chars_ok(s, len))
		return -1;
	if (sodium_base642bin(out, want, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == want && end == s + len ? 0 : -1;
}

privaudit_status pa_vkey_parse(const char *line, char name[PA_ORIGIN_MAX],
			       unsigned char pub[crypto_sign_PUBLICKEYBYTES])
{
	return pa_vkey_parse_alg(line, PA_SIG_ED25519, name, pub);
}

privaudit_status pa_vkey_parse_alg(const char *line, unsigned char alg, char name[PA_ORIGIN_MAX],
				   unsigned char pub[crypto_sign_PUBLICKEYBYTES])
{
	unsigned char raw[1 + crypto_sign_PUBLICKEYBYTES], kh[4], want[4];
	const char *p1, *p2;
	size_t len = strlen(line);

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	p1 = memchr(line, '+', len);
	if (p1 == NULL || !pa_note_name_ok(line, (size_t)(p1 - line)))
		return PRIVAUDIT_E_NOTE;
	p2 = p1 + 1;
	if ((size_t)(line + len - p2) < 9 || p2[8] != '+' || unhex4(p2, kh) < 0)
		return PRIVAUDIT_E_NOTE;
	if (b64_exact(p2 + 9, (size_t)(line + len - (p2 + 9)), raw, sizeof(raw)) < 0 ||
	    raw[0] != alg)
		return PRIVAUDIT_E_NOTE;
	memcpy(name, line, (size_t)(p1 - line));
	name[p1 - line] = '\0';
	memcpy(pub, raw + 1, crypto_sign_PUBLICKEYBYTES);
	pa_keyhash_alg(name, alg, pub, want);
	if (memcmp(want, kh, 4) != 0)
		return PRIVAUDIT_E_NOTE;
	return PRIVAUDIT_OK;
}

privaudit_status pa_note_sign(const char *origin, uint64_t size, const unsigned char root[PA_HASH_LEN],
			      int64_t time, const unsigned char *sk,
			      char **note, size_t *len)
{
	char rootb64[sodium_base64_ENCODED_LEN(PA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
	unsigned char sigpart[4 + crypto_sign_BYTES];
	char sigb64[sodium_base64_ENCODED_LEN(sizeof(sigpart), sodium_base64_VARIANT_ORIGINAL)];
	unsigned char pub[crypto_sign_PUBLICKEYBYTES];
	char *buf;
	size_t cap, body;
	int n;

	if (!pa_note_name_ok(origin, strlen(origin)))
		return PRIVAUDIT_E_INVAL;
	sodium_bin2base64(rootb64, sizeof(rootb64), root, PA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
	cap = strlen(origin) * 2 + sizeof(rootb64) + sizeof(sigb64) + 128;
	buf = malloc(cap);
	if (buf == NULL)
		return PRIVAUDIT_E_NOMEM;
	n = snprintf(buf, cap, "%s\n%" PRIu64 "\n%s\ntime %" PRId64 "\n", origin, size, rootb64, time);
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		return PRIVAUDIT_E_INVAL;
	}
	body = (size_t)n;
	crypto_sign_ed25519_sk_to_pk(pub, sk);
	pa_keyhash(origin, pub, sigpart);
	if (crypto_sign_detached(sigpart + 4, NULL, (const unsigned char *)buf, body, sk) != 0) {
		free(buf);
		return PRIVAUDIT_E_CRYPTO;
	}
	sodium_bin2base64(sigb64, sizeof(sigb64), sigpart, sizeof(sigpart),
			  sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf + body, cap - body, "\n" EM_DASH " %s %s\n", origin, sigb64);
	if (n < 0 || (size_t)n >= cap - body) {
		free(buf);
		return PRIVAUDIT_E_INVAL;
	}
	*note = buf;
	*len = body + (size_t)n;
	return PRIVAUDIT_OK;
}

void pa_note_free(pa_note *n)
{
	if (n == NULL)
		return;
	free(n->text);
	n->text = NULL;
}

/* Next line of [*p, end): returns its start and length without the newline,
 * or NULL when no newline-terminated line remains. */
static const char *next_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		return NULL;
	*len = (size_t)(nl - s);
	*p = nl + 1;
	return s;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The base64 part of a signature line: key id, then what the signature
 * type makes of the rest.  Signatures of types we do not know (other
 * cosigners', post-quantum ones of kilobytes) must still parse, so that
 * they can be ignored as signed-note requires. */
static int decode_sig(const char *b, size_t blen, pa_sigline *s)
{
	unsigned char small[SIG_RAW_STACK], *raw = small;
	size_t max = blen / 4 * 3 + 3, got = 0;
	int rc = -1;

	if (!pa_b64_chars_ok(b, blen))
		return -1;
	if (max > sizeof(small)) {
		raw = malloc(max);
		if (raw == NULL)
			return -1;
	}
	if (sodium_base642bin(raw, max, b, blen, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got < 5)
		goto out;
	memcpy(s->keyhash, raw, 4);
	if (got == 4 + crypto_sign_BYTES) {
		s->is_ed25519 = 1;
		memcpy(s->sig, raw + 4, crypto_sign_BYTES);
	} else if (got == 4 + 8 + crypto_sign_BYTES) {
		s->is_cosig = 1;
		s->cosig_time = pa_load64(raw + 4);
		memcpy(s->sig, raw + 12, crypto_sign_BYTES);
	}
	rc = 0;
out:
	if (raw != small)
		free(raw);
	return rc;
}

privaudit_status pa_note_parse(const char *note, size_t len, pa_note *out)
{
	const char *p, *end, *line;
	size_t ll;
	uint64_t t;

	memset(out, 0, sizeof(*out));
	out->time = -1;
	if (len == 0 || len > PA_NOTE_MAX || memchr(note, '\0', len) != NULL)
		return PRIVAUDIT_E_NOTE;
	out->text = malloc(len + 1);
	if (out->text == NULL)
		return PRIVAUDIT_E_NOMEM;
	memcpy(out->text, note, len);
	out->text[len] = '\0';
	p = out->text;
	end = out->text + len;

	line = next_line(&p, end, &ll);
	if (line == NULL || !pa_note_name_ok(line, ll))
		goto bad;
	memcpy(out->origin, line, ll);
	out->origin[ll] = '\0';
	line = next_line(&p, end, &ll);
	if (line == NULL || parse_u64(line, ll, &out->size) < 0)
		goto bad;
	line = next_line(&p, end, &ll);
	if (line == NULL || b64_exact(line, ll, out->root, PA_HASH_LEN) < 0)
		goto bad;
	/* Extension lines, up to the blank line that ends the body. */
	for (;;) {
		line = next_line(&p, end, &ll);
		if (line == NULL)
			goto bad;
		if (ll == 0)
			break;
		if (ll > 5 && memcmp(line, "time ", 5) == 0 && out->time < 0 &&
		    parse_u64(line + 5, ll - 5, &t) == 0 && t <= INT64_MAX)
			out->time = (int64_t)t;
	}
	out->body_len = (size_t)(p - out->text) - 1;
	/* Signature lines: "— <name> <base64>" to the end. */
	while ((line = next_line(&p, end, &ll)) != NULL) {
		pa_sigline sl;
		const char *sp, *b;

		if (ll < 4 || memcmp(line, EM_DASH " ", 4) != 0)
			goto bad;
		sp = memchr(line + 4, ' ', ll - 4);
		if (sp == NULL || !pa_note_name_ok(line + 4, (size_t)(sp - line - 4)))
			goto bad;
		b = sp + 1;
		memset(&sl, 0, sizeof(sl));
		if (decode_sig(b, (size_t)(line + ll - b), &sl) < 0)
			goto bad;
		if (out->nsig == PA_SIGLINES_MAX)
			continue;   /* more cosigners than we look at: ignore the rest */
		sl.name = line + 4;
		sl.name_len = (size_t)(sp - line - 4);
		out->sig[out->nsig++] = sl;
	}
	if (p != end || out->nsig == 0)
		goto bad;
	return PRIVAUDIT_OK;
bad:
	pa_note_free(out);
	return PRIVAUDIT_E_NOTE;
}

int pa_note_has_key(const pa_note *n, const char *name, const unsigned char keyhash[4])
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < n->nsig; i++) {
		const pa_sigline *s = &n->sig[i];

		if (s->name_len == nl && memcmp(s->name, name, nl) == 0 &&
		    memcmp(s->keyhash, keyhash, 4) == 0)
			return 1;
	}
	return 0;
}

int pa_note_verify(const pa_note *n, const char *name,
		   const unsigned char pub[crypto_sign_PUBLICKEYBYTES])
{
	unsigned char kh[4];
	size_t nl = strlen(name);

	pa_keyhash(name, pub, kh);
	for (size_t i = 0; i < n->nsig; i++) {
		const pa_sigline *s = &n->sig[i];

		/* Key id first, as minisign does: only our key's line is checked. */
		if (s->name_len != nl || memcmp(s->name, name, nl) != 0 ||
		    memcmp(s->keyhash, kh, 4) != 0 || !s->is_ed25519)
			continue;
		if (crypto_sign_verify_detached(s->sig, (const unsigned char *)n->text, n->body_len,
						pub) == 0)
			return 0;
	}
	return -1;
}
