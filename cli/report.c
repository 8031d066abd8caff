/* SPDX-License-Identifier: ISC */
/* report.c: privaudit report, a summary of the log as aureport(8) gives of
 * the audit log: sessions per user, target, host and day, top commands,
 * failed attempts and gaps, counted in one pass over the records. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "escape.h"
#include "records.h"
#include "table.h"
#include "tally.h"

/* The PAM module's auth_attempt result when the outcome was not known
 * where its line sits in the stack (pam_privaudit(8)): not a failure. */
#define RESULT_UNKNOWN UINT64_MAX

struct report_opts {
	const char *user, *host, *keyfile;
	uint64_t since, until, top;
	int json, verified, no_verify;
	int have_since, have_until;
};

/* A session the filters selected: its id, to know its records, and the
 * rows of the per-session tables it is counted in. */
struct sel {
	char id[16];
	struct tally_entry *pair, *target, *host;
};

struct report {
	const struct report_opts *o;
	/* sessions: count = sessions, extra[0] = commands in the period */
	struct tally *pairs, *targets, *hosts, *days;
	/* programs: count = command records, extra[0] = of them failed */
	struct tally *programs;
	struct tally *failed_auth, *failed_cmds;
	/* gaps: count = gap records, extra[0] = events lost */
	struct tally *gaps;
	struct sel *sel;
	size_t nsel;
	uint64_t open_sessions, commands, failed_commands;
	uint64_t auth_attempts, auth_ok, auth_failed, auth_unknown;
	uint64_t gap_records, events_lost, records_read;
	/* records read after damage the reader stepped over, and the first
	 * record that damage lost */
	uint64_t after_damage, damage_first;
	uint64_t first_ns, last_ns;       /* of what was counted; first_ns > last_ns: nothing */
	uint64_t session_records, sealed_records;
	int nomem;
	int complete;                     /* every record was read */
};

/* -------------------------------------------------------------- counting */

static void seen_at(struct report *rp, uint64_t t)
{
	if (t < rp->first_ns)
		rp->first_ns = t;
	if (t > rp->last_ns)
		rp->last_ns = t;
}

static privaudit_bytes field_bytes(const privaudit_record *rec, const char *name)
{
	privaudit_bytes b = {"", 0};

	if (privaudit_record_get_bytes(rec, name, &b.data, &b.len) != PRIVAUDIT_OK) {
		b.data = "";
		b.len = 0;
	}
	return b;
}

static uint64_t field_uint(const privaudit_record *rec, const char *name, uint64_t dflt)
{
	uint64_t v;

	return privaudit_record_get_uint(rec, name, &v) == PRIVAUDIT_OK ? v : dflt;
}

/* The entry, or NULL with rp->nomem set. */
static struct tally_entry *get1(struct report *rp, struct tally *t, privaudit_bytes a)
{
	struct tally_entry *e = tally_get(t, &a, 1);

	if (e == NULL)
		rp->nomem = 1;
	return e;
}

static struct tally_entry *get2(struct report *rp, struct tally *t, privaudit_bytes a,
				privaudit_bytes b)
{
	privaudit_bytes parts[2] = {a, b};
	struct tally_entry *e = tally_get(t, parts, 2);

	if (e == NULL)
		rp->nomem = 1;
	return e;
}

/* The day of ns in the zone times are printed in (--utc, --local). */
static struct tally_entry *day_of(struct report *rp, uint64_t ns)
{
	time_t tt = (time_t)(ns / 1000000000u);
	char buf[32];
	privaudit_bytes b = {buf, 0};
	struct tm tm;

	if ((time_zone == ZONE_LOCAL ? localtime_r(&tt, &tm) : gmtime_r(&tt, &tm)) == NULL ||
	    (b.len = strftime(buf, sizeof(buf), "%Y-%m-%d", &tm)) == 0) {
		b.data = "unknown";
		b.len = 7;
	}
	return get1(rp, rp->days, b);
}

static int user_matches(const struct report_opts *o, privaudit_bytes a, privaudit_bytes b)
{
	return o->user == NULL || bytes_eq_nocase(a, o->user) || bytes_eq_nocase(b, o->user);
}

