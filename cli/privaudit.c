/* SPDX-License-Identifier: ISC */
/* privaudit.c: the command administrators and auditors use.  All log and
 * crypto work is libprivaudit's; this file parses options and prints. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "privaudit.h"
#include "cli.h"
#include "escape.h"


static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: privaudit COMMAND [OPTIONS] DIR ...\n"
		"\n"
		"Commands:\n"
		"  init DIR [--origin NAME]      create a signed log and print its public key\n"
		"  append DIR [TEXT...]          append application records (TEXT, or one per stdin line)\n"
		"  seal DIR                      sign a checkpoint over the log now\n"
		"  checkpoint DIR                print the newest signed checkpoint\n"
		"  verify DIR [--key FILE] [--trusted FILE] [--max-age SECONDS] [--witness FILE] [--json]\n"
		"             [--state FILE] [--archive ADIR]\n"
		"                                check the whole log; exit 0 only if it verifies\n"
		"  sessions DIR [--user U] [--host H] [--since T] [--until T] [--command GLOB]\n"
		"               [-n N] [--key PUBFILE] [--json]   one line per session, newest first\n"
		"  replay DIR SESSION [--real-time] [--speed X] [--max-wait S] [--key PUBFILE]\n"
		"                                what one session did, in time order\n"
		"  report DIR [--since T] [--until T] [--user U] [--host H] [--top N]\n"
		"             [--key PUBFILE] [--json]\n"
		"                                sessions per user, target, host and day, top\n"
		"                                commands, failed attempts, gaps (as aureport)\n"
		"  show DIR [--kind K] [--session S] [--since T] [--until T] [--from N] [--to N] [--json]\n"
		"                                records as readable lines (or JSON lines)\n"
		"  export DIR --json             every record as one JSON object per line\n"
		"  tail -f DIR [-n N] [--json]   print records as they are appended\n"
		"  prove DIR SESSION [--checkpoint FILE]\n"
		"                                inclusion proof of a session's records\n"
		"  check-proof PUBFILE PROOF [--witness FILE]\n"
		"                                check a proof with only the log's public key\n"
		"  ship-status DIR [--json]      how far privauditd has shipped the log (lag, last ack)\n"
		"  archive DIR --to ADIR (--before INDEX | --older-than AGE) [--force]\n"
		"                                move old segments out of the live log, compressed\n"
		"  keygen-witness NAME --out SECRETFILE\n"
		"                                make a witness (collector) key\n"
		"  keygen-auditor --out SECRETFILE\n"
		"                                make the auditors' key that sudo_privaudit.so\n"
		"                                seals keystrokes to (SECRETFILE.pub)\n"
		"  cosign DIR --witness-key SECRETFILE --key PUBFILE\n"
		"                                verify the log, then cosign its checkpoint\n"
		"  collect --root DIR --hosts KEYDIR [--witness-key FILE] [--max-age S]\n"
		"                                the collector behind rsyslog: one verified\n"
		"                                mirror per host (reads shipped messages on stdin)\n"
		"  fleet status ROOT [--max-age S] [--json]\n"
		"                                one line per host mirror, with its verdict\n"
		"\n"
		"'privaudit COMMAND --help' describes each command; see privaudit(1).\n");
}

static void err_log(const char *verb, const char *dir, privaudit_status st, const privaudit_log *log)
{
	if (log == NULL && (st == PRIVAUDIT_E_NOLOG || st == PRIVAUDIT_E_IO) && strcmp(verb, "init") != 0) {
		err_open(verb, dir, st);   /* missing, or out of reach: the system says which */
		return;
	}
	fprintf(stderr, "%s %s: ", progname, verb);
	pa_print_escaped(stderr, dir, strlen(dir));
	fprintf(stderr, ": %s", privaudit_strerror(st));
	if (log != NULL && strcmp(privaudit_log_error(log), "no error") != 0) {
		const char *d = privaudit_log_error(log);

		fputs(" (", stderr);
		pa_print_escaped(stderr, d, strlen(d));
		fputs(")", stderr);
	}
	fputc('\n', stderr);
}

/* A warning from the library: the command goes on. */
static void warn_log(const char *verb, const char *dir, const char *msg)
{
	fprintf(stderr, "%s %s: ", progname, verb);
	pa_print_escaped(stderr, dir, strlen(dir));
	fputs(": warning: ", stderr);
	pa_print_escaped(stderr, msg, strlen(msg));
	fputc('\n', stderr);
}

