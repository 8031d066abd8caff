/* SPDX-License-Identifier: ISC */
/* stream.h: the auditd plugin string stream (one record per line) cut into
 * lines, records parsed in place, and records grouped into events by serial.
 * No I/O and no log logic here, so the parser is testable and fuzzable alone. */
#ifndef PA_STREAM_H
#define PA_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ lines */

/* Longest line kept whole; the rest of a longer line is cut off (the kept
 * part is still delivered, flagged as truncated). */
#define PA_LINE_MAX (1u << 20)

typedef void (*pa_line_fn)(void *arg, const char *line, size_t len, int truncated);

struct pa_lines {
	char *buf;          /* a partial line carried between chunks */
	size_t len, cap;
	int skipping;       /* inside an over-long line: drop until newline */
	int truncated;
};

void pa_lines_init(struct pa_lines *l);
void pa_lines_free(struct pa_lines *l);
/* Deliver every complete line in data (newline not included).  Returns -1
 * only when memory runs out (the partial line is then lost). */
int pa_lines_feed(struct pa_lines *l, const char *data, size_t n, pa_line_fn fn, void *arg);
/* Deliver what is left as a last line (end of input). */
void pa_lines_finish(struct pa_lines *l, pa_line_fn fn, void *arg);
/* Forget the partial line: bytes were dropped between two chunks. */
void pa_lines_reset(struct pa_lines *l);

/* ------------------------------------------------------------ records */

/* One line "[node=N ]type=T msg=audit(SEC.MSEC:SERIAL): FIELDS[\x1dENRICHED]".
 * The ':' after the stamp is optional: auditd 1.x and 2.x wrote their own
 * DAEMON_* records without it. */
struct pa_record {
	const char *line;   /* whole line */
	size_t len;
	const char *node;   /* N of "node=N ", not NUL-terminated (node_len 0: none) */
	size_t node_len;
	const char *type;   /* type name, not NUL-terminated */
	size_t type_len;
	uint64_t sec;
	unsigned msec;
	uint64_t serial;
	size_t stamp_len;   /* " msg=audit(SEC.MSEC:SERIAL):", right after type */
	const char *body;   /* raw fields, up to the 0x1d separator or the end */
	size_t body_len;
};

/* 0 when line has the header above, -1 otherwise. */
int pa_record_parse(struct pa_record *r, const char *line, size_t len);
int pa_record_is(const struct pa_record *r, const char *type);

/* Iterate over the key=value fields of a record body.  Fields inside a
 * user-space msg='...' are iterated as well; bare words are skipped. */
struct pa_field_iter {
	const char *p, *end;
	const char *outer_end;   /* end of the body while inside msg='...' */
};

void pa_fields_begin(struct pa_field_iter *it, const char *body, size_t len);
/* 1 with key/val set (val as written: quoted, hex or plain), 0 at the end. */
int pa_fields_next(struct pa_field_iter *it, const char **key, size_t *klen,
		   const char **val, size_t *vlen);
/* Up to max fields at once, the same ones pa_fields_next gives; 0 at the
 * end.  For loops over many fields: one call, not one per field. */
struct pa_field {
	const char *key, *val;
	size_t klen, vlen;
};
size_t pa_fields_batch(struct pa_field_iter *it, struct pa_field *out, size_t max);
/* First field named key; 1 when found. */
int pa_field_get(const struct pa_record *r, const char *key, const char **val, size_t *vlen);

/* Length of the decoded form of a value written by the kernel's
 * audit_log_untrustedstring(): "quoted" as is, an even run of hex digits
 * decoded, anything else as is.  out needs vlen bytes. */
size_t pa_value_decode(const char *val, size_t vlen, char *out);
/* Value as text with quotes removed (no hex decoding). */
void pa_value_unquote(const char **val, size_t *vlen);
/* Unsigned decimal value; 1 when val is one that fits. */
int pa_value_u64(const char *val, size_t vlen, uint64_t *out);
int pa_value_i64(const char *val, size_t vlen, int64_t *out);

/* ------------------------------------------------------------ events */

struct pa_event_rec {
	size_t off, len;             /* line within the event's text */
	struct pa_record rec;        /* pointers valid during the callback only */
	size_t type_off, body_off;   /* rec.type, rec.body within the line */
	int parsed;                  /* rec holds the line's parsed header */
};

struct pa_event {
	/* An event is the records of one (node, time, serial). */
	uint64_t serial;
	uint64_t sec;
	unsigned msec;
	char *node;                  /* node name (node_len bytes), kept with its buffer */
	size_t node_len, node_cap;
	unsigned once;               /* PA_ONCE_* records it holds */
	char stamp[64];              /* the first record's stamp (pa_record) */
	size_t stamp_len;            /* 0: none kept */
	char *text;                  /* lines, each ended by '\n' */
	size_t text_len, text_cap;
	struct pa_event_rec *recs;
	size_t nrec, rec_cap;
	size_t raw_dropped;          /* bytes of lines not kept (size bound) */
	uint64_t last_ms;            /* when a record last arrived */
	uint64_t newer;              /* events started after this one */
	int complete;                /* EOE seen, or a single-record event */
	int unparsed;                /* one line that has no record header */
	int truncated;               /* a line was cut at PA_LINE_MAX */
};

/* Records the kernel writes once per event: a second one in an open event
 * is another event with the same stamp (the same events replayed, say), so
 * two executions never share a record, nor two argv one list. */
#define PA_ONCE_SYSCALL 1u
#define PA_ONCE_ARGV 2u   /* an EXECVE record starting an argv (argc=) */

typedef void (*pa_event_fn)(void *arg, struct pa_event *ev);

struct pa_grouper_limits {
	size_t max_open;             /* events waiting for EOE at once */
	size_t max_bytes;            /* text kept per event; further lines counted only */
	uint64_t newer_events;       /* flush a waiting event after this many newer ones */
	uint64_t idle_ms;            /* ...or once newer ones exist and it was idle this long */
	uint64_t hold_ms;            /* a single-record event waits this long for more of its stamp */
};

/* Single-record events held at once, and the newer events after which
 * one is no longer waited for. */
#define PA_HELD_MAX 16u
#define PA_HELD_NEWER 8u

struct pa_grouper {
	struct pa_grouper_limits lim;
	struct pa_event **open;      /* waiting events, oldest first */
	size_t nopen, open_cap;
	pa_event_fn fn;
	void *arg;
	uint64_t lines, unparsed;
	struct pa_event *spare;      /* last delivered event, for its buffers */
	/* Single-record events (user space, SELINUX_ERR...), oldest first,
	 * held a few events or hold_ms: records of the same stamp that follow
	 * (the SYSCALL record of the system call that sent one) join them. */
	struct pa_event *held[PA_HELD_MAX];
	size_t nheld;
};

void pa_grouper_init(struct pa_grouper *g, const struct pa_grouper_limits *lim,
		     pa_event_fn fn, void *arg);
void pa_grouper_free(struct pa_grouper *g);
/* One line; events that are complete, or that must be flushed, go to fn
 * (which must not keep the event).  now_ms: a monotonic clock. */
void pa_grouper_line(struct pa_grouper *g, const char *line, size_t len, int truncated,
		     uint64_t now_ms);
/* Flush waiting events that a newer one has overtaken and that were idle
 * idle_ms, and a held single-record one after hold_ms (all of them when
 * all is set). */
void pa_grouper_tick(struct pa_grouper *g, uint64_t now_ms, int all);

/* The kernel's single-record user-space and daemon events never get EOE. */
int pa_type_standalone(const char *type, size_t len);

#endif /* PA_STREAM_H */
