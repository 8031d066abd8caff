/* SPDX-License-Identifier: ISC */
/* testutil.h: helpers shared by the cmocka unit tests: temporary directories,
 * whole-file I/O, directory listings and open descriptor counts. */
#ifndef PA_TESTUTIL_H
#define PA_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#define TU_PATH_MAX 4096

/* A fresh empty directory under $TMPDIR (or /tmp), malloc'd path. */
static inline char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(TU_PATH_MAX);

	assert_non_null(path);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	assert_true(snprintf(path, TU_PATH_MAX, "%s/pa-unit-XXXXXX", base) < TU_PATH_MAX);
	assert_non_null(mkdtemp(path));
	return path;
}

static inline int tu_rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path; a missing path is fine. */
static inline void tu_rmrf(const char *path)
{
	if (path == NULL)
		return;
	chmod(path, 0700);
	nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* cmocka setup/teardown: *state is a temporary directory for one test. */
static inline int tu_setup_dir(void **state)
{
	*state = tu_mkdtemp();
	return 0;
}

static inline int tu_teardown_dir(void **state)
{
	tu_rmrf(*state);
	free(*state);
	*state = NULL;
	return 0;
}

/* dir/name into buf, which must hold TU_PATH_MAX bytes. */
static inline const char *tu_path(char *buf, const char *dir, const char *name)
{
	assert_true(snprintf(buf, TU_PATH_MAX, "%s/%s", dir, name) < TU_PATH_MAX);
	return buf;
}

/* Whole file, malloc'd with a NUL after it. */
static inline unsigned char *tu_read(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	while (done < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)sb.st_size - done);

		assert_true(n > 0);
		done += (size_t)n;
	}
	close(fd);
	buf[done] = 0;
	if (len != NULL)
		*len = done;
	return buf;
}

static inline void tu_write_flags(const char *path, const void *buf, size_t len, int flags)
{
	const unsigned char *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);

	assert_true(fd >= 0);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
	assert_int_equal(close(fd), 0);
}

/* Replace the contents of path (keeping its inode and mode if it exists). */
static inline void tu_write(const char *path, const void *buf, size_t len)
{
	tu_write_flags(path, buf, len, O_TRUNC);
}

static inline void tu_append(const char *path, const void *buf, size_t len)
{
	tu_write_flags(path, buf, len, O_APPEND);
}

/* Overwrite len bytes at off without changing the file size. */
static inline void tu_pwrite(const char *path, const void *buf, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* File size, -1 when absent. */
static inline off_t tu_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Entries of dir whose name starts with prefix; the first (in readdir
 * order) is copied to first when it is not NULL. */
static inline int tu_count_prefix(const char *dir, const char *prefix, char *first,
				  size_t first_len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (n == 0 && first != NULL)
			snprintf(first, first_len, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* Open descriptors of this process. */
static inline int tu_count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the one opendir holds */
}

/* Copy the regular files of src (flat) into dst, created if needed. */
static inline void tu_copy_dir(const char *src, const char *dst)
{
	char from[TU_PATH_MAX], to[TU_PATH_MAX];
	struct dirent *de;
	DIR *d;

	assert_true(mkdir(dst, 0700) == 0 || errno == EEXIST);
	d = opendir(src);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		unsigned char *buf;
		size_t len;

		tu_path(from, src, de->d_name);
		if (lstat(from, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		buf = tu_read(from, &len);
		tu_write(tu_path(to, dst, de->d_name), buf, len);
		chmod(to, sb.st_mode & 07777);
		free(buf);
	}
	closedir(d);
}

/* memmem that reports whether needle occurs in haystack. */
static inline int tu_contains(const void *hay, size_t hay_len, const void *needle, size_t len)
{
	return memmem(hay, hay_len, needle, len) != NULL;
}

#endif
