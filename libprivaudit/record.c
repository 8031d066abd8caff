/* SPDX-License-Identifier: ISC */
/* record.c: decoding stored records.  The size is bounded before unpacking
 * and a record without a body is rejected. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "privaudit.h"
#include "record.h"

/* ------------------------------------------------------------ encoding */

/* Every Record body is a proto3 message of scalars, bytes, strings and
 * repeated bytes or strings.  protobuf-c packs one by walking its
 * descriptor twice (size, then bytes) with calls per field; the loop below
 * writes the bytes protobuf_c_message_pack writes (fields in descriptor
 * order, zero and empty ones left out) with a few instructions per field. */

/* The field's value as a varint (0: left out), or -1 when it is not one. */
static int scalar_value(const ProtobufCFieldDescriptor *f, const char *member, uint64_t *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		*v = *(const uint32_t *)(const void *)member;
		return 0;
	case PROTOBUF_C_TYPE_INT32:
		/* negative: ten bytes, sign-extended, as protobuf-c writes it */
		*v = (uint64_t)(int64_t) * (const int32_t *)(const void *)member;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
		*v = *(const uint64_t *)(const void *)member;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		*v = *(const protobuf_c_boolean *)(const void *)member != 0;
		return 0;
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return -1;
}

/* One pass over m's fields: with out NULL, only the size; else the bytes,
 * within max.  -1 when m holds something the loop does not encode (the
 * caller uses protobuf-c then), -2 when the bytes do not fit in max. */
static int64_t body_walk(const ProtobufCMessage *m, uint8_t *out, size_t max)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	uint8_t *p = out;
	size_t size = 0;
	/* a key and a length (or a value) take at most 10 bytes each */
#define ROOM(n) (max - (size_t)(p - out) >= 20 && max - (size_t)(p - out) - 20 >= (size_t)(n))

	if (m->n_unknown_fields != 0)
		return -1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *member = base + f->offset;
		uint64_t tag = (uint64_t)f->id << 3;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			return -1;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			const void *arr = *(const void *const *)(const void *)member;

			if (f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_STRING)
				return -1;
			for (size_t j = 0; j < n; j++) {
				const uint8_t *data;
				size_t len;

				if (f->type == PROTOBUF_C_TYPE_BYTES) {
					const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)arr + j;

					data = b->data;
					len = b->len;
				} else {
					data = (const uint8_t *)((const char *const *)arr)[j];
					if (data == NULL)
						return -1;
					len = strlen((const char *)data);
				}
				if (out != NULL) {
					if (!ROOM(len))
						return -2;
					p = pa_varint_put(p, tag | 2u);
					p = pa_varint_put(p, len);
					if (len > 0)
						memcpy(p, data, len);
					p += len;
				} else {
					size += pa_varint_len(tag | 2u) + pa_varint_len(len) + len;
				}
			}
			continue;
		}
		if (f->label != PROTOBUF_C_LABEL_NONE)
			return -1;
		if (f->type == PROTOBUF_C_TYPE_BYTES || f->type == PROTOBUF_C_TYPE_STRING) {
			const uint8_t *data;
			size_t len;

			if (f->type == PROTOBUF_C_TYPE_BYTES) {
				const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)(const void *)member;

				data = b->data;
				len = b->len;
			} else {
				data = *(const uint8_t *const *)(const void *)member;
				len = data != NULL ? strlen((const char *)data) : 0;
			}
			if (len == 0)
				continue;
			if (out != NULL) {
				if (!ROOM(len))
					return -2;
				p = pa_varint_put(p, tag | 2u);
				p = pa_varint_put(p, len);
				memcpy(p, data, len);
				p += len;
			} else {
				size += pa_varint_len(tag | 2u) + pa_varint_len(len) + len;
			}
		} else {
			uint64_t v;

			if (scalar_value(f, member, &v) < 0)
				return -1;
			if (v == 0)
				continue;
			if (out != NULL) {
				if (max - (size_t)(p - out) < 20)
					return -2;
				p = pa_varint_put(p, tag);
				p = pa_varint_put(p, v);
			} else {
				size += pa_varint_len(tag) + pa_varint_len(v);
			}
		}
	}
#undef ROOM
	return out != NULL ? (int64_t)(p - out) : (int64_t)size;
}

int64_t pa_body_size(const ProtobufCMessage *m)
{
	return body_walk(m, NULL, 0);
}