static int host_matches(const struct report_opts *o, privaudit_bytes h)
{
	return o->host == NULL || bytes_eq_nocase(h, o->host);
}

static int in_period(const struct report_opts *o, uint64_t t)
{
	return t >= o->since && t <= o->until;
}

static int cmp_sel(const void *a, const void *b)
{
	return strcmp(((const struct sel *)a)->id, ((const struct sel *)b)->id);
}

/* The sessions the filters select, as 'privaudit sessions' selects them:
 * by who logged in or the target user, by host, active in the period. */
static int select_sessions(struct report *rp, const privaudit_session *list, size_t n)
{
	const struct report_opts *o = rp->o;

	rp->sel = calloc(n ? n : 1, sizeof(*rp->sel));
	if (rp->sel == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const privaudit_session *s = &list[i];
		uint64_t end = s->open ? UINT64_MAX : s->end_ns;
		struct sel *x = &rp->sel[rp->nsel];
		struct tally_entry *day;

		if (!user_matches(o, s->login_user, s->user) || !host_matches(o, s->host) ||
		    end < o->since || s->start_ns > o->until)
			continue;
		memcpy(x->id, s->id, sizeof(x->id));
		x->pair = get2(rp, rp->pairs, s->login_user, s->user);
		x->target = get1(rp, rp->targets, s->user);
		x->host = get1(rp, rp->hosts, s->host);
		day = day_of(rp, s->start_ns);
		if (rp->nomem)
			return -1;
		x->pair->count++;
		x->target->count++;
		x->host->count++;
		day->count++;
		rp->open_sessions += s->open != 0;
		rp->session_records += s->records;
		rp->sealed_records += s->verified;
		/* what of it lies in the period */
		seen_at(rp, s->start_ns > o->since ? s->start_ns : o->since);
		if (!s->open)
			seen_at(rp, end < o->until ? end : o->until);
		rp->nsel++;
	}
	if (rp->nsel > 1)
		qsort(rp->sel, rp->nsel, sizeof(*rp->sel), cmp_sel);
	return 0;
}

/* What a command ran: the executable, else argv[0] (as aureport -x). */
static privaudit_bytes program_of(const privaudit_record *rec)
{
	privaudit_bytes b = field_bytes(rec, "exe");

	return b.len > 0 ? b : field_bytes(rec, "argv");
}

static void count_command(struct report *rp, const privaudit_record *rec, uint64_t t)
{
	struct sel key, *s;
	struct tally_entry *prog, *day;
	privaudit_bytes program;
	int failed;

	if (privaudit_record_session_id(rec, key.id) != PRIVAUDIT_OK)
		return;   /* in no session: no user to count it for */
	s = bsearch(&key, rp->sel, rp->nsel, sizeof(*rp->sel), cmp_sel);
	if (s == NULL || !in_period(rp->o, t))
		return;
	failed = field_uint(rec, "success", 0) == 0;
	program = program_of(rec);
	prog = get1(rp, rp->programs, program);
	day = day_of(rp, t);
	if (rp->nomem)
		return;
	rp->commands++;
	prog->count++;
	s->pair->extra[0]++;
	s->target->extra[0]++;
	s->host->extra[0]++;
	day->extra[0]++;
	seen_at(rp, t);
	if (failed) {
		struct tally_entry *f = get2(rp, rp->failed_cmds, tally_part(s->pair, 0), program);

		if (f == NULL)
			return;
		rp->failed_commands++;
		prog->extra[0]++;
		f->count++;
	}
}

/* auth_attempt records carry no session key: they are taken by their own
 * user (or requesting user), host and time. */
static void count_auth(struct report *rp, const privaudit_record *rec, uint64_t t)
{
	privaudit_bytes user = field_bytes(rec, "user");
	uint64_t result = field_uint(rec, "result", 0);
	struct tally_entry *f;

	if (!in_period(rp->o, t) || !host_matches(rp->o, field_bytes(rec, "host")) ||
	    !user_matches(rp->o, user, field_bytes(rec, "ruser")))
		return;
	rp->auth_attempts++;
	seen_at(rp, t);
	if (field_uint(rec, "success", 0) != 0) {
		rp->auth_ok++;
		return;
	}
	if (result == RESULT_UNKNOWN) {
		rp->auth_unknown++;
		return;
	}
	f = get2(rp, rp->failed_auth, user, field_bytes(rec, "service"));
	if (f == NULL)
		return;
	rp->auth_failed++;
	f->count++;
}

