/* SPDX-License-Identifier: ISC */
/* test_cosign.c: witness cosignatures (C2SP tlog-cosignature/v1): a real
 * witness's cosignature verifies, ours match an independent implementation
 * byte for byte, tampering of any kind is refused, the secret key file is
 * made safely, and verify and proofs demand a required witness. */
#include "config.h"

#include "testutil.h"

#include <inttypes.h>
#include <time.h>

#include <sodium.h>

#include "cosign.h"
#include "note.h"
#include "privaudit.h"

#define EM_DASH "\xe2\x80\x94"
#define ORIGIN "test.example/privaudit/cosign"

/* A checkpoint of a public log (transparency.dev's staging CT log), with
 * its own signatures (an RFC 6962 one of type 0x05, an Ed25519 one) and the
 * cosignatures of four public witnesses, as published; remora.n621.de's
 * verifier key as it publishes it.  Independent data: nothing of ours made
 * it. */
static const char real_note[] =
	"arche2025h1.staging.ct.transparency.dev\n"
	"1432088532\n"
	"U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
	"\n"
	EM_DASH " arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
	EM_DASH " arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
	EM_DASH " transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
	EM_DASH " witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
	EM_DASH " remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
	EM_DASH " witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";
static const char real_log_vkey[] =
	"arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
static const char real_witness_vkey[] =
	"remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
#define REAL_WITNESS_TIME INT64_C(1779573024)

/* Our signer, from the Ed25519 seed 00 01 02 .. 1f: its verifier key line
 * and its cosignature of real_note's body at time 1700000000, computed with
 * Python's cryptography package (RFC 8032 Ed25519, not libsodium), following
 * the tlog-cosignature text. */
#define KAT_NAME "witness.example/kat"
#define KAT_TIME INT64_C(1700000000)
static const char kat_vkey[] =
	"witness.example/kat+e24d35cb+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
static const char kat_line[] =
	EM_DASH " witness.example/kat 4k01ywAAAABlU/EANx3SUscNhizgpl1RCiY2RtMHsm6cQ72iLPVYntxxTp+QhGQG5iuE7bmciiqDbS/EClP1PmUGK3EXQzW9JfdFBQ==\n";

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	return tu_setup_dir(state);
}

/* A witness secret key file for this seed and name, laid out as
 * doc/format.md says: built here, not by the library. */
static void write_key_file(const char *path, const char *name, const unsigned char seed[32])
{
	unsigned char pk[32], sk[64], buf[512], h[32], kh[4];
	size_t nl = strlen(name), p = 0;

	crypto_sign_seed_keypair(pk, sk, seed);
	{
		crypto_hash_sha256_state s;
		unsigned char alg = 0x04;

		crypto_hash_sha256_init(&s);
		crypto_hash_sha256_update(&s, (const unsigned char *)name, nl);
		crypto_hash_sha256_update(&s, (const unsigned char *)"\n", 1);
		crypto_hash_sha256_update(&s, &alg, 1);
		crypto_hash_sha256_update(&s, pk, 32);
		crypto_hash_sha256_final(&s, h);
		memcpy(kh, h, 4);
	}
	memcpy(buf, "PAWITKEY", 8);
	p = 8;
	memcpy(buf + p, "\0\0\0\1", 4);
	p += 4;
	memcpy(buf + p, "Ed\x04\0", 4);
	p += 4;
	memcpy(buf + p, kh, 4);
	p += 4;
	buf[p++] = 0;
	buf[p++] = 0;
	buf[p++] = 0;
	buf[p++] = (unsigned char)nl;
	memcpy(buf + p, name, nl);
	p += nl;
	memcpy(buf + p, pk, 32);
	p += 32;
	memcpy(buf + p, sk, 64);
	p += 64;
	crypto_hash_sha256(buf + p, buf, p);
	p += 32;
	unlink(path);
	tu_write_flags(path, buf, p, O_EXCL);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(buf, sizeof(buf));
}

