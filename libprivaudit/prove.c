/* SPDX-License-Identifier: ISC */
/* prove.c: self-contained proofs that records are in a log, checked with
 * only the log's first public key.  A proof carries the chain of signed
 * checkpoints from the first key to the one that signed the checkpoint
 * proved against: each checkpoint ends with the key rotation record naming
 * the next key (with its inclusion proof) and extends the one before it
 * (consistency proof), so a holder of a later key cannot rewrite what an
 * earlier checkpoint sealed.  Format: privaudit-log(5), "Proofs". */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "merkle.h"
#include "note.h"
#include "reader.h"

#define PROOF_HEADER "privaudit-proof 1"
#define PROOF_MAX_CHAIN 10000000u

/* ------------------------------------------------------------ building */

typedef struct ck_info {
	uint64_t size, key_index;
	char *note;
	size_t note_len;
} ck_info;

typedef struct collect {
	unsigned char genesis_pk[crypto_sign_PUBLICKEYBYTES];
	ck_info *ck;                 /* the log's checkpoints, in order */
	size_t nck, capck;
	unsigned char (*rot_pk)[crypto_sign_PUBLICKEYBYTES];
	uint64_t *rot_index, *rot_key;
	size_t nrot, caprot;
	int failed;
} collect;

static void collect_free(collect *c)
{
	for (size_t i = 0; i < c->nck; i++)
		free(c->ck[i].note);
	free(c->ck);
	free(c->rot_pk);
	free(c->rot_index);
	free(c->rot_key);
}

static void on_record(void *arg, uint64_t index, const unsigned char *entry, size_t len,
		      const pa_record *rec)
{
	collect *c = arg;

	(void)entry;
	(void)len;
	if (c->failed)
		return;
	if (rec->body_case == PRIVAUDIT__RECORD__BODY_GENESIS &&
	    rec->genesis->public_key.len == crypto_sign_PUBLICKEYBYTES) {
		memcpy(c->genesis_pk, rec->genesis->public_key.data, crypto_sign_PUBLICKEYBYTES);
	} else if (rec->body_case == PRIVAUDIT__RECORD__BODY_CHECKPOINT) {
		ck_info *k;

		if (c->nck == c->capck) {
			size_t cap = c->capck ? c->capck * 2 : 64;
			ck_info *n = realloc(c->ck, cap * sizeof(*n));

			if (n == NULL) {
				c->failed = 1;
				return;
			}
			c->ck = n;
			c->capck = cap;
		}
		k = &c->ck[c->nck];
		k->size = rec->checkpoint->tree_size;
		k->key_index = rec->checkpoint->key_index;
		k->note = malloc(rec->checkpoint->note.len + 1);
		if (k->note == NULL) {
			c->failed = 1;
			return;
		}
		memcpy(k->note, rec->checkpoint->note.data, rec->checkpoint->note.len);
		k->note[rec->checkpoint->note.len] = '\0';
		k->note_len = rec->checkpoint->note.len;
		c->nck++;
	} else if (rec->body_case == PRIVAUDIT__RECORD__BODY_KEY_ROTATION &&
		   rec->key_rotation->next_public_key.len == crypto_sign_PUBLICKEYBYTES) {
		if (c->nrot == c->caprot) {
			size_t cap = c->caprot ? c->caprot * 2 : 64;
			void *a = realloc(c->rot_pk, cap * crypto_sign_PUBLICKEYBYTES);
			void *b = a ? realloc(c->rot_index, cap * sizeof(uint64_t)) : NULL;
			void *d = b ? realloc(c->rot_key, cap * sizeof(uint64_t)) : NULL;

			if (a != NULL)
				c->rot_pk = a;
			if (b != NULL)
				c->rot_index = b;
			if (d == NULL) {
				c->failed = 1;
				return;
			}
			c->rot_key = d;
			c->caprot = cap;
		}
		memcpy(c->rot_pk[c->nrot], rec->key_rotation->next_public_key.data,
		       crypto_sign_PUBLICKEYBYTES);
		c->rot_index[c->nrot] = index;
		c->rot_key[c->nrot] = rec->key_rotation->key_index;
		c->nrot++;
	}
}

