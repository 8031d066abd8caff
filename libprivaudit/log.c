/* SPDX-License-Identifier: ISC */
/* log.c: the writer: creating a log, appending with group commit under the
 * directory lock, recovery of torn tails, and forward-secure sealing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "archive.h"
#include "chain.h"
#include "keys.h"
#include "lock.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "segment.h"
#include "space.h"
#include "state.h"
#include "util.h"

#define DEFAULT_SEGMENT_SIZE (64u * 1024u * 1024u)
/* Queued bytes that trigger a commit on their own. */
#define AUTO_COMMIT_BYTES (8u * 1024u * 1024u)
#define FORMAT_VERSION 1u

struct privaudit_log {
	pthread_mutex_t mu;
	int dirfd, lockfd, statefd, segfd;
	uint64_t segfd_number;
	unsigned flags;
	int lock_timeout_ms;
	uint64_t seg_limit;
	unsigned char log_id[PA_HASH_LEN];
	/* Segments before first_segment were archived (archive.c): a state
	 * rebuilt from nothing starts there, from its segment_start record. */
	uint64_t first_segment;
	pa_state base;
	pa_state st;              /* the log as of the last time we held the lock */
	unsigned char *pend;      /* queued frames, index and CRC filled at commit */
	size_t pend_len, pend_cap, pend_count;
	uint64_t written;
	int broken;               /* failed append left on disk: refuse to write more */
	/* privaudit_write(): a second descriptor of the newest segment this
	 * handle wrote to without fdatasync, for privaudit_sync() to sync
	 * while the handle is free for the next write (-1: nothing unsynced) */
	int unsynced_fd;
	int fresh;                /* the log was recovered and read under the lock once */
	privaudit_warning_fn warn_fn;   /* privaudit_set_warning() */
	void *warn_arg;
	/* A full disk (privaudit_set_reserve): events that do not fit above
	 * the reserve are taken out of the queue and counted in lost, written
	 * as a gap record; while nospace, new events are counted, not queued,
	 * until free space is back to twice the reserve. */
	uint64_t reserve;
	uint64_t reserve_now;     /* the reserve kept on this filesystem (messages) */
	int root_blocks;          /* pa_space_free's cache, -1: not known yet */
	int nospace;
	size_t pend_events;       /* queued records that are events (pa_is_event) */
	uint64_t diverted;        /* events taken out of the queue since the last call */
	int no_divert;            /* write_step: the queue is a step's own records */
	pa_lost lost;
	pid_t pid;                /* cached: getpid() and getuid() are system calls */
	uid_t uid;
	char program[64];
	char host[256];
	pa_err err;
};

static void lock_handle(privaudit_log *log)
{
	pthread_mutex_lock(&log->mu);
}

static void unlock_handle(privaudit_log *log)
{
	pthread_mutex_unlock(&log->mu);
}

/* ------------------------------------------------------------ queueing */

/* Pack rec into the queue as a frame with room for its index and CRC.
 *
 * protobuf-c sizes a sub-message again when it packs it (for its length
 * prefix), and walks all twenty fields of Record's descriptor twice, so
 * get_packed_size + pack would size the body twice for little.  A Record is
 * four plain fields then its body (field numbers 1-4, then the oneof): those
 * four are written here the way protobuf-c writes proto3 fields (in number
 * order, left out when zero or empty), then the body's key and length, then
 * the body, sized once and packed by pa_body_pack (record.c; protobuf-c for
 * a body that loop does not handle).  The bytes are the ones
 * privaudit__record__pack writes.  Anything else (no body, unknown fields)
 * goes through protobuf-c whole. */
/* Record is what queue_record's own encoding assumes (checked once, so a
 * field added to the schema falls back to protobuf-c rather than being
 * left out). */
static int record_layout_ok;
static pthread_once_t record_layout_once = PTHREAD_ONCE_INIT;

static void record_layout_check(void)
{
	static const ProtobufCType plain[4] = { PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_STRING,
						PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_BYTES };
	const ProtobufCMessageDescriptor *d = &privaudit__record__descriptor;
	unsigned plain_seen = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (fd->id >= 1 && fd->id <= 4 && fd->label == PROTOBUF_C_LABEL_NONE &&
		    !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && fd->type == plain[fd->id - 1])
			plain_seen++;
		else if (!(fd->id > 4 && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
			   (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)))
			return;
	}
	record_layout_ok = plain_seen == 4 &&
			   offsetof(Privaudit__Record, time_ns) == d->fields[0].offset &&
			   offsetof(Privaudit__Record, host) == d->fields[1].offset &&
			   offsetof(Privaudit__Record, writer_pid) == d->fields[2].offset &&
			   offsetof(Privaudit__Record, session_key) == d->fields[3].offset;
}

/* Room for need more bytes in the queue. */
static privaudit_status pend_reserve(privaudit_log *log, size_t need)
{
	size_t cap = log->pend_cap ? log->pend_cap : 65536;
	unsigned char *nb;

	if (log->pend_len + need <= log->pend_cap)
		return PRIVAUDIT_OK;
	while (cap < log->pend_len + need)
		cap *= 2;
	nb = realloc(log->pend, cap);
	if (nb == NULL)
		return pa_fail(&log->err, PRIVAUDIT_E_NOMEM, "out of memory queueing a record");
	log->pend = nb;
	log->pend_cap = cap;
	return PRIVAUDIT_OK;
}

#define BODY_ROOM_MAX (PRIVAUDIT_RECORD_MAX + 64u)
#define BODY_LEN_GUESS 2u   /* bytes of the body's length, most often */

/* Pack body (a Record body pa_body_pack encodes) into the queue at off,
 * leaving 4 bytes of slack after it (queue_record may move it up by 2): its
 * packed size, or -1 when pa_body_pack does not encode it (it may have
 * written part of it, past pend_len, where the caller's own packing
 * overwrites it). */
static int64_t queue_body(privaudit_log *log, const ProtobufCMessage *body, size_t off,
			  privaudit_status *st)
{
	for (;;) {
		size_t room = log->pend_cap > off + 4 ? log->pend_cap - off - 4 : 0;
		int64_t n;

		/* pa_body_pack wants some slack: any body up to the record
		 * limit fits in BODY_ROOM_MAX; one that does not is too big */
		if (room > BODY_ROOM_MAX)
			room = BODY_ROOM_MAX;
		n = room > 0 ? pa_body_pack(body, log->pend + off, room) : -2;
		if (n != -2)
			return n;
		if (room == BODY_ROOM_MAX) {
			*st = pa_fail(&log->err, PRIVAUDIT_E_TOOBIG, "record exceeds %u bytes",
				      PRIVAUDIT_RECORD_MAX);
			return -2;
		}
		/* at least double, so that a big body is tried a few times only */
		*st = pend_reserve(log, off + 4 + (room > 4096 ? 2 * room : 8192) - log->pend_len);
		if (*st != PRIVAUDIT_OK)
			return -2;
	}
}

