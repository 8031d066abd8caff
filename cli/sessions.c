/* SPDX-License-Identifier: ISC */
/* sessions.c: the auditor's view of sessions: one line per privileged
 * session, and one session replayed in time order. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "records.h"

#define UNSET_ID 4294967295u

static int bytes_eq(privaudit_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.data, s, b.len) == 0;
}

/* Escaped, or "-" when empty. */
static void print_field(FILE *f, privaudit_bytes b)
{
	if (b.len == 0)
		fputc('-', f);
	else
		pa_print_escaped(f, b.data, b.len);
}

/* "yes", "no" or "3/5": records a verified checkpoint covers; "cached:"
 * before it when it comes from the index, which nothing authenticates;
 * "+N-LATER" after it when N records came after the session was sealed. */
static void print_sealed(FILE *f, const privaudit_session *s, int have_verdict, int cached)
{
	if (s->late > 0)
		fprintf(f, "+%" PRIu64 "-LATER,", s->late);
	if (!have_verdict) {
		fputs("unknown", f);
		return;
	}
	if (cached)
		fputs("cached:", f);
	if (s->verified == s->records)
		fputs("yes", f);
	else if (s->verified == 0)
		fputs("no", f);
	else
		fprintf(f, "%" PRIu64 "/%" PRIu64, s->verified, s->records);
}

/* A command's argv joined by spaces, for --command matching (NUL-free). */
static char *command_line(const privaudit_record *rec)
{
	size_t n = privaudit_record_field_count(rec), len = 0;
	char *line = NULL;

	for (size_t i = 0; i < n; i++) {
		privaudit_field fd;

		if (privaudit_record_field(rec, i, &fd) != PRIVAUDIT_OK || strcmp(fd.name, "argv") != 0)
			continue;
		for (size_t j = 0; j < fd.count; j++) {
			const void *data;
			uint64_t num;
			size_t l;
			char *nl;

			if (privaudit_record_value(rec, i, j, &data, &l, &num) != PRIVAUDIT_OK)
				continue;
			nl = realloc(line, len + l + 2);
			if (nl == NULL) {
				free(line);
				return NULL;
			}
			line = nl;
			if (len > 0)
				line[len++] = ' ';
			for (size_t k = 0; k < l; k++)
				line[len++] = ((const char *)data)[k] != '\0' ? ((const char *)data)[k] : ' ';
		}
	}
	if (line == NULL)
		line = calloc(1, 1);
	else
		line[len] = '\0';
	return line;
}

/* Did the session run a command matching the glob (argv joined, or exe)? */
static int ran_command(privaudit_reader *r, const privaudit_session *s, const char *glob,
		       privaudit_status *st)
{
	const uint64_t *idx;
	size_t n;

	*st = privaudit_session_records(r, s, &idx, &n);
	if (*st != PRIVAUDIT_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;
		const void *exe;
		size_t el;
		char *line;
		int hit;

		*st = privaudit_reader_get(r, idx[i], &rec);
		if (*st != PRIVAUDIT_OK)
			return 0;
		if (strcmp(privaudit_record_kind(rec), "command") != 0)
			continue;
		line = command_line(rec);
		if (line == NULL) {
			*st = PRIVAUDIT_E_NOMEM;
			return 0;
		}
		hit = fnmatch(glob, line, 0) == 0;
		free(line);
		if (!hit && privaudit_record_get_bytes(rec, "exe", &exe, &el) == PRIVAUDIT_OK &&
		    el > 0 && memchr(exe, '\0', el) == NULL) {
			char *e = strndup(exe, el);

			hit = e != NULL && fnmatch(glob, e, 0) == 0;
			free(e);
		}
		if (hit)
			return 1;
	}
	return 0;
}

