/* SPDX-License-Identifier: ISC */
/* stream.c: lines, records and events of the auditd plugin string stream.
 * Every byte is input from outside: nothing here trusts lengths, quotes or
 * digits to be where the format says they are. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "stream.h"

/* ------------------------------------------------------------ lines */

void pa_lines_init(struct pa_lines *l)
{
	memset(l, 0, sizeof(*l));
}

void pa_lines_free(struct pa_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

void pa_lines_reset(struct pa_lines *l)
{
	l->len = 0;
	l->skipping = 0;
	l->truncated = 0;
}

static int carry(struct pa_lines *l, const char *p, size_t n)
{
	if (l->len + n > PA_LINE_MAX) {
		n = PA_LINE_MAX - l->len;
		l->skipping = 1;
		l->truncated = 1;
	}
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *nb;

		while (cap < l->len + n)
			cap *= 2;
		nb = realloc(l->buf, cap);
		if (nb == NULL) {
			pa_lines_reset(l);
			return -1;
		}
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	return 0;
}

int pa_lines_feed(struct pa_lines *l, const char *data, size_t n, pa_line_fn fn, void *arg)
{
	const char *p = data, *end = data + n;
	int rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL) {
			if (!l->skipping && carry(l, p, (size_t)(end - p)) < 0)
				rc = -1;
			break;
		}
		if (l->len == 0 && !l->skipping) {
			/* the common case: a whole line inside the chunk */
			size_t len = (size_t)(nl - p);
			int trunc = 0;

			if (len > PA_LINE_MAX) {
				len = PA_LINE_MAX;
				trunc = 1;
			}
			fn(arg, p, len, trunc);
		} else {
			if (!l->skipping && carry(l, p, (size_t)(nl - p)) < 0)
				rc = -1;
			else
				fn(arg, l->buf, l->len, l->truncated);
			pa_lines_reset(l);
		}
		p = nl + 1;
	}
	return rc;
}

void pa_lines_finish(struct pa_lines *l, pa_line_fn fn, void *arg)
{
	if (l->len > 0)
		fn(arg, l->buf, l->len, l->truncated);
	pa_lines_reset(l);
}

