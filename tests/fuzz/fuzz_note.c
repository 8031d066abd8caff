/* SPDX-License-Identifier: ISC */
/* fuzz_note.c: checkpoint notes and verifier key lines.  When the input's
 * first line is a key line (a log.pub), the rest is a note checked with that
 * key, as `privaudit verify --key` does; otherwise the whole input is a note
 * checked with a fixed key.  A note that parses is signed again with the
 * fixed key and must come back the same; a key line that parses must format
 * back to itself.  Witness cosignatures are checked with the fixed key too. */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "cosign.h"
#include "fuzz.h"
#include "note.h"

#define FIXED_NAME "fuzz.example/privaudit"

static void check_note(const char *text, size_t len, const char *name,
		       const unsigned char pub[crypto_sign_PUBLICKEYBYTES],
		       const unsigned char fixed_pk[crypto_sign_PUBLICKEYBYTES],
		       const unsigned char *fixed_sk)
{
	pa_note n, again;
	char *signed_note = NULL;
	size_t signed_len = 0;
	unsigned char kh[4];

	if (pa_note_parse(text, len, &n) != PRIVAUDIT_OK) {
		FUZZ_CHECK(n.text == NULL);
		return;
	}
	FUZZ_CHECK(n.nsig >= 1 && n.nsig <= PA_SIGLINES_MAX);
	FUZZ_CHECK(n.body_len < len && n.text[n.body_len] == '\n');
	FUZZ_CHECK(strlen(n.origin) > 0 && strlen(n.origin) < PA_ORIGIN_MAX);
	for (size_t i = 0; i < n.nsig; i++) {
		FUZZ_CHECK(n.sig[i].name >= n.text && n.sig[i].name + n.sig[i].name_len <= n.text + len);
		(void)pa_note_has_key(&n, n.origin, n.sig[i].keyhash);
	}
	if (name != NULL) {
		(void)pa_note_verify(&n, name, pub);
		pa_keyhash(name, pub, kh);
		(void)pa_note_has_key(&n, name, kh);
	}
	(void)pa_note_verify(&n, n.origin, fixed_pk);
	(void)pa_note_verify(&n, FIXED_NAME, fixed_pk);
	{
		pa_cosigner c;
		uint64_t t;

		memset(&c, 0, sizeof(c));
		strcpy(c.name, FIXED_NAME);
		memcpy(c.pk, fixed_pk, sizeof(c.pk));
		pa_keyhash_alg(c.name, PA_SIG_COSIG_ED25519, c.pk, c.keyhash);
		(void)pa_note_cosigned(&n, &c, &t);
		/* every line's own name, as if it were the witness's */
		for (size_t i = 0; i < n.nsig && n.sig[i].name_len < sizeof(c.name); i++) {
			memcpy(c.name, n.sig[i].name, n.sig[i].name_len);
			c.name[n.sig[i].name_len] = '\0';
			memcpy(c.keyhash, n.sig[i].keyhash, 4);
			(void)pa_note_cosigned(&n, &c, &t);
		}
	}

	/* What parses, signed again, reads back the same and verifies. */
	FUZZ_CHECK(pa_note_sign(n.origin, n.size, n.root, n.time, fixed_sk, &signed_note,
				&signed_len) == PRIVAUDIT_OK);
	FUZZ_CHECK(pa_note_parse(signed_note, signed_len, &again) == PRIVAUDIT_OK);
	FUZZ_CHECK(strcmp(again.origin, n.origin) == 0 && again.size == n.size &&
		   memcmp(again.root, n.root, PA_HASH_LEN) == 0 && again.time == n.time);
	FUZZ_CHECK(pa_note_verify(&again, n.origin, fixed_pk) == 0);
	pa_note_free(&again);
	free(signed_note);
	pa_note_free(&n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char seed[crypto_sign_SEEDBYTES], fixed_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char fixed_sk[crypto_sign_SECRETKEYBYTES], pub[crypto_sign_PUBLICKEYBYTES];
	char name[PA_ORIGIN_MAX], *line;
	const char *text = (const char *)data;
	const uint8_t *nl;
	size_t len = size, ll;
	int have_key = 0;

	FUZZ_CHECK(sodium_init() >= 0);
	memset(seed, 0x5a, sizeof(seed));
	crypto_sign_seed_keypair(fixed_pk, fixed_sk, seed);

	/* The first line as a key line (the parser takes a C string). */
	nl = memchr(data, '\n', size);
	ll = nl != NULL ? (size_t)(nl - data) : size;
	line = malloc(ll + 1);
	FUZZ_CHECK(line != NULL);
	memcpy(line, data, ll);
	line[ll] = '\0';
	if (pa_vkey_parse(line, name, pub) == PRIVAUDIT_OK) {
		char again[PA_VKEY_MAX];
		size_t tl = strlen(line);

		while (tl > 0 && (line[tl - 1] == '\r' || line[tl - 1] == ' '))
			tl--;
		FUZZ_CHECK(pa_vkey_format(name, pub, again, sizeof(again)) == PRIVAUDIT_OK);
		FUZZ_CHECK(strlen(again) == tl && memcmp(again, line, tl) == 0);
		have_key = 1;
		if (nl != NULL) {
			text = (const char *)nl + 1;
			len = size - ll - 1;
		} else {
			len = 0;
		}
	}
	free(line);
	if (len > 0)
		check_note(text, len, have_key ? name : NULL, pub, fixed_pk, fixed_sk);
	sodium_memzero(fixed_sk, sizeof(fixed_sk));
	return 0;
}
