/* SPDX-License-Identifier: ISC */
/* state.h: the writers' cache of where the log ends and of the tree frontier,
 * so that opening and committing never re-read the log.  Never trusted by a
 * verifier; a stale or lost state only costs a scan of the newer frames. */
#ifndef PA_STATE_H
#define PA_STATE_H

#include <stdint.h>

#include "merkle.h"
#include "util.h"

#define PA_STATE_FILE "state"
#define PA_STATE_SLOT 4096

typedef struct pa_state {
	uint64_t gen;
	unsigned char log_id[PA_HASH_LEN];
	pa_tree tree;
	uint64_t segment;         /* current (last) segment number */
	uint64_t seg_end;         /* end of the last complete frame in it */
	uint64_t seg_first;       /* index of its first record */
	uint64_t last_ckpt;       /* tree size of the newest checkpoint record */
	/* The key that must sign the next checkpoint, as the log says (from
	 * genesis, or the rotation the newest checkpoint sealed), so that a
	 * replayed or foreign log.key is refused instead of breaking the chain. */
	uint32_t key_known;
	uint64_t key_index;
	unsigned char key_pk[32];
	/* The newest rotation record, until a checkpoint seals it. */
	uint32_t rot_valid;
	uint64_t rot_size, rot_index;
	unsigned char rot_pk[32];
} pa_state;

/* The newest valid slot for this log id: 0, or -1 when none is. */
int pa_state_read(int fd, const unsigned char log_id[PA_HASH_LEN], pa_state *st);
/* Write st into the slot its generation selects (no sync: see above). */
int pa_state_write(int fd, const pa_state *st);

#endif
