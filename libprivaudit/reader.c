/* SPDX-License-Identifier: ISC */
/* reader.c: reading a log's records in order, following it as it grows,
 * and by position; after a verification, every record returned is checked
 * against the verified tree.  Every byte read is treated as hostile.
 *
 * Asked to (privaudit_reader_skip_damage()), the reader steps over damage
 * instead of stopping there: it goes on where privaudit_damage_scan() found
 * a whole valid frame holding a record due again, and marks every record
 * read after it, so one flipped byte does not hide the rest of the log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "archive.h"
#include "reader.h"

struct privaudit_reader {
	int dirfd;
	char *dir;
	pa_err err;
	unsigned char log_id[PA_HASH_LEN];
	int have_log_id;

	/* where the log starts: segment 0, or after archived segments */
	uint64_t first_seg, first_index;

	/* sequential position */
	int segfd;                    /* -1: none open */
	uint64_t seg;                 /* segment open, or to open next */
	uint64_t next_index;
	uint64_t pos;                 /* offset of the next frame in seg */
	pa_segreader sr;
	int sr_live;
	pa_arena arena;
	struct privaudit_record cur;

	/* random access */
	int gfd;
	uint64_t gseg;
	unsigned char *gbuf;
	size_t gcap;

	/* after privaudit_reader_verify() */
	privaudit_verifier *ver;
	const privaudit_verify_report *rep;
	unsigned generation;

	privaudit_progress_fn progress;
	void *progress_arg;

	/* the session module's index */
	void *attached;
	const pa_reader_attachment *attached_ops;

	/* damage: stepped over when skip is set */
	int skip;
	int scanned;                  /* scan[] holds privaudit_damage_scan()'s ranges */
	privaudit_damage *scan;
	size_t nscan;
	privaudit_damage *met;        /* the ranges stepped over, in log order */
	size_t nmet;
	char damage[512];      /* the first damage met, as a line */
};

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_open(privaudit_reader **out, const char *dir)
{
	privaudit_reader *r;

	if (out == NULL || dir == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return PRIVAUDIT_E_NOMEM;
	r->segfd = -1;
	r->gfd = -1;
	pa_arena_init(&r->arena);
	r->dir = strdup(dir);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dir == NULL || r->dirfd < 0) {
		privaudit_status st = r->dir == NULL ? PRIVAUDIT_E_NOMEM
				      : errno == ENOENT || errno == ENOTDIR ? PRIVAUDIT_E_NOLOG
									    : PRIVAUDIT_E_IO;

		privaudit_reader_free(r);
		return st;
	}
	if (faccessat(r->dirfd, "seg-0000000000000000", F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		/* the first segments archived: the log starts where the marker says */
		pa_archived a;

		if (pa_archived_read(r->dirfd, &a) < 0) {
			privaudit_reader_free(r);
			return PRIVAUDIT_E_NOLOG;
		}
		r->first_seg = r->seg = a.first_segment;
		r->first_index = r->next_index = a.first_index;
	}
	*out = r;
	return PRIVAUDIT_OK;
}

static void close_seq(privaudit_reader *r)
{
	if (r->sr_live)
		pa_segreader_free(&r->sr);
	r->sr_live = 0;
	if (r->segfd >= 0)
		close(r->segfd);
	r->segfd = -1;
}

PRIVAUDIT_EXPORT void privaudit_reader_free(privaudit_reader *r)
{
	if (r == NULL)
		return;
	close_seq(r);
	if (r->gfd >= 0)
		close(r->gfd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	pa_arena_free(&r->arena);
	privaudit_verifier_free(r->ver);
	if (r->attached_ops != NULL)
		r->attached_ops->free(r->attached);
	free(r->scan);
	free(r->met);
	free(r->gbuf);
	free(r->dir);
	free(r);
}

PRIVAUDIT_EXPORT const char *privaudit_reader_error(const privaudit_reader *r)
{
	if (r == NULL)
		return "no reader";
	return r->err.msg[0] != '\0' ? r->err.msg : "no error";
}

void pa_reader_attach(privaudit_reader *r, void *obj, const pa_reader_attachment *ops)
{
	if (r->attached_ops != NULL && r->attached != obj)
		r->attached_ops->free(r->attached);
	r->attached = obj;
	r->attached_ops = obj != NULL ? ops : NULL;
}

void *pa_reader_attached(const privaudit_reader *r, const pa_reader_attachment *ops)
{
	return r->attached_ops == ops ? r->attached : NULL;
}

int pa_reader_dirfd(const privaudit_reader *r)
{
	return r->dirfd;
}

const char *pa_reader_dir(const privaudit_reader *r)
{
	return r->dir;
}

pa_err *pa_reader_err(privaudit_reader *r)
{
	return &r->err;
}

const unsigned char *pa_reader_log_id(const privaudit_reader *r)
{
	return r->have_log_id ? r->log_id : NULL;
}

privaudit_progress_fn pa_reader_progress_fn(const privaudit_reader *r, void **arg)
{
	*arg = r->progress_arg;
	return r->progress;
}

privaudit_verifier *pa_reader_verifier(const privaudit_reader *r)
{
	return r->ver;
}

const privaudit_verify_report *pa_reader_report(const privaudit_reader *r)
{
	return r->rep;
}

unsigned pa_reader_generation(const privaudit_reader *r)
{
	return r->generation;
}

privaudit_status pa_reader_segments(privaudit_reader *r, uint64_t **segs, size_t *n)
{
	if (pa_seg_list(r->dirfd, 0, segs, n) < 0)
		return errno == ENOMEM ? pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory")
				       : pa_fail_errno(&r->err, "read directory", r->dir);
	return PRIVAUDIT_OK;
}

/* Open segment number and check its header; 1 when it does not exist. */
static int open_segment(privaudit_reader *r, uint64_t number, pa_seghdr *h,
			privaudit_status *st)
{
	unsigned char hdr[PA_SEG_HEADER];
	char name[PA_SEG_NAME_MAX];
	const char *why = NULL;
	struct stat sb;
	int fd;

	*st = PRIVAUDIT_OK;
	pa_seg_name(name, number);
	fd = openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		*st = pa_fail_errno(&r->err, "open", name);
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		*st = pa_fail(&r->err, PRIVAUDIT_E_FORMAT, "%s is not a readable regular file", name);
		close(fd);
		return -1;
	}
	if ((uint64_t)sb.st_size < PA_SEG_HEADER) {
		close(fd);
		/* A rollover cut short before its header holds nothing yet. */
		return 1;
	}
	if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0) {
		*st = pa_fail_errno(&r->err, "read", name);
		close(fd);
		return -1;
	}
	if (pa_seg_header_decode(hdr, h, &why) != PRIVAUDIT_OK || h->number != number) {
		*st = pa_fail(&r->err, PRIVAUDIT_E_FORMAT, "segment %" PRIu64 ": %s", number,
			      why != NULL ? why : "header names another segment");
		close(fd);
		return -1;
	}
	if (r->have_log_id && memcmp(r->log_id, h->log_id, PA_HASH_LEN) != 0) {
		*st = pa_fail(&r->err, PRIVAUDIT_E_FOREIGN, "segment %" PRIu64 " belongs to another log",
			      number);
		close(fd);
		return -1;
	}
	memcpy(r->log_id, h->log_id, PA_HASH_LEN);
	r->have_log_id = 1;
	close_seq(r);
	r->segfd = fd;
	r->seg = number;
	r->pos = PA_SEG_HEADER;
	return 0;
}