static privaudit_status queue_record(privaudit_log *log, Privaudit__Record *rec)
{
	const ProtobufCFieldDescriptor *bf = NULL;
	const ProtobufCMessage *body = NULL;
	size_t len, need, hostlen = 0, blen = 0, hdr = 0;
	uint64_t key = 0;
	unsigned char *f;
	int own = 0;   /* body packed by pa_body_pack, not protobuf-c */
	privaudit_status st = PRIVAUDIT_OK;

	rec->time_ns = pa_now_ns();
	rec->host = log->host;
	/* A handle belongs to the process that opened it (libprivaudit(3)). */
	rec->writer_pid = (uint32_t)log->pid;
	(void)pthread_once(&record_layout_once, record_layout_check);
	if (record_layout_ok && rec->body_case != PRIVAUDIT__RECORD__BODY__NOT_SET &&
	    rec->base.n_unknown_fields == 0) {
		bf = protobuf_c_message_descriptor_get_field(&privaudit__record__descriptor,
							     (unsigned)rec->body_case);
		if (bf != NULL && bf->type == PROTOBUF_C_TYPE_MESSAGE &&
		    (bf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
			body = *(const ProtobufCMessage *const *)(const void *)((const char *)rec + bf->offset);
			if (body == bf->default_value)
				body = NULL;
		}
	}
	if (body != NULL) {
		size_t at;
		int64_t n;

		hostlen = rec->host != NULL ? strlen(rec->host) : 0;
		key = (uint64_t)bf->id << 3 | 2u;   /* length-delimited */
		hdr = (rec->time_ns ? 1 + pa_varint_len(rec->time_ns) : 0) +
		      (hostlen ? 1 + pa_varint_len(hostlen) + hostlen : 0) +
		      (rec->writer_pid ? 1 + pa_varint_len(rec->writer_pid) : 0) +
		      (rec->session_key.len ? 1 + pa_varint_len(rec->session_key.len) + rec->session_key.len : 0) +
		      pa_varint_len(key);
		/* The body is packed first, in one pass, behind the header and
		 * room for a two-byte length (bodies of 128 bytes to 16 KiB);
		 * one of another length's size moves to make it fit.  (The queue
		 * keeps 4 bytes of slack behind it: it can move up by 2.) */
		at = log->pend_len + 4 + PA_ENTRY_INDEX + hdr + BODY_LEN_GUESS;
		n = queue_body(log, body, at, &st);
		if (n == -2)
			return st;
		own = n >= 0;
		blen = own ? (size_t)n : protobuf_c_message_get_packed_size(body);
		len = hdr + pa_varint_len(blen) + blen;
		if (own && len <= PRIVAUDIT_RECORD_MAX && pa_varint_len(blen) != BODY_LEN_GUESS)
			memmove(log->pend + at - BODY_LEN_GUESS + pa_varint_len(blen), log->pend + at, blen);
	} else {
		len = privaudit__record__get_packed_size(rec);
	}
	if (len > PRIVAUDIT_RECORD_MAX)
		return pa_fail(&log->err, PRIVAUDIT_E_TOOBIG, "record of %zu bytes exceeds %u", len,
			       PRIVAUDIT_RECORD_MAX);
	need = 4 + PA_ENTRY_INDEX + len + 4;
	st = pend_reserve(log, need);
	if (st != PRIVAUDIT_OK)
		return st;
	f = log->pend + log->pend_len;
	pa_store32(f, (uint32_t)(PA_ENTRY_INDEX + len));
	memset(f + 4, 0, PA_ENTRY_INDEX);
	if (body != NULL) {
		unsigned char *p = f + 4 + PA_ENTRY_INDEX;

		if (rec->time_ns) {
			*p++ = 1u << 3 | 0u;
			p = pa_varint_put(p, rec->time_ns);
		}
		if (hostlen) {
			*p++ = 2u << 3 | 2u;
			p = pa_varint_put(p, hostlen);
			memcpy(p, rec->host, hostlen);
			p += hostlen;
		}
		if (rec->writer_pid) {
			*p++ = 3u << 3 | 0u;
			p = pa_varint_put(p, rec->writer_pid);
		}
		if (rec->session_key.len) {
			*p++ = 4u << 3 | 2u;
			p = pa_varint_put(p, rec->session_key.len);
			memcpy(p, rec->session_key.data, rec->session_key.len);
			p += rec->session_key.len;
		}
		p = pa_varint_put(p, key);
		p = pa_varint_put(p, blen);
		if ((!own && protobuf_c_message_pack(body, p) != blen) ||
		    (size_t)(p + blen - (f + 4 + PA_ENTRY_INDEX)) != len)
			return pa_fail(&log->err, PRIVAUDIT_E_FORMAT, "record packing mismatch");
	} else {
		privaudit__record__pack(rec, f + 4 + PA_ENTRY_INDEX);
	}
	log->pend_len += need;
	log->pend_count++;
	if (pa_is_event(rec->body_case))
		log->pend_events++;
	return PRIVAUDIT_OK;
}

static privaudit_status queue_recovery(privaudit_log *log, uint64_t seg, uint64_t off,
				       uint64_t cut, const char *why, const char *saved)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Recovery body = PRIVAUDIT__RECOVERY__INIT;

	body.segment = seg;
	body.offset = off;
	body.bytes_cut = cut;
	body.reason = (char *)(uintptr_t)why;
	body.saved_as = (char *)(uintptr_t)saved;
	rec.body_case = PRIVAUDIT__RECORD__BODY_RECOVERY;
	rec.recovery = &body;
	return queue_record(log, &rec);
}

static privaudit_status queue_checkpoint(privaudit_log *log, const char *note, size_t note_len,
					 uint64_t key_index)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Checkpoint body = PRIVAUDIT__CHECKPOINT__INIT;
	pa_note n;
	privaudit_status st;

	st = pa_note_parse(note, note_len, &n);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&log->err, st, "signed note in log.key does not parse");
	body.tree_size = n.size;
	body.key_index = key_index;
	body.root_hash.data = n.root;
	body.root_hash.len = PA_HASH_LEN;
	body.note.data = (uint8_t *)(uintptr_t)note;
	body.note.len = note_len;
	rec.body_case = PRIVAUDIT__RECORD__BODY_CHECKPOINT;
	rec.checkpoint = &body;
	st = queue_record(log, &rec);
	pa_note_free(&n);
	return st;
}

/* ------------------------------------------------------------ full disk */

/* The events lost so far, as a gap record in the queue. */
static privaudit_status queue_lost(privaudit_log *log)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Gap gap = PRIVAUDIT__GAP__INIT;
	privaudit_status st;

	if (log->lost.count == 0)
		return PRIVAUDIT_OK;
	pa_lost_gap(&log->lost, &gap);
	rec.body_case = PRIVAUDIT__RECORD__BODY_GAP;
	rec.gap = &gap;
	st = queue_record(log, &rec);
	if (st == PRIVAUDIT_OK)
		memset(&log->lost, 0, sizeof(log->lost));
	return st;
}

/* Would bytes more leave reserves times the reserve free?  Never more
 * than an eighth of the filesystem is kept: on a small one (a test's
 * tmpfs) the default would leave no room for events at all. */
static int has_room(privaudit_log *log, uint64_t bytes, unsigned reserves)
{
	uint64_t avail, size, reserve = log->reserve;

	if (reserve == 0)
		return 1;
	avail = pa_space_free(log->dirfd, &log->root_blocks, &size);
	if (avail == UINT64_MAX)
		return 1;
	if (reserve > size / 8)
		reserve = size / 8;
	log->reserve_now = reserve;
	return avail >= bytes && avail - bytes >= reserve * reserves;
}

/* Take the events out of the queue, counted in log->lost, and queue the
 * gap record that counts them: the log's own records stay, in order, and
 * may use the reserve.  Events appended from now on are counted, not
 * queued (append_locked), until there is room again. */
static privaudit_status divert_events(privaudit_log *log)
{
	size_t p = 0, out = 0;

	while (p < log->pend_len) {
		unsigned char *f = log->pend + p;
		uint32_t len = pa_load32(f);
		size_t flen = 4 + (size_t)len + 4;
		pa_record *rec = pa_record_decode(f + 4 + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);

		p += flen;
		/* a frame queued here always decodes; one that would not is
		 * dropped and counted like an event rather than written */
		if (rec == NULL || pa_is_event(rec->body_case)) {
			Privaudit__Record none = PRIVAUDIT__RECORD__INIT;

			pa_lost_add(&log->lost, rec != NULL ? rec : &none, flen);
			pa_record_free(rec);
			log->pend_count--;
			log->diverted++;
			continue;
		}
		pa_record_free(rec);
		if (out != p - flen)
			memmove(log->pend + out, f, flen);
		out += flen;
	}
	log->pend_len = out;
	log->pend_events = 0;
	log->nospace = 1;
	return queue_lost(log);
}

/* While nospace: is there room again (twice the reserve free, so that
 * recording does not start and stop with every record)?  One statfs(2) an
 * event, and only while the disk is full.  Handle held. */
static int space_back(privaudit_log *log)
{
	if (!has_room(log, 0, 2))
		return 0;
	log->nospace = 0;
	/* the gap record first, then what comes (failing that, commit_locked
	 * writes it with the next records) */
	(void)queue_lost(log);
	return 1;
}

/* PRIVAUDIT_E_NOSPACE, with errno ENOSPC for privaudit_log_errno(). */
static privaudit_status nospace(privaudit_log *log)
{
	log->err.err = ENOSPC;
	return PRIVAUDIT_E_NOSPACE;
}

/* An event appended while the disk is full: counted, not queued. */
static privaudit_status refuse_event(privaudit_log *log, Privaudit__Record *rec, size_t bytes)
{
	if (rec->time_ns == 0)
		rec->time_ns = pa_now_ns();
	pa_lost_add(&log->lost, rec, 4 + PA_ENTRY_INDEX + bytes + 4);
	pa_fail(&log->err, PRIVAUDIT_E_NOSPACE,
		"less than twice the reserve of %" PRIu64 " bytes free on the log's filesystem "
		"since it filled: event not recorded, counted in a gap record (%" PRIu64 " so far)",
		log->reserve_now, log->lost.count);
	return nospace(log);
}

/* What a call returns after a write that took events out of the queue:
 * PRIVAUDIT_E_NOSPACE, also when even the gap record found no room (it
 * stays queued), so that the caller knows not to hold on to them. */
static privaudit_status diverted_status(privaudit_log *log, privaudit_status st)
{
	uint64_t n = log->diverted;
	int full = st == PRIVAUDIT_E_IO && (log->err.err == ENOSPC || log->err.err == EDQUOT);

	log->diverted = 0;
	if (n == 0 || (st != PRIVAUDIT_OK && !full))
		return st;
	pa_fail(&log->err, PRIVAUDIT_E_NOSPACE,
		"no space for the log (%" PRIu64 " bytes of reserve kept for its own records): "
		"%" PRIu64 " events not written, counted in a gap record%s",
		log->reserve_now, n, full ? " that waits for space" : "");
	return nospace(log);
}

/* ------------------------------------------------------------ segments */

