/* SPDX-License-Identifier: ISC */
/* util.h: byte order helpers, careful file I/O and error detail for libprivaudit. */
#ifndef PA_UTIL_H
#define PA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "privaudit.h"

#define PA_HIDDEN __attribute__((visibility("hidden")))

static inline void pa_store32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t pa_load32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

static inline void pa_store64(unsigned char *p, uint64_t v)
{
	pa_store32(p, (uint32_t)(v >> 32));
	pa_store32(p + 4, (uint32_t)v);
}

static inline uint64_t pa_load64(const unsigned char *p)
{
	return ((uint64_t)pa_load32(p) << 32) | pa_load32(p + 4);
}

/* Protobuf varints: the length of v's encoding, and v written at p (the
 * end returned). */
static inline size_t pa_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline unsigned char *pa_varint_put(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* One line describing the last failure, kept in a handle. */
typedef struct pa_err {
	int err;          /* errno of the failing call, 0 if none */
	char msg[512];
} pa_err;

/* Record a failure; returns st.  msg is printf-style. */
privaudit_status pa_fail(pa_err *e, privaudit_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) PA_HIDDEN;
/* Record a failed system call (errno is read first). */
privaudit_status pa_fail_errno(pa_err *e, const char *what, const char *path) PA_HIDDEN;

/* Full-length I/O, retrying on EINTR and short counts. */
int pa_pread_full(int fd, void *buf, size_t len, off_t off) PA_HIDDEN;
int pa_write_full(int fd, const void *buf, size_t len) PA_HIDDEN;
int pa_pwrite_full(int fd, const void *buf, size_t len, off_t off) PA_HIDDEN;

/* Write a file atomically and durably: dir/name.tmp, fdatasync, rename,
 * fsync(dir).  mode applies to the new file. */
privaudit_status pa_replace_file(pa_err *e, int dirfd, const char *name, const void *buf,
				 size_t len, mode_t mode) PA_HIDDEN;

/* Read a whole small file (at most max bytes) into malloc'd memory, NUL-terminated. */
privaudit_status pa_read_file(pa_err *e, int dirfd, const char *name, size_t max, char **out,
			      size_t *len) PA_HIDDEN;

/* Time now, nanoseconds since the epoch. */
uint64_t pa_now_ns(void) PA_HIDDEN;

#endif