/* (Re)start the segment reader at r->pos up to the file's current end. */
static privaudit_status restart(privaudit_reader *r)
{
	struct stat sb;
	privaudit_status st;

	if (fstat(r->segfd, &sb) < 0)
		return pa_fail_errno(&r->err, "stat", "segment");
	if (r->sr_live)
		pa_segreader_free(&r->sr);
	r->sr_live = 0;
	st = pa_segreader_init(&r->sr, r->segfd, r->pos, (uint64_t)sb.st_size);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&r->err, st, "out of memory");
	r->sr_live = 1;
	return PRIVAUDIT_OK;
}

/* Check a record read against the verified tree and set rec->verified
 * (and whether it comes after damage stepped over). */
static privaudit_status check_record(privaudit_reader *r, struct privaudit_record *rec)
{
	const unsigned char (*leaves)[PA_HASH_LEN];
	unsigned char leaf[PA_HASH_LEN];
	uint64_t n;

	rec->verified = 0;
	rec->after_damage = r->nmet > 0 && rec->index >= r->met[0].first_index;
	rec->damage_index = rec->after_damage ? r->met[0].first_index : 0;
	if (r->ver == NULL)
		return PRIVAUDIT_OK;
	/* leaves[0] is the first record the verifier read (the first live
	 * one when segments were archived) */
	leaves = pa_verifier_leaves(r->ver, &n);
	if (rec->index < r->rep->started_at)
		return PRIVAUDIT_OK;
	if (rec->index - r->rep->started_at >= n)
		return PRIVAUDIT_OK;   /* appended after the verification */
	pa_hash_leaf(leaf, rec->entry, rec->len);
	if (memcmp(leaf, leaves[rec->index - r->rep->started_at], PA_HASH_LEN) != 0)
		return pa_fail(&r->err, PRIVAUDIT_E_ROOT,
			       "record %" PRIu64 " (segment %" PRIu64 ", offset %" PRIu64
			       ") differs from the bytes verified",
			       rec->index, rec->segment, rec->offset);
	rec->verified = rec->index < r->rep->sealed;
	return PRIVAUDIT_OK;
}

