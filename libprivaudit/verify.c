/* SPDX-License-Identifier: ISC */
/* verify.c: the verifier.  It reads every segment, recomputes the Merkle
 * tree, and checks each checkpoint and the key rotation chain from the
 * pinned first key.  It needs nothing secret and trusts no byte it reads. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "archive.h"
#include "chain.h"
#include "cosign.h"
#include "lock.h"
#include "merkle.h"
#include "verifier.h"
#include "note.h"
#include "record.h"
#include "scan.h"
#include "segment.h"
#include "util.h"

/* Clock difference tolerated between writer and verifier for --max-age. */
#define FUTURE_SLACK 300
/* Lock wait for a consistent snapshot of where the log ends. */
#define SNAPSHOT_LOCK_MS 10000

/* A note the log must agree with: --trusted, or the checkpoint file. */
typedef struct expect {
	int present;
	int trusted;                  /* 1: --trusted, 0: the checkpoint file */
	pa_note note;
	int root_checked;             /* its root was compared */
	int sig_checked;              /* its signature verified with a chain key */
	int root_bad;                 /* its root differs (checkpoint file: judged once signed) */
	uint64_t bad_at;              /* first record after the newest checkpoint then */
} expect;

struct privaudit_verifier {
	int dirfd;
	int adirfd;               /* privaudit_verifier_archive(), else -1 */
	char *dir;
	int64_t max_age, now;
	privaudit_progress_fn progress;
	void *progress_arg;
	expect exp[2];
	pa_cosigner witness[PRIVAUDIT_WITNESS_MAX];   /* each must have cosigned */
	size_t nwitness;

	/* walk state */
	privaudit_verify_report rep;
	char detail[768];
	unsigned char log_id[PA_HASH_LEN];   /* segment 0's header says */
	pa_chain chain;
	/* every key of the chain, for checking notes given from outside */
	unsigned char (*keys)[crypto_sign_PUBLICKEYBYTES];
	size_t nkeys, capkeys;
	uint64_t total_bytes;
	/* leaf hashes, kept only to prove consistency with a trusted note */
	unsigned char (*leaves)[PA_HASH_LEN];
	uint64_t nleaves, capleaves;
	pa_arena arena;           /* decoded records live here, one at a time */
	int ckfile_bad;           /* the checkpoint file exists but is no note */
	int keep_all_leaves;      /* readers and proofs want every leaf hash */
	pa_verify_hook hook;      /* called for each record that passed its checks */
	void *hook_arg;
	uint64_t last_end;        /* end of the last frame read in the last segment */
	uint64_t backdated_seg, backdated_off;   /* where the first backdated record is */
	int64_t backdated_by;     /* seconds before the checkpoint, the first one */
	/* Verification state (privaudit_verifier_state): the chain just after
	 * the newest checkpoint record read, and where that record is. */
	int keep_state;
	int have_at;
	pa_chain *at;             /* sodium-free: nothing secret, plain malloc */
	uint64_t at_seg, at_off;
	unsigned char at_leaf[PA_HASH_LEN];
	/* ...and the one given to resume from (privaudit_verifier_resume) */
	unsigned char *resume;
	size_t resume_len;
	int resumed;              /* this run started from it, or from a trusted note's segment */
	int read_all;             /* privaudit_verifier_read_all(): never resume */
};

