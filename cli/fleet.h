/* SPDX-License-Identifier: ISC */
/* fleet.h: the collector's per-host status file and the names of mirrors,
 * shared by `privaudit collect` (which writes them) and `privaudit fleet`
 * (which reads them). */
#ifndef PA_CLI_FLEET_H
#define PA_CLI_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "privaudit.h"

#define FLEET_STATUS_FILE "collect-status"
#define FLEET_ALERTS_MAX 32

struct fleet_status {
	privaudit_mirror_state mirror;
	uint64_t host_size;           /* records the host said it has */
	int64_t last_seen;            /* unix seconds of its last message, 0 never */
	int stale;                    /* collect raised a stale alert still standing */
	size_t nalerts;               /* oldest first */
	int64_t alert_time[FLEET_ALERTS_MAX];
	const char *alert_type[FLEET_ALERTS_MAX];
	const char *alert_detail[FLEET_ALERTS_MAX];
};

/* DIR name of a host log's mirror: the origin with every byte outside
 * [A-Za-z0-9._-] as '_', '-', the first 16 hex digits of the log id. */
void fleet_mirror_name(char *buf, size_t len, const char *origin, const char *log_id);
/* Write dir/collect-status (replaced atomically).  0, or -1 with errno. */
int fleet_status_write(const char *dir, const struct fleet_status *fs);

int cmd_fleet(int argc, char **argv);

#endif
