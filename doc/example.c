/* SPDX-License-Identifier: ISC */
/* example.c: the libprivaudit(3) example: append a text record to a log,
 * commit, seal, and verify the log against its first public key.
 * Usage: example DIR (the log is created there if DIR holds none yet).
 * Build: cc example.c $(pkg-config --cflags --libs libprivaudit) */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <privaudit.h>

static void report(const char *what, privaudit_status st, const privaudit_log *log)
{
	if (log != NULL)
		fprintf(stderr, "example: %s: %s: %s\n", what, privaudit_strerror(st),
			privaudit_log_error(log));
	else
		fprintf(stderr, "example: %s: %s\n", what, privaudit_strerror(st));
}

/* The log's first public key as a verifier key line, without its newline.
 * An auditor pins a copy of log.pub taken off the host when the log was
 * created; the example reads the one in DIR only to stay self-contained. */
static int read_vkey(const char *dir, char *buf, size_t size)
{
	char path[4096];
	FILE *f;
	size_t n;
	int len;

	len = snprintf(path, sizeof(path), "%s/%s", dir, PRIVAUDIT_PUBKEY_FILE);
	if (len < 0 || (size_t)len >= sizeof(path))
		return -1;
	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0' ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const char text[] = "example: rotated the backup operator's password";
	privaudit_log *log = NULL;
	privaudit_verifier *v = NULL;
	const privaudit_verify_report *rep = NULL;
	privaudit_status st;
	char vkey[1024];
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argc > 0 ? argv[0] : "example");
		return 2;
	}

	/* Create the log, unless DIR already holds one. */
	st = privaudit_init(argv[1], NULL, NULL, 0);
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_EXISTS) {
		report("init", st, NULL);
		goto out;
	}

	st = privaudit_open(&log, argv[1], 0);
	if (st != PRIVAUDIT_OK) {
		report("open", st, NULL);
		goto out;
	}
	st = privaudit_set_program(log, "example");
	if (st != PRIVAUDIT_OK) {
		report("set_program", st, log);
		goto out;
	}
	st = privaudit_append_text(log, text, strlen(text));
	if (st != PRIVAUDIT_OK) {
		report("append", st, log);
		goto out;
	}
	/* Durable once this returns PRIVAUDIT_OK. */
	st = privaudit_commit(log);
	if (st != PRIVAUDIT_OK) {
		report("commit", st, log);
		goto out;
	}
	/* Covered by a signed checkpoint once this returns PRIVAUDIT_OK. */
	st = privaudit_seal(log);
	if (st != PRIVAUDIT_OK) {
		report("seal", st, log);
		goto out;
	}
	st = privaudit_close(log);
	log = NULL;
	if (st != PRIVAUDIT_OK) {
		report("close", st, NULL);
		goto out;
	}

	if (read_vkey(argv[1], vkey, sizeof(vkey)) != 0) {
		fprintf(stderr, "example: %s: no verifier key line in %s\n", argv[1],
			PRIVAUDIT_PUBKEY_FILE);
		goto out;
	}
	st = privaudit_verifier_new(&v, argv[1]);
	if (st != PRIVAUDIT_OK) {
		report("verifier_new", st, NULL);
		goto out;
	}
	st = privaudit_verifier_pin_key(v, vkey);
	if (st != PRIVAUDIT_OK) {
		report("pin_key", st, NULL);
		goto out;
	}
	st = privaudit_verify_run(v, &rep);
	if (st == PRIVAUDIT_OK && rep != NULL)
		st = rep->status;
	if (st != PRIVAUDIT_OK) {
		if (rep != NULL && rep->has_bad)
			fprintf(stderr,
				"example: verify: %s: %s (record %" PRIu64 ", segment %" PRIu64
				", offset %" PRIu64 ")\n",
				privaudit_strerror(st), rep->detail, rep->bad_index,
				rep->bad_segment, rep->bad_offset);
		else
			fprintf(stderr, "example: verify: %s: %s\n", privaudit_strerror(st),
				rep != NULL ? rep->detail : "no report");
		goto out;
	}
	if (rep == NULL || !rep->pinned) {
		fprintf(stderr, "example: verify: first key not pinned\n");
		goto out;
	}
	ret = 0;
out:
	privaudit_verifier_free(v);
	privaudit_close(log);
	return ret;
}
