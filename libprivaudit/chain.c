/* SPDX-License-Identifier: ISC */
/* chain.c: one record at a time, the checks that make a log verifiable from
 * its first key: genesis, key rotations, and each checkpoint's signature by
 * the key of the chain and its root over the records before it. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "util.h"

static privaudit_status fail(pa_chain *c, privaudit_status st, uint64_t index, int here,
			     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static privaudit_status fail(pa_chain *c, privaudit_status st, uint64_t index, int here,
			     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	c->bad_index = index;
	c->bad_here = here;
	return st;
}

void pa_chain_init(pa_chain *c)
{
	int have_pin = c->have_pin;
	char name[PA_ORIGIN_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	/* A pin survives a restart of the walk. */
	memcpy(name, c->pin_name, sizeof(name));
	memcpy(pk, c->pin_pk, sizeof(pk));
	memset(c, 0, sizeof(*c));
	pa_tree_init(&c->tree);
	c->newest_time = -1;
	if (have_pin)
		pa_chain_pin(c, name, pk);
}

void pa_chain_pin(pa_chain *c, const char *name, const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	c->have_pin = 1;
	snprintf(c->pin_name, sizeof(c->pin_name), "%s", name);
	memcpy(c->pin_pk, pk, crypto_sign_PUBLICKEYBYTES);
}

void pa_chain_log_id(const char *origin, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		     unsigned char id[PA_HASH_LEN])
{
	unsigned char buf[PA_ORIGIN_MAX + 32 + crypto_sign_PUBLICKEYBYTES];
	size_t ol = strnlen(origin, PA_ORIGIN_MAX - 1);

	memcpy(buf, "privaudit log id\n", 17);
	memcpy(buf + 17, origin, ol);
	buf[17 + ol] = '\n';
	memcpy(buf + 18 + ol, pk, crypto_sign_PUBLICKEYBYTES);
	pa_sha256(id, buf, 18 + ol + crypto_sign_PUBLICKEYBYTES);
}

static privaudit_status genesis(pa_chain *c, const pa_record *rec, const unsigned char *seg_log_id)
{
	const Privaudit__Genesis *g = rec->genesis;
	unsigned char id[PA_HASH_LEN];
	size_t ol;

	if (rec->body_case != PRIVAUDIT__RECORD__BODY_GENESIS)
		return fail(c, PRIVAUDIT_E_FORMAT, 0, 1, "record 0 is %s, not the genesis record",
			    pa_record_kind_name(rec));
	ol = g->origin ? strlen(g->origin) : 0;
	if (g->public_key.len != crypto_sign_PUBLICKEYBYTES || ol == 0 || ol >= PA_ORIGIN_MAX)
		return fail(c, PRIVAUDIT_E_FORMAT, 0, 1, "genesis record malformed");
	pa_chain_log_id(g->origin, g->public_key.data, id);
	if (seg_log_id != NULL && memcmp(id, seg_log_id, PA_HASH_LEN) != 0)
		return fail(c, PRIVAUDIT_E_FOREIGN, 0, 1,
			    "genesis record does not match the log id in the segment header");
	if (c->have_pin) {
		if (strcmp(c->pin_name, g->origin) != 0 ||
		    memcmp(c->pin_pk, g->public_key.data, crypto_sign_PUBLICKEYBYTES) != 0)
			return fail(c, PRIVAUDIT_E_PINNED_KEY, 0, 1,
				    "the log's first key is %s, not the pinned key", g->origin);
		c->pinned = 1;
	}
	memcpy(c->origin, g->origin, ol + 1);
	memcpy(c->log_id, id, PA_HASH_LEN);
	memcpy(c->cur_pk, g->public_key.data, crypto_sign_PUBLICKEYBYTES);
	c->cur_key_index = 0;
	c->have_genesis = 1;
	return PRIVAUDIT_OK;
}

