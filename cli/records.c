/* SPDX-License-Identifier: ISC */
/* records.c: records as readable lines or JSON objects, and the verbs that
 * print them: show, export and tail.  Every string from a log is escaped. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "records.h"

/* Fields that hold binary values (keys, hashes): short hex in text (the
 * library's JSON gives them in base64). */
static int binary_field(const char *name)
{
	return strcmp(name, "public_key") == 0 || strcmp(name, "log_id") == 0 ||
	       strcmp(name, "root_hash") == 0 || strcmp(name, "next_public_key") == 0 ||
	       strcmp(name, "frontier") == 0;
}

/* Own fields are printed in the record's prefix, not with the body. */
static int own_field(const char *name)
{
	return strcmp(name, "time_ns") == 0 || strcmp(name, "host") == 0 ||
	       strcmp(name, "writer_pid") == 0 || strcmp(name, "session_key") == 0;
}

/* ------------------------------------------------------------ JSON */

/* ,"name":"text" and ,"name_b64":"..." when the bytes are not UTF-8 (for
 * objects of the CLI's own, after their first member). */
void json_text_field(FILE *f, const char *name, const void *data, size_t len)
{
	fprintf(f, ",\"%s\":", name);
	pa_print_json_string(f, data, len);
	if (!pa_utf8_valid(data, len)) {
		fprintf(f, ",\"%s_b64\":\"", name);
		pa_print_base64(f, data, len);
		fputc('"', f);
	}
}

/* The library renders it (privaudit_record_json()), so that what export
 * prints and what privauditd ships cannot differ. */
int print_record_json(FILE *f, const privaudit_record *rec, int with_verified, int late)
{
	privaudit_status st;
	char *json = NULL;
	size_t len = 0;

	st = privaudit_record_json(rec, with_verified ? PRIVAUDIT_JSON_VERIFIED : 0, 0, &json,
				   &len);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "%s: record %" PRIu64 ": %s\n", progname, privaudit_record_index(rec),
			privaudit_strerror(st));
		return -1;
	}
	/* "appended_later" and "after_damage" are the reader's knowledge,
	 * not the record's */
	if ((late || privaudit_record_after_damage(rec, NULL)) && len > 0 && json[len - 1] == '}') {
		uint64_t first;

		fwrite(json, 1, len - 1, f);
		if (late)
			fputs(",\"appended_later\":true", f);
		if (privaudit_record_after_damage(rec, &first))
			fprintf(f, ",\"after_damage\":%" PRIu64 ",\"verifiable\":false", first);
		fputc('}', f);
	} else {
		fwrite(json, 1, len, f);
	}
	fputc('\n', f);
	free(json);
	return 0;
}

/* ------------------------------------------------------------ text */

/* A value as name=value, quoted when it holds a space or is empty. */
void print_value(FILE *f, const void *data, size_t len)
{
	const char *p = data, *q;
	int quote = len == 0 || memchr(data, ' ', len) != NULL || memchr(data, '"', len) != NULL;

	if (!quote) {
		pa_print_escaped(f, data, len);
		return;
	}
	/* inside quotes a quote is \" (escaping leaves quotes alone) */
	fputc('"', f);
	while ((q = memchr(p, '"', len)) != NULL) {
		pa_print_escaped(f, p, (size_t)(q - p));
		fputs("\\\"", f);
		len -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	pa_print_escaped(f, p, len);
	fputc('"', f);
}

static void print_hex_short(FILE *f, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && i < 8; i++)
		fprintf(f, "%02x", p[i]);
	if (len > 8)
		fputs("...", f);
}

