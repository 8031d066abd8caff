/* SPDX-License-Identifier: ISC */
/* wire.h: the messages a local client (pam_privaudit) sends privauditd and
 * the answers it gets, framed on a Unix stream socket.  No dependency
 * beyond libc: the PAM module links this and nothing of libprivaudit.
 *
 * Frame: a 32-bit big-endian length, then that many bytes of body.
 * Request body:  u8 version (1), u8 flags, u8 kind length, kind,
 *                then fields to the end, each:
 *                u8 type ('b' bytes or 'i' integer), u8 name length, name,
 *                'b': u32 big-endian length, bytes; 'i': 8 bytes, big-endian
 *                two's complement.
 * Answer body:   u8 version (1), u8 code (enum pa_wire_code), then text
 *                (a reason, not NUL-terminated, possibly empty). */
#ifndef PA_WIRE_H
#define PA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PA_WIRE_VERSION 1
#define PA_WIRE_REQUEST_MAX (256u * 1024u)   /* largest request body */
#define PA_WIRE_ANSWER_MAX 512u              /* largest answer body */
#define PA_WIRE_NAME_MAX 64u                 /* longest kind or field name */

/* Request flags. */
#define PA_WIRE_SYNC 0x1u   /* answer once the record is durable (fdatasync) */
#define PA_WIRE_SEAL 0x2u   /* seal the log right after this record */
#define PA_WIRE_FLAGS (PA_WIRE_SYNC | PA_WIRE_SEAL)

enum pa_wire_code {
	PA_WIRE_OK = 0,         /* recorded (durable when PA_WIRE_SYNC was asked) */
	PA_WIRE_BAD = 1,        /* malformed request: not recorded */
	PA_WIRE_TOOBIG = 2,     /* request over PA_WIRE_REQUEST_MAX: not recorded */
	PA_WIRE_REFUSED = 3,    /* peer or record kind not allowed: not recorded */
	PA_WIRE_FAILED = 4,     /* the log could not take it: see the text */
};

/* A request or answer being built; data holds the frame (length first). */
struct pa_wire_buf {
	unsigned char *data;
	size_t len, cap;
	int failed;             /* out of memory or over the limit: send nothing */
};

/* Building a request: begin, add fields, end.  A failure sticks (failed),
 * and pa_wire_end() then returns -1. */
void pa_wire_begin(struct pa_wire_buf *b, const char *kind, unsigned flags);
void pa_wire_add_bytes(struct pa_wire_buf *b, const char *name, const void *v, size_t len);
void pa_wire_add_str(struct pa_wire_buf *b, const char *name, const char *v);  /* NULL: nothing */
void pa_wire_add_int(struct pa_wire_buf *b, const char *name, int64_t v);
int pa_wire_end(struct pa_wire_buf *b);
void pa_wire_buf_free(struct pa_wire_buf *b);

/* An answer frame into out (at least 6 + text bytes; text cut to fit
 * PA_WIRE_ANSWER_MAX); returns its length. */
size_t pa_wire_answer(unsigned char *out, size_t cap, enum pa_wire_code code, const char *text);

/* Reading a request body.  pa_wire_parse() checks the header and every
 * field's framing; after it returns 0, pa_wire_next() walks the fields.
 * Names are not NUL-terminated. */
struct pa_wire_req {
	unsigned flags;
	const char *kind;
	size_t kind_len;
	const unsigned char *p, *end;
};
struct pa_wire_field {
	char type;              /* 'b' or 'i' */
	const char *name;
	size_t name_len;
	const unsigned char *data;   /* 'b' */
	size_t len;
	int64_t i;                   /* 'i' */
};
/* 0, or -1 with *why set to a static reason. */
int pa_wire_parse(struct pa_wire_req *r, const void *body, size_t len, const char **why);
/* 1 and *f filled, or 0 at the end (only on a request pa_wire_parse took). */
int pa_wire_next(struct pa_wire_req *r, struct pa_wire_field *f);

static inline uint32_t pa_wire_load32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pa_wire_store32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

#endif
