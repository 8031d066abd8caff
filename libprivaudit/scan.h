/* SPDX-License-Identifier: ISC */
/* scan.h: reads a segment's frames on a second thread, checking their CRC
 * and computing their Merkle leaf hashes ahead of the verifier, so that
 * verification uses both cores. */
#ifndef PA_SCAN_H
#define PA_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "segment.h"

typedef struct pa_scan_frame {
	const unsigned char *entry;   /* valid until the next pa_scanner_next() */
	uint32_t len;
	uint64_t offset;              /* of the frame in the segment file */
	unsigned char leaf[PA_HASH_LEN];
} pa_scan_frame;

typedef struct pa_scan_batch {
	const pa_scan_frame *frames;
	size_t n;
	int last;                     /* no batch follows this one */
	/* when last: why the frames stopped */
	pa_frame_status end;          /* PA_FRAME_END, _TORN, _BADLEN, _BADCRC, _IOERR */
	uint64_t end_offset;          /* where the frame that stopped them begins */
	uint32_t end_len;             /* its length field, for _BADCRC */
	int end_errno;                /* for _IOERR */
} pa_scan_batch;

typedef struct pa_scanner pa_scanner;

/* Start reading [start, end) of fd.  NULL when out of memory or threads. */
pa_scanner *pa_scanner_start(int fd, uint64_t start, uint64_t end);
/* The next batch, in file order; the previous one is released. */
const pa_scan_batch *pa_scanner_next(pa_scanner *s);
/* Stop early or at the end; NULL-safe. */
void pa_scanner_stop(pa_scanner *s);

#endif