void print_record_fields(FILE *f, const privaudit_record *rec, int raw)
{
	size_t n = privaudit_record_field_count(rec);

	for (size_t i = 0; i < n; i++) {
		privaudit_field fd;
		const void *data;
		uint64_t num;
		size_t len;

		if (privaudit_record_field(rec, i, &fd) != PRIVAUDIT_OK || own_field(fd.name))
			continue;
		if (!raw && (strcmp(fd.name, "raw") == 0 || strcmp(fd.name, "note") == 0))
			continue;
		if (fd.repeated) {
			if (fd.count == 0)
				continue;
			fprintf(f, " %s=[", fd.name);
			for (size_t j = 0; j < fd.count; j++) {
				if (privaudit_record_value(rec, i, j, &data, &len, &num) != PRIVAUDIT_OK)
					continue;
				if (j > 0)
					fputc(' ', f);
				if (binary_field(fd.name))
					print_hex_short(f, data, len);
				else
					print_value(f, data, len);
			}
			fputc(']', f);
			continue;
		}
		if (privaudit_record_value(rec, i, 0, &data, &len, &num) != PRIVAUDIT_OK)
			continue;
		if (fd.type == PRIVAUDIT_FIELD_BYTES || fd.type == PRIVAUDIT_FIELD_STRING) {
			if (len == 0)
				continue;
			fprintf(f, " %s=", fd.name);
			if (binary_field(fd.name))
				print_hex_short(f, data, len);
			else
				print_value(f, data, len);
		} else if (num != 0) {
			fprintf(f, " %s=", fd.name);
			if (fd.type == PRIVAUDIT_FIELD_BOOL)
				fputs("true", f);
			else if (fd.type == PRIVAUDIT_FIELD_INT)
				fprintf(f, "%" PRId64, (int64_t)num);
			else
				fprintf(f, "%" PRIu64, num);
		}
	}
}

void print_record_line(FILE *f, const privaudit_record *rec, int raw, int with_verified,
		       int late)
{
	const void *host, *key;
	uint64_t first;
	size_t hl, kl;
	char id[16];

	privaudit_record_get_bytes(rec, "host", &host, &hl);
	privaudit_record_get_bytes(rec, "session_key", &key, &kl);
	fprintf(f, "#%" PRIu64 " ", privaudit_record_index(rec));
	print_time_ns(f, privaudit_record_time_ns(rec));
	fputc(' ', f);
	pa_print_escaped(f, host, hl);
	fprintf(f, " %s", privaudit_record_kind(rec));
	if (privaudit_record_after_damage(rec, &first)) {
		fputc(' ', f);
		print_damage_mark(f, first);   /* whatever else: no verification reaches it */
	} else if (late)
		fputs(" " MARK_LATER, f);   /* after its session was sealed */
	else if (with_verified)
		fputs(privaudit_record_verified(rec) ? " [verified]" : " " MARK_UNVERIFIED, f);
	if (kl > 0 && privaudit_record_session_id(rec, id) == PRIVAUDIT_OK)
		fprintf(f, " session=%s", id);
	print_record_fields(f, rec, raw);
	fputc('\n', f);
}

/* ------------------------------------------------------------ show, export */

struct filter {
	char **kinds;
	size_t nkinds;
	uint64_t since, until, from, to;
	int has_since, has_until, has_from, has_to;
};

static int filter_match(const struct filter *flt, const privaudit_record *rec)
{
	uint64_t t = privaudit_record_time_ns(rec), i = privaudit_record_index(rec);
	int ok = flt->nkinds == 0;

	for (size_t k = 0; k < flt->nkinds && !ok; k++)
		ok = strcmp(flt->kinds[k], privaudit_record_kind(rec)) == 0;
	return ok && (!flt->has_since || t >= flt->since) && (!flt->has_until || t <= flt->until) &&
	       (!flt->has_from || i >= flt->from) && (!flt->has_to || i <= flt->to);
}

/* The kinds of record (the body of proto/privaudit.proto, in its order);
 * tests/e2e-cli.sh checks this list against the schema. */
static const char *const kinds[] = {
	"genesis", "writer_start", "writer_stop", "heartbeat", "gap", "recovery",
	"key_rotation", "checkpoint", "session_open", "session_close", "auth_attempt",
	"command", "tty_input", "config_change", "audit_event", "application",
	"segment_start", "io_open", "io_chunk", "io_close",
};

static int known_kind(const char *k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], k) == 0)
			return 1;
	return 0;
}

