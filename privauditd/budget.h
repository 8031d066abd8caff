/* SPDX-License-Identifier: ISC */
/* budget.h: keeping the live log within max_log_bytes (privauditd(8),
 * DISK BUDGET): archive the oldest segments in a child process, and say
 * so loudly when that cannot bring the log under its budget. */
#ifndef PA_DAEMON_BUDGET_H
#define PA_DAEMON_BUDGET_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

typedef void (*pad_log_fn)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct pad_budget {
	pid_t child;              /* archiving, 0: none */
	long long next_check;     /* monotonic ms */
	long long next_archive;   /* no new attempt before then, after one that moved nothing */
	long long last_alert;
	int over;                 /* over the budget, and archiving did not help */
	uint64_t live_bytes;      /* as last measured */
};

/* The live log's segment bytes (seg-* in dir). */
uint64_t pad_live_bytes(const char *dir);
/* Measure, reap or start the archiving child, alert; now in monotonic ms.
 * Returns when it wants to run again. */
long long pad_budget_tick(struct pad_budget *b, const struct pad_config *c, long long now,
			  pad_log_fn log);
/* Stop a running child (at exit): it is killed, the archive stays
 * consistent (a rerun finishes what it began). */
void pad_budget_stop(struct pad_budget *b);

#endif
