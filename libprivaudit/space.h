/* SPDX-License-Identifier: ISC */
/* space.h: free space on the log's filesystem, and the count of the events
 * a full disk kept out of the log (written as a "disk-full" gap record). */
#ifndef PA_SPACE_H
#define PA_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* The events lost to a full disk since the last gap record said so. */
typedef struct pa_lost {
	uint64_t count, bytes;
	uint64_t first_serial, last_serial;   /* 0: none of them had one */
	uint64_t first_ns, last_ns;
} pa_lost;

/* 1 for records that report events (sessions, commands, audit events,
 * application text), 0 for the log's own (writer start/stop, heartbeat,
 * gap, recovery, key rotation, checkpoint, genesis): only those may use
 * the reserve. */
int pa_is_event(Privaudit__Record__BodyCase body) PA_HIDDEN;

/* Bytes this process may still write on the filesystem of fd, or
 * UINT64_MAX when the filesystem does not say; *size: the filesystem's
 * size.  *root_blocks caches (from -1) whether the blocks ext2/3/4 keeps
 * for root count: they do for a writer with euid 0 or CAP_SYS_RESOURCE, as
 * the kernel decides. */
uint64_t pa_space_free(int fd, int *root_blocks, uint64_t *size) PA_HIDDEN;

/* Count rec (stored in bytes bytes) as lost. */
void pa_lost_add(pa_lost *l, const Privaudit__Record *rec, uint64_t bytes) PA_HIDDEN;
/* Fill gap (reason "disk-full") from l. */
void pa_lost_gap(const pa_lost *l, Privaudit__Gap *gap) PA_HIDDEN;

#endif
