/* SPDX-License-Identifier: ISC */
/* witness.c: the keygen-witness and cosign verbs: a witness key for the
 * collector, and its cosignature (C2SP tlog-cosignature) on a log's verified
 * checkpoint.  The crypto is libprivaudit's; this file handles files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "escape.h"

#define NOTE_MAX 65536
#define COSIGN_TMP "checkpoint.cosign.tmp"

static void err_path(const char *verb, const char *path, const char *what)
{
	fprintf(stderr, "%s %s: ", progname, verb);
	pa_print_escaped(stderr, path, strlen(path));
	fprintf(stderr, ": %s\n", what);
}

/* ------------------------------------------------------------ keygen-witness */

static int keygen_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit keygen-witness NAME --out SECRETFILE\n\n"
		"Make a witness key for the collector (privaudit collect --witness-key,\n"
		"privaudit cosign): its secret goes to SECRETFILE (created 0600, never over\n"
		"an existing file), its verifier key line to SECRETFILE.pub and to standard\n"
		"output.  Give that line to auditors: 'privaudit verify --witness' and\n"
		"'check-proof --witness' demand the witness's cosignature with it.\n\n"
		"  NAME              the witness's name in its signature lines, e.g.\n"
		"                    collector.example.org/privaudit (no spaces or '+')\n"
		"  --out SECRETFILE  where the secret key goes\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_keygen_witness(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *name;
	char *pubpath = NULL, *vkey = NULL;
	privaudit_status st;
	int c, fd = -1, rc = EXIT_CANNOT_READ, made_pub = 0, made_secret = 0;
	size_t n;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': return keygen_usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || out == NULL)
		return keygen_usage(stderr);
	name = argv[optind];
	n = strlen(out);
	pubpath = malloc(n + 5);
	if (pubpath == NULL) {
		fprintf(stderr, "privaudit keygen-witness: out of memory\n");
		return EXIT_CANNOT_READ;
	}
	memcpy(pubpath, out, n);
	memcpy(pubpath + n, ".pub", 5);
	/* The public file first: neither file is ever written over. */
	fd = open(pubpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_path("keygen-witness", pubpath,
			 errno == EEXIST ? "exists; not overwritten" : strerror(errno));
		goto out;
	}
	made_pub = 1;
	st = privaudit_witness_keygen(name, out, &vkey);
	if (st != PRIVAUDIT_OK) {
		if (st == PRIVAUDIT_E_INVAL) {
			fprintf(stderr, "privaudit keygen-witness: '");
			pa_print_escaped(stderr, name, strlen(name));
			fprintf(stderr, "' is not a key name (no spaces, no '+', not empty)\n");
			rc = EXIT_USAGE;
		} else {
			err_path("keygen-witness", out,
				 st == PRIVAUDIT_E_EXISTS ? "exists; not overwritten"
				 : st == PRIVAUDIT_E_IO	  ? strerror(errno)
							  : privaudit_strerror(st));
		}
		goto out;
	}
	made_secret = 1;
	if (dprintf(fd, "%s\n", vkey) < 0 || fsync(fd) < 0) {
		err_path("keygen-witness", pubpath, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_path("keygen-witness", pubpath, strerror(errno));
		goto out;
	}
	fd = -1;
	printf("%s\n", vkey);
	rc = fflush(stdout) == 0 ? 0 : EXIT_CANNOT_READ;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		/* Nothing half made is left behind. */
		if (made_pub)
			unlink(pubpath);
		if (made_secret)
			unlink(out);
	}
	free(vkey);
	free(pubpath);
	return rc;
}

/* ------------------------------------------------------------ cosign */

static int cosign_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit cosign DIR --witness-key SECRETFILE --key PUBFILE\n"
		"                        [--trusted CHECKPOINTFILE] [--output FILE]\n\n"
		"As a witness: verify the log in DIR from its pinned first key (and, with\n"
		"--trusted, that it extends a checkpoint seen before), then add the\n"
		"witness's cosignature (C2SP tlog-cosignature, cosignature/v1) to the\n"
		"log's checkpoint note, DIR/checkpoint, and write it back there (or to\n"
		"FILE; - for standard output).  Nothing is cosigned unless the log verifies.\n"
		"For mirrors and copies off the host: on a live log the next seal replaces\n"
		"DIR/checkpoint.\n\n"
		"Exit status: 0 cosigned, 1 cannot read or write, 2 usage, 3-8 the log does\n"
		"not verify (as for 'privaudit verify').\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

/* DIR/checkpoint as it is now, or NULL. */
static char *read_checkpoint(const char *dir, size_t *len)
{
	char *note = NULL;

	if (privaudit_checkpoint_latest(dir, &note, len) != PRIVAUDIT_OK)
		return NULL;
	return note;
}

/* Write data to DIR/checkpoint atomically and durably, unless the file no
 * longer holds was (a writer sealed meanwhile). */