static privaudit_status open_segment(privaudit_log *log, uint64_t number)
{
	char name[PA_SEG_NAME_MAX];
	int fd;

	if (log->segfd >= 0 && log->segfd_number == number)
		return PRIVAUDIT_OK;
	pa_seg_name(name, number);
	fd = openat(log->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pa_fail_errno(&log->err, "open segment", name);
	if (log->segfd >= 0)
		close(log->segfd);
	log->segfd = fd;
	log->segfd_number = number;
	return PRIVAUDIT_OK;
}

static privaudit_status create_segment(pa_err *e, int dirfd, uint64_t number, uint64_t first,
				       const unsigned char log_id[PA_HASH_LEN])
{
	unsigned char hdr[PA_SEG_HEADER];
	char name[PA_SEG_NAME_MAX];
	pa_seghdr h;
	int fd;

	pa_seg_name(name, number);
	h.number = number;
	h.first_index = first;
	memcpy(h.log_id, log_id, PA_HASH_LEN);
	pa_seg_header_encode(hdr, &h);
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return pa_fail_errno(e, "create segment", name);
	if (pa_write_full(fd, hdr, sizeof(hdr)) < 0 || fdatasync(fd) < 0) {
		privaudit_status st = pa_fail_errno(e, "write segment header", name);

		close(fd);
		unlinkat(dirfd, name, 0);
		return st;
	}
	close(fd);
	if (fsync(dirfd) < 0)
		return pa_fail_errno(e, "fsync", "log directory");
	return PRIVAUDIT_OK;
}

/* The log's origin, from log.pub when its key makes this log's id; "" when
 * it cannot be told (a segment_start record then leaves it out). */
static void log_origin(int dirfd, const unsigned char log_id[PA_HASH_LEN], char origin[PA_ORIGIN_MAX])
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], id[PA_HASH_LEN];
	char *line = NULL;
	size_t len = 0;

	origin[0] = '\0';
	if (pa_read_file(NULL, dirfd, PRIVAUDIT_PUBKEY_FILE, PA_VKEY_MAX + 2, &line, &len) != PRIVAUDIT_OK)
		return;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (pa_vkey_parse(line, origin, pk) == PRIVAUDIT_OK) {
		pa_chain_log_id(origin, pk, id);
		if (memcmp(id, log_id, PA_HASH_LEN) != 0)
			origin[0] = '\0';
	} else {
		origin[0] = '\0';
	}
	free(line);
}

/* Start segment st.segment + 1 at record st.tree.size: its header and its
 * first record, a segment_start saying what the records before it make
 * (the tree's frontier, the log, the key due to sign next), so that a
 * verifier can start there once the segments before are archived.  Both go
 * in one file, written beside and renamed into place: a segment is never
 * seen without its first record.  Lock held. */
static privaudit_status roll_segment(privaudit_log *log)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__SegmentStart ss = PRIVAUDIT__SEGMENT_START__INIT;
	ProtobufCBinaryData frontier[PA_TREE_MAXDEPTH];
	uint64_t number = log->st.segment + 1, first = log->st.tree.size;
	char name[PA_SEG_NAME_MAX], tmp[PA_SEG_NAME_MAX + 8], origin[PA_ORIGIN_MAX];
	unsigned char *buf, leaf[PA_HASH_LEN];
	privaudit_status st = PRIVAUDIT_OK;
	size_t len, total;
	pa_seghdr h;
	int fd;

	for (unsigned i = 0; i < log->st.tree.n; i++) {
		frontier[i].data = log->st.tree.node[i];
		frontier[i].len = PA_HASH_LEN;
	}
	log_origin(log->dirfd, log->log_id, origin);
	ss.segment = number;
	ss.n_frontier = log->st.tree.n;
	ss.frontier = frontier;
	if (log->st.key_known) {
		ss.key_index = log->st.key_index;
		ss.public_key.data = log->st.key_pk;
		ss.public_key.len = sizeof(log->st.key_pk);
	}
	ss.origin = origin;
	ss.log_id.data = log->log_id;
	ss.log_id.len = PA_HASH_LEN;
	rec.time_ns = pa_now_ns();
	rec.host = log->host;
	rec.writer_pid = (uint32_t)log->pid;
	rec.body_case = PRIVAUDIT__RECORD__BODY_SEGMENT_START;
	rec.segment_start = &ss;
	len = privaudit__record__get_packed_size(&rec);
	total = PA_SEG_HEADER + 4 + PA_ENTRY_INDEX + len + 4;
	buf = malloc(total);
	if (buf == NULL)
		return pa_fail(&log->err, PRIVAUDIT_E_NOMEM, "out of memory");
	h.number = number;
	h.first_index = first;
	memcpy(h.log_id, log->log_id, PA_HASH_LEN);
	pa_seg_header_encode(buf, &h);
	pa_store64(buf + PA_SEG_HEADER + 4, first);
	privaudit__record__pack(&rec, buf + PA_SEG_HEADER + 4 + PA_ENTRY_INDEX);
	pa_frame_encode(buf + PA_SEG_HEADER, buf + PA_SEG_HEADER + 4, PA_ENTRY_INDEX + len);
	pa_hash_leaf(leaf, buf + PA_SEG_HEADER + 4, PA_ENTRY_INDEX + len);

	pa_seg_name(name, number);
	snprintf(tmp, sizeof(tmp), "%s.new", name);
	(void)unlinkat(log->dirfd, tmp, 0);   /* left by a writer that died here */
	fd = openat(log->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		st = pa_fail_errno(&log->err, "create segment", tmp);
		goto out;
	}
	if (pa_write_full(fd, buf, total) < 0 || fdatasync(fd) < 0) {
		st = pa_fail_errno(&log->err, "write segment", tmp);
		close(fd);
		(void)unlinkat(log->dirfd, tmp, 0);
		goto out;
	}
	close(fd);
	/* linkat fails with EEXIST rather than replace a segment */
	if (linkat(log->dirfd, tmp, log->dirfd, name, 0) < 0) {
		st = pa_fail_errno(&log->err, "create segment", name);
		(void)unlinkat(log->dirfd, tmp, 0);
		goto out;
	}
	(void)unlinkat(log->dirfd, tmp, 0);
	if (fsync(log->dirfd) < 0) {
		st = pa_fail_errno(&log->err, "fsync", "log directory");
		goto out;
	}
	log->st.segment = number;
	log->st.seg_first = first;
	log->st.seg_end = total;
	pa_tree_append(&log->st.tree, leaf);
	st = open_segment(log, number);
out:
	free(buf);
	return st;
}

/* Keep the bytes a recovery cuts, next to the log, so nothing is lost. */
static void save_cut(privaudit_log *log, uint64_t seg, uint64_t off, uint64_t size, char *name,
		     size_t name_len)
{
	unsigned char buf[65536];
	uint64_t pos = off;
	int fd;

	snprintf(name, name_len, "cut-%016" PRIx64 "-%016" PRIx64, seg, off);
	fd = openat(log->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		name[0] = '\0';
		return;
	}
	while (pos < size) {
		size_t n = size - pos < sizeof(buf) ? (size_t)(size - pos) : sizeof(buf);

		if (pa_pread_full(log->segfd, buf, n, (off_t)pos) < 0 || pa_write_full(fd, buf, n) < 0) {
			name[0] = '\0';
			break;
		}
		pos += n;
	}
	(void)fdatasync(fd);
	close(fd);
}

/* Cut the current segment back to off, recording the cut.  Only the last
 * segment has a tail a writer can have torn; damage anywhere else is for
 * verify to report, never for a writer to "repair". */
