/* SPDX-License-Identifier: ISC */
/* session.c: the session module.  It owns a reader's session index
 * (index.c): loads it from the file beside the log, checks it against the
 * log, extends it with the records appended since or makes it again, keeps
 * with it the verdict of the files it describes, and answers the sessions
 * API from it.  It reads the log through the reader, which knows nothing
 * of it but how to free it and ask it where a record is. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "index.h"
#include "note.h"
#include "reader.h"

/* What a reader carries for this module. */
struct sessions {
	pa_index *ix;
	unsigned checked;   /* the reader's generation + 1 the index was made for; 0: none */
};

static void sessions_free(void *obj)
{
	struct sessions *sx = obj;

	if (sx != NULL)
		pa_index_free(sx->ix);
	free(sx);
}

static int sessions_locate(void *obj, uint64_t index, uint64_t *seg, uint64_t *off)
{
	struct sessions *sx = obj;

	return sx->ix != NULL ? pa_index_position(sx->ix, index, seg, off) : -1;
}

static const pa_reader_attachment sessions_ops = {sessions_free, sessions_locate};

static pa_index *ix_of(const privaudit_reader *r)
{
	struct sessions *sx = pa_reader_attached(r, &sessions_ops);

	return sx != NULL ? sx->ix : NULL;
}

/* The index describes the log as the reader now sees it (after its last
 * verification, if any). */
static int checked(const privaudit_reader *r)
{
	struct sessions *sx = pa_reader_attached(r, &sessions_ops);

	return sx != NULL && sx->ix != NULL && sx->checked == pa_reader_generation(r) + 1;
}

/* ------------------------------------------------------------ on disk */

/* An honest index is smaller than twice the segments (a position is 24
 * bytes, a frame at least 17) plus its sessions: no bigger file is read. */