/* ------------------------------------------------------------ records */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* Decimal digits at *p that fit in 64 bits; advances *p. */
static int digits(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	/* up to 19 digits cannot overflow: no check per digit for those */
	const char *fast = end - s > 19 ? s + 19 : end;
	uint64_t v = 0;
	unsigned d;

	while (s < fast && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
		v = v * 10 + d;
		s++;
	}
	if (s == *p)
		return -1;
	while (s < end && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

static int prefix(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* same: an event whose first record's stamp, when this line has the very
 * same bytes, need not be parsed again (every line of an event has it). */
static int record_parse(struct pa_record *r, const char *line, size_t len,
			const struct pa_event *same)
{
	const char *p = line, *end = line + len, *stamp, *sep;
	uint64_t v;

	memset(r, 0, sizeof(*r));
	r->line = line;
	r->len = len;
	if (prefix(&p, end, "node=") == 0) {
		r->node = p;
		while (p < end && *p != ' ')
			p++;
		r->node_len = (size_t)(p - r->node);
		while (p < end && *p == ' ')
			p++;
	}
	if (prefix(&p, end, "type=") < 0)
		return -1;
	r->type = p;
	while (p < end && *p != ' ')
		p++;
	r->type_len = (size_t)(p - r->type);
	if (r->type_len == 0 || r->type_len > 64)
		return -1;
	stamp = p;
	if (same != NULL && same->stamp_len > 0 && (size_t)(end - p) >= same->stamp_len &&
	    memcmp(p, same->stamp, same->stamp_len) == 0) {
		r->sec = same->sec;
		r->msec = same->msec;
		r->serial = same->serial;
		p += same->stamp_len;
	} else {
		if (prefix(&p, end, " msg=audit(") < 0 || digits(&p, end, &r->sec) < 0)
			return -1;
		if (prefix(&p, end, ".") < 0 || digits(&p, end, &v) < 0 || v > 999)
			return -1;
		r->msec = (unsigned)v;
		if (prefix(&p, end, ":") < 0 || digits(&p, end, &r->serial) < 0 ||
		    prefix(&p, end, ")") < 0)
			return -1;
		/* auditd 1.x and 2.x wrote their DAEMON_* records without it */
		(void)prefix(&p, end, ":");
	}
	r->stamp_len = (size_t)(p - stamp);
	if (p < end && *p == ' ')
		p++;
	sep = memchr(p, 0x1d, (size_t)(end - p));
	r->body = p;
	r->body_len = (size_t)((sep ? sep : end) - p);
	return 0;
}

int pa_record_parse(struct pa_record *r, const char *line, size_t len)
{
	return record_parse(r, line, len, NULL);
}

int pa_record_is(const struct pa_record *r, const char *type)
{
	size_t n = strlen(type);

	return r->type_len == n && memcmp(r->type, type, n) == 0;
}

/* Scans a word (8 bytes) at a time: a SYSCALL record has thirty-odd short
 * fields, where a byte loop pays a compare per byte and memchr a call per
 * value.  On a big-endian host the byte loops do it all. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when a byte of w is zero; the lowest flagged byte is the first
 * zero byte (a borrow can only flag bytes above it). */
static inline uint64_t zero_bytes(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

static inline uint64_t load_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* First byte in [p, end) equal to a or b, or end. */
static inline const char *scan_to2(const char *p, const char *end, unsigned char a, unsigned char b)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ma = ONES * a, mb = ONES * b;

	while (end - p >= 8) {
		uint64_t w = load_word(p), hit = zero_bytes(w ^ ma) | zero_bytes(w ^ mb);

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
static inline const char *scan_to(const char *p, const char *end, unsigned char c)
{
	const char *q;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t m = ONES * c;

	for (int i = 0; i < 4 && end - p >= 8; i++) {
		uint64_t hit = zero_bytes(load_word(p) ^ m);

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

void pa_fields_begin(struct pa_field_iter *it, const char *body, size_t len)
{
	it->p = body;
	it->end = body + len;
	it->outer_end = NULL;
}

size_t pa_fields_batch(struct pa_field_iter *it, struct pa_field *out, size_t max)
{
	/* locals, not it->p: stores through char pointers could alias it */
	const char *p = it->p, *end = it->end, *outer_end = it->outer_end;
	size_t n = 0;

	while (n < max) {
		const char *k, *v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end) {
			if (outer_end == NULL)
				break;
			/* leave msg='...': skip its closing quote */
			p = end + 1;
			end = outer_end;
			outer_end = NULL;
			if (p > end)
				p = end;
			continue;
		}
		k = p;
#ifdef __SSE2__
		/* The common field, "key=value " within 16 bytes with an
		 * unquoted value: both ends from one compare of the 16 bytes.
		 * Anything else goes the byte-wise way below, from k. */
		if (end - p >= 16) {
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, _mm_set1_epi8('=')));
			unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, _mm_set1_epi8(' ')));
			unsigned stop = eq | sp, ke, rest;

			if (stop != 0 && (ke = (unsigned)__builtin_ctz(stop)) > 0 && ((eq >> ke) & 1) != 0 &&
			    ke < 15 && p[ke + 1] != '"' && p[ke + 1] != '\'' &&
			    (rest = sp & (~0u << (ke + 1))) != 0) {
				unsigned ve = (unsigned)__builtin_ctz(rest);

				out[n].key = k;
				out[n].klen = ke;
				out[n].val = p + ke + 1;
				out[n].vlen = ve - ke - 1;
				n++;
				p += ve + 1;   /* past the space */
				continue;
			}
		}
#endif
		p = scan_to2(p, end, '=', ' ');
		if (p >= end || *p == ' ' || p == k) {
			/* a bare word ("tty" in TTY records) or "=x" */
			p = scan_to(p, end, ' ');
			continue;
		}
		v = ++p;
		if (v < end && *v == '\'' && p - k == 4 && memcmp(k, "msg", 3) == 0 && outer_end == NULL) {
			/* user-space message: its fields are iterated one by one.
			 * It ends at the last quote: nothing follows it in the
			 * body, and a value inside may hold a quote (libaudit
			 * does not encode one). */
			const char *q = memrchr(v + 1, '\'', (size_t)(end - v - 1));

			if (q != NULL) {
				outer_end = end;
				end = q;
			}
			p = v + 1;
			continue;
		}
		if (v < end && (*v == '"' || *v == '\'')) {
			const char *q = scan_to(v + 1, end, (unsigned char)*v);

			p = q < end ? q + 1 : end;
		} else {
			p = scan_to(p, end, ' ');
		}
		out[n].key = k;
		out[n].klen = (size_t)(v - 1 - k);
		out[n].val = v;
		out[n].vlen = (size_t)(p - v);
		n++;
	}
	it->p = p;
	it->end = end;
	it->outer_end = outer_end;
	return n;
}

int pa_fields_next(struct pa_field_iter *it, const char **key, size_t *klen,
		   const char **val, size_t *vlen)
{
	struct pa_field f;

	if (pa_fields_batch(it, &f, 1) == 0)
		return 0;
	*key = f.key;
	*klen = f.klen;
	*val = f.val;
	*vlen = f.vlen;
	return 1;
}

int pa_field_get(const struct pa_record *r, const char *key, const char **val, size_t *vlen)
{
	struct pa_field_iter it;
	struct pa_field f[32];
	size_t n, len = strlen(key);

	pa_fields_begin(&it, r->body, r->body_len);
	while ((n = pa_fields_batch(&it, f, sizeof(f) / sizeof(f[0]))) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (f[i].klen == len && memcmp(f[i].key, key, len) == 0) {
				*val = f[i].val;
				*vlen = f[i].vlen;
				return 1;
			}
		}
	}
	return 0;
}

static inline void unquote(const char **val, size_t *vlen)
{
	const char *v = *val;
	size_t n = *vlen;

	if (n >= 1 && (v[0] == '"' || v[0] == '\'')) {
		v++;
		n--;
		if (n >= 1 && v[n - 1] == (*val)[0])
			n--;
	}
	*val = v;
	*vlen = n;
}

void pa_value_unquote(const char **val, size_t *vlen)
{
	unquote(val, vlen);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return c - 'a' + 10;
}

size_t pa_value_decode(const char *val, size_t vlen, char *out)
{
	size_t i;

	if (vlen >= 1 && (val[0] == '"' || val[0] == '\'')) {
		unquote(&val, &vlen);
		memcpy(out, val, vlen);
		return vlen;
	}
	for (i = 0; i < vlen && is_hex(val[i]); i++)
		;
	if (vlen == 0 || i != vlen || vlen % 2 != 0) {
		memcpy(out, val, vlen);
		return vlen;
	}
	for (i = 0; i < vlen / 2; i++)
		out[i] = (char)(hexval(val[2 * i]) << 4 | hexval(val[2 * i + 1]));
	return vlen / 2;
}

int pa_value_u64(const char *val, size_t vlen, uint64_t *out)
{
	const char *p = val;

	unquote(&p, &vlen);
	val = p;
	return digits(&p, val + vlen, out) == 0 && p == val + vlen;
}

int pa_value_i64(const char *val, size_t vlen, int64_t *out)
{
	uint64_t u;
	int neg = 0;

	unquote(&val, &vlen);
	if (vlen > 0 && val[0] == '-') {
		neg = 1;
		val++;
		vlen--;
	}
	if (!pa_value_u64(val, vlen, &u) || u > (uint64_t)INT64_MAX)
		return 0;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 1;
}

/* ------------------------------------------------------------ events */

/* type starts with the literal lit */
#define STARTS(lit) (len >= sizeof(lit) - 1 && memcmp(type, lit, sizeof(lit) - 1) == 0)

int pa_type_standalone(const char *type, size_t len)
{
	/* asked for the first record of every event: types no prefix starts
	 * with (EXECVE, PATH, PROCTITLE...) end at once, the others are
	 * compared only with the prefixes of their first letter */
	if (len == 0)
		return 0;
	switch (type[0]) {
	case 'A':
		return STARTS("ANOM_LOGIN") || STARTS("ANOM_ADD_ACCT") || STARTS("ANOM_DEL_ACCT") ||
		       STARTS("ANOM_MOD_ACCT") || STARTS("ANOM_ROOT_TRANS") || STARTS("ANOM_AMTU") ||
		       STARTS("ANOM_RBAC") || STARTS("ADD_") || STARTS("ACCT_");
	case 'C':
		return STARTS("CRED_") || STARTS("CHUSER_ID") || STARTS("CHGRP_ID") || STARTS("CRYPTO_");
	case 'D':
		return STARTS("DAEMON_") || STARTS("DEL_") || STARTS("DAC_CHECK");
	case 'G':
		return STARTS("GRP_");
	case 'L':
		return STARTS("LABEL_");
	case 'R':
		return STARTS("ROLE_") || STARTS("RESP_");
	case 'S':
		return STARTS("SYSTEM_") || STARTS("SERVICE_") || STARTS("SOFTWARE_UPDATE") ||
		       STARTS("SELINUX_ERR");
	case 'T':
		return STARTS("TRUSTED_APP") || STARTS("TEST");
	case 'U':
		return STARTS("USER_") || STARTS("USYS_CONFIG");
	case 'V':
		return STARTS("VIRT_");
	default:
		return 0;
	}
}

#undef STARTS

void pa_grouper_init(struct pa_grouper *g, const struct pa_grouper_limits *lim,
		     pa_event_fn fn, void *arg)
{
	memset(g, 0, sizeof(*g));
	g->lim = *lim;
	if (g->lim.max_open == 0)
		g->lim.max_open = 256;
	if (g->lim.max_bytes == 0)
		g->lim.max_bytes = 8u << 20;
	if (g->lim.newer_events == 0)
		g->lim.newer_events = 64;
	if (g->lim.idle_ms == 0)
		g->lim.idle_ms = 500;
	if (g->lim.hold_ms == 0)
		g->lim.hold_ms = 20;
	g->fn = fn;
	g->arg = arg;
}

/* Buffers of a delivered event kept for the next one, up to these sizes. */
#define SPARE_TEXT_MAX (64u * 1024u)
#define SPARE_RECS_MAX 64u
#define SPARE_NODE_MAX 256u

static void event_free(struct pa_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->text);
	free(ev->recs);
	free(ev->node);
	free(ev);
}