/* The chain's public keys: key 0 is the genesis key, key k the one named
 * by the rotation record that ends the checkpoint signed by key k-1.  Both
 * lists are in log order, so one pass pairs them.  NULL when out of memory;
 * a missing key is a NULL entry. */
static const unsigned char **chain_keys(const collect *c)
{
	const unsigned char **keys = calloc(c->nck + 1, sizeof(*keys));
	size_t i = 0;

	if (keys == NULL)
		return NULL;
	keys[0] = c->genesis_pk;
	for (size_t k = 1; k <= c->nck; k++) {
		uint64_t at = c->ck[k - 1].size - 1;

		while (i < c->nrot && c->rot_index[i] < at)
			i++;
		if (i < c->nrot && c->rot_index[i] == at && c->rot_key[i] == k)
			keys[k] = c->rot_pk[i];
	}
	return keys;
}

typedef struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	sb_put(b, tmp, (size_t)n);
}

static void sb_b64(sbuf *b, const void *data, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = malloc(n);

	if (tmp == NULL) {
		b->failed = 1;
		return;
	}
	sodium_bin2base64(tmp, n, data, len, sodium_base64_VARIANT_ORIGINAL);
	sb_put(b, tmp, strlen(tmp));
	free(tmp);
}

/* "<word>" then each hash in base64, on one line. */
static void sb_path(sbuf *b, const char *word, const unsigned char (*path)[PA_HASH_LEN], int n)
{
	sb_put(b, word, strlen(word));
	for (int i = 0; i < n; i++) {
		sb_put(b, " ", 1);
		sb_b64(b, path[i], PA_HASH_LEN);
	}
	sb_put(b, "\n", 1);
}

static void sb_note(sbuf *b, const char *note, size_t len)
{
	sb_put(b, "checkpoint ", 11);
	sb_b64(b, note, len);
	sb_put(b, "\n", 1);
}

/* Which key of the chain signs the note: -1 when none.  The key hash on
 * the signature line picks the candidates; only they are verified. */
static int64_t signer(const collect *c, const unsigned char **keys, const pa_note *n,
		      const char *origin)
{
	unsigned char kh[4];

	for (uint64_t k = c->nck + 1; k-- > 0;) {
		if (keys[k] == NULL)
			continue;
		pa_keyhash(origin, keys[k], kh);
		if (pa_note_has_key(n, origin, kh) && pa_note_verify(n, origin, keys[k]) == 0)
			return (int64_t)k;
	}
	return -1;
}

/* The newest checkpoint, as the checkpoint file holds it when that is the
 * same checkpoint: the file may carry witness cosignatures, which the
 * proof then carries too.  Otherwise the note of its record. */
static privaudit_status newest_note(privaudit_reader *r, const ck_info *newest, pa_note *out)
{
	char *text = NULL;
	size_t len = 0;

	if (pa_read_file(NULL, r->dirfd, PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, &text, &len) ==
	    PRIVAUDIT_OK) {
		pa_note fn, rn;
		int same = 0;

		if (pa_note_parse(text, len, &fn) == PRIVAUDIT_OK) {
			if (pa_note_parse(newest->note, newest->note_len, &rn) == PRIVAUDIT_OK) {
				same = fn.body_len == rn.body_len &&
				       memcmp(fn.text, rn.text, fn.body_len) == 0;
				pa_note_free(&rn);
			}
			if (same) {
				free(text);
				*out = fn;   /* its signature is checked like any target's */
				return PRIVAUDIT_OK;
			}
			pa_note_free(&fn);
		}
		free(text);
	}
	return pa_note_parse(newest->note, newest->note_len, out);
}