/* A gap's count is whatever its writer put there: two huge ones must not
 * add up to a small number. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Gaps are a writer's, not a user's: --user does not narrow them. */
static void count_gap(struct report *rp, const privaudit_record *rec, uint64_t t)
{
	uint64_t lost = field_uint(rec, "count", 0);
	struct tally_entry *g;

	if (!in_period(rp->o, t) || !host_matches(rp->o, field_bytes(rec, "host")))
		return;
	g = get1(rp, rp->gaps, field_bytes(rec, "reason"));
	if (g == NULL)
		return;
	g->count++;
	g->extra[0] = add_sat(g->extra[0], lost);
	rp->gap_records++;
	rp->events_lost = add_sat(rp->events_lost, lost);
	seen_at(rp, t);
}

static void count_record(struct report *rp, const privaudit_record *rec)
{
	const char *kind = privaudit_record_kind(rec);

	if (strcmp(kind, "command") == 0)
		count_command(rp, rec, event_time_ns(rec));
	else if (strcmp(kind, "auth_attempt") == 0)
		count_auth(rp, rec, event_time_ns(rec));
	else if (strcmp(kind, "gap") == 0)
		count_gap(rp, rec, event_time_ns(rec));
}

/* Every record once, in log order. */
static privaudit_status read_all(struct report *rp, privaudit_reader *r)
{
	const privaudit_record *rec;
	struct progress prog;
	privaudit_status st;
	uint64_t total = 0;

	if (privaudit_reader_count(r, &total) != PRIVAUDIT_OK)
		total = 0;
	progress_init(&prog, "counting");
	st = privaudit_reader_seek(r, 0);
	while (st == PRIVAUDIT_OK && !rp->nomem &&
	       (st = privaudit_reader_next(r, &rec)) == PRIVAUDIT_OK) {
		count_record(rp, rec);
		if (privaudit_record_after_damage(rec, &rp->damage_first))
			rp->after_damage++;
		if ((++rp->records_read & 0xfff) == 0)
			show_progress(&prog, privaudit_record_index(rec), total);
	}
	progress_done(&prog);
	if (rp->nomem)
		return PRIVAUDIT_E_NOMEM;
	if (st == PRIVAUDIT_E_END)
		st = PRIVAUDIT_OK;
	rp->complete = st == PRIVAUDIT_OK;
	return st;
}

/* -------------------------------------------------------------- text */

static void print_text(FILE *f, privaudit_bytes b)
{
	if (b.len == 0)
		fputc('-', f);
	else
		pa_print_escaped(f, b.data, b.len);
}

/* How many rows a ranked list shows: --top, 0 for all. */
static size_t shown(const struct report *rp, const struct tally *t)
{
	size_t n = tally_size(t);

	return rp->o->top > 0 && rp->o->top < n ? (size_t)rp->o->top : n;
}

/* One section: its title, then a table of counts and names, or "(none)". */
struct section {
	const char *title;
	struct tally *t;
	int by_key;                /* listed by key (days), else by count */
	int ranked;                /* --top applies */
	int nnum;                  /* count columns: 1 (count) to 3 (count, extra[0], extra[1]) */
	int nparts;                /* name columns */
	const char *const *heads;  /* nnum counts, then nparts names */
	const char *sep;           /* between two names in one column (NULL: columns) */
};