static void unknown_kind(const char *verb, const char *k)
{
	fprintf(stderr, "%s %s: unknown record kind '", progname, verb);
	pa_print_escaped(stderr, k, strlen(k));
	fputs("'; the kinds are:\n ", stderr);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fprintf(stderr, " %s", kinds[i]);
	fputc('\n', stderr);
}

/* -1 out of memory, -2 an unknown kind (said on stderr). */
static int add_kinds(const char *verb, struct filter *flt, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	if (copy == NULL)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char **nk;

		if (!known_kind(tok)) {
			unknown_kind(verb, tok);
			free(copy);
			return -2;
		}
		nk = realloc(flt->kinds, (flt->nkinds + 1) * sizeof(*nk));

		if (nk == NULL) {
			free(copy);
			return -1;
		}
		flt->kinds = nk;
		flt->kinds[flt->nkinds] = strdup(tok);
		if (flt->kinds[flt->nkinds] == NULL) {
			free(copy);
			return -1;
		}
		flt->nkinds++;
	}
	free(copy);
	return 0;
}

static void filter_free(struct filter *flt)
{
	for (size_t k = 0; k < flt->nkinds; k++)
		free(flt->kinds[k]);
	free(flt->kinds);
}

/* 0, or -1 when the record could not be rendered (said on stderr). */
static int emit(privaudit_reader *r, const privaudit_record *rec, int json, int raw, int verified)
{
	int late = privaudit_reader_appended_later(r, rec);

	if (json)
		return print_record_json(stdout, rec, verified, late);
	print_record_line(stdout, rec, raw, verified, late);
	return 0;
}

