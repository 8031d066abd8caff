/* SPDX-License-Identifier: ISC */
/* record.h: building, packing and decoding privaudit.Record messages. */
#ifndef PA_RECORD_H
#define PA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <privaudit.pb-c.h>
#include "util.h"

typedef Privaudit__Record pa_record;

/* Decode the record part of an entry (after its 8-byte index).  NULL when
 * the bytes are not a Record with a body.  Free with pa_record_free. */
pa_record *pa_record_decode(const unsigned char *buf, size_t len);
void pa_record_free(pa_record *r);
/* A bump allocator for decoding many records: nothing is freed one by one,
 * the whole arena is reset before the next record. */
typedef struct pa_arena {
	unsigned char *buf;
	size_t cap, used;
	void **big;               /* allocations that did not fit */
	size_t nbig, capbig;
	int failed;
} pa_arena;

void pa_arena_init(pa_arena *a);
void pa_arena_reset(pa_arena *a);
void pa_arena_free(pa_arena *a);
/* Like pa_record_decode, in the arena: valid until its next reset. */
pa_record *pa_record_decode_arena(pa_arena *a, const unsigned char *buf, size_t len);

/* A Record body packed into out (at most max bytes) as
 * protobuf_c_message_pack would: its size, -1 when it holds a kind of field
 * only protobuf-c encodes, -2 when it needs more than max bytes.
 * pa_body_size: the size alone (or -1). */
int64_t pa_body_size(const ProtobufCMessage *m);
int64_t pa_body_pack(const ProtobufCMessage *m, uint8_t *out, size_t max);

/* Point rec's body (and session key) at an event's (event.c). */
struct privaudit_event;
void pa_event_to_record(const struct privaudit_event *ev, Privaudit__Record *rec);

/* Name of the body kind ("genesis", "checkpoint"...), never NULL. */
const char *pa_record_kind_name(const pa_record *r);

#endif