/* The next segment exists (the current one is complete). */
static int next_exists(privaudit_reader *r)
{
	char name[PA_SEG_NAME_MAX];
	struct stat sb;

	pa_seg_name(name, r->seg + 1);
	return fstatat(r->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (uint64_t)sb.st_size >= PA_SEG_HEADER;
}

/* A frame that fails its checksum is a write in progress (or torn) only
 * when it is the last thing in the file. */
static int frame_ends_file(privaudit_reader *r, uint64_t off)
{
	unsigned char l[4];
	struct stat sb;

	if (fstat(r->segfd, &sb) < 0 || pa_pread_full(r->segfd, l, 4, (off_t)off) < 0)
		return 0;
	return off + PA_FRAME_OVERHEAD + pa_load32(l) == (uint64_t)sb.st_size;
}

static privaudit_status frame_damage(privaudit_reader *r, pa_frame_status fs, uint64_t off)
{
	const char *what = fs == PA_FRAME_BADCRC ? "frame checksum mismatch"
			   : fs == PA_FRAME_BADLEN ? "frame length out of range"
						   : "frame runs past the end of its segment";

	if (fs == PA_FRAME_IOERR)
		return pa_fail(&r->err, PRIVAUDIT_E_IO, "read segment %" PRIu64 ": %s", r->seg,
			       strerror(errno));
	return pa_fail(&r->err, PRIVAUDIT_E_FORMAT,
		       "record %" PRIu64 ": segment %" PRIu64 ", offset %" PRIu64 ": %s",
		       r->next_index, r->seg, off, what);
}

/* (sa, oa) before or at (sb, ob) in the log. */
static int pos_le(uint64_t sa, uint64_t oa, uint64_t sb, uint64_t ob)
{
	return sa < sb || (sa == sb && oa <= ob);
}

/* Keep a damaged range stepped over (once), and the first as a line. */
static privaudit_status met_damage(privaudit_reader *r, const privaudit_damage *d)
{
	privaudit_damage *m;

	if (r->nmet > 0 && r->met[r->nmet - 1].segment == d->segment &&
	    r->met[r->nmet - 1].offset == d->offset)
		return PRIVAUDIT_OK;
	m = realloc(r->met, (r->nmet + 1) * sizeof(*m));
	if (m == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	r->met = m;
	r->met[r->nmet++] = *d;
	return PRIVAUDIT_OK;
}

/* Damage at (seg, off), found with why (the reader's error says what):
 * without skip, why; with it, go on where the scan found the next record
 * due (PRIVAUDIT_OK: read again), or PRIVAUDIT_E_END when nothing whole
 * follows.  Damage the scan does not see (the files changed since, or a
 * frame whose checksum holds but whose record does not decode) stops
 * reading as without skip, but for a whole frame, which is skipped: next
 * is the offset after it. */
static privaudit_status step_over(privaudit_reader *r, uint64_t seg, uint64_t off, uint64_t next,
				  privaudit_status why)
{
	const privaudit_damage *d = NULL;
	privaudit_status st;

	if (why == PRIVAUDIT_E_IO || why == PRIVAUDIT_E_NOMEM)
		return why;
	if (r->damage[0] == '\0')
		snprintf(r->damage, sizeof(r->damage), "%s", r->err.msg);
	if (!r->skip)
		return why;
	if (!r->scanned) {
		st = privaudit_damage_scan(r->dir, &r->scan, &r->nscan, NULL);
		if (st != PRIVAUDIT_OK)
			return pa_fail(&r->err, st, "look for the end of the damage: %s",
				       privaudit_strerror(st));
		r->scanned = 1;
	}
	for (size_t i = 0; i < r->nscan && d == NULL; i++)
		if (pos_le(r->scan[i].segment, r->scan[i].offset, seg, off) &&
		    pos_le(seg, off, r->scan[i].end_segment, r->scan[i].end_offset) &&
		    r->scan[i].resumed_index != r->next_index)
			d = &r->scan[i];
	if (d == NULL && next != 0) {
		privaudit_damage one = {
			.segment = seg, .offset = off, .first_index = r->next_index,
			.end_segment = seg, .end_offset = next, .resumed_index = r->next_index + 1,
			.what = "record does not decode",
		};

		if ((st = met_damage(r, &one)) != PRIVAUDIT_OK)
			return st;
		r->pos = next;
		r->next_index++;
		return PRIVAUDIT_OK;
	}
	if (d == NULL)
		return why;
	if ((st = met_damage(r, d)) != PRIVAUDIT_OK)
		return st;
	if (d->end_segment == UINT64_MAX || d->resumed_index == UINT64_MAX) {
		close_seq(r);
		return PRIVAUDIT_E_END;
	}
	return pa_reader_resume(r, d->end_segment, d->end_offset, d->resumed_index);
}

/* A segment after seg exists: seg is missing, not yet to come. */
static int later_segment(privaudit_reader *r, uint64_t seg)
{
	uint64_t *segs = NULL;
	size_t n = 0;
	int later;

	if (pa_seg_list(r->dirfd, 0, &segs, &n) < 0)
		return 0;
	later = n > 0 && segs[n - 1] > seg;
	free(segs);
	return later;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_skip_damage(privaudit_reader *r, int on)
{
	if (r == NULL)
		return PRIVAUDIT_E_INVAL;
	r->skip = on != 0;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT size_t privaudit_reader_damaged(const privaudit_reader *r,
						 const privaudit_damage **ranges)
{
	if (ranges != NULL)
		*ranges = r != NULL ? r->met : NULL;
	return r != NULL ? r->nmet : 0;
}

PRIVAUDIT_EXPORT int privaudit_record_after_damage(const privaudit_record *rec, uint64_t *first)
{
	if (rec == NULL || !rec->after_damage)
		return 0;
	if (first != NULL)
		*first = rec->damage_index;
	return 1;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_next(privaudit_reader *r,
							const privaudit_record **rec)
{
	privaudit_status st;
	pa_seghdr h;

	if (r == NULL || rec == NULL)
		return PRIVAUDIT_E_INVAL;
	*rec = NULL;
	for (int grown = 0;;) {
		const unsigned char *entry;
		pa_frame_status fs;
		uint64_t off;
		size_t len;

		if (r->segfd < 0) {
			int o = open_segment(r, r->seg, &h, &st);

			if (o > 0 && r->skip && later_segment(r, r->seg)) {
				pa_fail(&r->err, PRIVAUDIT_E_SEQUENCE,
					"record %" PRIu64 ": segment %" PRIu64 " is missing",
					r->next_index, r->seg);
				o = -1;
				st = PRIVAUDIT_E_SEQUENCE;
			}
			if (o < 0) {
				/* one missing or unreadable: on with the next */
				if (st == PRIVAUDIT_E_NOMEM || st == PRIVAUDIT_E_IO ||
				    (st = step_over(r, r->seg, 0, 0, st)) != PRIVAUDIT_OK)
					return st;
				continue;
			}
			if (o > 0)
				return PRIVAUDIT_E_END;
			if (h.first_index != r->next_index) {
				st = pa_fail(&r->err, PRIVAUDIT_E_SEQUENCE,
					     "segment %" PRIu64 " starts at record %" PRIu64
					     ", expected %" PRIu64,
					     r->seg, h.first_index, r->next_index);
				if ((st = step_over(r, r->seg, 0, 0, st)) != PRIVAUDIT_OK)
					return st;
				continue;
			}
		}
		if (!r->sr_live && (st = restart(r)) != PRIVAUDIT_OK)
			return st;
		fs = pa_segreader_next(&r->sr, &entry, &len, &off);
		if (fs == PA_FRAME_OK) {
			st = pa_record_view(&r->cur, &r->arena, entry, len, r->seg, off);
			if (st != PRIVAUDIT_OK) {
				if (st == PRIVAUDIT_E_NOMEM)
					return pa_fail(&r->err, st, "out of memory");
				st = pa_fail(&r->err, st,
					     "record %" PRIu64 ": segment %" PRIu64 ", offset %" PRIu64
					     ": does not decode",
					     r->next_index, r->seg, off);
				/* past it: the segment reader is after the frame, or
				 * the reader resumed elsewhere */
				if ((st = step_over(r, r->seg, off, pa_segreader_offset(&r->sr), st)) !=
				    PRIVAUDIT_OK)
					return st;
				continue;
			}
			if (r->cur.index != r->next_index) {
				st = pa_fail(&r->err, PRIVAUDIT_E_SEQUENCE,
					     "segment %" PRIu64 ", offset %" PRIu64
					     ": record %" PRIu64 " where %" PRIu64 " was due",
					     r->seg, off, r->cur.index, r->next_index);
				if ((st = step_over(r, r->seg, off, 0, st)) != PRIVAUDIT_OK)
					return st;
				continue;
			}
			st = check_record(r, &r->cur);
			if (st != PRIVAUDIT_OK)
				return st;
			r->pos = pa_segreader_offset(&r->sr);
			r->next_index++;
			*rec = &r->cur;
			return PRIVAUDIT_OK;
		}
		if (fs == PA_FRAME_BADLEN || fs == PA_FRAME_IOERR ||
		    (fs == PA_FRAME_BADCRC && !frame_ends_file(r, off))) {
			st = frame_damage(r, fs, off);
			if ((st = step_over(r, r->seg, off, 0, st)) != PRIVAUDIT_OK)
				return st;
			continue;
		}
		/* End of what was there when we looked: the file may have
		 * grown, or the writer moved on to the next segment.  A torn or
		 * unchecked frame at the very end is a write in progress unless
		 * a later segment exists. */
		if (!grown) {
			grown = 1;
			if ((st = restart(r)) != PRIVAUDIT_OK)
				return st;
			continue;
		}
		/* the next segment missing and a later one there: damage */
		if (!next_exists(r) && !(r->skip && later_segment(r, r->seg + 1)))
			return PRIVAUDIT_E_END;
		if (fs != PA_FRAME_END) {
			st = frame_damage(r, fs, off);
			if ((st = step_over(r, r->seg, off, 0, st)) != PRIVAUDIT_OK)
				return st;
			continue;
		}
		close_seq(r);
		r->seg++;
		grown = 0;
	}
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_seek(privaudit_reader *r, uint64_t index)
{
	uint64_t *segs = NULL;
	size_t n = 0, pick = 0;
	privaudit_status st;
	pa_seghdr h;

	if (r == NULL)
		return PRIVAUDIT_E_INVAL;
	st = pa_reader_segments(r, &segs, &n);
	if (st != PRIVAUDIT_OK)
		return st;
	/* The last segment that starts at or before index. */
	for (size_t i = 0; i < n; i++) {
		int o = open_segment(r, segs[i], &h, &st);

		if (o < 0) {
			free(segs);
			return st;
		}
		if (o > 0 || h.first_index > index)
			break;
		pick = i;
	}
	close_seq(r);
	r->seg = n > 0 ? segs[pick] : 0;
	free(segs);
	if (open_segment(r, r->seg, &h, &st) != 0)
		return st != PRIVAUDIT_OK ? st : PRIVAUDIT_E_END;
	r->next_index = h.first_index;
	while (r->next_index < index) {
		const privaudit_record *rec;

		st = privaudit_reader_next(r, &rec);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	return PRIVAUDIT_OK;
}

privaudit_status pa_reader_resume(privaudit_reader *r, uint64_t seg, uint64_t off,
				  uint64_t index)
{
	privaudit_status st;
	pa_seghdr h;
	int o;

	close_seq(r);
	o = open_segment(r, seg, &h, &st);
	if (o != 0)
		return o < 0 ? st : PRIVAUDIT_E_END;
	if (off < PA_SEG_HEADER || index < h.first_index)
		return pa_fail(&r->err, PRIVAUDIT_E_FORMAT, "bad resume position");
	r->pos = off;
	r->next_index = index;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT const char *privaudit_reader_damage(const privaudit_reader *r)
{
	return r != NULL && r->damage[0] != '\0' ? r->damage : NULL;
}

privaudit_status pa_reader_read_at(privaudit_reader *r, uint64_t index, uint64_t seg,
				   uint64_t off, const privaudit_record **rec)
{
	const unsigned char *entry;
	char name[PA_SEG_NAME_MAX];
	privaudit_status st;
	pa_frame_status fs;
	struct stat sb;
	size_t len;

	if (r->gfd < 0 || r->gseg != seg) {
		if (r->gfd >= 0)
			close(r->gfd);
		pa_seg_name(name, seg);
		r->gfd = openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (r->gfd < 0)
			return pa_fail_errno(&r->err, "open", name);
		r->gseg = seg;
	}
	if (fstat(r->gfd, &sb) < 0)
		return pa_fail_errno(&r->err, "stat", "segment");
	fs = pa_frame_read_at(r->gfd, off, (uint64_t)sb.st_size, &r->gbuf, &r->gcap, &entry, &len);
	if (fs != PA_FRAME_OK) {
		if (fs == PA_FRAME_IOERR)
			return pa_fail(&r->err, PRIVAUDIT_E_IO, "read segment %" PRIu64 ": %s", seg,
				       strerror(errno));
		return pa_fail(&r->err, PRIVAUDIT_E_FORMAT,
			       "record %" PRIu64 ": segment %" PRIu64 ", offset %" PRIu64
			       ": no intact frame there",
			       index, seg, off);
	}
	st = pa_record_view(&r->cur, &r->arena, entry, len, seg, off);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&r->err, st, "record %" PRIu64 " does not decode", index);
	if (r->cur.index != index)
		return pa_fail(&r->err, PRIVAUDIT_E_SEQUENCE,
			       "segment %" PRIu64 ", offset %" PRIu64 " holds record %" PRIu64
			       ", not %" PRIu64,
			       seg, off, r->cur.index, index);
	st = check_record(r, &r->cur);
	if (st != PRIVAUDIT_OK)
		return st;
	*rec = &r->cur;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_get(privaudit_reader *r, uint64_t index,
						       const privaudit_record **rec)
{
	uint64_t seg, off;
	privaudit_status st;

	if (r == NULL || rec == NULL)
		return PRIVAUDIT_E_INVAL;
	*rec = NULL;
	if (r->attached_ops != NULL && r->attached_ops->locate != NULL &&
	    r->attached_ops->locate(r->attached, index, &seg, &off) == 0)
		return pa_reader_read_at(r, index, seg, off, rec);
	st = privaudit_reader_seek(r, index);
	if (st != PRIVAUDIT_OK)
		return st == PRIVAUDIT_E_END ? PRIVAUDIT_E_NOTFOUND : st;
	st = privaudit_reader_next(r, rec);
	if (st == PRIVAUDIT_OK && privaudit_record_index(*rec) != index) {
		*rec = NULL;   /* a hostile segment header made seek land elsewhere */
		return pa_fail(&r->err, PRIVAUDIT_E_SEQUENCE, "record %" PRIu64 " is not where the "
			       "segment headers say", index);
	}
	return st == PRIVAUDIT_E_END ? PRIVAUDIT_E_NOTFOUND : st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_count(privaudit_reader *r, uint64_t *count)
{
	uint64_t *segs = NULL;
	size_t n = 0;
	privaudit_status st;
	pa_seghdr h;

	if (r == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	st = pa_reader_segments(r, &segs, &n);
	if (st != PRIVAUDIT_OK)
		return st;
	*count = 0;
	/* Count the frames of the last non-empty segment only. */
	for (size_t i = n; i-- > 0;) {
		int o = open_segment(r, segs[i], &h, &st);

		if (o < 0) {
			free(segs);
			return st;
		}
		if (o > 0)
			continue;
		r->next_index = h.first_index;
		for (;;) {
			const privaudit_record *rec;

			st = privaudit_reader_next(r, &rec);
			if (st == PRIVAUDIT_E_END)
				break;
			if (st != PRIVAUDIT_OK) {
				free(segs);
				return st;
			}
		}
		*count = r->next_index;
		break;
	}
	free(segs);
	close_seq(r);
	r->seg = r->first_seg;
	r->next_index = r->first_index;
	return PRIVAUDIT_OK;
}

privaudit_status pa_reader_verify_hooked(privaudit_reader *r, const char *pin_vkey,
					 pa_verify_hook hook, void *arg,
					 const privaudit_verify_report **report)
{
	privaudit_status st;

	privaudit_verifier_free(r->ver);
	r->ver = NULL;
	r->rep = NULL;
	r->generation++;   /* the next session query rebuilds from verified bytes */
	st = privaudit_verifier_new(&r->ver, r->dir);
	if (st != PRIVAUDIT_OK)
		return pa_fail(&r->err, st, "%s", privaudit_strerror(st));
	if (pin_vkey != NULL && (st = privaudit_verifier_pin_key(r->ver, pin_vkey)) != PRIVAUDIT_OK) {
		privaudit_verifier_free(r->ver);
		r->ver = NULL;
		return pa_fail(&r->err, st, "the pinned key is not a verifier key line");
	}
	pa_verifier_keep_leaves(r->ver);
	if (hook != NULL)
		pa_verifier_set_hook(r->ver, hook, arg);
	if (r->progress != NULL)
		privaudit_verifier_progress(r->ver, r->progress, r->progress_arg);
	privaudit_verify_run(r->ver, &r->rep);
	*report = r->rep;
	return r->rep->status;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_verify(privaudit_reader *r,
							  const char *pin_vkey,
							  const privaudit_verify_report **report)
{
	if (r == NULL || report == NULL)
		return PRIVAUDIT_E_INVAL;
	*report = NULL;
	return pa_reader_verify_hooked(r, pin_vkey, NULL, NULL, report);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_progress(privaudit_reader *r,
							    privaudit_progress_fn fn, void *arg)
{
	if (r == NULL)
		return PRIVAUDIT_E_INVAL;
	r->progress = fn;
	r->progress_arg = arg;
	return PRIVAUDIT_OK;
}