static int print_section(const struct report *rp, const struct section *sc)
{
	size_t n = tally_size(sc->t), show = sc->ranked ? shown(rp, sc->t) : n;
	int ncol = sc->nnum + (sc->sep != NULL ? 1 : sc->nparts);
	struct tally_entry **v;
	struct table tab;
	int rc = 0;

	printf("\n%s\n", sc->title);
	if (n == 0) {
		puts("  (none)");
		return 0;
	}
	v = tally_sorted(sc->t, sc->by_key);
	if (v == NULL)
		return -1;
	table_init(&tab, (size_t)ncol, sc->heads, (1u << sc->nnum) - 1);
	for (size_t i = 0; i < show && rc == 0; i++) {
		FILE *f = table_row(&tab, 0);

		if (f == NULL) {
			rc = -1;
			break;
		}
		fprintf(f, "%" PRIu64, v[i]->count);
		table_cell(&tab);
		for (int k = 1; k < sc->nnum; k++) {
			fprintf(f, "%" PRIu64, v[i]->extra[k - 1]);
			table_cell(&tab);
		}
		for (int p = 0; p < sc->nparts; p++) {
			if (p > 0 && sc->sep != NULL)
				fputs(sc->sep, f);
			print_text(f, tally_part(v[i], (size_t)p));
			if (sc->sep == NULL || p + 1 == sc->nparts)
				table_cell(&tab);
		}
		rc = table_row_end(&tab);
	}
	if (rc == 0)
		table_print(stdout, &tab);
	if (rc == 0 && show < n)
		printf("  ... and %zu more (--top 0 lists all)\n", n - show);
	table_free(&tab);
	free(v);
	return rc;
}

static void print_period(const struct report_opts *o)
{
	fputs("period:       ", stdout);
	if (!o->have_since && !o->have_until) {
		puts("the whole log");
		return;
	}
	if (o->have_since)
		print_time_ns(stdout, o->since);
	else
		fputs("the start", stdout);
	fputs(" .. ", stdout);
	if (o->have_until)
		print_time_ns(stdout, o->until);
	else
		fputs("the end", stdout);
	putchar('\n');
}

static const char *const heads_session[] = {"SESSIONS", "COMMANDS", "USER -> TARGET"};
static const char *const heads_target[] = {"SESSIONS", "COMMANDS", "TARGET"};
static const char *const heads_host[] = {"SESSIONS", "COMMANDS", "HOST"};
static const char *const heads_day[] = {"SESSIONS", "COMMANDS", "DAY"};
static const char *const heads_program[] = {"RUNS", "FAILED", "PROGRAM"};
static const char *const heads_fauth[] = {"FAILED", "USER", "SERVICE"};
static const char *const heads_fcmd[] = {"FAILED", "USER", "PROGRAM"};
static const char *const heads_gap[] = {"RECORDS", "LOST", "REASON"};

static int report_text(const struct report *rp, const char *dir, const privaudit_verify_report *v,
		       int cached)
{
	const struct report_opts *o = rp->o;
	struct section sc[] = {
		{"Sessions per user (who logged in -> target user)", rp->pairs, 0, 0, 2, 2,
		 heads_session, " -> "},
		{"Sessions per target user", rp->targets, 0, 0, 2, 1, heads_target, NULL},
		{"Sessions per host", rp->hosts, 0, 0, 2, 1, heads_host, NULL},
		{NULL, rp->days, 1, 0, 2, 1, heads_day, NULL},
		{NULL, rp->programs, 0, 1, 2, 1, heads_program, NULL},
		{"Failed authentication, by user and service", rp->failed_auth, 0, 1, 1, 2,
		 heads_fauth, NULL},
		{"Failed commands, by user and program", rp->failed_cmds, 0, 1, 1, 2, heads_fcmd,
		 NULL},
		{"Gaps, by reason (events the writers know they lost)", rp->gaps, 0, 0, 2, 1,
		 heads_gap, NULL},
	};
	char days[64], progs[128];

	fputs("log:          ", stdout);
	pa_print_escaped(stdout, dir, strlen(dir));
	putchar('\n');
	print_period(o);
	if (o->user != NULL || o->host != NULL) {
		fputs("filters:     ", stdout);
		if (o->user != NULL) {
			fputs(" user ", stdout);
			pa_print_escaped(stdout, o->user, strlen(o->user));
		}
		if (o->host != NULL) {
			fputs(" host ", stdout);
			pa_print_escaped(stdout, o->host, strlen(o->host));
		}
		putchar('\n');
	}
	fputs("covered:      ", stdout);
	if (rp->first_ns > rp->last_ns) {
		puts("nothing matched");
	} else {
		print_time_ns(stdout, rp->first_ns);
		fputs(" .. ", stdout);
		print_time_ns(stdout, rp->last_ns);
		putchar('\n');
	}
	printf("sessions:     %zu (%" PRIu64 " open)\n", rp->nsel, rp->open_sessions);
	printf("commands:     %" PRIu64 " (%" PRIu64 " failed)\n", rp->commands, rp->failed_commands);
	printf("auth:         %" PRIu64 " attempts: %" PRIu64 " succeeded, %" PRIu64 " failed, %" PRIu64
	       " outcome not recorded\n",
	       rp->auth_attempts, rp->auth_ok, rp->auth_failed, rp->auth_unknown);
	printf("gaps:         %" PRIu64 " gap records, %" PRIu64 " events lost\n", rp->gap_records,
	       rp->events_lost);
	printf("records:      %" PRIu64 " read%s\n", rp->records_read,
	       rp->complete ? "" : "; INCOMPLETE: reading stopped early (see stderr)");
	if (rp->after_damage > 0)
		printf("damage:       %" PRIu64 " of them read after damage at record %" PRIu64
		       ", not verifiable (see stderr)\n", rp->after_damage, rp->damage_first);
	verdict_note(v, cached, rp->session_records, rp->sealed_records);
	snprintf(days, sizeof(days), "Sessions and commands per day (%s)",
		 time_zone == ZONE_LOCAL ? "local time" : "UTC");
	sc[3].title = days;
	snprintf(progs, sizeof(progs), "Top commands, by program (%zu of %zu)",
		 shown(rp, rp->programs), tally_size(rp->programs));
	sc[4].title = progs;
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++)
		if (print_section(rp, &sc[i]) < 0)
			return -1;
	return 0;
}

