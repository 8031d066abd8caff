/* SPDX-License-Identifier: ISC */
/* cli.h: what the privaudit verbs share. */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "privaudit.h"

/* Exit statuses, documented in privaudit(1). */
enum {
	EXIT_VERIFIED = 0,
	EXIT_CANNOT_READ = 1,
	EXIT_USAGE = 2,
	EXIT_CORRUPT = 3,
	EXIT_TAMPERED = 4,
	EXIT_SIGNATURE = 5,
	EXIT_TRUNCATED = 6,
	EXIT_NOT_EXTENDED = 7,
	EXIT_STALE = 8,
	EXIT_NOT_FOUND = 9,
	EXIT_WITNESS = 10,      /* no valid cosignature by a required witness */
	EXIT_BACKDATED = 11,    /* records dated before a checkpoint signed before them */
	EXIT_DAMAGED = 12,      /* read past damage: what follows it is shown, not verifiable */
};

extern const char *progname;

int status_exit(privaudit_status st);
const char *status_class(privaudit_status st);
/* A non-negative decimal number. */
int parse_num(const char *s, uint64_t *out);
/* Which clock text output and dates without a zone use: the default prints
 * UTC and reads dates as local time; --utc makes both UTC, --local both
 * local time (printed with its offset). */
enum time_zone { ZONE_DEFAULT, ZONE_UTC, ZONE_LOCAL };
extern enum time_zone time_zone;
/* A time on the command line, as nanoseconds since the epoch: @SECONDS,
 * YYYY-MM-DD[THH:MM[:SS]][Z], "now", "today", "yesterday" (midnight),
 * -N[smhdw] or "N minutes|hours|days|weeks ago" (that long ago). */
int parse_time(const char *s, uint64_t *out_ns);
/* "VERB: bad time for OPT 'ARG'" and the forms parse_time takes, on stderr;
 * returns EXIT_USAGE. */
int bad_time(const char *verb, const char *opt, const char *arg);
/* "privaudit VERB: WHAT" (when fmt is not NULL) and a pointer to --help, on
 * stderr, instead of the whole usage; returns EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt: exactly the operands named in names ("DIR SESSION"), or a
 * usage_error naming the first missing or the first extra one (-1). */
int check_operands(const char *verb, int argc, char **argv, const char *names);
/* Why DIR could not be opened as a log (st from the library), naming the
 * system's reason when there is one ("No such file or directory",
 * "Permission denied"), on stderr; returns the exit status. */
int err_open(const char *verb, const char *dir, privaudit_status st);
/* 1 when standard output could not be written (a full disk, /dev/full, a
 * closed pipe), said once on stderr; 0 when all of it went out. */
int stdout_failed(const char *verb);
/* Page standard output through $PAGER (else less -FRX) when it is a
 * terminal; pager_end waits for the pager and returns rc. */
void pager_start(void);
int pager_end(int rc);
/* Both ids when a --key is not the log's first key: the log's own first
 * key (from its genesis record) and the one in keyfile, on stderr. */
void explain_key_mismatch(const char *verb, const char *dir, const char *keyfile);
/* "NAME (key id ID)" from a verifier key line "NAME+ID+KEY". */
void print_key_id(FILE *f, const char *vkey);

/* A progress bar on stderr, only when it is a terminal and after a second. */
struct progress {
	time_t start;
	int shown;
	int enabled;
	const char *label;
};
void progress_init(struct progress *p, const char *label);
void show_progress(void *arg, uint64_t done, uint64_t total);
void progress_done(struct progress *p);

/* A whole file ("-": standard input) of at most max bytes, NUL-terminated,
 * malloc'd; NULL with errno set (EFBIG when larger). */
char *read_file(const char *path, size_t max, size_t *len);
/* The same, at most 1 MiB (keys, notes). */
char *read_text_file(const char *path, size_t *len);
/* UTC, ISO 8601, whole seconds. */
void print_time(FILE *f, int64_t t);
/* ISO 8601 with milliseconds, from nanoseconds: UTC ("Z"), or local time
 * with its offset under --local. */
void print_time_ns(FILE *f, uint64_t ns);
/* "1h02m03s" */
void print_duration(FILE *f, uint64_t ns);
/* "verb DIR: what (reader's detail)" on stderr, escaped. */
void err_reader(const char *verb, const char *dir, privaudit_status st, const privaudit_reader *r);
/* The pinned key line from a file (log.pub or the line itself). */
char *read_key_line(const char *path);

/* A session that could not be found: "no such session", or the sessions
 * an ambiguous prefix matches; returns the exit status. */
int err_session(const char *verb, privaudit_reader *r, const char *name, privaudit_status st);
/* Case-insensitive equality of a name from the log with one from the
 * command line (ASCII letters only), as --user and --host match. */
int bytes_eq_nocase(privaudit_bytes b, const char *s);
/* When a record's event happened: the audit event's own time when the
 * audit plugin recorded it, else when it was appended. */
uint64_t event_time_ns(const privaudit_record *rec);
/* The "verification:" lines under a listing of sessions holding total
 * records, verified of them sealed (v NULL: no verdict yet). */
void verdict_note(const privaudit_verify_report *v, int cached, uint64_t total, uint64_t verified);

/* Opening a log for a reader verb (open.c). */
struct log_opts {
	const char *verb, *dir;
	int verified;            /* --verified, or --key */
	const char *keyfile;     /* --key, or NULL */
};
/* Verify the whole log at dir through the reader (keyfile: pinned key or
 * NULL; one that is not the log's first key has both ids said): -1 when
 * that could not start; else 0 with *code the exit status the verdict
 * calls for (0 when it verified), reported on stderr. */
int verify_for(const char *verb, const char *dir, privaudit_reader *r, const char *keyfile,
	       int *code);
/* A verdict that is not OK on stderr; its exit status (0 when OK). */
int report_verdict(const char *verb, const privaudit_verify_report *rep);
/* Open o->dir, set to step over damage, and verify it when asked: 0 and
 * *r, with *code the exit status the verdict calls for (0: verified, or
 * not asked); else the exit status, said on stderr. */
int log_open(const struct log_opts *o, privaudit_reader **r, int *code);
/* The session list, or one session, with a progress line while indexing. */
privaudit_status log_sessions(privaudit_reader *r, const privaudit_session **list, size_t *n);
privaudit_status log_session_find(privaudit_reader *r, const char *name,
				  const privaudit_session **s);
/* 1 and the first record damage lost when reading stepped over some. */
int log_damage_index(const privaudit_reader *r, uint64_t *first);
void print_damage_mark(FILE *f, uint64_t first);
/* Say on stderr the damaged ranges stepped over since last said (tail -f
 * says them as it meets them). */
void log_warn_damage(const char *verb, const char *label, const privaudit_reader *r);
/* Say on stderr every damaged range the reader stepped over (label: the
 * log's name), free the reader, and return the exit status rc becomes
 * (EXIT_DAMAGED after damage, unless rc says something else). */
int log_close(const char *verb, const char *label, privaudit_reader *r, int rc);

/* verbs */
int cmd_sessions(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_check_proof(int argc, char **argv);
int cmd_ship_status(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_keygen_witness(int argc, char **argv);
int cmd_keygen_auditor(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

#endif