static privaudit_status cut_tail(privaudit_log *log, uint64_t off, uint64_t size, const char *why)
{
	char saved[64], next[PA_SEG_NAME_MAX];

	pa_seg_name(next, log->st.segment + 1);
	if (faccessat(log->dirfd, next, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return pa_fail(&log->err, PRIVAUDIT_E_FORMAT,
			       "segment %" PRIu64 " is damaged at offset %" PRIu64
			       " (%s) and is not the last one: run privaudit verify",
			       log->st.segment, off, why);
	if (off < PA_SEG_HEADER)
		return pa_fail(&log->err, PRIVAUDIT_E_FORMAT, "refusing to cut a segment header");
	save_cut(log, log->st.segment, off, size, saved, sizeof(saved));
	if (saved[0] == '\0')
		return pa_fail(&log->err, PRIVAUDIT_E_IO,
			       "cannot keep the %" PRIu64 " bytes to cut from segment %" PRIu64
			       " (%s); nothing cut", size - off, log->st.segment, why);
	if (ftruncate(log->segfd, (off_t)off) < 0 || fdatasync(log->segfd) < 0)
		return pa_fail_errno(&log->err, "truncate torn tail of", "segment");
	return queue_recovery(log, log->st.segment, off, size - off, why, saved);
}

/* Follow the key chain through records read back from the log. */
static void note_key_records(pa_state *st, const pa_record *rec, uint64_t index)
{
	if (rec->body_case == PRIVAUDIT__RECORD__BODY_GENESIS) {
		if (rec->genesis->public_key.len == sizeof(st->key_pk)) {
			st->key_known = 1;
			st->key_index = 0;
			memcpy(st->key_pk, rec->genesis->public_key.data, sizeof(st->key_pk));
		}
	} else if (rec->body_case == PRIVAUDIT__RECORD__BODY_KEY_ROTATION) {
		if (rec->key_rotation->next_public_key.len == sizeof(st->rot_pk)) {
			st->rot_valid = 1;
			st->rot_size = index + 1;
			st->rot_index = rec->key_rotation->key_index;
			memcpy(st->rot_pk, rec->key_rotation->next_public_key.data, sizeof(st->rot_pk));
		}
	} else if (rec->body_case == PRIVAUDIT__RECORD__BODY_CHECKPOINT) {
		st->last_ckpt = rec->checkpoint->tree_size;
		st->key_known = st->rot_valid && st->rot_size == rec->checkpoint->tree_size;
		if (st->key_known) {
			st->key_index = st->rot_index;
			memcpy(st->key_pk, st->rot_pk, sizeof(st->key_pk));
		}
		st->rot_valid = 0;
	}
}

/* Read frames past st.seg_end (left by a writer that died before updating
 * the state, or by a stale state) into the tree; cut a torn tail. */
static privaudit_status scan_segment(privaudit_log *log)
{
	pa_segreader r;
	struct stat sb;
	privaudit_status st;

	if (fstat(log->segfd, &sb) < 0)
		return pa_fail_errno(&log->err, "stat", "segment");
	if ((uint64_t)sb.st_size == log->st.seg_end)
		return PRIVAUDIT_OK;
	if ((uint64_t)sb.st_size < log->st.seg_end)
		return PRIVAUDIT_E_STATE;   /* the log lost records: refresh rebuilds */
	st = pa_segreader_init(&r, log->segfd, log->st.seg_end, (uint64_t)sb.st_size);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&log->err, st, "out of memory");
	for (;;) {
		const unsigned char *entry;
		const char *why = NULL;
		unsigned char leaf[PA_HASH_LEN];
		uint64_t off;
		size_t len;
		pa_frame_status fs = pa_segreader_next(&r, &entry, &len, &off);
		pa_record *rec;

		if (fs == PA_FRAME_END)
			break;
		if (fs == PA_FRAME_IOERR) {
			st = pa_fail_errno(&log->err, "read", "segment");
			break;
		}
		if (fs == PA_FRAME_TORN)
			why = "incomplete frame";
		else if (fs == PA_FRAME_BADLEN)
			why = "bad frame length";
		else if (fs == PA_FRAME_BADCRC)
			why = "frame checksum mismatch";
		else if (pa_load64(entry) != log->st.tree.size)
			why = "unexpected record index";
		if (why == NULL) {
			rec = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
			if (rec == NULL) {
				why = "record does not decode";
			} else {
				note_key_records(&log->st, rec, log->st.tree.size);
				pa_record_free(rec);
			}
		}
		if (why != NULL) {
			st = cut_tail(log, off, (uint64_t)sb.st_size, why);
			break;
		}
		pa_hash_leaf(leaf, entry, len);
		pa_tree_append(&log->st.tree, leaf);
		log->st.seg_end = pa_segreader_offset(&r);
	}
	pa_segreader_free(&r);
	return st;
}

/* Bring log->st up to the log on disk.  Called with the lock held. */
static void state_reset(privaudit_log *log)
{
	/* Keep the generation: the rebuilt state must outrank the slots on disk. */
	uint64_t gen = log->st.gen;

	if (log->first_segment > 0)
		log->st = log->base;
	else
		memset(&log->st, 0, sizeof(log->st));
	log->st.gen = gen;
	memcpy(log->st.log_id, log->log_id, PA_HASH_LEN);
	log->st.seg_end = PA_SEG_HEADER;
}

/* A state that disagrees with its segment's header is rebuilt, not used. */
static int state_insane(privaudit_log *log)
{
	unsigned char hdr[PA_SEG_HEADER];
	const char *why = NULL;
	pa_seghdr h;
	int bad;

	if (log->st.seg_end < PA_SEG_HEADER || log->st.seg_first > log->st.tree.size)
		return 1;
	if (open_segment(log, log->st.segment) != PRIVAUDIT_OK)
		return 0;   /* a missing segment is handled as a cut log */
	bad = pa_pread_full(log->segfd, hdr, sizeof(hdr), 0) < 0 ||
	      pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK || h.number != log->st.segment ||
	      h.first_index != log->st.seg_first || memcmp(h.log_id, log->log_id, PA_HASH_LEN) != 0;
	return bad;
}

static privaudit_status refresh(privaudit_log *log)
{
	privaudit_status st;
	uint64_t expected = 0;
	int rebuilt = 0;

	if (pa_state_read(log->statefd, log->log_id, &log->st) < 0 || state_insane(log))
		state_reset(log);   /* no usable state: rebuild it from the whole log */
	for (;;) {
		unsigned char hdr[PA_SEG_HEADER];
		char name[PA_SEG_NAME_MAX];
		const char *why = NULL;
		struct stat sb;
		pa_seghdr h;
		int fd;

		st = open_segment(log, log->st.segment);
		if (st == PRIVAUDIT_OK)
			st = scan_segment(log);
		if ((st == PRIVAUDIT_E_STATE || (st == PRIVAUDIT_E_IO && log->err.err == ENOENT)) &&
		    !rebuilt) {
			/* Records the writers committed are gone: someone cut the
			 * log outside privaudit.  Rebuild from what is there and
			 * say so in the log, rather than refuse every append. */
			expected = log->st.tree.size;
			rebuilt = 1;
			state_reset(log);
			continue;
		}
		if (st != PRIVAUDIT_OK)
			return st;
		/* A rollover whose state update was lost leaves a newer segment. */
		pa_seg_name(name, log->st.segment + 1);
		fd = openat(log->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			if (errno != ENOENT)
				return pa_fail_errno(&log->err, "open", name);
			if (rebuilt && expected > log->st.tree.size) {
				char lost[160];

				snprintf(lost, sizeof(lost),
					 "log holds %" PRIu64 " records where writers had committed %" PRIu64
					 ": removed outside privaudit",
					 log->st.tree.size, expected);
				return queue_recovery(log, log->st.segment, log->st.seg_end,
						      0, lost, "");
			}
			return PRIVAUDIT_OK;
		}
		if (fstat(fd, &sb) < 0) {
			st = pa_fail_errno(&log->err, "stat", name);
			close(fd);
			return st;
		}
		if (sb.st_size < PA_SEG_HEADER) {
			/* Creation interrupted before its header was durable: no
			 * record can be in it. */
			close(fd);
			if (unlinkat(log->dirfd, name, 0) < 0)
				return pa_fail_errno(&log->err, "remove incomplete segment", name);
			return queue_recovery(log, log->st.segment + 1, 0, (uint64_t)sb.st_size,
					      "segment without a complete header removed", "");
		}
		if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0) {
			st = pa_fail_errno(&log->err, "read", name);
			close(fd);
			return st;
		}
		close(fd);
		if (pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK)
			return pa_fail(&log->err, PRIVAUDIT_E_FORMAT, "%s: %s", name, why);
		if (memcmp(h.log_id, log->log_id, PA_HASH_LEN) != 0)
			return pa_fail(&log->err, PRIVAUDIT_E_FOREIGN, "%s belongs to another log", name);
		if (h.number != log->st.segment + 1 || h.first_index != log->st.tree.size)
			return pa_fail(&log->err, PRIVAUDIT_E_SEQUENCE,
				       "%s starts at record %" PRIu64 ", expected %" PRIu64, name,
				       h.first_index, log->st.tree.size);
		log->st.segment++;
		log->st.seg_first = h.first_index;
		log->st.seg_end = PA_SEG_HEADER;
	}
}

static privaudit_status finish_checkpoint(privaudit_log *log, const pa_keystate *ks);

/* Refresh, then finish a checkpoint interrupted after signing (a rotation
 * record without its checkpoint), when this process may read the key. */
static privaudit_status refresh_all(privaudit_log *log)
{
	privaudit_status st = refresh(log);

	if (st == PRIVAUDIT_OK && log->st.rot_valid) {
		pa_keystate *ks = pa_keys_new();

		if (ks != NULL && pa_keys_load(NULL, log->dirfd, ks) == PRIVAUDIT_OK &&
		    sodium_memcmp(ks->log_id, log->log_id, PA_HASH_LEN) == 0)
			st = finish_checkpoint(log, ks);
		pa_keys_free(ks);
	}
	if (st == PRIVAUDIT_OK)
		log->fresh = 1;
	return st;
}

static privaudit_status take_lock(privaudit_log *log)
{
	/* A child shares the parent's lock: two writers would interleave. */
	if (getpid() != log->pid)
		return pa_fail(&log->err, PRIVAUDIT_E_STATE,
			       "log handle used in a child process; open the log again there");
	if (pa_lock(log->lockfd, 1, log->lock_timeout_ms) < 0) {
		if (errno == ETIMEDOUT)
			return pa_fail(&log->err, PRIVAUDIT_E_LOCK_TIMEOUT,
				       "log lock held by another writer for over %d ms",
				       log->lock_timeout_ms);
		return pa_fail_errno(&log->err, "lock", PA_LOCK_FILE);
	}
	return PRIVAUDIT_OK;
}

/* Write the queue durably at the end of the log.  Lock held, refreshed.
 * On failure the log on disk is as before and the queue is kept. */
