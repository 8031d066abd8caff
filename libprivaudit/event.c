/* SPDX-License-Identifier: ISC */
/* event.c: records built by kind and field name, so front ends (PAM module,
 * auditd plugin, applications) fill any record of proto/privaudit.proto
 * without linking protobuf-c or knowing the wire format.  The schema's
 * field names are the interface.
 *
 * The auditd plugin builds one event per audit event, with a dozen fields
 * and an argv, so this is a hot path.  It sets fields by id, or by name in
 * the schema's order, which event_field finds without a search; other
 * names are found by a scan of the type's fields.  An event is one
 * allocation: the handle, the body message and a first arena block; values
 * are copied into the arena (more blocks when it is full), so an event with
 * its argv usually costs a single malloc.  Values are never moved once set:
 * only a field set a second time gets a malloc'd value of its own (freed
 * when set again or with the event), so setting one field over and over
 * does not grow the arena. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

/* Arena blocks beyond the first one. */
struct ev_block {
	struct ev_block *next;
	size_t cap, used;
	unsigned char data[];
};

#define EV_INLINE 4096u          /* first block, inside the event's allocation */
#define EV_BLOCK_SIZE 8192u      /* further blocks; larger values get their own */
#define EV_ALIGN 16u

struct privaudit_event {
	const ProtobufCFieldDescriptor *kind;   /* the oneof member of Record */
	ProtobufCMessage *body;                 /* in this allocation */
	ProtobufCBinaryData session_key;
	/* per body field (index in the descriptor, first 64): */
	uint64_t touched;      /* set at least once: the first value is in the arena */
	uint64_t owned;        /* the value now is malloc'd (set again) */
	int key_touched, key_owned;             /* the same for session_key */
	const ProtobufCFieldDescriptor *last;   /* the last field set by name */
	unsigned last_next;                     /* the index after it */
	unsigned char *inl;                     /* first arena block */
	size_t inl_used;
	struct ev_block *blocks;                /* current block first */
};

static size_t round_up(size_t n)
{
	return (n + EV_ALIGN - 1) & ~(size_t)(EV_ALIGN - 1);
}

/* ------------------------------------------------------------ field names */

/* strcmp(a, b) == 0 for field names, which are short: no call. */
static inline int same_name(const char *a, const char *b)
{
	while (*a == *b) {
		if (*a == '\0')
			return 1;
		a++;
		b++;
	}
	return 0;
}

/* Same answer as protobuf_c_message_descriptor_get_field_by_name, by a
 * scan: a type has a few dozen fields at most, and looking a field up by
 * name is off every hot path (writers that set many fields find each one
 * through event_field's hint, or by id).  A table built on first use cost
 * every login process two page faults, about 7 us, for nothing. */
static const ProtobufCFieldDescriptor *field_by_name(const ProtobufCMessageDescriptor *d,
						     const char *name)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (same_name(d->fields[i].name, name))
			return &d->fields[i];
	return NULL;
}

/* A field of the event's body by name.  The same field is often set many
 * times in a row (argv), so the last one found is tried first, by its name
 * (the caller's string may be a reused buffer: never by pointer).  Writers
 * that set fields in the schema's order (the auditd plugin) then find each
 * one among the next two. */
static const ProtobufCFieldDescriptor *event_field(privaudit_event *ev, const char *name)
{
	const ProtobufCMessageDescriptor *d = ev->kind->descriptor;
	const ProtobufCFieldDescriptor *f = ev->last;
	unsigned i = ev->last_next, stop = i + 2 < d->n_fields ? i + 2 : d->n_fields;

	if (f != NULL && same_name(f->name, name))
		return f;
	for (; i < stop; i++) {
		f = &d->fields[i];
		if (same_name(f->name, name))
			goto found;
	}
	f = field_by_name(d, name);
	if (f == NULL)
		return NULL;
	i = (unsigned)(f - d->fields);
found:
	ev->last = f;
	ev->last_next = i + 1;
	return f;
}

/* ------------------------------------------------------------ memory */

/* A new arena block for need bytes, or NULL. */
static void *arena_grow(privaudit_event *ev, size_t need)
{
	struct ev_block *b = ev->blocks, *nb;
	size_t cap = need > EV_BLOCK_SIZE / 2 ? need : EV_BLOCK_SIZE;

	if (cap > SIZE_MAX - sizeof(*nb))
		return NULL;
	nb = malloc(sizeof(*nb) + cap);
	if (nb == NULL)
		return NULL;
	nb->cap = cap;
	nb->used = need;
	if (b != NULL && need > EV_BLOCK_SIZE / 2) {
		/* keep the current block current for small values */
		nb->next = b->next;
		b->next = nb;
	} else {
		/* the inline block, or b, is left with its unused tail */
		nb->next = b;
		ev->blocks = nb;
	}
	return nb->data;
}