static int show_usage(FILE *f, const char *verb)
{
	int exp = strcmp(verb, "export") == 0;

	fprintf(f,
		"usage: privaudit %s DIR [--json] [--kind K[,K...]] [--session SESSION]\n"
		"       [--since T] [--until T] [--from INDEX] [--to INDEX] [--raw]\n"
		"       [--verified [--key PUBFILE]]\n\n"
		"%s"
		"Strings from the log are escaped.\n\n",
		verb,
		exp ? "Print records in log order as JSON lines, one object per record, with\n"
		      "stable field names for a SIEM (privaudit(1), JSON RECORDS).  "
		    : "Print records in log order: one readable line each, or with --json one\n"
		      "JSON object per line (fields in privaudit(1)).  ");
	fprintf(f,
		"  --kind K       only records of these kinds (session_open, command, ...;\n"
		"                 an unknown kind is refused with the list of kinds)\n"
		"  --session S    only the records of one session (id, id prefix or key)\n"
		"  --since/--until T  by time: @UNIX, YYYY-MM-DD[THH:MM[:SS]][Z], now, today,\n"
		"                 yesterday, -1h, -1w, \"2 hours ago\"\n"
		"  --from/--to N  by record index\n"
		"  --raw          include raw audit text and checkpoint notes (text form)\n"
		"  --verified     verify the whole log first and check each record printed\n"
		"                 against it; exit non-zero unless the log verifies\n"
		"  --key PUBFILE  pin the log's first public key (implies --verified)\n"
		"  --no-verify    do not let a failed (cached) verdict set the exit status\n"
		"  --utc, --local times in UTC (the default) or local time\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

static int show_main(const char *verb, int argc, char **argv, int json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"kind", required_argument, NULL, 'k'},
		{"session", required_argument, NULL, 's'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},
		{"raw", no_argument, NULL, 'r'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"no-verify", no_argument, NULL, 'N'},
		{"utc", no_argument, NULL, 'Z'},
		{"local", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct filter flt;
	const char *session = NULL, *keyfile = NULL, *dir, *since = NULL, *until = NULL;
	int c, raw = 0, verified = 0, no_verify = 0, code = 0, rc = 0, cached = 0;
	const privaudit_verify_report *v = NULL;
	privaudit_reader *r = NULL;
	const privaudit_record *rec;
	privaudit_status st;

	memset(&flt, 0, sizeof(flt));
	while ((c = getopt_long(argc, argv, "jk:s:S:U:F:T:rvK:NZLh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'k':
			rc = add_kinds(verb, &flt, optarg);
			if (rc < 0) {
				filter_free(&flt);
				return rc == -2 ? EXIT_USAGE : EXIT_CANNOT_READ;
			}
			break;
		case 's': session = optarg; break;
		case 'S': since = optarg; break;
		case 'U': until = optarg; break;
		case 'F':
		case 'T':
			if (parse_num(optarg, c == 'F' ? &flt.from : &flt.to) < 0) {
				filter_free(&flt);
				return usage_error(verb, "--%s needs a record index, not '%s'",
						   c == 'F' ? "from" : "to", optarg);
			}
			*(c == 'F' ? &flt.has_from : &flt.has_to) = 1;
			break;
		case 'r': raw = 1; break;
		case 'v': verified = 1; break;
		case 'K': keyfile = optarg; verified = 1; break;
		case 'N': no_verify = 1; break;
		case 'Z': time_zone = ZONE_UTC; break;
		case 'L': time_zone = ZONE_LOCAL; break;
		case 'h':
			filter_free(&flt);
			return show_usage(stdout, verb);
		default:
			filter_free(&flt);
			return usage_error(verb, NULL);
		}
	}
	if (check_operands(verb, argc, argv, "DIR") < 0 ||
	    (no_verify && verified &&
	     usage_error(verb, "--no-verify contradicts %s", keyfile != NULL ? "--key" : "--verified")) ||
	    (since != NULL && parse_time(since, &flt.since) < 0 && bad_time(verb, "--since", since)) ||
	    (until != NULL && parse_time(until, &flt.until) < 0 && bad_time(verb, "--until", until))) {
		filter_free(&flt);
		return EXIT_USAGE;
	}
	flt.has_since = since != NULL;
	flt.has_until = until != NULL;
	dir = argv[optind];
	{
		const struct log_opts lo = {verb, dir, verified, keyfile};

		rc = log_open(&lo, &r, &code);
		if (rc != 0) {
			filter_free(&flt);
			return rc;
		}
	}
	if (!json)
		pager_start();
	if (session != NULL) {
		const privaudit_session *s;
		const uint64_t *idx;
		size_t n;

		st = log_session_find(r, session, &s);
		if (st == PRIVAUDIT_OK)
			st = privaudit_session_records(r, s, &idx, &n);
		if (st == PRIVAUDIT_E_NOTFOUND || st == PRIVAUDIT_E_AMBIGUOUS) {
			rc = err_session(verb, r, session, st);
			rc = code != 0 ? code : rc;
			goto out;
		}
		if (st != PRIVAUDIT_OK) {
			err_reader(verb, dir, st, r);
			rc = status_exit(st);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			st = privaudit_reader_get(r, idx[i], &rec);
			if (st != PRIVAUDIT_OK)
				break;
			if (filter_match(&flt, rec) && emit(r, rec, json, raw, verified) < 0) {
				rc = EXIT_CANNOT_READ;
				goto out;
			}
			/* the list lives in the reader until the next session call */
		}
	} else {
		const privaudit_session *list;
		size_t nsess;

		/* The session index knows which records came after their
		 * session was sealed; building it moves the reader, so first. */
		(void)log_sessions(r, &list, &nsess);
		st = privaudit_reader_seek(r, flt.has_from ? flt.from : 0);
		while (st == PRIVAUDIT_OK && (st = privaudit_reader_next(r, &rec)) == PRIVAUDIT_OK) {
			if (flt.has_to && privaudit_record_index(rec) > flt.to)
				break;
			if (filter_match(&flt, rec) && emit(r, rec, json, raw, verified) < 0) {
				rc = EXIT_CANNOT_READ;
				goto out;
			}
		}
		if (st == PRIVAUDIT_E_END)
			st = PRIVAUDIT_OK;
	}
	if (st != PRIVAUDIT_OK) {
		fflush(stdout);
		err_reader(verb, dir, st, r);
		rc = status_exit(st);
		goto out;
	}
	rc = code;
	/* A verdict that failed is the answer, cached or not. */
	if (rc == 0 && !verified && !no_verify && privaudit_reader_verdict(r, &v, &cached) == PRIVAUDIT_OK &&
	    v != NULL && v->status != PRIVAUDIT_OK) {
		rc = status_exit(v->status);
		fflush(stdout);
		fprintf(stderr, "%s %s: the log FAILED verification (%s%s); exit %d (--no-verify: 0)\n",
			progname, verb, status_class(v->status),
			cached ? ", verdict cached in the index" : "", rc);
	}
out:
	filter_free(&flt);
	if (stdout_failed(verb) && rc == 0)
		rc = EXIT_CANNOT_READ;
	return log_close(verb, dir, r, pager_end(rc));
}

int cmd_show(int argc, char **argv)
{
	return show_main("show", argc, argv, 0);
}

int cmd_export(int argc, char **argv)
{
	return show_main("export", argc, argv, 1);
}

/* ------------------------------------------------------------ tail */

static volatile sig_atomic_t stop_tail;

static void on_signal(int sig)
{
	(void)sig;
	stop_tail = 1;
}

int cmd_tail(int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"lines", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"raw", no_argument, NULL, 'r'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, follow = 0, json = 0, raw = 0, rc = 0, code = 0, verified = 0;
	const char *keyfile = NULL;
	uint64_t lines = 10, count = 0;
	privaudit_reader *r = NULL;
	const privaudit_record *rec;
	privaudit_status st;
	const char *dir;

	while ((c = getopt_long(argc, argv, "fn:jrh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = 1; break;
		case 'n':
			if (parse_num(optarg, &lines) < 0)
				return usage_error("tail", "-n needs a number, not '%s'", optarg);
			break;
		case 'j': json = 1; break;
		case 'r': raw = 1; break;
		case 'v': verified = 1; break;
		case 'K': keyfile = optarg; verified = 1; break;
		case 'h':
			printf("usage: privaudit tail [-f] [-n N] [--json] [--raw] [--verified [--key PUBFILE]] DIR\n\n"
			       "Print the last N records (default 10); with -f, keep printing records\n"
			       "as writers append them, until interrupted.  --key (or --verified)\n"
			       "verifies the log first and marks each record [verified] or [NOT VERIFIED];\n"
			       "records appended since are not verified.\n");
			return 0;
		default:
			return usage_error("tail", NULL);
		}
	}
	if (check_operands("tail", argc, argv, "DIR") < 0)
		return EXIT_USAGE;
	dir = argv[optind];
	{
		const struct log_opts lo = {"tail", dir, verified, keyfile};

		rc = log_open(&lo, &r, &code);
		if (rc != 0)
			return rc;
	}
	st = privaudit_reader_count(r, &count);
	if (st == PRIVAUDIT_OK)
		st = privaudit_reader_seek(r, count > lines ? count - lines : 0);
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_END) {
		err_reader("tail", dir, st, r);
		return log_close("tail", dir, r, status_exit(st));
	}
	if (follow) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	while (!stop_tail) {
		st = privaudit_reader_next(r, &rec);
		if (st == PRIVAUDIT_OK) {
			if (follow)
				log_warn_damage("tail", dir, r);
			if (emit(r, rec, json, raw, verified) < 0) {
				rc = EXIT_CANNOT_READ;
				break;
			}
			continue;
		}
		if (st != PRIVAUDIT_E_END) {
			fflush(stdout);
			err_reader("tail", dir, st, r);
			rc = status_exit(st);
			break;
		}
		if (!follow)
			break;
		if (stdout_failed("tail")) {
			rc = EXIT_CANNOT_READ;
			break;
		}
		{
			struct timespec ts = {0, 200 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	if (stdout_failed("tail") && rc == 0)
		rc = EXIT_CANNOT_READ;
	return log_close("tail", dir, r, rc != 0 ? rc : code);
}