static privaudit_status fail_at(privaudit_verifier *v, privaudit_status st, uint64_t index,
				uint64_t seg, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static privaudit_status fail_at(privaudit_verifier *v, privaudit_status st, uint64_t index,
				uint64_t seg, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	v->rep.status = st;
	v->rep.has_bad = 1;
	v->rep.bad_index = index;
	v->rep.bad_segment = seg;
	v->rep.bad_offset = off;
	return st;
}

static privaudit_status fail_log(privaudit_verifier *v, privaudit_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static privaudit_status fail_log(privaudit_verifier *v, privaudit_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	v->rep.status = st;
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_new(privaudit_verifier **out, const char *dir)
{
	privaudit_verifier *v;

	if (out == NULL || dir == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return PRIVAUDIT_E_NOMEM;
	pa_arena_init(&v->arena);
	v->adirfd = -1;
	v->dir = strdup(dir);
	if (v->dir == NULL) {
		free(v);
		return PRIVAUDIT_E_NOMEM;
	}
	v->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->dirfd < 0) {
		privaudit_status st = errno == ENOENT || errno == ENOTDIR ? PRIVAUDIT_E_NOLOG
									   : PRIVAUDIT_E_IO;

		free(v->dir);
		free(v);
		return st;
	}
	*out = v;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT void privaudit_verifier_free(privaudit_verifier *v)
{
	if (v == NULL)
		return;
	for (int i = 0; i < 2; i++)
		pa_note_free(&v->exp[i].note);
	if (v->dirfd >= 0)
		close(v->dirfd);
	if (v->adirfd >= 0)
		close(v->adirfd);
	free(v->keys);
	free(v->leaves);
	free(v->at);
	free(v->resume);
	pa_arena_free(&v->arena);
	free(v->dir);
	free(v);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_pin_key(privaudit_verifier *v, const char *vkey)
{
	char name[PA_ORIGIN_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	if (v == NULL || vkey == NULL)
		return PRIVAUDIT_E_INVAL;
	if (pa_vkey_parse(vkey, name, pk) != PRIVAUDIT_OK)
		return PRIVAUDIT_E_NOTE;
	pa_chain_pin(&v->chain, name, pk);
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_trust(privaudit_verifier *v, const char *note,
							   size_t len)
{
	privaudit_status st;

	if (v == NULL || note == NULL)
		return PRIVAUDIT_E_INVAL;
	pa_note_free(&v->exp[0].note);
	memset(&v->exp[0], 0, sizeof(v->exp[0]));
	st = pa_note_parse(note, len, &v->exp[0].note);
	if (st != PRIVAUDIT_OK)
		return st;
	v->exp[0].present = 1;
	v->exp[0].trusted = 1;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_max_age(privaudit_verifier *v, int64_t seconds,
							     int64_t now)
{
	if (v == NULL || seconds < 0)
		return PRIVAUDIT_E_INVAL;
	v->max_age = seconds;
	v->now = now;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_require_witness(privaudit_verifier *v,
								     const char *vkey)
{
	if (v == NULL || vkey == NULL || v->nwitness == PRIVAUDIT_WITNESS_MAX)
		return PRIVAUDIT_E_INVAL;
	if (pa_cosigner_parse(vkey, &v->witness[v->nwitness]) != PRIVAUDIT_OK)
		return PRIVAUDIT_E_NOTE;
	v->nwitness++;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_progress(privaudit_verifier *v,
							      privaudit_progress_fn fn, void *arg)
{
	if (v == NULL)
		return PRIVAUDIT_E_INVAL;
	v->progress = fn;
	v->progress_arg = arg;
	return PRIVAUDIT_OK;
}

static int add_key(privaudit_verifier *v, const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	if (v->nkeys == v->capkeys) {
		size_t cap = v->capkeys ? v->capkeys * 2 : 64;
		void *nk = realloc(v->keys, cap * sizeof(*v->keys));

		if (nk == NULL)
			return -1;
		v->keys = nk;
		v->capkeys = cap;
	}
	memcpy(v->keys[v->nkeys++], pk, crypto_sign_PUBLICKEYBYTES);
	return 0;
}

static int keep_leaf(privaudit_verifier *v, const unsigned char leaf[PA_HASH_LEN])
{
	if (v->nleaves == v->capleaves) {
		uint64_t cap = v->capleaves ? v->capleaves * 2 : 4096;
		void *nl = realloc(v->leaves, cap * PA_HASH_LEN);

		if (nl == NULL)
			return -1;
		v->leaves = nl;
		v->capleaves = cap;
	}
	memcpy(v->leaves[v->nleaves++], leaf, PA_HASH_LEN);
	return 0;
}

/* The RFC 9162 consistency proof from the trusted tree to the newest signed
 * one, generated from the leaves and checked as a remote auditor would. */
static privaudit_status prove_consistency(privaudit_verifier *v)
{
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN];
	const expect *x = &v->exp[0];
	int n;

	if (v->rep.checkpoints == 0 || x->note.size > v->rep.newest_size || x->note.size == 0)
		return PRIVAUDIT_OK;
	n = pa_merkle_consistency_proof((const unsigned char (*)[PA_HASH_LEN])v->leaves,
					v->rep.newest_size, x->note.size, path);
	if (n < 0 || pa_merkle_verify_consistency(x->note.size, v->rep.newest_size, x->note.root,
						  v->chain.newest_root,
						  (const unsigned char (*)[PA_HASH_LEN])path,
						  (size_t)n) != 0)
		return fail_log(v, PRIVAUDIT_E_TRUSTED,
				"no consistency proof from the trusted checkpoint (%" PRIu64
				" records) to the newest one (%" PRIu64 ")",
				x->note.size, v->rep.newest_size);
	return PRIVAUDIT_OK;
}

/* Does a key of the chain sign this note? */
static int note_signed_by_chain(const privaudit_verifier *v, const pa_note *n)
{
	for (size_t i = v->nkeys; i-- > 0;)
		if (pa_note_verify(n, v->chain.origin, v->keys[i]) == 0)
			return 1;
	return 0;
}

/* A segment's bytes: the live one, else the archived one. */
static int open_seg(privaudit_verifier *v, uint64_t number)
{
	/* seg-N.zst too: an archive given as the log */
	int fd = pa_segment_open_any(v->dirfd, number);

	if (fd < 0 && errno == ENOENT && v->adirfd >= 0)
		fd = pa_segment_open_any(v->adirfd, number);
	return fd;
}

/* Segment numbers present, sorted, the archive's with the live ones (a
 * segment in both, archived and not yet removed, once). */
static privaudit_status list_segments(privaudit_verifier *v, uint64_t **out, size_t *count)
{
	uint64_t *live = NULL, *arch = NULL, *all;
	size_t nl = 0, na = 0, n = 0, i = 0, j = 0;

	*out = NULL;
	*count = 0;
	if (pa_seg_list(v->dirfd, 1, &live, &nl) < 0 ||
	    (v->adirfd >= 0 && pa_seg_list(v->adirfd, 1, &arch, &na) < 0)) {
		int e = errno;

		free(live);
		return e == ENOMEM ? fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory")
				   : fail_log(v, PRIVAUDIT_E_IO, "read directory %s: %s", v->dir, strerror(e));
	}
	all = malloc((nl + na + 1) * sizeof(*all));
	if (all == NULL) {
		free(live);
		free(arch);
		return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	while (i < nl || j < na) {   /* merge, each number once */
		uint64_t x = j == na || (i < nl && live[i] <= arch[j]) ? live[i] : arch[j];

		if (n == 0 || all[n - 1] != x)
			all[n++] = x;
		if (i < nl && live[i] == x)
			i++;
		if (j < na && arch[j] == x)
			j++;
	}
	free(live);
	free(arch);
	*out = all;
	*count = n;
	return PRIVAUDIT_OK;
}

/* Compare the tree at its current size with the notes expected there. */
static privaudit_status check_expected(privaudit_verifier *v, uint64_t seg, uint64_t off)
{
	for (int i = 0; i < 2; i++) {
		expect *x = &v->exp[i];
		unsigned char root[PA_HASH_LEN];

		if (!x->present || x->root_checked || x->note.size != v->chain.tree.size)
			continue;
		x->root_checked = 1;
		pa_tree_root(&v->chain.tree, root);
		if (memcmp(root, x->note.root, PA_HASH_LEN) != 0) {
			/* As for a checkpoint record: the damage lies after the
			 * newest verified checkpoint; name its first record. */
			privaudit_status st;

			(void)seg;
			(void)off;
			if (!x->trusted) {
				/* The file is only evidence once its signature holds:
				 * judged at the end. */
				x->root_bad = 1;
				x->bad_at = v->rep.sealed;
				continue;
			}
			st = fail_at(v, PRIVAUDIT_E_TRUSTED,
				     v->rep.sealed > v->rep.resumed_at ? v->rep.sealed : v->rep.resumed_at, 0, 0,
				     "the first %" PRIu64 " records do not hash to the trusted checkpoint's root",
				     x->note.size);
			v->rep.bad_segment = UINT64_MAX;   /* located by the caller */
			return st;
		}
	}
	return PRIVAUDIT_OK;
}

/* A record appended after a checkpoint carries the writer's clock at its
 * append, so it cannot be older than that checkpoint's signed time, except
 * by a step of the clock: beyond PRIVAUDIT_BACKDATE_SLACK it was written
 * by something that chose its time (someone holding log.key, backdating
 * events into a sealed session).  It is flagged, not failed at once: the
 * rest of the log is still checked. */
static void backdate_check(privaudit_verifier *v, uint64_t index, const pa_record *rec,
			   uint64_t seg, uint64_t off)
{
	int64_t signed_at = v->chain.newest_time;
	uint64_t t = rec->time_ns / 1000000000u;

	if (v->chain.checkpoints == 0 || signed_at < PRIVAUDIT_BACKDATE_SLACK ||
	    t >= (uint64_t)(signed_at - PRIVAUDIT_BACKDATE_SLACK))
		return;
	if (v->rep.backdated++ == 0) {
		v->rep.backdated_index = index;
		v->backdated_seg = seg;
		v->backdated_off = off;
		v->backdated_by = signed_at - (int64_t)t;
	}
}

/* Run the chain's checks on one record; a checkpoint that holds also lets
 * notes given from outside for its size have their signature checked. */
static privaudit_status chain_add(privaudit_verifier *v, uint64_t index, const pa_record *rec,
				  uint64_t seg, uint64_t off, const unsigned char leaf[PA_HASH_LEN],
				  const unsigned char seg_log_id[PA_HASH_LEN])
{
	pa_chain *c = &v->chain;
	uint64_t before = c->checkpoints;
	privaudit_status st;

	st = pa_chain_add(c, index, rec, leaf, index == 0 ? seg_log_id : NULL);
	if (st != PRIVAUDIT_OK) {
		st = fail_at(v, st, c->bad_index, seg, off, "%s", c->detail);
		if (!c->bad_here)
			v->rep.bad_segment = UINT64_MAX;   /* located by the caller */
		return st;
	}
	if (index == 0) {
		v->rep.pinned = c->pinned;
		if (add_key(v, c->cur_pk) < 0)
			return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	if (c->checkpoints == before) {
		backdate_check(v, index, rec, seg, off);
		return PRIVAUDIT_OK;
	}
	if (add_key(v, c->cur_pk) < 0)
		return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
	if (v->keep_state) {
		/* The state a later run resumes from: the chain with this
		 * checkpoint record in its tree. */
		*v->at = *c;
		v->at_seg = seg;
		v->at_off = off;
		memcpy(v->at_leaf, leaf, PA_HASH_LEN);
		v->have_at = 1;
	}
	v->rep.checkpoints = c->checkpoints;
	v->rep.sealed = c->sealed;
	v->rep.newest_size = c->sealed;
	v->rep.newest_time = c->newest_time;
	v->rep.key_index = c->cur_key_index;
	v->rep.unsealed = 0;   /* recounted at the end */
	for (int i = 0; i < 2; i++) {
		expect *x = &v->exp[i];

		if (x->present && x->note.size == c->sealed &&
		    pa_note_verify(&x->note, c->origin, c->signer_pk) == 0)
			x->sig_checked = 1;
	}
	return PRIVAUDIT_OK;
}

/* Find where record index lives, to name the first bad record of a range. */
static void locate(privaudit_verifier *v, const uint64_t *segs, size_t nsegs, uint64_t index)
{
	for (size_t s = 0; s < nsegs; s++) {
		char name[PA_SEG_NAME_MAX];
		pa_segreader r;
		struct stat sb;
		int fd;

		pa_seg_name(name, segs[s]);
		fd = open_seg(v, segs[s]);
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) < 0 || pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)sb.st_size) !=
						  PRIVAUDIT_OK) {
			close(fd);
			continue;
		}
		for (;;) {
			const unsigned char *entry;
			size_t len;
			uint64_t off;

			if (pa_segreader_next(&r, &entry, &len, &off) != PA_FRAME_OK)
				break;
			if (pa_load64(entry) == index) {
				v->rep.bad_segment = segs[s];
				v->rep.bad_offset = off;
				pa_segreader_free(&r);
				close(fd);
				return;
			}
		}
		pa_segreader_free(&r);
		close(fd);
	}
	v->rep.bad_segment = 0;
	v->rep.bad_offset = 0;
}

/* Read where the log ends while no writer is mid-append, so a frame being
 * written is not mistaken for a torn one.  Best effort: a copy of a log
 * without its lock file is read as it is. */
static void snapshot(privaudit_verifier *v, uint64_t last_seg, uint64_t *last_size)
{
	char name[PA_SEG_NAME_MAX];
	struct stat sb;
	int lfd, locked = 0;

	*last_size = UINT64_MAX;
	lfd = openat(v->dirfd, PA_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (lfd >= 0 && pa_lock(lfd, 0, SNAPSHOT_LOCK_MS) == 0)
		locked = 1;
	pa_seg_name(name, last_seg);
	if (fstatat(v->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		*last_size = (uint64_t)sb.st_size;
	if (locked)
		pa_unlock(lfd);
	if (lfd >= 0)
		close(lfd);
}

static void load_checkpoint_file(privaudit_verifier *v)
{
	char *text = NULL;
	size_t len = 0;

	pa_note_free(&v->exp[1].note);
	memset(&v->exp[1], 0, sizeof(v->exp[1]));
	v->ckfile_bad = 0;
	if (pa_read_file(NULL, v->dirfd, PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, &text, &len) !=
	    PRIVAUDIT_OK) {
		/* Missing is allowed (a copy may leave it out); unreadable is not. */
		v->ckfile_bad = faccessat(v->dirfd, PRIVAUDIT_CHECKPOINT_FILE, F_OK,
					  AT_SYMLINK_NOFOLLOW) == 0;
		return;
	}
	if (pa_note_parse(text, len, &v->exp[1].note) == PRIVAUDIT_OK)
		v->exp[1].present = 1;
	else
		v->ckfile_bad = 1;
	free(text);
}

/* Why a segment's frames stopped: its clean end, a torn tail (only at the
 * end of the last segment), or damage. */
static privaudit_status frames_end(privaudit_verifier *v, const pa_scan_batch *b, uint64_t number,
				   int last, uint64_t end, const char *name)
{
	uint64_t expected = v->chain.tree.size, off = b->end_offset;

	switch (b->end) {
	case PA_FRAME_END:
		return PRIVAUDIT_OK;
	case PA_FRAME_IOERR:
		if (b->end_errno == ENOMEM)
			return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
		return fail_at(v, PRIVAUDIT_E_IO, expected, number, off, "read %s: %s", name,
			       strerror(b->end_errno));
	case PA_FRAME_TORN:
		if (last) {
			v->rep.torn_bytes = end - off;
			return PRIVAUDIT_OK;
		}
		return fail_at(v, PRIVAUDIT_E_FORMAT, expected, number, off,
			       "frame runs past the end of its segment");
	case PA_FRAME_BADCRC:
		/* A complete frame that fails its checksum at the very end of the
		 * log is also what a torn write leaves. */
		if (last && off + PA_FRAME_OVERHEAD + b->end_len == end) {
			v->rep.torn_bytes = end - off;
			return PRIVAUDIT_OK;
		}
		return fail_at(v, PRIVAUDIT_E_FORMAT, expected, number, off, "frame checksum mismatch");
	case PA_FRAME_BADLEN:
	case PA_FRAME_OK:
		break;
	}
	return fail_at(v, PRIVAUDIT_E_FORMAT, expected, number, off, "frame length out of range");
}

static privaudit_status walk_segment(privaudit_verifier *v, uint64_t number, int last,
				     uint64_t limit, uint64_t start)
{
	unsigned char hdr[PA_SEG_HEADER];
	char name[PA_SEG_NAME_MAX];
	const char *why = NULL;
	privaudit_status st = PRIVAUDIT_OK;
	pa_scanner *scan;
	struct stat sb;
	pa_seghdr h;
	uint64_t end;
	int fd;

	pa_seg_name(name, number);
	fd = open_seg(v, number);
	if (fd < 0) {
		if (errno == EBADMSG)   /* an archived segment that does not decompress */
			return fail_at(v, PRIVAUDIT_E_FORMAT, v->chain.tree.size, number, 0,
				       "%s.zst is damaged: it does not decompress", name);
		return fail_log(v, PRIVAUDIT_E_IO, "open %s: %s", name, strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		st = fail_log(v, PRIVAUDIT_E_IO, "stat %s: %s", name, strerror(errno));
		close(fd);
		return st;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return fail_at(v, PRIVAUDIT_E_FORMAT, v->chain.tree.size, number, 0,
			       "%s is not a regular file", name);
	}
	end = (uint64_t)sb.st_size;
	if (last && limit < end)
		end = limit;
	v->rep.segments++;
	if (end < PA_SEG_HEADER || pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0) {
		close(fd);
		if (last && v->chain.have_genesis && end < PA_SEG_HEADER) {
			/* A rollover cut short before its header: the next writer
			 * removes it; nothing can be in it. */
			v->rep.torn_bytes += end;
			return PRIVAUDIT_OK;
		}
		return fail_at(v, PRIVAUDIT_E_FORMAT, v->chain.tree.size, number, 0,
			       "%s: segment header incomplete", name);
	}
	if (pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK) {
		close(fd);
		return fail_at(v, PRIVAUDIT_E_FORMAT, v->chain.tree.size, number, 0, "%s: %s", name, why);
	}
	if (h.number != number) {
		close(fd);
		return fail_at(v, PRIVAUDIT_E_FORMAT, v->chain.tree.size, number, 0,
			       "%s: header says segment %" PRIu64, name, h.number);
	}
	if (number == 0 && !v->resumed && v->chain.started_at == 0)
		memcpy(v->log_id, h.log_id, PA_HASH_LEN);
	else if (memcmp(v->log_id, h.log_id, PA_HASH_LEN) != 0) {
		close(fd);
		return fail_at(v, PRIVAUDIT_E_FOREIGN, v->chain.tree.size, number, 0,
			       "%s belongs to another log", name);
	}
	if (start == PA_SEG_HEADER && h.first_index != v->chain.tree.size) {
		close(fd);
		return fail_at(v, PRIVAUDIT_E_SEQUENCE, v->chain.tree.size, number, 0,
			       "%s starts at record %" PRIu64 ", expected %" PRIu64, name, h.first_index,
			       v->chain.tree.size);
	}
	if (start == PA_SEG_HEADER)
		v->rep.bytes += PA_SEG_HEADER;
	/* CRCs and leaf hashes are computed ahead on a second thread. */
	scan = pa_scanner_start(fd, start, end);
	if (scan == NULL) {
		close(fd);
		return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory or threads");
	}
	v->last_end = start;
	for (;;) {
		const pa_scan_batch *b = pa_scanner_next(scan);

		for (size_t i = 0; i < b->n && st == PRIVAUDIT_OK; i++) {
			const pa_scan_frame *f = &b->frames[i];
			const unsigned char *entry = f->entry;
			size_t len = f->len;
			uint64_t off = f->offset, index, expected = v->chain.tree.size;
			pa_record *rec;

			index = pa_load64(entry);
			if (index != expected) {
				if (index < expected)
					st = fail_at(v, PRIVAUDIT_E_SEQUENCE, index, number, off,
						     "record index %" PRIu64 " appears again where %" PRIu64
						     " was due",
						     index, expected);
				else
					st = fail_at(v, PRIVAUDIT_E_SEQUENCE, expected, number, off,
						     "record %" PRIu64 " is missing (found %" PRIu64 ")",
						     expected, index);
				break;
			}
			rec = pa_record_decode_arena(&v->arena, entry + PA_ENTRY_INDEX,
						     len - PA_ENTRY_INDEX);
			if (rec == NULL) {
				st = fail_at(v, v->arena.failed ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_FORMAT,
					     index, number, off, "record %" PRIu64 " does not decode", index);
				break;
			}
			st = chain_add(v, index, rec, number, off, f->leaf, h.log_id);
			if (st != PRIVAUDIT_OK)
				break;
			if ((v->exp[0].present || v->keep_all_leaves) && keep_leaf(v, f->leaf) < 0) {
				st = fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
				break;
			}
			if (v->hook != NULL)
				v->hook(v->hook_arg, index, entry, len, rec);
			v->rep.records++;
			v->rep.bytes += len + PA_FRAME_OVERHEAD;
			v->last_end = off + len + PA_FRAME_OVERHEAD;
			st = check_expected(v, number, off);
			if (st != PRIVAUDIT_OK)
				break;
			if (v->progress != NULL && (v->rep.records & 0xffff) == 0)
				v->progress(v->progress_arg, v->rep.bytes, v->total_bytes);
		}
		if (st != PRIVAUDIT_OK || b->last) {
			if (st == PRIVAUDIT_OK)
				st = frames_end(v, b, number, last, end, name);
			break;
		}
	}
	pa_scanner_stop(scan);
	close(fd);
	return st;
}

void pa_verifier_set_hook(privaudit_verifier *v, pa_verify_hook fn, void *arg)
{
	v->hook = fn;
	v->hook_arg = arg;
}

void pa_verifier_keep_leaves(privaudit_verifier *v)
{
	v->keep_all_leaves = 1;
}

const unsigned char (*pa_verifier_leaves(const privaudit_verifier *v, uint64_t *n))[PA_HASH_LEN]
{
	*n = v->nleaves;
	return (const unsigned char (*)[PA_HASH_LEN])v->leaves;
}

/* Each required witness must have cosigned a note given from outside (the
 * checkpoint file, --trusted) that held: signed by the log's chain (checked
 * before this) and with the root of the log's first records. */
static privaudit_status check_witnesses(privaudit_verifier *v)
{
	for (size_t w = 0; w < v->nwitness; w++) {
		const expect *best = NULL;
		uint64_t t = 0, best_t = 0;

		for (int i = 0; i < 2; i++) {
			const expect *x = &v->exp[i];

			if (!x->present || !x->root_checked || x->root_bad ||
			    pa_note_cosigned(&x->note, &v->witness[w], &t) != 0)
				continue;
			if (best == NULL || x->note.size > best->note.size) {
				best = x;
				best_t = t;
			}
		}
		if (best == NULL)
			return fail_log(v, PRIVAUDIT_E_WITNESS,
					"no checkpoint of this log (checkpoint file%s) carries a valid cosignature by witness %s",
					v->exp[0].present ? " or trusted note" : "", v->witness[w].name);
		if (w == 0 || best->note.size < v->rep.witnessed)
			v->rep.witnessed = best->note.size;
		if (v->rep.witness_time < 0 || (int64_t)best_t < v->rep.witness_time)
			v->rep.witness_time = (int64_t)best_t;
	}
	return PRIVAUDIT_OK;
}

static void finish_report(privaudit_verifier *v)
{
	v->rep.detail = v->detail;
	v->rep.origin = v->chain.origin;
}

#define VSTATE_MAGIC "PAVSTATE"
#define VSTATE_HEAD (8 + 8 + 8 + PA_HASH_LEN)

/* The segments before `number` were archived (and no --archive gives
 * them): start at its first record, a segment_start, from the frontier and
 * key it holds.  Only checkpoints after it vouch for it; the report says
 * where the run started. */
static privaudit_status start_at_segment(privaudit_verifier *v, uint64_t number, int trusted)
{
	unsigned char hdr[PA_SEG_HEADER], leaf[PA_HASH_LEN];
	char name[PA_SEG_NAME_MAX];
	const char *why = NULL;
	privaudit_status st;
	pa_record *rec;
	uint64_t idx = 0;
	pa_seghdr h;
	int fd;

	pa_seg_name(name, number);
	fd = open_seg(v, number);
	if (fd < 0)
		return fail_log(v, PRIVAUDIT_E_IO, "open %s: %s", name, strerror(errno));
	if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0 ||
	    pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK || h.number != number) {
		close(fd);
		return fail_log(v, PRIVAUDIT_E_NOLOG,
				"%s holds no first segment (seg-0000000000000000), and %s has no "
				"readable header to start from",
				v->dir, name);
	}
	rec = pa_segment_first(fd, &idx, leaf);
	close(fd);
	if (rec == NULL || idx != h.first_index) {
		pa_record_free(rec);
		return fail_at(v, PRIVAUDIT_E_NOLOG, h.first_index, number, PA_SEG_HEADER,
			       "%s holds no first segment (seg-0000000000000000), and %s does not start "
			       "with a record to start from",
			       v->dir, name);
	}
	st = pa_chain_start_at(&v->chain, idx, rec, h.log_id);
	pa_record_free(rec);
	if (st != PRIVAUDIT_OK) {
		if (st == PRIVAUDIT_E_NOLOG)
			return fail_log(v, st, "%s holds no first segment (seg-0000000000000000), and "
					"%s starts with no segment_start record: segments are missing",
					v->dir, name);
		return fail_at(v, st, idx, number, PA_SEG_HEADER, "%s", v->chain.detail);
	}
	memcpy(v->log_id, h.log_id, PA_HASH_LEN);
	v->rep.pinned = v->chain.pinned;
	if (trusted) {
		/* the trusted note vouches for the records before: its root is
		 * compared where the tree reaches its size (here, if already) */
		v->rep.resumed_at = idx;
		v->rep.resumed_by = 2;
		v->resumed = 1;
		if (v->exp[0].note.size == idx) {
			unsigned char root[PA_HASH_LEN];

			pa_tree_root(&v->chain.tree, root);
			v->exp[0].root_checked = 1;
			if (memcmp(root, v->exp[0].note.root, PA_HASH_LEN) != 0)
				return fail_at(v, PRIVAUDIT_E_TRUSTED, idx, number, PA_SEG_HEADER,
					       "the records before %" PRIu64 " do not hash to the trusted "
					       "checkpoint's root",
					       idx);
		}
	} else {
		v->rep.started_at = idx;
	}
	v->rep.records = idx;   /* the log's count: those before are not read */
	if (add_key(v, v->chain.cur_pk) < 0)
		return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
	return PRIVAUDIT_OK;
}

/* The segment a --trusted run may start at: the last one, after segment
 * 0, whose first record (a segment_start) lies at or before the trusted
 * note's size; nsegs when none does (old segments, a small log). */
static size_t trusted_start(privaudit_verifier *v, const uint64_t *segs, size_t nsegs)
{
	if (v->adirfd >= 0)
		return nsegs;   /* joined with an archive: the whole log, as asked */
	for (size_t i = nsegs; i-- > 0 && segs[i] != 0;) {
		unsigned char hdr[PA_SEG_HEADER], leaf[PA_HASH_LEN];
		const char *why = NULL;
		pa_record *rec;
		uint64_t idx = 0;
		pa_seghdr h;
		int fd = open_seg(v, segs[i]), anchored;

		if (fd < 0)
			return nsegs;
		if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0 ||
		    pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK) {
			close(fd);
			return nsegs;   /* walking the log will say what is wrong */
		}
		if (h.first_index > v->exp[0].note.size) {
			close(fd);
			continue;
		}
		rec = pa_segment_first(fd, &idx, leaf);
		close(fd);
		anchored = rec != NULL && idx == h.first_index &&
			   rec->body_case == PRIVAUDIT__RECORD__BODY_SEGMENT_START;
		pa_record_free(rec);
		if (anchored)
			return i;
	}
	return nsegs;
}

/* Start from a verification state: the chain as it was just after a
 * checkpoint record verified earlier, checked against that record as the
 * log holds it now.  *first and *start say where the walk goes on.  When a
 * note given from outside is older than the state, the run starts from
 * record 0 instead (its root needs the leaves before). */
static privaudit_status resume_begin(privaudit_verifier *v, const uint64_t *segs, size_t nsegs,
				     size_t *first, uint64_t *start)
{
	const unsigned char *st8 = v->resume;
	uint64_t seg = pa_load64(st8 + 8), off = pa_load64(st8 + 16), want;
	unsigned char *buf = NULL, leaf[PA_HASH_LEN];
	const unsigned char *entry;
	char name[PA_SEG_NAME_MAX];
	pa_frame_status fs;
	struct stat sb;
	size_t cap = 0, len, i;
	pa_chain *c = &v->chain;
	int fd;

	if (pa_chain_load(c, st8 + VSTATE_HEAD, v->resume_len - VSTATE_HEAD - PA_HASH_LEN) != 0) {
		int pinned = c->have_pin;

		pa_chain_init(c);
		return pinned ? fail_log(v, PRIVAUDIT_E_PINNED_KEY,
					 "the verification state is of a log with another first key")
			      : fail_log(v, PRIVAUDIT_E_FORMAT, "the verification state does not load");
	}
	want = c->tree.size;
	for (int k = 0; k < 2; k++) {
		expect *x = &v->exp[k];

		if (!x->present || x->note.size >= want)
			continue;
		if (x->note.size != c->sealed || memcmp(x->note.root, c->newest_root, PA_HASH_LEN) != 0) {
			pa_chain_init(c);
			return PRIVAUDIT_OK;   /* from record 0 */
		}
		x->root_checked = 1;
		x->sig_checked = pa_note_verify(&x->note, c->origin, c->signer_pk) == 0;
	}
	for (i = 0; i < nsegs && segs[i] != seg; i++)
		;
	if (i == nsegs) {
		pa_chain_init(c);
		return fail_at(v, PRIVAUDIT_E_TRUNCATED, want - 1, seg, off,
			       "segment %" PRIu64 ", which held record %" PRIu64
			       " when the verification state was saved, is gone",
			       seg, want - 1);
	}
	pa_seg_name(name, seg);
	fd = open_seg(v, seg);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		pa_chain_init(c);
		return fail_log(v, PRIVAUDIT_E_IO, "open %s: %s", name, strerror(e));
	}
	fs = pa_frame_read_at(fd, off, (uint64_t)sb.st_size, &buf, &cap, &entry, &len);
	close(fd);
	if (fs == PA_FRAME_OK && len >= PA_ENTRY_INDEX)
		pa_hash_leaf(leaf, entry, len);
	if (fs != PA_FRAME_OK || len < PA_ENTRY_INDEX || pa_load64(entry) != want - 1 ||
	    memcmp(leaf, st8 + 24, PA_HASH_LEN) != 0) {
		free(buf);
		pa_chain_init(c);
		return fail_at(v, fs == PA_FRAME_OK ? PRIVAUDIT_E_TRUSTED : PRIVAUDIT_E_TRUNCATED,
			       want - 1, seg, off,
			       "record %" PRIu64 ", the checkpoint the verification state ends with, "
			       "is %s: the log does not extend what was verified before",
			       want - 1, fs == PA_FRAME_OK ? "not the one verified then" : "gone");
	}
	free(buf);
	if (c->have_pin)
		c->pinned = 1;   /* pa_chain_load matched the pin to the log id */
	memcpy(v->log_id, c->log_id, PA_HASH_LEN);
	if (add_key(v, c->signer_pk) < 0 || add_key(v, c->cur_pk) < 0)
		return fail_log(v, PRIVAUDIT_E_NOMEM, "out of memory");
	v->rep.pinned = c->pinned;
	v->rep.records = want;
	v->rep.resumed_at = want;
	v->rep.resumed_by = 1;
	v->rep.checkpoints = c->checkpoints;
	v->rep.sealed = v->rep.newest_size = c->sealed;
	v->rep.newest_time = c->newest_time;
	v->rep.key_index = c->cur_key_index;
	*v->at = *c;
	v->at_seg = seg;
	v->at_off = off;
	memcpy(v->at_leaf, st8 + 24, PA_HASH_LEN);
	v->have_at = 1;
	v->resumed = 1;
	*first = i;
	*start = off + len + PA_FRAME_OVERHEAD;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verify_run(privaudit_verifier *v,
						       const privaudit_verify_report **report)
{
	uint64_t *segs = NULL, limit, done = 0, last_ckpt_index = 0, start = PA_SEG_HEADER;
	size_t nsegs = 0, first = 0;
	privaudit_status st;

	if (v == NULL || report == NULL)
		return PRIVAUDIT_E_INVAL;
	/* A verifier may be run again: start from nothing. */
	memset(&v->rep, 0, sizeof(v->rep));
	v->rep.newest_time = -1;
	v->rep.witness_time = -1;
	v->detail[0] = '\0';
	pa_chain_init(&v->chain);
	v->nkeys = 0;
	v->nleaves = 0;
	v->total_bytes = 0;
	v->have_at = 0;
	v->resumed = 0;
	for (int i = 0; i < 2; i++) {
		v->exp[i].root_checked = 0;
		v->exp[i].sig_checked = 0;
		v->exp[i].root_bad = 0;
	}
	*report = &v->rep;
	load_checkpoint_file(v);

	st = list_segments(v, &segs, &nsegs);
	if (st != PRIVAUDIT_OK)
		goto out;
	if (v->resume != NULL && !v->read_all) {
		st = resume_begin(v, segs, nsegs, &first, &start);
		if (st != PRIVAUDIT_OK)
			goto out;
	}
	if (!v->resumed && v->exp[0].present && !v->keep_all_leaves && !v->read_all) {
		/* --trusted: start at the last segment that begins at or before
		 * its size with a segment_start; the note's root then vouches
		 * for everything before */
		size_t k = trusted_start(v, segs, nsegs);

		if (k < nsegs) {
			st = start_at_segment(v, segs[k], 1);
			if (st != PRIVAUDIT_OK)
				goto out;
			first = k;
		}
	}
	if (!v->resumed && nsegs > 0 && segs[0] != 0) {
		st = start_at_segment(v, segs[0], 0);
		if (st != PRIVAUDIT_OK)
			goto out;
	}
	if (!v->resumed && nsegs == 0) {
		st = fail_log(v, PRIVAUDIT_E_NOLOG, "%s holds no first segment (seg-0000000000000000)",
			      v->dir);
		goto out;
	}
	for (size_t i = first; i < nsegs; i++) {
		struct stat sb;
		char name[PA_SEG_NAME_MAX];

		pa_seg_name(name, segs[i]);
		if (fstatat(v->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			v->total_bytes += (uint64_t)sb.st_size;
	}
	snapshot(v, segs[nsegs - 1], &limit);
	for (size_t i = first; i < nsegs; i++) {
		uint64_t before = v->rep.bytes, want = segs[first] + (i - first);

		if (segs[i] != want) {
			st = fail_at(v, PRIVAUDIT_E_SEQUENCE, v->chain.tree.size, want, 0,
				     "segment %" PRIu64 " is missing (next is %" PRIu64 ")", want, segs[i]);
			break;
		}
		st = walk_segment(v, segs[i], i + 1 == nsegs, limit, i == first ? start : PA_SEG_HEADER);
		if (st != PRIVAUDIT_OK)
			break;
		done += v->rep.bytes - before;
		if (v->progress != NULL)
			v->progress(v->progress_arg, done, v->total_bytes);
	}
	if (st != PRIVAUDIT_OK) {
		if (v->rep.has_bad && v->rep.bad_segment == UINT64_MAX)
			locate(v, segs, nsegs, v->rep.bad_index);
		goto out;
	}
	if (!v->chain.have_genesis) {
		st = fail_log(v, PRIVAUDIT_E_FORMAT, "the log holds no genesis record");
		goto out;
	}
	if (v->ckfile_bad) {
		st = fail_log(v, PRIVAUDIT_E_FORMAT,
			      "the checkpoint file is not a signed checkpoint note");
		goto out;
	}
	/* What the newest checkpoint does not cover, its own record aside. */
	last_ckpt_index = v->rep.checkpoints > 0 ? v->rep.sealed : 0;
	if (v->rep.checkpoints > 0) {
		uint64_t after = v->chain.tree.size - last_ckpt_index;

		v->rep.unsealed = after > 0 ? after - 1 : 0;
	} else {
		v->rep.unsealed = v->chain.tree.size;
	}
	for (int i = 0; i < 2; i++) {
		expect *x = &v->exp[i];

		if (!x->present)
			continue;
		if (strcmp(x->note.origin, v->chain.origin) != 0) {
			if (x->trusted) {
				st = fail_log(v, PRIVAUDIT_E_TRUSTED,
					      "the trusted checkpoint is for origin \"%.100s\", not \"%s\"",
					      x->note.origin, v->chain.origin);
				goto out;
			}
			st = fail_log(v, PRIVAUDIT_E_FOREIGN,
				      "the checkpoint file is for origin \"%.100s\", not \"%s\"",
				      x->note.origin, v->chain.origin);
			goto out;
		}
		if (x->note.size > v->chain.tree.size) {
			st = fail_at(v, PRIVAUDIT_E_TRUNCATED, v->chain.tree.size, UINT64_MAX, 0,
				     "%s covers %" PRIu64 " records but the log holds %" PRIu64,
				     x->trusted ? "the trusted checkpoint" : "the checkpoint file",
				     x->note.size, v->chain.tree.size);
			v->rep.bad_segment = segs[nsegs - 1];
			v->rep.bad_offset = v->last_end;   /* where the missing records would be */
			goto out;
		}
		if (!x->sig_checked && !note_signed_by_chain(v, &x->note)) {
			st = fail_log(v, x->trusted ? PRIVAUDIT_E_TRUSTED : PRIVAUDIT_E_SIGNATURE,
				      "%s is not signed by any key of this log's chain",
				      x->trusted ? "the trusted checkpoint" : "the checkpoint file");
			goto out;
		}
		if (x->root_bad) {
			st = fail_at(v, PRIVAUDIT_E_ROOT, x->bad_at, UINT64_MAX, 0,
				     "the first %" PRIu64 " records do not hash to the root signed in the checkpoint file",
				     x->note.size);
			locate(v, segs, nsegs, x->bad_at);
			goto out;
		}
		if (x->trusted) {
			/* Resumed, the leaves before the state are not at hand;
			 * its root, compared where the tree reached its size,
			 * already shows the log extends it. */
			st = v->resumed ? PRIVAUDIT_OK : prove_consistency(v);
			if (st != PRIVAUDIT_OK)
				goto out;
			v->rep.trusted_checked = 1;
		}
	}
	st = check_witnesses(v);
	if (st != PRIVAUDIT_OK)
		goto out;
	if (v->max_age > 0) {
		int64_t now = v->now ? v->now : (int64_t)time(NULL);

		if (v->rep.newest_time > now + FUTURE_SLACK) {
			st = fail_log(v, PRIVAUDIT_E_STALE,
				      "newest checkpoint is dated %" PRId64 " s in the future: the writer's clock is wrong, so its age proves nothing",
				      v->rep.newest_time - now);
			goto out;
		}
		if (v->rep.newest_time < 0 || now - v->rep.newest_time > v->max_age) {
			st = fail_log(v, PRIVAUDIT_E_STALE,
				      "newest checkpoint is %" PRId64 " s old, more than %" PRId64 " s",
				      v->rep.newest_time < 0 ? -1 : now - v->rep.newest_time, v->max_age);
			goto out;
		}
	}
	if (v->rep.backdated > 0) {
		st = fail_at(v, PRIVAUDIT_E_BACKDATED, v->rep.backdated_index, v->backdated_seg,
			     v->backdated_off,
			     "%" PRIu64 " record(s) dated more than %d s before a checkpoint signed "
			     "before them; the first, record %" PRIu64 ", by %" PRId64 " s",
			     v->rep.backdated, PRIVAUDIT_BACKDATE_SLACK, v->rep.backdated_index,
			     v->backdated_by);
		goto out;
	}
	v->rep.status = PRIVAUDIT_OK;
	snprintf(v->detail, sizeof(v->detail), "verified");
out:
	free(segs);
	finish_report(v);
	return v->rep.status;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_checkpoint_latest(const char *dir, char **note,
							      size_t *len)
{
	privaudit_status st;
	pa_note n;
	int dirfd, err;

	if (dir == NULL || note == NULL)
		return PRIVAUDIT_E_INVAL;
	*note = NULL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
	st = pa_read_file(NULL, dirfd, PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, note, len);
	err = errno;
	close(dirfd);
	if (st != PRIVAUDIT_OK)
		return st == PRIVAUDIT_E_IO && err == ENOENT ? PRIVAUDIT_E_NOLOG : st;
	if (pa_note_parse(*note, len ? *len : strlen(*note), &n) != PRIVAUDIT_OK) {
		free(*note);
		*note = NULL;
		return PRIVAUDIT_E_NOTE;
	}
	pa_note_free(&n);
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ resuming */

/* A verification state: "PAVSTATE", the segment and frame offset of the
 * checkpoint record it ends with, that record's leaf hash, the chain saved
 * just after it (chain.c), and a SHA-256 of all before. */

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_keep_state(privaudit_verifier *v)
{
	if (v == NULL)
		return PRIVAUDIT_E_INVAL;
	if (v->at == NULL && (v->at = calloc(1, sizeof(*v->at))) == NULL)
		return PRIVAUDIT_E_NOMEM;
	v->keep_state = 1;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_resume(privaudit_verifier *v,
							    const void *state, size_t len)
{
	unsigned char sum[PA_HASH_LEN];
	privaudit_status st;
	pa_chain *c;

	if (v == NULL || state == NULL)
		return PRIVAUDIT_E_INVAL;
	if (len < VSTATE_HEAD + PA_HASH_LEN || len > VSTATE_HEAD + PA_CHAIN_SAVED_MAX + PA_HASH_LEN ||
	    memcmp(state, VSTATE_MAGIC, 8) != 0)
		return PRIVAUDIT_E_FORMAT;
	pa_sha256(sum, state, len - PA_HASH_LEN);
	if (memcmp(sum, (const unsigned char *)state + len - PA_HASH_LEN, PA_HASH_LEN) != 0)
		return PRIVAUDIT_E_FORMAT;
	/* The chain must load (the pin, if any, is checked at the run). */
	c = malloc(sizeof(*c));
	if (c == NULL)
		return PRIVAUDIT_E_NOMEM;
	memset(c, 0, sizeof(*c));
	st = pa_chain_load(c, (const unsigned char *)state + VSTATE_HEAD,
			   len - VSTATE_HEAD - PA_HASH_LEN) == 0 && c->checkpoints > 0 && c->have_genesis
		     ? PRIVAUDIT_OK
		     : PRIVAUDIT_E_FORMAT;
	free(c);
	if (st != PRIVAUDIT_OK)
		return st;
	st = privaudit_verifier_keep_state(v);
	if (st != PRIVAUDIT_OK)
		return st;
	free(v->resume);
	v->resume = malloc(len);
	if (v->resume == NULL)
		return PRIVAUDIT_E_NOMEM;
	memcpy(v->resume, state, len);
	v->resume_len = len;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_state(const privaudit_verifier *v,
							   void **out, size_t *len)
{
	unsigned char *buf;
	pa_chain c;
	size_t n;

	if (v == NULL || out == NULL || len == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	*len = 0;
	if (v->rep.status != PRIVAUDIT_OK || !v->keep_state || !v->have_at)
		return PRIVAUDIT_E_STATE;
	buf = malloc(VSTATE_HEAD + PA_CHAIN_SAVED_MAX + PA_HASH_LEN);
	if (buf == NULL)
		return PRIVAUDIT_E_NOMEM;
	memcpy(buf, VSTATE_MAGIC, 8);
	pa_store64(buf + 8, v->at_seg);
	pa_store64(buf + 16, v->at_off);
	memcpy(buf + 24, v->at_leaf, PA_HASH_LEN);
	/* Saved unpinned: the pin is the caller's, given again each run, and
	 * checked then against the log id the state carries. */
	c = *v->at;
	c.have_pin = 0;
	c.pinned = 0;
	n = VSTATE_HEAD + pa_chain_save(&c, buf + VSTATE_HEAD);
	pa_sha256(buf + n, buf, n);
	*out = buf;
	*len = n + PA_HASH_LEN;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_archive(privaudit_verifier *v, const char *dir)
{
	int fd;

	if (v == NULL || dir == NULL)
		return PRIVAUDIT_E_INVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
	if (v->adirfd >= 0)
		close(v->adirfd);
	v->adirfd = fd;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_read_all(privaudit_verifier *v)
{
	if (v == NULL)
		return PRIVAUDIT_E_INVAL;
	v->read_all = 1;
	return PRIVAUDIT_OK;
}