/* need bytes in the event's arena (aligned when align), or NULL. */
static inline void *arena_alloc(privaudit_event *ev, size_t need, int align)
{
	struct ev_block *b = ev->blocks;
	size_t at;

	if (b == NULL) {
		at = align ? round_up(ev->inl_used) : ev->inl_used;
		if (at <= EV_INLINE && EV_INLINE - at >= need) {
			ev->inl_used = at + need;
			return ev->inl + at;
		}
	} else {
		at = align ? round_up(b->used) : b->used;
		if (at <= b->cap && b->cap - at >= need) {
			b->used = at + need;
			return b->data + at;
		}
	}
	return arena_grow(ev, need);
}

/* A copy of data (NUL-terminated when nul): in the arena, or malloc'd. */
static inline void *copy_value(privaudit_event *ev, const void *data, size_t len, int nul, int heap)
{
	size_t need = len + (nul ? 1 : 0) + (len == 0);
	unsigned char *p = heap ? malloc(need) : arena_alloc(ev, need, 0);

	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, data, len);
	if (nul)
		p[len] = '\0';
	return p;
}

/* Capacity of a repeated field's array holding n elements: arrays grow by
 * doubling from 16 (the count alone says how big the array is).  One more
 * element needs a bigger array when n is 0 or a power of two from 16 on. */
static size_t rep_cap(size_t n)
{
	size_t c = 16;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

static int rep_full(size_t n)
{
	return n == 0 || (n >= 16 && (n & (n - 1)) == 0);
}

static uint64_t field_bit(const privaudit_event *ev, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = ev->kind->descriptor;
	size_t i = (size_t)(f - d->fields);

	return i < 64 ? (uint64_t)1 << i : 0;
}

/* Free what the body owns: singular values set more than once (the last
 * one is malloc'd), and anything protobuf-c would free that this file
 * never puts there (messages, unknown fields).  Arrays of repeated fields
 * and first values are in the arena. */
static void body_free(privaudit_event *ev)
{
	ProtobufCMessage *msg = ev->body;
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	char *base = (char *)msg;

	/* the usual event: every value in the arena, nothing to walk for */
	if (ev->owned == 0 && d->n_fields <= 64)
		return;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *p = base + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)(void *)(base + f->quantifier_offset);
			void *arr = *(void **)(void *)p;

			if (arr != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE)
				for (size_t j = 0; j < n; j++)
					if (((ProtobufCMessage **)arr)[j] != NULL)
						protobuf_c_message_free_unpacked(((ProtobufCMessage **)arr)[j], NULL);
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)(void *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES) {
			uint64_t bit = i < 64 ? (uint64_t)1 << i : 0;
			void *v = f->type == PROTOBUF_C_TYPE_STRING ? (void *)*(char **)(void *)p
								    : (void *)((ProtobufCBinaryData *)(void *)p)->data;

			if (v == NULL)
				continue;
			if (bit != 0) {
				if (ev->owned & bit)
					free(v);
			} else if (f->type == PROTOBUF_C_TYPE_STRING) {
				/* past the first 64 fields every value set is malloc'd */
				if (v != f->default_value && v != protobuf_c_empty_string)
					free(v);
			} else if (f->default_value == NULL ||
				   v != ((const ProtobufCBinaryData *)f->default_value)->data) {
				free(v);
			}
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *m = *(ProtobufCMessage **)(void *)p;

			if (m != NULL && m != f->default_value)
				protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	for (unsigned i = 0; i < msg->n_unknown_fields; i++)
		free(msg->unknown_fields[i].data);
	free(msg->unknown_fields);
}

/* Kinds only the library writes: they make the log's own structure. */
static int reserved_kind(const ProtobufCFieldDescriptor *f)
{
	return f->id == PRIVAUDIT__RECORD__BODY_GENESIS || f->id == PRIVAUDIT__RECORD__BODY_KEY_ROTATION ||
	       f->id == PRIVAUDIT__RECORD__BODY_CHECKPOINT || f->id == PRIVAUDIT__RECORD__BODY_RECOVERY ||
	       f->id == PRIVAUDIT__RECORD__BODY_SEGMENT_START;
}

/* ------------------------------------------------------------ API */

