/* SPDX-License-Identifier: ISC */
/* note.h: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, signed
 * with Ed25519, and signed-note verifier key lines. */
#ifndef PA_NOTE_H
#define PA_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "hash.h"
#include "util.h"

#define PA_NOTE_MAX 65536
#define PA_ORIGIN_MAX 256
#define PA_VKEY_MAX 512
#define PA_SIGLINES_MAX 16

/* Signature type bytes of signed-note key ids: our log's Ed25519 note
 * signatures, and C2SP tlog-cosignature/v1 (timestamped Ed25519). */
#define PA_SIG_ED25519 0x01
#define PA_SIG_COSIG_ED25519 0x04

typedef struct pa_sigline {
	const char *name;             /* points into the parsed copy */
	size_t name_len;
	unsigned char keyhash[4];
	unsigned char sig[crypto_sign_BYTES];
	int is_ed25519;               /* signature part is 4 + 64 bytes */
	int is_cosig;                 /* 4 + 8 + 64 bytes: key id, timestamp, then sig */
	uint64_t cosig_time;          /* the timestamp, big-endian on the line */
} pa_sigline;

typedef struct pa_note {
	char *text;                   /* malloc'd NUL-terminated copy */
	size_t body_len;              /* bytes signed: up to the blank line */
	char origin[PA_ORIGIN_MAX];
	uint64_t size;
	unsigned char root[PA_HASH_LEN];
	int64_t time;                 /* from our "time" extension line, -1 if absent */
	size_t nsig;
	pa_sigline sig[PA_SIGLINES_MAX];
} pa_note;

/* First 4 bytes of SHA-256(name || "\n" || 0x01 || pub). */
void pa_keyhash(const char *name, const unsigned char pub[crypto_sign_PUBLICKEYBYTES],
		unsigned char out[4]);
/* "<name>+<hex keyhash>+<base64(0x01 || pub)>" into buf. */
privaudit_status pa_vkey_format(const char *name, const unsigned char pub[crypto_sign_PUBLICKEYBYTES],
				char *buf, size_t len);
/* Parse one verifier key line (trailing whitespace ignored). */
privaudit_status pa_vkey_parse(const char *line, char name[PA_ORIGIN_MAX],
			       unsigned char pub[crypto_sign_PUBLICKEYBYTES]);
/* The same three for an Ed25519 key of signature type alg (PA_SIG_*). */
void pa_keyhash_alg(const char *name, unsigned char alg,
		    const unsigned char pub[crypto_sign_PUBLICKEYBYTES], unsigned char out[4]);
privaudit_status pa_vkey_format_alg(const char *name, unsigned char alg,
				    const unsigned char pub[crypto_sign_PUBLICKEYBYTES], char *buf,
				    size_t len);
privaudit_status pa_vkey_parse_alg(const char *line, unsigned char alg, char name[PA_ORIGIN_MAX],
				   unsigned char pub[crypto_sign_PUBLICKEYBYTES]);
/* 1 when s[0..len) is a signed-note key name: non-empty, no spaces, no '+'. */
int pa_note_name_ok(const char *s, size_t len);

/* 1 when s holds only the standard base64 alphabet and '=' (libsodium
 * alone would take some other bytes as digits). */
int pa_b64_chars_ok(const char *s, size_t len);

/* A signed checkpoint note, malloc'd, NUL-terminated. */
privaudit_status pa_note_sign(const char *origin, uint64_t size, const unsigned char root[PA_HASH_LEN],
			      int64_t time, const unsigned char *sk,
			      char **note, size_t *len);
/* Parse without checking any signature. */
privaudit_status pa_note_parse(const char *note, size_t len, pa_note *out);
void pa_note_free(pa_note *n);
/* 0 when a signature line by (name, pub) verifies over the body. */
int pa_note_verify(const pa_note *n, const char *name,
		   const unsigned char pub[crypto_sign_PUBLICKEYBYTES]);
/* 1 when the note carries a signature line with this name and key hash. */
int pa_note_has_key(const pa_note *n, const char *name, const unsigned char keyhash[4]);

#endif
