/* SPDX-License-Identifier: ISC */
/* chain.h: the checks a log's records must pass one at a time, in index
 * order: the genesis record, the key rotation chain and each checkpoint's
 * signature and root.  The verifier (verify.c) runs it over segments, the
 * collector (mirror.c) over records as they arrive; its state is plain data,
 * so the collector can keep it between runs. */
#ifndef PA_CHAIN_H
#define PA_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "merkle.h"
#include "note.h"
#include "record.h"

/* Rotations never followed by their checkpoint (a crashed seal) are
 * forgotten, oldest first, beyond this many. */
#define PA_CHAIN_ROTATIONS 64

typedef struct pa_rotation {
	uint64_t size;                /* tree size after the rotation record */
	unsigned char root[PA_HASH_LEN];
	uint64_t key_index;
	unsigned char next_pk[crypto_sign_PUBLICKEYBYTES];
} pa_rotation;

typedef struct pa_chain {
	/* what the log must be */
	int have_pin;
	char pin_name[PA_ORIGIN_MAX];
	unsigned char pin_pk[crypto_sign_PUBLICKEYBYTES];
	/* what it is so far */
	int have_genesis;
	int pinned;                   /* the genesis key matched the pin */
	char origin[PA_ORIGIN_MAX];
	unsigned char log_id[PA_HASH_LEN];
	pa_tree tree;                 /* every record accepted */
	unsigned char cur_pk[crypto_sign_PUBLICKEYBYTES];
	uint64_t cur_key_index;
	unsigned char signer_pk[crypto_sign_PUBLICKEYBYTES];   /* signed the newest checkpoint */
	pa_rotation rot[PA_CHAIN_ROTATIONS];
	size_t nrot;
	uint64_t checkpoints;         /* checkpoints verified */
	uint64_t sealed;              /* tree size of the newest one */
	uint64_t sealed_at;           /* index of its record */
	int64_t newest_time;          /* its signed time, -1 for none */
	unsigned char newest_root[PA_HASH_LEN];
	uint64_t started_at;          /* not 0: started from the segment_start record there */
	uint64_t anchor_at;           /* the last segment_start that matched the tree */
	/* the last failure */
	uint64_t bad_index;           /* first bad record */
	int bad_here;                 /* 1: the record checked; 0: an earlier one */
	char detail[768];
} pa_chain;

void pa_chain_init(pa_chain *c);
/* The first key the log must have (a verifier key line's name and key). */
void pa_chain_pin(pa_chain *c, const char *name, const unsigned char pk[crypto_sign_PUBLICKEYBYTES]);
/* The log id a log of this origin and first key has. */
void pa_chain_log_id(const char *origin, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		     unsigned char id[PA_HASH_LEN]);

/* Check record `index` (== c->tree.size), decoded from an entry whose leaf
 * hash is `leaf`, against everything before it, then add it to the tree.
 * seg_log_id, when not NULL, is the log id the record was found under.  On
 * failure nothing is added and c->detail, c->bad_index and c->bad_here say
 * what and where. */
privaudit_status pa_chain_add(pa_chain *c, uint64_t index, const pa_record *rec,
			      const unsigned char leaf[PA_HASH_LEN],
			      const unsigned char *seg_log_id);

/* Start at record index, a segment_start record (the records before it
 * archived), from what it says: the tree's frontier, the log and the key
 * the next checkpoint is due from.  Nothing before it is checked: only a
 * trusted note, or the archive, says those records are the log's.  A pin
 * is checked against the log id.  Then pa_chain_add the record itself. */
privaudit_status pa_chain_start_at(pa_chain *c, uint64_t index, const pa_record *rec,
				   const unsigned char seg_log_id[PA_HASH_LEN]);

/* The chain's state as bytes, to keep between runs (not evidence: it is
 * rebuilt from the records when it does not load). */
#define PA_CHAIN_SAVED_MAX (4096 + sizeof(pa_chain))
size_t pa_chain_save(const pa_chain *c, unsigned char *buf);
int pa_chain_load(pa_chain *c, const unsigned char *buf, size_t len);

#endif
