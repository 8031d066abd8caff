/* SPDX-License-Identifier: ISC */
/* archive.c: privaudit archive, moving old segments out of the live log
 * (the library's privaudit_archive() does the work). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privaudit.h"
#include "cli.h"
#include "escape.h"

/* "90d", "12h", "2w", "3600" (seconds): seconds, or -1. */
static int64_t parse_age(const char *s)
{
	uint64_t n = 0, unit = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (n > (uint64_t)INT64_MAX / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (n > (uint64_t)INT64_MAX / unit)
		return -1;
	return (int64_t)(n * unit);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit archive DIR --to ARCHIVE_DIR (--before INDEX | --older-than AGE) [--force] [--json]\n\n"
		"Move closed segments out of the live log into ARCHIVE_DIR, each compressed\n"
		"(zstd) as seg-N.zst, oldest first.  The live log keeps verifying from its\n"
		"first segment's segment_start record; the archive verifies on its own, or\n"
		"joined: privaudit verify DIR --archive ARCHIVE_DIR.\n\n"
		"  --to DIR           where the archived segments go (made if missing)\n"
		"  --before INDEX     segments whose records all lie below record INDEX\n"
		"  --older-than AGE   segments closed more than AGE ago (90d, 12h, 2w, seconds)\n"
		"  --force            also segments the collector has not acknowledged (ship-state)\n"
		"  --json             one JSON object\n\n"
		"Never the segment being written, and only up to a segment that starts with a\n"
		"segment_start record.  Exit status: 0 done (maybe nothing to move), 1 failed,\n"
		"2 usage.\n");
}

int cmd_archive(int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},
		{"before", required_argument, NULL, 'b'},
		{"older-than", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	privaudit_archive_opts o = { 0, -1, 0, 0 };
	privaudit_archive_report rep;
	const char *to = NULL, *dir;
	privaudit_status st;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "t:b:o:fjh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'b':
			if (parse_num(optarg, &o.before_index) < 0 || o.before_index == 0) {
				fprintf(stderr, "privaudit archive: --before needs a record index above 0\n");
				return EXIT_USAGE;
			}
			break;
		case 'o':
			o.older_than_s = parse_age(optarg);
			if (o.older_than_s < 0) {
				fprintf(stderr, "privaudit archive: --older-than: '%s' is not an age "
						"(like 90d, 12h, 2w, 30m or seconds)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			o.flags |= PRIVAUDIT_ARCHIVE_FORCE;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || to == NULL || (o.before_index == 0 && o.older_than_s < 0)) {
		fprintf(stderr, "privaudit archive: %s\n",
			optind + 1 != argc ? "give one log directory"
			: to == NULL       ? "--to ARCHIVE_DIR is needed"
					   : "say what to move: --before INDEX or --older-than AGE");
		return EXIT_USAGE;
	}
	dir = argv[optind];
	st = privaudit_archive(dir, to, &o, &rep);
	if (json) {
		printf("{\"ok\":%s,\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"compressed_bytes\":%" PRIu64 ",\"first_segment\":%" PRIu64
		       ",\"first_index\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"stopped_unshipped\":%s"
		       ",\"stopped_no_segment_start\":%s,\"detail\":",
		       st == PRIVAUDIT_OK ? "true" : "false", rep.segments, rep.bytes_in, rep.bytes_out,
		       rep.first_segment, rep.first_index, rep.acked, rep.unshipped ? "true" : "false",
		       rep.no_anchor ? "true" : "false");
		pa_print_json_string(stdout, rep.detail, strlen(rep.detail));
		fputs("}\n", stdout);
	}
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "privaudit archive: %s: %s: ", dir, privaudit_strerror(st));
		pa_print_escaped(stderr, rep.detail, strlen(rep.detail));
		fputc('\n', stderr);
		return EXIT_CANNOT_READ;
	}
	if (json)
		return 0;
	if (rep.segments == 0) {
		fputs("privaudit archive: ", stdout);
		pa_print_escaped(stdout, rep.detail, strlen(rep.detail));
		fputc('\n', stdout);
	} else {
		printf("archived:     %" PRIu64 " segment%s, %" PRIu64 " bytes, %" PRIu64
		       " compressed (%.1f%%)\n",
		       rep.segments, rep.segments == 1 ? "" : "s", rep.bytes_in, rep.bytes_out,
		       rep.bytes_in ? 100.0 * (double)rep.bytes_out / (double)rep.bytes_in : 0.0);
	}
	printf("live log:     starts at segment %" PRIu64 ", record %" PRIu64 "\n", rep.first_segment,
	       rep.first_index);
	if (rep.unshipped)
		printf("kept:         the next segment holds records the collector has not acknowledged "
		       "(%" PRIu64 " acknowledged); --force moves them anyway\n",
		       rep.acked);
	if (rep.no_anchor)
		printf("kept:         the next segment has no complete segment_start record (written "
		       "before archiving existed, or without log.pub): the live log can only start at "
		       "one that has\n");
	return 0;
}
