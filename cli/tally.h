/* SPDX-License-Identifier: ISC */
/* tally.h: counting by key (a user, a host, a program) for privaudit
 * report, in a balanced tree: keys come from the log, and a log crafted so
 * that its names collide must not make counting quadratic. */
#ifndef PA_CLI_TALLY_H
#define PA_CLI_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "privaudit.h"

/* A key is one or more byte strings (parts), compared as bytes.  What the
 * counts mean is the caller's: count ranks the entries, the others ride
 * along. */
struct tally_entry {
	uint64_t count;
	uint64_t extra[2];
	size_t len;              /* of key: each part as a 4-byte length, then its bytes */
	unsigned char key[];
};

struct tally;

struct tally *tally_new(void);
void tally_free(struct tally *t);
/* The entry for these parts, made with zero counts when new; it stays
 * where it is until the tally is freed.  NULL when out of memory. */
struct tally_entry *tally_get(struct tally *t, const privaudit_bytes *parts, size_t nparts);
size_t tally_size(const struct tally *t);
/* Every entry, by count (largest first, then by key), or by key alone;
 * malloc'd (tally_size() of them), NULL when out of memory or empty. */
struct tally_entry **tally_sorted(const struct tally *t, int by_key);
/* Part i of an entry's key (empty when there is no such part). */
privaudit_bytes tally_part(const struct tally_entry *e, size_t i);

#endif
