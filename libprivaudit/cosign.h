/* SPDX-License-Identifier: ISC */
/* cosign.h: witness cosignatures on checkpoint notes (C2SP tlog-cosignature,
 * cosignature/v1, Ed25519, signature type 0x04) and the verifier side of them. */
#ifndef PA_COSIGN_H
#define PA_COSIGN_H

#include <stdint.h>

#include <sodium.h>

#include "note.h"
#include "util.h"

/* A witness as a verifier knows it: from its verifier key line. */
typedef struct pa_cosigner {
	char name[PA_ORIGIN_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char keyhash[4];     /* SHA-256(name || "\n" || 0x04 || pk)[:4] */
} pa_cosigner;

/* "<name>+<hex key id>+<base64(0x04 || pk)>" (trailing whitespace ignored). */
privaudit_status pa_cosigner_parse(const char *vkey, pa_cosigner *out) PA_HIDDEN;

/* 0 when the note carries a cosignature by c that verifies over its body,
 * and none by c that fails (signed-note: a known key's bad signature
 * condemns the note); *time is the newest such cosignature's timestamp.
 * -1 otherwise. */
int pa_note_cosigned(const pa_note *n, const pa_cosigner *c, uint64_t *time) PA_HIDDEN;

#endif