static privaudit_status rotation(pa_chain *c, const pa_record *rec, uint64_t index,
				 const unsigned char leaf[PA_HASH_LEN])
{
	const Privaudit__KeyRotation *k = rec->key_rotation;
	pa_rotation *r;
	pa_tree t;

	if (k->next_public_key.len != crypto_sign_PUBLICKEYBYTES)
		return fail(c, PRIVAUDIT_E_FORMAT, index, 1, "key rotation record malformed");
	if (c->nrot == PA_CHAIN_ROTATIONS) {
		/* Rotations never followed by a checkpoint (a crashed seal):
		 * forget the oldest. */
		memmove(c->rot, c->rot + 1, sizeof(c->rot[0]) * (PA_CHAIN_ROTATIONS - 1));
		c->nrot--;
	}
	r = &c->rot[c->nrot++];
	r->key_index = k->key_index;
	memcpy(r->next_pk, k->next_public_key.data, crypto_sign_PUBLICKEYBYTES);
	/* Root of the tree that includes this record. */
	t = c->tree;
	pa_tree_append(&t, leaf);
	pa_tree_root(&t, r->root);
	r->size = t.size;
	return PRIVAUDIT_OK;
}

static privaudit_status checkpoint(pa_chain *c, const pa_record *rec, uint64_t index)
{
	const Privaudit__Checkpoint *cp = rec->checkpoint;
	const pa_rotation *r = NULL;
	unsigned char kh[4];
	privaudit_status st;
	pa_note n;

	st = pa_note_parse((const char *)cp->note.data, cp->note.len, &n);
	if (st != PRIVAUDIT_OK)
		return fail(c, PRIVAUDIT_E_SIGNATURE, index, 1,
			    "checkpoint record %" PRIu64 " holds a malformed note", index);
	if (strcmp(n.origin, c->origin) != 0) {
		st = fail(c, PRIVAUDIT_E_FOREIGN, index, 1,
			  "checkpoint note names origin \"%.100s\", not this log's", n.origin);
		goto out;
	}
	if (n.size != cp->tree_size || cp->root_hash.len != PA_HASH_LEN ||
	    memcmp(n.root, cp->root_hash.data, PA_HASH_LEN) != 0 || n.size > index) {
		st = fail(c, PRIVAUDIT_E_FORMAT, index, 1,
			  "checkpoint record %" PRIu64 " disagrees with its own note", index);
		goto out;
	}
	if (n.size <= c->sealed && c->checkpoints > 0) {
		st = fail(c, PRIVAUDIT_E_SEQUENCE, index, 1,
			  "checkpoint for %" PRIu64 " records comes after one for %" PRIu64, n.size,
			  c->sealed);
		goto out;
	}
	/* Key id before signature. */
	pa_keyhash(c->origin, c->cur_pk, kh);
	if (!pa_note_has_key(&n, c->origin, kh)) {
		st = fail(c, PRIVAUDIT_E_SIGNATURE, index, 1,
			  "checkpoint at record %" PRIu64 " is not signed by key %" PRIu64
			  " of the rotation chain",
			  index, c->cur_key_index);
		goto out;
	}
	if (pa_note_verify(&n, c->origin, c->cur_pk) != 0) {
		st = fail(c, PRIVAUDIT_E_SIGNATURE, index, 1,
			  "bad signature on the checkpoint at record %" PRIu64, index);
		goto out;
	}
	if (cp->key_index != c->cur_key_index) {
		st = fail(c, PRIVAUDIT_E_CHAIN, index, 1,
			  "checkpoint says key %" PRIu64 ", the chain is at key %" PRIu64,
			  cp->key_index, c->cur_key_index);
		goto out;
	}
	for (size_t i = 0; i < c->nrot; i++)
		if (c->rot[i].size == n.size)
			r = &c->rot[i];
	if (r == NULL) {
		/* Either the rotation record was removed or altered, or the
		 * checkpoint does not cover what the log holds. */
		st = fail(c, n.size > 0 ? PRIVAUDIT_E_ROOT : PRIVAUDIT_E_CHAIN, c->sealed, 0,
			  "records %" PRIu64 "..%" PRIu64 " do not match the checkpoint at record %" PRIu64
			  " (no key rotation record ends them)",
			  c->sealed, n.size ? n.size - 1 : 0, index);
		goto out;
	}
	if (memcmp(r->root, n.root, PA_HASH_LEN) != 0) {
		st = fail(c, PRIVAUDIT_E_ROOT, c->sealed, 0,
			  "records %" PRIu64 "..%" PRIu64 " do not hash to the root signed at record %" PRIu64,
			  c->sealed, n.size - 1, index);
		goto out;
	}
	if (r->key_index != c->cur_key_index + 1) {
		st = fail(c, PRIVAUDIT_E_CHAIN, n.size - 1, 0,
			  "key rotation to key %" PRIu64 " where key %" PRIu64 " was due", r->key_index,
			  c->cur_key_index + 1);
		goto out;
	}
	/* The signed tree committed to the next key: move the chain on. */
	memcpy(c->signer_pk, c->cur_pk, crypto_sign_PUBLICKEYBYTES);
	memcpy(c->cur_pk, r->next_pk, crypto_sign_PUBLICKEYBYTES);
	c->cur_key_index = r->key_index;
	{
		size_t keep = 0;

		for (size_t i = 0; i < c->nrot; i++)
			if (c->rot[i].size > n.size)
				c->rot[keep++] = c->rot[i];
		c->nrot = keep;
	}
	c->checkpoints++;
	c->sealed = n.size;
	c->sealed_at = index;
	c->newest_time = n.time;
	memcpy(c->newest_root, n.root, PA_HASH_LEN);
	st = PRIVAUDIT_OK;
out:
	pa_note_free(&n);
	return st;
}

