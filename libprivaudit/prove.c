/* SPDX-License-Identifier: ISC */
/* prove.c: builds self-contained proofs that records are in a log, checked
 * (by proofcheck.c) with only the log's first public key.  A proof carries
 * the chain of signed checkpoints from the first key to the one that signed
 * the checkpoint proved against: each checkpoint ends with the key rotation
 * record naming the next key (with its inclusion proof) and extends the one
 * before it (consistency proof), so a holder of a later key cannot rewrite
 * what an earlier checkpoint sealed.  Format: privaudit-log(5), "Proofs". */
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

	if (pa_read_file(NULL, pa_reader_dirfd(r), PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, &text, &len) ==
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
			return pa_fail(pa_reader_err(r), PRIVAUDIT_E_CHAIN,
				       "no checkpoint signed by key %" PRIu64 " to chain through", k);
		ck = &c->ck[k];
		sb_note(b, ck->note, ck->note_len);
		if (k > 0) {
			n = pa_levels_consistency_proof(lv, ck->size, prev, path);
			if (n < 0)
				return pa_fail(pa_reader_err(r), PRIVAUDIT_E_CHAIN, "checkpoints out of order");
			sb_path(b, "consistency", (const unsigned char (*)[PA_HASH_LEN])path, n);
		}
		st = privaudit_reader_get(r, ck->size - 1, &rec);
		if (st != PRIVAUDIT_OK)
			return st;
		if (strcmp(privaudit_record_kind(rec), "key_rotation") != 0)
			return pa_fail(pa_reader_err(r), PRIVAUDIT_E_CHAIN,
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
	/* Damage to the frames (not to the tree or the signatures) ends what
	 * verifies: what a checkpoint before it seals can still be proved. */
	if (st == PRIVAUDIT_E_FORMAT || st == PRIVAUDIT_E_SEQUENCE)
		st = PRIVAUDIT_OK;
	if (st != PRIVAUDIT_OK) {
		pa_fail(pa_reader_err(r), st, "the log does not verify: %s", rep->detail);
		goto out;
	}
	if (c.failed || c.nck == 0) {
		st = c.failed ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_NOTFOUND;
		pa_fail(pa_reader_err(r), st, c.failed ? "out of memory" : "the log has no checkpoint yet");
		goto out;
	}
	if (rep->started_at > 0) {
		/* an inclusion proof needs every leaf from record 0 */
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOLOG,
			     "records before %" PRIu64 " are archived: proofs need the whole log", rep->started_at);
		goto out;
	}
	leaves = pa_verifier_leaves(pa_reader_verifier(r), &nleaves);
	if (pa_levels_build(&lv, leaves, nleaves) < 0) {
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	have_levels = 1;
	if (checkpoint != NULL) {
		st = pa_note_parse(checkpoint, checkpoint_len, &target);
		if (st != PRIVAUDIT_OK) {
			pa_fail(pa_reader_err(r), st, "the checkpoint given is not a signed note");
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
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	k = strcmp(target.origin, rep->origin) == 0 ? signer(&c, keys, &target, rep->origin) : -1;
	if (k < 0) {
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_SIGNATURE,
			     "the checkpoint is not signed by a key of this log's chain");
		goto out;
	}
	target_key = (uint64_t)k;
	if (target.size == 0 || target.size > nleaves) {
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_TRUNCATED,
			     "the checkpoint covers %" PRIu64 " records, the log holds %" PRIu64,
			     target.size, nleaves);
		goto out;
	}
	pa_levels_root(&lv, target.size, root);
	if (memcmp(root, target.root, PA_HASH_LEN) != 0) {
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_TRUSTED,
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
			st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_CHAIN, "the checkpoint is older than its key");
			goto out;
		}
		sb_path(&b, "consistency", (const unsigned char (*)[PA_HASH_LEN])path, n);
	}
	/* In increasing order, each once: the checker insists. */
	sorted = malloc((count ? count : 1) * sizeof(*sorted));
	if (sorted == NULL) {
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
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
		st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
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
