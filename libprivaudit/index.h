/* SPDX-License-Identifier: ISC */
/* index.h: the session index, a cache beside the log (DIR/index) that lists
 * sessions and where their records are.  It is rebuilt when it does not
 * match the log and never trusted over the signed data. */
#ifndef PA_INDEX_H
#define PA_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PA_INDEX_FILE "index"

typedef struct pa_index pa_index;

/* Load r's index, check it against the log, extend it with new records or
 * rebuild it, and save it when it changed (when the directory is writable). */
privaudit_status pa_index_update(privaudit_reader *r) PA_HIDDEN;
void pa_index_free(pa_index *ix) PA_HIDDEN;
/* 0 and the position of record index when the index knows it. */
int pa_index_position(const pa_index *ix, uint64_t index, uint64_t *seg, uint64_t *off) PA_HIDDEN;
/* Why indexing stopped before the log's end (damage), or NULL. */
const char *pa_index_damage(const pa_index *ix) PA_HIDDEN;
/* Parse an index file image (fuzzing entry point): 0 when valid. */
int pa_index_parse(const unsigned char *buf, size_t len, pa_index **out) PA_HIDDEN;
/* Serialize (malloc'd). */
int pa_index_serialize(const pa_index *ix, unsigned char **buf, size_t *len) PA_HIDDEN;

#endif
