/* SPDX-License-Identifier: ISC */
/* bench-fleet-writer.c: a host's steady stream of records for
 * bench-fleet.sh's lag run: RATE records a second into the log at DIR for
 * SECONDS, committed (durable) every 10 ms and sealed every 100 ms, as a
 * busy host's writers would; one process, one open, so that the rate is
 * the host's and not process start-up's.
 *
 *   bench-fleet-writer DIR ID RATE SECONDS
 *
 * Record texts are "f<ID>-<n>".  Exits 0, or 1 when the log fails. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "privaudit.h"

#define TICK_NS 10000000L       /* a commit every 10 ms */
#define SEAL_EVERY 10           /* a seal every 10 commits */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	privaudit_log *log = NULL;
	privaudit_status st = PRIVAUDIT_OK;
	unsigned long rate, secs, n = 0, ticks, tick;
	int64_t start;
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: bench-fleet-writer DIR ID RATE SECONDS\n");
		return 2;
	}
	rate = strtoul(argv[3], NULL, 10);
	secs = strtoul(argv[4], NULL, 10);
	ticks = secs * (1000000000L / TICK_NS);
	st = privaudit_open(&log, argv[1], PRIVAUDIT_OPEN_ANNOUNCE);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "bench-fleet-writer: open %s: %s\n", argv[1], privaudit_strerror(st));
		return 1;
	}
	st = privaudit_set_program(log, "bench-fleet-writer");
	start = now_ns();
	for (tick = 1; st == PRIVAUDIT_OK && tick <= ticks; tick++) {
		/* The records due by the end of this tick, then wait for it. */
		unsigned long due = (unsigned long)((uint64_t)rate * tick * TICK_NS / 1000000000L);
		int64_t wake = start + (int64_t)tick * TICK_NS;
		struct timespec ts;

		for (; st == PRIVAUDIT_OK && n < due; n++) {
			char text[64];
			int len = snprintf(text, sizeof(text), "f%s-%lu", argv[2], n);

			st = privaudit_append_text(log, text, (size_t)len);
		}
		if (st == PRIVAUDIT_OK)
			st = tick % SEAL_EVERY == 0 ? privaudit_seal(log) : privaudit_commit(log);
		if (st != PRIVAUDIT_OK)
			break;
		if (wake > now_ns()) {
			ts.tv_sec = (time_t)(wake / 1000000000);
			ts.tv_nsec = (long)(wake % 1000000000);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
	}
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "bench-fleet-writer: %s (%s)\n", privaudit_strerror(st),
			privaudit_log_error(log));
		goto out;
	}
	printf("wrote %lu records in %.3f s\n", n, (double)(now_ns() - start) / 1e9);
	rc = 0;
out:
	if (privaudit_close(log) != PRIVAUDIT_OK)
		rc = 1;
	return rc;
}