/* -------------------------------------------------------------- JSON */

static void json_time(FILE *f, const char *name, int have, uint64_t ns)
{
	fprintf(f, ",\"%s\":", name);
	if (!have) {
		fprintf(f, "null,\"%s_ns\":null", name);
		return;
	}
	fputc('"', f);
	print_time_ns(f, ns);
	fprintf(f, "\",\"%s_ns\":%" PRIu64, name, ns);
}

/* "name":{"distinct":N,"shown":M,"list":[{counts, names}...]} */
static int json_list(FILE *f, const struct report *rp, const char *name, struct tally *t,
		     int by_key, int ranked, const char *const *counts, int nnum,
		     const char *const *names, int nparts)
{
	size_t n = tally_size(t), show = ranked ? shown(rp, t) : n;
	struct tally_entry **v = n > 0 ? tally_sorted(t, by_key) : NULL;

	if (n > 0 && v == NULL)
		return -1;
	fprintf(f, ",\"%s\":{\"distinct\":%zu,\"shown\":%zu,\"list\":[", name, n, show);
	for (size_t i = 0; i < show; i++) {
		fprintf(f, "%s{\"%s\":%" PRIu64, i > 0 ? "," : "", counts[0], v[i]->count);
		for (int k = 1; k < nnum; k++)
			fprintf(f, ",\"%s\":%" PRIu64, counts[k], v[i]->extra[k - 1]);
		for (int p = 0; p < nparts; p++) {
			privaudit_bytes b = tally_part(v[i], (size_t)p);

			json_text_field(f, names[p], b.data, b.len);
		}
		fputc('}', f);
	}
	fputs("]}", f);
	free(v);
	return 0;
}

static void json_verification(FILE *f, const struct report *rp, const privaudit_verify_report *v,
			      int cached)
{
	fputs(",\"verification\":{\"status\":", f);
	if (v == NULL)
		fputs("\"none\"", f);
	else if (v->status != PRIVAUDIT_OK)
		fputs("\"failed\"", f);
	else if (cached)
		fputs("\"cached\"", f);
	else
		fputs("\"verified\"", f);
	fprintf(f, ",\"cached\":%s", v != NULL && cached ? "true" : "false");
	if (v != NULL && v->status != PRIVAUDIT_OK) {
		fprintf(f, ",\"failure\":\"%s\"", status_class(v->status));
		json_text_field(f, "reason", privaudit_strerror(v->status),
				strlen(privaudit_strerror(v->status)));
		json_text_field(f, "detail", v->detail, strlen(v->detail));
	}
	fprintf(f, ",\"session_records\":%" PRIu64 ",\"sealed_records\":%" PRIu64 "}",
		rp->session_records, rp->sealed_records);
}

