/* SPDX-License-Identifier: ISC */
/* sessions.c: the auditor's view of sessions: one line per privileged
 * session, and one session replayed in time order. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "iolog.h"
#include "records.h"
#include "table.h"

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

/* Did the session run a command matching the glob (argv joined, or exe)?
 * The index keeps each session's distinct commands: no record is read. */
static int ran_command(privaudit_reader *r, const privaudit_session *s, const char *glob,
		       privaudit_status *st)
{
	int match;

	*st = privaudit_session_command_match(r, s, glob, &match);
	return *st == PRIVAUDIT_OK && match;
}

/* Its privaudit_session_flags(): 0 when they cannot be had. */
static uint32_t session_flags(privaudit_reader *r, const privaudit_session *s)
{
	uint32_t flags = 0;

	(void)privaudit_session_flags(r, s, &flags);
	return flags;
}

/* "WHO -> TARGET": who is unknown by name in a session named by audit
 * events when no USER_LOGIN said it; its login uid stands in. */
static void print_who(FILE *f, const privaudit_session *s, uint32_t flags)
{
	if (s->login_user.len == 0 && (flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT) &&
	    s->auid != UNSET_ID)
		fprintf(f, "auid %" PRIu32, s->auid);
	else
		print_field(f, s->login_user);
	fputs(" -> ", f);
	print_field(f, s->user);
}

/* The members of a session's JSON object, after its opening brace. */
static void session_json_members(FILE *f, const privaudit_session *s, uint32_t flags,
				 int have_verdict, int cached, uint64_t after)
{
	fprintf(f, "\"id\":\"%s\"", s->id);
	json_text_field(f, "key", s->key.data, s->key.len);
	json_text_field(f, "host", s->host.data, s->host.len);
	fputs(",\"start\":\"", f);
	print_time_ns(f, s->start_ns);
	fprintf(f, "\",\"start_ns\":%" PRIu64, s->start_ns);
	if (s->open) {
		fputs(",\"end\":null,\"end_ns\":null,\"open\":true,\"duration_s\":null", f);
	} else {
		fputs(",\"end\":\"", f);
		print_time_ns(f, s->end_ns);
		fprintf(f, "\",\"end_ns\":%" PRIu64 ",\"open\":false,\"duration_s\":%.3f", s->end_ns,
			s->end_ns >= s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0.0);
	}
	fprintf(f, ",\"pam\":%s", s->has_open ? "true" : "false");
	json_text_field(f, "user", s->login_user.data, s->login_user.len);
	json_text_field(f, "target", s->user.data, s->user.len);
	json_text_field(f, "service", s->service.data, s->service.len);
	json_text_field(f, "rhost", s->rhost.data, s->rhost.len);
	json_text_field(f, "tty", s->tty.data, s->tty.len);
	fprintf(f, ",\"who_from_audit\":%s",
		flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT ? "true" : "false");
	fputs(",\"auid\":", f);
	if (s->auid == UNSET_ID)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu32, s->auid);
	fputs(",\"ses\":", f);
	if (s->ses == UNSET_ID)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu32, s->ses);
	fprintf(f,
		",\"records\":%" PRIu64 ",\"commands\":%" PRIu64 ",\"tty_inputs\":%" PRIu64
		",\"auth_attempts\":%" PRIu64 ",\"pam_sessions\":%" PRIu64 ",\"first_index\":%" PRIu64
		",\"last_index\":%" PRIu64 ",\"verified_records\":%" PRIu64 ",\"sealed\":%s"
		",\"sealed_cached\":%s,\"verification\":\"%s\",\"appended_later\":%" PRIu64,
		s->records, s->commands, s->tty_inputs, s->auth_attempts, s->pam_sessions,
		s->first_index, s->last_index, s->verified,
		/* only a verification made now says sealed; the index's is a hint */
		!have_verdict || cached ? "null" : s->verified == s->records ? "true" : "false",
		!have_verdict || !cached ? "null" : s->verified == s->records ? "true" : "false",
		!have_verdict ? "none" : cached ? "cached" : "checked", s->late);
	/* records read after damage: the first record it lost, else null */
	if (after != UINT64_MAX)
		fprintf(f, ",\"after_damage\":%" PRIu64 "}\n", after);
	else
		fputs(",\"after_damage\":null}\n", f);
}