PRIVAUDIT_EXPORT privaudit_status privaudit_event_new(privaudit_event **out, const char *kind)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessageDescriptor *d;
	privaudit_event *ev;
	size_t head, body;

	if (out == NULL || kind == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	f = field_by_name(&privaudit__record__descriptor, kind);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
	    reserved_kind(f))
		return PRIVAUDIT_E_INVAL;
	d = f->descriptor;
	head = round_up(sizeof(*ev));
	body = round_up(d->sizeof_message);
	ev = malloc(head + body + EV_INLINE);
	if (ev == NULL)
		return PRIVAUDIT_E_NOMEM;
	memset(ev, 0, head + body);
	ev->body = (ProtobufCMessage *)(void *)((char *)ev + head);
	ev->inl = (unsigned char *)ev + head + body;
	d->message_init(ev->body);
	ev->kind = f;
	*out = ev;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT void privaudit_event_free(privaudit_event *ev)
{
	if (ev == NULL)
		return;
	body_free(ev);
	if (ev->key_owned)
		free(ev->session_key.data);
	while (ev->blocks != NULL) {
		struct ev_block *b = ev->blocks;

		ev->blocks = b->next;
		free(b);
	}
	free(ev);
}

static privaudit_status set_session_key(privaudit_event *ev, const void *data, size_t len)
{
	void *p = copy_value(ev, data, len, 0, ev->key_touched);

	if (p == NULL)
		return PRIVAUDIT_E_NOMEM;
	if (ev->key_owned)
		free(ev->session_key.data);
	ev->key_owned = ev->key_touched;
	ev->key_touched = 1;
	ev->session_key.data = p;
	ev->session_key.len = len;
	return PRIVAUDIT_OK;
}

/* f: a field of ev's body; data and len checked. */
static privaudit_status set_bytes(privaudit_event *ev, const ProtobufCFieldDescriptor *f,
				  const void *data, size_t len)
{
	char *base;
	uint64_t bit;
	int again;

	if (f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_STRING)
		return PRIVAUDIT_E_INVAL;
	/* A string field holds text the writer controls; it cannot hold NUL. */
	if (f->type == PROTOBUF_C_TYPE_STRING && data != NULL && memchr(data, '\0', len) != NULL)
		return PRIVAUDIT_E_INVAL;
	base = (char *)ev->body;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *count = (size_t *)(void *)(base + f->quantifier_offset);
		void **arr = *(void ***)(void *)(base + f->offset);
		size_t elem = f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData) : sizeof(char *);
		void *na = arr;
		void *p;

		if (rep_full(*count)) {
			size_t ncap = rep_cap(*count + 1);

			/* the array moves to a bigger place in the arena; the
			 * old ones add up to less than the last */
			if (ncap > SIZE_MAX / elem)
				return PRIVAUDIT_E_NOMEM;
			na = arena_alloc(ev, ncap * elem, 1);
			if (na == NULL)
				return PRIVAUDIT_E_NOMEM;
			if (*count > 0)
				memcpy(na, arr, *count * elem);
			*(void **)(void *)(base + f->offset) = na;
		}
		p = copy_value(ev, data, len, f->type == PROTOBUF_C_TYPE_STRING, 0);
		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			ProtobufCBinaryData *b = (ProtobufCBinaryData *)na + *count;

			b->data = p;
			b->len = len;
		} else {
			((char **)na)[*count] = p;
		}
		(*count)++;
		return PRIVAUDIT_OK;
	}
	/* singular: the first value in the arena, later ones malloc'd */
	bit = field_bit(ev, f);
	again = bit == 0 || (ev->touched & bit) != 0;
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = (ProtobufCBinaryData *)(void *)(base + f->offset);
		void *p = copy_value(ev, data, len, 0, again);

		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		if (bit ? (ev->owned & bit) != 0 : b->data != NULL)
			free(b->data);
		b->data = p;
		b->len = len;
	} else {
		char **s = (char **)(void *)(base + f->offset);
		char *p = copy_value(ev, data, len, 1, again);

		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		if (bit ? (ev->owned & bit) != 0
			: (*s != NULL && *s != (const char *)f->default_value && *s != protobuf_c_empty_string))
			free(*s);
		*s = p;
	}
	if (bit) {
		if (again)
			ev->owned |= bit;
		ev->touched |= bit;
	}
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_bytes(privaudit_event *ev, const char *field,
							    const void *data, size_t len)
{
	const ProtobufCFieldDescriptor *f;

	if (ev == NULL || field == NULL || (data == NULL && len > 0))
		return PRIVAUDIT_E_INVAL;
	if (len > PRIVAUDIT_RECORD_MAX)
		return PRIVAUDIT_E_TOOBIG;
	if (field[0] == 's' && field[1] == 'e' && field[2] == 's' && strcmp(field, "session_key") == 0)
		return set_session_key(ev, data, len);
	f = event_field(ev, field);
	if (f == NULL)
		return PRIVAUDIT_E_INVAL;
	return set_bytes(ev, f, data, len);
}

