/* SPDX-License-Identifier: ISC */
/* keys.h: the one-time Ed25519 signing keys and their 0600 key file, in
 * which a used key is overwritten in place before the next one is current. */
#ifndef PA_KEYS_H
#define PA_KEYS_H

#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

#include "hash.h"
#include "note.h"
#include "util.h"

#define PA_KEY_FILE "log.key"
/* A second copy of the current key, only while log.key is being moved to a
 * fresh file (old format, or copy-on-write): see keys.c. */
#define PA_KEY_NEW_FILE "log.key.new"
/* The key file: two slots of one 4 KiB block each (doc/format.md). */
#define PA_KEY_SLOT 4096u
#define PA_KEY_FILE_SIZE (2u * PA_KEY_SLOT)

/* Where a loaded key came from. */
enum {
	PA_KEYS_FROM_SLOTS = 0,     /* log.key, two slots */
	PA_KEYS_FROM_OLD,           /* log.key, the old one-key format */
	PA_KEYS_FROM_NEW,           /* log.key.new: a move of log.key was interrupted */
};

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
	/* set by pa_keys_load, used by the writes that follow it */
	uint64_t gen;               /* generation of its slot */
	unsigned slot;              /* 0 or 1 */
	int from;                   /* PA_KEYS_FROM_* */
	int stale_new;              /* a leftover log.key.new is there too */
	int cow_fixable;            /* log.key is copy-on-write where a new file need not be */
	dev_t dev;                  /* the file it came from */
	ino_t ino;
} pa_keystate;

pa_keystate *pa_keys_new(void);
/* Fresh key pair into ks->pk/sk. */
privaudit_status pa_keys_generate(pa_keystate *ks);
void pa_keys_free(pa_keystate *ks);

/* Create log.key (it must not exist) holding ks as the current key. */
privaudit_status pa_keys_create(pa_err *e, int dirfd, const pa_keystate *ks);
/* The current key and, when its record may still be missing from the log,
 * the note the key before it signed.  Reads only. */
privaudit_status pa_keys_load(pa_err *e, int dirfd, pa_keystate *ks);
/* A writer's upkeep before signing with ks (freshly loaded): the old format
 * or an interrupted move becomes a two-slot log.key, a copy-on-write one is
 * moved to a NOCOW file where the filesystem has them, and no other copy of
 * the key is left. */
privaudit_status pa_keys_settle(pa_err *e, int dirfd, pa_keystate *ks);
/* Store next (key index and origin set) in the slot cur does not use, durably,
 * as the key that becomes current once cur is retired. */
privaudit_status pa_keys_prepare(pa_err *e, int dirfd, const pa_keystate *cur,
				 pa_keystate *next);
/* cur signed note: overwrite cur's slot in place with the note and no key,
 * durably.  From then on the prepared key is current.  On failure cur's
 * slot is written back (best effort) and the note must not be used. */
privaudit_status pa_keys_retire(pa_err *e, int dirfd, const pa_keystate *cur, const char *note,
				size_t note_len);
/* Why a key erased in log.key may still be on the device (a copy-on-write
 * or log-structured filesystem, ext4 data=journal), as one line in why;
 * 0 when the filesystem overwrites it in place, 1 when why was filled,
 * -1 when log.key cannot be opened (errno set). */
int pa_keys_erasure_risk(int dirfd, char *why, size_t len);

#endif