/* The members of a session's JSON object, after its opening brace. */
static void session_json_members(const privaudit_session *s, int have_verdict, int cached)
{
	fprintf(stdout, "\"id\":\"%s\"", s->id);
	json_text_field(stdout, "key", s->key.data, s->key.len);
	json_text_field(stdout, "host", s->host.data, s->host.len);
	fputs(",\"start\":\"", stdout);
	print_time_ns(stdout, s->start_ns);
	fprintf(stdout, "\",\"start_ns\":%" PRIu64, s->start_ns);
	if (s->open) {
		fputs(",\"end\":null,\"end_ns\":null,\"open\":true,\"duration_s\":null", stdout);
	} else {
		fputs(",\"end\":\"", stdout);
		print_time_ns(stdout, s->end_ns);
		fprintf(stdout, "\",\"end_ns\":%" PRIu64 ",\"open\":false,\"duration_s\":%.3f", s->end_ns,
			s->end_ns >= s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0.0);
	}
	fprintf(stdout, ",\"pam\":%s", s->has_open ? "true" : "false");
	json_text_field(stdout, "user", s->login_user.data, s->login_user.len);
	json_text_field(stdout, "target", s->user.data, s->user.len);
	json_text_field(stdout, "service", s->service.data, s->service.len);
	json_text_field(stdout, "rhost", s->rhost.data, s->rhost.len);
	json_text_field(stdout, "tty", s->tty.data, s->tty.len);
	fputs(",\"auid\":", stdout);
	if (s->auid == UNSET_ID)
		fputs("null", stdout);
	else
		fprintf(stdout, "%" PRIu32, s->auid);
	fputs(",\"ses\":", stdout);
	if (s->ses == UNSET_ID)
		fputs("null", stdout);
	else
		fprintf(stdout, "%" PRIu32, s->ses);
	fprintf(stdout,
		",\"records\":%" PRIu64 ",\"commands\":%" PRIu64 ",\"tty_inputs\":%" PRIu64
		",\"auth_attempts\":%" PRIu64 ",\"pam_sessions\":%" PRIu64 ",\"first_index\":%" PRIu64
		",\"last_index\":%" PRIu64 ",\"verified_records\":%" PRIu64 ",\"sealed\":%s"
		",\"sealed_cached\":%s,\"verification\":\"%s\",\"appended_later\":%" PRIu64 "}\n",
		s->records, s->commands, s->tty_inputs, s->auth_attempts, s->pam_sessions,
		s->first_index, s->last_index, s->verified,
		/* only a verification made now says sealed; the index's is a hint */
		!have_verdict || cached ? "null" : s->verified == s->records ? "true" : "false",
		!have_verdict || !cached ? "null" : s->verified == s->records ? "true" : "false",
		!have_verdict ? "none" : cached ? "cached" : "checked", s->late);
}

static void session_json(const privaudit_session *s, int have_verdict, int cached)
{
	fputc('{', stdout);
	session_json_members(s, have_verdict, cached);
}

static void session_line(const privaudit_session *s, int have_verdict, int cached)
{
	printf("%-12s  ", s->id);
	print_time_ns(stdout, s->start_ns);
	fputs("  ", stdout);
	if (s->open) {
		printf("%-24s  %-9s", "open", "-");
	} else {
		print_time_ns(stdout, s->end_ns);
		fputs("  ", stdout);
		print_duration(stdout, s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0);
	}
	fputs("  ", stdout);
	print_field(stdout, s->login_user);
	fputs(" -> ", stdout);
	print_field(stdout, s->user);
	fputs("  ", stdout);
	print_field(stdout, s->service);
	fputs("  ", stdout);
	print_field(stdout, s->rhost);
	fputs("  ", stdout);
	print_field(stdout, s->tty);
	printf("  %" PRIu64 "  ", s->commands);
	print_sealed(stdout, s, have_verdict, cached);
	fputc('\n', stdout);
}

/* The verification the listing reflects, said once below it. */
static void verdict_note(const privaudit_verify_report *v, int cached, uint64_t total,
			 uint64_t verified, const char *damage)
{
	if (damage != NULL) {
		fputs("warning: the log could not be read to its end: ", stderr);
		pa_print_escaped(stderr, damage, strlen(damage));
		fputs("\n", stderr);
	}
	if (v == NULL) {
		puts("verification: none (the log could not be verified)");
		return;
	}
	if (v->status != PRIVAUDIT_OK) {
		printf("verification: FAILED: %s: ", privaudit_strerror(v->status));
		pa_print_escaped(stdout, v->detail, strlen(v->detail));
		printf("%s\n", cached ? " (when the index was built; --verified checks now)" : "");
		printf("NOT VERIFIED: %" PRIu64 " of %" PRIu64
		       " session records are not covered by a verified checkpoint\n",
		       total - verified, total);
		return;
	}
	if (cached) {
		printf("verification: NOT CHECKED now: the index says the log verified when it was "
		       "built and %" PRIu64 " of %" PRIu64 " session records were sealed then; the "
		       "index is not authenticated (anyone who can write the log directory can "
		       "forge it): run with --verified\n",
		       verified, total);
		return;
	}
	printf("verification: log verified now; %" PRIu64 " of %" PRIu64
	       " session records sealed by a verified checkpoint%s\n",
	       verified, total, verified < total ? " (the rest is not sealed yet)" : "");
}

