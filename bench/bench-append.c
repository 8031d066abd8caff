/* SPDX-License-Identifier: ISC */
/* bench-append.c: durable group-commit append rate of libprivaudit against a
 * raw write+fdatasync loop writing the same bytes with the same commit
 * interval.  A benchmark, not a test: it prints numbers and exits 0 unless
 * something fails outright.
 *
 *   bench-append [-n RECORDS] [-c COMMIT_EVERY] [-s TEXT_BYTES] [--clean] [PARENT_DIR]
 *
 * The log is made with privaudit_init() in a fresh directory under PARENT_DIR
 * (default /var/tmp, normally a real disk; tmpfs makes fdatasync free and the
 * numbers meaningless, so that is warned about).  After the run the log is
 * sealed and its path printed on a line "log: PATH" for bench-verify.sh,
 * unless --clean removes it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "privaudit.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, privaudit_status st, privaudit_log *log)
{
	fprintf(stderr, "bench-append: %s: %s", what, privaudit_strerror(st));
	if (log != NULL)
		fprintf(stderr, " (%s)", privaudit_log_error(log));
	fputc('\n', stderr);
	exit(1);
}

static void die_errno(const char *what, const char *path)
{
	fprintf(stderr, "bench-append: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

/* Total size of the seg-* files of a log directory. */
static uint64_t segment_bytes(const char *dir, uint64_t *nseg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t total = 0, n = 0;

	if (d == NULL)
		die_errno("open directory", dir);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strncmp(de->d_name, "seg-", 4) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("stat", de->d_name);
		total += (uint64_t)sb.st_size;
		n++;
	}
	closedir(d);
	if (nseg != NULL)
		*nseg = n;
	return total;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "bench-append: remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Fill text[0..len) with printable text; the record number goes in the
 * first digits so that no two records are equal. */
static void make_text(char *text, size_t len)
{
	static const char filler[] =
		"uid=0 tty=pts/3 cmd=/usr/bin/systemctl restart nginx.service cwd=/root ";
	size_t i;

	for (i = 0; i < len; i++)
		text[i] = filler[i % (sizeof(filler) - 1)];
	if (len >= 12)
		memcpy(text, "rec 0000000 ", 12);
}

