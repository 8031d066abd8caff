/* SPDX-License-Identifier: ISC */
/* pa-writer.c: a test writer: appends COUNT records "w<ID>-<n>", commits
 * every BATCH, prints "committed <n>" after each commit, and seals every
 * SEAL_EVERY commits.  Used by the crash and concurrency tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privaudit.h"

int main(int argc, char **argv)
{
	unsigned long count, batch, seal_every = 0, commits = 0;
	privaudit_log *log = NULL;
	privaudit_status st;
	const char *id;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: pa-writer DIR ID COUNT BATCH [SEAL_EVERY]\n");
		return 2;
	}
	id = argv[2];
	count = strtoul(argv[3], NULL, 10);
	batch = strtoul(argv[4], NULL, 10);
	if (argc == 6)
		seal_every = strtoul(argv[5], NULL, 10);
	if (batch == 0)
		batch = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	st = privaudit_open(&log, argv[1], PRIVAUDIT_OPEN_ANNOUNCE);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "pa-writer: open: %s\n", privaudit_strerror(st));
		return 1;
	}
	privaudit_set_program(log, "pa-writer");
	for (unsigned long n = 0; n < count; n++) {
		char text[64];
		int len = snprintf(text, sizeof(text), "w%s-%lu", id, n);

		st = privaudit_append_text(log, text, (size_t)len);
		if (st == PRIVAUDIT_OK && (n + 1) % batch == 0) {
			st = privaudit_commit(log);
			if (st == PRIVAUDIT_OK) {
				printf("committed %lu\n", n + 1);
				commits++;
				if (seal_every > 0 && commits % seal_every == 0)
					st = privaudit_seal(log);
			}
		}
		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "pa-writer: %s (%s)\n", privaudit_strerror(st),
				privaudit_log_error(log));
			privaudit_close(log);
			return 1;
		}
	}
	st = privaudit_commit(log);
	if (st == PRIVAUDIT_OK)
		printf("committed %lu\n", count);
	if (privaudit_close(log) != PRIVAUDIT_OK || st != PRIVAUDIT_OK) {
		fprintf(stderr, "pa-writer: final commit failed\n");
		return 1;
	}
	return 0;
}
