/* SPDX-License-Identifier: ISC */
/* test_note.c: signed checkpoint notes and verifier key lines: ours verify,
 * and every malformed or foreign note or key line is refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "note.h"

#define ORIGIN "example.org/privaudit/test"
#define EM_DASH "\xe2\x80\x94"

static unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
static unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
static unsigned char root[PA_HASH_LEN];

static int setup_keys(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	randombytes_buf(root, sizeof(root));
	return 0;
}

/* The key hash computed here, not by the library: the first 4 bytes of
 * SHA-256(name || "\n" || 0x01 || pub). */
static void keyhash(const char *name, const unsigned char *pub, unsigned char out[4])
{
	crypto_hash_sha256_state s;
	unsigned char h[crypto_hash_sha256_BYTES], alg = 0x01;

	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&s, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&s, &alg, 1);
	crypto_hash_sha256_update(&s, pub, crypto_sign_PUBLICKEYBYTES);
	crypto_hash_sha256_final(&s, h);
	memcpy(out, h, 4);
}

/* A note with this exact body, signed by key sk under name, built without
 * the library.  malloc'd, NUL-terminated. */
static char *make_note(const char *body, size_t body_len, const char *name,
		       const unsigned char *pub, const unsigned char *seckey, size_t *len)
{
	unsigned char raw[4 + crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
	size_t cap = body_len + strlen(name) + sizeof(b64) + 16;
	char *note = malloc(cap);
	int n;

	assert_non_null(note);
	keyhash(name, pub, raw);
	crypto_sign_detached(raw + 4, NULL, (const unsigned char *)body, body_len, seckey);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	memcpy(note, body, body_len);
	n = snprintf(note + body_len, cap - body_len, "\n" EM_DASH " %s %s\n", name, b64);
	assert_true(n > 0 && (size_t)n < cap - body_len);
	*len = body_len + (size_t)n;
	return note;
}

static char *root_b64(void)
{
	static char b64[sodium_base64_ENCODED_LEN(PA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), root, PA_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

static void test_sign_parse_verify(void **state)
{
	unsigned char kh[4];
	char *note = NULL, body[512];
	size_t len = 0;
	pa_note n;
	int bl;

	(void)state;
	assert_int_equal(pa_note_sign(ORIGIN, 12345, root, 1700000000, sk, &note, &len), PRIVAUDIT_OK);
	assert_non_null(note);
	assert_int_equal(strlen(note), len);
	/* The body is the C2SP tlog-checkpoint text, byte for byte. */
	bl = snprintf(body, sizeof(body), ORIGIN "\n12345\n%s\ntime 1700000000\n", root_b64());
	assert_memory_equal(note, body, (size_t)bl);
	assert_memory_equal(note + bl, "\n" EM_DASH " " ORIGIN " ", 5 + strlen(ORIGIN) + 1);
	assert_int_equal(note[len - 1], '\n');
	/* The signature covers exactly that body, under our own key hash. */
	{
		const char *b = note + bl + 5 + strlen(ORIGIN) + 1;
		unsigned char raw[4 + crypto_sign_BYTES];
		size_t got = 0;

		assert_int_equal(sodium_base642bin(raw, sizeof(raw), b, (size_t)(note + len - 1 - b), NULL,
						   &got, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		assert_int_equal(got, sizeof(raw));
		keyhash(ORIGIN, pk, kh);
		assert_memory_equal(raw, kh, 4);
		assert_int_equal(crypto_sign_verify_detached(raw + 4, (const unsigned char *)body,
							     (size_t)bl, pk), 0);
	}

	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
	assert_string_equal(n.origin, ORIGIN);
	assert_int_equal(n.size, 12345);
	assert_memory_equal(n.root, root, PA_HASH_LEN);
	assert_int_equal(n.time, 1700000000);
	assert_int_equal(n.body_len, (size_t)bl);
	assert_int_equal(n.nsig, 1);
	assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
	pa_keyhash(ORIGIN, pk, kh);
	assert_int_equal(pa_note_has_key(&n, ORIGIN, kh), 1);
	pa_keyhash(ORIGIN, pk2, kh);
	assert_int_equal(pa_note_has_key(&n, ORIGIN, kh), 0);
	pa_note_free(&n);
	pa_note_free(&n);   /* idempotent */
	free(note);
}

static void test_size_zero_and_max(void **state)
{
	char *note = NULL;
	size_t len = 0;
	pa_note n;

	(void)state;
	assert_int_equal(pa_note_sign(ORIGIN, 0, root, 0, sk, &note, &len), PRIVAUDIT_OK);
	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
	assert_int_equal(n.size, 0);
	assert_int_equal(n.time, 0);
	assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
	pa_note_free(&n);
	free(note);
	assert_int_equal(pa_note_sign(ORIGIN, UINT64_MAX, root, 1, sk, &note, &len), PRIVAUDIT_OK);
	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
	assert_true(n.size == UINT64_MAX);
	assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
	pa_note_free(&n);
	free(note);
}

/* Parses, but the signature must not verify. */
static void expect_unverified(const char *note, size_t len, const char *name,
			      const unsigned char *pub)
{
	pa_note n;

	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
	assert_int_not_equal(pa_note_verify(&n, name, pub), 0);
	pa_note_free(&n);
}

static void expect_bad(const char *note, size_t len)
{
	pa_note n;

	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_E_NOTE);
	assert_null(n.text);
}

static void test_altered_body(void **state)
{
	char *note = NULL;
	size_t len = 0, bl;

	(void)state;
	assert_int_equal(pa_note_sign(ORIGIN, 12345, root, 1700000000, sk, &note, &len), PRIVAUDIT_OK);
	bl = strstr(note, "\n\n") - note + 1;
	/* each byte of the body, changed to another that keeps the note
	 * well-formed where possible */
	for (size_t i = 0; i < bl; i++) {
		char c = note[i];
		pa_note n;

		if (c == '\n')
			continue;
		note[i] = c >= '0' && c <= '8' ? (char)(c + 1) : c == '9' ? '1' : c == 'a' ? 'b' : 'a';
		if (pa_note_parse(note, len, &n) == PRIVAUDIT_OK) {
			assert_int_not_equal(pa_note_verify(&n, ORIGIN, pk), 0);
			pa_note_free(&n);
		}
		note[i] = c;
	}
	expect_unverified(note, len, ORIGIN, pk2);   /* wrong key */
	/* a flipped signature bit */
	{
		char *p = note + len - 10;

		*p = *p == 'A' ? 'B' : 'A';
		expect_unverified(note, len, ORIGIN, pk);
	}
	free(note);
}

static void test_wrong_key_and_name(void **state)
{
	char body[512], *note;
	size_t len;
	int bl;

	(void)state;
	bl = snprintf(body, sizeof(body), ORIGIN "\n7\n%s\ntime 5\n", root_b64());
	/* Our builder and the library agree on a good note. */
	note = make_note(body, (size_t)bl, ORIGIN, pk, sk, &len);
	{
		pa_note n;

		assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
		assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
		pa_note_free(&n);
	}
	expect_unverified(note, len, ORIGIN, pk2);
	expect_unverified(note, len, "other.example/log", pk);
	free(note);
	/* A valid signature by our key, but on a line for another key name. */
	note = make_note(body, (size_t)bl, "other.example/log", pk, sk, &len);
	expect_unverified(note, len, ORIGIN, pk);
	free(note);
	/* Our name and key hash, signed by another key. */
	{
		unsigned char raw[4 + crypto_sign_BYTES];
		char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
		char buf[1024];
		int n;

		keyhash(ORIGIN, pk, raw);
		crypto_sign_detached(raw + 4, NULL, (const unsigned char *)body, (size_t)bl, sk2);
		sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
		n = snprintf(buf, sizeof(buf), "%s\n" EM_DASH " %s %s\n", body, ORIGIN, b64);
		expect_unverified(buf, (size_t)n, ORIGIN, pk);
	}
	/* Two signature lines: the other log's first, ours second: verifies. */
	{
		char *a = make_note(body, (size_t)bl, "other.example/log", pk2, sk2, &len);
		char *b = make_note(body, (size_t)bl, ORIGIN, pk, sk, &len);
		char buf[2048];
		pa_note n;
		int k;

		k = snprintf(buf, sizeof(buf), "%s%s", a, b + bl + 1);
		assert_int_equal(pa_note_parse(buf, (size_t)k, &n), PRIVAUDIT_OK);
		assert_int_equal(n.nsig, 2);
		assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
		assert_int_equal(pa_note_verify(&n, "other.example/log", pk2), 0);
		assert_int_not_equal(pa_note_verify(&n, "other.example/log", pk), 0);
		pa_note_free(&n);
		free(a);
		free(b);
	}
}

/* A note whose body is text, validly signed: only the body can be wrong. */
static void expect_body_bad(const char *text)
{
	size_t len;
	char *note = make_note(text, strlen(text), ORIGIN, pk, sk, &len);

	expect_bad(note, len);
	free(note);
}

/* The control for expect_body_bad: this body is fine. */
static void expect_body_ok(const char *text)
{
	size_t len;
	char *note = make_note(text, strlen(text), ORIGIN, pk, sk, &len);
	pa_note n;

	assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
	assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
	pa_note_free(&n);
	free(note);
}

static void test_malformed(void **state)
{
	char body[512], buf[1024], *note, *p;
	size_t len;
	int bl;

	(void)state;
	bl = snprintf(body, sizeof(body), ORIGIN "\n42\n%s\ntime 99\n", root_b64());
	note = make_note(body, (size_t)bl, ORIGIN, pk, sk, &len);

	/* missing blank line between body and signature */
	memcpy(buf, note, (size_t)bl);
	memcpy(buf + bl, note + bl + 1, len - (size_t)bl - 1);
	expect_bad(buf, len - 1);
	/* no signature line at all, with and without the blank line */
	expect_bad(note, (size_t)bl + 1);
	expect_bad(note, (size_t)bl);
	/* the last line unterminated */
	expect_bad(note, len - 1);
	/* bad base64 in the signature line */
	memcpy(buf, note, len);
	p = buf + len - 20;
	*p = '!';
	expect_bad(buf, len);
	/* signature line without the em dash */
	memcpy(buf, note, len);
	buf[bl + 1] = '-';
	expect_bad(buf, len);
	/* a NUL byte inside, in the body and in the signature */
	memcpy(buf, note, len);
	buf[3] = '\0';
	expect_bad(buf, len);
	memcpy(buf, note, len);
	buf[len - 3] = '\0';
	expect_bad(buf, len);
	/* empty */
	expect_bad(note, 0);
	free(note);

	/* body lines: size with a leading zero, sign or junk; origin with a
	 * space or empty; root not 32 bytes of base64 */
	snprintf(buf, sizeof(buf), ORIGIN "\n42\n%s\n", root_b64());
	expect_body_ok(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n0\n%s\n", root_b64());
	expect_body_ok(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n042\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n00\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n+42\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n42 \n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n18446744073709551616\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), ORIGIN "\n\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), "example.org/privaudit test\n42\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), " " ORIGIN "\n42\n%s\n", root_b64());
	expect_body_bad(buf);
	snprintf(buf, sizeof(buf), "\n42\n%s\n", root_b64());
	expect_body_bad(buf);
	expect_body_bad(ORIGIN "\n42\nAAAA\n");
	expect_body_bad(ORIGIN "\n42\nnot base64 at all!\n");
	expect_body_bad(ORIGIN "\n42\n");
	/* a NUL byte in an extension line, which nothing else looks at, under
	 * a good signature */
	bl = snprintf(buf, sizeof(buf), ORIGIN "\n42\n%s\nfoo bar\n", root_b64());
	buf[bl - 4] = '\0';
	note = make_note(buf, (size_t)bl, ORIGIN, pk, sk, &len);
	expect_bad(note, len);
	free(note);
	/* An unknown extension line is fine; a malformed time is ignored. */
	snprintf(buf, sizeof(buf), ORIGIN "\n42\n%s\nfoo bar\ntime x\n", root_b64());
	note = make_note(buf, strlen(buf), ORIGIN, pk, sk, &len);
	{
		pa_note n;

		assert_int_equal(pa_note_parse(note, len, &n), PRIVAUDIT_OK);
		assert_int_equal(n.time, -1);
		assert_int_equal(pa_note_verify(&n, ORIGIN, pk), 0);
		pa_note_free(&n);
	}
	free(note);
	/* The library refuses to sign for a bad origin. */
	note = NULL;
	assert_int_equal(pa_note_sign("bad origin", 1, root, 1, sk, &note, &len), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_note_sign("", 1, root, 1, sk, &note, &len), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_note_sign("a+b", 1, root, 1, sk, &note, &len), PRIVAUDIT_E_INVAL);
	assert_null(note);
}

static void test_too_long(void **state)
{
	size_t cap = PA_NOTE_MAX + 4096, bl, len;
	char *body = malloc(cap), *note;
	int n;

	(void)state;
	assert_non_null(body);
	n = snprintf(body, cap, ORIGIN "\n42\n%s\n", root_b64());
	bl = (size_t)n;
	/* extension lines until the signed note passes PA_NOTE_MAX */
	while (bl < PA_NOTE_MAX) {
		memcpy(body + bl, "x-padding 0123456789abcdef0123456789abcdef\n", 43);
		bl += 43;
	}
	note = make_note(body, bl, ORIGIN, pk, sk, &len);
	assert_true(len > PA_NOTE_MAX);
	expect_bad(note, len);
	free(note);
	/* just under the limit is accepted */
	while (bl + 200 > PA_NOTE_MAX)
		bl -= 43;
	note = make_note(body, bl, ORIGIN, pk, sk, &len);
	assert_true(len <= PA_NOTE_MAX);
	{
		pa_note nt;

		assert_int_equal(pa_note_parse(note, len, &nt), PRIVAUDIT_OK);
		assert_int_equal(pa_note_verify(&nt, ORIGIN, pk), 0);
		pa_note_free(&nt);
	}
	free(note);
	free(body);
}

static void test_vkey(void **state)
{
	char line[PA_VKEY_MAX], want[PA_VKEY_MAX], name[PA_ORIGIN_MAX], b64[128];
	unsigned char raw[1 + crypto_sign_PUBLICKEYBYTES], got[crypto_sign_PUBLICKEYBYTES], kh[4];

	(void)state;
	assert_int_equal(pa_vkey_format(ORIGIN, pk, line, sizeof(line)), PRIVAUDIT_OK);
	/* <name>+<hex key hash>+<base64(0x01 || pub)>, built here independently */
	keyhash(ORIGIN, pk, kh);
	raw[0] = 0x01;
	memcpy(raw + 1, pk, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	snprintf(want, sizeof(want), "%s+%02x%02x%02x%02x+%s", ORIGIN, kh[0], kh[1], kh[2], kh[3], b64);
	assert_string_equal(line, want);

	memset(name, 'x', sizeof(name));
	assert_int_equal(pa_vkey_parse(line, name, got), PRIVAUDIT_OK);
	assert_string_equal(name, ORIGIN);
	assert_memory_equal(got, pk, sizeof(got));
	/* as read from log.pub, with its newline */
	strcat(line, "\n");
	assert_int_equal(pa_vkey_parse(line, name, got), PRIVAUDIT_OK);
	assert_memory_equal(got, pk, sizeof(got));
	line[strlen(line) - 1] = '\0';

	/* wrong key hash: one hex digit changed, or uppercase */
	{
		char bad[PA_VKEY_MAX + 8];   /* a line and a few bytes more */
		size_t h = strlen(ORIGIN) + 1;

		strcpy(bad, line);
		bad[h] = bad[h] == '0' ? '1' : '0';
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		strcpy(bad, line);
		for (size_t i = h; i < h + 8; i++)
			if (bad[i] >= 'a' && bad[i] <= 'f')
				bad[i] = (char)(bad[i] - 'a' + 'A');
		if (strcmp(bad, line) != 0)
			assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		/* another key under this key's hash */
		raw[0] = 0x01;
		memcpy(raw + 1, pk2, crypto_sign_PUBLICKEYBYTES);
		sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
		snprintf(bad, sizeof(bad), "%s+%02x%02x%02x%02x+%s", ORIGIN, kh[0], kh[1], kh[2], kh[3], b64);
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		/* another name under this key's hash */
		snprintf(bad, sizeof(bad), "other.example+%s", line + h);
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		/* algorithm byte other than Ed25519, hash made to match */
		raw[0] = 0x02;
		memcpy(raw + 1, pk, crypto_sign_PUBLICKEYBYTES);
		sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
		snprintf(bad, sizeof(bad), "%s+%02x%02x%02x%02x+%s", ORIGIN, kh[0], kh[1], kh[2], kh[3], b64);
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		/* truncated base64 */
		strcpy(bad, line);
		bad[strlen(bad) - 4] = '\0';
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
		/* trailing junk after the key */
		snprintf(bad, sizeof(bad), "%s+x", line);
		assert_int_equal(pa_vkey_parse(bad, name, got), PRIVAUDIT_E_NOTE);
	}
	/* garbage */
	assert_int_equal(pa_vkey_parse("", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("hello", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("+", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("a+b+c", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("a+00000000+", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("a b+00000000+AQ==", name, got), PRIVAUDIT_E_NOTE);
	assert_int_equal(pa_vkey_parse("-----BEGIN PUBLIC KEY-----\n", name, got), PRIVAUDIT_E_NOTE);

	/* format refuses bad names and short buffers */
	assert_int_equal(pa_vkey_format("a+b", pk, line, sizeof(line)), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_vkey_format("a b", pk, line, sizeof(line)), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_vkey_format("", pk, line, sizeof(line)), PRIVAUDIT_E_INVAL);
	assert_int_equal(pa_vkey_format(ORIGIN, pk, line, 20), PRIVAUDIT_E_INVAL);
}

/* The key hash of a name that fills PA_ORIGIN_MAX - 1 bytes still follows the rule. */
static void test_keyhash(void **state)
{
	char name[PA_ORIGIN_MAX];
	unsigned char a[4], b[4];

	(void)state;
	pa_keyhash(ORIGIN, pk, a);
	keyhash(ORIGIN, pk, b);
	assert_memory_equal(a, b, 4);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	pa_keyhash(name, pk, a);
	keyhash(name, pk, b);
	assert_memory_equal(a, b, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_parse_verify),
		cmocka_unit_test(test_size_zero_and_max),
		cmocka_unit_test(test_altered_body),
		cmocka_unit_test(test_wrong_key_and_name),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_vkey),
		cmocka_unit_test(test_keyhash),
	};

	return cmocka_run_group_tests(tests, setup_keys, NULL);
}