/* A segment_start record must say what the records before it make: the
 * tree's frontier, the log, and the key the next checkpoint is due from. */
static privaudit_status segment_start(pa_chain *c, const pa_record *rec, uint64_t index)
{
	const Privaudit__SegmentStart *s = rec->segment_start;
	/* The damage lies after what a checkpoint or an earlier segment_start
	 * vouched for; name the first record of that range. */
	uint64_t from = c->sealed > c->anchor_at ? c->sealed : c->anchor_at;
	int same = s->n_frontier == c->tree.n;

	for (size_t i = 0; same && i < s->n_frontier; i++)
		same = s->frontier[i].len == PA_HASH_LEN &&
		       memcmp(s->frontier[i].data, c->tree.node[i], PA_HASH_LEN) == 0;
	if (!same)
		return fail(c, PRIVAUDIT_E_ROOT, from, 0,
			    "records %" PRIu64 "..%" PRIu64 " do not hash to the frontier in the "
			    "segment_start record %" PRIu64,
			    from, index ? index - 1 : 0, index);
	if ((s->log_id.len != 0 && (s->log_id.len != PA_HASH_LEN ||
				    memcmp(s->log_id.data, c->log_id, PA_HASH_LEN) != 0)) ||
	    (s->origin != NULL && s->origin[0] != '\0' && strcmp(s->origin, c->origin) != 0))
		return fail(c, PRIVAUDIT_E_FOREIGN, index, 1,
			    "segment_start record %" PRIu64 " names another log", index);
	if (s->public_key.len != 0 &&
	    (s->public_key.len != crypto_sign_PUBLICKEYBYTES || s->key_index != c->cur_key_index ||
	     memcmp(s->public_key.data, c->cur_pk, crypto_sign_PUBLICKEYBYTES) != 0))
		return fail(c, PRIVAUDIT_E_CHAIN, index, 1,
			    "segment_start record %" PRIu64 " names key %" PRIu64
			    ", the chain is at key %" PRIu64,
			    index, s->key_index, c->cur_key_index);
	c->anchor_at = index;
	return PRIVAUDIT_OK;
}

