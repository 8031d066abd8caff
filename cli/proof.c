/* SPDX-License-Identifier: ISC */
/* proof.c: the prove and check-proof verbs: a session's records with the
 * proofs that a signed checkpoint covers them, checked without the log. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "records.h"

#define PROOF_FILE_MAX (256u * 1024u * 1024u)

static int prove_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit prove DIR SESSION [--checkpoint FILE] [--output FILE]\n\n"
		"Verify the log, then write a proof that the session's records are in it:\n"
		"the records, their inclusion proofs against one signed checkpoint (the\n"
		"newest, or FILE: one kept off the host), and the key chain from the log's\n"
		"first key to the key that signed it.  'privaudit check-proof' checks it\n"
		"with only the log's public key.  Records after the checkpoint are left out\n"
		"(run 'privaudit seal' first to include them).\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_prove(int argc, char **argv)
{
	static const struct option opts[] = {
		{"checkpoint", required_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ckfile = NULL, *output = NULL, *dir, *name;
	char *note = NULL, *proof = NULL;
	size_t note_len = 0, proof_len = 0, n = 0, proved = 0;
	const privaudit_session *s;
	privaudit_reader *r = NULL;
	const uint64_t *idx;
	uint64_t *copy = NULL;
	privaudit_status st;
	int c, rc = 0;
	FILE *out;

	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ckfile = optarg; break;
		case 'o': output = optarg; break;
		case 'h': return prove_usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return prove_usage(stderr);
	dir = argv[optind];
	name = argv[optind + 1];
	if (ckfile != NULL && (note = read_file(ckfile, 65536, &note_len)) == NULL) {
		fprintf(stderr, "privaudit prove: ");
		pa_print_escaped(stderr, ckfile, strlen(ckfile));
		fprintf(stderr, ": %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	st = privaudit_reader_open(&r, dir);
	/* Verify first: the session's records then come from verified bytes,
	 * not from the index file (which could leave some out). */
	if (st == PRIVAUDIT_OK) {
		const privaudit_verify_report *rep = NULL;

		st = privaudit_reader_verify(r, NULL, &rep);
	}
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_find(r, name, &s);
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_records(r, s, &idx, &n);
	if (st == PRIVAUDIT_OK && (copy = malloc((n ? n : 1) * sizeof(*copy))) == NULL)
		st = PRIVAUDIT_E_NOMEM;
	if (st != PRIVAUDIT_OK) {
		if (st == PRIVAUDIT_E_NOTFOUND || st == PRIVAUDIT_E_AMBIGUOUS) {
			fprintf(stderr, "privaudit prove: session '");
			pa_print_escaped(stderr, name, strlen(name));
			fprintf(stderr, "': %s\n", privaudit_strerror(st));
		} else {
			err_reader("prove", dir, st, r);
		}
		rc = status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
		goto out;
	}
	memcpy(copy, idx, n * sizeof(*copy));
	st = privaudit_prove(r, copy, n, note, note_len, &proof, &proof_len, &proved);
	if (st != PRIVAUDIT_OK) {
		err_reader("prove", dir, st, r);
		rc = status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
		goto out;
	}
	out = output != NULL ? fopen(output, "we") : stdout;
	if (out == NULL || fwrite(proof, 1, proof_len, out) != proof_len ||
	    (out != stdout ? fclose(out) : fflush(out)) != 0) {
		fprintf(stderr, "privaudit prove: cannot write the proof: %s\n", strerror(errno));
		rc = EXIT_CANNOT_READ;
		goto out;
	}
	fprintf(stderr, "privaudit prove: %zu of the session's %zu records proved", proved, n);
	if (proved < n)
		fprintf(stderr, "; %zu come after the checkpoint (seal, then prove again)", n - proved);
	fputc('\n', stderr);
out:
	free(copy);
	free(proof);
	free(note);
	privaudit_reader_free(r);
	return rc;
}

int cmd_check_proof(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const privaudit_proof_report *rep = NULL;
	privaudit_proof *p = NULL;
	char *key, *text;
	size_t len = 0;
	privaudit_status st;
	int c, json = 0, quiet = 0, rc;

	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h':
			printf("usage: privaudit check-proof PUBFILE PROOF [--json] [--quiet]\n\n"
			       "Check a proof made by 'privaudit prove' with only the log's first\n"
			       "public key (log.pub, kept off the host), without the log: the key\n"
			       "chain, every checkpoint signature, consistency between checkpoints and\n"
			       "each record's inclusion.  Then print the proved records (--json: as\n"
			       "JSON lines).  PROOF may be - for standard input.\n\n"
			       "Exit status: 0 the proof holds, 1 cannot read, 2 usage, 3 malformed,\n"
			       "4 a proof does not hold, 5 signature or key.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "usage: privaudit check-proof PUBFILE PROOF [--json]\n");
		return EXIT_USAGE;
	}
	key = read_key_line(argv[optind]);
	if (key == NULL) {
		fprintf(stderr, "privaudit check-proof: ");
		pa_print_escaped(stderr, argv[optind], strlen(argv[optind]));
		fprintf(stderr, ": %s\n", strerror(errno));
		return EXIT_CANNOT_READ;
	}
	text = read_file(argv[optind + 1], PROOF_FILE_MAX, &len);
	if (text == NULL) {
		fprintf(stderr, "privaudit check-proof: ");
		pa_print_escaped(stderr, argv[optind + 1], strlen(argv[optind + 1]));
		fprintf(stderr, ": %s\n", strerror(errno));
		free(key);
		return EXIT_CANNOT_READ;
	}
	st = privaudit_proof_check(&p, key, text, len, &rep);
	free(key);
	free(text);
	if (rep == NULL) {
		fprintf(stderr, "privaudit check-proof: %s\n", privaudit_strerror(st));
		privaudit_proof_free(p);
		return EXIT_CANNOT_READ;
	}
	rc = st == PRIVAUDIT_OK ? 0 : st == PRIVAUDIT_E_NOTE ? EXIT_USAGE : status_exit(st);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "privaudit check-proof: proof REJECTED: %s: ", privaudit_strerror(st));
		pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
		fputc('\n', stderr);
	} else if (!quiet) {
		if (!json) {
			printf("proof holds: %zu record(s) of ", rep->records);
			pa_print_escaped(stdout, rep->origin, strlen(rep->origin));
			printf(" are in its checkpoint of %" PRIu64 " records, signed by key %" PRIu64,
			       rep->tree_size, rep->key_index);
			if (rep->time >= 0) {
				fputs(" at ", stdout);
				print_time(stdout, rep->time);
			}
			fputc('\n', stdout);
		}
		for (size_t i = 0; i < rep->records; i++) {
			const privaudit_record *rec;

			if (privaudit_proof_record(p, i, &rec) != PRIVAUDIT_OK)
				continue;
			if (json)
				print_record_json(stdout, rec, 0);
			else
				print_record_line(stdout, rec, 0, 0);
		}
	}
	privaudit_proof_free(p);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_CANNOT_READ;
	return rc;
}
