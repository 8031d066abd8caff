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
};

extern const char *progname;

int status_exit(privaudit_status st);
const char *status_class(privaudit_status st);
/* A non-negative decimal number. */
int parse_num(const char *s, uint64_t *out);
/* A time on the command line, as nanoseconds since the epoch: @SECONDS,
 * YYYY-MM-DD[THH:MM[:SS]][Z] (local time unless Z), "now", or -N[smhd]
 * (that long ago). */
int parse_time(const char *s, uint64_t *out_ns);

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
/* UTC, ISO 8601, with milliseconds, from nanoseconds. */
void print_time_ns(FILE *f, uint64_t ns);
/* "1h02m03s" */
void print_duration(FILE *f, uint64_t ns);
/* "verb DIR: what (reader's detail)" on stderr, escaped. */
void err_reader(const char *verb, const char *dir, privaudit_status st, const privaudit_reader *r);
/* The pinned key line from a file (log.pub or the line itself). */
char *read_key_line(const char *path);

/* verbs */
int cmd_sessions(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_check_proof(int argc, char **argv);
int cmd_ship_status(int argc, char **argv);
int cmd_keygen_witness(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

#endif
