/* stream.h: the auditd plugin string stream (one record per line) cut into
 * lines, records parsed in place, and records grouped into events by serial.
 * No I/O and no log logic here, so the parser is testable and fuzzable alone. */
#ifndef PA_STREAM_H
#define PA_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* One line "[node=N ]type=T msg=audit(SEC.MSEC:SERIAL): FIELDS[\x1dENRICHED]". */
struct pa_record {
	const char *line;   /* whole line */
	size_t len;
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

/* Scans a word (8 bytes) at a time: a SYSCALL record has thirty-odd short
 * fields, where a byte loop pays a compare per byte and memchr a call per
 * value.  On a big-endian host the byte loops do it all. */
#define PA_ONES 0x0101010101010101ull
#define PA_HIGHS 0x8080808080808080ull

/* Nonzero when a byte of w is zero; the lowest flagged byte is the first
 * zero byte (a borrow can only flag bytes above it). */
static inline uint64_t pa_zero_bytes(uint64_t w)
{
	return (w - PA_ONES) & ~w & PA_HIGHS;
}

static inline uint64_t pa_load_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* First byte in [p, end) equal to a or b, or end. */
static inline const char *pa_scan_to2(const char *p, const char *end, unsigned char a, unsigned char b)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ma = PA_ONES * a, mb = PA_ONES * b;

	while (end - p >= 8) {
		uint64_t w = pa_load_word(p), hit = pa_zero_bytes(w ^ ma) | pa_zero_bytes(w ^ mb);

		if (hit != 0)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p != (char)a && *p != (char)b)
		p++;
	return p;
}

/* First byte in [p, end) equal to c, or end; long runs (hex-encoded
 * arguments) are left to memchr. */
static inline const char *pa_scan_to(const char *p, const char *end, unsigned char c)
{
	const char *q;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t m = PA_ONES * c;

	for (int i = 0; i < 4 && end - p >= 8; i++) {
		uint64_t hit = pa_zero_bytes(pa_load_word(p) ^ m);

		if (hit != 0)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
#endif
	if (p >= end)
		return end;
	q = memchr(p, c, (size_t)(end - p));
	return q ? q : end;
}

static inline void pa_fields_begin(struct pa_field_iter *it, const char *body, size_t len)
{
	it->p = body;
	it->end = body + len;
	it->outer_end = NULL;
}

/* 1 with key/val set (val as written: quoted, hex or plain), 0 at the end.
 * Inline: the callers' loops over thirty-odd fields keep it in registers. */
static inline int pa_fields_next(struct pa_field_iter *it, const char **key, size_t *klen,
				 const char **val, size_t *vlen)
{
	/* locals, not it->p: stores through char pointers could alias it */
	const char *p = it->p, *end = it->end;

	for (;;) {
		const char *k, *v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end) {
			if (it->outer_end == NULL) {
				it->p = p;
				return 0;
			}
			/* leave msg='...': skip its closing quote */
			p = end + 1;
			end = it->outer_end;
			it->end = end;
			it->outer_end = NULL;
			if (p > end)
				p = end;
			continue;
		}
		k = p;
		p = pa_scan_to2(p, end, '=', ' ');
		if (p >= end || *p == ' ' || p == k) {
			/* a bare word ("tty" in TTY records) or "=x" */
			p = pa_scan_to(p, end, ' ');
			continue;
		}
		*key = k;
		*klen = (size_t)(p - k);
		v = ++p;
		if (v < end && *v == '\'' && *klen == 3 && memcmp(k, "msg", 3) == 0 &&
		    it->outer_end == NULL) {
			/* user-space message: its fields are iterated one by one */
			const char *q = memchr(v + 1, '\'', (size_t)(end - v - 1));

			if (q != NULL) {
				it->outer_end = end;
				end = q;
				it->end = end;
			}
			p = v + 1;
			continue;
		}
		if (v < end && (*v == '"' || *v == '\'')) {
			const char *q = pa_scan_to(v + 1, end, (unsigned char)*v);

			p = q < end ? q + 1 : end;
		} else {
			p = pa_scan_to(p, end, ' ');
		}
		it->p = p;
		*val = v;
		*vlen = (size_t)(p - v);
		return 1;
	}
}

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
	uint64_t serial;
	uint64_t sec;
	unsigned msec;
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

typedef void (*pa_event_fn)(void *arg, struct pa_event *ev);

struct pa_grouper_limits {
	size_t max_open;             /* events waiting for EOE at once */
	size_t max_bytes;            /* text kept per event; further lines counted only */
	uint64_t newer_events;       /* flush a waiting event after this many newer ones */
	uint64_t idle_ms;            /* ...or once newer ones exist and it was idle this long */
};

struct pa_grouper {
	struct pa_grouper_limits lim;
	struct pa_event **open;      /* waiting events, oldest first */
	size_t nopen, open_cap;
	pa_event_fn fn;
	void *arg;
	uint64_t lines, unparsed;
	struct pa_event *spare;      /* last delivered event, for its buffers */
};

void pa_grouper_init(struct pa_grouper *g, const struct pa_grouper_limits *lim,
		     pa_event_fn fn, void *arg);
void pa_grouper_free(struct pa_grouper *g);
/* One line; events that are complete, or that must be flushed, go to fn
 * (which must not keep the event).  now_ms: a monotonic clock. */
void pa_grouper_line(struct pa_grouper *g, const char *line, size_t len, int truncated,
		     uint64_t now_ms);
/* Flush waiting events that a newer one has overtaken and that were idle
 * idle_ms (all of them when all is set). */
void pa_grouper_tick(struct pa_grouper *g, uint64_t now_ms, int all);

/* The kernel's single-record user-space and daemon events never get EOE. */
int pa_type_standalone(const char *type, size_t len);

#endif /* PA_STREAM_H */
