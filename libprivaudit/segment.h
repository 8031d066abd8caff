/* SPDX-License-Identifier: ISC */
/* segment.h: segment files: names, the versioned header, and length-framed,
 * CRC-checked entries read through a bounded buffer. */
#ifndef PA_SEGMENT_H
#define PA_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "util.h"

#define PA_SEG_MAGIC "PRVAUDSG"
#define PA_SEG_VERSION 1u
#define PA_SEG_HEADER 64
#define PA_SEG_NAME_MAX 32
#define PA_FRAME_OVERHEAD 8         /* length + CRC */
#define PA_ENTRY_INDEX 8            /* index prefix of each entry */
#define PA_ENTRY_MAX (PA_ENTRY_INDEX + PRIVAUDIT_RECORD_MAX)

typedef struct pa_seghdr {
	uint64_t number;
	uint64_t first_index;
	unsigned char log_id[PA_HASH_LEN];
} pa_seghdr;

void pa_seg_name(char buf[PA_SEG_NAME_MAX], uint64_t number);
/* 0 and the number when name is a segment file name. */
int pa_seg_parse_name(const char *name, uint64_t *number);
/* The segment numbers in directory dirfd (seg-N; with zst, seg-N.zst as
 * privaudit archive writes them too), sorted, each once, in malloc'd *out
 * (NULL when there are none).  0, or -1 with errno. */
int pa_seg_list(int dirfd, int zst, uint64_t **out, size_t *count);
void pa_seg_header_encode(unsigned char out[PA_SEG_HEADER], const pa_seghdr *h);
/* PRIVAUDIT_OK, or PRIVAUDIT_E_FORMAT with a reason in *why. */
privaudit_status pa_seg_header_decode(const unsigned char in[PA_SEG_HEADER], pa_seghdr *h,
				      const char **why);

/* Frame around an entry of len bytes at out (len + PA_FRAME_OVERHEAD bytes). */
void pa_frame_encode(unsigned char *out, const unsigned char *entry, size_t len);
/* Two frames whose entries are already in place (at out + 4), at once. */
void pa_frame_encode2(unsigned char *out_a, size_t len_a, unsigned char *out_b, size_t len_b);

typedef enum pa_frame_status {
	PA_FRAME_OK,
	PA_FRAME_END,        /* clean end of the segment */
	PA_FRAME_TORN,       /* incomplete frame running into end of file */
	PA_FRAME_BADLEN,     /* length out of range */
	PA_FRAME_BADCRC,     /* checksum mismatch */
	PA_FRAME_IOERR,      /* read failed: errno set */
} pa_frame_status;

/* Sequential reader over one segment file, never past `end`. */
typedef struct pa_segreader {
	int fd;
	uint64_t end;            /* bytes of the file to read */
	uint64_t buf_off;        /* file offset of buf[0] */
	unsigned char *buf;
	size_t cap, len, pos;
} pa_segreader;

privaudit_status pa_segreader_init(pa_segreader *r, int fd, uint64_t start, uint64_t end);
void pa_segreader_free(pa_segreader *r);
/* Next frame: its entry (valid until the next call) and its file offset. */
pa_frame_status pa_segreader_next(pa_segreader *r, const unsigned char **entry, size_t *len,
				  uint64_t *offset);
/* One frame at off (random access): its entry in *buf (grown as needed). */
pa_frame_status pa_frame_read_at(int fd, uint64_t off, uint64_t end, unsigned char **buf,
				 size_t *cap, const unsigned char **entry, size_t *len);
/* Offset just past the last frame returned. */
uint64_t pa_segreader_offset(const pa_segreader *r);

#endif