static privaudit_status write_chain(privaudit_reader *r, const collect *c, const pa_levels *lv,
				    uint64_t target_key, uint64_t target_size, sbuf *b)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];
	uint64_t prev = 0;
	int n;

	for (uint64_t k = 0; k < target_key; k++) {
		const ck_info *ck;
		const privaudit_record *rec;
		privaudit_status st;

		if (k >= c->nck || c->ck[k].key_index != k || c->ck[k].size == 0 ||
		    c->ck[k].size > target_size)
			return pa_fail(&r->err, PRIVAUDIT_E_CHAIN,
				       "no checkpoint signed by key %" PRIu64 " to chain through", k);
		ck = &c->ck[k];
		sb_note(b, ck->note, ck->note_len);
		if (k > 0) {
			n = pa_levels_consistency_proof(lv, ck->size, prev, path);
			if (n < 0)
				return pa_fail(&r->err, PRIVAUDIT_E_CHAIN, "checkpoints out of order");
			sb_path(b, "consistency", (const unsigned char (*)[PA_HASH_LEN])path, n);
		}
		st = privaudit_reader_get(r, ck->size - 1, &rec);
		if (st != PRIVAUDIT_OK)
			return st;
		if (strcmp(privaudit_record_kind(rec), "key_rotation") != 0)
			return pa_fail(&r->err, PRIVAUDIT_E_CHAIN,
				       "checkpoint %" PRIu64 " does not end with a key rotation", k);
		sb_printf(b, "rotation %" PRIu64 " ", ck->size - 1);
		sb_b64(b, rec->entry, rec->len);
		sb_put(b, "\n", 1);
		n = pa_levels_inclusion_proof(lv, ck->size, ck->size - 1, path);
		sb_path(b, "inclusion", (const unsigned char (*)[PA_HASH_LEN])path, n < 0 ? 0 : n);
		prev = ck->size;
	}
	(void)prev;
	return PRIVAUDIT_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_prove(privaudit_reader *r, const uint64_t *indexes,
						  size_t count, const char *checkpoint,
						  size_t checkpoint_len, char **proof, size_t *len,
						  size_t *proved)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN], root[PA_HASH_LEN];
	const unsigned char (*leaves)[PA_HASH_LEN];
	const privaudit_verify_report *rep = NULL;
	collect c;
	pa_levels lv;
	pa_note target;
	sbuf b = {NULL, 0, 0, 0};
	privaudit_status st;
	uint64_t nleaves, target_key, prev_size, *sorted = NULL;
	const unsigned char **keys = NULL;
	int64_t k;
	int n, have_levels = 0, have_note = 0;

	if (r == NULL || (indexes == NULL && count > 0) || proof == NULL || len == NULL ||
	    proved == NULL)
		return PRIVAUDIT_E_INVAL;
	*proof = NULL;
	*len = 0;
	*proved = 0;
	memset(&c, 0, sizeof(c));
	st = pa_reader_verify_hooked(r, NULL, on_record, &c, &rep);
	if (rep == NULL)
		goto out;
	if (st != PRIVAUDIT_OK) {
		pa_fail(&r->err, st, "the log does not verify: %s", rep->detail);
		goto out;
	}
	if (c.failed || c.nck == 0) {
		st = c.failed ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_NOTFOUND;
		pa_fail(&r->err, st, c.failed ? "out of memory" : "the log has no checkpoint yet");
		goto out;
	}
	if (rep->started_at > 0) {
		/* an inclusion proof needs every leaf from record 0 */
		st = pa_fail(&r->err, PRIVAUDIT_E_NOLOG,
			     "records before %" PRIu64 " are archived: proofs need the whole log", rep->started_at);
		goto out;
	}
	leaves = pa_verifier_leaves(r->ver, &nleaves);
	if (pa_levels_build(&lv, leaves, nleaves) < 0) {
		st = pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	have_levels = 1;
	if (checkpoint != NULL) {
		st = pa_note_parse(checkpoint, checkpoint_len, &target);
		if (st != PRIVAUDIT_OK) {
			pa_fail(&r->err, st, "the checkpoint given is not a signed note");
			goto out;
		}
	} else {
		st = newest_note(r, &c.ck[c.nck - 1], &target);
		if (st != PRIVAUDIT_OK)
			goto out;
	}
	have_note = 1;
	keys = chain_keys(&c);
	if (keys == NULL) {
		st = pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	k = strcmp(target.origin, rep->origin) == 0 ? signer(&c, keys, &target, rep->origin) : -1;
	if (k < 0) {
		st = pa_fail(&r->err, PRIVAUDIT_E_SIGNATURE,
			     "the checkpoint is not signed by a key of this log's chain");
		goto out;
	}
	target_key = (uint64_t)k;
	if (target.size == 0 || target.size > nleaves) {
		st = pa_fail(&r->err, PRIVAUDIT_E_TRUNCATED,
			     "the checkpoint covers %" PRIu64 " records, the log holds %" PRIu64,
			     target.size, nleaves);
		goto out;
	}
	pa_levels_root(&lv, target.size, root);
	if (memcmp(root, target.root, PA_HASH_LEN) != 0) {
		st = pa_fail(&r->err, PRIVAUDIT_E_TRUSTED,
			     "the checkpoint's root is not the root of this log's first %" PRIu64
			     " records",
			     target.size);
		goto out;
	}
	sb_printf(&b, "%s\norigin ", PROOF_HEADER);
	sb_put(&b, rep->origin, strlen(rep->origin));
	sb_put(&b, "\n", 1);
	st = write_chain(r, &c, &lv, target_key, target.size, &b);
	if (st != PRIVAUDIT_OK)
		goto out;
	sb_note(&b, target.text, strlen(target.text));
	if (target_key > 0) {
		prev_size = c.ck[target_key - 1].size;
		n = pa_levels_consistency_proof(&lv, target.size, prev_size, path);
		if (n < 0) {
			st = pa_fail(&r->err, PRIVAUDIT_E_CHAIN, "the checkpoint is older than its key");
			goto out;
		}
		sb_path(&b, "consistency", (const unsigned char (*)[PA_HASH_LEN])path, n);
	}
	/* In increasing order, each once: the checker insists. */
	sorted = malloc((count ? count : 1) * sizeof(*sorted));
	if (sorted == NULL) {
		st = pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(sorted, indexes, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), cmp_u64);
	for (size_t i = 0; i < count; i++) {
		const privaudit_record *rec;

		if (sorted[i] >= target.size || (i > 0 && sorted[i] == sorted[i - 1]))
			continue;
		st = privaudit_reader_get(r, sorted[i], &rec);
		if (st != PRIVAUDIT_OK)
			goto out;
		sb_printf(&b, "record %" PRIu64 " ", sorted[i]);
		sb_b64(&b, rec->entry, rec->len);
		sb_put(&b, "\n", 1);
		n = pa_levels_inclusion_proof(&lv, target.size, sorted[i], path);
		sb_path(&b, "inclusion", (const unsigned char (*)[PA_HASH_LEN])path, n < 0 ? 0 : n);
		(*proved)++;
	}
	sb_put(&b, "end\n", 4);
	if (b.failed) {
		st = pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	*proof = b.p;
	*len = b.len;
	b.p = NULL;
	st = PRIVAUDIT_OK;
out:
	free(keys);
	free(sorted);
	free(b.p);
	if (have_note)
		pa_note_free(&target);
	if (have_levels)
		pa_levels_free(&lv);
	collect_free(&c);
	return st;
}

/* ------------------------------------------------------------ checking */

typedef struct proved_entry {
	unsigned char *entry;
	size_t len;
} proved_entry;

struct privaudit_proof {
	privaudit_proof_report rep;
	char detail[512];
	char origin[PA_ORIGIN_MAX];
	proved_entry *rec;
	size_t nrec, caprec;
	pa_arena arena;
	struct privaudit_record cur;
	char *note;                  /* the checkpoint proved against, as carried */
	size_t note_len;
};

PRIVAUDIT_EXPORT void privaudit_proof_free(privaudit_proof *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrec; i++)
		free(p->rec[i].entry);
	free(p->rec);
	pa_arena_free(&p->arena);
	free(p->note);
	free(p);
}

static privaudit_status bad(privaudit_proof *p, privaudit_status st, size_t line, const char *fmt,
			    ...) __attribute__((format(printf, 4, 5)));

static privaudit_status bad(privaudit_proof *p, privaudit_status st, size_t line, const char *fmt,
			    ...)
{
	va_list ap;
	int n = snprintf(p->detail, sizeof(p->detail), "line %zu: ", line);

	va_start(ap, fmt);
	vsnprintf(p->detail + n, sizeof(p->detail) - (size_t)n, fmt, ap);
	va_end(ap);
	p->rep.status = st;
	return st;
}

/* Lines of the proof, one at a time. */
typedef struct lines {
	const char *p, *end;
	size_t no;
	const char *line;
	size_t len;
} lines;

static int next_line(lines *l)
{
	const char *nl;

	if (l->p >= l->end)
		return 0;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (nl == NULL)
		return 0;   /* every line ends with a newline */
	l->line = l->p;
	l->len = (size_t)(nl - l->p);
	l->p = nl + 1;
	l->no++;
	return 1;
}

/* The line starts with word and a space (or is just word): the rest. */
static int word(const lines *l, const char *w, const char **rest, size_t *rlen)
{
	size_t wl = strlen(w);

	if (l->len < wl || memcmp(l->line, w, wl) != 0)
		return 0;
	if (l->len == wl) {
		*rest = l->line + wl;
		*rlen = 0;
		return 1;
	}
	if (l->line[wl] != ' ' || l->len == wl + 1)
		return 0;   /* "word " with nothing after is not canonical */
	*rest = l->line + wl + 1;
	*rlen = l->len - wl - 1;
	return 1;
}

static int b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	size_t max = len / 4 * 3 + 3;
	const char *end = NULL;
	unsigned char *buf;

	if (len == 0 || len % 4 != 0 || !pa_b64_chars_ok(s, len))
		return -1;
	buf = malloc(max);
	if (buf == NULL)
		return -1;
	if (sodium_base642bin(buf, max, s, len, NULL, outlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + len) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static int parse_index(const char *s, size_t len, uint64_t *v, const char **rest, size_t *rlen)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9' && i < 20) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		i++;
	}
	if (i == 0 || i >= len || s[i] != ' ' || (i > 1 && s[0] == '0'))
		return -1;
	*v = x;
	*rest = s + i + 1;
	*rlen = len - i - 1;
	return 0;
}

