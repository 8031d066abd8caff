/* SPDX-License-Identifier: ISC */
/* field.c: a record's fields by position and by name, read through the
 * schema's descriptors, so readers print any kind without knowing it. */
#include "config.h"

#include <string.h>

#include "reader.h"

PRIVAUDIT_EXPORT uint64_t privaudit_record_index(const privaudit_record *rec)
{
	return rec != NULL ? rec->index : 0;
}

PRIVAUDIT_EXPORT uint64_t privaudit_record_time_ns(const privaudit_record *rec)
{
	return rec != NULL ? rec->rec->time_ns : 0;
}

PRIVAUDIT_EXPORT const char *privaudit_record_kind(const privaudit_record *rec)
{
	return rec != NULL ? pa_record_kind_name(rec->rec) : "unknown";
}

PRIVAUDIT_EXPORT void privaudit_record_position(const privaudit_record *rec, uint64_t *segment,
						uint64_t *offset)
{
	if (segment != NULL)
		*segment = rec != NULL ? rec->segment : 0;
	if (offset != NULL)
		*offset = rec != NULL ? rec->offset : 0;
}

PRIVAUDIT_EXPORT void privaudit_record_entry(const privaudit_record *rec, const void **data,
					     size_t *len)
{
	*data = rec != NULL ? rec->entry : NULL;
	*len = rec != NULL ? rec->len : 0;
}

PRIVAUDIT_EXPORT int privaudit_record_verified(const privaudit_record *rec)
{
	return rec != NULL && rec->verified;
}