/* The listing's columns (privaudit(1), sessions). */
enum {
	COL_SESSION, COL_START, COL_END, COL_DURATION, COL_HOST, COL_USER, COL_SERVICE,
	COL_RHOST, COL_TTY, COL_COMMANDS, COL_SEALED, NCOL
};
static const char *const col_heads[NCOL] = {
	"SESSION", "START", "END", "DURATION", "HOST", "USER -> TARGET", "SERVICE",
	"RHOST", "TTY", "CMDS", "SEALED",
};

/* One row: the cells of the session; HOST is the mirror's with --fleet,
 * else the host the records were written on. */
static int session_row(struct table *t, const privaudit_session *s, uint32_t flags,
		       const char *fleet_host, int have_verdict, int cached, uint64_t after)
{
	FILE *f = table_row(t, s->start_ns);

	if (f == NULL)
		return -1;
	fputs(s->id, f);
	table_cell(t);
	print_time_ns(f, s->start_ns);
	table_cell(t);
	if (s->open) {
		fputs("open", f);
		table_cell(t);
		fputc('-', f);
	} else {
		print_time_ns(f, s->end_ns);
		table_cell(t);
		print_duration(f, s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0);
	}
	table_cell(t);
	if (fleet_host != NULL)
		pa_print_escaped(f, fleet_host, strlen(fleet_host));
	else
		print_field(f, s->host);
	table_cell(t);
	print_who(f, s, flags);
	if (flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT)
		fputs(" (audit)", f);
	table_cell(t);
	print_field(f, s->service);
	table_cell(t);
	print_field(f, s->rhost);
	table_cell(t);
	print_field(f, s->tty);
	table_cell(t);
	fprintf(f, "%" PRIu64, s->commands);
	table_cell(t);
	if (after != UINT64_MAX)
		print_damage_mark(f, after);
	else
		print_sealed(f, s, have_verdict, cached);
	table_cell(t);
	return table_row_end(t);
}

static int session_json_row(struct table *t, const privaudit_session *s, uint32_t flags,
			    const char *fleet_host, int have_verdict, int cached, uint64_t after)
{
	FILE *f = table_row(t, s->start_ns);

	if (f == NULL)
		return -1;
	fputc('{', f);
	if (fleet_host != NULL) {
		fputs("\"fleet_host\":", f);
		pa_print_json_string(f, fleet_host, strlen(fleet_host));
		fputc(',', f);
	}
	session_json_members(f, s, flags, have_verdict, cached, after);
	return table_row_end(t);
}

/* The verification the listing reflects, said below it, each line within
 * 100 columns. */
