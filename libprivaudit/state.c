/* state.c: two alternating checksummed slots, so a torn state write leaves
 * the older slot readable. */
#include "config.h"

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

static int decode(const unsigned char *b, const unsigned char log_id[PA_HASH_LEN], pa_state *st)
{
	size_t p;

	if (memcmp(b, STATE_MAGIC, 8) != 0 || pa_load32(b + 8) != STATE_VERSION ||
	    pa_crc32c(0, b, PA_STATE_SLOT - 4) != pa_load32(b + PA_STATE_SLOT - 4))
		return -1;
	memset(st, 0, sizeof(*st));
	p = 16;
	st->gen = pa_load64(b + p);
	p += 8;
	memcpy(st->log_id, b + p, PA_HASH_LEN);
	if (memcmp(st->log_id, log_id, PA_HASH_LEN) != 0)
		return -1;
	p += PA_HASH_LEN;
	st->tree.size = pa_load64(b + p);
	st->segment = pa_load64(b + p + 8);
	st->seg_end = pa_load64(b + p + 16);
	st->seg_first = pa_load64(b + p + 24);
	st->last_ckpt = pa_load64(b + p + 32);
	p += 40;
	st->tree.n = pa_load32(b + p);
	p += 8;
	if (st->tree.n > PA_TREE_MAXDEPTH || pa_tree_check(&st->tree) < 0)
		return -1;
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

int pa_state_read(int fd, const unsigned char log_id[PA_HASH_LEN], pa_state *st)
{
	unsigned char buf[2 * PA_STATE_SLOT];
	pa_state a, b;
	int ha, hb;

	if (pa_pread_full(fd, buf, sizeof(buf), 0) < 0)
		return -1;
	ha = decode(buf, log_id, &a) == 0;
	hb = decode(buf + PA_STATE_SLOT, log_id, &b) == 0;
	if (ha && (!hb || a.gen >= b.gen))
		*st = a;
	else if (hb)
		*st = b;
	else
		return -1;
	return 0;
}

int pa_state_write(int fd, const pa_state *st)
{
	unsigned char buf[PA_STATE_SLOT];

	encode(buf, st);
	return pa_pwrite_full(fd, buf, sizeof(buf), (off_t)((st->gen & 1u) * PA_STATE_SLOT));
}
