/* SPDX-License-Identifier: ISC */
/* fleet.c: the collector's per-host status files (written by `privaudit
 * collect`) and `privaudit fleet status`, one line per host mirror with its
 * verdict, for an operator or a monitoring check. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "escape.h"
#include "fleet.h"

void fleet_mirror_name(char *buf, size_t len, const char *origin, const char *log_id)
{
	size_t n = 0;

	for (const char *p = origin; *p != '\0' && n + 1 < len; p++) {
		char ch = *p;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';

		buf[n++] = ok ? ch : '_';
	}
	/* "." and ".." are no names of ours. */
	if (n > 0 && buf[0] == '.')
		buf[0] = '_';
	snprintf(buf + n, len - n, "-%.16s", log_id);
}

/* Text from a log or a note as one line of a status file: no control
 * characters (they could start a line of their own). */
static void put_line_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

int fleet_status_write(const char *dir, const struct fleet_status *fs)
{
	const privaudit_mirror_state *m = &fs->mirror;
	char tmp[4096], path[4096];
	FILE *f;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, FLEET_STATUS_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	fputs("origin=", f);
	put_line_value(f, m->origin);
	fprintf(f, "\nlog_id=%s\nrecords=%" PRIu64 "\nsealed=%" PRIu64 "\ncheckpoints=%" PRIu64
		   "\ncheckpoint_time=%" PRId64 "\nhost_size=%" PRIu64 "\nlast_seen=%" PRId64
		   "\nbuffered=%" PRIu64 "\nforks=%" PRIu64 "\nrejected=%" PRIu64 "\nfailed=%s\n",
		m->log_id, m->records, m->sealed, m->checkpoints, m->checkpoint_time, fs->host_size,
		fs->last_seen, m->buffered, m->forks, m->rejected,
		m->failed == PRIVAUDIT_OK ? "ok" : status_class(m->failed));
	if (m->failed != PRIVAUDIT_OK) {
		fprintf(f, "failed_at=%" PRIu64 "\ndetail=", m->failed_at);
		put_line_value(f, m->detail);
		fputc('\n', f);
	}
	fprintf(f, "stale=%d\nupdated=%" PRId64 "\n", fs->stale, (int64_t)time(NULL));
	for (size_t i = 0; i < fs->nalerts; i++) {
		fprintf(f, "alert=%" PRId64 " %s ", fs->alert_time[i], fs->alert_type[i]);
		put_line_value(f, fs->alert_detail[i]);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* A status file as read back. */
struct row {
	char name[300];
	char origin[PRIVAUDIT_ORIGIN_MAX];
	char log_id[65];
	char failed[32];
	char detail[256];
	uint64_t records, sealed, checkpoints, host_size, buffered, forks, rejected;
	int64_t checkpoint_time, last_seen, updated;
	int stale, have;
	char alerts[256];             /* types of the alerts on file, comma-separated */
};

static int64_t to_i64(const char *v)
{
	return (int64_t)strtoll(v, NULL, 10);
}

static uint64_t to_u64(const char *v)
{
	return (uint64_t)strtoull(v, NULL, 10);
}

static void add_type(struct row *r, const char *type, size_t tl)
{
	char t[24];

	if (tl == 0 || tl >= sizeof(t))
		return;
	memcpy(t, type, tl);
	t[tl] = '\0';
	/* each type once */
	for (const char *p = r->alerts; (p = strstr(p, t)) != NULL; p += tl)
		if ((p == r->alerts || p[-1] == ',') && (p[tl] == ',' || p[tl] == '\0'))
			return;
	if (strlen(r->alerts) + tl + 2 < sizeof(r->alerts)) {
		if (r->alerts[0] != '\0')
			strcat(r->alerts, ",");
		strcat(r->alerts, t);
	}
}

static int read_row(const char *root, const char *name, struct row *r)
{
	char path[4096], line[1024];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (snprintf(path, sizeof(path), "%s/%s/%s", root, name, FLEET_STATUS_FILE) >=
	    (int)sizeof(path))
		return -1;
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	r->checkpoint_time = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '='), *v;

		line[strcspn(line, "\n")] = '\0';
		if (eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "origin") == 0)
			snprintf(r->origin, sizeof(r->origin), "%s", v);
		else if (strcmp(line, "log_id") == 0)
			snprintf(r->log_id, sizeof(r->log_id), "%s", v);
		else if (strcmp(line, "records") == 0)
			r->records = to_u64(v);
		else if (strcmp(line, "sealed") == 0)
			r->sealed = to_u64(v);
		else if (strcmp(line, "checkpoints") == 0)
			r->checkpoints = to_u64(v);
		else if (strcmp(line, "checkpoint_time") == 0)
			r->checkpoint_time = to_i64(v);
		else if (strcmp(line, "host_size") == 0)
			r->host_size = to_u64(v);
		else if (strcmp(line, "last_seen") == 0)
			r->last_seen = to_i64(v);
		else if (strcmp(line, "buffered") == 0)
			r->buffered = to_u64(v);
		else if (strcmp(line, "forks") == 0)
			r->forks = to_u64(v);
		else if (strcmp(line, "rejected") == 0)
			r->rejected = to_u64(v);
		else if (strcmp(line, "failed") == 0)
			snprintf(r->failed, sizeof(r->failed), "%s", v);
		else if (strcmp(line, "detail") == 0)
			snprintf(r->detail, sizeof(r->detail), "%s", v);
		else if (strcmp(line, "stale") == 0)
			r->stale = atoi(v);
		else if (strcmp(line, "updated") == 0)
			r->updated = to_i64(v);
		else if (strcmp(line, "alert") == 0) {
			/* "TIME TYPE DETAIL" */
			char *type = strchr(v, ' ');

			if (type != NULL)
				add_type(r, type + 1, strcspn(type + 1, " "));
		}
	}
	fclose(f);
	r->have = 1;
	return 0;
}