/* --fleet: one verdict line per host, on stderr so the table stays one. */
static void fleet_verdict(const char *host, const privaudit_verify_report *v, int cached,
			  uint64_t total, uint64_t verified)
{
	fputs("verification: ", stderr);
	pa_print_escaped(stderr, host, strlen(host));
	if (v == NULL)
		fputs(": none (the mirror could not be verified)\n", stderr);
	else if (v->status != PRIVAUDIT_OK)
		fprintf(stderr, ": FAILED: %s\n", privaudit_strerror(v->status));
	else if (cached)
		fprintf(stderr, ": NOT CHECKED now (index verdict: %" PRIu64 " of %" PRIu64
				" session records sealed); run with --verified\n",
			verified, total);
	else
		fprintf(stderr, ": verified now with the enrolled key; %" PRIu64 " of %" PRIu64
				" session records sealed\n",
			verified, total);
}

static int sessions_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit sessions DIR [--user U] [--host H] [--since T] [--until T]\n"
		"       [--command GLOB] [--json] [--verified [--key PUBFILE]]\n"
		"       privaudit sessions ROOT --fleet [the same filters] [--verified]\n\n"
		"One line per session: id, start, end (or open), duration, user -> target\n"
		"user, service, remote host, tty, commands run, and whether its records are\n"
		"sealed by a verified checkpoint (yes, no, or how many of them).\n\n"
		"  --user U        sessions of U (who logged in, or the target user)\n"
		"  --host H        sessions written on host H\n"
		"  --since/--until T  sessions active in that time (@UNIX, YYYY-MM-DD[THH:MM[:SS]][Z],\n"
		"                  now, -2h)\n"
		"  --command GLOB  sessions that ran a command matching GLOB (fnmatch, on the\n"
		"                  argv joined by spaces, or on the executable path)\n"
		"  --json          one JSON object per session\n"
		"  --verified      verify the whole log now (else the verdict cached in the\n"
		"                  index is shown); exit non-zero unless it verifies\n"
		"  --key PUBFILE   with --verified: pin the log's first public key\n"
		"  --fleet         ROOT is a collector's (privaudit collect --root): the\n"
		"                  sessions of every host mirror, with a HOST column; with\n"
		"                  --verified each mirror is pinned to its enrolled key\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

struct list_opts {
	const char *user, *host, *glob, *keyfile;
	uint64_t since, until;
	int json, verified;
	int fleet;                    /* a collector's root: a HOST column */
};

/* The sessions of one log (or mirror); fleet_host names the mirror's host
 * for the HOST column (NULL: one log, no column). */