/* f: a field of ev's body. */
static privaudit_status set_int(privaudit_event *ev, const ProtobufCFieldDescriptor *f, int64_t value)
{
	char *p;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return PRIVAUDIT_E_INVAL;
	p = (char *)ev->body + f->offset;
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (value < 0 || value > UINT32_MAX)
			return PRIVAUDIT_E_INVAL;
		*(uint32_t *)(void *)p = (uint32_t)value;
		return PRIVAUDIT_OK;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (value < INT32_MIN || value > INT32_MAX)
			return PRIVAUDIT_E_INVAL;
		*(int32_t *)(void *)p = (int32_t)value;
		return PRIVAUDIT_OK;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (value < 0)
			return PRIVAUDIT_E_INVAL;
		*(uint64_t *)(void *)p = (uint64_t)value;
		return PRIVAUDIT_OK;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)(void *)p = value;
		return PRIVAUDIT_OK;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)(void *)p = value != 0;
		return PRIVAUDIT_OK;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return PRIVAUDIT_E_INVAL;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_int(privaudit_event *ev, const char *field,
							  int64_t value)
{
	const ProtobufCFieldDescriptor *f;

	if (ev == NULL || field == NULL)
		return PRIVAUDIT_E_INVAL;
	f = event_field(ev, field);
	if (f == NULL)
		return PRIVAUDIT_E_INVAL;
	return set_int(ev, f, value);
}

/* ------------------------------------------------------------ fields found once */

/* A privaudit_field_id is the kind's field number in Record (16 and up) times
 * 65536 plus the field's index in the kind's descriptor plus 1, or
 * FIELD_SESSION_KEY for the record's session key: checked against the
 * event's kind, then used without any name. */
#define FIELD_SESSION_KEY 0xffffu

PRIVAUDIT_EXPORT privaudit_status privaudit_event_field_id(privaudit_field_id *out,
							   const char *kind, const char *field)
{
	const ProtobufCFieldDescriptor *k, *f;
	const ProtobufCMessageDescriptor *d;

	if (out == NULL || kind == NULL || field == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = 0;
	k = field_by_name(&privaudit__record__descriptor, kind);
	if (k == NULL || k->type != PROTOBUF_C_TYPE_MESSAGE || !(k->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
	    reserved_kind(k) || k->id > 0xffffu)
		return PRIVAUDIT_E_INVAL;
	if (strcmp(field, "session_key") == 0) {
		*out = (privaudit_field_id)k->id << 16 | FIELD_SESSION_KEY;
		return PRIVAUDIT_OK;
	}
	d = k->descriptor;
	f = field_by_name(d, field);
	if (f == NULL || f - d->fields >= (ptrdiff_t)FIELD_SESSION_KEY - 1)
		return PRIVAUDIT_E_INVAL;
	*out = (privaudit_field_id)k->id << 16 | (privaudit_field_id)(f - d->fields + 1);
	return PRIVAUDIT_OK;
}

/* The body field a handle names for ev: NULL for another kind's field or
 * the session key. */
static const ProtobufCFieldDescriptor *handle_field(const privaudit_event *ev, privaudit_field_id h)
{
	const ProtobufCMessageDescriptor *d = ev->kind->descriptor;
	unsigned i = h & 0xffffu;

	if (h >> 16 != ev->kind->id || i == 0 || i == FIELD_SESSION_KEY || i > d->n_fields)
		return NULL;
	return &d->fields[i - 1];
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_bytes_id(privaudit_event *ev,
							       privaudit_field_id field,
							       const void *data, size_t len)
{
	const ProtobufCFieldDescriptor *f;

	if (ev == NULL || (data == NULL && len > 0))
		return PRIVAUDIT_E_INVAL;
	if (len > PRIVAUDIT_RECORD_MAX)
		return PRIVAUDIT_E_TOOBIG;
	if (field >> 16 == ev->kind->id && (field & 0xffffu) == FIELD_SESSION_KEY)
		return set_session_key(ev, data, len);
	f = handle_field(ev, field);
	if (f == NULL)
		return PRIVAUDIT_E_INVAL;
	return set_bytes(ev, f, data, len);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_int_id(privaudit_event *ev,
							     privaudit_field_id field, int64_t value)
{
	const ProtobufCFieldDescriptor *f;

	if (ev == NULL)
		return PRIVAUDIT_E_INVAL;
	f = handle_field(ev, field);
	if (f == NULL)
		return PRIVAUDIT_E_INVAL;
	return set_int(ev, f, value);
}

/* Fill rec with the event's body; rec points into ev afterwards. */
void pa_event_to_record(const privaudit_event *ev, Privaudit__Record *rec)
{
	char *base = (char *)rec;

	*(uint32_t *)(void *)(base + ev->kind->quantifier_offset) = ev->kind->id;
	*(const ProtobufCMessage **)(void *)(base + ev->kind->offset) = ev->body;
	rec->session_key = ev->session_key;
}