static int parse_path(const char *s, size_t len, unsigned char (*path)[PA_HASH_LEN], size_t *n)
{
	size_t i = 0;

	*n = 0;
	while (i < len) {
		const char *sp = memchr(s + i, ' ', len - i);
		size_t l = sp ? (size_t)(sp - (s + i)) : len - i;
		unsigned char *h;
		size_t hl;

		if (*n == PA_PROOF_MAX || b64_decode(s + i, l, &h, &hl) < 0)
			return -1;
		if (hl != PA_HASH_LEN) {
			free(h);
			return -1;
		}
		memcpy(path[(*n)++], h, PA_HASH_LEN);
		free(h);
		i += l + (sp ? 1 : 0);
		if (sp != NULL && i == len)
			return -1;   /* trailing space */
	}
	return 0;
}

/* The next line must be "<w> <hashes>": the path. */
static privaudit_status expect_path(privaudit_proof *p, lines *l, const char *w,
				    unsigned char (*path)[PA_HASH_LEN], size_t *n)
{
	const char *rest;
	size_t rl;

	if (!next_line(l) || !word(l, w, &rest, &rl) || parse_path(rest, rl, path, n) < 0)
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "expected a %s proof", w);
	return PRIVAUDIT_OK;
}

/* A checkpoint line: the note, signed by (origin, pk). */
static privaudit_status check_note(privaudit_proof *p, const lines *l, const char *rest, size_t rl,
				   const unsigned char *pk, uint64_t key, pa_note *n)
{
	unsigned char *text;
	size_t tl;
	unsigned char kh[4];
	privaudit_status st;

	if (b64_decode(rest, rl, &text, &tl) < 0)
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "checkpoint is not base64");
	st = pa_note_parse((const char *)text, tl, n);
	free(text);
	if (st != PRIVAUDIT_OK)
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "checkpoint is not a signed note");
	pa_keyhash(p->origin, pk, kh);
	if (strcmp(n->origin, p->origin) != 0 || !pa_note_has_key(n, p->origin, kh) ||
	    pa_note_verify(n, p->origin, pk) != 0) {
		pa_note_free(n);
		return bad(p, PRIVAUDIT_E_SIGNATURE, l->no,
			   "checkpoint is not signed by key %" PRIu64 " of the chain", key);
	}
	return PRIVAUDIT_OK;
}