static void seal_warning(void *arg, const char *msg)
{
	warn_log("seal", arg, msg);
}

/* ------------------------------------------------------------ init */

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"origin", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *origin = NULL;
	char vkey[1024], why[512];
	privaudit_status st;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			origin = optarg;
			break;
		case 'h':
			printf("usage: privaudit init DIR [--origin NAME]\n\n"
			       "Create a signed log in DIR (made if absent; it must hold no log).\n"
			       "Prints the log's first public key, also written to DIR/log.pub:\n"
			       "copy it off this host; auditors pin it with 'verify --key'.\n\n"
			       "  --origin NAME  the checkpoint origin line (default HOST/privaudit/ID);\n"
			       "                 no spaces or '+'\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: privaudit init DIR [--origin NAME]\n");
		return EXIT_USAGE;
	}
	st = privaudit_init(argv[optind], origin, vkey, sizeof(vkey));
	if (st != PRIVAUDIT_OK) {
		err_log("init", argv[optind], st, NULL);
		return EXIT_CANNOT_READ;
	}
	printf("%s\n", vkey);
	/* Where used keys outlive their erasure, forward security is gone:
	 * say so now, while the directory can still be moved. */
	if (privaudit_key_erasure_check(argv[optind], why, sizeof(why)) == PRIVAUDIT_OK &&
	    why[0] != '\0')
		warn_log("init", argv[optind], why);
	return 0;
}

/* ------------------------------------------------------------ append */

