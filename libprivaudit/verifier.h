/* SPDX-License-Identifier: ISC */
/* verifier.h: what the reader and the proof builder take from a verifier
 * run: each record that passed its checks, and every leaf hash. */
#ifndef PA_VERIFIER_H
#define PA_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "record.h"

/* Called in log order for every record once it has passed the checks that
 * can be made when it is read (its own checkpoint, if any, included).  A
 * record is covered by a verified checkpoint only if the run ends with
 * report->sealed above its index. */
typedef void (*pa_verify_hook)(void *arg, uint64_t index, const unsigned char *entry, size_t len,
			       const pa_record *rec);
void pa_verifier_set_hook(privaudit_verifier *v, pa_verify_hook fn, void *arg) PA_HIDDEN;
/* Keep the leaf hash of every record read (32 bytes each). */
void pa_verifier_keep_leaves(privaudit_verifier *v) PA_HIDDEN;
const unsigned char (*pa_verifier_leaves(const privaudit_verifier *v, uint64_t *n))[PA_HASH_LEN] PA_HIDDEN;

#endif