/* "<word> <index> <base64 entry>": the entry, whose index prefix must match. */
static privaudit_status take_entry(privaudit_proof *p, const lines *l, const char *rest, size_t rl,
				   uint64_t *index, unsigned char **entry, size_t *len)
{
	const char *b;
	size_t bl;

	if (parse_index(rest, rl, index, &b, &bl) < 0 || b64_decode(b, bl, entry, len) < 0)
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "expected an index and a base64 entry");
	if (*len <= 8 || *len > PA_ENTRY_MAX || pa_load64(*entry) != *index) {
		free(*entry);
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "entry does not hold record %" PRIu64, *index);
	}
	return PRIVAUDIT_OK;
}

/* A rotation line and its inclusion proof, as the last leaf of n's tree:
 * the next key of the chain. */
static privaudit_status check_rotation(privaudit_proof *p, lines *l, const char *rest, size_t rl,
				       const pa_note *n, uint64_t key,
				       unsigned char next[crypto_sign_PUBLICKEYBYTES])
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN], leaf[PA_HASH_LEN], *entry;
	size_t len, np;
	uint64_t index;
	pa_record *rec;
	privaudit_status st;
	size_t at = l->no;

	st = take_entry(p, l, rest, rl, &index, &entry, &len);
	if (st != PRIVAUDIT_OK)
		return st;
	rec = pa_record_decode(entry + 8, len - 8);
	if (rec == NULL || rec->body_case != PRIVAUDIT__RECORD__BODY_KEY_ROTATION ||
	    rec->key_rotation->key_index != key + 1 ||
	    rec->key_rotation->next_public_key.len != crypto_sign_PUBLICKEYBYTES ||
	    index + 1 != n->size) {
		pa_record_free(rec);
		free(entry);
		return bad(p, PRIVAUDIT_E_CHAIN, at,
			   "not the rotation to key %" PRIu64 " ending the checkpoint", key + 1);
	}
	memcpy(next, rec->key_rotation->next_public_key.data, crypto_sign_PUBLICKEYBYTES);
	pa_record_free(rec);
	pa_hash_leaf(leaf, entry, len);
	free(entry);
	st = expect_path(p, l, "inclusion", path, &np);
	if (st != PRIVAUDIT_OK)
		return st;
	if (pa_merkle_verify_inclusion(index, n->size, leaf, (const unsigned char (*)[PA_HASH_LEN])path,
				       np, n->root) != 0)
		return bad(p, PRIVAUDIT_E_PROOF, l->no,
			   "the rotation to key %" PRIu64 " is not in the checkpoint's tree", key + 1);
	return PRIVAUDIT_OK;
}

