/* SPDX-License-Identifier: ISC */
/* damage.c: every damaged range of a log's segment files, not only the
 * first (privaudit verify --all).  A frame that fails its length or
 * checksum, or holds a record out of sequence, starts a range; the range
 * ends at the next place a whole valid frame holds a record due at or
 * after the one expected, found by trying every byte offset after the
 * damage.  A segment missing, or one that starts at another record than
 * the one due, is a range too.
 *
 * This is the frames' structure only.  A record changed with its checksum
 * set right again is no frame damage: the Merkle tree finds it (verify's
 * first failure), and a tree root cannot say which later ranges are
 * changed too. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include "crc32c.h"
#include "privaudit.h"
#include "segment.h"
#include "util.h"

/* Records after the expected one that a resynchronised frame may claim:
 * more would be a frame that only looks valid. */
#define RESYNC_INDEX_SPAN (1ull << 32)

struct scan {
	privaudit_damage *d;
	size_t n, cap;
	int open;                     /* a range is open, waiting for its end */
	uint64_t next;                /* the record due */
	uint64_t records;             /* frames read whole */
};

static int add_range(struct scan *s, uint64_t seg, uint64_t off, const char *what)
{
	privaudit_damage *d;

	if (s->open)
		return 0;   /* still in the last one */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;

		d = realloc(s->d, cap * sizeof(*d));
		if (d == NULL)
			return -1;
		s->d = d;
		s->cap = cap;
	}
	d = &s->d[s->n++];
	memset(d, 0, sizeof(*d));
	d->segment = seg;
	d->offset = off;
	d->first_index = s->next;
	d->end_segment = UINT64_MAX;
	d->end_offset = UINT64_MAX;
	d->resumed_index = UINT64_MAX;
	d->what = what;
	s->open = 1;
	return 0;
}

static void end_range(struct scan *s, uint64_t seg, uint64_t off, uint64_t index)
{
	if (!s->open)
		return;
	s->d[s->n - 1].end_segment = seg;
	s->d[s->n - 1].end_offset = off;
	s->d[s->n - 1].resumed_index = index;
	s->open = 0;
}

/* A whole, valid frame at off holding a record due at or after want:
 * its length, else 0. */
static size_t frame_at(const unsigned char *p, size_t size, size_t off, uint64_t want, uint64_t *index)
{
	uint32_t l;

	if (size - off < PA_FRAME_OVERHEAD + PA_ENTRY_INDEX + 1)
		return 0;
	l = pa_load32(p + off);
	if (l < PA_ENTRY_INDEX + 1 || l > PA_ENTRY_MAX || size - off - PA_FRAME_OVERHEAD < l)
		return 0;
	*index = pa_load64(p + off + 4);
	if (*index < want || *index - want >= RESYNC_INDEX_SPAN)
		return 0;
	if (pa_crc32c(0, p + off, 4 + (size_t)l) != pa_load32(p + off + 4 + l))
		return 0;
	return (size_t)l + PA_FRAME_OVERHEAD;
}

static int scan_segment(struct scan *s, uint64_t seg, const unsigned char *p, size_t size, int first,
			int last)
{
	pa_seghdr h;
	const char *why;
	size_t off = PA_SEG_HEADER;

	if (size < PA_SEG_HEADER || pa_seg_header_decode(p, &h, &why) != PRIVAUDIT_OK)
		return add_range(s, seg, 0, "segment header unreadable");
	if (first)
		s->next = h.first_index;   /* segment 0, or the first not archived */
	if (h.first_index != s->next) {
		if (h.first_index > s->next) {
			/* records missing before it: the last segment ended
			 * early, or segments are missing */
			if (add_range(s, seg, 0, "records missing before this segment") < 0)
				return -1;
		}
		/* a segment that starts before the record due repeats some */
		if (h.first_index < s->next && add_range(s, seg, 0, "segment starts at an earlier record") < 0)
			return -1;
		end_range(s, seg, PA_SEG_HEADER, h.first_index);
		s->next = h.first_index;
	} else {
		end_range(s, seg, PA_SEG_HEADER, h.first_index);
	}
	while (off < size) {
		uint64_t index = 0;
		size_t len = frame_at(p, size, off, s->next, &index);

		if (len > 0 && index == s->next) {
			end_range(s, seg, off, index);
			s->records++;
			s->next++;
			off += len;
			continue;
		}
		if (len > 0 && !s->open) {
			/* a whole frame, records missing before it: they are
			 * the range, and reading goes on with this one */
			if (add_range(s, seg, off, "records missing") < 0)
				return -1;
			end_range(s, seg, off, index);
			s->next = index;
			continue;
		}
		/* a frame cut at the end of the last segment: a write in
		 * progress, not damage */
		if (last && !s->open && size - off >= 4) {
			uint32_t l = pa_load32(p + off);

			if (l >= PA_ENTRY_INDEX + 1 && l <= PA_ENTRY_MAX &&
			    (uint64_t)off + PA_FRAME_OVERHEAD + l >= size)
				return 0;
		}
		if (last && !s->open && size - off < 4)
			return 0;
		if (add_range(s, seg, off, len > 0 ? "record out of sequence"
					 : size - off < PA_FRAME_OVERHEAD ? "frame cut short"
					 : "frame length or checksum wrong") < 0)
			return -1;
		/* the next offset where a valid frame holds a record due */
		for (off++; off < size; off++) {
			len = frame_at(p, size, off, s->next, &index);
			if (len > 0) {
				s->next = index;
				break;
			}
		}
	}
	return 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_damage_scan(const char *dir, privaudit_damage **out,
							size_t *count, uint64_t *records)
{
	struct scan s;
	uint64_t *segs = NULL;
	size_t nseg = 0;
	privaudit_status st = PRIVAUDIT_OK;
	int dirfd;

	if (dir == NULL || out == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	*count = 0;
	memset(&s, 0, sizeof(s));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return PRIVAUDIT_E_IO;
	if (pa_seg_list(dirfd, 0, &segs, &nseg) < 0) {
		close(dirfd);
		return PRIVAUDIT_E_IO;
	}
	for (size_t i = 0; i < nseg && st == PRIVAUDIT_OK; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;
		unsigned char *map = NULL;
		int fd;

		pa_seg_name(name, segs[i]);
		/* a gap in the numbers: those segments are gone */
		if (i > 0 && segs[i] != segs[i - 1] + 1) {
			if (add_range(&s, segs[i - 1] + 1, 0, "segment file missing") < 0) {
				st = PRIVAUDIT_E_NOMEM;
				break;
			}
		}
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fstat(fd, &sb) < 0) {
			st = PRIVAUDIT_E_IO;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (sb.st_size > 0) {
			map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map == MAP_FAILED) {
				close(fd);
				st = PRIVAUDIT_E_IO;
				break;
			}
		}
		close(fd);
		if (scan_segment(&s, segs[i], map != NULL ? map : (const unsigned char *)"",
				 (size_t)sb.st_size, i == 0, i + 1 == nseg) < 0)
			st = PRIVAUDIT_E_NOMEM;
		if (map != NULL)
			munmap(map, (size_t)sb.st_size);
	}
	free(segs);
	close(dirfd);
	if (st != PRIVAUDIT_OK) {
		free(s.d);
		return st;
	}
	*out = s.d;
	*count = s.n;
	if (records != NULL)
		*records = s.records;
	return PRIVAUDIT_OK;
}