static privaudit_status write_queue(privaudit_log *log, int force_sync)
{
	pa_tree tree;
	uint64_t index, end;
	size_t p;
	privaudit_status st;

	if (log->pend_count == 0) {
		/* A seal must cover records committed without sync. */
		if (force_sync && (log->flags & PRIVAUDIT_OPEN_NOSYNC) && fdatasync(log->segfd) < 0)
			return pa_fail_errno(&log->err, "fdatasync", "segment");
		return PRIVAUDIT_OK;
	}
	if (log->broken)
		return pa_fail(&log->err, PRIVAUDIT_E_STATE,
			       "an earlier failed append could not be taken back; reopen the log");
	/* Events must leave the reserve free for the log's own records (and
	 * a new segment's header); the gap record counting them may use it. */
	if (log->pend_events > 0 && !log->no_divert &&
	    !has_room(log, log->pend_len + PA_SEG_HEADER, 1)) {
		st = divert_events(log);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	if (log->st.seg_end >= log->seg_limit) {
		/* Records in the old segment must be durable before any in the
		 * new one can be: also those another writer wrote there without
		 * sync (PAM close records, sync=no, PRIVAUDIT_OPEN_NOSYNC,
		 * privaudit_write()), which this handle cannot see, so always
		 * sync.  Once per segment (64 MB by default). */
		if (fdatasync(log->segfd) < 0)
			return pa_fail_errno(&log->err, "fdatasync", "segment");
		st = roll_segment(log);
		if (st != PRIVAUDIT_OK)
			return st;
	}
again:
	tree = log->st.tree;
	index = tree.size;
	/* Records are framed and hashed two at a time, in order. */
	for (p = 0; p < log->pend_len;) {
		unsigned char *f = log->pend + p, *g, leaf[PA_HASH_LEN], leaf2[PA_HASH_LEN];
		uint32_t len = pa_load32(f), len2;

		pa_store64(f + 4, index++);
		p += 4 + (size_t)len + 4;
		if (p >= log->pend_len) {
			pa_frame_encode(f, f + 4, len);
			pa_hash_leaf(leaf, f + 4, len);
			pa_tree_append(&tree, leaf);
			break;
		}
		g = log->pend + p;
		len2 = pa_load32(g);
		pa_store64(g + 4, index++);
		pa_frame_encode2(f, len, g, len2);
		p += 4 + (size_t)len2 + 4;
		pa_hash_leaf2(leaf, f + 4, len, leaf2, g + 4, len2);
		pa_tree_append(&tree, leaf);
		pa_tree_append(&tree, leaf2);
	}
	end = log->st.seg_end;
	if (pa_pwrite_full(log->segfd, log->pend, log->pend_len, (off_t)end) < 0 ||
	    ((force_sync || !(log->flags & PRIVAUDIT_OPEN_NOSYNC)) && fdatasync(log->segfd) < 0)) {
		st = pa_fail_errno(&log->err, "append to", "segment");
		/* Take back what may have been written, so the failure leaves the
		 * log as it was; if even that fails the next open cuts it. */
		if (ftruncate(log->segfd, (off_t)end) == 0)
			(void)fdatasync(log->segfd);
		else
			log->broken = 1;   /* a retry could write these records twice */
		/* Full beyond the reserve (another program filled it, or no
		 * reserve): retrying these events would fail the same way for
		 * as long as the disk stays full, so they become a gap record,
		 * and the log's own records are tried once more without them. */
		if (!log->broken && (log->err.err == ENOSPC || log->err.err == EDQUOT) &&
		    log->pend_events > 0 && !log->no_divert) {
			st = divert_events(log);
			if (st != PRIVAUDIT_OK)
				return st;
			goto again;
		}
		return st;
	}
	log->st.tree = tree;
	log->st.seg_end = end + log->pend_len;
	log->st.gen++;
	/* The state is a cache: losing this write costs a scan, not data. */
	(void)pa_state_write(log->statefd, &log->st);
	log->written += log->pend_count;
	log->pend_len = 0;
	log->pend_count = 0;
	log->pend_events = 0;
	return PRIVAUDIT_OK;
}

/* Write what one step queued (synced).  On failure the step's records are
 * dropped from the queue and the view restored, so that no later commit
 * writes them behind the state's back: a retry redoes the step whole. */
static privaudit_status write_step(privaudit_log *log, size_t len0, size_t count0,
				   const pa_state *st0)
{
	privaudit_status st;

	/* the step restores the queue to len0 on failure: nothing in it may
	 * move (events queued before it go in with it, as they always did) */
	log->no_divert = 1;
	st = write_queue(log, 1);
	log->no_divert = 0;
	if (st != PRIVAUDIT_OK) {
		log->pend_len = len0;
		log->pend_count = count0;
		log->st = *st0;
	}
	return st;
}

/* Append the checkpoint record of a note that was signed (and stored in
 * log.key) but whose record never reached the log. */
static privaudit_status finish_checkpoint(privaudit_log *log, const pa_keystate *ks)
{
	size_t len0 = log->pend_len, count0 = log->pend_count;
	pa_state st0 = log->st;
	privaudit_status st;
	pa_note n;
	uint64_t size;

	if (ks->note_len == 0 || ks->key_index == 0 || pa_note_parse(ks->note, ks->note_len, &n) != PRIVAUDIT_OK)
		return PRIVAUDIT_OK;
	size = n.size;
	pa_note_free(&n);
	if (size <= log->st.last_ckpt || size > log->st.tree.size)
		return PRIVAUDIT_OK;
	log->st.last_ckpt = size;
	log->st.key_known = log->st.rot_valid && log->st.rot_size == size;
	if (log->st.key_known) {
		log->st.key_index = log->st.rot_index;
		memcpy(log->st.key_pk, log->st.rot_pk, sizeof(log->st.key_pk));
	}
	log->st.rot_valid = 0;
	/* The note in log.key was signed by the key before the one stored. */
	st = queue_checkpoint(log, ks->note, ks->note_len, ks->key_index - 1);
	if (st == PRIVAUDIT_OK)
		st = write_step(log, len0, count0, &st0);
	else
		log->st = st0;
	return st;
}

static privaudit_status write_checkpoint_file(privaudit_log *log, const char *note, size_t len)
{
	return pa_replace_file(&log->err, log->dirfd, PRIVAUDIT_CHECKPOINT_FILE, note, len, 0644);
}

/* At every seal: tell the writer when the filesystem may keep the keys
 * that log.key erases (privaudit_set_warning). */
static void warn_erasure(privaudit_log *log)
{
	char why[512];

	if (log->warn_fn != NULL && pa_keys_erasure_risk(log->dirfd, why, sizeof(why)) == 1)
		log->warn_fn(log->warn_arg, why);
}

/* Rotate, sign, store the next key, record the checkpoint.  Lock held. */
static privaudit_status seal_locked(privaudit_log *log)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__KeyRotation rot = PRIVAUDIT__KEY_ROTATION__INIT;
	pa_keystate *ks = NULL, *next = NULL;
	unsigned char root[PA_HASH_LEN];
	char *note = NULL;
	size_t note_len = 0, len0, count0;
	pa_state st0;
	privaudit_status st;

	ks = pa_keys_new();
	next = pa_keys_new();
	if (ks == NULL || next == NULL) {
		st = pa_fail(&log->err, PRIVAUDIT_E_NOMEM, "out of secure memory");
		goto out;
	}
	st = pa_keys_load(&log->err, log->dirfd, ks);
	if (st != PRIVAUDIT_OK)
		goto out;
	if (sodium_memcmp(ks->log_id, log->log_id, PA_HASH_LEN) != 0) {
		st = pa_fail(&log->err, PRIVAUDIT_E_KEY, "log.key belongs to another log");
		goto out;
	}
	st = finish_checkpoint(log, ks);
	if (st != PRIVAUDIT_OK)
		goto out;
	/* Signing with any other key would break the chain for good. */
	if (log->st.key_known && (ks->key_index != log->st.key_index ||
				  sodium_memcmp(ks->pk, log->st.key_pk, sizeof(ks->pk)) != 0)) {
		st = pa_fail(&log->err, PRIVAUDIT_E_KEY,
			     "log.key holds key %" PRIu64 " but the log expects key %" PRIu64
			     " (a restored or foreign key file); refusing to sign",
			     ks->key_index, log->st.key_index);
		goto out;
	}
	/* Before the key signs: log.key in two slots overwritten in place,
	 * NOCOW where the filesystem has it, no other copy (keys.c). */
	st = pa_keys_settle(&log->err, log->dirfd, ks);
	if (st != PRIVAUDIT_OK)
		goto out;
	warn_erasure(log);
	st = pa_keys_generate(next);
	if (st != PRIVAUDIT_OK) {
		pa_fail(&log->err, st, "key generation failed");
		goto out;
	}
	/* The checkpoint about to be signed covers the next public key. */
	rot.key_index = ks->key_index + 1;
	rot.next_public_key.data = next->pk;
	rot.next_public_key.len = sizeof(next->pk);
	rec.body_case = PRIVAUDIT__RECORD__BODY_KEY_ROTATION;
	rec.key_rotation = &rot;
	len0 = log->pend_len;
	count0 = log->pend_count;
	st0 = log->st;
	st = queue_record(log, &rec);
	if (st != PRIVAUDIT_OK)
		goto out;
	/* The state written with the rotation says a checkpoint is due, so an
	 * open after a crash looks for a signed note to finish. */
	log->st.rot_valid = 1;
	log->st.rot_size = log->st.tree.size + log->pend_count;
	log->st.rot_index = rot.key_index;
	memcpy(log->st.rot_pk, next->pk, sizeof(log->st.rot_pk));
	st = write_step(log, len0, count0, &st0);
	if (st != PRIVAUDIT_OK)
		goto out;
	next->key_index = ks->key_index + 1;
	memcpy(next->log_id, ks->log_id, PA_HASH_LEN);
	memcpy(next->origin, ks->origin, sizeof(next->origin));
	st = pa_keys_prepare(&log->err, log->dirfd, ks, next);
	if (st != PRIVAUDIT_OK)
		goto out;
	pa_tree_root(&log->st.tree, root);
	st = pa_note_sign(ks->origin, log->st.tree.size, root, (int64_t)(pa_now_ns() / 1000000000u),
			  ks->sk, &note, &note_len);
	if (st != PRIVAUDIT_OK) {
		pa_fail(&log->err, st, "signing the checkpoint failed");
		goto out;
	}
	if (note_len > PA_NOTE_MAX) {
		st = pa_fail(&log->err, PRIVAUDIT_E_NOTE, "checkpoint note too long");
		goto out;
	}
	/* The signature leaves this process only in the write that overwrites
	 * the key that made it, in place (keys.c): once that is durable the
	 * prepared key is current, and the used one is gone from the disk,
	 * and from memory below.  On failure the note is dropped unused. */
	st = pa_keys_retire(&log->err, log->dirfd, ks, note, note_len);
	if (st != PRIVAUDIT_OK)
		goto out;
	sodium_memzero(ks->sk, sizeof(ks->sk));
	len0 = log->pend_len;
	count0 = log->pend_count;
	st0 = log->st;
	log->st.last_ckpt = log->st.tree.size;
	log->st.key_known = 1;
	log->st.key_index = next->key_index;
	memcpy(log->st.key_pk, next->pk, sizeof(log->st.key_pk));
	log->st.rot_valid = 0;
	/* If this write fails, the note stays in log.key and the next open or
	 * seal appends its record (finish_checkpoint). */
	st = queue_checkpoint(log, note, note_len, ks->key_index);
	if (st == PRIVAUDIT_OK)
		st = write_step(log, len0, count0, &st0);
	else
		log->st = st0;
	if (st == PRIVAUDIT_OK)
		st = write_checkpoint_file(log, note, note_len);
out:
	free(note);
	pa_keys_free(ks);
	pa_keys_free(next);
	return st;
}