static privaudit_status keep_record(privaudit_proof *p, unsigned char *entry, size_t len)
{
	if (p->nrec == p->caprec) {
		size_t cap = p->caprec ? p->caprec * 2 : 16;
		proved_entry *n = realloc(p->rec, cap * sizeof(*n));

		if (n == NULL) {
			free(entry);
			return PRIVAUDIT_E_NOMEM;
		}
		p->rec = n;
		p->caprec = cap;
	}
	p->rec[p->nrec].entry = entry;
	p->rec[p->nrec].len = len;
	p->nrec++;
	return PRIVAUDIT_OK;
}

static privaudit_status check_records(privaudit_proof *p, lines *l, const pa_note *target)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN], leaf[PA_HASH_LEN], *entry;
	uint64_t index, prev = 0;
	size_t len, np, rl;
	const char *rest;
	privaudit_status st;

	while (next_line(l)) {
		size_t at = l->no;

		if (word(l, "end", &rest, &rl) && rl == 0)
			return l->p == l->end ? PRIVAUDIT_OK
					      : bad(p, PRIVAUDIT_E_FORMAT, l->no + 1, "text after end");
		if (!word(l, "record", &rest, &rl))
			return bad(p, PRIVAUDIT_E_FORMAT, at, "expected a record or end");
		st = take_entry(p, l, rest, rl, &index, &entry, &len);
		if (st != PRIVAUDIT_OK)
			return st;
		if ((p->nrec > 0 && index <= prev) || index >= target->size) {
			free(entry);
			return bad(p, PRIVAUDIT_E_FORMAT, at,
				   "record %" PRIu64 " out of order or beyond the checkpoint", index);
		}
		prev = index;
		if (pa_record_decode_arena(&p->arena, entry + 8, len - 8) == NULL) {
			free(entry);
			return bad(p, PRIVAUDIT_E_FORMAT, at, "record %" PRIu64 " does not decode", index);
		}
		pa_hash_leaf(leaf, entry, len);
		st = expect_path(p, l, "inclusion", path, &np);
		if (st == PRIVAUDIT_OK &&
		    pa_merkle_verify_inclusion(index, target->size, leaf,
					       (const unsigned char (*)[PA_HASH_LEN])path, np,
					       target->root) != 0)
			st = bad(p, PRIVAUDIT_E_PROOF, at,
				 "record %" PRIu64 " is not in the checkpoint's tree", index);
		if (st != PRIVAUDIT_OK) {
			free(entry);
			return st;
		}
		st = keep_record(p, entry, len);
		if (st != PRIVAUDIT_OK)
			return bad(p, st, at, "out of memory");
	}
	return bad(p, PRIVAUDIT_E_FORMAT, l->no, "the proof ends without \"end\"");
}

