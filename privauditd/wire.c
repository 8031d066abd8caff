/* SPDX-License-Identifier: ISC */
/* wire.c: building and reading the frames of wire.h.  The reader treats
 * every byte as hostile: lengths are checked before they are used. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

static void reserve(struct pa_wire_buf *b, size_t more)
{
	size_t need, cap;
	unsigned char *d;

	if (b->failed)
		return;
	if (more > 4 + PA_WIRE_REQUEST_MAX - b->len) {
		b->failed = 1;
		return;
	}
	need = b->len + more;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 512;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (d == NULL) {
		b->failed = 1;
		return;
	}
	b->data = d;
	b->cap = cap;
}

static void put(struct pa_wire_buf *b, const void *v, size_t len)
{
	reserve(b, len);
	if (b->failed)
		return;
	if (len > 0)
		memcpy(b->data + b->len, v, len);
	b->len += len;
}

static void put_name(struct pa_wire_buf *b, const char *name)
{
	size_t n = strlen(name);
	unsigned char l = (unsigned char)n;

	if (n == 0 || n > PA_WIRE_NAME_MAX) {
		b->failed = 1;
		return;
	}
	put(b, &l, 1);
	put(b, name, n);
}

void pa_wire_begin(struct pa_wire_buf *b, const char *kind, unsigned flags)
{
	unsigned char head[6] = {0, 0, 0, 0, PA_WIRE_VERSION, 0};

	b->len = 0;
	b->failed = 0;
	head[5] = (unsigned char)(flags & PA_WIRE_FLAGS);
	put(b, head, sizeof(head));
	put_name(b, kind);
}

void pa_wire_add_bytes(struct pa_wire_buf *b, const char *name, const void *v, size_t len)
{
	unsigned char t = 'b', l[4];

	if (len > PA_WIRE_REQUEST_MAX) {
		b->failed = 1;
		return;
	}
	put(b, &t, 1);
	put_name(b, name);
	pa_wire_store32(l, (uint32_t)len);
	put(b, l, 4);
	put(b, v, len);
}

void pa_wire_add_str(struct pa_wire_buf *b, const char *name, const char *v)
{
	if (v != NULL)
		pa_wire_add_bytes(b, name, v, strlen(v));
}

void pa_wire_add_int(struct pa_wire_buf *b, const char *name, int64_t v)
{
	unsigned char t = 'i', x[8];
	uint64_t u = (uint64_t)v;

	put(b, &t, 1);
	put_name(b, name);
	for (int i = 7; i >= 0; i--, u >>= 8)
		x[i] = (unsigned char)u;
	put(b, x, 8);
}

int pa_wire_end(struct pa_wire_buf *b)
{
	if (b->failed || b->len < 4)
		return -1;
	pa_wire_store32(b->data, (uint32_t)(b->len - 4));
	return 0;
}

void pa_wire_buf_free(struct pa_wire_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

size_t pa_wire_answer(unsigned char *out, size_t cap, enum pa_wire_code code, const char *text)
{
	size_t tl = text != NULL ? strlen(text) : 0;

	if (cap < 6)
		return 0;
	if (tl > PA_WIRE_ANSWER_MAX - 2)
		tl = PA_WIRE_ANSWER_MAX - 2;
	if (tl > cap - 6)
		tl = cap - 6;
	pa_wire_store32(out, (uint32_t)(2 + tl));
	out[4] = PA_WIRE_VERSION;
	out[5] = (unsigned char)code;
	if (tl > 0)
		memcpy(out + 6, text, tl);
	return 6 + tl;
}

/* One field at r->p; 1 and r->p advanced, 0 at the end, -1 malformed. */
static int take_field(struct pa_wire_req *r, struct pa_wire_field *f, const char **why)
{
	const unsigned char *p = r->p;
	size_t left = (size_t)(r->end - p);

	if (left == 0)
		return 0;
	if (left < 2) {
		*why = "truncated field";
		return -1;
	}
	f->type = (char)p[0];
	f->name_len = p[1];
	if (f->type != 'b' && f->type != 'i') {
		*why = "unknown field type";
		return -1;
	}
	if (f->name_len == 0 || f->name_len > PA_WIRE_NAME_MAX || f->name_len > left - 2) {
		*why = "bad field name length";
		return -1;
	}
	/* the daemon looks names up as C strings: "user\0x" would be a
	 * second spelling of "user" */
	if (memchr(p + 2, '\0', f->name_len) != NULL) {
		*why = "NUL in a field name";
		return -1;
	}
	f->name = (const char *)p + 2;
	p += 2 + f->name_len;
	left -= 2 + f->name_len;
	if (f->type == 'i') {
		uint64_t u = 0;

		if (left < 8) {
			*why = "truncated integer";
			return -1;
		}
		for (int i = 0; i < 8; i++)
			u = u << 8 | p[i];
		f->i = (int64_t)u;
		f->data = NULL;
		f->len = 0;
		p += 8;
	} else {
		if (left < 4) {
			*why = "truncated length";
			return -1;
		}
		f->len = pa_wire_load32(p);
		if (f->len > left - 4) {
			*why = "field longer than the request";
			return -1;
		}
		f->data = p + 4;
		f->i = 0;
		p += 4 + f->len;
	}
	r->p = p;
	return 1;
}

int pa_wire_parse(struct pa_wire_req *r, const void *body, size_t len, const char **why)
{
	const unsigned char *b = body;
	struct pa_wire_req walk;
	struct pa_wire_field f;
	int rc;

	*why = NULL;
	if (len > PA_WIRE_REQUEST_MAX) {
		*why = "request too large";
		return -1;
	}
	if (len < 3 || b[0] != PA_WIRE_VERSION) {
		*why = len < 3 ? "truncated header" : "unknown version";
		return -1;
	}
	if ((b[1] & ~PA_WIRE_FLAGS) != 0) {
		*why = "unknown flags";
		return -1;
	}
	if (b[2] == 0 || b[2] > PA_WIRE_NAME_MAX || b[2] > len - 3) {
		*why = "bad kind length";
		return -1;
	}
	if (memchr(b + 3, '\0', b[2]) != NULL) {
		*why = "NUL in the kind";
		return -1;
	}
	r->flags = b[1];
	r->kind = (const char *)b + 3;
	r->kind_len = b[2];
	r->p = b + 3 + b[2];
	r->end = b + len;
	walk = *r;
	while ((rc = take_field(&walk, &f, why)) > 0)
		;
	return rc < 0 ? -1 : 0;
}

int pa_wire_next(struct pa_wire_req *r, struct pa_wire_field *f)
{
	const char *why;

	return take_field(r, f, &why) > 0;
}
