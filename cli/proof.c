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
		"(run 'privaudit seal' first to include them).  The newest checkpoint is\n"
		"taken as DIR/checkpoint holds it when that is the same checkpoint, so a\n"
		"witness's cosignature there (privaudit cosign, a collector's mirror) goes\n"
		"into the proof; give --checkpoint DIR/checkpoint for an older cosigned one.\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_prove(int argc, char **argv)
{
	uint64_t damage_first = 0;
	static const struct option opts[] = {
		{"checkpoint", required_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ckfile = NULL, *output = NULL, *dir, *name;
	char *note = NULL, *proof = NULL;
	size_t note_len = 0, proof_len = 0, n = 0, ngaps = 0, proved = 0;
	const privaudit_session *s;
	privaudit_reader *r = NULL;
	const uint64_t *idx, *gaps;
	uint64_t *copy = NULL;
	privaudit_status st;
	int c, rc = 0;
	FILE *out;

	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ckfile = optarg; break;
		case 'o': output = optarg; break;
		case 'h': return prove_usage(stdout);
		default: return usage_error("prove", NULL);
		}
	}
	if (check_operands("prove", argc, argv, "DIR SESSION") < 0)
		return EXIT_USAGE;
	dir = argv[optind];
	name = argv[optind + 1];
	if (ckfile != NULL && (note = read_file(ckfile, 65536, &note_len)) == NULL) {
		fprintf(stderr, "privaudit prove: ");
		pa_print_escaped(stderr, ckfile, strlen(ckfile));
		fprintf(stderr, ": %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	{
		const struct log_opts lo = {"prove", dir, 0, NULL};
		int code;

		rc = log_open(&lo, &r, &code);
		if (rc != 0) {
			free(note);
			return rc;
		}
	}
	st = PRIVAUDIT_OK;
	/* Verify first: the session's records then come from verified bytes,
	 * not from the index file (which could leave some out). */
	if (st == PRIVAUDIT_OK) {
		const privaudit_verify_report *rep = NULL;

		st = privaudit_reader_verify(r, NULL, &rep);
		fprintf(stderr, "privaudit prove: WARNING: the log was checked against the first key "
				"found in the log on this host; whoever checks the proof must pin the "
				"log.pub kept off the host (check-proof --key)\n");
		/* Backdated records are the verifier's finding, not a reason to
		 * withhold a proof: it shows what the log holds. */
		if (st == PRIVAUDIT_E_BACKDATED) {
			fprintf(stderr, "privaudit prove: warning: ");
			pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
			fputc('\n', stderr);
			st = PRIVAUDIT_OK;
		}
		/* Damaged frames end what verifies; what a checkpoint before
		 * the damage seals can still be proved, nothing after it. */
		if ((st == PRIVAUDIT_E_FORMAT || st == PRIVAUDIT_E_SEQUENCE) && rep != NULL) {
			fprintf(stderr, "privaudit prove: WARNING: the log verifies only up to damage: ");
			pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
			fprintf(stderr, "; records after it cannot be proved\n");
			st = PRIVAUDIT_OK;
		}
	}
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_find(r, name, &s);
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_records(r, s, &idx, &n);
	if (st == PRIVAUDIT_OK && (copy = malloc((n ? n : 1) * sizeof(*copy))) != NULL)
		memcpy(copy, idx, n * sizeof(*copy));
	else if (st == PRIVAUDIT_OK)
		st = PRIVAUDIT_E_NOMEM;
	/* The gap records of events lost while it was open go in too: whoever
	 * checks the proof learns that the session may have done more. */
	if (st == PRIVAUDIT_OK)
		st = privaudit_session_gaps(r, s, &gaps, &ngaps);
	if (st == PRIVAUDIT_OK && ngaps > 0) {
		uint64_t *more = realloc(copy, (n + ngaps) * sizeof(*copy));

		if (more == NULL) {
			st = PRIVAUDIT_E_NOMEM;
		} else {
			copy = more;
			memcpy(copy + n, gaps, ngaps * sizeof(*copy));
		}
	}
	if (st != PRIVAUDIT_OK) {
		if (st == PRIVAUDIT_E_NOTFOUND || st == PRIVAUDIT_E_AMBIGUOUS) {
			err_session("prove", r, name, st);
		} else {
			err_reader("prove", dir, st, r);
		}
		rc = status_exit(st) == EXIT_VERIFIED ? EXIT_CANNOT_READ : status_exit(st);
		goto out;
	}
	st = privaudit_prove(r, copy, n + ngaps, note, note_len, &proof, &proof_len, &proved);
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
	if (ngaps == 0)
		fprintf(stderr, "privaudit prove: %zu of the session's %zu records proved", proved, n);
	else
		fprintf(stderr, "privaudit prove: %zu of %zu records proved: the session's %zu and "
				"%zu gap record(s) of events lost while it was open", proved,
			n + ngaps, n, ngaps);
	if (proved < n + ngaps && log_damage_index(r, &damage_first))
		fprintf(stderr, "; %zu are not sealed by a checkpoint before the damage at record "
				"%" PRIu64 " and cannot be proved", n + ngaps - proved, damage_first);
	else if (proved < n + ngaps)
		fprintf(stderr, "; %zu come after the checkpoint (seal, then prove again)",
			n + ngaps - proved);
	fputc('\n', stderr);
out:
	free(copy);
	free(proof);
	free(note);
	return log_close("prove", dir, r, rc);
}

/* Each witness must have cosigned the checkpoint the proof holds against;
 * *oldest: the oldest of their cosignature times.  Says why not on stderr. */
static privaudit_status check_witnesses(const privaudit_proof *p, char *const *vkeys,
					const char *const *files, size_t n, int64_t *oldest)
{
	const char *note;
	size_t len;
	privaudit_status st = privaudit_proof_checkpoint(p, &note, &len);

	for (size_t i = 0; i < n && st == PRIVAUDIT_OK; i++) {
		int64_t t = -1;

		st = privaudit_cosignature_check(vkeys[i], note, len, &t);
		if (st == PRIVAUDIT_E_NOTE) {
			fprintf(stderr, "privaudit check-proof: ");
			pa_print_escaped(stderr, files[i], strlen(files[i]));
			fprintf(stderr, ": not a witness key line (keygen-witness's .pub)\n");
		} else if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "privaudit check-proof: proof REJECTED: %s: the checkpoint "
					"proved against carries no valid cosignature by ",
				privaudit_strerror(st));
			pa_print_escaped(stderr, files[i], strlen(files[i]));
			fputc('\n', stderr);
			st = PRIVAUDIT_E_WITNESS;
		} else if (*oldest < 0 || t < *oldest) {
			*oldest = t;
		}
	}
	return st;
}