static const unsigned char kat_seed[32] = {
	0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static privaudit_witness *open_kat(const char *dir)
{
	char path[TU_PATH_MAX];
	privaudit_witness *w = NULL;

	write_key_file(tu_path(path, dir, "kat.key"), KAT_NAME, kat_seed);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_OK);
	return w;
}

/* A fresh witness key made by the library in dir/name; its vkey in vkey. */
static privaudit_witness *new_witness(const char *dir, const char *file, const char *name,
				      char vkey[PA_VKEY_MAX])
{
	char path[TU_PATH_MAX], *v = NULL;
	privaudit_witness *w = NULL;

	assert_int_equal(privaudit_witness_keygen(name, tu_path(path, dir, file), &v), PRIVAUDIT_OK);
	assert_non_null(v);
	assert_true(strlen(v) < PA_VKEY_MAX);
	strcpy(vkey, v);
	free(v);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_OK);
	assert_string_equal(privaudit_witness_vkey(w), vkey);
	return w;
}

/* A note of our log format signed by a fresh key. */
static char *log_note(uint64_t size, size_t *len)
{
	unsigned char pk[32], sk[64], root[32];
	char *note = NULL;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(root, sizeof(root));
	assert_int_equal(pa_note_sign(ORIGIN, size, root, 1234, sk, &note, len), PRIVAUDIT_OK);
	return note;
}

/* ------------------------------------------------------------ known answers */

static void test_real_witness(void **state)
{
	char buf[sizeof(real_note)];
	unsigned char pk[32];
	char name[PA_ORIGIN_MAX];
	pa_cosigner c;
	pa_note n;
	int64_t t = -1;

	(void)state;
	/* Every line parses, the unknown kinds (0x05, others' cosignatures)
	 * included, and the log's own Ed25519 signature still verifies. */
	assert_int_equal(pa_note_parse(real_note, strlen(real_note), &n), PRIVAUDIT_OK);
	assert_int_equal(n.nsig, 6);
	assert_int_equal(pa_vkey_parse(real_log_vkey, name, pk), PRIVAUDIT_OK);
	assert_int_equal(pa_note_verify(&n, name, pk), 0);
	pa_note_free(&n);
	/* The key id of a 0x04 key: the one the witness publishes. */
	assert_int_equal(pa_cosigner_parse(real_witness_vkey, &c), PRIVAUDIT_OK);
	assert_memory_equal(c.keyhash, "\xda\x77\xad\xe7", 4);
	assert_int_equal(privaudit_cosignature_check(real_witness_vkey, real_note, strlen(real_note), &t),
			 PRIVAUDIT_OK);
	assert_int_equal(t, REAL_WITNESS_TIME);
	/* The same note with another size: the cosignature no longer holds. */
	memcpy(buf, real_note, sizeof(buf));
	buf[strlen("arche2025h1.staging.ct.transparency.dev\n1432088") ] = '9';
	assert_int_equal(privaudit_cosignature_check(real_witness_vkey, buf, strlen(buf), &t),
			 PRIVAUDIT_E_WITNESS);
	/* The log's key (type 0x01) is no witness key. */
	assert_int_equal(privaudit_cosignature_check(real_log_vkey, real_note, strlen(real_note), &t),
			 PRIVAUDIT_E_NOTE);
	/* A post-quantum-sized signature of another signer (4 KiB) is
	 * ignored, not a reason to refuse the note. */
	{
		unsigned char big[4096];
		char *b64 = malloc(sodium_base64_ENCODED_LEN(sizeof(big), sodium_base64_VARIANT_ORIGINAL));
		size_t cap = sizeof(real_note) + 8192, len;
		char *note = malloc(cap);

		assert_non_null(b64);
		assert_non_null(note);
		randombytes_buf(big, sizeof(big));
		sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(sizeof(big), sodium_base64_VARIANT_ORIGINAL),
				  big, sizeof(big), sodium_base64_VARIANT_ORIGINAL);
		len = (size_t)snprintf(note, cap, "%s" EM_DASH " pq.example/w %s\n", real_note, b64);
		assert_true(len < cap);
		assert_int_equal(privaudit_cosignature_check(real_witness_vkey, note, len, &t), PRIVAUDIT_OK);
		free(note);
		free(b64);
	}
}