privaudit_status pa_chain_start_at(pa_chain *c, uint64_t index, const pa_record *rec,
				   const unsigned char seg_log_id[PA_HASH_LEN])
{
	const Privaudit__SegmentStart *s;
	unsigned char id[PA_HASH_LEN];
	size_t ol;

	if (rec->body_case != PRIVAUDIT__RECORD__BODY_SEGMENT_START)
		return fail(c, PRIVAUDIT_E_NOLOG, index, 1,
			    "record %" PRIu64 " is %s, not a segment_start record to start from",
			    index, pa_record_kind_name(rec));
	s = rec->segment_start;
	ol = s->origin != NULL ? strlen(s->origin) : 0;
	if (ol == 0 || ol >= PA_ORIGIN_MAX || s->public_key.len != crypto_sign_PUBLICKEYBYTES ||
	    s->log_id.len != PA_HASH_LEN || s->n_frontier != (size_t)__builtin_popcountll(index) ||
	    s->n_frontier > PA_TREE_MAXDEPTH)
		return fail(c, PRIVAUDIT_E_FORMAT, index, 1,
			    "segment_start record %" PRIu64 " is incomplete: cannot start from it", index);
	if (memcmp(s->log_id.data, seg_log_id, PA_HASH_LEN) != 0)
		return fail(c, PRIVAUDIT_E_FOREIGN, index, 1,
			    "segment_start record %" PRIu64 " is of another log than its segment", index);
	if (c->have_pin) {
		pa_chain_log_id(c->pin_name, c->pin_pk, id);
		if (memcmp(id, s->log_id.data, PA_HASH_LEN) != 0)
			return fail(c, PRIVAUDIT_E_PINNED_KEY, index, 1,
				    "the log's first key is not the pinned key (log id)");
		c->pinned = 1;
	}
	c->tree.size = index;
	c->tree.n = (unsigned)s->n_frontier;
	for (size_t i = 0; i < s->n_frontier; i++) {
		if (s->frontier[i].len != PA_HASH_LEN)
			return fail(c, PRIVAUDIT_E_FORMAT, index, 1,
				    "segment_start record %" PRIu64 " frontier malformed", index);
		memcpy(c->tree.node[i], s->frontier[i].data, PA_HASH_LEN);
	}
	memcpy(c->origin, s->origin, ol + 1);
	memcpy(c->log_id, s->log_id.data, PA_HASH_LEN);
	memcpy(c->cur_pk, s->public_key.data, crypto_sign_PUBLICKEYBYTES);
	c->cur_key_index = s->key_index;
	c->have_genesis = 1;
	c->started_at = index;
	return PRIVAUDIT_OK;
}

privaudit_status pa_chain_add(pa_chain *c, uint64_t index, const pa_record *rec,
			      const unsigned char leaf[PA_HASH_LEN],
			      const unsigned char *seg_log_id)
{
	privaudit_status st = PRIVAUDIT_OK;

	if (index != c->tree.size)
		return fail(c, PRIVAUDIT_E_SEQUENCE, c->tree.size, 1,
			    "record %" PRIu64 " where %" PRIu64 " was due", index, c->tree.size);
	if (index == 0 && !c->have_genesis)
		st = genesis(c, rec, seg_log_id);
	else if (rec->body_case == PRIVAUDIT__RECORD__BODY_GENESIS)
		st = fail(c, PRIVAUDIT_E_FORMAT, index, 1, "second genesis record at %" PRIu64, index);
	else if (rec->body_case == PRIVAUDIT__RECORD__BODY_KEY_ROTATION)
		st = rotation(c, rec, index, leaf);
	else if (rec->body_case == PRIVAUDIT__RECORD__BODY_CHECKPOINT)
		st = checkpoint(c, rec, index);
	else if (rec->body_case == PRIVAUDIT__RECORD__BODY_SEGMENT_START)
		st = segment_start(c, rec, index);
	if (st == PRIVAUDIT_OK)
		pa_tree_append(&c->tree, leaf);
	return st;
}

/* Saved form: "PACHAIN1", then every field big-endian, then a SHA-256 of
 * all before it.  The pin is not saved: the caller pins again. */
#define SAVE_MAGIC "PACHAIN1"

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	pa_store64(p, v);
	return p + 8;
}