static int report_json(const struct report *rp, const char *dir, const privaudit_verify_report *v,
		       int cached, const char *damage)
{
	static const char *const c_sess[] = {"sessions", "commands"};
	static const char *const c_prog[] = {"runs", "failed"};
	static const char *const c_fail[] = {"failed"};
	static const char *const c_gap[] = {"records", "events_lost"};
	static const char *const n_pair[] = {"user", "target"};
	static const char *const n_target[] = {"target"};
	static const char *const n_host[] = {"host"};
	static const char *const n_day[] = {"day"};
	static const char *const n_prog[] = {"program"};
	static const char *const n_fauth[] = {"user", "service"};
	static const char *const n_fcmd[] = {"user", "program"};
	static const char *const n_gap[] = {"reason"};
	const struct report_opts *o = rp->o;
	FILE *f = stdout;
	int have = rp->first_ns <= rp->last_ns;

	fputs("{\"report\":1", f);
	json_text_field(f, "log", dir, strlen(dir));
	fputs(",\"period\":{\"whole_log\":", f);
	fputs(!o->have_since && !o->have_until ? "true" : "false", f);
	json_time(f, "since", o->have_since, o->since);
	json_time(f, "until", o->have_until, o->until);
	fputs("},\"filters\":{\"user\":", f);
	if (o->user != NULL)
		pa_print_json_string(f, o->user, strlen(o->user));
	else
		fputs("null", f);
	fputs(",\"host\":", f);
	if (o->host != NULL)
		pa_print_json_string(f, o->host, strlen(o->host));
	else
		fputs("null", f);
	fprintf(f, "},\"covered\":{\"any\":%s", have ? "true" : "false");
	json_time(f, "first", have, rp->first_ns);
	json_time(f, "last", have, rp->last_ns);
	fprintf(f, "},\"totals\":{\"sessions\":%zu,\"open_sessions\":%" PRIu64
		",\"commands\":%" PRIu64 ",\"failed_commands\":%" PRIu64
		",\"auth_attempts\":%" PRIu64 ",\"auth_succeeded\":%" PRIu64
		",\"auth_failed\":%" PRIu64 ",\"auth_unknown\":%" PRIu64
		",\"gap_records\":%" PRIu64 ",\"events_lost\":%" PRIu64
		",\"records_read\":%" PRIu64 "}",
		rp->nsel, rp->open_sessions, rp->commands, rp->failed_commands, rp->auth_attempts,
		rp->auth_ok, rp->auth_failed, rp->auth_unknown, rp->gap_records, rp->events_lost,
		rp->records_read);
	fprintf(f, ",\"complete\":%s", rp->complete ? "true" : "false");
	if (rp->after_damage > 0)
		fprintf(f, ",\"after_damage\":{\"first_index\":%" PRIu64 ",\"records\":%" PRIu64 "}",
			rp->damage_first, rp->after_damage);
	else
		fputs(",\"after_damage\":null", f);
	fputs(",\"damage\":", f);
	if (damage != NULL)
		pa_print_json_string(f, damage, strlen(damage));
	else
		fputs("null", f);
	json_verification(f, rp, v, cached);
	fprintf(f, ",\"zone\":\"%s\",\"top\":%" PRIu64, time_zone == ZONE_LOCAL ? "local" : "UTC",
		o->top);
	if (json_list(f, rp, "per_user", rp->pairs, 0, 0, c_sess, 2, n_pair, 2) < 0 ||
	    json_list(f, rp, "per_target", rp->targets, 0, 0, c_sess, 2, n_target, 1) < 0 ||
	    json_list(f, rp, "per_host", rp->hosts, 0, 0, c_sess, 2, n_host, 1) < 0 ||
	    json_list(f, rp, "per_day", rp->days, 1, 0, c_sess, 2, n_day, 1) < 0 ||
	    json_list(f, rp, "top_commands", rp->programs, 0, 1, c_prog, 2, n_prog, 1) < 0 ||
	    json_list(f, rp, "failed_auth", rp->failed_auth, 0, 1, c_fail, 1, n_fauth, 2) < 0 ||
	    json_list(f, rp, "failed_commands", rp->failed_cmds, 0, 1, c_fail, 1, n_fcmd, 2) < 0 ||
	    json_list(f, rp, "gaps", rp->gaps, 0, 0, c_gap, 2, n_gap, 1) < 0)
		return -1;
	fputs("}\n", f);
	return 0;
}