static void set_number(char *text, size_t len, uint64_t n)
{
	int i;

	if (len < 12)
		return;
	for (i = 10; i >= 4; i--) {
		text[i] = (char)('0' + n % 10);
		n /= 10;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-append [-n RECORDS] [-c COMMIT_EVERY] [-s TEXT_BYTES] [--clean] "
		   "[PARENT_DIR]\n"
		   "  -n RECORDS      records to append (default 1000000)\n"
		   "  -c EVERY        privaudit_commit() every EVERY records (default 1000)\n"
		   "  -s BYTES        text bytes per record (default 256)\n"
		   "  --clean         remove the log afterwards instead of printing its path\n"
		   "  --no-raw        skip the raw write+fdatasync loops (for profiling)\n"
		   "  PARENT_DIR      where the temporary log directory is made (default /var/tmp)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"clean", no_argument, NULL, 'C'},
		{"no-raw", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t n = 1000000, every = 1000, i, before, after, nseg;
	size_t text_len = 256, rec_bytes;
	const char *parent = "/var/tmp";
	char dir[PATH_MAX - 16], logdir[PATH_MAX], rawpath[PATH_MAX];
	char *text, *rawbuf;
	int clean = 0, no_raw = 0, c, fd;
	struct statfs sfs;
	privaudit_log *log = NULL;
	privaudit_status st;
	double t0, t_append, t_raw, t_rawb, r_append, r_raw = 0, r_rawb = 0, per_rec;

	while ((c = getopt_long(argc, argv, "n:c:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			every = strtoull(optarg, NULL, 10);
			break;
		case 's':
			text_len = (size_t)strtoull(optarg, NULL, 10);
			break;
		case 'C':
			clean = 1;
			break;
		case 'R':
			no_raw = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		parent = argv[optind++];
	if (optind != argc || n == 0 || every == 0 || text_len == 0 || text_len > (1u << 20)) {
		usage(stderr);
		return 2;
	}

	if (statfs(parent, &sfs) < 0)
		die_errno("statfs", parent);
	if ((unsigned long)sfs.f_type == TMPFS_MAGIC || (unsigned long)sfs.f_type == RAMFS_MAGIC)
		fprintf(stderr, "bench-append: WARNING: %s is tmpfs/ramfs: fdatasync costs nothing "
				"there, the append numbers do not reflect a disk\n", parent);

	if (strlen(parent) + sizeof("/privaudit-bench.XXXXXX") > sizeof(dir)) {
		fprintf(stderr, "bench-append: directory name too long\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/privaudit-bench.XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		die_errno("mkdtemp", dir);
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	snprintf(rawpath, sizeof(rawpath), "%s/raw", dir);

	st = privaudit_init(logdir, "bench.example/privaudit", NULL, 0);
	if (st != PRIVAUDIT_OK)
		die("init", st, NULL);
	st = privaudit_open(&log, logdir, 0);
	if (st != PRIVAUDIT_OK)
		die("open", st, log);
	privaudit_set_program(log, "bench-append");

	text = malloc(text_len);
	if (text == NULL)
		die_errno("malloc", "");
	make_text(text, text_len);

	/* ---- the library: append, commit every `every` records */
	before = segment_bytes(logdir, NULL);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		set_number(text, text_len, i);
		st = privaudit_append_text(log, text, text_len);
		if (st != PRIVAUDIT_OK)
			die("append", st, log);
		if ((i + 1) % every == 0) {
			st = privaudit_commit(log);
			if (st != PRIVAUDIT_OK)
				die("commit", st, log);
		}
	}
	st = privaudit_commit(log);
	if (st != PRIVAUDIT_OK)
		die("commit", st, log);
	t_append = now_s() - t0;
	after = segment_bytes(logdir, &nseg);
	/* New segment headers (64 bytes each) are part of what the log wrote. */
	per_rec = (double)(after - before) / (double)n;
	rec_bytes = (size_t)(per_rec + 0.5);
	r_append = (double)n / t_append;

	t_raw = t_rawb = 0;
	rawbuf = NULL;
	if (!no_raw) {
		/* ---- raw: write() each record of the same size, fdatasync every `every` */
		rawbuf = malloc(rec_bytes * (size_t)every);
		if (rawbuf == NULL)
			die_errno("malloc", "");
		for (i = 0; i < every; i++) {
			make_text(rawbuf + i * rec_bytes, rec_bytes);
		}
		fd = open(rawpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die_errno("create", rawpath);
		t0 = now_s();
		for (i = 0; i < n; i++) {
			char *r = rawbuf + (i % every) * rec_bytes;

			set_number(r, rec_bytes, i);
			if (write(fd, r, rec_bytes) != (ssize_t)rec_bytes)
				die_errno("write", rawpath);
			if ((i + 1) % every == 0 && fdatasync(fd) < 0)
				die_errno("fdatasync", rawpath);
		}
		if (fdatasync(fd) < 0)
			die_errno("fdatasync", rawpath);
		t_raw = now_s() - t0;
		close(fd);
		r_raw = (double)n / t_raw;

		/* ---- raw, batched: one write() of `every` records, then fdatasync (what
		 * group commit does; the floor of any durable design) */
		fd = open(rawpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die_errno("create", rawpath);
		t0 = now_s();
		for (i = 0; i < n;) {
			uint64_t k = n - i < every ? n - i : every, j;

			for (j = 0; j < k; j++)
				set_number(rawbuf + j * rec_bytes, rec_bytes, i + j);
			if (write(fd, rawbuf, rec_bytes * k) != (ssize_t)(rec_bytes * k))
				die_errno("write", rawpath);
			if (fdatasync(fd) < 0)
				die_errno("fdatasync", rawpath);
			i += k;
		}
		t_rawb = now_s() - t0;
		close(fd);
		unlink(rawpath);
		r_rawb = (double)n / t_rawb;
	}
	printf("filesystem: %s (%s)\n", parent,
	       (unsigned long)sfs.f_type == TMPFS_MAGIC || (unsigned long)sfs.f_type == RAMFS_MAGIC
		       ? "tmpfs/ramfs, NOT a disk"
		       : "not tmpfs");
	printf("log bytes per record: %.1f (%zu text + index, protobuf fields, framing); "
	       "%" PRIu64 " segment(s)\n",
	       per_rec, text_len, nseg);
	printf("append: %" PRIu64 " records x %zu B, commit every %" PRIu64 ": %.0f records/s%s\n",
	       n, text_len, every, r_append,
	       text_len == 256 && every == 1000 ? " (target >= 200000)" : "");
	if (!no_raw) {
		printf("raw write+fdatasync same bytes, same commit interval: %.0f records/s "
		       "(one write() of %zu B per record)\n",
		       r_raw, rec_bytes);
		printf("raw batched (one write() per commit, then fdatasync): %.0f records/s\n",
		       r_rawb);
		printf("ratio append/raw: %.2f\n", r_append / r_raw);
		printf("ratio append/raw batched: %.2f\n", r_append / r_rawb);
		printf("append time %.3f s, raw %.3f s, raw batched %.3f s\n", t_append, t_raw,
		       t_rawb);
	} else {
		printf("append time %.3f s\n", t_append);
	}

	st = privaudit_seal(log);
	if (st != PRIVAUDIT_OK)
		die("seal", st, log);
	st = privaudit_close(log);
	if (st != PRIVAUDIT_OK)
		die("close", st, NULL);
	free(text);
	free(rawbuf);

	if (clean) {
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		printf("log removed\n");
	} else {
		printf("log: %s\n", logdir);
	}
	return 0;
}