/* ------------------------------------------------------------ public API */

/* Segment 0 is archived: the log's id and where a rebuilt state starts
 * come from the marker and the first live segment's segment_start. */
static privaudit_status read_archived_start(privaudit_log *log)
{
	unsigned char hdr[PA_SEG_HEADER], leaf[PA_HASH_LEN];
	const Privaudit__SegmentStart *s;
	char name[PA_SEG_NAME_MAX];
	const char *why = NULL;
	pa_archived a;
	pa_record *rec = NULL;
	uint64_t idx = 0;
	pa_seghdr h;
	int fd, ok;

	if (pa_archived_read(log->dirfd, &a) < 0)
		return pa_fail(&log->err, PRIVAUDIT_E_NOLOG, "no first segment (seg-0000000000000000)");
	pa_seg_name(name, a.first_segment);
	fd = openat(log->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return pa_fail_errno(&log->err, "open the first live segment", name);
	ok = pa_pread_full(fd, hdr, sizeof(hdr), 0) == 0 &&
	     pa_seg_header_decode(hdr, &h, &why) == PRIVAUDIT_OK && h.number == a.first_segment &&
	     h.first_index == a.first_index && memcmp(h.log_id, a.log_id, PA_HASH_LEN) == 0 &&
	     (rec = pa_segment_first(fd, &idx, leaf)) != NULL && idx == h.first_index &&
	     rec->body_case == PRIVAUDIT__RECORD__BODY_SEGMENT_START;
	close(fd);
	if (ok) {
		s = rec->segment_start;
		ok = s->n_frontier == (size_t)__builtin_popcountll(idx);
		memset(&log->base, 0, sizeof(log->base));
		for (size_t i = 0; ok && i < s->n_frontier; i++) {
			ok = s->frontier[i].len == PA_HASH_LEN;
			if (ok)
				memcpy(log->base.tree.node[i], s->frontier[i].data, PA_HASH_LEN);
		}
		log->base.tree.size = idx;
		log->base.tree.n = (unsigned)s->n_frontier;
		log->base.segment = a.first_segment;
		log->base.seg_first = idx;
		if (ok && s->public_key.len == sizeof(log->base.key_pk)) {
			log->base.key_known = 1;
			log->base.key_index = s->key_index;
			memcpy(log->base.key_pk, s->public_key.data, sizeof(log->base.key_pk));
		}
	}
	pa_record_free(rec);
	if (!ok)
		return pa_fail(&log->err, PRIVAUDIT_E_FORMAT,
			       "%s: the first live segment (per the archived marker) does not start with "
			       "its segment_start record",
			       name);
	log->first_segment = a.first_segment;
	memcpy(log->log_id, a.log_id, PA_HASH_LEN);
	return PRIVAUDIT_OK;
}

static privaudit_status read_log_id(pa_err *e, int dirfd, unsigned char log_id[PA_HASH_LEN])
{
	unsigned char hdr[PA_SEG_HEADER];
	char name[PA_SEG_NAME_MAX];
	const char *why = NULL;
	pa_seghdr h;
	int fd;

	pa_seg_name(name, 0);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return pa_fail(e, PRIVAUDIT_E_NOLOG, "no first segment (%s)", name);
		return pa_fail_errno(e, "open", name);
	}
	if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0) {
		close(fd);
		return pa_fail(e, PRIVAUDIT_E_FORMAT, "%s: short header", name);
	}
	close(fd);
	if (pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK || h.number != 0 || h.first_index != 0)
		return pa_fail(e, PRIVAUDIT_E_FORMAT, "%s: %s", name, why ? why : "bad first segment");
	memcpy(log_id, h.log_id, PA_HASH_LEN);
	return PRIVAUDIT_OK;
}

static privaudit_log *log_alloc(void)
{
	privaudit_log *log = calloc(1, sizeof(*log));

	if (log == NULL)
		return NULL;
	pthread_mutex_init(&log->mu, NULL);
	log->dirfd = log->lockfd = log->statefd = log->segfd = -1;
	log->unsynced_fd = -1;
	log->lock_timeout_ms = -1;
	log->pid = getpid();
	log->uid = getuid();
	log->seg_limit = DEFAULT_SEGMENT_SIZE;
	log->reserve = PRIVAUDIT_RESERVE_DEFAULT;
	log->root_blocks = -1;
	/* Until privaudit_set_program(): the executable's name, so that the
	 * writer-start record queued by open names the real writer. */
	snprintf(log->program, sizeof(log->program), "%s",
		 program_invocation_short_name[0] ? program_invocation_short_name : "libprivaudit");
	if (gethostname(log->host, sizeof(log->host) - 1) < 0)
		snprintf(log->host, sizeof(log->host), "unknown");
	return log;
}