static unsigned char *put(unsigned char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

size_t pa_chain_save(const pa_chain *c, unsigned char *buf)
{
	unsigned char *p = buf;

	p = put(p, SAVE_MAGIC, 8);
	p = put64(p, (uint64_t)c->have_genesis);
	p = put64(p, (uint64_t)c->pinned);
	p = put(p, c->origin, PA_ORIGIN_MAX);
	p = put(p, c->log_id, PA_HASH_LEN);
	p = put64(p, c->tree.size);
	p = put64(p, c->tree.n);
	p = put(p, c->tree.node, (size_t)c->tree.n * PA_HASH_LEN);
	p = put(p, c->cur_pk, crypto_sign_PUBLICKEYBYTES);
	p = put64(p, c->cur_key_index);
	p = put(p, c->signer_pk, crypto_sign_PUBLICKEYBYTES);
	p = put64(p, c->nrot);
	for (size_t i = 0; i < c->nrot; i++) {
		p = put64(p, c->rot[i].size);
		p = put(p, c->rot[i].root, PA_HASH_LEN);
		p = put64(p, c->rot[i].key_index);
		p = put(p, c->rot[i].next_pk, crypto_sign_PUBLICKEYBYTES);
	}
	p = put64(p, c->checkpoints);
	p = put64(p, c->sealed);
	p = put64(p, c->sealed_at);
	p = put64(p, (uint64_t)c->newest_time);
	p = put(p, c->newest_root, PA_HASH_LEN);
	pa_sha256(p, buf, (size_t)(p - buf));
	return (size_t)(p - buf) + PA_HASH_LEN;
}

typedef struct rd {
	const unsigned char *p, *end;
	int bad;
} rd;

static uint64_t get64(rd *r)
{
	uint64_t v;

	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	v = pa_load64(r->p);
	r->p += 8;
	return v;
}

static void get(rd *r, void *dst, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p, n);
	r->p += n;
}

int pa_chain_load(pa_chain *c, const unsigned char *buf, size_t len)
{
	unsigned char sum[PA_HASH_LEN];
	rd r;

	if (len < 8 + PA_HASH_LEN || memcmp(buf, SAVE_MAGIC, 8) != 0)
		return -1;
	pa_sha256(sum, buf, len - PA_HASH_LEN);
	if (memcmp(sum, buf + len - PA_HASH_LEN, PA_HASH_LEN) != 0)
		return -1;
	pa_chain_init(c);
	r.p = buf + 8;
	r.end = buf + len - PA_HASH_LEN;
	r.bad = 0;
	c->have_genesis = get64(&r) != 0;
	c->pinned = get64(&r) != 0;
	get(&r, c->origin, PA_ORIGIN_MAX);
	c->origin[PA_ORIGIN_MAX - 1] = '\0';
	get(&r, c->log_id, PA_HASH_LEN);
	c->tree.size = get64(&r);
	{
		uint64_t n = get64(&r);

		if (n > PA_TREE_MAXDEPTH)
			return -1;
		c->tree.n = (unsigned)n;
	}
	get(&r, c->tree.node, (size_t)c->tree.n * PA_HASH_LEN);
	if (pa_tree_check(&c->tree) != 0)
		return -1;
	get(&r, c->cur_pk, crypto_sign_PUBLICKEYBYTES);
	c->cur_key_index = get64(&r);
	get(&r, c->signer_pk, crypto_sign_PUBLICKEYBYTES);
	c->nrot = get64(&r);
	if (c->nrot > PA_CHAIN_ROTATIONS)
		return -1;
	for (size_t i = 0; i < c->nrot; i++) {
		c->rot[i].size = get64(&r);
		get(&r, c->rot[i].root, PA_HASH_LEN);
		c->rot[i].key_index = get64(&r);
		get(&r, c->rot[i].next_pk, crypto_sign_PUBLICKEYBYTES);
	}
	c->checkpoints = get64(&r);
	c->sealed = get64(&r);
	c->sealed_at = get64(&r);
	c->newest_time = (int64_t)get64(&r);
	get(&r, c->newest_root, PA_HASH_LEN);
	if (r.bad || r.p != r.end || (c->pinned && !c->have_pin))
		return -1;
	if (c->have_pin && c->have_genesis) {
		unsigned char id[PA_HASH_LEN];

		pa_chain_log_id(c->pin_name, c->pin_pk, id);
		if (memcmp(id, c->log_id, PA_HASH_LEN) != 0)
			return -1;
	}
	return 0;
}
