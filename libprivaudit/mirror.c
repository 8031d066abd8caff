/* SPDX-License-Identifier: ISC */
/* mirror.c: the collector's byte-exact copy of another host's log.  Records
 * arrive one by one, possibly twice or early; each is checked against the
 * host's pinned first key as it joins the copy (chain.c), so the mirror is
 * verified incrementally, and it stays a log directory every reader takes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "chain.h"
#include "lock.h"
#include "note.h"
#include "record.h"
#include "segment.h"
#include "util.h"

#define STATE_FILE "collect.state"
#define SPOOL_FILE "pending"
#define FORKS_DIR "forks"
#define REJECTED_DIR "rejected"
#define SEG_LIMIT (64u << 20)
#define WBUF_MAX (1u << 20)
/* Positions and leaf hashes of the newest records, so that a resend is
 * recognised without reading the segments. */
#define RING 65536u
#define LOCK_MS 30000
/* The state file is a cache (rebuilt from the segments when it does not
 * load), so it is written now and then, not at every sync. */
#define STATE_EVERY 50000u

typedef struct ring_slot {
	uint64_t index;               /* UINT64_MAX: empty */
	unsigned char leaf[PA_HASH_LEN];
} ring_slot;

typedef struct early {
	uint64_t index;
	unsigned char *entry;
	size_t len;
} early;

typedef struct segstart {
	uint64_t number, first;
} segstart;

struct privaudit_mirror {
	int dirfd, lockfd, locked;
	char *dir;
	pa_err err;
	char vkey[PA_VKEY_MAX];
	unsigned char log_id[PA_HASH_LEN];
	pa_chain chain;
	pa_arena arena;

	/* where the next frame goes */
	int segfd;
	uint64_t seg_number, seg_size;
	int new_segment;              /* the directory needs an fsync */
	unsigned char *wbuf;
	size_t wlen;
	segstart *segs;
	size_t nsegs, capsegs;

	ring_slot *ring;

	early *early;
	size_t nearly, capearly, early_bytes, max_early, max_early_bytes;
	int spoolfd;
	int spool_dirty;              /* written since the last fdatasync */
	int spool_used;               /* holds frames */

	char *note;                   /* newest verified checkpoint note */
	size_t note_len;
	int note_dirty;
	privaudit_mirror_cosign_fn cosign;
	void *cosign_arg;

	uint64_t since_state;
	uint64_t forks, rejected;
	privaudit_status failed;
	uint64_t failed_at;
	char detail[768];
	char origin[PA_ORIGIN_MAX];
	char log_id_hex[65];
};

static privaudit_status set_failed(privaudit_mirror *m, privaudit_status st, uint64_t at,
				   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static privaudit_status set_failed(privaudit_mirror *m, privaudit_status st, uint64_t at,
				   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->detail, sizeof(m->detail), fmt, ap);
	va_end(ap);
	m->failed = st;
	m->failed_at = at;
	return st;
}