static int cmd_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tag", required_argument, NULL, 't'},
		{"batch", required_argument, NULL, 'b'},
		{"segment-size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *tag = "privaudit-append";
	uint64_t batch = 1000, segsize = 0, n = 0;
	privaudit_log *log = NULL;
	privaudit_status st;
	const char *dir;
	int c;

	while ((c = getopt_long(argc, argv, "t:b:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tag = optarg;
			break;
		case 'b':
			if (parse_num(optarg, &batch) < 0 || batch == 0) {
				fprintf(stderr, "privaudit append: --batch needs a positive number\n");
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (parse_num(optarg, &segsize) < 0 || segsize < 4096) {
				fprintf(stderr, "privaudit append: --segment-size needs at least 4096\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: privaudit append DIR [--tag NAME] [--batch N] [--segment-size BYTES] [TEXT...]\n\n"
			       "Append application records to the log in DIR: one whose text is the\n"
			       "TEXT words joined by spaces, or, without TEXT, one per line of standard\n"
			       "input (any bytes; the newline is removed).  Records are committed every\n"
			       "N lines (default 1000) and at the end: on exit 0 they are durable.\n\n"
			       "  --tag NAME            program name stored in each record\n"
			       "  --batch N             lines per commit (group commit)\n"
			       "  --segment-size BYTES  start a new segment file past this size\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: privaudit append DIR [TEXT...]\n");
		return EXIT_USAGE;
	}
	dir = argv[optind++];
	st = privaudit_open(&log, dir, 0);
	if (st != PRIVAUDIT_OK) {
		err_log("append", dir, st, NULL);
		return EXIT_CANNOT_READ;
	}
	privaudit_set_program(log, tag);
	if (segsize > 0)
		privaudit_set_segment_size(log, segsize);
	if (optind < argc) {
		size_t len = 0, off = 0;
		char *text;

		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		text = malloc(len);
		if (text == NULL) {
			privaudit_close(log);
			fprintf(stderr, "privaudit append: out of memory\n");
			return EXIT_CANNOT_READ;
		}
		for (int i = optind; i < argc; i++) {
			size_t l = strlen(argv[i]);

			memcpy(text + off, argv[i], l);
			off += l;
			text[off++] = ' ';
		}
		st = privaudit_append_text(log, text, off - 1);
		free(text);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		st = PRIVAUDIT_OK;
		while (st == PRIVAUDIT_OK && (len = getline(&line, &cap, stdin)) >= 0) {
			if (len > 0 && line[len - 1] == '\n')
				len--;
			st = privaudit_append_text(log, line, (size_t)len);
			if (st == PRIVAUDIT_OK && ++n % batch == 0)
				st = privaudit_commit(log);
		}
		if (st == PRIVAUDIT_OK && ferror(stdin)) {
			fprintf(stderr, "privaudit append: reading standard input: %s\n", strerror(errno));
			free(line);
			privaudit_close(log);
			return EXIT_CANNOT_READ;
		}
		free(line);
	}
	if (st == PRIVAUDIT_OK)
		st = privaudit_commit(log);
	if (st != PRIVAUDIT_OK) {
		err_log("append", dir, st, log);
		privaudit_close(log);
		return EXIT_CANNOT_READ;
	}
	st = privaudit_close(log);
	if (st != PRIVAUDIT_OK) {
		err_log("append", dir, st, NULL);
		return EXIT_CANNOT_READ;
	}
	return 0;
}

/* ------------------------------------------------------------ seal, checkpoint */

static int print_latest(const char *verb, const char *dir)
{
	privaudit_status st;
	size_t len = 0;
	char *note = NULL;

	st = privaudit_checkpoint_latest(dir, &note, &len);
	if (st == PRIVAUDIT_E_NOLOG) {
		fprintf(stderr, "%s %s: ", progname, verb);
		pa_print_escaped(stderr, dir, strlen(dir));
		fprintf(stderr, ": no checkpoint file (not a privaudit log, or never sealed)\n");
		return EXIT_CANNOT_READ;
	}
	if (st != PRIVAUDIT_OK) {
		err_log(verb, dir, st, NULL);
		return EXIT_CANNOT_READ;
	}
	/* A note is signed text: a valid one is printed byte for byte, as the
	 * escaping leaves printable UTF-8 alone; anything else is escaped
	 * line by line. */
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(note + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (note + i)) : len - i;

		pa_print_escaped(stdout, note + i, l);
		if (nl != NULL)
			fputc('\n', stdout);
		i += l + (nl ? 1 : 0);
	}
	free(note);
	return 0;
}

static int cmd_seal(int argc, char **argv)
{
	privaudit_log *log = NULL;
	privaudit_status st;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: privaudit seal DIR\n\n"
		       "Commit and sign a checkpoint over the whole log now (rotating to the\n"
		       "next one-time key), then print the signed checkpoint.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: privaudit seal DIR\n");
		return EXIT_USAGE;
	}
	st = privaudit_open(&log, argv[1], 0);
	if (st != PRIVAUDIT_OK) {
		err_log("seal", argv[1], st, NULL);
		return EXIT_CANNOT_READ;
	}
	privaudit_set_program(log, "privaudit-seal");
	privaudit_set_warning(log, seal_warning, argv[1]);
	st = privaudit_seal(log);
	if (st != PRIVAUDIT_OK) {
		err_log("seal", argv[1], st, log);
		privaudit_close(log);
		return EXIT_CANNOT_READ;
	}
	privaudit_close(log);
	return print_latest("seal", argv[1]);
}

static int cmd_checkpoint(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: privaudit checkpoint DIR\n\n"
		       "Print the newest signed checkpoint of the log (C2SP tlog-checkpoint in\n"
		       "signed-note form).  Keep copies off the host: 'verify --trusted' proves\n"
		       "the log still extends them.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: privaudit checkpoint DIR\n");
		return EXIT_USAGE;
	}
	return print_latest("checkpoint", argv[1]);
}

/* ------------------------------------------------------------ verify */

/* verify --all: every damaged range, not only the first. */
struct damage_list {
	int scanned;
	privaudit_status st;
	privaudit_damage *d;
	size_t n;
};

static void damage_json(const struct damage_list *dl)
{
	if (!dl->scanned)
		return;
	if (dl->st != PRIVAUDIT_OK) {
		fputs(",\"damage\":null", stdout);
		return;
	}
	fputs(",\"damage\":[", stdout);
	for (size_t i = 0; i < dl->n; i++) {
		const privaudit_damage *d = &dl->d[i];

		printf("%s{\"first_index\":%" PRIu64 ",\"segment\":%" PRIu64 ",\"offset\":%" PRIu64,
		       i ? "," : "", d->first_index, d->segment, d->offset);
		if (d->resumed_index != UINT64_MAX)
			printf(",\"resumed_index\":%" PRIu64 ",\"resumed_segment\":%" PRIu64
			       ",\"resumed_offset\":%" PRIu64,
			       d->resumed_index, d->end_segment, d->end_offset);
		else
			fputs(",\"resumed_index\":null", stdout);
		fputs(",\"what\":", stdout);
		pa_print_json_string(stdout, d->what, strlen(d->what));
		fputc('}', stdout);
	}
	fputc(']', stdout);
}

