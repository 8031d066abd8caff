/* SPDX-License-Identifier: ISC */
/* state.c: two alternating checksummed slots, so a torn state write leaves
 * the older slot readable. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "state.h"

#define STATE_MAGIC "PRVAUDST"
#define STATE_VERSION 1u
/* The key fields sit after the largest frontier. */
#define STATE_KEYS_AT (120 + PA_TREE_MAXDEPTH * PA_HASH_LEN)

static void encode(unsigned char *b, const pa_state *st)
{
	size_t p = 0;

	memset(b, 0, PA_STATE_SLOT);
	memcpy(b, STATE_MAGIC, 8);
	p = 8;
	pa_store32(b + p, STATE_VERSION);
	p += 8;
	pa_store64(b + p, st->gen);
	p += 8;
	memcpy(b + p, st->log_id, PA_HASH_LEN);
	p += PA_HASH_LEN;
	pa_store64(b + p, st->tree.size);
	pa_store64(b + p + 8, st->segment);
	pa_store64(b + p + 16, st->seg_end);
	pa_store64(b + p + 24, st->seg_first);
	pa_store64(b + p + 32, st->last_ckpt);
	p += 40;
	pa_store32(b + p, st->tree.n);
	p += 8;
	memcpy(b + p, st->tree.node, (size_t)st->tree.n * PA_HASH_LEN);
	p = STATE_KEYS_AT;
	pa_store32(b + p, st->key_known);
	pa_store64(b + p + 4, st->key_index);
	memcpy(b + p + 12, st->key_pk, 32);
	pa_store32(b + p + 44, st->rot_valid);
	pa_store64(b + p + 48, st->rot_size);
	pa_store64(b + p + 56, st->rot_index);
	memcpy(b + p + 64, st->rot_pk, 32);
	pa_store32(b + PA_STATE_SLOT - 4, pa_crc32c(0, b, PA_STATE_SLOT - 4));
}

/* Slot b into *st, which is left untouched when b is not valid. */
static int decode(const unsigned char *b, const unsigned char log_id[PA_HASH_LEN], pa_state *st)
{
	const size_t id_at = 24, size_at = id_at + PA_HASH_LEN, n_at = size_at + 40;
	size_t p;

	if (memcmp(b, STATE_MAGIC, 8) != 0 || pa_load32(b + 8) != STATE_VERSION ||
	    pa_crc32c(0, b, PA_STATE_SLOT - 4) != pa_load32(b + PA_STATE_SLOT - 4))
		return -1;
	if (memcmp(b + id_at, log_id, PA_HASH_LEN) != 0 ||
	    (unsigned)__builtin_popcountll(pa_load64(b + size_at)) != pa_load32(b + n_at))
		return -1;   /* another log's, or a frontier that does not fit its size */
	memset(st, 0, sizeof(*st));
	p = 16;
	st->gen = pa_load64(b + p);
	p += 8;
	memcpy(st->log_id, b + p, PA_HASH_LEN);
	p += PA_HASH_LEN;
	st->tree.size = pa_load64(b + p);
	st->segment = pa_load64(b + p + 8);
	st->seg_end = pa_load64(b + p + 16);
	st->seg_first = pa_load64(b + p + 24);
	st->last_ckpt = pa_load64(b + p + 32);
	p += 40;
	st->tree.n = pa_load32(b + p);
	p += 8;
	memcpy(st->tree.node, b + p, (size_t)st->tree.n * PA_HASH_LEN);
	p = STATE_KEYS_AT;
	st->key_known = pa_load32(b + p);
	st->key_index = pa_load64(b + p + 4);
	memcpy(st->key_pk, b + p + 12, 32);
	st->rot_valid = pa_load32(b + p + 44);
	st->rot_size = pa_load64(b + p + 48);
	st->rot_index = pa_load64(b + p + 56);
	memcpy(st->rot_pk, b + p + 64, 32);
	return 0;
}

/* The slots are read into the heap and decoded straight into *st, newer
 * slot first: 8 KiB of stack (and two more states) would be probed page by
 * page in every fresh process, such as each login through the PAM module. */
int pa_state_read(int fd, const unsigned char log_id[PA_HASH_LEN], pa_state *st)
{
	unsigned char *buf = malloc(2 * PA_STATE_SLOT), *first, *second;
	int rc = -1;

	if (buf == NULL)
		return -1;
	if (pa_pread_full(fd, buf, 2 * PA_STATE_SLOT, 0) == 0) {
		/* gen is at offset 16 in both; a slot that does not decode is
		 * skipped whatever its gen says */
		first = pa_load64(buf + 16) >= pa_load64(buf + PA_STATE_SLOT + 16) ? buf
										 : buf + PA_STATE_SLOT;
		second = first == buf ? buf + PA_STATE_SLOT : buf;
		if (decode(first, log_id, st) == 0 || decode(second, log_id, st) == 0)
			rc = 0;
	}
	free(buf);
	return rc;
}

int pa_state_write(int fd, const pa_state *st)
{
	unsigned char buf[PA_STATE_SLOT];

	encode(buf, st);
	return pa_pwrite_full(fd, buf, sizeof(buf), (off_t)((st->gen & 1u) * PA_STATE_SLOT));
}