static void log_release(privaudit_log *log)
{
	if (log->unsynced_fd >= 0)
		close(log->unsynced_fd);
	if (log->segfd >= 0)
		close(log->segfd);
	if (log->statefd >= 0)
		close(log->statefd);
	if (log->lockfd >= 0)
		close(log->lockfd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	free(log->pend);
	pthread_mutex_destroy(&log->mu);
	free(log);
}

static privaudit_status queue_writer(privaudit_log *log, int start)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__WriterStart ws = PRIVAUDIT__WRITER_START__INIT;
	Privaudit__WriterStop wp = PRIVAUDIT__WRITER_STOP__INIT;

	if (start) {
		ws.program = log->program;
		ws.version = (char *)(uintptr_t)PRIVAUDIT_VERSION_STRING;
		ws.uid = (uint32_t)getuid();
		rec.body_case = PRIVAUDIT__RECORD__BODY_WRITER_START;
		rec.writer_start = &ws;
	} else {
		wp.program = log->program;
		wp.reason = (char *)(uintptr_t)"close";
		/* the records queued with it are committed together */
		wp.records_written = log->written + log->pend_count;
		rec.body_case = PRIVAUDIT__RECORD__BODY_WRITER_STOP;
		rec.writer_stop = &wp;
	}
	return queue_record(log, &rec);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_open(privaudit_log **out, const char *dir,
						 unsigned flags)
{
	return privaudit_open_timeout(out, dir, flags, -1);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_open_timeout(privaudit_log **out, const char *dir,
							 unsigned flags, int lock_timeout_ms)
{
	privaudit_log *log;
	privaudit_status st;

	if (out == NULL || dir == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	/* No sodium_init() here: appending needs no libsodium state, and its
	 * set-up (about 30 us in a fresh process, measured in pamtester) would
	 * land on every login through the PAM module.  pa_keys_new() runs it
	 * before a key is touched (seal, or finishing a checkpoint). */
	log = log_alloc();
	if (log == NULL)
		return PRIVAUDIT_E_NOMEM;
	log->flags = flags;
	log->lock_timeout_ms = lock_timeout_ms < 0 ? -1 : lock_timeout_ms;
	log->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dirfd < 0) {
		st = errno == ENOENT ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
		goto fail;
	}
	log->lockfd = openat(log->dirfd, PA_LOCK_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (log->lockfd < 0) {
		st = errno == ENOENT ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
		goto fail;
	}
	log->statefd = openat(log->dirfd, PA_STATE_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			      0640);
	if (log->statefd < 0) {
		st = PRIVAUDIT_E_IO;
		goto fail;
	}
	/* The id from the first segment, every time: a state file (and a
	 * segment beside it) copied from another log must not lead a writer
	 * to append to that log's segments, and a log without its first
	 * segment is refused. */
	st = read_log_id(&log->err, log->dirfd, log->log_id);
	if (st == PRIVAUDIT_E_NOLOG)
		st = read_archived_start(log);
	if (st != PRIVAUDIT_OK)
		goto fail;
	if (flags & PRIVAUDIT_OPEN_ANNOUNCE) {
		st = queue_writer(log, 1);
		if (st != PRIVAUDIT_OK)
			goto fail;
	}
	/* Deferred: the first commit, seal or close does this under the lock. */
	if (!(flags & PRIVAUDIT_OPEN_DEFER)) {
		st = take_lock(log);
		if (st != PRIVAUDIT_OK)
			goto fail;
		st = refresh_all(log);
		if (st == PRIVAUDIT_OK)
			st = write_queue(log, 0);
		pa_unlock(log->lockfd);
		if (st != PRIVAUDIT_OK)
			goto fail;
	}
	*out = log;
	return PRIVAUDIT_OK;
fail:
	log_release(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_set_lock_timeout(privaudit_log *log, int ms)
{
	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	log->lock_timeout_ms = ms < 0 ? -1 : ms;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_set_segment_size(privaudit_log *log, uint64_t bytes)
{
	if (log == NULL || bytes < PA_SEG_HEADER + 1)
		return PRIVAUDIT_E_INVAL;
	log->seg_limit = bytes;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_set_reserve(privaudit_log *log, uint64_t bytes)
{
	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	log->reserve = bytes;
	unlock_handle(log);
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_set_warning(privaudit_log *log,
						       privaudit_warning_fn fn, void *arg)
{
	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	log->warn_fn = fn;
	log->warn_arg = arg;
	unlock_handle(log);
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_set_program(privaudit_log *log, const char *program)
{
	if (log == NULL || program == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	snprintf(log->program, sizeof(log->program), "%s", program);
	unlock_handle(log);
	return PRIVAUDIT_OK;
}

static privaudit_status commit_locked(privaudit_log *log)
{
	privaudit_status st;

	st = take_lock(log);
	if (st != PRIVAUDIT_OK)
		return st;
	st = refresh_all(log);
	/* Events a full disk kept out are counted with whatever the log's
	 * own records write meanwhile (a heartbeat, a writer stop), not with
	 * every commit: a gap record per call would eat the reserve. */
	if (st == PRIVAUDIT_OK && log->lost.count > 0 && log->pend_count > 0)
		st = queue_lost(log);
	if (st == PRIVAUDIT_OK)
		st = write_queue(log, 0);
	pa_unlock(log->lockfd);
	return diverted_status(log, st);
}

/* After a failed fdatasync the kernel may have dropped the written pages:
 * what this handle wrote since its last sync may be gone, so it writes no
 * more until reopened (an open reads the log as it really is). */
static privaudit_status sync_failed(privaudit_log *log)
{
	privaudit_status st = pa_fail_errno(&log->err, "fdatasync", "segment");

	log->broken = 1;
	return st;
}

/* Make durable what privaudit_write() left unsynced.  Handle held. */
static privaudit_status sync_unsynced(privaudit_log *log)
{
	int fd = log->unsynced_fd, rc;

	if (fd < 0)
		return PRIVAUDIT_OK;
	log->unsynced_fd = -1;
	rc = fdatasync(fd);
	if (rc < 0) {
		privaudit_status st = sync_failed(log);

		close(fd);
		return st;
	}
	close(fd);
	return PRIVAUDIT_OK;
}

/* Keep a descriptor of the segment just written without sync, for
 * privaudit_sync().  Only the newest one is needed: a rollover syncs the
 * old segment first (write_queue).  Handle held. */
static privaudit_status keep_unsynced(privaudit_log *log)
{
	int fd = fcntl(log->segfd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0) {
		/* no second descriptor: make the records durable now instead */
		if (fdatasync(log->segfd) < 0)
			return sync_failed(log);
		return PRIVAUDIT_OK;
	}
	if (log->unsynced_fd >= 0)
		close(log->unsynced_fd);
	log->unsynced_fd = fd;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_commit(privaudit_log *log)
{
	privaudit_status st = PRIVAUDIT_OK;

	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	if (log->pend_count > 0 || !log->fresh)
		st = commit_locked(log);
	/* durable means everything: also what privaudit_write() wrote (and
	 * the gap record of a full disk) */
	if ((st == PRIVAUDIT_OK || st == PRIVAUDIT_E_NOSPACE) &&
	    !(log->flags & PRIVAUDIT_OPEN_NOSYNC)) {
		privaudit_status sst = sync_unsynced(log);

		if (sst != PRIVAUDIT_OK)
			st = sst;
	}
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_write(privaudit_log *log)
{
	privaudit_status st = PRIVAUDIT_OK;
	unsigned flags;

	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	if (log->pend_count > 0 || !log->fresh) {
		size_t count = log->pend_count;

		/* written the way a PRIVAUDIT_OPEN_NOSYNC handle writes */
		flags = log->flags;
		log->flags |= PRIVAUDIT_OPEN_NOSYNC;
		st = commit_locked(log);
		log->flags = flags;
		/* with E_NOSPACE, the gap record went in and waits for the sync */
		if ((st == PRIVAUDIT_OK || st == PRIVAUDIT_E_NOSPACE) && count > 0) {
			privaudit_status kst = keep_unsynced(log);

			if (kst != PRIVAUDIT_OK)
				st = kst;
		}
	}
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_sync(privaudit_log *log)
{
	privaudit_status st;
	int fd, rc, err;

	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	fd = log->unsynced_fd;
	log->unsynced_fd = -1;
	unlock_handle(log);
	if (fd < 0)
		return PRIVAUDIT_OK;
	/* The handle is free while the disk works: the next write goes on. */
	rc = fdatasync(fd);
	err = errno;
	close(fd);
	if (rc == 0)
		return PRIVAUDIT_OK;
	lock_handle(log);
	errno = err;
	st = sync_failed(log);
	unlock_handle(log);
	return st;
}

static privaudit_status append_locked(privaudit_log *log, Privaudit__Record *rec)
{
	privaudit_status st;

	if (log->nospace && pa_is_event(rec->body_case) && !space_back(log)) {
		rec->host = log->host;
		rec->writer_pid = (uint32_t)log->pid;
		return refuse_event(log, rec, privaudit__record__get_packed_size(rec));
	}
	st = queue_record(log, rec);

	if (st == PRIVAUDIT_OK && log->pend_len >= AUTO_COMMIT_BYTES)
		st = commit_locked(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_append_text(privaudit_log *log, const void *text,
							size_t len)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Application app = PRIVAUDIT__APPLICATION__INIT;
	privaudit_status st;

	if (log == NULL || (text == NULL && len > 0))
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	app.program.data = (uint8_t *)log->program;
	app.program.len = strlen(log->program);
	app.pid = (uint32_t)log->pid;
	app.uid = (uint32_t)log->uid;
	app.text.data = (uint8_t *)(uintptr_t)text;
	app.text.len = len;
	rec.body_case = PRIVAUDIT__RECORD__BODY_APPLICATION;
	rec.application = &app;
	st = append_locked(log, &rec);
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_append_event(privaudit_log *log,
							 const privaudit_event *ev)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	privaudit_status st;

	if (log == NULL || ev == NULL)
		return PRIVAUDIT_E_INVAL;
	pa_event_to_record(ev, &rec);
	lock_handle(log);
	st = append_locked(log, &rec);
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_append_packed(privaudit_log *log,
							  const void *record, size_t len)
{
	pa_record *rec;
	privaudit_status st;
	unsigned char *f;
	size_t need;
	int event;

	if (log == NULL || record == NULL)
		return PRIVAUDIT_E_INVAL;
	if (len > PRIVAUDIT_RECORD_MAX)
		return pa_fail(&log->err, PRIVAUDIT_E_TOOBIG, "record of %zu bytes", len);
	rec = pa_record_decode(record, len);
	if (rec == NULL)
		return pa_fail(&log->err, PRIVAUDIT_E_FORMAT, "not a privaudit.Record with a body");
	/* The log's own kinds come only from the library. */
	switch (rec->body_case) {
	case PRIVAUDIT__RECORD__BODY_GENESIS:
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION:
	case PRIVAUDIT__RECORD__BODY_SEGMENT_START:
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT:
	case PRIVAUDIT__RECORD__BODY_RECOVERY:
		st = pa_fail(&log->err, PRIVAUDIT_E_INVAL, "%s records are written by the library only",
			     pa_record_kind_name(rec));
		pa_record_free(rec);
		return st;
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case PRIVAUDIT__RECORD__BODY_WRITER_START:
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP:
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT:
	case PRIVAUDIT__RECORD__BODY_GAP:
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN:
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE:
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT:
	case PRIVAUDIT__RECORD__BODY_COMMAND:
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT:
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE:
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT:
	case PRIVAUDIT__RECORD__BODY_APPLICATION:
	case PRIVAUDIT__RECORD__BODY_IO_OPEN:
	case PRIVAUDIT__RECORD__BODY_IO_CHUNK:
	case PRIVAUDIT__RECORD__BODY_IO_CLOSE:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	event = pa_is_event(rec->body_case);
	lock_handle(log);
	if (event && log->nospace && !space_back(log)) {
		st = refuse_event(log, rec, len);
		unlock_handle(log);
		pa_record_free(rec);
		return st;
	}
	pa_record_free(rec);
	need = log->pend_len + 4 + PA_ENTRY_INDEX + len + 4;
	if (need > log->pend_cap) {
		size_t cap = log->pend_cap ? log->pend_cap : 65536;
		unsigned char *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(log->pend, cap);
		if (nb == NULL) {
			unlock_handle(log);
			return pa_fail(&log->err, PRIVAUDIT_E_NOMEM, "out of memory queueing a record");
		}
		log->pend = nb;
		log->pend_cap = cap;
	}
	f = log->pend + log->pend_len;
	pa_store32(f, (uint32_t)(PA_ENTRY_INDEX + len));
	memset(f + 4, 0, PA_ENTRY_INDEX);
	memcpy(f + 4 + PA_ENTRY_INDEX, record, len);
	log->pend_len = need;
	log->pend_count++;
	log->pend_events += (size_t)event;
	st = PRIVAUDIT_OK;
	if (log->pend_len >= AUTO_COMMIT_BYTES)
		st = commit_locked(log);
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_seal(privaudit_log *log)
{
	privaudit_status st;

	if (log == NULL)
		return PRIVAUDIT_E_INVAL;
	lock_handle(log);
	st = take_lock(log);
	if (st == PRIVAUDIT_OK) {
		st = refresh_all(log);
		/* the checkpoint covers what a full disk kept out so far */
		if (st == PRIVAUDIT_OK)
			st = queue_lost(log);
		if (st == PRIVAUDIT_OK)
			st = write_queue(log, 1);
		if (st == PRIVAUDIT_OK)
			st = seal_locked(log);
		pa_unlock(log->lockfd);
	}
	st = diverted_status(log, st);
	unlock_handle(log);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_close(privaudit_log *log)
{
	privaudit_status st = PRIVAUDIT_OK;

	if (log == NULL)
		return PRIVAUDIT_OK;
	lock_handle(log);
	/* what a full disk kept out goes in before the handle does */
	st = queue_lost(log);
	if (st == PRIVAUDIT_OK && (log->flags & PRIVAUDIT_OPEN_ANNOUNCE))
		st = queue_writer(log, 0);
	if (st == PRIVAUDIT_OK && (log->pend_count > 0 || !log->fresh))
		st = commit_locked(log);
	if (st == PRIVAUDIT_OK && !(log->flags & PRIVAUDIT_OPEN_NOSYNC))
		st = sync_unsynced(log);
	unlock_handle(log);
	log_release(log);
	return st;
}

PRIVAUDIT_EXPORT uint64_t privaudit_log_size(const privaudit_log *log)
{
	return log == NULL ? 0 : log->st.tree.size;
}

PRIVAUDIT_EXPORT size_t privaudit_log_pending(const privaudit_log *log)
{
	return log == NULL ? 0 : log->pend_count;
}

PRIVAUDIT_EXPORT int privaudit_log_errno(const privaudit_log *log)
{
	return log == NULL ? 0 : log->err.err;
}

PRIVAUDIT_EXPORT const char *privaudit_log_error(const privaudit_log *log)
{
	if (log == NULL || log->err.msg[0] == '\0')
		return "no error";
	return log->err.msg;
}

/* ------------------------------------------------------------ init */

static int dir_has_log(int dirfd)
{
	static const char *const names[] = {PA_LOCK_FILE, PA_KEY_FILE, PA_KEY_NEW_FILE,
					    "seg-0000000000000000", PRIVAUDIT_PUBKEY_FILE,
					    PA_STATE_FILE};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (faccessat(dirfd, names[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
	return 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_init(const char *dir, const char *origin,
						 char *vkey, size_t vkey_len)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Genesis gen = PRIVAUDIT__GENESIS__INIT;
	unsigned char idbuf[PA_ORIGIN_MAX + 32 + crypto_sign_PUBLICKEYBYTES];
	char name[PA_ORIGIN_MAX], line[PA_VKEY_MAX + 2];
	pa_keystate *ks = NULL;
	privaudit_log *log = NULL;
	privaudit_status st;
	pa_err err = {0, ""};
	size_t ol, idlen;
	int dirfd = -1, fd;

	if (dir == NULL)
		return PRIVAUDIT_E_INVAL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return PRIVAUDIT_E_IO;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOTDIR ? PRIVAUDIT_E_INVAL : PRIVAUDIT_E_IO;
	if (dir_has_log(dirfd)) {
		st = PRIVAUDIT_E_EXISTS;
		goto out;
	}
	ks = pa_keys_new();
	if (ks == NULL) {
		st = PRIVAUDIT_E_NOMEM;
		goto out;
	}
	st = pa_keys_generate(ks);
	if (st != PRIVAUDIT_OK)
		goto out;
	if (origin != NULL) {
		snprintf(name, sizeof(name), "%s", origin);
	} else {
		char host[200] = "localhost";

		(void)gethostname(host, sizeof(host) - 1);
		snprintf(name, sizeof(name), "%s/privaudit/%02x%02x%02x%02x", host, ks->pk[0], ks->pk[1],
			 ks->pk[2], ks->pk[3]);
	}
	if (strlen(name) != (origin ? strlen(origin) : strlen(name)) ||
	    pa_vkey_format(name, ks->pk, line, PA_VKEY_MAX) != PRIVAUDIT_OK) {
		st = PRIVAUDIT_E_INVAL;   /* empty, too long, or holds spaces or '+' */
		goto out;
	}
	/* log id = SHA-256("privaudit log id\n" || origin || "\n" || K0) */
	ol = strlen(name);
	memcpy(idbuf, "privaudit log id\n", 17);
	memcpy(idbuf + 17, name, ol);
	idbuf[17 + ol] = '\n';
	memcpy(idbuf + 18 + ol, ks->pk, crypto_sign_PUBLICKEYBYTES);
	idlen = 18 + ol + crypto_sign_PUBLICKEYBYTES;
	pa_sha256(ks->log_id, idbuf, idlen);
	ks->key_index = 0;
	snprintf(ks->origin, sizeof(ks->origin), "%s", name);

	/* The lock file comes first and exclusively: two inits cannot both win. */
	fd = openat(dirfd, PA_LOCK_FILE, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		st = errno == EEXIST ? PRIVAUDIT_E_EXISTS : PRIVAUDIT_E_IO;
		goto out;
	}
	close(fd);
	st = create_segment(&err, dirfd, 0, 0, ks->log_id);
	if (st != PRIVAUDIT_OK)
		goto out;
	st = pa_keys_create(&err, dirfd, ks);
	if (st != PRIVAUDIT_OK)
		goto out;
	strcat(line, "\n");
	st = pa_replace_file(&err, dirfd, PRIVAUDIT_PUBKEY_FILE, line, strlen(line), 0644);
	if (st != PRIVAUDIT_OK)
		goto out;
	line[strlen(line) - 1] = '\0';

	st = privaudit_open(&log, dir, 0);
	if (st != PRIVAUDIT_OK)
		goto out;
	privaudit_set_program(log, "privaudit-init");
	gen.format_version = FORMAT_VERSION;
	gen.origin = name;
	gen.public_key.data = ks->pk;
	gen.public_key.len = sizeof(ks->pk);
	gen.log_id.data = ks->log_id;
	gen.log_id.len = PA_HASH_LEN;
	gen.vkey = line;
	rec.body_case = PRIVAUDIT__RECORD__BODY_GENESIS;
	rec.genesis = &gen;
	st = queue_record(log, &rec);
	if (st == PRIVAUDIT_OK)
		st = privaudit_seal(log);
	if (st == PRIVAUDIT_OK && vkey != NULL && vkey_len > 0)
		snprintf(vkey, vkey_len, "%s", line);
out:
	if (log != NULL) {
		privaudit_status cst = privaudit_close(log);

		if (st == PRIVAUDIT_OK)
			st = cst;
	}
	pa_keys_free(ks);
	if (dirfd >= 0)
		close(dirfd);
	return st;
}