static void damage_text(const struct damage_list *dl)
{
	if (!dl->scanned)
		return;
	if (dl->st != PRIVAUDIT_OK) {
		printf("damage:       not scanned: %s\n", privaudit_strerror(dl->st));
		return;
	}
	if (dl->n == 0) {
		printf("damage:       no damaged frame in the segment files\n");
		return;
	}
	printf("damage:       %zu damaged range(s) in the segment files:\n", dl->n);
	for (size_t i = 0; i < dl->n; i++) {
		const privaudit_damage *d = &dl->d[i];

		printf("  %zu. from record %" PRIu64 ", segment %" PRIu64 " offset %" PRIu64 ": %s; ",
		       i + 1, d->first_index, d->segment, d->offset, d->what);
		if (d->resumed_index == UINT64_MAX)
			printf("nothing readable after it\n");
		else
			printf("read again at record %" PRIu64 " (segment %" PRIu64 " offset %" PRIu64
			       "): %" PRIu64 " record(s) lost\n",
			       d->resumed_index, d->end_segment, d->end_offset,
			       d->resumed_index - d->first_index);
	}
}

static void verify_json(const char *dir, const privaudit_verify_report *r, int code,
			const struct damage_list *dl)
{
	fputs("{\"log\":", stdout);
	pa_print_json_string(stdout, dir, strlen(dir));
	fputs(",\"origin\":", stdout);
	pa_print_json_string(stdout, r->origin, strlen(r->origin));
	printf(",\"ok\":%s,\"exit\":%d,\"status\":", r->status == PRIVAUDIT_OK ? "true" : "false", code);
	pa_print_json_string(stdout, privaudit_strerror(r->status), strlen(privaudit_strerror(r->status)));
	printf(",\"class\":\"%s\"", status_class(r->status));
	printf(",\"records\":%" PRIu64 ",\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64
	       ",\"checkpoints\":%" PRIu64 ",\"sealed\":%" PRIu64 ",\"unsealed\":%" PRIu64,
	       r->records, r->segments, r->bytes, r->checkpoints, r->sealed, r->unsealed);
	if (r->checkpoints > 0)
		printf(",\"newest_checkpoint\":{\"size\":%" PRIu64 ",\"time\":%" PRId64 "}",
		       r->newest_size, r->newest_time);
	else
		fputs(",\"newest_checkpoint\":null", stdout);
	printf(",\"pinned\":%s,\"trusted\":%s,\"torn_bytes\":%" PRIu64, r->pinned ? "true" : "false",
	       r->trusted_checked ? "true" : "false", r->torn_bytes);
	printf(",\"backdated\":%" PRIu64 ",\"resumed_at\":%" PRIu64 ",\"started_at\":%" PRIu64,
	       r->backdated, r->resumed_at, r->started_at);
	if (r->witnessed > 0)
		printf(",\"witnessed\":{\"size\":%" PRIu64 ",\"time\":%" PRId64 "}", r->witnessed,
		       r->witness_time);
	else
		fputs(",\"witnessed\":null", stdout);
	if (r->status != PRIVAUDIT_OK && r->has_bad)
		printf(",\"first_bad\":{\"index\":%" PRIu64 ",\"segment\":%" PRIu64 ",\"offset\":%" PRIu64 "}",
		       r->bad_index, r->bad_segment, r->bad_offset);
	else
		fputs(",\"first_bad\":null", stdout);
	fputs(",\"detail\":", stdout);
	pa_print_json_string(stdout, r->detail, strlen(r->detail));
	damage_json(dl);
	fputs("}\n", stdout);
}

