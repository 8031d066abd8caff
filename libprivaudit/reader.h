/* SPDX-License-Identifier: ISC */
/* reader.h: the reader's insides, shared by the record accessors, the
 * session index and the proofs. */
#ifndef PA_READER_H
#define PA_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "record.h"
#include "segment.h"
#include "util.h"

struct privaudit_record {
	uint64_t index, segment, offset;
	const unsigned char *entry;   /* index || packed record */
	size_t len;
	pa_record *rec;               /* decoded, in an arena */
	int verified;
};

/* Point rec at a decoded entry; E_FORMAT when it does not decode. */
privaudit_status pa_record_view(struct privaudit_record *rec, pa_arena *arena,
				const unsigned char *entry, size_t len, uint64_t segment,
				uint64_t offset) PA_HIDDEN;

struct pa_index;

struct privaudit_reader {
	int dirfd;
	char *dir;
	pa_err err;
	unsigned char log_id[PA_HASH_LEN];
	int have_log_id;

	/* where the log starts: segment 0, or after archived segments */
	uint64_t first_seg, first_index;

	/* sequential position */
	int segfd;                    /* -1: none open */
	uint64_t seg;                 /* segment open, or to open next */
	uint64_t next_index;
	uint64_t pos;                 /* offset of the next frame in seg */
	pa_segreader sr;
	int sr_live;
	pa_arena arena;
	struct privaudit_record cur;

	/* random access */
	int gfd;
	uint64_t gseg;
	unsigned char *gbuf;
	size_t gcap;

	/* after privaudit_reader_verify() */
	privaudit_verifier *ver;
	const privaudit_verify_report *rep;

	privaudit_progress_fn progress;
	void *progress_arg;

	struct pa_index *ix;
	int ix_checked;               /* brought up to date in this reader */
};

/* Segment numbers of the log, sorted (malloc'd). */
privaudit_status pa_reader_segments(privaudit_reader *r, uint64_t **segs, size_t *n) PA_HIDDEN;
/* Check a record read against the verified tree and set rec->verified. */
privaudit_status pa_reader_check(privaudit_reader *r, struct privaudit_record *rec) PA_HIDDEN;
/* Make the next privaudit_reader_next() read record index at (seg, off). */
privaudit_status pa_reader_resume(privaudit_reader *r, uint64_t seg, uint64_t off,
				  uint64_t index) PA_HIDDEN;
/* Record at a known position (checked like every record returned). */
privaudit_status pa_reader_read_at(privaudit_reader *r, uint64_t index, uint64_t seg,
				   uint64_t off, const privaudit_record **rec) PA_HIDDEN;

/* privaudit_reader_verify() with a hook on every record that passed. */
#include "verifier.h"
privaudit_status pa_reader_verify_hooked(privaudit_reader *r, const char *pin_vkey,
					 pa_verify_hook hook, void *arg,
					 const privaudit_verify_report **report) PA_HIDDEN;
/* The 12-digit session id of (host, key). */
void pa_session_id(const void *host, size_t hl, const void *key, size_t kl, char id[16]) PA_HIDDEN;

#endif
