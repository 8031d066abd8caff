/* SPDX-License-Identifier: ISC */
/* proofcheck.c: checks a proof that records are in a log, with only the
 * log's first public key and nothing from the log itself.  It walks the
 * chain of signed checkpoints from that key to the one proved against, each
 * extending the one before it and ending with the rotation record naming the
 * next key, then each record's inclusion proof.  Every byte of a proof is
 * hostile.  prove.c builds proofs; format: privaudit-log(5), "Proofs". */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "merkle.h"
#include "note.h"
#include "proof.h"
#include "reader.h"

#define PROOF_MAX_CHAIN 10000000u

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
