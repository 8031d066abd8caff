/* event.c: records built by kind and field name, so front ends (PAM module,
 * auditd plugin, applications) fill any record of proto/privaudit.proto
 * without linking protobuf-c or knowing the wire format.  The schema's
 * field names are the interface. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

struct privaudit_event {
	const ProtobufCFieldDescriptor *kind;   /* the oneof member of Record */
	ProtobufCMessage *body;
	ProtobufCBinaryData session_key;
};

/* Kinds only the library writes: they make the log's own structure. */
static int reserved_kind(const char *name)
{
	return strcmp(name, "genesis") == 0 || strcmp(name, "key_rotation") == 0 ||
	       strcmp(name, "checkpoint") == 0 || strcmp(name, "recovery") == 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_new(privaudit_event **out, const char *kind)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessageDescriptor *d;
	privaudit_event *ev;

	if (out == NULL || kind == NULL)
		return PRIVAUDIT_E_INVAL;
	*out = NULL;
	f = protobuf_c_message_descriptor_get_field_by_name(&privaudit__record__descriptor, kind);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
	    reserved_kind(kind))
		return PRIVAUDIT_E_INVAL;
	d = f->descriptor;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return PRIVAUDIT_E_NOMEM;
	ev->body = calloc(1, d->sizeof_message);
	if (ev->body == NULL) {
		free(ev);
		return PRIVAUDIT_E_NOMEM;
	}
	d->message_init(ev->body);
	ev->kind = f;
	*out = ev;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT void privaudit_event_free(privaudit_event *ev)
{
	if (ev == NULL)
		return;
	protobuf_c_message_free_unpacked(ev->body, NULL);
	free(ev->session_key.data);
	free(ev);
}

static void *dup_bytes(const void *data, size_t len, int nul)
{
	unsigned char *p = malloc(len + (nul ? 1 : 0) + (len == 0));

	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, data, len);
	if (nul)
		p[len] = '\0';
	return p;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_bytes(privaudit_event *ev, const char *field,
							    const void *data, size_t len)
{
	const ProtobufCFieldDescriptor *f;
	char *base;

	if (ev == NULL || field == NULL || (data == NULL && len > 0))
		return PRIVAUDIT_E_INVAL;
	if (len > PRIVAUDIT_RECORD_MAX)
		return PRIVAUDIT_E_TOOBIG;
	if (strcmp(field, "session_key") == 0) {
		void *p = dup_bytes(data, len, 0);

		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		free(ev->session_key.data);
		ev->session_key.data = p;
		ev->session_key.len = len;
		return PRIVAUDIT_OK;
	}
	f = protobuf_c_message_descriptor_get_field_by_name(ev->kind->descriptor, field);
	if (f == NULL || (f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_STRING))
		return PRIVAUDIT_E_INVAL;
	/* A string field holds text the writer controls; it cannot hold NUL. */
	if (f->type == PROTOBUF_C_TYPE_STRING && data != NULL && memchr(data, '\0', len) != NULL)
		return PRIVAUDIT_E_INVAL;
	base = (char *)ev->body;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *count = (size_t *)(void *)(base + f->quantifier_offset);
		void **arr = *(void ***)(void *)(base + f->offset);
		size_t elem = f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData) : sizeof(char *);
		void *na = realloc(arr, (*count + 1) * elem);
		void *p;

		if (na == NULL)
			return PRIVAUDIT_E_NOMEM;
		*(void **)(void *)(base + f->offset) = na;
		p = dup_bytes(data, len, f->type == PROTOBUF_C_TYPE_STRING);
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
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = (ProtobufCBinaryData *)(void *)(base + f->offset);
		void *p = dup_bytes(data, len, 0);

		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		free(b->data);
		b->data = p;
		b->len = len;
	} else {
		char **s = (char **)(void *)(base + f->offset);
		char *p = dup_bytes(data, len, 1);

		if (p == NULL)
			return PRIVAUDIT_E_NOMEM;
		if (*s != NULL && *s != (const char *)f->default_value && *s != protobuf_c_empty_string)
			free(*s);
		*s = p;
	}
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_int(privaudit_event *ev, const char *field,
							  int64_t value)
{
	const ProtobufCFieldDescriptor *f;
	char *p;

	if (ev == NULL || field == NULL)
		return PRIVAUDIT_E_INVAL;
	f = protobuf_c_message_descriptor_get_field_by_name(ev->kind->descriptor, field);
	if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
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

/* Fill rec with the event's body; rec points into ev afterwards. */
void pa_event_to_record(const privaudit_event *ev, Privaudit__Record *rec)
{
	char *base = (char *)rec;

	*(uint32_t *)(void *)(base + ev->kind->quantifier_offset) = ev->kind->id;
	*(const ProtobufCMessage **)(void *)(base + ev->kind->offset) = ev->body;
	rec->session_key = ev->session_key;
}