static int list_sessions(const char *dir, const struct list_opts *o, const char *fleet_host)
{
	uint64_t total = 0, verified_total = 0;
	int code = 0, rc = 0, cached = 0;
	const privaudit_verify_report *v = NULL;
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	struct progress prog;
	privaudit_status st;
	size_t n;

	st = privaudit_reader_open(&r, dir);
	if (st != PRIVAUDIT_OK) {
		err_reader("sessions", dir, st, NULL);
		return status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
	}
	if (o->verified && verify_for("sessions", r, o->keyfile, &code) < 0) {
		privaudit_reader_free(r);
		return code ? code : EXIT_USAGE;
	}
	progress_init(&prog, "indexing");
	privaudit_reader_progress(r, show_progress, &prog);
	st = privaudit_sessions(r, &list, &n);
	progress_done(&prog);
	privaudit_reader_progress(r, NULL, NULL);
	if (st != PRIVAUDIT_OK) {
		err_reader("sessions", dir, st, r);
		privaudit_reader_free(r);
		return status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
	}
	privaudit_reader_verdict(r, &v, &cached);
	if (!o->json && !o->fleet)
		printf("%-12s  %-24s  %-24s  %-9s  %s\n", "SESSION", "START", "END", "DURATION",
		       "USER -> TARGET  SERVICE  RHOST  TTY  COMMANDS  SEALED");
	for (size_t i = 0; i < n; i++) {
		const privaudit_session *s = &list[i];
		uint64_t end = s->open ? UINT64_MAX : s->end_ns;

		if (o->user != NULL && !bytes_eq(s->login_user, o->user) && !bytes_eq(s->user, o->user))
			continue;
		if (o->host != NULL && !bytes_eq(s->host, o->host) &&
		    (fleet_host == NULL || strcmp(fleet_host, o->host) != 0))
			continue;
		if (end < o->since || s->start_ns > o->until)
			continue;
		if (o->glob != NULL) {
			if (!ran_command(r, s, o->glob, &st)) {
				if (st != PRIVAUDIT_OK) {
					err_reader("sessions", dir, st, r);
					rc = status_exit(st);
					break;
				}
				continue;
			}
		}
		total += s->records;
		verified_total += s->verified;
		if (fleet_host != NULL && o->json) {
			fputs("{\"fleet_host\":", stdout);
			pa_print_json_string(stdout, fleet_host, strlen(fleet_host));
			fputs(",", stdout);
			session_json_members(s, v != NULL, cached);
		} else if (o->json) {
			session_json(s, v != NULL, cached);
		} else {
			if (fleet_host != NULL) {
				char col[33];

				snprintf(col, sizeof(col), "%s", fleet_host);
				pa_print_escaped(stdout, col, strlen(col));
				printf("%*s  ", (int)(32 - strlen(col)), "");
			}
			session_line(s, v != NULL, cached);
		}
	}
	if (!o->json && !o->fleet)
		verdict_note(v, cached, total, verified_total, privaudit_reader_damage(r));
	else if (!o->json)
		fleet_verdict(fleet_host, v, cached, total, verified_total);
	if (privaudit_reader_damage(r) != NULL && (o->json || o->fleet)) {
		/* stdout stays JSON lines (or one table) */
		fputs("warning: ", stderr);
		if (fleet_host != NULL) {
			pa_print_escaped(stderr, fleet_host, strlen(fleet_host));
			fputs(": ", stderr);
		}
		fputs("the log could not be read to its end: ", stderr);
		pa_print_escaped(stderr, privaudit_reader_damage(r), strlen(privaudit_reader_damage(r)));
		fputc('\n', stderr);
	}
	privaudit_reader_free(r);
	return rc != 0 ? rc : code;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --fleet: every mirror under a collector's root, host by host, each
 * verified (with --verified) against the key its directory was made for. */
static int list_fleet(const char *root, struct list_opts *o)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	d = opendir(root);
	if (d == NULL) {
		fprintf(stderr, "privaudit sessions: ");
		pa_print_escaped(stderr, root, strlen(root));
		fprintf(stderr, ": %s\n", strerror(errno));
		return EXIT_CANNOT_READ;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];

		if (de->d_name[0] == '.' || strcmp(de->d_name, "quarantine") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s", root, de->d_name,
			     PRIVAUDIT_PUBKEY_FILE) >= (int)sizeof(path) ||
		    access(path, R_OK) != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (nn == NULL)
				break;
			names = nn;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	if (!o->json)
		printf("%-32s  %-12s  %-24s  %-24s  %-9s  %s\n", "HOST", "SESSION", "START", "END",
		       "DURATION", "USER -> TARGET  SERVICE  RHOST  TTY  COMMANDS  SEALED");
	for (size_t i = 0; i < n; i++) {
		char dir[4096], keyfile[4096], host[PRIVAUDIT_ORIGIN_MAX];
		char *line;
		int one;

		if (snprintf(dir, sizeof(dir), "%s/%s", root, names[i]) >= (int)sizeof(dir) ||
		    snprintf(keyfile, sizeof(keyfile), "%s/%s", root, names[i]) >= (int)sizeof(keyfile) - 8)
			line = NULL;
		else
			line = read_key_line(strcat(keyfile, "/" PRIVAUDIT_PUBKEY_FILE));
		if (line == NULL) {
			free(names[i]);
			continue;
		}
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(line, "+\n"), line);
		free(line);
		o->keyfile = keyfile;
		one = list_sessions(dir, o, host);
		if (one != 0 && rc == 0)
			rc = one;
		free(names[i]);
	}
	free(names);
	return rc;
}