/* Checkpoints from key 0 to the target, each extending the last. */
static privaudit_status check_chain(privaudit_proof *p, lines *l, const unsigned char *pk0,
				    pa_note *target)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], path[PA_PROOF_MAX][PA_HASH_LEN];
	unsigned char prev_root[PA_HASH_LEN];
	uint64_t key = 0, prev_size = 0;
	const char *rest;
	size_t rl, np;
	privaudit_status st;
	pa_note n;

	memcpy(pk, pk0, sizeof(pk));
	if (!next_line(l) || !word(l, "checkpoint", &rest, &rl))
		return bad(p, PRIVAUDIT_E_FORMAT, l->no, "expected a checkpoint");
	for (;;) {
		st = check_note(p, l, rest, rl, pk, key, &n);
		if (st != PRIVAUDIT_OK)
			return st;
		if (key > 0) {
			st = expect_path(p, l, "consistency", path, &np);
			if (st == PRIVAUDIT_OK &&
			    pa_merkle_verify_consistency(prev_size, n.size, prev_root, n.root,
							 (const unsigned char (*)[PA_HASH_LEN])path,
							 np) != 0)
				st = bad(p, PRIVAUDIT_E_PROOF, l->no,
					 "the checkpoint signed by key %" PRIu64
					 " does not extend the one before it",
					 key);
			if (st != PRIVAUDIT_OK) {
				pa_note_free(&n);
				return st;
			}
		}
		if (!next_line(l)) {
			pa_note_free(&n);
			return bad(p, PRIVAUDIT_E_FORMAT, l->no, "the proof ends too early");
		}
		if (!word(l, "rotation", &rest, &rl)) {
			*target = n;   /* the checkpoint proved against */
			l->p = l->line;   /* read this line again */
			l->no--;
			p->rep.key_index = key;
			return PRIVAUDIT_OK;
		}
		if (key >= PROOF_MAX_CHAIN) {
			pa_note_free(&n);
			return bad(p, PRIVAUDIT_E_FORMAT, l->no, "key chain too long");
		}
		st = check_rotation(p, l, rest, rl, &n, key, pk);
		prev_size = n.size;
		memcpy(prev_root, n.root, PA_HASH_LEN);
		pa_note_free(&n);
		if (st != PRIVAUDIT_OK)
			return st;
		key++;
		if (!next_line(l) || !word(l, "checkpoint", &rest, &rl))
			return bad(p, PRIVAUDIT_E_FORMAT, l->no, "expected the next checkpoint");
	}
}