static uint64_t index_max(privaudit_reader *r)
{
	uint64_t *segs = NULL, total = 0;
	size_t n = 0;

	if (pa_reader_segments(r, &segs, &n) != PRIVAUDIT_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;

		pa_seg_name(name, segs[i]);
		if (fstatat(pa_reader_dirfd(r), name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_size > 0)
			total += (uint64_t)sb.st_size;
	}
	free(segs);
	return total * 2 + ((uint64_t)16 << 20);
}

static pa_index *load(privaudit_reader *r)
{
	pa_index *ix = NULL;
	unsigned char *buf = NULL;
	struct stat sb;
	int fd;

	uint64_t max = index_max(r);

	fd = openat(pa_reader_dirfd(r), PA_INDEX_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
	    (uint64_t)sb.st_size <= max &&
	    (buf = malloc((size_t)sb.st_size)) != NULL &&
	    pa_pread_full(fd, buf, (size_t)sb.st_size, 0) == 0)
		pa_index_parse(buf, (size_t)sb.st_size, &ix);
	free(buf);
	close(fd);
	return ix;
}

/* Best effort: an auditor's read-only copy keeps its index in memory. */
static void save(privaudit_reader *r, pa_index *ix)
{
	unsigned char *buf;
	char tmp[64];
	size_t len;
	int fd;

	if (pa_index_serialize(ix, &buf, &len) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", PA_INDEX_FILE, (long)getpid());
	fd = openat(pa_reader_dirfd(r), tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd >= 0) {
		if (pa_write_full(fd, buf, len) == 0 && close(fd) == 0) {
			if (renameat(pa_reader_dirfd(r), tmp, pa_reader_dirfd(r), PA_INDEX_FILE) == 0)
				ix->dirty = 0;
		} else {
			(void)0;
		}
		unlinkat(pa_reader_dirfd(r), tmp, 0);
	}
	free(buf);
}

/* The record the index ends with is still there, byte for byte. */
static int tail_matches(privaudit_reader *r, const pa_index *ix)
{
	const privaudit_record *rec;
	unsigned char leaf[PA_HASH_LEN];

	const unsigned char *log_id = pa_reader_log_id(r);

	if (log_id == NULL || memcmp(ix->log_id, log_id, PA_HASH_LEN) != 0)
		return 0;
	if (ix->nrecords == 0)
		return 1;
	if (pa_reader_read_at(r, ix->nrecords - 1, ix->last_seg, ix->last_off, &rec) != PRIVAUDIT_OK)
		return 0;
	pa_hash_leaf(leaf, rec->entry, rec->len);
	return memcmp(leaf, ix->last_leaf, PA_HASH_LEN) == 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* The segment files as they are now. */
static int take_snapshot(privaudit_reader *r, ix_snap **out, size_t *n)
{
	uint64_t *segs = NULL;
	size_t count = 0;
	ix_snap *s;

	if (pa_reader_segments(r, &segs, &count) != PRIVAUDIT_OK)
		return -1;
	s = calloc(count ? count : 1, sizeof(*s));
	if (s == NULL) {
		free(segs);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;

		pa_seg_name(name, segs[i]);
		s[i].number = segs[i];
		if (fstatat(pa_reader_dirfd(r), name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			s[i].ino = (uint64_t)sb.st_ino;
			s[i].size = (uint64_t)sb.st_size;
			s[i].mtime_ns = ts_ns(&sb.st_mtim);
			s[i].ctime_ns = ts_ns(&sb.st_ctim);
		}
	}
	free(segs);
	*out = s;
	*n = count;
	return 0;
}

/* A checkpoint newer than the verdict's: verifying again would seal more. */
static int newer_checkpoint(privaudit_reader *r, const pa_index *ix)
{
	char *text = NULL;
	size_t len = 0;
	pa_note n;
	int newer = 0;

	if (pa_read_file(NULL, pa_reader_dirfd(r), PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, &text, &len) !=
	    PRIVAUDIT_OK)
		return 0;
	if (pa_note_parse(text, len, &n) == PRIVAUDIT_OK) {
		newer = n.size > ix->verdict.newest_size;
		pa_note_free(&n);
	}
	free(text);
	return newer;
}

/* SHA-256 of the first len bytes of segment number. */
static int segment_digest(privaudit_reader *r, uint64_t number, uint64_t len,
			  unsigned char out[PA_HASH_LEN])
{
	char name[PA_SEG_NAME_MAX];
	int fd, rc;

	pa_seg_name(name, number);
	fd = openat(pa_reader_dirfd(r), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	rc = pa_sha256_file(out, fd, len);
	close(fd);
	return rc;
}

/* The cached verification still describes the files: every segment it
 * read is untouched (same inode, size and times: root cannot set a ctime),
 * except the last, which writers append to: that one must still begin
 * with the very bytes verified. */
static int snapshot_holds(privaudit_reader *r, const pa_index *ix)
{
	unsigned char d[PA_HASH_LEN];
	ix_snap *now = NULL;
	size_t n = 0;
	int ok;

	if (!ix->has_verdict || ix->nsnap == 0 || newer_checkpoint(r, ix) ||
	    take_snapshot(r, &now, &n) < 0)
		return 0;
	ok = n >= ix->nsnap;
	for (size_t i = 0; ok && i < ix->nsnap; i++) {
		const ix_snap *a = &ix->snap[i], *b = &now[i];

		if (a->number != b->number || a->ino != b->ino)
			ok = 0;
		else if (a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns)
			ok = 1;
		else
			ok = i + 1 == ix->nsnap && b->size >= a->size &&
			     segment_digest(r, a->number, a->size, d) == 0 &&
			     memcmp(d, a->digest, PA_HASH_LEN) == 0;
	}
	free(now);
	return ok;
}

/* Snapshot the files with the last segment's digest. */
static void snapshot_for_verdict(privaudit_reader *r, pa_index *ix)
{
	free(ix->snap);
	ix->snap = NULL;
	ix->nsnap = 0;
	if (take_snapshot(r, &ix->snap, &ix->nsnap) < 0)
		return;
	if (ix->nsnap > 0) {
		ix_snap *last = &ix->snap[ix->nsnap - 1];

		if (segment_digest(r, last->number, last->size, last->digest) < 0) {
			free(ix->snap);
			ix->snap = NULL;
			ix->nsnap = 0;
		}
	}
}

static void copy_verdict(pa_index *ix, const privaudit_verify_report *rep)
{
	ix->verdict = *rep;
	snprintf(ix->detail, sizeof(ix->detail), "%s", rep->detail);
	snprintf(ix->origin, sizeof(ix->origin), "%s", rep->origin);
	ix->verdict.detail = ix->detail;
	ix->verdict.origin = ix->origin;
	ix->has_verdict = 1;
}

/* Verify the log now and keep the verdict with the files it read. */
static void refresh_verdict(privaudit_reader *r, pa_index *ix)
{
	privaudit_verifier *v = NULL;
	const privaudit_verify_report *rep;
	void *progress_arg;
	privaudit_progress_fn progress = pa_reader_progress_fn(r, &progress_arg);

	ix->has_verdict = 0;
	ix->dirty = 1;
	snapshot_for_verdict(r, ix);
	if (ix->nsnap == 0)
		return;
	if (privaudit_verifier_new(&v, pa_reader_dir(r)) != PRIVAUDIT_OK)
		return;
	if (progress != NULL)
		privaudit_verifier_progress(v, progress, progress_arg);
	privaudit_verify_run(v, &rep);
	if (rep->status != PRIVAUDIT_E_NOMEM && rep->status != PRIVAUDIT_E_IO)
		copy_verdict(ix, rep);
	privaudit_verifier_free(v);
}

/* Index every record from where ix ends to the end of the log. */
static privaudit_status extend(privaudit_reader *r, pa_index *ix)
{
	const privaudit_record *rec;
	uint64_t first = ix->nrecords, total = 0;
	privaudit_status st;

	/* Progress counts records; the total is a guess from the tail. */
	void *progress_arg;
	privaudit_progress_fn progress = pa_reader_progress_fn(r, &progress_arg);

	if (progress != NULL && privaudit_reader_count(r, &total) == PRIVAUDIT_OK)
		total = total > first ? total - first : 0;
	if (ix->nrecords == 0) {
		st = privaudit_reader_seek(r, 0);
	} else {
		/* resume right after the last indexed record (tail_matches
		 * checked it is there) */
		st = pa_reader_resume(r, ix->last_seg, ix->last_off, ix->nrecords - 1);
		if (st == PRIVAUDIT_OK)
			st = privaudit_reader_next(r, &rec);
	}
	while (st == PRIVAUDIT_OK) {
		st = privaudit_reader_next(r, &rec);
		if (st != PRIVAUDIT_OK)
			break;
		if (pa_index_record(ix, rec) < 0)
			return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
		ix->nrecords = rec->index + 1;
		if (progress != NULL && (rec->index & 0xffff) == 0)
			progress(progress_arg, rec->index - first, total);
		ix->last_seg = rec->segment;
		ix->last_off = rec->offset;
		pa_hash_leaf(ix->last_leaf, rec->entry, rec->len);
		ix->dirty = 1;
	}
	if (st == PRIVAUDIT_E_END || st == PRIVAUDIT_OK)
		return PRIVAUDIT_OK;
	if (st == PRIVAUDIT_E_NOMEM || st == PRIVAUDIT_E_IO)
		return st;
	/* Damage the reader did not step over: what comes before it is
	 * indexed, and privaudit_reader_damage() says where it stopped. */
	return PRIVAUDIT_OK;
}

static int map_fit(pa_index *ix)
{
	size_t cap = 1024;

	while (cap < ix->nsess * 2 + 2)
		cap *= 2;
	return pa_index_map_rebuild(ix, cap);
}

static pa_index *fresh(privaudit_reader *r)
{
	pa_index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	if (pa_reader_log_id(r) != NULL)
		memcpy(ix->log_id, pa_reader_log_id(r), PA_HASH_LEN);
	ix->pool = malloc(1);
	if (ix->pool == NULL) {
		free(ix);
		return NULL;
	}
	ix->pool[0] = '\0';
	ix->pool_len = ix->pool_cap = 1;
	ix->dirty = 1;
	return ix;
}

/* Frame damage in the verdict: a cached index may hold records from
 * before the damage was done, so it is made again from the files. */
static int verdict_damaged(const pa_index *ix)
{
	return ix->has_verdict && (ix->verdict.status == PRIVAUDIT_E_FORMAT ||
				   ix->verdict.status == PRIVAUDIT_E_SEQUENCE);
}

/* A fresh index for r that keeps old's verdict and snapshot. */
static pa_index *fresh_keeping_verdict(privaudit_reader *r, pa_index *old)
{
	pa_index *ix = fresh(r);

	if (ix != NULL) {
		copy_verdict(ix, &old->verdict);
		ix->snap = old->snap;
		ix->nsnap = old->nsnap;
		old->snap = NULL;
		old->nsnap = 0;
	}
	pa_index_free(old);
	return ix;
}

/* Load r's index, check it against the log, extend it with new records or
 * rebuild it, and save it when it changed (when the directory is writable
 * and reading met no damage). */
static privaudit_status update(privaudit_reader *r)
{
	struct sessions *sx = pa_reader_attached(r, &sessions_ops);
	privaudit_status st;
	pa_index *ix = NULL;

	if (checked(r))
		return PRIVAUDIT_OK;
	/* Segment 0's log id tells our index from another log's. */
	st = privaudit_reader_seek(r, 0);
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_END)
		return st;
	/* After a verification the index is made again from the verified
	 * bytes (each record read is checked against the verified tree), so
	 * not even which session a record belongs to comes from the file. */
	if (pa_reader_verifier(r) == NULL) {
		ix = load(r);
		if (ix != NULL && !tail_matches(r, ix)) {
			pa_index_free(ix);
			ix = NULL;
		}
	}
	if (ix == NULL && (ix = fresh(r)) == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	if (pa_reader_verifier(r) != NULL) {
		snapshot_for_verdict(r, ix);
		if (ix->nsnap > 0)
			copy_verdict(ix, pa_reader_report(r));
	} else if (!snapshot_holds(r, ix)) {
		refresh_verdict(r, ix);
		if (ix->nrecords > 0 && verdict_damaged(ix) &&
		    (ix = fresh_keeping_verdict(r, ix)) == NULL)
			return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	}
	if (map_fit(ix) < 0) {
		pa_index_free(ix);
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	}
	st = extend(r, ix);
	if (st != PRIVAUDIT_OK) {
		pa_index_free(ix);
		return st;
	}
	/* Bytes that changed since they were verified (or damage): keep no
	 * verdict for files it does not describe, and no index made past
	 * damage (the next reader meets it again, and says so). */
	if (privaudit_reader_damage(r) != NULL) {
		if (pa_reader_verifier(r) != NULL)
			ix->has_verdict = 0;
	} else if (ix->dirty) {
		save(r, ix);
	}
	if (sx == NULL) {
		sx = calloc(1, sizeof(*sx));
		if (sx == NULL) {
			pa_index_free(ix);
			return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
		}
		pa_reader_attach(r, sx, &sessions_ops);
	}
	pa_index_free(sx->ix);
	sx->ix = ix;
	sx->checked = pa_reader_generation(r) + 1;
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ sessions API */

static privaudit_bytes ref_bytes(const pa_index *ix, const ix_ref *r)
{
	privaudit_bytes b = {ix->pool + r->off, (size_t)r->len};

	return b;
}

static void session_id_of(const void *host, size_t hl, const void *key, size_t kl, char id[16])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[PA_HASH_LEN], *buf;

	if (hl > IX_MAX_FIELD)
		hl = IX_MAX_FIELD;
	if (kl > IX_MAX_FIELD)
		kl = IX_MAX_FIELD;
	buf = malloc(18 + hl + 1 + kl);
	if (buf == NULL) {
		memcpy(id, "000000000000", 13);
		return;
	}
	memcpy(buf, "privaudit session\n", 18);
	if (hl > 0)
		memcpy(buf + 18, host, hl);
	buf[18 + hl] = '\n';
	if (kl > 0)
		memcpy(buf + 19 + hl, key, kl);
	pa_sha256(h, buf, 19 + hl + kl);
	free(buf);
	for (int i = 0; i < 6; i++) {
		id[2 * i] = hex[h[i] >> 4];
		id[2 * i + 1] = hex[h[i] & 15];
	}
	id[12] = '\0';
}

static void session_id(const pa_index *ix, const ix_session *x, char id[16])
{
	session_id_of(ix->pool + x->ref[REF_HOST].off, x->ref[REF_HOST].len,
		      ix->pool + x->ref[REF_KEY].off, x->ref[REF_KEY].len, id);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_session_id(const privaudit_record *rec,
							      char id[16])
{
	const char *host;

	if (rec == NULL || id == NULL)
		return PRIVAUDIT_E_INVAL;
	if (rec->rec->session_key.len == 0)
		return PRIVAUDIT_E_NOTFOUND;
	host = rec->rec->host != NULL ? rec->rec->host : "";
	session_id_of(host, strlen(host), rec->rec->session_key.data, rec->rec->session_key.len, id);
	return PRIVAUDIT_OK;
}

static const privaudit_verify_report *verdict(const privaudit_reader *r, int *cached)
{
	if (pa_reader_report(r) != NULL) {
		*cached = 0;
		return pa_reader_report(r);
	}
	*cached = 1;
	const pa_index *ix = ix_of(r);

	return ix != NULL && ix->has_verdict ? &ix->verdict : NULL;
}

static privaudit_status publish(privaudit_reader *r)
{
	pa_index *ix = ix_of(r);
	const privaudit_verify_report *v;
	uint64_t sealed;
	int cached;

	if (ix == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_STATE, "no index");
	v = verdict(r, &cached);
	if (ix->pub != NULL && ix->pub_verdict == v)
		return PRIVAUDIT_OK;   /* nothing changed: the same list stays valid */
	sealed = v != NULL ? v->sealed : 0;
	free(ix->pub);
	ix->pub_verdict = v;
	ix->pub = calloc(ix->nsess ? ix->nsess : 1, sizeof(*ix->pub));
	if (ix->pub == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	for (size_t s = 0; s < ix->nsess; s++) {
		const ix_session *x = &ix->sess[s];
		privaudit_session *p = &ix->pub[s];

		session_id(ix, x, p->id);
		p->key = ref_bytes(ix, &x->ref[REF_KEY]);
		p->host = ref_bytes(ix, &x->ref[REF_HOST]);
		p->service = ref_bytes(ix, &x->ref[REF_SERVICE]);
		p->user = ref_bytes(ix, &x->ref[REF_USER]);
		p->login_user = ref_bytes(ix, &x->ref[REF_LOGIN]);
		p->rhost = ref_bytes(ix, &x->ref[REF_RHOST]);
		p->tty = ref_bytes(ix, &x->ref[REF_TTY]);
		p->start_ns = x->start_ns;
		p->end_ns = x->has_open ? (x->open ? 0 : x->end_ns) : x->last_ns;
		p->open = (int)x->open;
		p->has_open = (int)x->has_open;
		p->auid = x->auid;
		p->ses = x->ses;
		p->records = x->records;
		p->commands = x->commands;
		p->tty_inputs = x->tty_inputs;
		p->auth_attempts = x->auth_attempts;
		p->pam_sessions = x->pam_sessions;
		p->first_index = x->first_index;
		p->last_index = x->last_index;
		p->appended_after = x->sealed_at;
		p->late = x->late;
	}
	/* Records a verified checkpoint covers, per session. */
	for (size_t i = 0; i < ix->npos && ix->pos[i].index < sealed; i++)
		if (ix->pos[i].sess != IX_NO_SESSION)
			ix->pub[ix->pos[i].sess].verified++;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_sessions(privaudit_reader *r,
						     const privaudit_session **list,
						     size_t *count)
{
	const pa_index *ix;
	privaudit_status st;

	if (r == NULL || list == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	*list = NULL;
	*count = 0;
	st = update(r);
	if (st == PRIVAUDIT_OK)
		st = publish(r);
	if (st != PRIVAUDIT_OK)
		return st;
	ix = ix_of(r);
	if (ix == NULL)
		return PRIVAUDIT_E_STATE;
	*list = ix->pub;
	*count = ix->nsess;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_find(privaudit_reader *r, const char *name,
							 const privaudit_session **session)
{
	const privaudit_session *list, *found = NULL;
	size_t n, nl;
	privaudit_status st;

	if (r == NULL || name == NULL || session == NULL)
		return PRIVAUDIT_E_INVAL;
	*session = NULL;
	st = privaudit_sessions(r, &list, &n);
	if (st != PRIVAUDIT_OK)
		return st;
	nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, name) == 0 ||
		    (list[i].key.len == nl && memcmp(list[i].key.data, name, nl) == 0)) {
			*session = &list[i];
			return PRIVAUDIT_OK;
		}
	if (nl < 4)
		return PRIVAUDIT_E_NOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].id, name, nl) == 0) {
			if (found != NULL)
				return PRIVAUDIT_E_AMBIGUOUS;
			found = &list[i];
		}
	if (found == NULL)
		return PRIVAUDIT_E_NOTFOUND;
	*session = found;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_records(privaudit_reader *r,
							    const privaudit_session *session,
							    const uint64_t **indexes, size_t *count)
{
	pa_index *ix;
	size_t s, n = 0;

	if (r == NULL || session == NULL || indexes == NULL || count == NULL ||
	    (ix = ix_of(r)) == NULL || ix->pub == NULL)
		return PRIVAUDIT_E_INVAL;
	if (session < ix->pub || session >= ix->pub + ix->nsess)
		return PRIVAUDIT_E_INVAL;
	s = (size_t)(session - ix->pub);
	/* Sized by the positions themselves, never by a count from the file. */
	for (size_t i = 0; i < ix->npos; i++)
		n += ix->pos[i].sess == s;
	free(ix->list);
	ix->list = malloc((n ? n : 1) * sizeof(uint64_t));
	if (ix->list == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < ix->npos; i++)
		if (ix->pos[i].sess == s)
			ix->list[n++] = ix->pos[i].index;
	*indexes = ix->list;
	*count = n;
	return PRIVAUDIT_OK;
}

/* The index's number of a session privaudit_sessions() listed, or -1. */
static int64_t session_number(const privaudit_reader *r, const privaudit_session *session)
{
	const pa_index *ix = ix_of(r);

	if (ix == NULL || ix->pub == NULL || session < ix->pub || session >= ix->pub + ix->nsess)
		return -1;
	return session - ix->pub;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_flags(privaudit_reader *r,
							  const privaudit_session *session,
							  uint32_t *flags)
{
	const pa_index *ix;
	int64_t s;

	if (flags != NULL)
		*flags = 0;
	if (r == NULL || session == NULL || flags == NULL || (s = session_number(r, session)) < 0 ||
	    (ix = ix_of(r)) == NULL)
		return PRIVAUDIT_E_INVAL;
	*flags = ix->sess[s].flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT;
	return PRIVAUDIT_OK;
}

/* Does a command record match the glob, as its argv joined or its exe? */
static int command_matches(const Privaudit__Command *c, const char *glob, int *match)
{
	size_t len;
	char *line = pa_index_command_line(c, &len);

	if (line == NULL)
		return -1;
	*match = fnmatch(glob, line, 0) == 0;
	free(line);
	if (!*match && pa_index_command_exe(c)) {
		char *e = strndup((const char *)c->exe.data, c->exe.len);

		if (e == NULL)
			return -1;
		*match = fnmatch(glob, e, 0) == 0;
		free(e);
	}
	return 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_command_match(privaudit_reader *r,
								  const privaudit_session *session,
								  const char *glob, int *match)
{
	const uint64_t *idx;
	const ix_session *x;
	const pa_index *ix;
	privaudit_status st;
	size_t n;
	int64_t s;

	if (match != NULL)
		*match = 0;
	if (r == NULL || session == NULL || glob == NULL || match == NULL ||
	    (s = session_number(r, session)) < 0)
		return PRIVAUDIT_E_INVAL;
	if ((ix = ix_of(r)) == NULL)
		return PRIVAUDIT_E_INVAL;
	x = &ix->sess[s];
	for (uint32_t i = x->cmd_head; i != 0; i = ix->cmd[i - 1].next)
		if (fnmatch(glob, (const char *)ix->pool + ix->cmd[i - 1].ref.off, 0) == 0) {
			*match = 1;
			return PRIVAUDIT_OK;
		}
	if (!x->cmds_cut)
		return PRIVAUDIT_OK;
	/* more commands than the index keeps: read them */
	st = privaudit_session_records(r, session, &idx, &n);
	for (size_t i = 0; st == PRIVAUDIT_OK && i < n && !*match; i++) {
		const privaudit_record *rec;

		st = privaudit_reader_get(r, idx[i], &rec);
		if (st == PRIVAUDIT_OK && rec->rec->body_case == PRIVAUDIT__RECORD__BODY_COMMAND &&
		    command_matches(rec->rec->command, glob, match) < 0)
			st = pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	}
	if (st != PRIVAUDIT_OK)
		*match = 0;
	return st;
}

/* Whether the events a gap record counts may have happened within
 * [start, end]: by the times it gives for them, else by when it was
 * written (a writer appends one as soon as it can). */
static int gap_overlaps(const pa_record *d, uint64_t start, uint64_t end)
{
	const Privaudit__Gap *g = d->gap;
	uint64_t lo = d->time_ns, hi = d->time_ns;

	if (g->first_time_ns != 0 && g->last_time_ns >= g->first_time_ns) {
		lo = g->first_time_ns;
		hi = g->last_time_ns;
	}
	return lo <= end && hi >= start;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_gaps(privaudit_reader *r,
							 const privaudit_session *session,
							 const uint64_t **indexes, size_t *count)
{
	uint64_t start, end, *list;
	size_t n = 0, total = 0;
	pa_index *ix;
	int64_t s;

	if (r == NULL || session == NULL || indexes == NULL || count == NULL ||
	    (s = session_number(r, session)) < 0)
		return PRIVAUDIT_E_INVAL;
	ix = ix_of(r);
	start = session->start_ns;
	end = session->open ? UINT64_MAX : session->end_ns;
	for (size_t i = 0; i < ix->npos; i++)
		total += ix->pos[i].sess == IX_NO_SESSION;
	list = malloc((total ? total : 1) * sizeof(*list));
	if (list == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	for (size_t i = 0; i < ix->npos; i++) {
		const privaudit_record *rec;
		privaudit_status st;

		if (ix->pos[i].sess != IX_NO_SESSION)
			continue;
		/* the index is a cache: its positions say where to look */
		st = pa_reader_read_at(r, ix->pos[i].index, ix->pos[i].seg, ix->pos[i].off, &rec);
		if (st != PRIVAUDIT_OK) {
			free(list);
			return st;
		}
		if (rec->rec->body_case == PRIVAUDIT__RECORD__BODY_GAP &&
		    gap_overlaps(rec->rec, start, end))
			list[n++] = ix->pos[i].index;
	}
	free(ix->sgaps);
	ix->sgaps = list;
	*indexes = list;
	*count = n;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_gaps(privaudit_reader *r,
							const uint64_t **indexes, size_t *count)
{
	pa_index *ix;
	privaudit_status st;

	if (r == NULL || indexes == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	st = update(r);
	if (st != PRIVAUDIT_OK)
		return st;
	if ((ix = ix_of(r)) == NULL)
		return PRIVAUDIT_E_STATE;
	free(ix->gaps);
	ix->gaps = malloc((ix->npos ? ix->npos : 1) * sizeof(uint64_t));
	if (ix->gaps == NULL)
		return pa_fail(pa_reader_err(r), PRIVAUDIT_E_NOMEM, "out of memory");
	ix->ngaps = 0;
	for (size_t i = 0; i < ix->npos; i++)
		if (ix->pos[i].sess == IX_NO_SESSION)
			ix->gaps[ix->ngaps++] = ix->pos[i].index;
	*indexes = ix->gaps;
	*count = ix->ngaps;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_verdict(privaudit_reader *r,
							   const privaudit_verify_report **report,
							   int *cached)
{
	int c;

	if (r == NULL || report == NULL)
		return PRIVAUDIT_E_INVAL;
	*report = verdict(r, &c);
	if (cached != NULL)
		*cached = c;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT int privaudit_reader_appended_later(privaudit_reader *r,
						     const privaudit_record *rec)
{
	const pa_record *d;
	const pa_index *ix;
	const char *host;
	int64_t s;
	size_t slot;

	/* Building the index here would move the reader under its caller. */
	if (r == NULL || rec == NULL || !checked(r) || (ix = ix_of(r)) == NULL || ix->map_cap == 0)
		return 0;
	d = rec->rec;
	if (d->session_key.len == 0)
		return 0;
	host = d->host != NULL ? d->host : "";
	s = pa_index_session_lookup(ix, host, strlen(host), d->session_key.data, d->session_key.len,
				    &slot);
	return s >= 0 && ix->sess[s].sealed_at != 0 && rec->index >= ix->sess[s].sealed_at;
}
