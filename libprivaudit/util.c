/* SPDX-License-Identifier: ISC */
/* util.c: careful file I/O and error detail shared by libprivaudit's modules. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "util.h"

privaudit_status pa_fail(pa_err *e, privaudit_status st, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return st;
	e->err = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return st;
}

privaudit_status pa_fail_errno(pa_err *e, const char *what, const char *path)
{
	int err = errno;
	privaudit_status st = err == ENOMEM ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_IO;

	if (e != NULL) {
		snprintf(e->msg, sizeof(e->msg), "%s %s: %s", what, path ? path : "",
			 strerror(err));
		e->err = err;
	}
	errno = err;
	return st;
}

int pa_pread_full(int fd, void *buf, size_t len, off_t off)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int pa_write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pa_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

privaudit_status pa_replace_file(pa_err *e, int dirfd, const char *name, const void *buf,
				 size_t len, mode_t mode)
{
	char tmp[256];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return pa_fail(e, PRIVAUDIT_E_INVAL, "file name too long: %s", name);
	/* A leftover from an interrupted replace is ours to discard. */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return pa_fail_errno(e, "unlink", tmp);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return pa_fail_errno(e, "create", tmp);
	if (fchmod(fd, mode) < 0 || pa_write_full(fd, buf, len) < 0 || fdatasync(fd) < 0) {
		privaudit_status st = pa_fail_errno(e, "write", tmp);

		close(fd);
		unlinkat(dirfd, tmp, 0);
		return st;
	}
	if (close(fd) < 0) {
		privaudit_status st = pa_fail_errno(e, "close", tmp);

		unlinkat(dirfd, tmp, 0);
		return st;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		privaudit_status st = pa_fail_errno(e, "rename", tmp);

		unlinkat(dirfd, tmp, 0);
		return st;
	}
	if (fsync(dirfd) < 0)
		return pa_fail_errno(e, "fsync", "log directory");
	return PRIVAUDIT_OK;
}

privaudit_status pa_read_file(pa_err *e, int dirfd, const char *name, size_t max, char **out,
			      size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd;

	*out = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return pa_fail_errno(e, "open", name);
	if (fstat(fd, &st) < 0) {
		privaudit_status s = pa_fail_errno(e, "stat", name);

		close(fd);
		return s;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return pa_fail(e, PRIVAUDIT_E_FORMAT, "%s: not a regular file of at most %zu bytes",
			       name, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of memory reading %s", name);
	}
	if (st.st_size > 0 && pa_pread_full(fd, buf, (size_t)st.st_size, 0) < 0) {
		privaudit_status s = pa_fail_errno(e, "read", name);

		free(buf);
		close(fd);
		return s;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*out = buf;
	if (len != NULL)
		*len = (size_t)st.st_size;
	return PRIVAUDIT_OK;
}

uint64_t pa_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