void pa_grouper_free(struct pa_grouper *g)
{
	for (size_t i = 0; i < g->nopen; i++)
		event_free(g->open[i]);
	for (size_t i = 0; i < g->nheld; i++)
		event_free(g->held[i]);
	event_free(g->spare);
	free(g->open);
	memset(g, 0, sizeof(*g));
}

/* Re-point every record into the final text, hand the event over, free it. */
static void deliver(struct pa_grouper *g, struct pa_event *ev)
{
	for (size_t i = 0; i < ev->nrec; i++) {
		struct pa_event_rec *er = &ev->recs[i];
		const char *line = ev->text + er->off;

		if (er->parsed) {
			/* parsed when it arrived: only the pointers move */
			er->rec.line = line;
			er->rec.len = er->len;
			er->rec.type = line + er->type_off;
			er->rec.body = line + er->body_off;
		} else {
			memset(&er->rec, 0, sizeof(er->rec));
			er->rec.line = line;
			er->rec.len = er->len;
		}
	}
	g->fn(g->arg, ev);
	/* the next event reuses its buffers, unless a huge event grew them */
	if (g->spare == NULL && ev->text_cap <= SPARE_TEXT_MAX && ev->rec_cap <= SPARE_RECS_MAX &&
	    ev->node_cap <= SPARE_NODE_MAX)
		g->spare = ev;
	else
		event_free(ev);
}