static void verify_text(const char *dir, const privaudit_verify_report *r, int key_given)
{
	fputs("log:          ", stdout);
	pa_print_escaped(stdout, dir, strlen(dir));
	fputs("\norigin:       ", stdout);
	pa_print_escaped(stdout, r->origin, strlen(r->origin));
	if (r->resumed_at > 0) {
		printf("\nrecords:      %" PRIu64 ", %" PRIu64 " of them checked now, in %" PRIu64
		       " segment%s, %" PRIu64 " bytes\n",
		       r->records, r->records - r->resumed_at, r->segments, r->segments == 1 ? "" : "s",
		       r->bytes);
		if (r->resumed_by == 1)
			printf("resumed:      after record %" PRIu64 ", the checkpoint --state was saved "
			       "at: the records up to it were verified then, not read now\n",
			       r->resumed_at - 1);
		else
			printf("resumed:      at record %" PRIu64 ", the segment holding the --trusted "
			       "checkpoint: its root vouches for the records before, not read now\n",
			       r->resumed_at);
	} else
		printf("\nrecords:      %" PRIu64 " in %" PRIu64 " segment%s, %" PRIu64 " bytes\n",
		       r->records, r->segments, r->segments == 1 ? "" : "s", r->bytes);
	if (r->started_at > 0)
		printf("archived:     records 0..%" PRIu64 " are not here, only %" PRIu64
		       " from record %" PRIu64 " on (its segment_start holds the Merkle frontier of "
		       "those before); --archive ADIR checks them too\n",
		       r->started_at - 1, r->records - r->started_at, r->started_at);
	printf("checkpoints:  %" PRIu64 " verified\n", r->checkpoints);
	if (r->checkpoints > 0) {
		printf("newest:       checkpoint of size %" PRIu64 " at ", r->newest_size);
		print_time(stdout, r->newest_time);
		fputc('\n', stdout);
	} else {
		printf("newest:       none\n");
	}
	printf("sealed:       %" PRIu64 " records\n", r->sealed);
	printf("unsealed:     %" PRIu64 " records after the newest checkpoint\n", r->unsealed);
	if (r->torn_bytes > 0)
		printf("torn tail:    %" PRIu64 " bytes left by an interrupted writer (cut and recorded by the next writer)\n",
		       r->torn_bytes);
	if (r->pinned)
		printf("key:          pinned (the log's first key is the --key given)\n");
	else if (key_given)
		printf("key:          --key given, not reached (verification stopped before the genesis record)\n");
	else
		printf("key:          NOT pinned (first key taken from the log itself)\n");
	if (r->trusted_checked)
		printf("trusted:      the log extends the trusted checkpoint\n");
	if (r->backdated > 0)
		printf("backdated:    %" PRIu64 " record(s) dated more than %d s before a checkpoint "
		       "signed before them, from record %" PRIu64 "\n",
		       r->backdated, PRIVAUDIT_BACKDATE_SLACK, r->backdated_index);
	if (r->witnessed > 0) {
		printf("witnessed:    checkpoint of size %" PRIu64 " cosigned at ", r->witnessed);
		print_time(stdout, r->witness_time);
		fputc('\n', stdout);
	}
	if (r->status == PRIVAUDIT_OK) {
		printf("result:       OK\n");
		return;
	}
	printf("result:       FAILED (%s): ", status_class(r->status));
	pa_print_escaped(stdout, privaudit_strerror(r->status), strlen(privaudit_strerror(r->status)));
	fputs(": ", stdout);
	pa_print_escaped(stdout, r->detail, strlen(r->detail));
	fputc('\n', stdout);
	if (r->has_bad)
		printf("first bad:    record %" PRIu64 " (segment %" PRIu64 ", offset %" PRIu64 ")\n",
		       r->bad_index, r->bad_segment, r->bad_offset);
}

/* The verification state to FILE: written beside it, synced, renamed
 * over it; 0600 (the auditor's, though nothing in it is secret). */