PRIVAUDIT_EXPORT privaudit_status privaudit_proof_check(privaudit_proof **out, const char *vkey,
							const char *text, size_t len,
							const privaudit_proof_report **report)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char name[PA_ORIGIN_MAX];
	lines l = {text, text + len, 0, NULL, 0};
	privaudit_proof *p;
	privaudit_status st;
	const char *rest;
	size_t rl;
	pa_note target;

	if (out == NULL || vkey == NULL || (text == NULL && len > 0) || report == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	*report = NULL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return PRIVAUDIT_E_NOMEM;
	pa_arena_init(&p->arena);
	p->rep.detail = p->detail;
	p->rep.origin = p->origin;
	p->rep.time = -1;
	*out = p;
	*report = &p->rep;
	if (pa_vkey_parse(vkey, name, pk) != PRIVAUDIT_OK)
		return bad(p, PRIVAUDIT_E_NOTE, 0, "the public key is not a verifier key line");
	if (!next_line(&l) || l.len != strlen(PROOF_HEADER) || memcmp(l.line, PROOF_HEADER, l.len) != 0)
		return bad(p, PRIVAUDIT_E_FORMAT, 1, "not a privaudit proof");
	if (!next_line(&l) || !word(&l, "origin", &rest, &rl) || rl == 0 || rl >= sizeof(p->origin) ||
	    memchr(rest, '\0', rl) != NULL)
		return bad(p, PRIVAUDIT_E_FORMAT, 2, "expected the origin");
	memcpy(p->origin, rest, rl);
	p->origin[rl] = '\0';
	if (strcmp(p->origin, name) != 0)
		return bad(p, PRIVAUDIT_E_PINNED_KEY, 2, "the proof is for another log than the key's");
	st = check_chain(p, &l, pk, &target);
	if (st != PRIVAUDIT_OK)
		return st;
	p->rep.tree_size = target.size;
	p->rep.time = target.time;
	st = check_records(p, &l, &target);
	if (st == PRIVAUDIT_OK) {
		/* Kept whole, signature lines and all, for witness checks. */
		p->note = target.text;
		p->note_len = strlen(target.text);
		target.text = NULL;
	}
	pa_note_free(&target);
	if (st != PRIVAUDIT_OK)
		return st;
	p->rep.records = p->nrec;
	p->rep.status = PRIVAUDIT_OK;
	snprintf(p->detail, sizeof(p->detail), "proof holds");
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_proof_checkpoint(const privaudit_proof *p,
							     const char **note, size_t *len)
{
	if (p == NULL || note == NULL || len == NULL)
		return PRIVAUDIT_E_INVAL;
	*note = NULL;
	*len = 0;
	if (p->rep.status != PRIVAUDIT_OK || p->note == NULL)
		return PRIVAUDIT_E_NOTFOUND;
	*note = p->note;
	*len = p->note_len;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_proof_record(privaudit_proof *p, size_t i,
							 const privaudit_record **rec)
{
	privaudit_status st;

	if (p == NULL || rec == NULL)
		return PRIVAUDIT_E_INVAL;
	*rec = NULL;
	if (p->rep.status != PRIVAUDIT_OK || i >= p->nrec)
		return PRIVAUDIT_E_NOTFOUND;
	st = pa_record_view(&p->cur, &p->arena, p->rec[i].entry, p->rec[i].len, 0, 0);
	if (st != PRIVAUDIT_OK)
		return st;
	p->cur.verified = 1;
	*rec = &p->cur;
	return PRIVAUDIT_OK;
}