static void test_signer_kat(void **state)
{
	privaudit_witness *w = open_kat(*state);
	size_t len = 0, nl = strlen(real_note);
	char *out = NULL;

	assert_string_equal(privaudit_witness_vkey(w), kat_vkey);
	assert_int_equal(privaudit_witness_cosign(w, real_note, nl, KAT_TIME, &out, &len), PRIVAUDIT_OK);
	/* Every line as it was, ours appended, byte for byte the reference. */
	assert_int_equal(len, nl + strlen(kat_line));
	assert_memory_equal(out, real_note, nl);
	assert_string_equal(out + nl, kat_line);
	assert_int_equal(out[len], '\0');
	assert_int_equal(privaudit_cosignature_check(kat_vkey, out, len, NULL), PRIVAUDIT_OK);
	/* and the other witnesses' cosignatures still hold */
	assert_int_equal(privaudit_cosignature_check(real_witness_vkey, out, len, NULL), PRIVAUDIT_OK);
	free(out);
	privaudit_witness_free(w);
}

/* ------------------------------------------------------------ round trip, tampering */

static void test_round_trip(void **state)
{
	char vkey[PA_VKEY_MAX], path[TU_PATH_MAX];
	privaudit_witness *w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	size_t nl = 0, len = 0;
	char *note = log_note(42, &nl), *out = NULL;
	struct stat sb;
	int64_t t = -1;

	assert_int_equal(stat(tu_path(path, *state, "w.key"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_non_null(strstr(vkey, "collector.example/w1+"));
	assert_int_equal(privaudit_witness_cosign(w, note, nl, 1700000123, &out, &len), PRIVAUDIT_OK);
	assert_int_equal(strlen(out), len);
	assert_int_equal(privaudit_cosignature_check(vkey, out, len, &t), PRIVAUDIT_OK);
	assert_int_equal(t, 1700000123);
	/* the log's signature is untouched */
	{
		pa_note n;

		assert_int_equal(pa_note_parse(out, len, &n), PRIVAUDIT_OK);
		assert_int_equal(n.nsig, 2);
		assert_memory_equal(out, note, nl);
		pa_note_free(&n);
	}
	/* not cosigned: refused */
	assert_int_equal(privaudit_cosignature_check(vkey, note, nl, &t), PRIVAUDIT_E_WITNESS);
	/* time 0 is now */
	free(out);
	{
		int64_t before = (int64_t)time(NULL);

		assert_int_equal(privaudit_witness_cosign(w, note, nl, 0, &out, &len), PRIVAUDIT_OK);
		assert_int_equal(privaudit_cosignature_check(vkey, out, len, &t), PRIVAUDIT_OK);
		assert_true(t >= before && t <= (int64_t)time(NULL));
	}
	free(out);
	free(note);
	privaudit_witness_free(w);
}

/* The base64 of our line in a cosigned note, decoded; the line's offset. */
static size_t our_line(const char *note, const char *name, unsigned char raw[76], size_t *b64_at)
{
	char want[PA_ORIGIN_MAX + 8];
	const char *p, *e;
	size_t got = 0;

	snprintf(want, sizeof(want), EM_DASH " %s ", name);
	p = strstr(note, want);
	assert_non_null(p);
	p += strlen(want);
	e = strchr(p, '\n');
	assert_non_null(e);
	assert_int_equal(sodium_base642bin(raw, 76, p, (size_t)(e - p), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(got, 76);
	*b64_at = (size_t)(p - note);
	return (size_t)(e - p);
}

static void test_tampering(void **state)
{
	char vkey[PA_VKEY_MAX], other[PA_VKEY_MAX], buf[4096], b64[128];
	privaudit_witness *w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	privaudit_witness *w2 = new_witness(*state, "w2.key", "collector.example/w1", other);
	size_t nl = 0, len = 0, at, bl;
	char *note = log_note(7, &nl), *out = NULL;
	unsigned char raw[76];

	assert_int_equal(privaudit_witness_cosign(w, note, nl, 1700000000, &out, &len), PRIVAUDIT_OK);
	assert_true(len < sizeof(buf));
	assert_int_equal(privaudit_cosignature_check(vkey, out, len, NULL), PRIVAUDIT_OK);

	/* a wrong key: same name, other key (its key id differs) */
	assert_int_equal(privaudit_cosignature_check(other, out, len, NULL), PRIVAUDIT_E_WITNESS);

	/* a tampered body: every byte of the body, one at a time */
	{
		pa_note n;

		assert_int_equal(pa_note_parse(note, nl, &n), PRIVAUDIT_OK);
		bl = n.body_len;
		pa_note_free(&n);
	}
	for (size_t i = 0; i < bl; i++) {
		if (out[i] == '\n')
			continue;
		memcpy(buf, out, len + 1);
		buf[i] = buf[i] == '1' ? '2' : '1';
		assert_int_not_equal(privaudit_cosignature_check(vkey, buf, len, NULL), PRIVAUDIT_OK);
	}

	/* a wrong time: the 8-byte timestamp changed, signature kept */
	bl = our_line(out, "collector.example/w1", raw, &at);
	raw[11] ^= 1;
	sodium_bin2base64(b64, sizeof(b64), raw, 76, sodium_base64_VARIANT_ORIGINAL);
	memcpy(buf, out, len + 1);
	memcpy(buf + at, b64, bl);
	assert_int_equal(privaudit_cosignature_check(vkey, buf, len, NULL), PRIVAUDIT_E_WITNESS);
	/* a flipped signature bit */
	raw[11] ^= 1;
	raw[40] ^= 0x80;
	sodium_bin2base64(b64, sizeof(b64), raw, 76, sodium_base64_VARIANT_ORIGINAL);
	memcpy(buf + at, b64, bl);
	assert_int_equal(privaudit_cosignature_check(vkey, buf, len, NULL), PRIVAUDIT_E_WITNESS);
	raw[40] ^= 0x80;

	/* a truncated line: 72 bytes (our key id, not a cosignature's length) */
	sodium_bin2base64(b64, sizeof(b64), raw, 72, sodium_base64_VARIANT_ORIGINAL);
	memcpy(buf, out, at);
	snprintf(buf + at, sizeof(buf) - at, "%s\n", b64);
	assert_int_equal(privaudit_cosignature_check(vkey, buf, strlen(buf), NULL), PRIVAUDIT_E_WITNESS);
	/* cut mid-base64: not a note at all */
	memcpy(buf, out, len + 1);
	memcpy(buf + at + bl - 3, "\n", 2);
	assert_int_equal(privaudit_cosignature_check(vkey, buf, strlen(buf), NULL), PRIVAUDIT_E_NOTE);
	/* the line cut off entirely */
	memcpy(buf, out, at);
	buf[at - strlen(EM_DASH " collector.example/w1 ")] = '\0';
	assert_int_equal(privaudit_cosignature_check(vkey, buf, strlen(buf), NULL), PRIVAUDIT_E_WITNESS);

	/* a good cosignature beside a bad one of the same witness: the note is
	 * rejected (signed-note: a known key's failing signature condemns it) */
	raw[40] ^= 0x80;
	sodium_bin2base64(b64, sizeof(b64), raw, 76, sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, sizeof(buf), "%s" EM_DASH " collector.example/w1 %s\n", out, b64);
	assert_int_equal(privaudit_cosignature_check(vkey, buf, strlen(buf), NULL), PRIVAUDIT_E_WITNESS);

	/* the same witness key signing as a plain note signer (type 0x01) is
	 * not a cosignature */
	{
		unsigned char pk[32], sk[64], kh[4], sig[68];
		char b[128];
		pa_note n;

		assert_int_equal(pa_note_parse(note, nl, &n), PRIVAUDIT_OK);
		crypto_sign_keypair(pk, sk);
		pa_keyhash("collector.example/w1", pk, kh);
		memcpy(sig, kh, 4);
		crypto_sign_detached(sig + 4, NULL, (const unsigned char *)n.text, n.body_len, sk);
		pa_note_free(&n);
		sodium_bin2base64(b, sizeof(b), sig, 68, sodium_base64_VARIANT_ORIGINAL);
		snprintf(buf, sizeof(buf), "%s" EM_DASH " collector.example/w1 %s\n", note, b);
		assert_int_equal(privaudit_cosignature_check(vkey, buf, strlen(buf), NULL),
				 PRIVAUDIT_E_WITNESS);
	}

	/* malformed inputs */
	assert_int_equal(privaudit_cosignature_check("nonsense", out, len, NULL), PRIVAUDIT_E_NOTE);
	assert_int_equal(privaudit_cosignature_check(vkey, "x\n", 2, NULL), PRIVAUDIT_E_NOTE);
	assert_int_equal(privaudit_cosignature_check(NULL, out, len, NULL), PRIVAUDIT_E_INVAL);
	free(out);
	free(note);
	privaudit_witness_free(w);
	privaudit_witness_free(w2);
}

static void test_cosign_rules(void **state)
{
	char vkey[PA_VKEY_MAX], buf[8192];
	privaudit_witness *w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	size_t nl = 0, len = 0, len2 = 0;
	char *note = log_note(9, &nl), *out = NULL, *out2 = NULL;
	int64_t t = -1;

	/* cosigning again replaces our line: one per witness, the newest */
	assert_int_equal(privaudit_witness_cosign(w, note, nl, 1000, &out, &len), PRIVAUDIT_OK);
	assert_int_equal(privaudit_witness_cosign(w, out, len, 2000, &out2, &len2), PRIVAUDIT_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(out2, note, nl);
	assert_int_equal(privaudit_cosignature_check(vkey, out2, len2, &t), PRIVAUDIT_OK);
	assert_int_equal(t, 2000);
	free(out2);
	/* another witness's line stays where it was, ours goes last */
	{
		char other[PA_VKEY_MAX];
		privaudit_witness *w2 = new_witness(*state, "w2.key", "other.example/w2", other);
		char *o3 = NULL;
		size_t l3 = 0;

		assert_int_equal(privaudit_witness_cosign(w2, out, len, 3000, &out2, &len2), PRIVAUDIT_OK);
		assert_int_equal(privaudit_witness_cosign(w, out2, len2, 4000, &o3, &l3), PRIVAUDIT_OK);
		assert_true(strstr(o3, "other.example/w2") < strstr(o3, "collector.example/w1"));
		assert_int_equal(privaudit_cosignature_check(other, o3, l3, &t), PRIVAUDIT_OK);
		assert_int_equal(t, 3000);
		assert_int_equal(privaudit_cosignature_check(vkey, o3, l3, &t), PRIVAUDIT_OK);
		assert_int_equal(t, 4000);
		free(o3);
		free(out2);
		privaudit_witness_free(w2);
	}
	free(out);
	out = NULL;
	/* 16 signature lines already: a 17th would not be read, so none is made */
	{
		size_t o = nl;

		memcpy(buf, note, nl);
		for (int i = 0; i < 15; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, EM_DASH " other%d.example AAAAAAAA\n", i);
		assert_int_equal(privaudit_witness_cosign(w, buf, o, 5, &out, &len), PRIVAUDIT_E_NOTE);
		assert_null(out);
		/* one fewer is fine */
		o = nl;
		for (int i = 0; i < 14; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, EM_DASH " other%d.example AAAAAAAA\n", i);
		assert_int_equal(privaudit_witness_cosign(w, buf, o, 5, &out, &len), PRIVAUDIT_OK);
		assert_int_equal(privaudit_cosignature_check(vkey, out, len, NULL), PRIVAUDIT_OK);
		free(out);
		out = NULL;
	}
	/* no note, a negative time, missing arguments */
	assert_int_equal(privaudit_witness_cosign(w, "hello\n", 6, 5, &out, &len), PRIVAUDIT_E_NOTE);
	assert_int_equal(privaudit_witness_cosign(w, note, nl, -1, &out, &len), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_witness_cosign(NULL, note, nl, 5, &out, &len), PRIVAUDIT_E_INVAL);
	assert_null(out);
	free(note);
	privaudit_witness_free(w);
	privaudit_witness_free(NULL);
}

/* ------------------------------------------------------------ the key file */

static void test_key_file(void **state)
{
	char path[TU_PATH_MAX], link[TU_PATH_MAX], vkey[PA_VKEY_MAX], *v = NULL;
	unsigned char *before, *after, *bytes;
	privaudit_witness *w = NULL;
	size_t blen, alen, len;

	w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	privaudit_witness_free(w);
	tu_path(path, *state, "w.key");
	before = tu_read(path, &blen);
	/* tag and key id first */
	assert_memory_equal(before, "PAWITKEY\0\0\0\1Ed\x04\0", 16);
	/* never over an existing file, nor through a link */
	assert_int_equal(privaudit_witness_keygen("collector.example/w1", path, &v), PRIVAUDIT_E_EXISTS);
	assert_null(v);
	after = tu_read(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(after);
	tu_path(link, *state, "dangling");
	assert_int_equal(symlink("nowhere", link), 0);
	assert_int_equal(privaudit_witness_keygen("x.example/w", link, &v), PRIVAUDIT_E_EXISTS);
	assert_int_equal(tu_size(link), -1);   /* the link still points nowhere */
	/* bad names and arguments */
	assert_int_equal(privaudit_witness_keygen("a b", tu_path(link, *state, "n1"), &v), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_witness_keygen("a+b", link, &v), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_witness_keygen("", link, &v), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_witness_keygen("ok", link, NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(tu_size(link), -1);
	/* a missing directory: E_IO with errno */
	errno = 0;
	assert_int_equal(privaudit_witness_keygen("ok", tu_path(link, *state, "no/such"), &v), PRIVAUDIT_E_IO);
	assert_int_equal(errno, ENOENT);

	/* open refuses a file others may read, and any altered byte */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_E_KEY);
	assert_null(w);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_OK);
	privaudit_witness_free(w);
	w = NULL;
	bytes = malloc(blen);
	assert_non_null(bytes);
	for (size_t i = 0; i < blen; i++) {
		memcpy(bytes, before, blen);
		bytes[i] ^= 0x01;
		tu_write(path, bytes, blen);
		assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_E_KEY);
		assert_null(w);
	}
	/* cut short, or longer */
	for (len = 0; len < blen; len += 7) {
		unlink(path);
		tu_write_flags(path, before, len, O_EXCL);
		assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_E_KEY);
	}
	unlink(path);
	memcpy(bytes, before, blen);
	tu_write_flags(path, before, blen, O_EXCL);
	tu_append(path, "x", 1);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_E_KEY);
	/* a key id that is not the key's, with a correct checksum */
	unlink(path);
	memcpy(bytes, before, blen);
	bytes[16] ^= 0xff;
	crypto_hash_sha256(bytes + blen - 32, bytes, blen - 32);
	tu_write_flags(path, bytes, blen, O_EXCL);
	assert_int_equal(privaudit_witness_open(&w, path), PRIVAUDIT_E_KEY);
	/* a missing file: E_IO */
	assert_int_equal(privaudit_witness_open(&w, tu_path(link, *state, "missing")), PRIVAUDIT_E_IO);
	free(bytes);
	free(before);
}

/* ------------------------------------------------------------ verify, proofs */

static void seal(const char *dir, int records)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	for (int i = 0; i < records; i++)
		assert_int_equal(privaudit_append_text(log, "text", 4), PRIVAUDIT_OK);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

/* Replace dir/checkpoint with it cosigned by w; the cosigned note returned. */
static char *cosign_dir(const char *dir, privaudit_witness *w, size_t *len)
{
	char path[TU_PATH_MAX], *out = NULL;
	unsigned char *note;
	size_t nl;

	note = tu_read(tu_path(path, dir, PRIVAUDIT_CHECKPOINT_FILE), &nl);
	assert_int_equal(privaudit_witness_cosign(w, (char *)note, nl, 0, &out, len), PRIVAUDIT_OK);
	tu_write(path, out, *len);
	free(note);
	return out;
}

static privaudit_status verify_with(const char *dir, const char *pub, const char *trusted,
				    size_t tlen, const char *w1, const char *w2,
				    privaudit_verify_report *out)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	privaudit_status st;

	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_pin_key(v, pub), PRIVAUDIT_OK);
	if (trusted != NULL)
		assert_int_equal(privaudit_verifier_trust(v, trusted, tlen), PRIVAUDIT_OK);
	if (w1 != NULL)
		assert_int_equal(privaudit_verifier_require_witness(v, w1), PRIVAUDIT_OK);
	if (w2 != NULL)
		assert_int_equal(privaudit_verifier_require_witness(v, w2), PRIVAUDIT_OK);
	st = privaudit_verify_run(v, &rep);
	assert_non_null(rep);
	*out = *rep;
	out->detail = NULL;
	out->origin = NULL;
	privaudit_verifier_free(v);
	return st;
}

static void test_verify_witness(void **state)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], pub[PA_VKEY_MAX], vkey[PA_VKEY_MAX],
		other[PA_VKEY_MAX];
	privaudit_witness *w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	privaudit_witness *w2 = new_witness(*state, "w2.key", "collector.example/w2", other);
	privaudit_verify_report rep;
	privaudit_verifier *v = NULL;
	size_t clen = 0, c2len = 0;
	char *cosigned, *both;

	tu_path(dir, *state, "log");
	assert_int_equal(privaudit_init(dir, ORIGIN, pub, sizeof(pub)), PRIVAUDIT_OK);
	seal(dir, 5);
	/* not cosigned: the witness is missing */
	assert_int_equal(verify_with(dir, pub, NULL, 0, NULL, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.witnessed, 0);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, NULL, &rep), PRIVAUDIT_E_WITNESS);
	cosigned = cosign_dir(dir, w, &clen);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.witnessed, rep.newest_size);
	assert_true(rep.witness_time > 0);
	/* another witness did not cosign; both required: not enough */
	assert_int_equal(verify_with(dir, pub, NULL, 0, other, NULL, &rep), PRIVAUDIT_E_WITNESS);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, other, &rep), PRIVAUDIT_E_WITNESS);
	both = cosign_dir(dir, w2, &c2len);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, other, &rep), PRIVAUDIT_OK);
	free(both);
	/* the log's own key, or nonsense, is not a witness key */
	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_require_witness(v, pub), PRIVAUDIT_E_NOTE);
	assert_int_equal(privaudit_verifier_require_witness(v, "x"), PRIVAUDIT_E_NOTE);
	assert_int_equal(privaudit_verifier_require_witness(v, NULL), PRIVAUDIT_E_INVAL);
	privaudit_verifier_free(v);

	/* A new seal replaces the checkpoint file: the witnessed checkpoint is
	 * then the trusted note the auditor kept, which the log extends. */
	seal(dir, 3);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, NULL, &rep), PRIVAUDIT_E_WITNESS);
	assert_int_equal(verify_with(dir, pub, cosigned, clen, vkey, NULL, &rep), PRIVAUDIT_OK);
	assert_true(rep.witnessed < rep.newest_size);
	assert_int_equal(rep.trusted_checked, 1);
	/* no checkpoint file at all: the trusted note alone */
	assert_int_equal(unlink(tu_path(path, dir, PRIVAUDIT_CHECKPOINT_FILE)), 0);
	assert_int_equal(verify_with(dir, pub, cosigned, clen, vkey, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(verify_with(dir, pub, NULL, 0, vkey, NULL, &rep), PRIVAUDIT_E_WITNESS);

	/* A note the witness cosigned for another log of the same origin (a
	 * fork, or a replaced log): refused, never taken as witnessed. */
	{
		char dir2[TU_PATH_MAX], pub2[PA_VKEY_MAX], *fork;
		size_t flen = 0;

		tu_path(dir2, *state, "fork");
		assert_int_equal(privaudit_init(dir2, ORIGIN, pub2, sizeof(pub2)), PRIVAUDIT_OK);
		seal(dir2, 5);
		fork = cosign_dir(dir2, w, &flen);
		assert_int_equal(privaudit_cosignature_check(vkey, fork, flen, NULL), PRIVAUDIT_OK);
		assert_int_not_equal(verify_with(dir, pub, fork, flen, vkey, NULL, &rep), PRIVAUDIT_OK);
		/* as the checkpoint file too */
		tu_write_flags(path, fork, flen, O_EXCL);
		assert_int_not_equal(verify_with(dir, pub, NULL, 0, vkey, NULL, &rep), PRIVAUDIT_OK);
		free(fork);
	}
	free(cosigned);
	privaudit_witness_free(w);
	privaudit_witness_free(w2);
}

static void test_proof_carries_cosignature(void **state)
{
	char dir[TU_PATH_MAX], pub[PA_VKEY_MAX], vkey[PA_VKEY_MAX];
	privaudit_witness *w = new_witness(*state, "w.key", "collector.example/w1", vkey);
	const privaudit_proof_report *prep = NULL;
	privaudit_proof *p = NULL;
	privaudit_reader *r = NULL;
	const uint64_t idx[] = {3, 4};
	size_t plen = 0, proved = 0, clen = 0, nlen = 0;
	char *proof = NULL, *cosigned;
	const char *note;

	tu_path(dir, *state, "log");
	assert_int_equal(privaudit_init(dir, ORIGIN, pub, sizeof(pub)), PRIVAUDIT_OK);
	seal(dir, 5);
	cosigned = cosign_dir(dir, w, &clen);
	/* the newest checkpoint is the file's: its cosignature goes along */
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_prove(r, idx, 2, NULL, 0, &proof, &plen, &proved), PRIVAUDIT_OK);
	assert_int_equal(proved, 2);
	privaudit_reader_free(r);
	assert_int_equal(privaudit_proof_check(&p, pub, proof, plen, &prep), PRIVAUDIT_OK);
	assert_int_equal(privaudit_proof_checkpoint(p, &note, &nlen), PRIVAUDIT_OK);
	assert_int_equal(nlen, clen);
	assert_memory_equal(note, cosigned, clen);
	assert_int_equal(privaudit_cosignature_check(vkey, note, nlen, NULL), PRIVAUDIT_OK);
	privaudit_proof_free(p);
	free(proof);
	proof = NULL;

	/* after a new seal, the newest checkpoint is no longer cosigned; the
	 * older cosigned one can still be proved against, given explicitly */
	seal(dir, 1);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_prove(r, idx, 2, NULL, 0, &proof, &plen, &proved), PRIVAUDIT_OK);
	assert_int_equal(privaudit_proof_check(&p, pub, proof, plen, &prep), PRIVAUDIT_OK);
	assert_int_equal(privaudit_proof_checkpoint(p, &note, &nlen), PRIVAUDIT_OK);
	assert_int_equal(privaudit_cosignature_check(vkey, note, nlen, NULL), PRIVAUDIT_E_WITNESS);
	privaudit_proof_free(p);
	free(proof);
	proof = NULL;
	assert_int_equal(privaudit_prove(r, idx, 2, cosigned, clen, &proof, &plen, &proved), PRIVAUDIT_OK);
	privaudit_reader_free(r);
	assert_int_equal(privaudit_proof_check(&p, pub, proof, plen, &prep), PRIVAUDIT_OK);
	assert_int_equal(privaudit_proof_checkpoint(p, &note, &nlen), PRIVAUDIT_OK);
	assert_int_equal(privaudit_cosignature_check(vkey, note, nlen, NULL), PRIVAUDIT_OK);
	privaudit_proof_free(p);

	/* a failed check gives no checkpoint */
	assert_true(plen > 4 && memcmp(proof + plen - 4, "end\n", 4) == 0);
	assert_int_not_equal(privaudit_proof_check(&p, pub, proof, plen - 4, &prep), PRIVAUDIT_OK);
	assert_int_equal(privaudit_proof_checkpoint(p, &note, &nlen), PRIVAUDIT_E_NOTFOUND);
	privaudit_proof_free(p);
	free(proof);
	free(cosigned);
	privaudit_witness_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_witness),
		cmocka_unit_test_setup_teardown(test_signer_kat, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_tampering, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_cosign_rules, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_key_file, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_verify_witness, setup, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_proof_carries_cosignature, setup, tu_teardown_dir),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