static int cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* The verdict: what an operator must look at, "ok" when nothing. */
static void verdict(const struct row *r, int64_t now, int64_t max_age, char *out, size_t len,
		    int *bad, int *stale)
{
	out[0] = '\0';
	*bad = 0;
	*stale = 0;
	if (strcmp(r->failed, "ok") != 0 && r->failed[0] != '\0') {
		snprintf(out + strlen(out), len - strlen(out), "%sfailed:%s", out[0] ? "," : "",
			 r->failed);
		*bad = 1;
	}
	if (r->forks > 0) {
		snprintf(out + strlen(out), len - strlen(out), "%sfork", out[0] ? "," : "");
		*bad = 1;
	}
	if (r->buffered > 0) {
		snprintf(out + strlen(out), len - strlen(out), "%smissing", out[0] ? "," : "");
		*bad = 1;
	}
	if (max_age > 0 ? (r->checkpoint_time < 0 || now - r->checkpoint_time > max_age)
			: r->stale) {
		snprintf(out + strlen(out), len - strlen(out), "%sstale", out[0] ? "," : "");
		*stale = 1;
	}
	if (out[0] == '\0')
		snprintf(out, len, "ok");
}

static void age(char *buf, size_t len, int64_t now, int64_t t)
{
	if (t <= 0)
		snprintf(buf, len, "-");
	else if (now - t < 120)
		snprintf(buf, len, "%" PRId64 "s", now - t);
	else if (now - t < 7200)
		snprintf(buf, len, "%" PRId64 "m", (now - t) / 60);
	else
		snprintf(buf, len, "%" PRId64 "h", (now - t) / 3600);
}