int cmd_sessions(int argc, char **argv)
{
	static const struct option opts[] = {
		{"user", required_argument, NULL, 'u'},
		{"host", required_argument, NULL, 'H'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"command", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"fleet", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct list_opts o;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.until = UINT64_MAX;
	while ((c = getopt_long(argc, argv, "u:H:S:U:c:jvK:Fh", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o.user = optarg; break;
		case 'H': o.host = optarg; break;
		case 'S':
		case 'U':
			if (parse_time(optarg, c == 'S' ? &o.since : &o.until) < 0) {
				fprintf(stderr, "privaudit sessions: bad time '");
				pa_print_escaped(stderr, optarg, strlen(optarg));
				fprintf(stderr, "'\n");
				return EXIT_USAGE;
			}
			break;
		case 'c': o.glob = optarg; break;
		case 'j': o.json = 1; break;
		case 'v': o.verified = 1; break;
		case 'K': o.keyfile = optarg; break;
		case 'F': o.fleet = 1; break;
		case 'h': return sessions_usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || (o.keyfile != NULL && (!o.verified || o.fleet)))
		return sessions_usage(stderr);
	rc = o.fleet ? list_fleet(argv[optind], &o) : list_sessions(argv[optind], &o, NULL);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_CANNOT_READ;
	return rc;
}

/* ------------------------------------------------------------ replay */

struct entry {
	uint64_t time_ns, index;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void get_b(const privaudit_record *rec, const char *name, privaudit_bytes *b)
{
	if (privaudit_record_get_bytes(rec, name, &b->data, &b->len) != PRIVAUDIT_OK) {
		b->data = "";
		b->len = 0;
	}
}

static uint64_t get_u(const privaudit_record *rec, const char *name)
{
	uint64_t v = 0;

	privaudit_record_get_uint(rec, name, &v);
	return v;
}

/* When it happened: for what the audit plugin recorded, the audit event's
 * own time (audit_time_ms); else when the record was appended. */
static uint64_t event_time_ns(const privaudit_record *rec)
{
	uint64_t ms = 0;

	if (privaudit_record_get_uint(rec, "audit_time_ms", &ms) == PRIVAUDIT_OK && ms > 0 &&
	    ms < UINT64_MAX / 1000000u)
		return ms * 1000000u;
	return privaudit_record_time_ns(rec);
}

static void print_argv(const privaudit_record *rec)
{
	size_t n = privaudit_record_field_count(rec);

	for (size_t i = 0; i < n; i++) {
		privaudit_field fd;

		if (privaudit_record_field(rec, i, &fd) != PRIVAUDIT_OK || strcmp(fd.name, "argv") != 0)
			continue;
		for (size_t j = 0; j < fd.count; j++) {
			const void *data;
			uint64_t num;
			size_t l;

			if (privaudit_record_value(rec, i, j, &data, &l, &num) == PRIVAUDIT_OK) {
				fputc(' ', stdout);
				print_value(stdout, data, l);
			}
		}
	}
}

/* Each line: event time, record index, a mark (privaudit(1), replay):
 * "!" not sealed by a verified checkpoint (with --verified), "+" appended
 * after the session's close was sealed, then what happened. */
static void replay_line(const privaudit_record *rec, int verified_mode, int late)
{
	const char *kind = privaudit_record_kind(rec);
	privaudit_bytes a, b, c;
	uint64_t t = event_time_ns(rec);
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)(t / 1000000000u);

	if (gmtime_r(&tt, &tm) != NULL && strftime(buf, sizeof(buf), "%H:%M:%S", &tm) > 0)
		printf("%s.%03u", buf, (unsigned)(t % 1000000000u / 1000000u));
	else
		fputs("??:??:??.???", stdout);
	printf(" #%-6" PRIu64, privaudit_record_index(rec));
	if (late)
		fputs(" +", stdout);
	else if (verified_mode && !privaudit_record_verified(rec))
		fputs(" !", stdout);
	else
		fputs("  ", stdout);
	if (strcmp(kind, "session_open") == 0) {
		get_b(rec, "service", &a);
		get_b(rec, "login_user", &b);
		if (b.len == 0)
			get_b(rec, "ruser", &b);
		get_b(rec, "user", &c);
		fputs("  open     ", stdout);
		print_field(stdout, a);
		fputs(": ", stdout);
		print_field(stdout, b);
		fputs(" -> ", stdout);
		print_field(stdout, c);
		printf("  pid %" PRIu64, get_u(rec, "pid"));
		get_b(rec, "tty", &a);
		if (a.len > 0) {
			fputs(" tty ", stdout);
			pa_print_escaped(stdout, a.data, a.len);
		}
		get_b(rec, "rhost", &a);
		if (a.len > 0) {
			fputs(" from ", stdout);
			pa_print_escaped(stdout, a.data, a.len);
		}
	} else if (strcmp(kind, "session_close") == 0) {
		get_b(rec, "service", &a);
		get_b(rec, "user", &b);
		fputs("  close    ", stdout);
		print_field(stdout, a);
		fputs(": ", stdout);
		print_field(stdout, b);
		fputs(" after ", stdout);
		print_duration(stdout, get_u(rec, "duration_ns"));
	} else if (strcmp(kind, "command") == 0) {
		uint64_t ok = get_u(rec, "success");
		int64_t ex = (int64_t)get_u(rec, "exit");

		get_b(rec, "source", &a);
		get_b(rec, "cwd", &b);
		printf("  %-8s [%" PRIu64 "->%" PRIu64 "] ",
		       bytes_eq(a, "user_cmd") ? "sudo" : "command", get_u(rec, "uid"),
		       get_u(rec, "euid"));
		print_field(stdout, b);
		fputs(" $", stdout);
		print_argv(rec);
		if (get_u(rec, "argv_cut") > 0)
			printf(" [%" PRIu64 " argument(s) cut: over the record size]", get_u(rec, "argv_cut"));
		if (!bytes_eq(a, "user_cmd"))
			printf("  => %s %" PRId64, ok ? "exit" : "FAILED", ex);
	} else if (strcmp(kind, "tty_input") == 0) {
		get_b(rec, "tty", &a);
		get_b(rec, "data", &b);
		fputs("  tty      ", stdout);
		if (a.len > 0) {
			pa_print_escaped(stdout, a.data, a.len);
			fputs(": ", stdout);
		}
		fputc('"', stdout);
		pa_print_escaped(stdout, b.data, b.len);
		fputc('"', stdout);
	} else if (strcmp(kind, "auth_attempt") == 0) {
		get_b(rec, "service", &a);
		get_b(rec, "phase", &b);
		get_b(rec, "user", &c);
		fputs("  auth     ", stdout);
		print_field(stdout, a);
		fputc(' ', stdout);
		print_field(stdout, b);
		fputs(" for ", stdout);
		print_field(stdout, c);
		printf(": %s", get_u(rec, "success") ? "success" : "FAILED");
	} else {
		printf("  %-8s", kind);
		print_record_fields(stdout, rec, 0);
	}
	fputc('\n', stdout);
}

/* Gap records written while the session was open. */
static void print_gaps(privaudit_reader *r, const privaudit_session *s)
{
	uint64_t end = s->open ? UINT64_MAX : s->end_ns, lost = 0, found = 0;
	const uint64_t *gaps;
	size_t n;

	if (privaudit_reader_gaps(r, &gaps, &n) != PRIVAUDIT_OK) {
		puts("gaps:     unknown");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;
		uint64_t t;

		if (privaudit_reader_get(r, gaps[i], &rec) != PRIVAUDIT_OK)
			continue;
		t = privaudit_record_time_ns(rec);
		if (t < s->start_ns || t > end)
			continue;
		found++;
		lost += get_u(rec, "count");
	}
	if (found == 0)
		puts("gaps:     none recorded while the session was open");
	else
		printf("gaps:     %" PRIu64 " gap record(s) while the session was open: %" PRIu64
		       " event(s) lost (see 'privaudit show --kind gap')\n",
		       found, lost);
}

static void replay_header(privaudit_reader *r, const privaudit_session *s,
			  const privaudit_verify_report *v, int cached)
{
	const char *colon = memchr(s->key.data, ':', s->key.len);

	printf("session:  %s  key ", s->id);
	pa_print_escaped(stdout, s->key.data, s->key.len);
	fputs("\nhost:     ", stdout);
	print_field(stdout, s->host);
	if (colon != NULL) {
		fputs("\nboot:     ", stdout);
		pa_print_escaped(stdout, s->key.data, (size_t)(colon - (const char *)s->key.data));
	}
	fputs("\naudit:    ", stdout);
	if (s->ses != UNSET_ID)
		printf("ses %" PRIu32, s->ses);
	else
		fputs("ses unset", stdout);
	if (s->auid != UNSET_ID)
		printf("  auid %" PRIu32, s->auid);
	fputs("\nwho:      ", stdout);
	print_field(stdout, s->login_user);
	fputs(" -> ", stdout);
	print_field(stdout, s->user);
	fputs(" via ", stdout);
	print_field(stdout, s->service);
	fputs("\nfrom:     ", stdout);
	print_field(stdout, s->rhost);
	fputs("  tty ", stdout);
	print_field(stdout, s->tty);
	fputs("\nstart:    ", stdout);
	print_time_ns(stdout, s->start_ns);
	fputs("\nend:      ", stdout);
	if (s->open) {
		fputs("open (no session close recorded yet)", stdout);
	} else {
		print_time_ns(stdout, s->end_ns);
		fputs(" (", stdout);
		print_duration(stdout, s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0);
		fputs(")", stdout);
	}
	printf("\nrecords:  %" PRIu64 " (%" PRIu64 " commands, %" PRIu64 " tty inputs, %" PRIu64
	       " PAM sessions, %" PRIu64 " auth attempts)\n",
	       s->records, s->commands, s->tty_inputs, s->pam_sessions, s->auth_attempts);
	print_gaps(r, s);
	fputs("verified: ", stdout);
	if (v != NULL && cached && v->status == PRIVAUDIT_OK) {
		/* a hint from an unauthenticated file, not a verification */
		printf("not checked (the index says %" PRIu64 " of %" PRIu64 " records were sealed "
		       "when it was built; --verified checks now)\n\n",
		       s->verified, s->records);
		return;
	}
	if (v == NULL)
		fputs("NOT VERIFIED: the log could not be verified", stdout);
	else if (v->status != PRIVAUDIT_OK && s->verified < s->records)
		printf("NOT VERIFIED: the log fails verification (%s) and %" PRIu64 " of %" PRIu64
		       " records are not covered by a verified checkpoint",
		       privaudit_strerror(v->status), s->records - s->verified, s->records);
	else if (s->verified == s->records && v->status != PRIVAUDIT_OK)
		printf("yes: all %" PRIu64 " records sealed by a verified checkpoint, but the log "
		       "fails verification (%s)",
		       s->records, privaudit_strerror(v->status));
	else if (s->verified == s->records)
		printf("yes: all %" PRIu64 " records sealed by a verified checkpoint", s->records);
	else if (s->verified == 0)
		printf("not sealed: none of the %" PRIu64 " records is sealed by a verified "
		       "checkpoint yet",
		       s->records);
	else
		printf("partly: %" PRIu64 " of %" PRIu64 " records sealed by a verified checkpoint; the "
		       "rest are not sealed yet",
		       s->verified, s->records);
	printf("%s\n", cached ? " [cached in the index; --verified checks now]" : "");
	if (s->late > 0)
		printf("LATER:    %" PRIu64 " record(s) were appended after the checkpoint that sealed "
		       "the session's close (record %" PRIu64 " on): they were not part of it when it "
		       "was sealed, whatever time they carry (marked +)\n",
		       s->late, s->appended_after);
	fputs("\n", stdout);
}

static void pause_for(uint64_t delta_ns, double speed, double max_wait)
{
	double secs = (double)delta_ns / 1e9 / speed;
	struct timespec ts;

	if (secs > max_wait)
		secs = max_wait;
	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	fflush(stdout);
	nanosleep(&ts, NULL);
}

static int replay_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit replay DIR SESSION [--follow] [--speed X] [--max-wait S]\n"
		"       [--verified [--key PUBFILE]]\n\n"
		"A header (host, boot, audit session, who, from where, service, tty, start,\n"
		"end, gaps, verification) and the session's records in time order: PAM\n"
		"sessions, commands with cwd, uid->euid, argv and result, sudo commands,\n"
		"TTY input.  SESSION is an id from 'privaudit sessions', a unique prefix of\n"
		"one (4 digits or more), or a session key.  Each line: the time, #record\n"
		"index, a mark (+: appended after the checkpoint that sealed the session's\n"
		"close; !: not sealed, with --verified), the event.\n\n"
		"  --follow        on a terminal, wait between records as they happened\n"
		"  --speed X       with --follow: X times faster (default 1)\n"
		"  --max-wait S    with --follow: wait at most S seconds (default 5)\n"
		"  --verified      verify the whole log and check every record shown against\n"
		"                  it (records not sealed are marked !); exit non-zero unless\n"
		"                  the log verifies (records not sealed yet only get a warning)\n"

		"  --key PUBFILE   with --verified: pin the log's first public key\n"
		"  --fleet         ROOT is a collector's (privaudit collect --root): the\n"
		"                  sessions of every host mirror, with a HOST column; with\n"
		"                  --verified each mirror is pinned to its enrolled key\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"speed", required_argument, NULL, 's'},
		{"max-wait", required_argument, NULL, 'w'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *dir, *name;
	double speed = 1.0, max_wait = 5.0;
	int c, follow = 0, verified = 0, code = 0, rc = 0, cached = 0;
	const privaudit_verify_report *v = NULL;
	const privaudit_session *s;
	privaudit_reader *r = NULL;
	struct entry *ent = NULL;
	const uint64_t *idx;
	struct progress prog;
	privaudit_status st;
	size_t n = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "fs:w:vK:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = 1; break;
		case 's':
		case 'w': {
			double d = strtod(optarg, &end);

			if (*end != '\0' || end == optarg || !(d > 0) || d > 1e6) {
				fprintf(stderr, "privaudit replay: --%s needs a positive number\n",
					c == 's' ? "speed" : "max-wait");
				return EXIT_USAGE;
			}
			if (c == 's')
				speed = d;
			else
				max_wait = d;
			break;
		}
		case 'v': verified = 1; break;
		case 'K': keyfile = optarg; break;
		case 'h': return replay_usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 2 != argc || (keyfile != NULL && !verified))
		return replay_usage(stderr);
	dir = argv[optind];
	name = argv[optind + 1];
	follow = follow && isatty(STDOUT_FILENO);
	st = privaudit_reader_open(&r, dir);
	if (st != PRIVAUDIT_OK) {
		err_reader("replay", dir, st, NULL);
		return status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
	}
	if (verified && verify_for("replay", r, keyfile, &code) < 0) {
		privaudit_reader_free(r);
		return code ? code : EXIT_USAGE;
	}
	progress_init(&prog, "indexing");
	privaudit_reader_progress(r, show_progress, &prog);
	st = privaudit_session_find(r, name, &s);
	progress_done(&prog);
	privaudit_reader_progress(r, NULL, NULL);
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_records(r, s, &idx, &n);
	if (st != PRIVAUDIT_OK && code != 0) {
		/* the log did not verify: that is the answer, whatever else */
		privaudit_reader_free(r);
		return code;
	}
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "privaudit replay: session '");
		pa_print_escaped(stderr, name, strlen(name));
		fprintf(stderr, "': %s\n", st == PRIVAUDIT_E_NOTFOUND ? "no such session (see 'privaudit sessions')"
					   : privaudit_strerror(st));
		privaudit_reader_free(r);
		return status_exit(st);
	}
	ent = malloc((n ? n : 1) * sizeof(*ent));
	if (ent == NULL) {
		privaudit_reader_free(r);
		return EXIT_CANNOT_READ;
	}
	/* Time order: writers (PAM, the audit plugin) append in their own
	 * order, and the plugin some time after the event. */
	for (size_t i = 0; i < n && st == PRIVAUDIT_OK; i++) {
		const privaudit_record *rec;

		ent[i].index = idx[i];
		st = privaudit_reader_get(r, idx[i], &rec);
		ent[i].time_ns = st == PRIVAUDIT_OK ? event_time_ns(rec) : 0;
	}
	if (st != PRIVAUDIT_OK) {
		err_reader("replay", dir, st, r);
		rc = status_exit(st);
		goto out;
	}
	qsort(ent, n, sizeof(*ent), cmp_entry);
	privaudit_reader_verdict(r, &v, &cached);
	replay_header(r, s, v, cached);
	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;

		st = privaudit_reader_get(r, ent[i].index, &rec);
		if (st != PRIVAUDIT_OK) {
			fflush(stdout);
			err_reader("replay", dir, st, r);
			rc = status_exit(st);
			break;
		}
		if (follow && i > 0)
			pause_for(ent[i].time_ns - ent[i - 1].time_ns, speed, max_wait);
		replay_line(rec, verified, privaudit_reader_appended_later(r, rec));
	}
	if (rc == 0 && verified && code == 0 && s->verified < s->records) {
		/* Not tampering: the writer has not sealed them yet. */
		fprintf(stderr, "privaudit replay: warning: %" PRIu64 " of the session's records are "
				"not sealed by a verified checkpoint yet\n", s->records - s->verified);
	}
out:
	free(ent);
	privaudit_reader_free(r);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_CANNOT_READ;
	return rc != 0 ? rc : code;
}