static void remove_open(struct pa_grouper *g, size_t i)
{
	memmove(&g->open[i], &g->open[i + 1], (g->nopen - i - 1) * sizeof(g->open[0]));
	g->nopen--;
}

/* r: the line's parsed header, or NULL. */
static int add_line(struct pa_event *ev, const char *line, size_t len, const struct pa_record *r,
		    size_t max_bytes)
{
	struct pa_event_rec *er;

	if (ev->text_len + len + 1 > max_bytes) {
		ev->raw_dropped += len + 1;
		return 0;
	}
	if (ev->text_len + len + 1 > ev->text_cap) {
		size_t cap = ev->text_cap ? ev->text_cap : 4096;
		char *nt;

		while (cap < ev->text_len + len + 1)
			cap *= 2;
		nt = realloc(ev->text, cap);
		if (nt == NULL)
			return -1;
		ev->text = nt;
		ev->text_cap = cap;
	}
	if (ev->nrec == ev->rec_cap) {
		size_t cap = ev->rec_cap ? ev->rec_cap * 2 : 16;
		struct pa_event_rec *nr = realloc(ev->recs, cap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		ev->recs = nr;
		ev->rec_cap = cap;
	}
	memcpy(ev->text + ev->text_len, line, len);
	er = &ev->recs[ev->nrec];
	er->off = ev->text_len;
	er->len = len;
	er->parsed = r != NULL;
	if (r != NULL) {
		er->rec = *r;
		er->type_off = (size_t)(r->type - line);
		er->body_off = (size_t)(r->body - line);
	}
	ev->nrec++;
	ev->text_len += len;
	ev->text[ev->text_len++] = '\n';
	return 0;
}

/* A new event: the spare one emptied (its text and record buffers kept),
 * else a fresh one. */
static struct pa_event *event_new(struct pa_grouper *g, const struct pa_record *r)
{
	struct pa_event *ev = g->spare;

	if (ev != NULL) {
		char *text = ev->text, *node = ev->node;
		struct pa_event_rec *recs = ev->recs;
		size_t text_cap = ev->text_cap, rec_cap = ev->rec_cap, node_cap = ev->node_cap;

		g->spare = NULL;
		memset(ev, 0, sizeof(*ev));
		ev->text = text;
		ev->text_cap = text_cap;
		ev->recs = recs;
		ev->rec_cap = rec_cap;
		ev->node = node;
		ev->node_cap = node_cap;
	} else {
		ev = calloc(1, sizeof(*ev));
		if (ev == NULL)
			return NULL;
	}
	if (r->node_len > ev->node_cap) {
		char *nn = realloc(ev->node, r->node_len);

		if (nn == NULL) {
			event_free(ev);
			return NULL;
		}
		ev->node = nn;
		ev->node_cap = r->node_len;
	}
	if (r->node_len > 0)
		memcpy(ev->node, r->node, r->node_len);
	ev->node_len = r->node_len;
	ev->serial = r->serial;
	ev->sec = r->sec;
	ev->msec = r->msec;
	/* kept for the next lines' quick compare: only a whole one, "):", of
	 * which one without ':' would be a prefix */
	if (r->stamp_len > 0 && r->stamp_len <= sizeof(ev->stamp) &&
	    r->type[r->type_len + r->stamp_len - 1] == ':') {
		memcpy(ev->stamp, r->type + r->type_len, r->stamp_len);
		ev->stamp_len = r->stamp_len;
	}
	return ev;
}

/* Does record r belong to event ev's (node, time, serial)? */
static int same_key(const struct pa_event *ev, const struct pa_record *r)
{
	return ev->serial == r->serial && ev->sec == r->sec && ev->msec == r->msec &&
	       ev->node_len == r->node_len &&
	       (r->node_len == 0 || memcmp(ev->node, r->node, r->node_len) == 0);
}

/* The PA_ONCE_* kind of a record, or 0. */
static unsigned once_kind(const struct pa_record *r)
{
	const char *p = r->body, *end = r->body + r->body_len;

	if (pa_record_is(r, "SYSCALL"))
		return PA_ONCE_SYSCALL;
	if (!pa_record_is(r, "EXECVE"))
		return 0;
	/* a long argv goes on in more EXECVE records, without argc= */
	while (p < end && *p == ' ')
		p++;
	return (size_t)(end - p) >= 5 && memcmp(p, "argc=", 5) == 0 ? PA_ONCE_ARGV : 0;
}

/* Held event i goes out. */
static void release_held(struct pa_grouper *g, size_t i)
{
	struct pa_event *ev = g->held[i];

	memmove(&g->held[i], &g->held[i + 1], (g->nheld - i - 1) * sizeof(g->held[0]));
	g->nheld--;
	deliver(g, ev);
}

/* Put ev among the events waiting for their EOE (delivered at once when
 * there is no memory for the list). */
static void wait_open(struct pa_grouper *g, struct pa_event *ev)
{
	if (g->nopen == g->open_cap) {
		size_t cap = g->open_cap ? g->open_cap * 2 : 16;
		struct pa_event **no = realloc(g->open, cap * sizeof(*no));

		if (no == NULL) {
			deliver(g, ev);
			return;
		}
		g->open = no;
		g->open_cap = cap;
	}
	g->open[g->nopen++] = ev;
}

/* Events overtaken by many newer ones will not see their EOE; a held
 * single-record event waits for fewer. */
static void flush_overtaken(struct pa_grouper *g)
{
	while (g->nheld > 0 && g->held[0]->newer >= PA_HELD_NEWER)
		release_held(g, 0);
	while (g->nopen > 0 &&
	       (g->nopen > g->lim.max_open || g->open[0]->newer >= g->lim.newer_events)) {
		struct pa_event *ev = g->open[0];

		remove_open(g, 0);
		deliver(g, ev);
	}
}

/* A line with no record header: an event of its own. */
static void unparsed_line(struct pa_grouper *g, const char *line, size_t len, int truncated)
{
	struct pa_record none;
	struct pa_event *ev;

	g->unparsed++;
	memset(&none, 0, sizeof(none));
	ev = event_new(g, &none);
	if (ev == NULL)
		return;
	ev->unparsed = 1;
	ev->truncated = truncated;
	ev->complete = 1;
	if (add_line(ev, line, len, NULL, g->lim.max_bytes) < 0) {
		event_free(ev);
		return;
	}
	deliver(g, ev);
}

void pa_grouper_line(struct pa_grouper *g, const char *line, size_t len, int truncated,
		     uint64_t now_ms)
{
	struct pa_record r;
	struct pa_event *ev = NULL, *last;
	unsigned once;
	size_t i, h;

	g->lines++;
	if (len == 0)
		return;
	last = g->nopen > 0 ? g->open[g->nopen - 1] : g->nheld > 0 ? g->held[g->nheld - 1] : NULL;
	if (record_parse(&r, line, len, last) < 0) {
		unparsed_line(g, line, len, truncated);
		return;
	}
	once = once_kind(&r);
	/* auditd numbers its own DAEMON_* records from a counter of its own,
	 * which can meet a kernel event's serial: they never join an event */
	if (r.type_len > 7 && memcmp(r.type, "DAEMON_", 7) == 0) {
		i = h = 0;
	} else {
		for (i = g->nopen; i > 0; i--)
			if (same_key(g->open[i - 1], &r))
				break;
		for (h = i > 0 ? 0 : g->nheld; h > 0; h--)
			if (same_key(g->held[h - 1], &r))
				break;
	}
	if (h > 0) {
		/* a record of a held single-record event's stamp: one event,
		 * which now waits for its EOE like any other */
		ev = g->held[h - 1];
		memmove(&g->held[h - 1], &g->held[h], (g->nheld - h) * sizeof(g->held[0]));
		g->nheld--;
		if (pa_record_is(&r, "EOE")) {
			deliver(g, ev);
			return;
		}
		ev->complete = 0;
		wait_open(g, ev);
		i = g->nopen;
		if (i == 0 || g->open[i - 1] != ev)
			return;   /* delivered: no memory for the list */
	}
	if (i > 0 && (g->open[i - 1]->once & once) == 0) {
		ev = g->open[i - 1];
		if (pa_record_is(&r, "EOE")) {
			ev->complete = 1;
			remove_open(g, i - 1);
			deliver(g, ev);
			return;
		}
		ev->last_ms = now_ms;
		ev->truncated |= truncated;
		ev->once |= once;
		if (add_line(ev, line, len, &r, g->lim.max_bytes) < 0)
			ev->raw_dropped += len + 1;
		flush_overtaken(g);
		return;
	}
	/* a new event; with i > 0, a second one of the same stamp */
	if (pa_record_is(&r, "EOE"))
		return;   /* its event was flushed already */
	ev = event_new(g, &r);
	if (ev == NULL)
		return;
	ev->last_ms = now_ms;
	ev->truncated = truncated;
	ev->once = once;
	if (add_line(ev, line, len, &r, g->lim.max_bytes) < 0) {
		event_free(ev);
		return;
	}
	for (i = 0; i < g->nopen; i++)
		g->open[i]->newer++;
	for (i = 0; i < g->nheld; i++)
		g->held[i]->newer++;
	if (r.type_len > 7 && memcmp(r.type, "DAEMON_", 7) == 0) {
		ev->complete = 1;
		deliver(g, ev);
	} else if (pa_type_standalone(r.type, r.type_len)) {
		ev->complete = 1;
		if (g->nheld == PA_HELD_MAX)
			release_held(g, 0);
		g->held[g->nheld++] = ev;
	} else {
		wait_open(g, ev);
	}
	flush_overtaken(g);
}

void pa_grouper_tick(struct pa_grouper *g, uint64_t now_ms, int all)
{
	size_t i = 0;

	while (g->nheld > 0 && (all || now_ms - g->held[0]->last_ms >= g->lim.hold_ms))
		release_held(g, 0);
	while (i < g->nopen) {
		struct pa_event *ev = g->open[i];

		if (all || (ev->newer > 0 && now_ms - ev->last_ms >= g->lim.idle_ms) ||
		    now_ms - ev->last_ms >= 4 * g->lim.idle_ms) {
			remove_open(g, i);
			deliver(g, ev);
		} else {
			i++;
		}
	}
}