privaudit_status pa_record_view(struct privaudit_record *rec, pa_arena *arena,
				const unsigned char *entry, size_t len, uint64_t segment,
				uint64_t offset)
{
	pa_record *d;

	if (len <= PA_ENTRY_INDEX)
		return PRIVAUDIT_E_FORMAT;
	d = pa_record_decode_arena(arena, entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	if (d == NULL)
		return arena->failed ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_E_FORMAT;
	rec->index = pa_load64(entry);
	rec->segment = segment;
	rec->offset = offset;
	rec->entry = entry;
	rec->len = len;
	rec->rec = d;
	rec->verified = 0;
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ descriptors */

/* The record's own fields are those outside the body oneof. */
static size_t own_count(void)
{
	const ProtobufCMessageDescriptor *d = &privaudit__record__descriptor;
	size_t n = 0;

	for (unsigned i = 0; i < d->n_fields; i++)
		if (!(d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			n++;
	return n;
}

static const ProtobufCFieldDescriptor *own_field(size_t i)
{
	const ProtobufCMessageDescriptor *d = &privaudit__record__descriptor;

	for (unsigned k = 0; k < d->n_fields; k++)
		if (!(d->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && i-- == 0)
			return &d->fields[k];
	return NULL;
}

/* The body message and its descriptor. */
static const ProtobufCMessage *body_of(const pa_record *r)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&privaudit__record__descriptor,
							(unsigned)r->body_case);

	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	return *(ProtobufCMessage *const *)(const void *)((const char *)r + f->offset);
}

/* Field i of the record: its descriptor and the message holding it. */
static int locate_field(const privaudit_record *rec, size_t i, const ProtobufCFieldDescriptor **f,
			const void **msg)
{
	size_t own = own_count();
	const ProtobufCMessage *body;

	if (i < own) {
		*f = own_field(i);
		*msg = rec->rec;
		return *f != NULL ? 0 : -1;
	}
	body = body_of(rec->rec);
	if (body == NULL || i - own >= body->descriptor->n_fields)
		return -1;
	*f = &body->descriptor->fields[i - own];
	*msg = body;
	return 0;
}

static int field_type(const ProtobufCFieldDescriptor *f, privaudit_field_type *t)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_ENUM:
		*t = PRIVAUDIT_FIELD_INT;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*t = PRIVAUDIT_FIELD_UINT;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		*t = PRIVAUDIT_FIELD_BOOL;
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		*t = PRIVAUDIT_FIELD_STRING;
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
		*t = PRIVAUDIT_FIELD_BYTES;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return -1;   /* not in the schema: bodies hold only scalars */
}

PRIVAUDIT_EXPORT size_t privaudit_record_field_count(const privaudit_record *rec)
{
	const ProtobufCMessage *body;

	if (rec == NULL)
		return 0;
	body = body_of(rec->rec);
	return own_count() + (body != NULL ? body->descriptor->n_fields : 0);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_field(const privaudit_record *rec, size_t i,
							 privaudit_field *field)
{
	const ProtobufCFieldDescriptor *f;
	const void *msg;

	if (rec == NULL || field == NULL)
		return PRIVAUDIT_E_INVAL;
	if (locate_field(rec, i, &f, &msg) < 0)
		return PRIVAUDIT_E_NOTFOUND;
	if (field_type(f, &field->type) < 0)
		return PRIVAUDIT_E_FORMAT;
	field->name = f->name;
	field->repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
	field->count = field->repeated ? *(const size_t *)(const void *)((const char *)msg +
									 f->quantifier_offset)
				       : 1;
	return PRIVAUDIT_OK;
}

/* One scalar at p, of f's type. */
static void scalar(const ProtobufCFieldDescriptor *f, const void *p, const void **data,
		   size_t *len, uint64_t *num)
{
	*data = NULL;
	*len = 0;
	*num = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		*num = (uint64_t)(int64_t)*(const int32_t *)p;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*num = *(const uint32_t *)p;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*num = *(const uint64_t *)p;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*num = *(const protobuf_c_boolean *)p != 0;
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;

		*data = s != NULL ? s : "";
		*len = s != NULL ? strlen(s) : 0;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		*data = b->data != NULL ? b->data : (const void *)"";
		*len = b->len;
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
}

static size_t scalar_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_FLOAT:
		break;
	}
	return 4;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_value(const privaudit_record *rec, size_t i,
							 size_t j, const void **data, size_t *len,
							 uint64_t *num)
{
	const ProtobufCFieldDescriptor *f;
	privaudit_field_type t;
	const void *msg, *p;

	if (rec == NULL || data == NULL || len == NULL || num == NULL)
		return PRIVAUDIT_E_INVAL;
	if (locate_field(rec, i, &f, &msg) < 0)
		return PRIVAUDIT_E_NOTFOUND;
	if (field_type(f, &t) < 0)
		return PRIVAUDIT_E_FORMAT;
	p = (const char *)msg + f->offset;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(const void *)((const char *)msg + f->quantifier_offset);
		const char *arr = *(const char *const *)p;

		if (j >= n)
			return PRIVAUDIT_E_NOTFOUND;
		p = arr + j * scalar_size(f);
	} else if (j != 0) {
		return PRIVAUDIT_E_NOTFOUND;
	}
	scalar(f, p, data, len, num);
	return PRIVAUDIT_OK;
}

static privaudit_status find_named(const privaudit_record *rec, const char *name, size_t *i)
{
	size_t n = privaudit_record_field_count(rec);

	for (size_t k = 0; k < n; k++) {
		const ProtobufCFieldDescriptor *f;
		const void *msg;

		if (locate_field(rec, k, &f, &msg) == 0 && strcmp(f->name, name) == 0) {
			*i = k;
			return PRIVAUDIT_OK;
		}
	}
	return PRIVAUDIT_E_NOTFOUND;
}

/* The field called name: its index and description. */
static privaudit_status named_field(const privaudit_record *rec, const char *name, size_t *i,
				    privaudit_field *f)
{
	privaudit_status st = find_named(rec, name, i);

	return st == PRIVAUDIT_OK ? privaudit_record_field(rec, *i, f) : st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_get_bytes(const privaudit_record *rec,
							     const char *name, const void **data,
							     size_t *len)
{
	privaudit_field f;
	privaudit_status st;
	uint64_t num;
	size_t i;

	if (rec == NULL || name == NULL || data == NULL || len == NULL)
		return PRIVAUDIT_E_INVAL;
	st = named_field(rec, name, &i, &f);
	if (st != PRIVAUDIT_OK)
		return st;
	if (f.type != PRIVAUDIT_FIELD_BYTES && f.type != PRIVAUDIT_FIELD_STRING)
		return PRIVAUDIT_E_INVAL;
	if (f.count == 0) {
		*data = "";
		*len = 0;
		return PRIVAUDIT_OK;
	}
	return privaudit_record_value(rec, i, 0, data, len, &num);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_get_uint(const privaudit_record *rec,
							    const char *name, uint64_t *value)
{
	privaudit_field f;
	privaudit_status st;
	const void *data;
	size_t i, len;

	if (rec == NULL || name == NULL || value == NULL)
		return PRIVAUDIT_E_INVAL;
	st = named_field(rec, name, &i, &f);
	if (st != PRIVAUDIT_OK)
		return st;
	if (f.type == PRIVAUDIT_FIELD_BYTES || f.type == PRIVAUDIT_FIELD_STRING || f.count == 0)
		return PRIVAUDIT_E_INVAL;
	return privaudit_record_value(rec, i, 0, &data, &len, value);
}