int64_t pa_body_pack(const ProtobufCMessage *m, uint8_t *out, size_t max)
{
	return body_walk(m, out, max);
}

pa_record *pa_record_decode(const unsigned char *buf, size_t len)
{
	pa_record *r;

	if (len > PRIVAUDIT_RECORD_MAX)
		return NULL;
	r = privaudit__record__unpack(NULL, len, buf);
	if (r == NULL)
		return NULL;
	if (r->body_case == PRIVAUDIT__RECORD__BODY__NOT_SET) {
		privaudit__record__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

#define ARENA_START (64u * 1024u)
#define ARENA_MAX (16u * 1024u * 1024u)

void pa_arena_init(pa_arena *a)
{
	a->buf = NULL;
	a->cap = a->used = 0;
	a->big = NULL;
	a->nbig = a->capbig = 0;
	a->failed = 0;
}

static void *arena_alloc(void *data, size_t size)
{
	pa_arena *a = data;
	size_t need = (size + 15u) & ~(size_t)15u;
	void *p;

	if (need < size)
		return NULL;
	if (a->buf != NULL && need <= a->cap - a->used) {
		p = a->buf + a->used;
		a->used += need;
		return p;
	}
	if (a->nbig == a->capbig) {
		size_t cap = a->capbig ? a->capbig * 2 : 16;
		void **nb = realloc(a->big, cap * sizeof(*nb));

		if (nb == NULL) {
			a->failed = 1;
			return NULL;
		}
		a->big = nb;
		a->capbig = cap;
	}
	p = malloc(size);
	if (p == NULL) {
		a->failed = 1;
		return NULL;
	}
	a->big[a->nbig++] = p;
	return p;
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;   /* released all at once by pa_arena_reset */
}

void pa_arena_reset(pa_arena *a)
{
	int grow = a->nbig > 0 || a->buf == NULL;

	for (size_t i = 0; i < a->nbig; i++)
		free(a->big[i]);
	a->nbig = 0;
	a->used = 0;
	if (grow && a->cap < ARENA_MAX) {
		size_t cap = a->cap ? a->cap * 2 : ARENA_START;
		unsigned char *nb = malloc(cap);

		if (nb != NULL) {
			free(a->buf);
			a->buf = nb;
			a->cap = cap;
		}
	}
}

void pa_arena_free(pa_arena *a)
{
	for (size_t i = 0; i < a->nbig; i++)
		free(a->big[i]);
	free(a->buf);
	free(a->big);
	pa_arena_init(a);
}

pa_record *pa_record_decode_arena(pa_arena *a, const unsigned char *buf, size_t len)
{
	ProtobufCAllocator alloc = {arena_alloc, arena_free, a};
	pa_record *r;

	pa_arena_reset(a);
	a->failed = 0;
	if (len > PRIVAUDIT_RECORD_MAX)
		return NULL;
	r = privaudit__record__unpack(&alloc, len, buf);
	if (r == NULL || r->body_case == PRIVAUDIT__RECORD__BODY__NOT_SET)
		return NULL;
	return r;
}

void pa_record_free(pa_record *r)
{
	if (r != NULL)
		privaudit__record__free_unpacked(r, NULL);
}

const char *pa_record_kind_name(const pa_record *r)
{
	switch (r->body_case) {
	case PRIVAUDIT__RECORD__BODY_GENESIS: return "genesis";
	case PRIVAUDIT__RECORD__BODY_WRITER_START: return "writer_start";
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP: return "writer_stop";
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT: return "heartbeat";
	case PRIVAUDIT__RECORD__BODY_GAP: return "gap";
	case PRIVAUDIT__RECORD__BODY_RECOVERY: return "recovery";
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION: return "key_rotation";
	case PRIVAUDIT__RECORD__BODY_SEGMENT_START: return "segment_start";
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT: return "checkpoint";
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN: return "session_open";
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE: return "session_close";
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT: return "auth_attempt";
	case PRIVAUDIT__RECORD__BODY_COMMAND: return "command";
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT: return "tty_input";
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE: return "config_change";
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT: return "audit_event";
	case PRIVAUDIT__RECORD__BODY_APPLICATION: return "application";
	case PRIVAUDIT__RECORD__BODY_IO_OPEN: return "io_open";
	case PRIVAUDIT__RECORD__BODY_IO_CHUNK: return "io_chunk";
	case PRIVAUDIT__RECORD__BODY_IO_CLOSE: return "io_close";
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return "unknown";
}