static int replace_checkpoint(const char *dir, const char *was, size_t was_len, const char *data,
			      size_t len)
{
	char *now = NULL;
	size_t now_len = 0;
	struct stat sb;
	int dfd, fd = -1, rc = -1;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	if (fstatat(dfd, PRIVAUDIT_CHECKPOINT_FILE, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	if (unlinkat(dfd, COSIGN_TMP, 0) < 0 && errno != ENOENT)
		goto out;
	fd = openat(dfd, COSIGN_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    sb.st_mode & 0644);
	if (fd < 0)
		goto out;
	if (fchmod(fd, sb.st_mode & 0644) < 0 || write(fd, data, len) != (ssize_t)len ||
	    fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	now = read_checkpoint(dir, &now_len);
	if (now == NULL || now_len != was_len || memcmp(now, was, was_len) != 0) {
		errno = EAGAIN;
		goto out;
	}
	if (renameat(dfd, COSIGN_TMP, dfd, PRIVAUDIT_CHECKPOINT_FILE) < 0 || fsync(dfd) < 0)
		goto out;
	rc = 0;
out:
	{
		int err = errno;

		if (fd >= 0)
			close(fd);
		if (rc != 0)
			unlinkat(dfd, COSIGN_TMP, 0);
		close(dfd);
		free(now);
		errno = err;
	}
	return rc;
}

static int write_output(const char *path, const char *data, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");

	if (f == NULL)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		if (f != stdout)
			fclose(f);
		return -1;
	}
	return f == stdout ? fflush(f) : fclose(f);
}

/* Verify the log as a witness must before it vouches for it. */
static int verify_for_cosign(const char *dir, const char *keyfile, const char *trusted)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	privaudit_status st;
	char *text;
	size_t len = 0;
	int rc = EXIT_USAGE;

	st = privaudit_verifier_new(&v, dir);
	if (st != PRIVAUDIT_OK) {
		err_path("cosign", dir, privaudit_strerror(st));
		return EXIT_CANNOT_READ;
	}
	text = read_key_line(keyfile);
	if (text == NULL) {
		err_path("cosign", keyfile, strerror(errno));
		goto out;
	}
	st = privaudit_verifier_pin_key(v, text);
	free(text);
	if (st != PRIVAUDIT_OK) {
		err_path("cosign", keyfile, "not a privaudit public key line");
		goto out;
	}
	if (trusted != NULL) {
		text = read_text_file(trusted, &len);
		if (text == NULL) {
			err_path("cosign", trusted, strerror(errno));
			goto out;
		}
		st = privaudit_verifier_trust(v, text, len);
		free(text);
		if (st != PRIVAUDIT_OK) {
			err_path("cosign", trusted, "not a signed checkpoint note");
			goto out;
		}
	}
	st = privaudit_verify_run(v, &rep);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "privaudit cosign: ");
		pa_print_escaped(stderr, dir, strlen(dir));
		fprintf(stderr, ": NOT cosigned, the log does not verify: %s", privaudit_strerror(st));
		if (rep != NULL) {
			fputs(": ", stderr);
			pa_print_escaped(stderr, rep->detail, strlen(rep->detail));
		}
		fputc('\n', stderr);
		rc = status_exit(st);
		goto out;
	}
	rc = 0;
out:
	privaudit_verifier_free(v);
	return rc;
}

int cmd_cosign(int argc, char **argv)
{
	static const struct option opts[] = {
		{"witness-key", required_argument, NULL, 'w'},
		{"key", required_argument, NULL, 'k'},
		{"trusted", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *wkey = NULL, *keyfile = NULL, *trusted = NULL, *output = NULL, *dir;
	char *before = NULL, *after = NULL, *cosigned = NULL;
	size_t before_len = 0, after_len = 0, cosigned_len = 0;
	privaudit_witness *w = NULL;
	privaudit_status st;
	int c, rc = EXIT_CANNOT_READ;

	while ((c = getopt_long(argc, argv, "w:k:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': wkey = optarg; break;
		case 'k': keyfile = optarg; break;
		case 't': trusted = optarg; break;
		case 'o': output = optarg; break;
		case 'h': return cosign_usage(stdout);
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || wkey == NULL || keyfile == NULL)
		return cosign_usage(stderr);
	dir = argv[optind];
	st = privaudit_witness_open(&w, wkey);
	if (st != PRIVAUDIT_OK) {
		err_path("cosign", wkey,
			 st == PRIVAUDIT_E_IO    ? strerror(errno)
			 : st == PRIVAUDIT_E_KEY ? "not a witness secret key, or readable by others (chmod 600)"
						 : privaudit_strerror(st));
		return EXIT_CANNOT_READ;
	}
	/* The note read before verifying is the one cosigned, and only if it is
	 * still there once the log verified: the verifier checked that one. */
	before = read_checkpoint(dir, &before_len);
	if (before == NULL) {
		err_path("cosign", dir, "no readable checkpoint note (DIR/checkpoint)");
		goto out;
	}
	rc = verify_for_cosign(dir, keyfile, trusted);
	if (rc != 0)
		goto out;
	rc = EXIT_CANNOT_READ;
	after = read_checkpoint(dir, &after_len);
	if (after == NULL || after_len != before_len || memcmp(after, before, before_len) != 0) {
		err_path("cosign", dir, "the checkpoint changed while the log was verified; run again");
		goto out;
	}
	st = privaudit_witness_cosign(w, before, before_len, 0, &cosigned, &cosigned_len);
	if (st != PRIVAUDIT_OK) {
		err_path("cosign", dir, privaudit_strerror(st));
		goto out;
	}
	if (output != NULL ? write_output(output, cosigned, cosigned_len) < 0
			   : replace_checkpoint(dir, before, before_len, cosigned, cosigned_len) < 0) {
		err_path("cosign", output != NULL ? output : dir,
			 errno == EAGAIN ? "the log was sealed meanwhile; run again" : strerror(errno));
		goto out;
	}
	fprintf(stderr, "privaudit cosign: cosigned as %s\n", privaudit_witness_vkey(w));
	rc = 0;
out:
	free(cosigned);
	free(after);
	free(before);
	privaudit_witness_free(w);
	return rc;
}