static int save_state(const char *path, const void *buf, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	int fd, e = 0;

	if (tmp == NULL)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".new", 5);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0)
		e = errno ? errno : EIO;
	if (fd >= 0 && close(fd) < 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) < 0)
		e = errno;
	if (e != 0)
		unlink(tmp);
	free(tmp);
	errno = e;
	return e == 0 ? 0 : -1;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"trusted", required_argument, NULL, 't'},
		{"max-age", required_argument, NULL, 'm'},
		{"witness", required_argument, NULL, 'w'},
		{"state", required_argument, NULL, 's'},
		{"archive", required_argument, NULL, 'a'},
		{"full", no_argument, NULL, 'F'},
		{"all", no_argument, NULL, 'A'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *trusted = NULL, *dir, *witness[PRIVAUDIT_WITNESS_MAX];
	const char *statefile = NULL, *archive = NULL;
	struct damage_list dl = {0};
	int full = 0, all = 0;
	size_t nwitness = 0;
	uint64_t max_age = 0;
	int json = 0, quiet = 0, c, code;
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	struct progress prog;
	privaudit_status st;

	while ((c = getopt_long(argc, argv, "k:t:m:w:s:a:FAjqh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 's':
			statefile = optarg;
			break;
		case 'a':
			archive = optarg;
			break;
		case 'F':
			full = 1;
			break;
		case 'A':
			all = 1;
			break;
		case 'w':
			if (nwitness == PRIVAUDIT_WITNESS_MAX) {
				fprintf(stderr, "privaudit verify: at most %d --witness\n",
					PRIVAUDIT_WITNESS_MAX);
				return EXIT_USAGE;
			}
			witness[nwitness++] = optarg;
			break;
		case 't':
			trusted = optarg;
			break;
		case 'm':
			if (parse_num(optarg, &max_age) < 0 || max_age == 0 || max_age > INT64_MAX) {
				fprintf(stderr, "privaudit verify: --max-age needs a positive number of seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			printf("usage: privaudit verify DIR [--key PUBFILE] [--trusted CHECKPOINTFILE]\n"
			       "                        [--max-age SECONDS] [--witness VKEYFILE]... [--state FILE]\n"
			       "                        [--archive ADIR] [--full] [--all] [--json] [--quiet]\n\n"
			       "Check every record, the Merkle tree, every checkpoint signature and the\n"
			       "key rotation chain.  Needs nothing secret.\n\n"
			       "  --key PUBFILE       pin the log's first public key (log.pub kept off the host)\n"
			       "  --trusted FILE      the log must extend this checkpoint seen earlier\n"
			       "  --max-age SECONDS   fail if the newest checkpoint is older than this\n"
			       "  --witness VKEYFILE  the checkpoint file or the --trusted note must carry a\n"
			       "                      valid cosignature by this witness (repeat: by each)\n"
			       "  --state FILE        resume from the state an earlier run saved in FILE (the\n"
			       "                      Merkle frontier at its newest checkpoint) and check only\n"
			       "                      what is new; saved again when the log verifies\n"
			       "  --archive ADIR      the segments privaudit archive moved to ADIR come first:\n"
			       "                      the whole log, from its first key\n"
			       "  --full              read every record, also with --state or --trusted (which\n"
			       "                      otherwise skip what they vouch for)\n"
			       "  --all               when the log fails, list every damaged range of its\n"
			       "                      segment files, not only the first bad record\n"
			       "  --json              one JSON object instead of text\n"
			       "  --quiet             no report; the exit status tells\n\n"
			       "Exit status: 0 verified, 1 cannot read, 2 usage, 3 corrupt, 4 tampered,\n"
			       "5 signature or key, 6 truncated, 7 does not extend --trusted, 8 stale,\n"
			       "10 no valid cosignature by a --witness.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: privaudit verify DIR [--key PUBFILE] [--trusted FILE] [--max-age SECONDS] [--json]\n");
		return EXIT_USAGE;
	}
	dir = argv[optind];
	st = privaudit_verifier_new(&v, dir);
	if (st != PRIVAUDIT_OK) {
		err_log("verify", dir, st, NULL);
		return EXIT_CANNOT_READ;
	}
	if (keyfile != NULL) {
		size_t len = 0;
		char *text = read_text_file(keyfile, &len);

		if (text == NULL) {
			fprintf(stderr, "privaudit verify: %s: %s\n", keyfile, strerror(errno));
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
		st = privaudit_verifier_pin_key(v, text);
		free(text);
		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "privaudit verify: %s: not a privaudit public key line\n", keyfile);
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
	} else if (!quiet) {
		fprintf(stderr, "privaudit verify: warning: no --key given: the first key is taken from the "
				"log itself, so a rewritten log would verify; pin the log.pub kept off the host\n");
	}
	if (trusted == NULL && !quiet)
		fprintf(stderr, "privaudit verify: warning: no --trusted checkpoint: a log rolled back "
				"from a backup with its log.key and resealed verifies; only a checkpoint "
				"kept off the host detects that\n");
	if (trusted != NULL) {
		size_t len = 0;
		char *text = read_text_file(trusted, &len);

		if (text == NULL) {
			fprintf(stderr, "privaudit verify: %s: %s\n", trusted, strerror(errno));
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
		st = privaudit_verifier_trust(v, text, len);
		free(text);
		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "privaudit verify: %s: not a signed checkpoint note\n", trusted);
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < nwitness; i++) {
		char *text = read_key_line(witness[i]);

		if (text == NULL) {
			fprintf(stderr, "privaudit verify: %s: %s\n", witness[i], strerror(errno));
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
		st = privaudit_verifier_require_witness(v, text);
		free(text);
		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "privaudit verify: %s: not a witness key line (keygen-witness's .pub)\n",
				witness[i]);
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
	}
	if (max_age > 0)
		privaudit_verifier_max_age(v, (int64_t)max_age, 0);
	if (full)
		(void)privaudit_verifier_read_all(v);
	if (archive != NULL && (st = privaudit_verifier_archive(v, archive)) != PRIVAUDIT_OK) {
		fprintf(stderr, "privaudit verify: %s: %s\n", archive, strerror(errno));
		privaudit_verifier_free(v);
		return EXIT_USAGE;
	}
	if (statefile != NULL) {
		size_t len = 0;
		char *buf = read_file(statefile, 1u << 20, &len);

		if (buf == NULL && errno != ENOENT) {
			fprintf(stderr, "privaudit verify: %s: %s\n", statefile, strerror(errno));
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
		st = buf != NULL ? privaudit_verifier_resume(v, buf, len) : privaudit_verifier_keep_state(v);
		free(buf);
		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "privaudit verify: %s: %s\n", statefile,
				st == PRIVAUDIT_E_FORMAT ? "not a verification state (privaudit verify --state)"
							 : privaudit_strerror(st));
			privaudit_verifier_free(v);
			return EXIT_USAGE;
		}
	}
	progress_init(&prog, "verifying");
	if (!json && !quiet)
		privaudit_verifier_progress(v, show_progress, &prog);
	st = privaudit_verify_run(v, &rep);
	progress_done(&prog);
	if (st == PRIVAUDIT_E_PINNED_KEY && !quiet)
		explain_key_mismatch("verify", dir, keyfile);
	code = status_exit(st);
	if (st == PRIVAUDIT_OK && statefile != NULL) {
		void *buf = NULL;
		size_t len = 0;

		if (privaudit_verifier_state(v, &buf, &len) != PRIVAUDIT_OK)
			fprintf(stderr, "privaudit verify: %s not saved: the log has no checkpoint yet\n",
				statefile);
		else if (save_state(statefile, buf, len) < 0) {
			fprintf(stderr, "privaudit verify: %s: %s\n", statefile, strerror(errno));
			code = EXIT_CANNOT_READ;
		}
		free(buf);
	}
	if (all && rep != NULL && rep->status != PRIVAUDIT_OK && !quiet) {
		dl.scanned = 1;
		dl.st = privaudit_damage_scan(dir, &dl.d, &dl.n, NULL);
	}
	if (rep != NULL && !quiet) {
		if (json) {
			verify_json(dir, rep, code, &dl);
		} else {
			verify_text(dir, rep, keyfile != NULL);
			damage_text(&dl);
		}
	}
	free(dl.d);
	privaudit_verifier_free(v);
	return code;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} verbs[] = {
		{"init", cmd_init},
		{"append", cmd_append},
		{"seal", cmd_seal},
		{"checkpoint", cmd_checkpoint},
		{"verify", cmd_verify},
		{"sessions", cmd_sessions},
		{"replay", cmd_replay},
		{"report", cmd_report},
		{"show", cmd_show},
		{"export", cmd_export},
		{"tail", cmd_tail},
		{"prove", cmd_prove},
		{"check-proof", cmd_check_proof},
		{"ship-status", cmd_ship_status},
		{"archive", cmd_archive},
		{"keygen-witness", cmd_keygen_witness},
		{"keygen-auditor", cmd_keygen_auditor},
		{"cosign", cmd_cosign},
		{"collect", cmd_collect},
		{"fleet", cmd_fleet},
	};

	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("privaudit %s (libprivaudit %s)\n", PACKAGE_VERSION, privaudit_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) == 0) {
			char name[64];
			int rc;

			/* getopt names the verb in its messages: "privaudit show:" */
			snprintf(name, sizeof(name), "%s %s", progname, verbs[i].name);
			argv[1] = name;
			optind = 1;
			rc = verbs[i].fn(argc - 1, argv + 1);
			/* > /dev/full: said, and never exit 0 */
			return stdout_failed(verbs[i].name) && rc == 0 ? EXIT_CANNOT_READ : rc;
		}
	}
	fprintf(stderr, "privaudit: unknown command '");
	pa_print_escaped(stderr, argv[1], strlen(argv[1]));
	fprintf(stderr, "'\n");
	usage_main(stderr);
	return EXIT_USAGE;
}