/* -------------------------------------------------------------- the verb */

static int report_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit report DIR [--since T] [--until T] [--user U] [--host H]\n"
		"       [--top N] [--json] [--verified] [--key PUBFILE] [--no-verify]\n"
		"       [--utc|--local]\n\n"
		"A summary of the log, as aureport gives of the audit log: sessions per user\n"
		"(who logged in -> target user), per target user, per host and per day, the\n"
		"commands run in them by program, failed authentication by user and service,\n"
		"failed commands by user and program, and gaps (events the writers know they\n"
		"lost) by reason.  Sessions are selected as 'privaudit sessions' selects\n"
		"them; their commands, authentication attempts and gaps are counted when they\n"
		"happened in the period.  Strings from the log are escaped.  On a terminal the\n"
		"report goes through $PAGER (less -FRX).\n\n"
		"  --since/--until T  the period: @UNIX, YYYY-MM-DD[THH:MM[:SS]][Z], now,\n"
		"                  today, yesterday, -2h, -1w, \"2 hours ago\"\n"
		"  --user U        sessions of U (who logged in, or the target user), and\n"
		"                  authentication attempts for or by U (any case)\n"
		"  --host H        what was written on host H (any case)\n"
		"  --top N         the N first of the ranked lists (default 10; 0: all)\n"
		"  --json          one JSON object with the same counts\n"
		"  --verified      verify the whole log now (else the verdict cached in the\n"
		"                  index is shown); exit non-zero unless it verifies\n"
		"  --key PUBFILE   pin the log's first public key (implies --verified)\n"
		"  --no-verify     do not let a failed (cached) verdict set the exit status\n"
		"  --utc, --local  times and days in UTC (the default) or local time, and\n"
		"                  dates without a zone read the same way\n\n"
		"Exit status: as 'privaudit sessions': 0 reported (and the log verified, or\n"
		"no verdict yet), 1 cannot read, 2 usage, 3 the log could not be read to\n"
		"its end, 3-8 and 11 the log fails verification.\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

static void report_free(struct report *rp)
{
	tally_free(rp->pairs);
	tally_free(rp->targets);
	tally_free(rp->hosts);
	tally_free(rp->days);
	tally_free(rp->programs);
	tally_free(rp->failed_auth);
	tally_free(rp->failed_cmds);
	tally_free(rp->gaps);
	free(rp->sel);
}

static int report_init(struct report *rp, const struct report_opts *o)
{
	memset(rp, 0, sizeof(*rp));
	rp->o = o;
	rp->first_ns = UINT64_MAX;
	rp->pairs = tally_new();
	rp->targets = tally_new();
	rp->hosts = tally_new();
	rp->days = tally_new();
	rp->programs = tally_new();
	rp->failed_auth = tally_new();
	rp->failed_cmds = tally_new();
	rp->gaps = tally_new();
	return rp->pairs && rp->targets && rp->hosts && rp->days && rp->programs &&
	       rp->failed_auth && rp->failed_cmds && rp->gaps ? 0 : -1;
}

