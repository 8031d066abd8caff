/* SPDX-License-Identifier: ISC */
/* keys.h: the one-time Ed25519 signing keys and their 0600 state file. */
#ifndef PA_KEYS_H
#define PA_KEYS_H

#include <stdint.h>

#include <sodium.h>

#include "hash.h"
#include "note.h"
#include "util.h"

#define PA_KEY_FILE "log.key"

/* Lives in sodium_malloc memory only; pa_keys_free wipes it. */
typedef struct pa_keystate {
	uint64_t key_index;                          /* this key signs checkpoint key_index */
	unsigned char log_id[PA_HASH_LEN];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char origin[PA_ORIGIN_MAX];
	/* the note signed by the previous key, until its record is in the log */
	uint32_t note_len;
	char note[PA_NOTE_MAX];
} pa_keystate;

pa_keystate *pa_keys_new(void);
/* Fresh key pair into ks->pk/sk. */
privaudit_status pa_keys_generate(pa_keystate *ks);
void pa_keys_free(pa_keystate *ks);

privaudit_status pa_keys_load(pa_err *e, int dirfd, pa_keystate *ks);
/* Atomically replace log.key with ks, then overwrite the old file's bytes. */
privaudit_status pa_keys_store(pa_err *e, int dirfd, const pa_keystate *ks);

#endif