/* The proof's gap records (prove puts in those of events lost while the
 * session was open): a line saying how many events were lost, none when
 * it holds no gap record. */
static void print_lost(privaudit_proof *p, size_t n)
{
	uint64_t lost = 0, count;
	size_t gaps = 0, uncounted = 0;

	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;

		if (privaudit_proof_record(p, i, &rec) != PRIVAUDIT_OK ||
		    strcmp(privaudit_record_kind(rec), "gap") != 0)
			continue;
		gaps++;
		/* auditd's "backlog limit exceeded" says no count */
		if (privaudit_record_get_uint(rec, "count", &count) != PRIVAUDIT_OK || count == 0)
			uncounted++;
		else
			lost = count <= UINT64_MAX - lost ? lost + count : UINT64_MAX;
	}
	if (gaps == 0)
		return;
	printf("EVENTS LOST: %zu gap record(s) among them: writers lost ", gaps);
	if (lost == 0)
		fputs("events, how many they did not know", stdout);
	else
		printf("%s%" PRIu64 " event(s)", uncounted > 0 ? "at least " : "", lost);
	puts(" (the gap lines below say when and why); what those events were is in no log");
}

static void print_file(const char *path)
{
	pa_print_escaped(stderr, path, strlen(path));
}

/* Which of the two files is wrong: the key file when it is no key, or the
 * key of another log; else the proof. */
static void blame(const char *keyfile, const char *key, const char *prooffile, privaudit_status st,
		  const privaudit_proof_report *rep)
{
	fputs("privaudit check-proof: ", stderr);
	if (st == PRIVAUDIT_E_NOTE) {
		print_file(keyfile);
		fputs(": not a privaudit public key line (the log.pub kept off the host)\n", stderr);
		return;
	}
	if (st == PRIVAUDIT_E_PINNED_KEY) {
		print_file(prooffile);
		fputs(": a proof for the log ", stderr);
		pa_print_escaped(stderr, rep->origin, strlen(rep->origin));
		fputs(", but ", stderr);
		print_file(keyfile);
		fputs(" is the key of ", stderr);
		print_key_id(stderr, key);
		fputs(": give that log's log.pub\n", stderr);
		return;
	}
	print_file(prooffile);
	fprintf(stderr, ": proof REJECTED: %s: ", privaudit_strerror(st));
	pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
	if (st == PRIVAUDIT_E_SIGNATURE || st == PRIVAUDIT_E_CHAIN) {
		fputs(" (or ", stderr);
		print_file(keyfile);
		fputs(" is the key of another log of the same name)", stderr);
	}
	fputc('\n', stderr);
}