static int run_report(const char *dir, const struct report_opts *o)
{
	int code = 0, rc = 0, cached = 0;
	const privaudit_verify_report *v = NULL;
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	struct report rp;
	privaudit_status st;
	const char *damage;
	size_t n;

	const struct log_opts lo = {"report", dir, o->verified, o->keyfile};

	rc = log_open(&lo, &r, &code);
	if (rc != 0)
		return rc;
	st = log_sessions(r, &list, &n);
	if (st != PRIVAUDIT_OK) {
		err_reader("report", dir, st, r);
		return log_close("report", dir, r,
				 status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st));
	}
	privaudit_reader_verdict(r, &v, &cached);
	if (report_init(&rp, o) < 0 || select_sessions(&rp, list, n) < 0) {
		fprintf(stderr, "%s report: out of memory\n", progname);
		rc = EXIT_CANNOT_READ;
		goto out;
	}
	/* list is the reader's, and reading moves the reader: not used after */
	st = read_all(&rp, r);
	if (st == PRIVAUDIT_E_NOMEM) {
		fprintf(stderr, "%s report: out of memory\n", progname);
		rc = EXIT_CANNOT_READ;
		goto out;
	}
	if (st != PRIVAUDIT_OK) {
		/* counted so far is still worth showing, marked incomplete */
		err_reader("report", dir, st, r);
		rc = status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
	}
	damage = privaudit_reader_damage(r);
	if ((o->json ? report_json(&rp, dir, v, cached, damage)
		     : report_text(&rp, dir, v, cached)) < 0) {
		fprintf(stderr, "%s report: out of memory\n", progname);
		rc = EXIT_CANNOT_READ;
		goto out;
	}
	/* A verdict that failed is the answer, cached or not (--no-verify:
	 * the auditor reads a broken log on purpose). */
	if (code == 0 && !o->no_verify && v != NULL && v->status != PRIVAUDIT_OK) {
		code = status_exit(v->status);
		fprintf(stderr, "%s report: the log FAILED verification (%s%s); exit %d "
				"(--no-verify: 0)\n",
			progname, status_class(v->status), cached ? ", verdict cached in the index" : "",
			code);
	}
	if (damage != NULL && privaudit_reader_damaged(r, NULL) == 0) {
		/* met and not stepped over: nothing whole to go on with */
		fflush(stdout);
		fprintf(stderr, "%s report: ", progname);
		pa_print_escaped(stderr, dir, strlen(dir));
		fputs(": the log could not be read to its end (what follows that point is not "
		      "counted): ", stderr);
		pa_print_escaped(stderr, damage, strlen(damage));
		fputc('\n', stderr);
		if (rc == 0)
			rc = EXIT_CORRUPT;
	}
out:
	report_free(&rp);
	return log_close("report", dir, r, rc != 0 ? rc : code);
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"user", required_argument, NULL, 'u'},
		{"host", required_argument, NULL, 'H'},
		{"top", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"verified", no_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'K'},
		{"no-verify", no_argument, NULL, 'N'},
		{"utc", no_argument, NULL, 'Z'},
		{"local", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *since = NULL, *until = NULL;
	struct report_opts o;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.until = UINT64_MAX;
	o.top = 10;
	while ((c = getopt_long(argc, argv, "S:U:u:H:t:jvK:NZLh", opts, NULL)) != -1) {
		switch (c) {
		case 'S': since = optarg; break;
		case 'U': until = optarg; break;
		case 'u': o.user = optarg; break;
		case 'H': o.host = optarg; break;
		case 't':
			if (parse_num(optarg, &o.top) < 0)
				return usage_error("report", "--top needs a number (0: all), not '%s'",
						   optarg);
			break;
		case 'j': o.json = 1; break;
		case 'v': o.verified = 1; break;
		case 'K': o.keyfile = optarg; o.verified = 1; break;
		case 'N': o.no_verify = 1; break;
		case 'Z': time_zone = ZONE_UTC; break;
		case 'L': time_zone = ZONE_LOCAL; break;
		case 'h': return report_usage(stdout);
		default: return usage_error("report", NULL);
		}
	}
	if (check_operands("report", argc, argv, "DIR") < 0)
		return EXIT_USAGE;
	if (o.no_verify && o.verified)
		return usage_error("report", "--no-verify contradicts %s",
				   o.keyfile != NULL ? "--key" : "--verified");
	/* after the loop, so that --utc anywhere on the line applies */
	if (since != NULL && parse_time(since, &o.since) < 0)
		return bad_time("report", "--since", since);
	if (until != NULL && parse_time(until, &o.until) < 0)
		return bad_time("report", "--until", until);
	o.have_since = since != NULL;
	o.have_until = until != NULL;
	if (!o.json)
		pager_start();
	rc = run_report(argv[optind], &o);
	if (stdout_failed("report") && rc == 0)
		rc = EXIT_CANNOT_READ;
	return o.json ? rc : pager_end(rc);
}