static int fleet_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"max-age", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	int64_t max_age = 0, now = (int64_t)time(NULL);
	int json = 0, opt, any_bad = 0, any_stale = 0;
	struct dirent *de;
	const char *root;
	uint64_t v;
	DIR *d;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (parse_num(optarg, &v) < 0 || v > INT64_MAX)
				goto usage;
			max_age = (int64_t)v;
			break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: privaudit fleet status ROOT [--max-age SECONDS] [--json]\n\n"
			       "One line per host mirror under ROOT (privaudit collect --root): its\n"
			       "records, the host's lag, its newest checkpoint's age and a verdict.\n"
			       "Exit 0 when every host is ok, %d when one is stale, %d when one\n"
			       "has a fork, failed a check or misses records.\n",
			       EXIT_STALE, EXIT_TAMPERED);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	root = argv[optind];
	d = opendir(root);
	if (d == NULL) {
		fprintf(stderr, "%s fleet status: %s: %s\n", progname, root, strerror(errno));
		return EXIT_CANNOT_READ;
	}
	while ((de = readdir(d)) != NULL) {
		struct row r;

		if (de->d_name[0] == '.' || read_row(root, de->d_name, &r) < 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct row *nr = realloc(rows, nc * sizeof(*nr));

			if (nr == NULL) {
				closedir(d);
				free(rows);
				return EXIT_CANNOT_READ;
			}
			rows = nr;
			cap = nc;
		}
		rows[n++] = r;
	}
	closedir(d);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	if (!json)
		printf("%-32s %-16s %10s %8s %10s %9s  %s\n", "HOST", "LOG", "RECORDS", "LAG",
		       "CHECKPOINT", "LAST-SEEN", "VERDICT");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		uint64_t lag = r->host_size > r->records ? r->host_size - r->records : 0;
		char vd[128], ck[32], seen[32];
		int bad, stale;

		verdict(r, now, max_age, vd, sizeof(vd), &bad, &stale);
		any_bad |= bad;
		any_stale |= stale;
		age(ck, sizeof(ck), now, r->checkpoint_time);
		age(seen, sizeof(seen), now, r->last_seen);
		if (json) {
			printf("{\"host\":");
			pa_print_json_string(stdout, r->origin, strlen(r->origin));
			printf(",\"log_id\":\"%s\",\"mirror\":", r->log_id);
			pa_print_json_string(stdout, r->name, strlen(r->name));
			printf(",\"records\":%" PRIu64 ",\"sealed\":%" PRIu64 ",\"host_size\":%" PRIu64
			       ",\"lag\":%" PRIu64 ",\"checkpoint_time\":%" PRId64
			       ",\"checkpoint_age\":%" PRId64 ",\"last_seen\":%" PRId64
			       ",\"forks\":%" PRIu64 ",\"buffered\":%" PRIu64 ",\"failed\":\"%s\",\"verdict\":\"%s\",\"alerts\":\"%s\"}\n",
			       r->records, r->sealed, r->host_size, lag, r->checkpoint_time,
			       r->checkpoint_time < 0 ? (int64_t)-1 : now - r->checkpoint_time,
			       r->last_seen, r->forks, r->buffered, r->failed, vd, r->alerts);
		} else {
			char host[33];

			snprintf(host, sizeof(host), "%s", r->origin);
			pa_print_escaped(stdout, host, strlen(host));
			printf("%*s %-16.16s %10" PRIu64 " %8" PRIu64 " %10s %9s  %s\n",
			       (int)(32 - strlen(host)), "", r->log_id,
			       r->records, lag, ck, seen, vd);
		}
	}
	free(rows);
	if (any_bad)
		return EXIT_TAMPERED;
	return any_stale ? EXIT_STALE : 0;
usage:
	fprintf(stderr, "usage: privaudit fleet status ROOT [--max-age SECONDS] [--json]\n");
	return EXIT_USAGE;
}

int cmd_fleet(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return fleet_status(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: privaudit fleet status ROOT [--max-age SECONDS] [--json]\n");
		return 0;
	}
	fprintf(stderr, "usage: privaudit fleet status ROOT [--max-age SECONDS] [--json]\n");
	return EXIT_USAGE;
}