int cmd_check_proof(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"witness", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const privaudit_proof_report *rep = NULL;
	const char *witness[PRIVAUDIT_WITNESS_MAX];
	char *wkey[PRIVAUDIT_WITNESS_MAX];
	privaudit_proof *p = NULL;
	char *key, *text;
	size_t len = 0, nwitness = 0;
	int64_t wtime = -1;
	privaudit_status st;
	int c, json = 0, quiet = 0, rc;

	while ((c = getopt_long(argc, argv, "jqw:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'w':
			if (nwitness == PRIVAUDIT_WITNESS_MAX) {
				fprintf(stderr, "privaudit check-proof: at most %d --witness\n",
					PRIVAUDIT_WITNESS_MAX);
				return EXIT_USAGE;
			}
			witness[nwitness++] = optarg;
			break;
		case 'h':
			printf("usage: privaudit check-proof PUBFILE PROOF [--witness VKEYFILE]... [--json] [--quiet]\n\n"
			       "Check a proof made by 'privaudit prove' with only the log's first\n"
			       "public key (log.pub, kept off the host), without the log: the key\n"
			       "chain, every checkpoint signature, consistency between checkpoints and\n"
			       "each record's inclusion.  Then print the proved records (--json: as\n"
			       "JSON lines).  PROOF may be - for standard input.  With --witness, the\n"
			       "checkpoint proved against must also carry a valid cosignature by that\n"
			       "witness (its verifier key line, from keygen-witness; repeat: by each).\n\n"
			       "Exit status: 0 the proof holds, 1 cannot read, 2 usage, 3 malformed,\n"
			       "4 a proof does not hold, 5 signature or key, 10 no valid cosignature\n"
			       "by a --witness.\n");
			return 0;
		default:
			return usage_error("check-proof", NULL);
		}
	}
	if (check_operands("check-proof", argc, argv, "PUBFILE PROOF") < 0)
		return EXIT_USAGE;
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
	free(text);
	if (rep == NULL) {
		fprintf(stderr, "privaudit check-proof: %s\n", privaudit_strerror(st));
		free(key);
		privaudit_proof_free(p);
		return EXIT_CANNOT_READ;
	}
	if (st != PRIVAUDIT_OK)
		blame(argv[optind], key, argv[optind + 1], st, rep);
	free(key);
	rc = st == PRIVAUDIT_OK ? 0 : st == PRIVAUDIT_E_NOTE ? EXIT_USAGE : status_exit(st);
	if (st == PRIVAUDIT_OK && nwitness > 0) {
		size_t nread = 0;

		while (nread < nwitness && (wkey[nread] = read_key_line(witness[nread])) != NULL)
			nread++;
		if (nread < nwitness) {
			fprintf(stderr, "privaudit check-proof: ");
			pa_print_escaped(stderr, witness[nread], strlen(witness[nread]));
			fprintf(stderr, ": %s\n", strerror(errno));
			rc = EXIT_CANNOT_READ;
		} else {
			privaudit_status wst = check_witnesses(p, wkey, witness, nwitness, &wtime);

			rc = wst == PRIVAUDIT_OK     ? 0
			     : wst == PRIVAUDIT_E_NOTE ? EXIT_USAGE
						       : EXIT_WITNESS;
		}
		while (nread-- > 0)
			free(wkey[nread]);
		if (rc != 0) {
			privaudit_proof_free(p);
			return rc;
		}
	}
	if (st != PRIVAUDIT_OK) {
		/* said by blame() */
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
			if (nwitness > 0) {
				fputs(", cosigned by the witness at ", stdout);
				print_time(stdout, wtime);
			}
			fputc('\n', stdout);
			print_lost(p, rep->records);
		}
		for (size_t i = 0; i < rep->records; i++) {
			const privaudit_record *rec;

			if (privaudit_proof_record(p, i, &rec) != PRIVAUDIT_OK)
				continue;
			if (json)
				print_record_json(stdout, rec, 0, 0);
			else
				print_record_line(stdout, rec, 0, 0, 0);
		}
	}
	privaudit_proof_free(p);
	if (stdout_failed("check-proof") && rc == 0)
		rc = EXIT_CANNOT_READ;
	return rc;
}
