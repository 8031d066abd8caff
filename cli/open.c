/* SPDX-License-Identifier: ISC */
/* open.c: the one path by which the reader verbs (sessions, replay, show,
 * export, tail, report, prove) open a log: open it, verify it first when
 * asked (--key implies --verified), step over damage instead of stopping
 * at it, index its sessions behind a progress line, and at the end say on
 * stderr every damaged range stepped over and what that makes the exit
 * status.  An attacker who damages one byte does not hide what follows:
 * it is read, and marked as read after damage, never as verified. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "records.h"

/* The damaged ranges of the open log said on stderr so far. */
static size_t damage_said;

/* After --verified: report the verdict on stderr, and its exit status. */
int report_verdict(const char *verb, const privaudit_verify_report *rep)
{
	if (rep->status == PRIVAUDIT_OK)
		return 0;
	fprintf(stderr, "%s %s: NOT VERIFIED: %s: ", progname, verb, privaudit_strerror(rep->status));
	pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
	if (rep->has_bad)
		fprintf(stderr, " (first bad record %" PRIu64 ")", rep->bad_index);
	fputc('\n', stderr);
	return status_exit(rep->status);
}

int verify_for(const char *verb, const char *dir, privaudit_reader *r, const char *keyfile,
	       int *code)
{
	const privaudit_verify_report *rep = NULL;
	struct progress prog;
	char *key = NULL;
	privaudit_status st;

	if (keyfile != NULL && (key = read_key_line(keyfile)) == NULL) {
		int err = errno;

		fprintf(stderr, "%s %s: --key ", progname, verb);
		pa_print_escaped(stderr, keyfile, strlen(keyfile));
		fprintf(stderr, ": %s\n", strerror(err));
		return -1;
	}
	if (keyfile == NULL)
		fprintf(stderr, "%s %s: WARNING: no --key: the log was checked against the first key "
				"found in the log on this host, so a rewritten log would pass; pin the "
				"log.pub kept off the host with --key\n",
			progname, verb);
	progress_init(&prog, "verifying");
	privaudit_reader_progress(r, show_progress, &prog);
	st = privaudit_reader_verify(r, key, &rep);
	progress_done(&prog);
	privaudit_reader_progress(r, NULL, NULL);
	free(key);
	if (rep == NULL) {
		fprintf(stderr, "%s %s: %s\n", progname, verb, privaudit_strerror(st));
		*code = EXIT_CANNOT_READ;
		return -1;
	}
	*code = report_verdict(verb, rep);
	if (rep->status == PRIVAUDIT_E_PINNED_KEY)
		explain_key_mismatch(verb, dir, keyfile);
	return 0;
}

int log_open(const struct log_opts *o, privaudit_reader **r, int *code)
{
	privaudit_status st;

	*r = NULL;
	*code = 0;
	damage_said = 0;
	st = privaudit_reader_open(r, o->dir);
	if (st != PRIVAUDIT_OK)
		return err_open(o->verb, o->dir, st);
	privaudit_reader_skip_damage(*r, 1);
	if (o->verified && verify_for(o->verb, o->dir, *r, o->keyfile, code) < 0) {
		int rc = *code ? *code : EXIT_USAGE;

		privaudit_reader_free(*r);
		*r = NULL;
		return rc;
	}
	return 0;
}

privaudit_status log_sessions(privaudit_reader *r, const privaudit_session **list, size_t *n)
{
	struct progress prog;
	privaudit_status st;

	progress_init(&prog, "indexing");
	privaudit_reader_progress(r, show_progress, &prog);
	st = privaudit_sessions(r, list, n);
	progress_done(&prog);
	privaudit_reader_progress(r, NULL, NULL);
	return st;
}

privaudit_status log_session_find(privaudit_reader *r, const char *name,
				  const privaudit_session **s)
{
	const privaudit_session *list;
	privaudit_status st;
	size_t n;

	st = log_sessions(r, &list, &n);
	return st == PRIVAUDIT_OK ? privaudit_session_find(r, name, s) : st;
}

int log_damage_index(const privaudit_reader *r, uint64_t *first)
{
	const privaudit_damage *d;

	if (privaudit_reader_damaged(r, &d) == 0)
		return 0;
	*first = d[0].first_index;
	return 1;
}

void print_damage_mark(FILE *f, uint64_t first)
{
	fprintf(f, MARK_DAMAGE_FMT, first);
}

void log_warn_damage(const char *verb, const char *label, const privaudit_reader *r)
{
	const privaudit_damage *d;
	size_t n = privaudit_reader_damaged(r, &d);

	if (n > damage_said) {
		fflush(stdout);
		for (size_t i = damage_said; i < n; i++) {
			fprintf(stderr, "%s %s: ", progname, verb);
			pa_print_escaped(stderr, label, strlen(label));
			fprintf(stderr, ": WARNING: damage at record %" PRIu64 " (segment %" PRIu64
					", offset %" PRIu64 ": %s); ",
				d[i].first_index, d[i].segment, d[i].offset, d[i].what);
			if (d[i].resumed_index == UINT64_MAX)
				fputs("nothing whole follows it\n", stderr);
			else
				fprintf(stderr, "read on at record %" PRIu64 "\n", d[i].resumed_index);
		}
		damage_said = n;
	}
}

int log_close(const char *verb, const char *label, privaudit_reader *r, int rc)
{
	const privaudit_damage *d;
	size_t n;

	if (r == NULL)
		return rc;
	n = privaudit_reader_damaged(r, &d);
	if (n > 0) {
		log_warn_damage(verb, label, r);
		fprintf(stderr, "%s %s: ", progname, verb);
		pa_print_escaped(stderr, label, strlen(label));
		fprintf(stderr, ": what was read after record %" PRIu64 " is shown marked \"after "
				"damage\": it cannot be verified; exit %d\n",
			d[0].first_index, EXIT_DAMAGED);
		/* the verdict's view of the same damage gives way to this one */
		if (rc == 0 || rc == EXIT_CORRUPT || rc == EXIT_TAMPERED || rc == EXIT_TRUNCATED)
			rc = EXIT_DAMAGED;
	}
	privaudit_reader_free(r);
	return rc;
}
