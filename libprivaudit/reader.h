/* SPDX-License-Identifier: ISC */
/* reader.h: record access for the rest of the library.  The reader itself
 * is private to reader.c; the session module (session.c) and the proofs
 * reach what they need of it through these functions, and the reader
 * calls neither of them. */
#ifndef PA_READER_H
#define PA_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "record.h"
#include "segment.h"
#include "util.h"
#include "verifier.h"

struct privaudit_record {
	uint64_t index, segment, offset;
	const unsigned char *entry;   /* index || packed record */
	size_t len;
	pa_record *rec;               /* decoded, in an arena */
	int verified;
	int after_damage;             /* read past damage the reader stepped over */
	uint64_t damage_index;        /* ...the first record it lost */
};

/* Point rec at a decoded entry; E_FORMAT when it does not decode. */
privaudit_status pa_record_view(struct privaudit_record *rec, pa_arena *arena,
				const unsigned char *entry, size_t len, uint64_t segment,
				uint64_t offset) PA_HIDDEN;

/* What the session module keeps on a reader: the reader frees it with the
 * reader, and asks it where a record is (0 and *seg, *off when known), so
 * privaudit_reader_get() need not read from the start. */
typedef struct pa_reader_attachment {
	void (*free)(void *obj);
	int (*locate)(void *obj, uint64_t index, uint64_t *seg, uint64_t *off);
} pa_reader_attachment;
void pa_reader_attach(privaudit_reader *r, void *obj, const pa_reader_attachment *ops) PA_HIDDEN;
void *pa_reader_attached(const privaudit_reader *r, const pa_reader_attachment *ops) PA_HIDDEN;

/* The reader's parts others use. */
int pa_reader_dirfd(const privaudit_reader *r) PA_HIDDEN;
const char *pa_reader_dir(const privaudit_reader *r) PA_HIDDEN;
pa_err *pa_reader_err(privaudit_reader *r) PA_HIDDEN;
/* The log id read from a segment header so far, or NULL. */
const unsigned char *pa_reader_log_id(const privaudit_reader *r) PA_HIDDEN;
privaudit_progress_fn pa_reader_progress_fn(const privaudit_reader *r, void **arg) PA_HIDDEN;
/* After privaudit_reader_verify(): the verifier and its report, else NULL. */
privaudit_verifier *pa_reader_verifier(const privaudit_reader *r) PA_HIDDEN;
const privaudit_verify_report *pa_reader_report(const privaudit_reader *r) PA_HIDDEN;
/* Counts the verifications run: what was built from records read before
 * the last one may now be checked against the verified tree. */
unsigned pa_reader_generation(const privaudit_reader *r) PA_HIDDEN;

/* Segment numbers of the log, sorted (malloc'd). */
privaudit_status pa_reader_segments(privaudit_reader *r, uint64_t **segs, size_t *n) PA_HIDDEN;
/* Make the next privaudit_reader_next() read record index at (seg, off). */
privaudit_status pa_reader_resume(privaudit_reader *r, uint64_t seg, uint64_t off,
				  uint64_t index) PA_HIDDEN;
/* Record at a known position (checked like every record returned). */
privaudit_status pa_reader_read_at(privaudit_reader *r, uint64_t index, uint64_t seg,
				   uint64_t off, const privaudit_record **rec) PA_HIDDEN;

/* privaudit_reader_verify() with a hook on every record that passed. */
privaudit_status pa_reader_verify_hooked(privaudit_reader *r, const char *pin_vkey,
					 pa_verify_hook hook, void *arg,
					 const privaudit_verify_report **report) PA_HIDDEN;

#endif
