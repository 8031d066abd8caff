/* SPDX-License-Identifier: ISC */
/* iolog.h: the terminal I/O of a session's sudo commands, put back
 * together from its io_open, io_chunk and io_close records
 * (sudo_privaudit(8), doc/format.md "Terminal I/O"), checked for chunks
 * and bytes that are missing or recorded twice, and opened with the
 * auditors' secret key when its keystrokes were sealed. */
#ifndef PA_IOLOG_H
#define PA_IOLOG_H

#include <stdint.h>
#include <stdio.h>

#include "privaudit.h"
#include "ttyplay.h"

struct io_set;

/* The auditors' secret key (privaudit keygen-auditor), in sodium_malloc
 * memory: io_key_load() returns NULL after saying why on stderr. */
struct io_key;
struct io_key *io_key_load(const char *verb, const char *path);
void io_key_free(struct io_key *k);

/* Collect the I/O records among the session's records idx[0..n) (index
 * order).  Problems (a chunk missing, bytes lost, input sealed to another
 * key) are said on stderr as they are found; *problems counts them.
 * Returns NULL out of memory or when a record cannot be read (said). */
struct io_set *io_collect(const char *verb, const char *dir, privaudit_reader *r,
			  const uint64_t *idx, size_t n, const struct io_key *key,
			  uint64_t *problems);
void io_set_free(struct io_set *set);
/* How many commands were recorded. */
size_t io_count(const struct io_set *set);

/* Play command i (0-based) with opts, a header line before it when
 * header is set.  0, or -1 with errno (a write error). */
int io_play(const struct io_set *set, size_t i, const struct pa_tty_opts *opts, int header,
	    FILE *out);

/* replay's timeline line for an io_open, io_chunk or io_close record
 * (after the time, index and mark): the command, the input typed (opened
 * with key when sealed), the end.  Returns 0 when the record has nothing
 * to show in the timeline (a chunk of output only). */
int io_timeline(FILE *out, const privaudit_record *rec, const struct io_key *key);
/* 0 for an io_chunk with no input in it (output only, not in the
 * timeline); 1 for any other record. */
int io_has_input(const privaudit_record *rec);

#endif