void verdict_note(const privaudit_verify_report *v, int cached, uint64_t total,
			 uint64_t verified)
{
	if (v == NULL) {
		puts("verification: none yet (run with --verified, or --key PUBFILE)");
		return;
	}
	if (v->status != PRIVAUDIT_OK) {
		/* the reason on a line of its own: the first stays short */
		printf("verification: FAILED (%s)%s\nreason:       ", status_class(v->status),
		       cached ? ", as cached in the index (--verified checks now)" : "");
		pa_print_escaped(stdout, privaudit_strerror(v->status),
				 strlen(privaudit_strerror(v->status)));
		fputs("\ndetail:       ", stdout);
		pa_print_escaped(stdout, v->detail, strlen(v->detail));
		printf("\nNOT VERIFIED: %" PRIu64 " of %" PRIu64 " session records not covered by a "
		       "verified checkpoint\n", total - verified, total);
		return;
	}
	if (cached) {
		/* the index is not authenticated: anyone who can write the log
		 * directory can forge it */
		printf("verification: NOT CHECKED now; the index says %" PRIu64 " of %" PRIu64
		       " records sealed (--verified checks)\n", verified, total);
		return;
	}
	printf("verification: log verified now; %" PRIu64 " of %" PRIu64 " session records sealed%s\n",
	       verified, total, verified < total ? " (the rest not yet)" : "");
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
		fprintf(stderr, ": NOT CHECKED now; the index says %" PRIu64 " of %" PRIu64
				" records sealed (--verified checks)\n",
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
		"       [--command GLOB] [-n N] [--json] [--verified] [--key PUBFILE]\n"
		"       [--no-verify] [--utc|--local]\n"
		"       privaudit sessions ROOT --fleet [the same filters] [--verified]\n\n"
		"One line per session, newest first: id, start, end (or open), duration,\n"
		"host, user -> target user, service, remote host, tty, commands run, and\n"
		"whether its records are sealed by a verified checkpoint (yes, no, or how\n"
		"many of them).  On a terminal the list goes through $PAGER (less -FRX).\n\n"
		"  --user U        sessions of U (who logged in, or the target user; any case)\n"
		"  --host H        sessions written on host H (any case)\n"
		"  --since/--until T  sessions active in that time: @UNIX,\n"
		"                  YYYY-MM-DD[THH:MM[:SS]][Z], now, today, yesterday, -2h, -1w,\n"
		"                  \"2 hours ago\"\n"
		"  --command GLOB  sessions that ran a command matching GLOB (fnmatch, on the\n"
		"                  argv joined by spaces, or on the executable path)\n"
		"  -n, --lines N   only the N newest sessions\n"
		"  --json          one JSON object per session (oldest first)\n"
		"  --verified      verify the whole log now (else the verdict cached in the\n"
		"                  index is shown); exit non-zero unless it verifies\n"
		"  --key PUBFILE   pin the log's first public key (implies --verified)\n"
		"  --no-verify     do not let a failed (cached) verdict set the exit status\n"
		"  --utc, --local  print times in UTC (the default) or local time, and read\n"
		"                  dates without a zone the same way\n"
		"  --fleet         ROOT is a collector's (privaudit collect --root): the\n"
		"                  sessions of every host mirror, HOST naming the mirror; with\n"
		"                  --verified each mirror is pinned to its enrolled key\n\n"
		"Exit status: 0 listed (and the log verified, or no verdict yet), 1 cannot\n"
		"read, 2 usage, 3 the log could not be read to its end, 3-8 and 11 the\n"
		"log fails verification (as 'privaudit verify').\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

struct list_opts {
	const char *user, *host, *glob, *keyfile;
	uint64_t since, until, limit;
	int json, verified, no_verify;
	int fleet;                    /* a collector's root: HOST names the mirror */
};

/* Case-insensitive, as user and host names are (ASCII only: bytes of other
 * encodings compare exactly). */
int bytes_eq_nocase(privaudit_bytes b, const char *s)
{
	size_t n = strlen(s);

	if (b.len != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = ((const unsigned char *)b.data)[i], y = (unsigned char)s[i];

		if (x != y && !(x < 0x80 && y < 0x80 && tolower(x) == tolower(y)))
			return 0;
	}
	return 1;
}

static int session_matches(privaudit_reader *r, const privaudit_session *s,
			   const struct list_opts *o, const char *fleet_host, privaudit_status *st)
{
	uint64_t end = s->open ? UINT64_MAX : s->end_ns;

	*st = PRIVAUDIT_OK;
	if (o->user != NULL && !bytes_eq_nocase(s->login_user, o->user) &&
	    !bytes_eq_nocase(s->user, o->user))
		return 0;
	if (o->host != NULL && !bytes_eq_nocase(s->host, o->host) &&
	    (fleet_host == NULL || strcasecmp(fleet_host, o->host) != 0))
		return 0;
	if (end < o->since || s->start_ns > o->until)
		return 0;
	return o->glob == NULL || ran_command(r, s, o->glob, st);
}

/* The sessions of one log (or mirror) into t, newest first, at most
 * o->limit of them; fleet_host names the mirror (NULL: one log, whose
 * verdict is printed after the table here). */
static int list_sessions(const char *dir, const struct list_opts *o, const char *fleet_host,
			 struct table *t)
{
	uint64_t total = 0, verified_total = 0, matched = 0, damage_first = 0, after;
	int code = 0, rc = 0, cached = 0, damaged;
	const privaudit_verify_report *v = NULL;
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	privaudit_status st;
	const char *damage;
	size_t n;

	const struct log_opts lo = {"sessions", dir, o->verified, o->keyfile};

	rc = log_open(&lo, &r, &code);
	if (rc != 0)
		return rc;
	st = log_sessions(r, &list, &n);
	if (st != PRIVAUDIT_OK) {
		err_reader("sessions", dir, st, r);
		privaudit_reader_free(r);
		return status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
	}
	damaged = log_damage_index(r, &damage_first);
	privaudit_reader_verdict(r, &v, &cached);
	for (size_t i = n; i-- > 0 && (o->limit == 0 || matched < o->limit);) {
		const privaudit_session *s = &list[i];
		uint32_t flags;

		if (!session_matches(r, s, o, fleet_host, &st)) {
			if (st != PRIVAUDIT_OK) {
				err_reader("sessions", dir, st, r);
				rc = status_exit(st);
				break;
			}
			continue;
		}
		matched++;
		total += s->records;
		verified_total += s->verified;
		flags = session_flags(r, s);
		/* a session with records after the damage: none of them verifiable */
		after = damaged && s->last_index >= damage_first ? damage_first : UINT64_MAX;
		if ((o->json ? session_json_row(t, s, flags, fleet_host, v != NULL, cached, after)
			     : session_row(t, s, flags, fleet_host, v != NULL, cached, after)) < 0) {
			fprintf(stderr, "privaudit sessions: out of memory\n");
			rc = EXIT_CANNOT_READ;
			break;
		}
	}
	if (fleet_host == NULL) {
		/* rows came newest first; JSON lines go in log order */
		if (o->json)
			table_print_raw(stdout, t, 1);
		else
			table_print(stdout, t);
	}
	if (!o->json && fleet_host == NULL)
		verdict_note(v, cached, total, verified_total);
	else if (!o->json)
		fleet_verdict(fleet_host, v, cached, total, verified_total);
	/* A verdict that failed is the answer, cached or not (--no-verify:
	 * the auditor reads a broken log on purpose). */
	if (code == 0 && !o->no_verify && v != NULL && v->status != PRIVAUDIT_OK) {
		code = status_exit(v->status);
		fprintf(stderr, "privaudit sessions: ");
		if (fleet_host != NULL) {
			pa_print_escaped(stderr, fleet_host, strlen(fleet_host));
			fputs(": ", stderr);
		}
		fprintf(stderr, "the log FAILED verification (%s%s); exit %d (--no-verify: 0)\n",
			status_class(v->status), cached ? ", verdict cached in the index" : "", code);
	}
	damage = privaudit_reader_damage(r);
	if (damage != NULL && !damaged) {
		/* met and not stepped over: nothing whole to go on with */
		fflush(stdout);
		fputs("privaudit sessions: ", stderr);
		pa_print_escaped(stderr, fleet_host != NULL ? fleet_host : dir,
				 strlen(fleet_host != NULL ? fleet_host : dir));
		fputs(": the log could not be read to its end (sessions after that point are not "
		      "listed): ", stderr);
		pa_print_escaped(stderr, damage, strlen(damage));
		fputc('\n', stderr);
		if (rc == 0)
			rc = EXIT_CORRUPT;
	}
	return log_close("sessions", fleet_host != NULL ? fleet_host : dir, r, rc != 0 ? rc : code);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --fleet: every mirror under a collector's root, host by host, each
 * verified (with --verified) against the key its directory was made for. */
static int list_fleet(const char *root, struct list_opts *o, struct table *t)
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
		one = list_sessions(dir, o, host, t);
		if (one != 0 && rc == 0)
			rc = one;
		free(names[i]);
	}
	free(names);
	/* one table for the fleet, newest first across the hosts */
	table_sort_desc(t);
	if (o->limit > 0)
		table_truncate(t, o->limit);
	if (o->json)
		table_print_raw(stdout, t, 1);
	else
		table_print(stdout, t);
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
		{"lines", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"no-verify", no_argument, NULL, 'N'},
		{"utc", no_argument, NULL, 'Z'},
		{"local", no_argument, NULL, 'L'},
		{"fleet", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *since = NULL, *until = NULL;
	struct list_opts o;
	struct table t;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.until = UINT64_MAX;
	while ((c = getopt_long(argc, argv, "u:H:S:U:c:n:jvK:NZLFh", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o.user = optarg; break;
		case 'H': o.host = optarg; break;
		case 'S': since = optarg; break;
		case 'U': until = optarg; break;
		case 'c': o.glob = optarg; break;
		case 'n':
			if (parse_num(optarg, &o.limit) < 0 || o.limit == 0)
				return usage_error("sessions", "-n needs a positive number, not '%s'",
						   optarg);
			break;
		case 'j': o.json = 1; break;
		case 'v': o.verified = 1; break;
		case 'K': o.keyfile = optarg; o.verified = 1; break;
		case 'N': o.no_verify = 1; break;
		case 'Z': time_zone = ZONE_UTC; break;
		case 'L': time_zone = ZONE_LOCAL; break;
		case 'F': o.fleet = 1; break;
		case 'h': return sessions_usage(stdout);
		default: return usage_error("sessions", NULL);
		}
	}
	if (check_operands("sessions", argc, argv, o.fleet ? "ROOT" : "DIR") < 0)
		return EXIT_USAGE;
	if (o.no_verify && o.verified)
		return usage_error("sessions", "--no-verify contradicts %s",
				   o.keyfile != NULL ? "--key" : "--verified");
	if (o.fleet && o.keyfile != NULL)
		return usage_error("sessions", "--key with --fleet: each mirror is pinned to its "
				   "enrolled key (--verified)");
	/* after the loop, so that --utc anywhere on the line applies */
	if (since != NULL && parse_time(since, &o.since) < 0)
		return bad_time("sessions", "--since", since);
	if (until != NULL && parse_time(until, &o.until) < 0)
		return bad_time("sessions", "--until", until);
	table_init(&t, NCOL, col_heads, 1u << COL_COMMANDS);
	pager_start();
	rc = o.fleet ? list_fleet(argv[optind], &o, &t) : list_sessions(argv[optind], &o, NULL, &t);
	table_free(&t);
	if (stdout_failed("sessions") && rc == 0)
		rc = EXIT_CANNOT_READ;
	return pager_end(rc);
}

/* ------------------------------------------------------------ replay */

struct entry {
	uint64_t time_ns, index;
	uint32_t pid;
	unsigned char open;     /* a session_open */
	unsigned char coarse;   /* timed by the kernel's coarse audit clock */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* How far before its event the kernel's audit clock may date it: audit
 * stamps come from the coarse clock (a jiffy, 10 ms at HZ=100, behind the
 * precise one) and are kept to the millisecond; with margin. */
#define COARSE_SLACK_NS (20 * 1000000ull)

/* A PAM session's open precedes what it encloses.  Its record carries the
 * precise time privauditd appended it, before the module let the service
 * go on; the audit events of the first commands inside it carry coarse
 * times, up to COARSE_SLACK_NS early, and so sort before it.  Of the coarse
 * events just before an open (within the slack), those of its own process
 * (the service's own exec and PAM events, which do come first) stay before
 * it, and so do the others older than the last of those; the rest move
 * after it, in their order: a command the session ran can carry the same
 * coarse millisecond as the service's last PAM event.  A close needs no
 * such care: coarse times are never late, so what it encloses already
 * sorts before it. */
static void opens_first(struct entry *ent, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct entry open = ent[i];
		uint64_t own_last = 0;
		size_t k = i, stay;

		if (!open.open || open.coarse)
			continue;
		while (k > 0 && ent[k - 1].coarse && ent[k - 1].time_ns + COARSE_SLACK_NS > open.time_ns)
			k--;
		for (size_t m = k; m < i; m++)
			if (ent[m].pid == open.pid && ent[m].time_ns > own_last)
				own_last = ent[m].time_ns;
		/* stable partition of ent[k..i): what stays, then what moves */
		stay = k;
		for (size_t m = k; m < i; m++) {
			struct entry e = ent[m];

			if (e.pid != open.pid && e.time_ns >= own_last)
				continue;
			memmove(&ent[stay + 1], &ent[stay], (m - stay) * sizeof(*ent));
			ent[stay++] = e;
		}
		memmove(&ent[stay + 1], &ent[stay], (i - stay) * sizeof(*ent));
		ent[stay] = open;
	}
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
uint64_t event_time_ns(const privaudit_record *rec)
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

/* Each line: event date and time with its zone, record index, the marks
 * show prints too (privaudit(1), replay): [APPENDED LATER] after the
 * session's close was sealed, [NOT VERIFIED] not sealed by a verified
 * checkpoint (with --verified), then what happened. */
static const struct io_key *replay_key;   /* --decrypt-key */

static void replay_line(const privaudit_record *rec, int verified_mode, int late)
{
	const char *kind = privaudit_record_kind(rec);
	privaudit_bytes a, b, c;
	uint64_t first;

	print_time_ns(stdout, event_time_ns(rec));
	printf(" #%-6" PRIu64, privaudit_record_index(rec));
	if (privaudit_record_after_damage(rec, &first)) {
		fputc(' ', stdout);
		print_damage_mark(stdout, first);
	} else if (late)
		fputs(" " MARK_LATER, stdout);
	else if (verified_mode && !privaudit_record_verified(rec))
		fputs(" " MARK_UNVERIFIED, stdout);
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
	} else if (strncmp(kind, "io_", 3) == 0) {
		(void)io_timeline(stdout, rec, replay_key);
	} else {
		printf("  %-8s", kind);
		print_record_fields(stdout, rec, 0);
	}
	fputc('\n', stdout);
}

/* Gap records written while the session was open. */
static void print_gaps(privaudit_reader *r, const privaudit_session *s)
{
	uint64_t lost = 0, found = 0;
	const uint64_t *gaps;
	size_t n;

	/* those whose lost events may fall within the session */
	if (privaudit_session_gaps(r, s, &gaps, &n) != PRIVAUDIT_OK) {
		puts("gaps:     unknown");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;

		if (privaudit_reader_get(r, gaps[i], &rec) != PRIVAUDIT_OK)
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
	print_who(stdout, s, session_flags(r, s));
	fputs(" via ", stdout);
	print_field(stdout, s->service);
	if (session_flags(r, s) & PRIVAUDIT_SESSION_WHO_FROM_AUDIT)
		fputs(" (from audit events)", stdout);
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
		"usage: privaudit replay DIR SESSION [--real-time] [--speed X] [--max-wait S]\n"
		"       [--verified] [--key PUBFILE] [--no-verify] [--utc|--local]\n"
		"       [--tty [--screen|--raw] [--io N]] [--decrypt-key SECRETFILE]\n\n"
		"A header (host, boot, audit session, who, from where, service, tty, start,\n"
		"end, gaps, verification) and the session's records in time order: PAM\n"
		"sessions, commands with cwd, uid->euid, argv and result, sudo commands,\n"
		"TTY input.  SESSION is an id from 'privaudit sessions', a unique prefix of\n"
		"one (4 digits or more), or a session key.  Each line: the date and time\n"
		"with its zone, #record index, a mark ([APPENDED LATER]: after the\n"
		"checkpoint that sealed the session's close; [NOT VERIFIED]: not sealed by\n"
		"a verified checkpoint, with --verified), the event.  On a terminal the\n"
		"replay goes through $PAGER (less -FRX), unless --real-time.\n\n"
		"  --real-time     on a terminal, wait between records as long as they\n"
		"                  were apart when they happened (old spelling: --follow)\n"
		"  --speed X       with --real-time: X times faster (default 1)\n"
		"  --max-wait S    with --real-time: wait at most S seconds (default 5)\n"
		"  --verified      verify the whole log and check every record shown against\n"
		"                  it; exit non-zero unless the log verifies (records not\n"
		"                  sealed yet only get a warning)\n"
		"  --key PUBFILE   pin the log's first public key (implies --verified)\n"
		"  --no-verify     do not let a failed (cached) verdict set the exit status\n"
		"  --utc, --local  times in UTC (the default) or local time\n"
		"  --tty           play what the terminal showed in the session's sudo\n"
		"                  commands (sudo_privaudit.so), through a terminal\n"
		"                  emulator: the recording's escape sequences never reach\n"
		"                  this terminal.  Keys: space pause, '.' one step while\n"
		"                  paused, '<' '>' slower and faster, q quit\n"
		"  --screen        with --tty: only the last screen, as text\n"
		"  --raw           with --tty: the recorded output bytes as they were,\n"
		"                  escape sequences and all (trust the recording first)\n"
		"  --io N          with --tty: only the session's Nth sudo command\n"
		"  --decrypt-key SECRETFILE\n"
		"                  open input sealed to the auditors (keygen-auditor)\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

/* replay --tty: the session's terminal I/O, played. */
static int replay_tty(const char *dir, privaudit_reader *r, const privaudit_session *s,
		      const uint64_t *idx, size_t n, struct pa_tty_opts *o, uint64_t which)
{
	uint64_t problems = 0;
	struct io_set *set = io_collect("replay", dir, r, idx, n, replay_key, &problems);
	size_t count;
	int rc = 0;

	if (set == NULL)
		return EXIT_CANNOT_READ;
	count = io_count(set);
	if (count == 0 || which > count) {
		fprintf(stderr, "%s replay: session %s %s (sudo_privaudit.so records it: "
				"sudo_privaudit(8))\n", progname, s->id,
			count == 0 ? "has no terminal I/O recorded" : "has fewer sudo commands with terminal I/O");
		io_set_free(set);
		return EXIT_NOT_FOUND;
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (which != 0 && i + 1 != which)
			continue;
		if (io_play(set, i, o, o->mode != PA_TTY_RAW && which == 0 && count > 1, stdout) < 0 ||
		    fflush(stdout) != 0)
			rc = EXIT_CANNOT_READ;
	}
	io_set_free(set);
	return rc;
}

int err_session(const char *verb, privaudit_reader *r, const char *name, privaudit_status st)
{
	const privaudit_session *list;
	size_t n, len = strlen(name), shown = 0;

	fprintf(stderr, "%s %s: session '", progname, verb);
	pa_print_escaped(stderr, name, len);
	if (st == PRIVAUDIT_E_NOTFOUND) {
		fprintf(stderr, "': no such session%s (see 'privaudit sessions')\n",
			len < 4 && strspn(name, "0123456789abcdefABCDEF") == len
				? " (a prefix needs 4 digits or more)" : "");
		return status_exit(st);
	}
	if (st != PRIVAUDIT_E_AMBIGUOUS || privaudit_sessions(r, &list, &n) != PRIVAUDIT_OK) {
		fprintf(stderr, "': %s\n", privaudit_strerror(st));
		return status_exit(st);
	}
	/* which ones, so that the auditor can pick */
	fputs("' matches more than one session:\n", stderr);
	for (size_t i = 0; i < n; i++) {
		const privaudit_session *s = &list[i];

		if (strncasecmp(s->id, name, len) != 0)
			continue;
		if (++shown > 20)
			continue;
		fprintf(stderr, "  %s  ", s->id);
		print_time_ns(stderr, s->start_ns);
		fputs("  ", stderr);
		print_field(stderr, s->login_user);
		fputs(" -> ", stderr);
		print_field(stderr, s->user);
		fputs("  ", stderr);
		print_field(stderr, s->host);
		fputc('\n', stderr);
	}
	if (shown > 20)
		fprintf(stderr, "  ... and %zu more\n", shown - 20);
	return status_exit(st);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{"real-time", no_argument, NULL, 'f'},
		{"follow", no_argument, NULL, 'f'},   /* the old spelling */
		{"speed", required_argument, NULL, 's'},
		{"max-wait", required_argument, NULL, 'w'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"no-verify", no_argument, NULL, 'N'},
		{"utc", no_argument, NULL, 'Z'},
		{"local", no_argument, NULL, 'L'},
		{"tty", no_argument, NULL, 'T'},
		{"screen", no_argument, NULL, 'S'},
		{"raw", no_argument, NULL, 'R'},
		{"io", required_argument, NULL, 'I'},
		{"decrypt-key", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *dir, *name, *decrypt = NULL;
	struct io_key *dkey = NULL;
	int tty = 0, tty_mode = -1;
	uint64_t which = 0;
	double speed = 1.0, max_wait = 5.0;
	int c, follow = 0, verified = 0, no_verify = 0, code = 0, rc = 0, cached = 0;
	const privaudit_verify_report *v = NULL;
	const privaudit_session *s;
	privaudit_reader *r = NULL;
	struct entry *ent = NULL;
	const uint64_t *idx;
	privaudit_status st;
	size_t n = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "fs:w:vK:NZLh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = 1; break;
		case 'T': tty = 1; break;
		case 'S':
		case 'R':
			if (tty_mode >= 0 && tty_mode != (c == 'S' ? PA_TTY_SCREEN : PA_TTY_RAW))
				return usage_error("replay", "--screen and --raw: one or the other");
			tty_mode = c == 'S' ? PA_TTY_SCREEN : PA_TTY_RAW;
			tty = 1;
			break;
		case 'I':
			if (parse_num(optarg, &which) < 0 || which == 0)
				return usage_error("replay", "--io needs a number from 1, not '%s'", optarg);
			break;
		case 'D': decrypt = optarg; break;
		case 's':
		case 'w': {
			double d = strtod(optarg, &end);

			if (*end != '\0' || end == optarg || !(d > 0) || d > 1e6)
				return usage_error("replay", "--%s needs a positive number, not '%s'",
						   c == 's' ? "speed" : "max-wait", optarg);
			if (c == 's')
				speed = d;
			else
				max_wait = d;
			break;
		}
		case 'v': verified = 1; break;
		case 'K': keyfile = optarg; verified = 1; break;
		case 'N': no_verify = 1; break;
		case 'Z': time_zone = ZONE_UTC; break;
		case 'L': time_zone = ZONE_LOCAL; break;
		case 'h': return replay_usage(stdout);
		default: return usage_error("replay", NULL);
		}
	}
	if (check_operands("replay", argc, argv, "DIR SESSION") < 0)
		return EXIT_USAGE;
	if (no_verify && verified)
		return usage_error("replay", "--no-verify contradicts %s",
				   keyfile != NULL ? "--key" : "--verified");
	if (which != 0 && !tty)
		return usage_error("replay", "--io goes with --tty");
	if (tty && follow)
		return usage_error("replay", "--real-time is for the timeline; --tty plays in real time");
	dir = argv[optind];
	name = argv[optind + 1];
	follow = follow && isatty(STDOUT_FILENO);
	if (decrypt != NULL && (dkey = io_key_load("replay", decrypt)) == NULL)
		return EXIT_USAGE;
	replay_key = dkey;
	{
		const struct log_opts lo = {"replay", dir, verified, keyfile};

		rc = log_open(&lo, &r, &code);
		if (rc != 0) {
			io_key_free(dkey);
			return rc;
		}
	}
	st = log_session_find(r, name, &s);
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_records(r, s, &idx, &n);
	if (st != PRIVAUDIT_OK && code != 0) {
		/* the log did not verify: that is the answer, whatever else */
		io_key_free(dkey);
		return log_close("replay", dir, r, code);
	}
	if (st != PRIVAUDIT_OK) {
		rc = err_session("replay", r, name, st);
		io_key_free(dkey);
		return log_close("replay", dir, r, rc);
	}
	if (tty) {
		struct pa_tty_opts o = {
			.mode = tty_mode >= 0 ? (enum pa_tty_mode)tty_mode : PA_TTY_FRAMES,
			.speed = speed,
			.max_wait = max_wait,
		};

		o.interactive = o.mode != PA_TTY_SCREEN && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
		o.color = o.mode == PA_TTY_FRAMES && isatty(STDOUT_FILENO);
		rc = replay_tty(dir, r, s, idx, n, &o, which);
		privaudit_reader_verdict(r, &v, &cached);
		goto verdict;
	}
	ent = malloc((n ? n : 1) * sizeof(*ent));
	if (ent == NULL) {
		io_key_free(dkey);
		return log_close("replay", dir, r, EXIT_CANNOT_READ);
	}
	/* Time order: writers (PAM, the audit plugin) append in their own
	 * order, and the plugin some time after the event. */
	for (size_t i = 0; i < n && st == PRIVAUDIT_OK; i++) {
		const privaudit_record *rec;

		ent[i].index = idx[i];
		st = privaudit_reader_get(r, idx[i], &rec);
		if (st != PRIVAUDIT_OK)
			break;
		ent[i].time_ns = event_time_ns(rec);
		ent[i].coarse = ent[i].time_ns != privaudit_record_time_ns(rec);
		ent[i].open = strcmp(privaudit_record_kind(rec), "session_open") == 0;
		ent[i].pid = (uint32_t)get_u(rec, "pid");
	}
	if (st != PRIVAUDIT_OK) {
		err_reader("replay", dir, st, r);
		rc = status_exit(st);
		goto out;
	}
	qsort(ent, n, sizeof(*ent), cmp_entry);
	opens_first(ent, n);
	privaudit_reader_verdict(r, &v, &cached);
	if (!follow)
		pager_start();
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
		if (!io_has_input(rec))
			continue;   /* output only: replay --tty plays it */
		if (follow && i > 0)
			pause_for(ent[i].time_ns - ent[i - 1].time_ns, speed, max_wait);
		replay_line(rec, verified, privaudit_reader_appended_later(r, rec));
	}
verdict:
	if (rc == 0 && verified && code == 0 && s->verified < s->records) {
		/* Not tampering: the writer has not sealed them yet. */
		fprintf(stderr, "privaudit replay: warning: %" PRIu64 " of the session's records are "
				"not sealed by a verified checkpoint yet\n", s->records - s->verified);
	}
	/* A verdict that failed is the answer, cached or not. */
	if (code == 0 && !verified && !no_verify && v != NULL && v->status != PRIVAUDIT_OK) {
		code = status_exit(v->status);
		fprintf(stderr, "privaudit replay: the log FAILED verification (%s%s); exit %d "
				"(--no-verify: 0)\n",
			status_class(v->status), cached ? ", verdict cached in the index" : "", code);
	}
out:
	free(ent);
	io_key_free(dkey);
	if (stdout_failed("replay") && rc == 0)
		rc = EXIT_CANNOT_READ;
	if (!tty)
		rc = pager_end(rc);
	return log_close("replay", dir, r, rc != 0 ? rc : code);
}