static uint64_t file_size(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int write_lock(privaudit_mirror *m)
{
	if (m->locked)
		return 0;
	if (pa_lock(m->lockfd, 1, LOCK_MS) < 0)
		return -1;
	m->locked = 1;
	return 0;
}

static void write_unlock(privaudit_mirror *m)
{
	if (m->locked)
		pa_unlock(m->lockfd);
	m->locked = 0;
}

static int add_segstart(privaudit_mirror *m, uint64_t number, uint64_t first)
{
	if (m->nsegs == m->capsegs) {
		size_t cap = m->capsegs ? m->capsegs * 2 : 16;
		segstart *n = realloc(m->segs, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		m->segs = n;
		m->capsegs = cap;
	}
	m->segs[m->nsegs].number = number;
	m->segs[m->nsegs].first = first;
	m->nsegs++;
	return 0;
}

static void ring_put(privaudit_mirror *m, uint64_t index, const unsigned char leaf[PA_HASH_LEN])
{
	ring_slot *s = &m->ring[index % RING];

	s->index = index;
	memcpy(s->leaf, leaf, PA_HASH_LEN);
}

/* Take one checked record into the chain; the caller writes it. */
static privaudit_status chain_take(privaudit_mirror *m, uint64_t index, const unsigned char *entry,
				   size_t len, unsigned char leaf[PA_HASH_LEN])
{
	uint64_t before = m->chain.checkpoints;
	privaudit_status st;
	pa_record *rec;

	pa_hash_leaf(leaf, entry, len);
	rec = pa_record_decode_arena(&m->arena, entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	if (rec == NULL)
		return set_failed(m, m->arena.failed ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_FORMAT, index,
				  "record %" PRIu64 " does not decode", index);
	st = pa_chain_add(&m->chain, index, rec, leaf, NULL);
	if (st != PRIVAUDIT_OK)
		return set_failed(m, st, m->chain.bad_index, "%s", m->chain.detail);
	if (index == 0)
		snprintf(m->origin, sizeof(m->origin), "%s", m->chain.origin);
	if (m->chain.checkpoints != before) {
		char *n = malloc(rec->checkpoint->note.len + 1);

		if (n == NULL)   /* the chain moved on without it: reopen to retry */
			return set_failed(m, PRIVAUDIT_E_NOMEM, index, "out of memory");
		memcpy(n, rec->checkpoint->note.data, rec->checkpoint->note.len);
		n[rec->checkpoint->note.len] = '\0';
		free(m->note);
		m->note = n;
		m->note_len = rec->checkpoint->note.len;
		m->note_dirty = 1;
	}
	ring_put(m, index, leaf);
	m->since_state++;
	return PRIVAUDIT_OK;
}

static privaudit_status flush(privaudit_mirror *m)
{
	if (m->wlen == 0)
		return PRIVAUDIT_OK;
	if (pa_pwrite_full(m->segfd, m->wbuf, m->wlen, (off_t)(m->seg_size - m->wlen)) < 0)
		return pa_fail_errno(&m->err, "write", "segment");
	m->wlen = 0;
	return PRIVAUDIT_OK;
}

static privaudit_status open_segment(privaudit_mirror *m, uint64_t number, uint64_t first)
{
	unsigned char hdr[PA_SEG_HEADER];
	char name[PA_SEG_NAME_MAX];
	pa_seghdr h;
	int fd;

	pa_seg_name(name, number);
	fd = openat(m->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return pa_fail_errno(&m->err, "create", name);
	h.number = number;
	h.first_index = first;
	memcpy(h.log_id, m->log_id, PA_HASH_LEN);
	pa_seg_header_encode(hdr, &h);
	if (pa_pwrite_full(fd, hdr, sizeof(hdr), 0) < 0) {
		privaudit_status st = pa_fail_errno(&m->err, "write", name);

		close(fd);
		unlinkat(m->dirfd, name, 0);
		return st;
	}
	if (add_segstart(m, number, first) < 0) {
		close(fd);
		return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	if (m->segfd >= 0)
		close(m->segfd);
	m->segfd = fd;
	m->seg_number = number;
	m->seg_size = PA_SEG_HEADER;
	m->new_segment = 1;
	return PRIVAUDIT_OK;
}

/* Append the frame of a record the chain took. */
static privaudit_status write_frame(privaudit_mirror *m, uint64_t index, const unsigned char *entry,
				    size_t len)
{
	privaudit_status st;

	if (m->segfd < 0 || m->seg_size >= SEG_LIMIT) {
		st = flush(m);
		if (st == PRIVAUDIT_OK && m->segfd >= 0 && fdatasync(m->segfd) < 0)
			st = pa_fail_errno(&m->err, "fdatasync", "segment");
		if (st == PRIVAUDIT_OK)
			st = open_segment(m, m->segfd < 0 ? 0 : m->seg_number + 1, index);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	if (m->wlen + len + PA_FRAME_OVERHEAD > WBUF_MAX) {
		st = flush(m);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	if (len + PA_FRAME_OVERHEAD > WBUF_MAX) {
		unsigned char *f = malloc(len + PA_FRAME_OVERHEAD);

		if (f == NULL)
			return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
		memcpy(f + 4, entry, len);
		pa_frame_encode(f, f + 4, len);
		if (pa_pwrite_full(m->segfd, f, len + PA_FRAME_OVERHEAD, (off_t)m->seg_size) < 0) {
			free(f);
			return pa_fail_errno(&m->err, "write", "segment");
		}
		free(f);
	} else {
		memcpy(m->wbuf + m->wlen + 4, entry, len);
		pa_frame_encode(m->wbuf + m->wlen, m->wbuf + m->wlen + 4, len);
		m->wlen += len + PA_FRAME_OVERHEAD;
	}
	m->seg_size += len + PA_FRAME_OVERHEAD;
	return PRIVAUDIT_OK;
}

/* Keep a record that is not part of the mirror, as evidence, under
 * sub/INDEX-HASH (the first 8 bytes of its leaf hash, hex). */
static privaudit_status keep_aside(privaudit_mirror *m, const char *sub, uint64_t index,
				   const unsigned char *entry, size_t len)
{
	unsigned char leaf[PA_HASH_LEN];
	char name[128];
	int fd;

	pa_hash_leaf(leaf, entry, len);
	if (mkdirat(m->dirfd, sub, 0750) < 0 && errno != EEXIST)
		return pa_fail_errno(&m->err, "mkdir", sub);
	snprintf(name, sizeof(name), "%s/%020" PRIu64 "-%02x%02x%02x%02x%02x%02x%02x%02x", sub, index,
		 leaf[0], leaf[1], leaf[2], leaf[3], leaf[4], leaf[5], leaf[6], leaf[7]);
	fd = openat(m->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno == EEXIST ? PRIVAUDIT_OK : pa_fail_errno(&m->err, "create", name);
	if (pa_write_full(fd, entry, len) < 0 || fdatasync(fd) < 0) {
		privaudit_status st = pa_fail_errno(&m->err, "write", name);

		close(fd);
		unlinkat(m->dirfd, name, 0);
		return st;
	}
	close(fd);
	return PRIVAUDIT_E_EXISTS;   /* kept now (the caller counts it) */
}

/* The leaf hash of held record index (< chain.tree.size). */
static privaudit_status held_leaf(privaudit_mirror *m, uint64_t index, unsigned char leaf[PA_HASH_LEN])
{
	const ring_slot *s = &m->ring[index % RING];
	char name[PA_SEG_NAME_MAX];
	privaudit_status st;
	pa_segreader r;
	size_t i;
	int fd;

	if (s->index == index) {
		memcpy(leaf, s->leaf, PA_HASH_LEN);
		return PRIVAUDIT_OK;
	}
	/* An old record: read it back from its segment. */
	st = flush(m);
	if (st != PRIVAUDIT_OK)
		return st;
	for (i = m->nsegs; i-- > 0;)
		if (m->segs[i].first <= index)
			break;
	if (i >= m->nsegs)
		return pa_fail(&m->err, PRIVAUDIT_E_NOTFOUND, "record %" PRIu64 " not found", index);
	pa_seg_name(name, m->segs[i].number);
	fd = openat(m->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pa_fail_errno(&m->err, "open", name);
	st = pa_segreader_init(&r, fd, PA_SEG_HEADER, file_size(fd));
	if (st == PRIVAUDIT_OK) {
		const unsigned char *entry;
		uint64_t off;
		size_t len;

		st = PRIVAUDIT_E_NOTFOUND;
		while (pa_segreader_next(&r, &entry, &len, &off) == PA_FRAME_OK) {
			if (pa_load64(entry) != index)
				continue;
			pa_hash_leaf(leaf, entry, len);
			st = PRIVAUDIT_OK;
			break;
		}
		pa_segreader_free(&r);
	}
	close(fd);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&m->err, st, "record %" PRIu64 " not found in %s", index, name);
	return PRIVAUDIT_OK;
}

static size_t early_find(const privaudit_mirror *m, uint64_t index)
{
	size_t lo = 0, hi = m->nearly;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->early[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static privaudit_status spool(privaudit_mirror *m, const unsigned char *entry, size_t len)
{
	unsigned char *f = malloc(len + PA_FRAME_OVERHEAD);
	int rc;

	if (f == NULL)
		return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
	memcpy(f + 4, entry, len);
	pa_frame_encode(f, f + 4, len);
	rc = pa_write_full(m->spoolfd, f, len + PA_FRAME_OVERHEAD);
	free(f);
	if (rc < 0)
		return pa_fail_errno(&m->err, "write", SPOOL_FILE);
	m->spool_dirty = 1;
	m->spool_used = 1;
	return PRIVAUDIT_OK;
}

static privaudit_status buffer_early(privaudit_mirror *m, uint64_t index, const unsigned char *entry,
				     size_t len, int from_spool, privaudit_mirror_result *res)
{
	size_t at = early_find(m, index);
	unsigned char *copy;

	if (at < m->nearly && m->early[at].index == index) {
		if (m->early[at].len == len && memcmp(m->early[at].entry, entry, len) == 0) {
			*res = PRIVAUDIT_MIRROR_DUPLICATE;
			return PRIVAUDIT_OK;
		}
		*res = PRIVAUDIT_MIRROR_FORK;
		return PRIVAUDIT_OK;
	}
	if (m->nearly >= m->max_early || m->early_bytes + len > m->max_early_bytes) {
		*res = PRIVAUDIT_MIRROR_FULL;
		return PRIVAUDIT_OK;
	}
	if (m->nearly == m->capearly) {
		size_t cap = m->capearly ? m->capearly * 2 : 64;
		early *n = realloc(m->early, cap * sizeof(*n));

		if (n == NULL)
			return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
		m->early = n;
		m->capearly = cap;
	}
	copy = malloc(len);
	if (copy == NULL)
		return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
	memcpy(copy, entry, len);
	if (!from_spool) {
		privaudit_status st = spool(m, entry, len);

		if (st != PRIVAUDIT_OK) {
			free(copy);
			return st;
		}
	}
	memmove(m->early + at + 1, m->early + at, (m->nearly - at) * sizeof(*m->early));
	m->early[at].index = index;
	m->early[at].entry = copy;
	m->early[at].len = len;
	m->nearly++;
	m->early_bytes += len;
	*res = PRIVAUDIT_MIRROR_BUFFERED;
	return PRIVAUDIT_OK;
}

/* The next record: check it, write it. */
static privaudit_status take(privaudit_mirror *m, uint64_t index, const unsigned char *entry,
			     size_t len, privaudit_mirror_result *res)
{
	unsigned char leaf[PA_HASH_LEN];
	privaudit_status st;

	st = chain_take(m, index, entry, len, leaf);
	if (st == PRIVAUDIT_E_NOMEM)
		return pa_fail(&m->err, st, "out of memory");
	if (st != PRIVAUDIT_OK) {
		st = keep_aside(m, REJECTED_DIR, index, entry, len);
		if (st == PRIVAUDIT_E_EXISTS)
			m->rejected++;
		*res = PRIVAUDIT_MIRROR_REJECTED;
		return st == PRIVAUDIT_E_EXISTS ? PRIVAUDIT_OK : st;
	}
	st = write_frame(m, index, entry, len);
	if (st != PRIVAUDIT_OK) {
		/* The chain moved on but the bytes are not written: this handle
		 * cannot go on; reopening rebuilds from what is on disk. */
		set_failed(m, PRIVAUDIT_E_IO, index, "%s", m->err.msg);
		return st;
	}
	*res = PRIVAUDIT_MIRROR_TAKEN;
	return PRIVAUDIT_OK;
}

static privaudit_status drain(privaudit_mirror *m)
{
	size_t done = 0;
	privaudit_status st = PRIVAUDIT_OK;

	while (done < m->nearly && m->failed == PRIVAUDIT_OK &&
	       m->early[done].index <= m->chain.tree.size) {
		early *e = &m->early[done];
		privaudit_mirror_result r;

		if (e->index == m->chain.tree.size)
			st = take(m, e->index, e->entry, e->len, &r);
		if (st != PRIVAUDIT_OK)
			break;
		m->early_bytes -= e->len;
		free(e->entry);
		done++;
	}
	if (done > 0) {
		memmove(m->early, m->early + done, (m->nearly - done) * sizeof(*m->early));
		m->nearly -= done;
	}
	return st;
}

/* A second version of record index: evidence that the host's log was
 * rewritten (a rollback to a restored copy, or records forged under its
 * name).  Both are kept, and the mirror takes nothing more: which version
 * goes on is for a person to decide. */
static privaudit_status take_fork(privaudit_mirror *m, uint64_t index,
				  const unsigned char *entry, size_t len,
				  privaudit_mirror_result *res)
{
	privaudit_status st = keep_aside(m, FORKS_DIR, index, entry, len);

	if (st == PRIVAUDIT_E_EXISTS)
		m->forks++;
	if (m->failed == PRIVAUDIT_OK)
		set_failed(m, PRIVAUDIT_E_FORK, index,
			   "record %" PRIu64 " came again with other bytes (kept in %s/): the host's "
			   "log was rewritten or rolled back",
			   index, FORKS_DIR);
	*res = PRIVAUDIT_MIRROR_FORK;
	return st == PRIVAUDIT_E_EXISTS ? PRIVAUDIT_OK : st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_put(privaudit_mirror *m, uint64_t index,
						       const void *entry_v, size_t len,
						       privaudit_mirror_result *res)
{
	const unsigned char *entry = entry_v;
	unsigned char leaf[PA_HASH_LEN], held[PA_HASH_LEN];
	privaudit_status st;

	if (m == NULL || entry == NULL || res == NULL)
		return PRIVAUDIT_E_INVAL;
	if (write_lock(m) < 0)
		return pa_fail_errno(&m->err, "lock", m->dir);
	if (len < PA_ENTRY_INDEX + 1 || len > PA_ENTRY_MAX || pa_load64(entry) != index) {
		/* Not even shaped like the record it claims to be. */
		if (len < PA_ENTRY_INDEX + 1 || len > PA_ENTRY_MAX) {
			*res = PRIVAUDIT_MIRROR_REJECTED;
			m->rejected++;
			return PRIVAUDIT_OK;
		}
		st = keep_aside(m, REJECTED_DIR, index, entry, len);
		if (st == PRIVAUDIT_E_EXISTS)
			m->rejected++;
		*res = PRIVAUDIT_MIRROR_REJECTED;
		return st == PRIVAUDIT_E_EXISTS ? PRIVAUDIT_OK : st;
	}
	if (index < m->chain.tree.size) {
		st = held_leaf(m, index, held);
		if (st != PRIVAUDIT_OK)
			return st;
		pa_hash_leaf(leaf, entry, len);
		if (memcmp(leaf, held, PA_HASH_LEN) == 0) {
			*res = PRIVAUDIT_MIRROR_DUPLICATE;
			return PRIVAUDIT_OK;
		}
		return take_fork(m, index, entry, len, res);
	}
	if (m->failed != PRIVAUDIT_OK) {
		st = keep_aside(m, REJECTED_DIR, index, entry, len);
		if (st == PRIVAUDIT_E_EXISTS)
			m->rejected++;
		*res = PRIVAUDIT_MIRROR_REJECTED;
		return st == PRIVAUDIT_E_EXISTS ? PRIVAUDIT_OK : st;
	}
	if (index > m->chain.tree.size) {
		st = buffer_early(m, index, entry, len, 0, res);
		if (st == PRIVAUDIT_OK && *res == PRIVAUDIT_MIRROR_FORK)
			return take_fork(m, index, entry, len, res);
		return st;
	}
	st = take(m, index, entry, len, res);
	if (st == PRIVAUDIT_OK && *res == PRIVAUDIT_MIRROR_TAKEN)
		st = drain(m);
	return st;
}

static privaudit_status save_state(privaudit_mirror *m)
{
	unsigned char *buf;
	size_t n;
	char tmp[] = STATE_FILE ".tmp";
	int fd, rc;

	buf = malloc(PA_CHAIN_SAVED_MAX + 24);
	if (buf == NULL)
		return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
	pa_store64(buf, m->seg_number);
	pa_store64(buf + 8, m->seg_size);
	pa_store64(buf + 16, m->segfd >= 0 ? 1 : 0);
	n = 24 + pa_chain_save(&m->chain, buf + 24);
	/* Not synced: it only says where to resume the check, and a state
	 * lost to a crash is rebuilt from the segments. */
	unlinkat(m->dirfd, tmp, 0);
	fd = openat(m->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	rc = fd < 0 ? -1 : pa_write_full(fd, buf, n);
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	free(buf);
	if (rc < 0 || renameat(m->dirfd, tmp, m->dirfd, STATE_FILE) < 0) {
		privaudit_status st = pa_fail_errno(&m->err, "write", STATE_FILE);

		unlinkat(m->dirfd, tmp, 0);
		return st;
	}
	m->since_state = 0;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_sync(privaudit_mirror *m)
{
	privaudit_status st;

	if (m == NULL)
		return PRIVAUDIT_E_INVAL;
	st = flush(m);
	if (st != PRIVAUDIT_OK)
		return st;
	if (m->segfd >= 0 && fdatasync(m->segfd) < 0)
		return pa_fail_errno(&m->err, "fdatasync", "segment");
	if (m->new_segment) {
		if (fsync(m->dirfd) < 0)
			return pa_fail_errno(&m->err, "fsync", m->dir);
		m->new_segment = 0;
	}
	if (m->spool_used && m->nearly == 0) {
		/* Nothing waits: the spool's frames are all in the segments,
		 * which are durable now. */
		if (ftruncate(m->spoolfd, 0) < 0)
			return pa_fail_errno(&m->err, "truncate", SPOOL_FILE);
		m->spool_used = 0;
		m->spool_dirty = 0;
	} else if (m->spool_dirty) {
		if (fdatasync(m->spoolfd) < 0)
			return pa_fail_errno(&m->err, "fdatasync", SPOOL_FILE);
		m->spool_dirty = 0;
	}
	if (m->note_dirty) {
		char *out = NULL;
		size_t out_len = 0;

		if (m->cosign != NULL) {
			st = m->cosign(m->cosign_arg, m->note, m->note_len, &out, &out_len);
			if (st != PRIVAUDIT_OK)
				return pa_fail(&m->err, st, "cosigning the checkpoint: %s",
					       privaudit_strerror(st));
		}
		st = pa_replace_file(&m->err, m->dirfd, PRIVAUDIT_CHECKPOINT_FILE,
				     out ? out : m->note, out ? out_len : m->note_len, 0644);
		free(out);
		if (st != PRIVAUDIT_OK)
			return st;
		m->note_dirty = 0;
	}
	if (m->since_state >= STATE_EVERY) {
		st = save_state(m);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	write_unlock(m);
	return PRIVAUDIT_OK;
}

/* Read and check segment number's header; note where it starts. */
static privaudit_status seg_header(privaudit_mirror *m, int fd, uint64_t number, const char *name)
{
	unsigned char hdr[PA_SEG_HEADER];
	const char *why = NULL;
	pa_seghdr h;

	if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0 ||
	    pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK || h.number != number ||
	    memcmp(h.log_id, m->log_id, PA_HASH_LEN) != 0 ||
	    (m->nsegs > 0 && h.first_index < m->segs[m->nsegs - 1].first))
		return pa_fail(&m->err, PRIVAUDIT_E_FORMAT, "%s/%s is not a segment of this mirror",
			       m->dir, name);
	if (add_segstart(m, number, h.first_index) < 0)
		return pa_fail(&m->err, PRIVAUDIT_E_NOMEM, "out of memory");
	return PRIVAUDIT_OK;
}

/* Check the frames of segment `number` from byte `start` (0: from its
 * header) and make it the one written to. */
static privaudit_status scan_segment(privaudit_mirror *m, uint64_t number, uint64_t start)
{
	char name[PA_SEG_NAME_MAX];
	const unsigned char *entry;
	pa_frame_status fs;
	privaudit_status st;
	pa_segreader r;
	uint64_t off;
	size_t len;
	int fd;

	pa_seg_name(name, number);
	fd = openat(m->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? PRIVAUDIT_E_NOTFOUND : pa_fail_errno(&m->err, "open", name);
	if (start == 0) {
		st = seg_header(m, fd, number, name);
		if (st != PRIVAUDIT_OK) {
			close(fd);
			return st;
		}
		if (m->segs[m->nsegs - 1].first != m->chain.tree.size) {
			close(fd);
			return pa_fail(&m->err, PRIVAUDIT_E_SEQUENCE,
				       "%s/%s starts at record %" PRIu64 ", not %" PRIu64, m->dir, name,
				       m->segs[m->nsegs - 1].first, m->chain.tree.size);
		}
		start = PA_SEG_HEADER;
	}
	if (m->segfd >= 0)
		close(m->segfd);
	m->segfd = fd;
	m->seg_number = number;
	m->seg_size = start;
	st = pa_segreader_init(&r, fd, start, file_size(fd));
	if (st != PRIVAUDIT_OK)
		return pa_fail(&m->err, st, "out of memory");
	while ((fs = pa_segreader_next(&r, &entry, &len, &off)) == PA_FRAME_OK) {
		unsigned char leaf[PA_HASH_LEN];
		uint64_t index = pa_load64(entry);

		if (index != m->chain.tree.size) {
			set_failed(m, PRIVAUDIT_E_SEQUENCE, m->chain.tree.size,
				   "%s holds record %" PRIu64 " where %" PRIu64 " was due", name, index,
				   m->chain.tree.size);
			break;
		}
		if (chain_take(m, index, entry, len, leaf) != PRIVAUDIT_OK)
			break;
		m->seg_size = off + len + PA_FRAME_OVERHEAD;
	}
	pa_segreader_free(&r);
	if (m->failed == PRIVAUDIT_OK && fs != PA_FRAME_OK && fs != PA_FRAME_END &&
	    ftruncate(fd, (off_t)m->seg_size) < 0)   /* our own torn write: cut it */
		return pa_fail_errno(&m->err, "truncate", name);
	return PRIVAUDIT_OK;
}

/* From where the chain stands to the end of the segments: what a crash left
 * unsaved in the state, or what another collector wrote. */
static privaudit_status catch_up(privaudit_mirror *m)
{
	uint64_t number = m->segfd >= 0 ? m->seg_number : 0;
	uint64_t start = m->segfd >= 0 ? m->seg_size : 0;

	for (;;) {
		char name[PA_SEG_NAME_MAX];
		privaudit_status st;
		struct stat sb;

		st = scan_segment(m, number, start);
		if (st == PRIVAUDIT_E_NOTFOUND)
			return PRIVAUDIT_OK;
		if (st != PRIVAUDIT_OK || m->failed != PRIVAUDIT_OK)
			return st;
		pa_seg_name(name, number + 1);
		if (fstatat(m->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return PRIVAUDIT_OK;
		if (sb.st_size < PA_SEG_HEADER) {
			/* A rollover cut short: nothing can be in it. */
			if (unlinkat(m->dirfd, name, 0) < 0)
				return pa_fail_errno(&m->err, "unlink", name);
			return PRIVAUDIT_OK;
		}
		number++;
		start = 0;
	}
}

/* After resuming from the state file, the leaf hashes of the newest
 * records, read back, so that the resends that follow a restart are
 * recognised without reading a segment each. */
static void warm_ring(privaudit_mirror *m, uint64_t number, uint64_t size)
{
	for (int back = 1; back >= 0; back--) {
		char name[PA_SEG_NAME_MAX];
		const unsigned char *entry;
		pa_segreader r;
		uint64_t off;
		size_t len;
		int fd;

		if ((uint64_t)back > number)
			continue;
		pa_seg_name(name, number - (uint64_t)back);
		fd = openat(m->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (pa_segreader_init(&r, fd, PA_SEG_HEADER, back ? file_size(fd) : size) ==
		    PRIVAUDIT_OK) {
			while (pa_segreader_next(&r, &entry, &len, &off) == PA_FRAME_OK) {
				unsigned char leaf[PA_HASH_LEN];
				uint64_t index = pa_load64(entry);

				if (index >= m->chain.tree.size || m->chain.tree.size - index > RING)
					continue;
				pa_hash_leaf(leaf, entry, len);
				ring_put(m, index, leaf);
			}
			pa_segreader_free(&r);
		}
		close(fd);
	}
}

/* Resume from the state file: the chain, and the segments' starts. */
static void load_state(privaudit_mirror *m)
{
	char *buf = NULL;
	size_t len = 0;
	uint64_t number, size;

	if (pa_read_file(NULL, m->dirfd, STATE_FILE, PA_CHAIN_SAVED_MAX + 24, &buf, &len) !=
	    PRIVAUDIT_OK)
		return;
	if (len < 24 || pa_chain_load(&m->chain, (unsigned char *)buf + 24, len - 24) != 0)
		goto rebuild;
	number = pa_load64((unsigned char *)buf);
	size = pa_load64((unsigned char *)buf + 8);
	if (pa_load64((unsigned char *)buf + 16) == 0) {
		if (m->chain.tree.size != 0)
			goto rebuild;
		free(buf);
		return;
	}
	for (uint64_t i = 0; i <= number; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;
		int fd;

		pa_seg_name(name, i);
		fd = openat(m->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || seg_header(m, fd, i, name) != PRIVAUDIT_OK ||
		    (i == number && (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size < size))) {
			if (fd >= 0)
				close(fd);
			goto rebuild;
		}
		if (i < number) {
			close(fd);
			continue;
		}
		m->segfd = fd;
	}
	m->seg_number = number;
	m->seg_size = size;
	warm_ring(m, number, size);
	if (m->chain.have_genesis)
		snprintf(m->origin, sizeof(m->origin), "%s", m->chain.origin);
	free(buf);
	return;
rebuild:
	/* Check everything again from record 0. */
	free(buf);
	if (m->segfd >= 0)
		close(m->segfd);
	m->segfd = -1;
	m->nsegs = 0;
	pa_chain_init(&m->chain);
}

static privaudit_status load_spool(privaudit_mirror *m)
{
	const unsigned char *entry;
	pa_segreader r;
	uint64_t off;
	size_t len;
	privaudit_status st;

	m->spoolfd = openat(m->dirfd, SPOOL_FILE, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			    0640);
	if (m->spoolfd < 0)
		return pa_fail_errno(&m->err, "open", SPOOL_FILE);
	m->spool_used = file_size(m->spoolfd) > 0;
	st = pa_segreader_init(&r, m->spoolfd, 0, file_size(m->spoolfd));
	if (st != PRIVAUDIT_OK)
		return pa_fail(&m->err, st, "out of memory");
	while (pa_segreader_next(&r, &entry, &len, &off) == PA_FRAME_OK) {
		uint64_t index = pa_load64(entry);
		privaudit_mirror_result res;

		if (index < m->chain.tree.size)
			continue;
		st = buffer_early(m, index, entry, len, 1, &res);
		if (st != PRIVAUDIT_OK)
			break;
	}
	pa_segreader_free(&r);
	if (st == PRIVAUDIT_OK)
		st = drain(m);
	return st;
}

static privaudit_status bind_dir(privaudit_mirror *m, const char *dir)
{
	char *have = NULL;
	size_t len = 0;
	privaudit_status st;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return pa_fail_errno(&m->err, "mkdir", dir);
	m->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dirfd < 0)
		return pa_fail_errno(&m->err, "open", dir);
	m->lockfd = openat(m->dirfd, PA_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (m->lockfd < 0)
		return pa_fail_errno(&m->err, "open", PA_LOCK_FILE);
	if (write_lock(m) < 0)
		return pa_fail_errno(&m->err, "lock", dir);
	/* log.pub says whose log this is; a mirror never changes hands. */
	st = pa_read_file(NULL, m->dirfd, PRIVAUDIT_PUBKEY_FILE, PA_VKEY_MAX, &have, &len);
	if (st == PRIVAUDIT_OK) {
		while (len > 0 && (have[len - 1] == '\n' || have[len - 1] == ' '))
			have[--len] = '\0';
		st = strcmp(have, m->vkey) == 0
			     ? PRIVAUDIT_OK
			     : pa_fail(&m->err, PRIVAUDIT_E_FOREIGN, "%s mirrors another log (%s)", dir,
				       have);
		free(have);
		return st;
	}
	{
		char line[PA_VKEY_MAX + 2];
		int n = snprintf(line, sizeof(line), "%s\n", m->vkey);

		return pa_replace_file(&m->err, m->dirfd, PRIVAUDIT_PUBKEY_FILE, line, (size_t)n, 0644);
	}
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_open(privaudit_mirror **out, const char *dir,
							const char *vkey)
{
	char name[PA_ORIGIN_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	privaudit_mirror *m;
	privaudit_status st;
	size_t vl;

	if (out == NULL || dir == NULL || vkey == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	vl = strcspn(vkey, "\r\n");
	if (vl >= PA_VKEY_MAX)
		return PRIVAUDIT_E_NOTE;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return PRIVAUDIT_E_NOMEM;
	memcpy(m->vkey, vkey, vl);
	m->dirfd = m->lockfd = m->segfd = m->spoolfd = -1;
	m->max_early = 65536;
	m->max_early_bytes = 64u << 20;
	pa_arena_init(&m->arena);
	if (pa_vkey_parse(m->vkey, name, pk) != PRIVAUDIT_OK) {
		free(m);
		return PRIVAUDIT_E_NOTE;
	}
	pa_chain_init(&m->chain);
	pa_chain_pin(&m->chain, name, pk);
	pa_chain_log_id(name, pk, m->log_id);
	sodium_bin2hex(m->log_id_hex, sizeof(m->log_id_hex), m->log_id, PA_HASH_LEN);
	m->dir = strdup(dir);
	m->wbuf = malloc(WBUF_MAX);
	m->ring = malloc(RING * sizeof(*m->ring));
	if (m->dir == NULL || m->wbuf == NULL || m->ring == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < RING; i++)
		m->ring[i].index = UINT64_MAX;
	st = bind_dir(m, dir);
	if (st != PRIVAUDIT_OK)
		goto fail;
	load_state(m);
	st = catch_up(m);
	if (st == PRIVAUDIT_OK)
		st = load_spool(m);
	if (st == PRIVAUDIT_OK)
		st = privaudit_mirror_sync(m);
	if (st != PRIVAUDIT_OK)
		goto fail;
	*out = m;
	return PRIVAUDIT_OK;
fail:
	privaudit_mirror_close(m);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_close(privaudit_mirror *m)
{
	privaudit_status st = PRIVAUDIT_OK;

	if (m == NULL)
		return PRIVAUDIT_OK;
	if (m->dirfd >= 0 && m->segfd >= 0 && m->wlen == 0 && m->since_state > 0)
		st = save_state(m);
	if (m->segfd >= 0)
		close(m->segfd);
	if (m->spoolfd >= 0)
		close(m->spoolfd);
	write_unlock(m);
	if (m->lockfd >= 0)
		close(m->lockfd);
	if (m->dirfd >= 0)
		close(m->dirfd);
	for (size_t i = 0; i < m->nearly; i++)
		free(m->early[i].entry);
	free(m->early);
	free(m->segs);
	free(m->ring);
	free(m->wbuf);
	free(m->note);
	free(m->dir);
	pa_arena_free(&m->arena);
	free(m);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_set_buffer(privaudit_mirror *m, size_t records,
							      size_t bytes)
{
	if (m == NULL || records == 0 || bytes < PA_ENTRY_MAX)
		return PRIVAUDIT_E_INVAL;
	m->max_early = records;
	m->max_early_bytes = bytes;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_set_cosigner(privaudit_mirror *m,
								privaudit_mirror_cosign_fn fn,
								void *arg)
{
	if (m == NULL)
		return PRIVAUDIT_E_INVAL;
	m->cosign = fn;
	m->cosign_arg = arg;
	/* The newest checkpoint gets the cosignature too. */
	if (fn != NULL && m->note != NULL)
		m->note_dirty = 1;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_get_state(privaudit_mirror *m,
							     privaudit_mirror_state *s)
{
	if (m == NULL || s == NULL)
		return PRIVAUDIT_E_INVAL;
	memset(s, 0, sizeof(*s));
	s->origin = m->origin[0] ? m->origin : m->chain.pin_name;
	memcpy(s->log_id, m->log_id_hex, sizeof(s->log_id));
	s->records = m->chain.tree.size;
	s->sealed = m->chain.sealed;
	s->checkpoints = m->chain.checkpoints;
	s->checkpoint_time = m->chain.newest_time;
	s->buffered = m->nearly;
	if (m->nearly > 0) {
		s->first_missing = m->chain.tree.size;
		s->buffered_max = m->early[m->nearly - 1].index;
	}
	s->forks = m->forks;
	s->rejected = m->rejected;
	s->failed = m->failed;
	s->failed_at = m->failed_at;
	s->detail = m->failed != PRIVAUDIT_OK ? m->detail : "ok";
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT const char *privaudit_mirror_error(const privaudit_mirror *m)
{
	if (m == NULL)
		return "no mirror";
	return m->err.msg[0] ? m->err.msg : "no error";
}
