/* SPDX-License-Identifier: ISC */
/* ship.c: `privaudit ship-status`, how far privauditd's shipper has got:
 * its DIR/ship-state (doc/format.md, "Shipping state") beside the log's size. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "escape.h"

/* ship-state is small: anything larger is not privauditd's. */
#define STATE_MAX 4096

struct ship_state {
	char *target, *tls, *log_id, *connected, *last_error;
	uint64_t acked;
	int64_t acked_time, updated;
	int has_acked, has_acked_time, has_updated;
};

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* The file's key=value lines; unknown keys are left for later versions.
 * Values point into text. */
static void parse_state(char *text, struct ship_state *st)
{
	char *save = NULL;

	memset(st, 0, sizeof(*st));
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "target") == 0)
			st->target = v;
		else if (strcmp(line, "tls") == 0)
			st->tls = v;
		else if (strcmp(line, "log_id") == 0)
			st->log_id = v;
		else if (strcmp(line, "connected") == 0)
			st->connected = v;
		else if (strcmp(line, "last_error") == 0)
			st->last_error = v;
		else if (strcmp(line, "acked") == 0)
			st->has_acked = parse_num(v, &st->acked) == 0;
		else if (strcmp(line, "acked_time") == 0)
			st->has_acked_time = parse_i64(v, &st->acked_time) == 0 && st->acked_time > 0;
		else if (strcmp(line, "updated") == 0)
			st->has_updated = parse_i64(v, &st->updated) == 0 && st->updated > 0;
	}
}

static int is_yes(const char *v)
{
	return v != NULL && strcmp(v, "yes") == 0;
}

static void json_str_or_null(const char *name, const char *v)
{
	printf(",\"%s\":", name);
	if (v == NULL || v[0] == '\0')
		fputs("null", stdout);
	else
		pa_print_json_string(stdout, v, strlen(v));
}

static void text_line(const char *label, const char *v)
{
	printf("%-12s", label);
	if (v == NULL || v[0] == '\0')
		fputs("-", stdout);
	else
		pa_print_escaped(stdout, v, strlen(v));
	fputc('\n', stdout);
}

/* "TIME (N s ago)" */
static void text_time(const char *label, int has, int64_t t, int64_t now)
{
	printf("%-12s", label);
	if (!has) {
		fputs("never\n", stdout);
		return;
	}
	print_time(stdout, t);
	printf(" (%" PRId64 " s ago)\n", now > t ? now - t : 0);
}

static int usage(FILE *f)
{
	fprintf(f, "usage: privaudit ship-status DIR [--json]\n");
	if (f == stdout)
		printf("\nHow far privauditd's shipper has sent the log in DIR to its collector\n"
		       "(DIR/ship-state, written by privauditd --ship-to): the target, TLS, whether\n"
		       "it is connected, the records acknowledged beside the log's size, the lag,\n"
		       "the last acknowledgment and the last error.  Exit status 9 when DIR has no\n"
		       "ship-state (the log is not shipped).\n\n"
		       "  --json   one JSON object\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_ship_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ship_state st;
	privaudit_reader *r = NULL;
	privaudit_status ps;
	uint64_t size = 0, lag;
	int64_t now = (int64_t)time(NULL);
	char *path = NULL, *text = NULL;
	int c, json = 0, rc = 0;
	const char *dir;
	size_t len;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': return usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage(stderr);
	dir = argv[optind];
	ps = privaudit_reader_open(&r, dir);
	if (ps == PRIVAUDIT_OK)
		ps = privaudit_reader_count(r, &size);
	if (ps != PRIVAUDIT_OK) {
		err_reader("ship-status", dir, ps, r);
		rc = ps == PRIVAUDIT_E_NOLOG ? EXIT_CANNOT_READ : status_exit(ps);
		goto out;
	}
	if (asprintf(&path, "%s/ship-state", dir) < 0) {
		path = NULL;
		rc = EXIT_CANNOT_READ;
		goto out;
	}
	text = read_file(path, STATE_MAX, &len);
	if (text == NULL) {
		int e = errno;

		fprintf(stderr, "%s ship-status: ", progname);
		pa_print_escaped(stderr, dir, strlen(dir));
		if (e == ENOENT) {
			fputs(": no ship-state: this log is not shipped "
			      "(privauditd --ship-to, privauditd(8))\n", stderr);
			rc = EXIT_NOT_FOUND;
		} else {
			fprintf(stderr, ": cannot read ship-state: %s\n",
				e == EFBIG ? "not a ship-state file (too large)" : strerror(e));
			rc = EXIT_CANNOT_READ;
		}
		goto out;
	}
	parse_state(text, &st);
	lag = st.has_acked && st.acked < size ? size - st.acked : st.has_acked ? 0 : size;
	if (json) {
		fputs("{\"dir\":", stdout);
		pa_print_json_string(stdout, dir, strlen(dir));
		json_str_or_null("target", st.target);
		printf(",\"tls\":%s,\"connected\":%s", is_yes(st.tls) ? "true" : "false",
		       is_yes(st.connected) ? "true" : "false");
		json_str_or_null("log_id", st.log_id);
		printf(",\"acked\":%" PRIu64 ",\"size\":%" PRIu64 ",\"lag\":%" PRIu64,
		       st.has_acked ? st.acked : 0, size, lag);
		if (st.has_acked_time)
			printf(",\"acked_time\":%" PRId64 ",\"ack_age_s\":%" PRId64, st.acked_time,
			       now > st.acked_time ? now - st.acked_time : 0);
		else
			fputs(",\"acked_time\":null,\"ack_age_s\":null", stdout);
		json_str_or_null("last_error", st.last_error);
		if (st.has_updated)
			printf(",\"updated\":%" PRId64 "}\n", st.updated);
		else
			fputs(",\"updated\":null}\n", stdout);
	} else {
		text_line("target:", st.target);
		printf("%-12s%s\n", "tls:", is_yes(st.tls) ? "yes" : "no (plain RELP)");
		printf("%-12s%s\n", "connected:", is_yes(st.connected) ? "yes" : "no");
		printf("%-12s%" PRIu64 "\n", "acked:", st.has_acked ? st.acked : 0);
		printf("%-12s%" PRIu64 "\n", "size:", size);
		printf("%-12s%" PRIu64 " records\n", "lag:", lag);
		text_time("last ack:", st.has_acked_time, st.acked_time, now);
		text_line("last error:", st.last_error);
		text_time("updated:", st.has_updated, st.updated, now);
	}
	if (fflush(stdout) != 0)
		rc = EXIT_CANNOT_READ;
out:
	free(text);
	free(path);
	privaudit_reader_free(r);
	return rc;
}
