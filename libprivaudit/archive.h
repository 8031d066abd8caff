/* SPDX-License-Identifier: ISC */
/* archive.h: segments moved out of the live log (privaudit archive), and
 * the marker that says where the live log now starts. */
#ifndef PA_ARCHIVE_H
#define PA_ARCHIVE_H

#include <stdint.h>

#include "hash.h"
#include "record.h"
#include "util.h"

/* In the log directory once segments were archived (doc/format.md). */
#define PA_ARCHIVED_FILE "archived"

typedef struct pa_archived {
	uint64_t first_segment;      /* the live log's first segment... */
	uint64_t first_index;        /* ...and its first record, a segment_start */
	unsigned char log_id[PA_HASH_LEN];
} pa_archived;

/* 0 with *a filled; -1 when the marker is missing (errno ENOENT) or not
 * one (EINVAL). */
int pa_archived_read(int dirfd, pa_archived *a) PA_HIDDEN;

/* Segment number as a readable descriptor: dirfd's seg-N as it is, or
 * seg-N.zst decompressed into memory.  -1 with errno (ENOENT: neither). */
int pa_segment_open_any(int dirfd, uint64_t number) PA_HIDDEN;

/* The first record of the segment open at fd, decoded (arena-free: the
 * caller pa_record_free()s it), with its index and leaf hash.  NULL when
 * it cannot be read or decoded. */
pa_record *pa_segment_first(int fd, uint64_t *index, unsigned char leaf[PA_HASH_LEN]) PA_HIDDEN;

#endif
