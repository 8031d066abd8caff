/* SPDX-License-Identifier: ISC */
/* translate.c: one audit event in, privaudit records out.  Parsed fields go
 * beside the raw event text, which is always kept, so that nothing the
 * kernel said is lost to a parser's mistake. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translate.h"

/* With shrink set, records that were too big are built again within these. */
#define SHRINK_RAW (256u * 1024u)
#define SHRINK_ARGV (1024u * 1024u)
#define ARGS_MAX (1u << 20)

/* A growing buffer; it may start in the caller's storage (fixed), so the
 * common small case needs no allocation. */
struct buf {
	char *p;
	size_t len, cap;
	char *fixed;           /* caller's storage, never freed, or NULL */
};

static void buf_on(struct buf *b, char *storage, size_t size)
{
	b->p = b->fixed = storage;
	b->len = 0;
	b->cap = size;
}

static int buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *np;

	while (cap < b->len + n)
		cap *= 2;
	if (b->fixed != NULL && b->p == b->fixed) {
		np = malloc(cap);
		if (np != NULL && b->len > 0)
			memcpy(np, b->p, b->len);
	} else {
		np = realloc(b->p, cap);
	}
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

static inline int buf_reserve(struct buf *b, size_t n)
{
	return b->len + n > b->cap ? buf_grow(b, n) : 0;
}

static void buf_free(struct buf *b)
{
	if (b->p != b->fixed)
		free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The names of the command fields, in the order of PA_CMD_*. */
static const char *const cmd_names[PA_CMD_FIELDS] = {
	"auid", "ses", "uid", "euid", "pid", "ppid", "exe", "tty", "success", "exit",
	"argv", "cwd", "source", "serial", "raw", "session_key", "argv_cut", "audit_time_ms",
	"argv_truncated_bytes", "raw_truncated_bytes",
};

void pa_translate_init(struct pa_translate *t, pa_append_fn append, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->append = append;
	t->arg = arg;
	for (size_t i = 0; i < PA_CMD_FIELDS; i++)
		if (privaudit_event_field_id(&t->cmd[i], "command", cmd_names[i]) != PRIVAUDIT_OK)
			t->cmd[i] = 0;
}

static void select_free(struct pa_select *sel)
{
	free(sel->drop_types);
	free(sel->only_keys);
	sel->drop_types = sel->only_keys = NULL;
}

void pa_translate_free(struct pa_translate *t)
{
	select_free(&t->sel);
	pa_nodes_free(&t->nodes);
}

static char *dup_list(const char *s)
{
	return (s == NULL || s[0] == '\0') ? NULL : strdup(s);
}

int pa_translate_select(struct pa_translate *t, const char *drop_types, const char *only_keys)
{
	char *d = dup_list(drop_types), *k = dup_list(only_keys);

	if ((drop_types && drop_types[0] && d == NULL) || (only_keys && only_keys[0] && k == NULL)) {
		free(d);
		free(k);
		return -1;
	}
	select_free(&t->sel);
	t->sel.drop_types = d;
	t->sel.only_keys = k;
	return 0;
}

/* Is word (len bytes) an item of the comma list? */
static int in_list(const char *list, const char *word, size_t len)
{
	while (list != NULL && *list != '\0') {
		const char *end = strchr(list, ',');
		size_t l = end ? (size_t)(end - list) : strlen(list);

		while (l > 0 && *list == ' ') {
			list++;
			l--;
		}
		while (l > 0 && list[l - 1] == ' ')
			l--;
		if (l == len && memcmp(list, word, len) == 0)
			return 1;
		if (end == NULL)
			break;
		list = end + 1;
	}
	return 0;
}

/* ------------------------------------------------------------ fields */

/* pa_record_is, inlined here: with a literal type the length is known. */
static inline int rec_is(const struct pa_record *r, const char *type)
{
	size_t n = strlen(type);

	return r->type_len == n && memcmp(r->type, type, n) == 0;
}

/* "boot_id:ses" into key; its length, or 0 when it does not fit (as
 * snprintf "%s:%llu" would be cut). */
static size_t session_key(char *key, size_t cap, const char *boot_id, uint64_t ses)
{
	char digits[24];
	size_t bl = strlen(boot_id), dl = 0;

	do {
		digits[sizeof(digits) - 1 - dl++] = (char)('0' + ses % 10);
		ses /= 10;
	} while (ses > 0);
	if (bl + 1 + dl >= cap)
		return 0;
	memcpy(key, boot_id, bl);
	key[bl] = ':';
	memcpy(key + bl + 1, digits + sizeof(digits) - dl, dl);
	key[bl + 1 + dl] = '\0';
	return bl + 1 + dl;
}

static const struct pa_record *find_rec(const struct pa_event *ev, const char *type)
{
	for (size_t i = 0; i < ev->nrec; i++)
		if (rec_is(&ev->recs[i].rec, type))
			return &ev->recs[i].rec;
	return NULL;
}

static int get_u64(const struct pa_record *r, const char *key, uint64_t *v)
{
	const char *val;
	size_t vlen;

	return r != NULL && pa_field_get(r, key, &val, &vlen) && pa_value_u64(val, vlen, v);
}

static void set_bytes(privaudit_event *e, const char *f, const void *d, size_t n,
		      privaudit_status *st)
{
	if (*st == PRIVAUDIT_OK)
		*st = privaudit_event_set_bytes(e, f, d, n);
}

static void set_int(privaudit_event *e, const char *f, int64_t v, privaudit_status *st)
{
	if (*st == PRIVAUDIT_OK)
		*st = privaudit_event_set_int(e, f, v);
}

/* A command field by its handle (by name if it was not found). */
static void cmd_bytes(const struct pa_translate *t, privaudit_event *e, unsigned i, const void *d,
		      size_t n, privaudit_status *st)
{
	if (*st == PRIVAUDIT_OK)
		*st = t->cmd[i] ? privaudit_event_set_bytes_id(e, t->cmd[i], d, n)
				: privaudit_event_set_bytes(e, cmd_names[i], d, n);
}

static void cmd_int(const struct pa_translate *t, privaudit_event *e, unsigned i, int64_t v,
		    privaudit_status *st)
{
	if (*st == PRIVAUDIT_OK)
		*st = t->cmd[i] ? privaudit_event_set_int_id(e, t->cmd[i], v)
				: privaudit_event_set_int(e, cmd_names[i], v);
}

/* A command field decoded from a value as written (nothing when NULL). */
static void cmd_decoded(const struct pa_translate *t, privaudit_event *e, unsigned i, const char *val,
			size_t vlen, struct buf *scratch, privaudit_status *st)
{
	if (val == NULL || *st != PRIVAUDIT_OK)
		return;
	scratch->len = 0;
	if (buf_reserve(scratch, vlen + 1) < 0) {
		*st = PRIVAUDIT_E_NOMEM;
		return;
	}
	cmd_bytes(t, e, i, scratch->p, pa_value_decode(val, vlen, scratch->p), st);
}

/* A uint32 field copied when present and in range. */
static void copy_u32(privaudit_event *e, const char *f, const struct pa_record *r, const char *key,
		     privaudit_status *st)
{
	uint64_t v;

	if (get_u64(r, key, &v) && v <= UINT32_MAX)
		set_int(e, f, (int64_t)v, st);
}

/* A value (as written: quoted, hex or plain) decoded into the event;
 * nothing when val is NULL. */
static void copy_value(privaudit_event *e, const char *f, const char *val, size_t vlen,
		       struct buf *scratch, privaudit_status *st)
{
	if (val == NULL || *st != PRIVAUDIT_OK)
		return;
	scratch->len = 0;
	if (buf_reserve(scratch, vlen + 1) < 0) {
		*st = PRIVAUDIT_E_NOMEM;
		return;
	}
	set_bytes(e, f, scratch->p, pa_value_decode(val, vlen, scratch->p), st);
}

/* A field decoded (quotes removed, hex decoded) into the event. */
static void copy_decoded(privaudit_event *e, const char *f, const struct pa_record *r,
			 const char *key, struct buf *scratch, privaudit_status *st)
{
	const char *val;
	size_t vlen;

	if (*st != PRIVAUDIT_OK || r == NULL || !pa_field_get(r, key, &val, &vlen))
		return;
	copy_value(e, f, val, vlen, scratch, st);
}

/* A string field: only printable ASCII is kept, the rest becomes '?'. */
static void copy_text(privaudit_event *e, const char *f, const char *s, size_t n,
		      privaudit_status *st)
{
	char tmp[256];

	if (n > sizeof(tmp))
		n = sizeof(tmp);
	for (size_t i = 0; i < n; i++)
		tmp[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	set_bytes(e, f, tmp, n, st);
}

static void common(struct pa_translate *t, privaudit_event *e, const struct pa_record *r,
		   privaudit_status *st)
{
	uint64_t ses;
	char key[96];

	if (t->boot_id[0] != '\0' && get_u64(r, "ses", &ses) && ses < PA_UNSET_ID) {
		size_t n = session_key(key, sizeof(key), t->boot_id, ses);

		if (n > 0)
			set_bytes(e, "session_key", key, n, st);
	}
}

/* The event's text as raw, cut to cap (a non-root user's, caps.h) or when
 * shrinking: its length, *out set (into the event or scratch), *cut the
 * bytes of the text not kept; 0 with *st set when out of memory. */
static size_t raw_text(const struct pa_event *ev, int shrink, size_t cap, struct buf *scratch,
		       const char **out, uint64_t *cut_bytes, privaudit_status *st)
{
	size_t n = ev->text_len, limit = shrink ? SHRINK_RAW : SIZE_MAX;
	char note[128];
	int nl;

	*out = ev->text;
	*cut_bytes = ev->raw_dropped;
	if (n > 0 && ev->text[n - 1] == '\n')
		n--;
	if (cap < limit)
		limit = cap;
	if (n > limit) {
		size_t cut = n - limit;

		n = limit;
		*cut_bytes += cut;
		nl = snprintf(note, sizeof(note), "\n[audisp-privaudit: %zu more bytes not kept]",
			      cut + ev->raw_dropped);
	} else if (ev->raw_dropped > 0) {
		nl = snprintf(note, sizeof(note), "\n[audisp-privaudit: %zu more bytes not kept]",
			      ev->raw_dropped);
	} else {
		return n;
	}
	scratch->len = 0;
	if (buf_reserve(scratch, n + (size_t)nl) < 0) {
		*st = PRIVAUDIT_E_NOMEM;
		*out = NULL;
		return 0;
	}
	if (n > 0)   /* ev->text is NULL when every line was over the limit */
		memcpy(scratch->p, ev->text, n);
	memcpy(scratch->p + n, note, (size_t)nl);
	*out = scratch->p;
	return n + (size_t)nl;
}

/* The raw text, within lim; what was cut is counted in the record and in
 * *cut.  Returns the bytes kept. */
static size_t set_raw(privaudit_event *e, const struct pa_event *ev, int shrink,
		      const struct pa_caps_limit *lim, struct buf *scratch, uint64_t *cut,
		      privaudit_status *st)
{
	const char *raw;
	size_t n = raw_text(ev, shrink, lim->raw, scratch, &raw, cut, st);

	set_bytes(e, "raw", raw, n, st);
	if (*cut > 0)
		set_int(e, "raw_truncated_bytes", (int64_t)*cut, st);
	return n;
}

/* ------------------------------------------------------------ caps */

/* The caps (caps.h) for an event of login uid auid and uid, values as
 * written (NULL: not in the event). */
static void limit_vals(struct pa_translate *t, const struct pa_event *ev, const char *auid,
		       size_t auid_len, const char *uid, size_t uid_len, struct pa_caps_limit *lim)
{
	uint64_t a = 0, u = 0;
	int ha = auid != NULL && pa_value_u64(auid, auid_len, &a);
	int hu = uid != NULL && pa_value_u64(uid, uid_len, &u);

	if (t->caps == NULL) {
		memset(lim, 0, sizeof(*lim));
		lim->argv = lim->raw = SIZE_MAX;
		return;
	}
	pa_caps_limit(t->caps, ha, a, hu, u, ev->sec, lim);
}

/* The same, from the auid and uid fields of record r (NULL: none). */
static void limit_rec(struct pa_translate *t, const struct pa_event *ev, const struct pa_record *r,
		      struct pa_caps_limit *lim)
{
	const char *a = NULL, *u = NULL;
	size_t al = 0, ul = 0;

	if (r != NULL && !pa_field_get(r, "auid", &a, &al))
		a = NULL;
	if (r != NULL && !pa_field_get(r, "uid", &u, &ul))
		u = NULL;
	limit_vals(t, ev, a, al, u, ul, lim);
}

/* What an event kept is charged to its user's budget, once it went into
 * the log (a record too big is built again, smaller, and charged then). */
static void charge(struct pa_translate *t, const struct pa_caps_limit *lim, uint64_t kept, int cut,
		   privaudit_status st)
{
	if (t->caps != NULL && st == PRIVAUDIT_OK)
		pa_caps_charge(t->caps, lim, kept, cut);
}

/* USER_CMD's cmd (sudo's command line) as the one argument, within lim:
 * the bytes kept, *cut those not. */
static size_t copy_cmd(privaudit_event *e, const struct pa_record *r,
		       const struct pa_caps_limit *lim, struct buf *scratch, uint64_t *cut,
		       privaudit_status *st)
{
	const char *val;
	size_t vlen, n;

	*cut = 0;
	if (*st != PRIVAUDIT_OK || !pa_field_get(r, "cmd", &val, &vlen))
		return 0;
	scratch->len = 0;
	if (buf_reserve(scratch, vlen + 1) < 0) {
		*st = PRIVAUDIT_E_NOMEM;
		return 0;
	}
	n = pa_value_decode(val, vlen, scratch->p);
	if (n > lim->argv) {
		*cut = n - lim->argv;
		n = lim->argv;
	}
	set_bytes(e, "argv", scratch->p, n, st);
	return n;
}

/* The event's own time, from msg=audit(SEC.MSEC:SERIAL), in ms; 0 when
 * there is none, or it is out of range (the event is recorded without). */
static int64_t audit_time_ms(const struct pa_event *ev)
{
	if (ev->sec == 0 || ev->sec >= (uint64_t)INT64_MAX / 1000u - 1u || ev->msec > 999)
		return 0;
	return (int64_t)(ev->sec * 1000u + ev->msec);
}

static int is_success(const struct pa_record *r)
{
	const char *v;
	size_t n;

	if (r == NULL)
		return 0;
	if (pa_field_get(r, "success", &v, &n) || pa_field_get(r, "res", &v, &n)) {
		pa_value_unquote(&v, &n);
		return (n == 3 && memcmp(v, "yes", 3) == 0) || (n == 7 && memcmp(v, "success", 7) == 0) ||
		       (n == 1 && v[0] == '1');
	}
	return 0;
}

/* ------------------------------------------------------------ argv */

/* Arguments are decoded into one shared pool, so an argv costs two
 * allocations whatever its length.  A piece of an argument that is not the
 * last one in the pool (pieces out of order) moves that argument to a
 * buffer of its own, once. */
struct arg {
	char *heap;            /* own buffer, or NULL: the bytes are pool.p + off */
	size_t off, len, cap;
	int lost;              /* bytes of it were not kept (the size limit) */
};

#define ARGS_SMALL 32

struct argv {
	struct arg *args;      /* small, or malloc'd past ARGS_SMALL arguments */
	size_t n, cap;
	size_t total;
	int cut;
	uint64_t lost_bytes;   /* decoded bytes of the pieces not kept */
	struct buf pool;
	struct arg small[ARGS_SMALL];
};

static void argv_init(struct argv *a)
{
	memset(a, 0, sizeof(*a));
	a->args = a->small;
	a->cap = ARGS_SMALL;
}

static void argv_free(struct argv *a)
{
	/* only arguments below n were ever given bytes */
	for (size_t i = 0; i < a->n; i++)
		free(a->args[i].heap);
	if (a->args != a->small)
		free(a->args);
	buf_free(&a->pool);
	a->args = NULL;
	a->n = a->cap = 0;
}

static const char *arg_data(const struct argv *a, size_t i)
{
	const struct arg *g = &a->args[i];

	if (g->heap != NULL)
		return g->heap;
	return g->len > 0 ? a->pool.p + g->off : "";
}

static int argv_realloc(struct argv *a, size_t n)
{
	size_t cap = a->cap ? a->cap : ARGS_SMALL;
	struct arg *nb;

	while (cap < n)
		cap *= 2;
	if (a->args == a->small) {
		nb = malloc(cap * sizeof(*nb));
		if (nb != NULL)
			memcpy(nb, a->small, sizeof(a->small));
	} else {
		nb = realloc(a->args, cap * sizeof(*nb));
	}
	if (nb == NULL)
		return -1;
	memset(nb + a->cap, 0, (cap - a->cap) * sizeof(*nb));
	a->args = nb;
	a->cap = cap;
	return 0;
}

static inline int argv_grow(struct argv *a, size_t n)
{
	if (n > a->cap && argv_realloc(a, n) < 0)
		return -1;
	if (n > a->n)
		a->n = n;
	return 0;
}

/* Room for n more bytes of argument idx; returns where they go. */
static inline char *arg_room(struct argv *a, size_t idx, size_t n)
{
	struct arg *g = &a->args[idx];

	if (g->heap == NULL && g->len > 0 && g->off + g->len != a->pool.len) {
		/* not at the end of the pool: give it a buffer of its own */
		size_t cap = (g->len + n) * 2;
		char *h = malloc(cap);

		if (h == NULL)
			return NULL;
		memcpy(h, a->pool.p + g->off, g->len);
		g->heap = h;
		g->cap = cap;
	}
	if (g->heap != NULL) {
		if (g->len + n > g->cap) {
			size_t cap = g->cap * 2;
			char *h;

			while (cap < g->len + n)
				cap *= 2;
			h = realloc(g->heap, cap);
			if (h == NULL)
				return NULL;
			g->heap = h;
			g->cap = cap;
		}
		return g->heap + g->len;
	}
	if (buf_reserve(&a->pool, n > 0 ? n : 1) < 0)   /* never NULL, even for "" */
		return NULL;
	if (g->len == 0)
		g->off = a->pool.len;
	return a->pool.p + a->pool.len;
}

/* n bytes were written at arg_room()'s answer for argument idx. */
static void arg_done(struct argv *a, size_t idx, size_t n)
{
	struct arg *g = &a->args[idx];

	if (g->heap == NULL)
		a->pool.len += n;
	g->len += n;
	a->total += n;
}

/* The length pa_value_decode gives val, without decoding it. */
static size_t decoded_len(const char *val, size_t vlen)
{
	size_t i;

	if (vlen >= 1 && (val[0] == '"' || val[0] == '\'')) {
		pa_value_unquote(&val, &vlen);
		return vlen;
	}
	for (i = 0; i < vlen; i++)
		if (!((val[i] >= '0' && val[i] <= '9') || (val[i] >= 'A' && val[i] <= 'F') ||
		      (val[i] >= 'a' && val[i] <= 'f')))
			return vlen;
	return vlen % 2 == 0 ? vlen / 2 : vlen;
}

/* Add a (piece of an) argument, decoded, within the size limit.  Once a
 * piece does not fit, no later one is kept either, however short: argv is
 * kept as a prefix, and each argument it cuts is marked. */
static int argv_add(struct argv *a, size_t idx, const char *val, size_t vlen, size_t limit)
{
	char *out;

	if (idx >= ARGS_MAX || argv_grow(a, idx + 1) < 0)
		return -1;
	/* decoded, a value is never longer than as written: most need no count */
	if (a->cut || (a->total + vlen > limit && a->total + decoded_len(val, vlen) > limit)) {
		a->cut = 1;
		a->args[idx].lost = 1;
		a->lost_bytes += decoded_len(val, vlen);
		return 0;
	}
	out = arg_room(a, idx, vlen);
	if (out == NULL)
		return -1;
	arg_done(a, idx, pa_value_decode(val, vlen, out));
	return 0;
}

/* "a3" -> 3 (whole value), "a3[1]" -> 3 (a piece); "a3_len", "argc" -> no. */
static int arg_index(const char *k, size_t kl, size_t *idx)
{
	size_t i = 1, v = 0;

	if (kl < 2 || k[0] != 'a' || k[1] < '0' || k[1] > '9')
		return 0;
	while (i < kl && k[i] >= '0' && k[i] <= '9') {
		if (v > ARGS_MAX)
			return 0;
		v = v * 10 + (size_t)(k[i] - '0');
		i++;
	}
	if (i == kl || k[i] == '[') {
		*idx = v;
		return 1;
	}
	return 0;
}

static int collect_execve(const struct pa_event *ev, struct argv *a, size_t limit)
{
	uint64_t argc = 0;
	int have_argc = 0;

	for (size_t i = 0; i < ev->nrec; i++) {
		const struct pa_record *r = &ev->recs[i].rec;
		struct pa_field_iter it;
		struct pa_field f[32];
		size_t n, idx;

		if (!rec_is(r, "EXECVE"))
			continue;
		pa_fields_begin(&it, r->body, r->body_len);
		while ((n = pa_fields_batch(&it, f, sizeof(f) / sizeof(f[0]))) > 0) {
			for (size_t j = 0; j < n; j++) {
				if (f[j].klen == 4 && memcmp(f[j].key, "argc", 4) == 0) {
					have_argc = pa_value_u64(f[j].val, f[j].vlen, &argc) && argc < ARGS_MAX;
				} else if (arg_index(f[j].key, f[j].klen, &idx)) {
					if (argv_add(a, idx, f[j].val, f[j].vlen, limit) < 0)
						return -1;
				}
			}
		}
	}
	/* arguments the kernel announced that did not arrive (lines over the
	 * event's size limit): empty, and counted as cut */
	if (have_argc && argc > a->n) {
		size_t from = a->n;

		if (argv_grow(a, (size_t)argc) < 0)
			return -1;
		for (size_t i = from; i < a->n; i++)
			a->args[i].lost = 1;
	}
	return 0;
}

/* ------------------------------------------------------------ records */

static privaudit_status finish(struct pa_translate *t, privaudit_event *e, privaudit_status st)
{
	if (st == PRIVAUDIT_OK)
		st = t->append(t->arg, e);
	if (st == PRIVAUDIT_OK)
		t->records++;
	privaudit_event_free(e);
	return st;
}

/* The SYSCALL fields a command record takes, in the order of kernel_command's
 * names[]: their slot, or -1.  A SYSCALL record has thirty-odd fields and
 * every command event has one, so this is decided by length and first
 * letter rather than by comparing each name with all ten. */
static int syscall_slot(const char *k, size_t kl)
{
	switch (kl) {
	case 3:
		if (k[0] == 's' && memcmp(k, "ses", 3) == 0)
			return 1;
		if (k[0] == 'u' && memcmp(k, "uid", 3) == 0)
			return 2;
		if (k[0] == 'p' && memcmp(k, "pid", 3) == 0)
			return 4;
		if (k[0] == 'e' && memcmp(k, "exe", 3) == 0)
			return 6;
		if (k[0] == 't' && memcmp(k, "tty", 3) == 0)
			return 7;
		return -1;
	case 4:
		if (k[0] == 'a' && memcmp(k, "auid", 4) == 0)
			return 0;
		if (k[0] == 'e' && memcmp(k, "euid", 4) == 0)
			return 3;
		if (k[0] == 'p' && memcmp(k, "ppid", 4) == 0)
			return 5;
		if (k[0] == 'e' && memcmp(k, "exit", 4) == 0)
			return 9;
		return -1;
	case 7:
		return memcmp(k, "success", 7) == 0 ? 8 : -1;
	default:
		return -1;
	}
}

/* Fields are set in the schema's order (proto/privaudit.proto), in which the
 * library finds each name without a table lookup; the record's bytes do
 * not depend on that order. */
static privaudit_status kernel_command(struct pa_translate *t, const struct pa_event *ev,
				       int shrink, struct buf *scratch)
{
	const struct pa_record *sys = find_rec(ev, "SYSCALL");
	const struct pa_record *cwd = find_rec(ev, "CWD");
	privaudit_event *e = NULL;
	privaudit_status st;
	struct argv a;
	char pool[4096];
	/* one pass over SYSCALL's thirty-odd fields; slots in PA_CMD_* order */
	const char *vals[10] = { 0 };
	size_t lens[10] = { 0 };
	int64_t ex, argv_cut = 0;
	struct pa_caps_limit lim;
	uint64_t raw_cut, argv_kept;
	size_t argv_max = shrink ? SHRINK_ARGV : PRIVAUDIT_RECORD_MAX;
	const char *v;
	size_t vl;

	st = privaudit_event_new(&e, "command");
	if (st != PRIVAUDIT_OK)
		return st;
	if (sys != NULL) {
		struct pa_field_iter it;
		struct pa_field f[32];
		size_t n;
		uint64_t u;

		pa_fields_begin(&it, sys->body, sys->body_len);
		while ((n = pa_fields_batch(&it, f, sizeof(f) / sizeof(f[0]))) > 0) {
			for (size_t j = 0; j < n; j++) {
				int i = syscall_slot(f[j].key, f[j].klen);

				/* the first of a repeated name counts */
				if (i >= 0 && vals[i] == NULL) {
					vals[i] = f[j].val;
					lens[i] = f[j].vlen;
				}
			}
		}
		for (size_t i = 0; i < 6; i++) {
			if (vals[i] != NULL && pa_value_u64(vals[i], lens[i], &u) && u <= UINT32_MAX) {
				cmd_int(t, e, (unsigned)i, (int64_t)u, &st);
				if (i == PA_CMD_SES && u < PA_UNSET_ID && t->boot_id[0] != '\0') {
					char key[96];
					size_t kn = session_key(key, sizeof(key), t->boot_id, u);

					if (kn > 0)
						cmd_bytes(t, e, PA_CMD_SESSION_KEY, key, kn, &st);
				}
			}
		}
		cmd_decoded(t, e, PA_CMD_EXE, vals[PA_CMD_EXE], lens[PA_CMD_EXE], scratch, &st);
	}
	/* argv comes from EXECVE only (dispatch calls this when there is one).
	 * PROCTITLE is the title of the process making the system call: in an
	 * event without EXECVE (a watched file written, a failed execve) that
	 * is the editor or the shell, not a command run, so it stays raw. */
	limit_vals(t, ev, vals[PA_CMD_AUID], lens[PA_CMD_AUID], vals[PA_CMD_UID], lens[PA_CMD_UID],
		   &lim);
	if (lim.argv < argv_max)
		argv_max = lim.argv;
	argv_init(&a);
	buf_on(&a.pool, pool, sizeof(pool));
	if (collect_execve(ev, &a, argv_max) < 0 && st == PRIVAUDIT_OK)
		st = PRIVAUDIT_E_NOMEM;
	for (size_t i = 0; i < a.n; i++) {
		cmd_bytes(t, e, PA_CMD_ARGV, arg_data(&a, i), a.args[i].len, &st);
		argv_cut += a.args[i].lost != 0;
	}
	argv_kept = a.total;
	if (a.lost_bytes > 0)
		cmd_int(t, e, PA_CMD_ARGV_TRUNC, (int64_t)a.lost_bytes, &st);
	argv_free(&a);
	if (cwd != NULL && pa_field_get(cwd, "cwd", &v, &vl))
		cmd_decoded(t, e, PA_CMD_CWD, v, vl, scratch, &st);
	if (sys != NULL) {
		cmd_int(t, e, PA_CMD_SUCCESS,
			vals[PA_CMD_SUCCESS] != NULL && lens[PA_CMD_SUCCESS] == 3 &&
				memcmp(vals[PA_CMD_SUCCESS], "yes", 3) == 0,
			&st);
		if (vals[PA_CMD_EXIT] != NULL && pa_value_i64(vals[PA_CMD_EXIT], lens[PA_CMD_EXIT], &ex))
			cmd_int(t, e, PA_CMD_EXIT, ex, &st);
		cmd_decoded(t, e, PA_CMD_TTY, vals[PA_CMD_TTY], lens[PA_CMD_TTY], scratch, &st);
	}
	cmd_bytes(t, e, PA_CMD_SOURCE, "execve", 6, &st);
	cmd_int(t, e, PA_CMD_SERIAL, (int64_t)ev->serial, &st);
	v = NULL;
	vl = raw_text(ev, shrink, lim.raw, scratch, &v, &raw_cut, &st);
	cmd_bytes(t, e, PA_CMD_RAW, v, vl, &st);
	if (raw_cut > 0)
		cmd_int(t, e, PA_CMD_RAW_TRUNC, (int64_t)raw_cut, &st);
	if (argv_cut > 0)
		cmd_int(t, e, PA_CMD_ARGV_CUT, argv_cut, &st);
	if (audit_time_ms(ev) > 0)
		cmd_int(t, e, PA_CMD_AUDIT_TIME, audit_time_ms(ev), &st);
	st = finish(t, e, st);
	charge(t, &lim, argv_kept + vl, argv_cut > 0 || raw_cut > 0, st);
	return st;
}

static privaudit_status user_command(struct pa_translate *t, const struct pa_event *ev,
				     const struct pa_record *r, int shrink, struct buf *scratch)
{
	privaudit_event *e = NULL;
	privaudit_status st;
	struct pa_caps_limit lim;
	uint64_t argv_cut, raw_cut;
	size_t kept;

	st = privaudit_event_new(&e, "command");
	if (st != PRIVAUDIT_OK)
		return st;
	limit_rec(t, ev, r, &lim);
	common(t, e, r, &st);
	copy_u32(e, "auid", r, "auid", &st);
	copy_u32(e, "ses", r, "ses", &st);
	copy_u32(e, "uid", r, "uid", &st);
	copy_u32(e, "pid", r, "pid", &st);
	copy_decoded(e, "exe", r, "exe", scratch, &st);
	kept = copy_cmd(e, r, &lim, scratch, &argv_cut, &st);
	copy_decoded(e, "cwd", r, "cwd", scratch, &st);
	set_int(e, "success", is_success(r), &st);
	copy_decoded(e, "tty", r, "terminal", scratch, &st);
	set_bytes(e, "source", "user_cmd", 8, &st);
	set_int(e, "serial", (int64_t)ev->serial, &st);
	kept += set_raw(e, ev, shrink, &lim, scratch, &raw_cut, &st);
	if (argv_cut > 0) {
		set_int(e, "argv_cut", 1, &st);
		set_int(e, "argv_truncated_bytes", (int64_t)argv_cut, &st);
	}
	if (audit_time_ms(ev) > 0)
		set_int(e, "audit_time_ms", audit_time_ms(ev), &st);
	st = finish(t, e, st);
	charge(t, &lim, kept, argv_cut > 0 || raw_cut > 0, st);
	return st;
}

static privaudit_status tty_input(struct pa_translate *t, const struct pa_event *ev,
				  const struct pa_record *r, int shrink, struct buf *scratch)
{
	privaudit_event *e = NULL;
	privaudit_status st;
	uint64_t major, minor, raw_cut;
	struct pa_caps_limit lim;
	size_t raw_kept;

	st = privaudit_event_new(&e, "tty_input");
	if (st != PRIVAUDIT_OK)
		return st;
	limit_rec(t, ev, r, &lim);
	common(t, e, r, &st);
	copy_u32(e, "auid", r, "auid", &st);
	copy_u32(e, "ses", r, "ses", &st);
	copy_u32(e, "pid", r, "pid", &st);
	copy_decoded(e, "data", r, "data", scratch, &st);
	if (get_u64(r, "major", &major) && get_u64(r, "minor", &minor)) {
		char tty[48];
		int n;

		/* Unix98 pseudo-terminals have majors 136-143 */
		if (major >= 136 && major <= 143)
			n = snprintf(tty, sizeof(tty), "pts/%llu",
				     (unsigned long long)((major - 136) * 256 + minor));
		else
			n = snprintf(tty, sizeof(tty), "%llu:%llu", (unsigned long long)major,
				     (unsigned long long)minor);
		set_bytes(e, "tty", tty, (size_t)n, &st);
	} else {
		copy_decoded(e, "tty", r, "terminal", scratch, &st);
	}
	set_int(e, "serial", (int64_t)ev->serial, &st);
	raw_kept = set_raw(e, ev, shrink, &lim, scratch, &raw_cut, &st);
	if (audit_time_ms(ev) > 0)
		set_int(e, "audit_time_ms", audit_time_ms(ev), &st);
	st = finish(t, e, st);
	charge(t, &lim, raw_kept, raw_cut > 0, st);
	return st;
}

static privaudit_status config_change(struct pa_translate *t, const struct pa_event *ev,
				      const struct pa_record *r, int shrink, struct buf *scratch)
{
	privaudit_event *e = NULL;
	privaudit_status st;
	struct pa_caps_limit lim;
	uint64_t raw_cut;
	size_t raw_kept;

	st = privaudit_event_new(&e, "config_change");
	if (st != PRIVAUDIT_OK)
		return st;
	limit_rec(t, ev, r, &lim);
	common(t, e, r, &st);
	copy_text(e, "type", r->type, r->type_len, &st);
	copy_u32(e, "auid", r, "auid", &st);
	copy_u32(e, "ses", r, "ses", &st);
	copy_decoded(e, "op", r, "op", scratch, &st);
	copy_decoded(e, "key", r, "key", scratch, &st);
	set_int(e, "success", is_success(r), &st);
	set_int(e, "serial", (int64_t)ev->serial, &st);
	raw_kept = set_raw(e, ev, shrink, &lim, scratch, &raw_cut, &st);
	if (audit_time_ms(ev) > 0)
		set_int(e, "audit_time_ms", audit_time_ms(ev), &st);
	st = finish(t, e, st);
	charge(t, &lim, raw_kept, raw_cut > 0, st);
	return st;
}

/* The fields an audit_event record takes from its key record, in one pass
 * over it (the first of a repeated name counts): numbers, then values
 * decoded, then success. */
static const struct {
	const char *name;
	size_t len;
	int num;
} event_keys[] = {
	{ "auid", 4, 1 }, { "ses", 3, 1 }, { "uid", 3, 1 }, { "pid", 3, 1 },
	{ "exe", 3, 0 }, { "acct", 4, 0 }, { "op", 2, 0 }, { "terminal", 8, 0 },
	{ "hostname", 8, 0 }, { "addr", 4, 0 },
};
#define EVENT_KEYS (sizeof(event_keys) / sizeof(event_keys[0]))

static void event_fields(privaudit_event *e, const struct pa_record *r, struct buf *scratch,
			 privaudit_status *st)
{
	const char *vals[EVENT_KEYS] = { 0 };
	size_t lens[EVENT_KEYS] = { 0 };
	struct pa_field_iter it;
	struct pa_field f[32];
	size_t n;
	uint64_t u;

	pa_fields_begin(&it, r->body, r->body_len);
	while ((n = pa_fields_batch(&it, f, sizeof(f) / sizeof(f[0]))) > 0) {
		for (size_t j = 0; j < n; j++) {
			for (size_t k = 0; k < EVENT_KEYS; k++) {
				if (vals[k] == NULL && f[j].klen == event_keys[k].len &&
				    memcmp(f[j].key, event_keys[k].name, f[j].klen) == 0) {
					vals[k] = f[j].val;
					lens[k] = f[j].vlen;
					break;
				}
			}
		}
	}
	for (size_t k = 0; k < EVENT_KEYS; k++) {
		if (vals[k] == NULL)
			continue;
		if (!event_keys[k].num)
			copy_value(e, event_keys[k].name, vals[k], lens[k], scratch, st);
		else if (pa_value_u64(vals[k], lens[k], &u) && u <= UINT32_MAX)
			set_int(e, event_keys[k].name, (int64_t)u, st);
	}
	set_int(e, "success", is_success(r), st);
}

static privaudit_status audit_event(struct pa_translate *t, const struct pa_event *ev,
				    const struct pa_record *keyrec, int shrink, struct buf *scratch)
{
	privaudit_event *e = NULL;
	privaudit_status st;
	struct pa_caps_limit lim;
	uint64_t raw_cut;
	size_t raw_kept;

	st = privaudit_event_new(&e, "audit_event");
	if (st != PRIVAUDIT_OK)
		return st;
	limit_rec(t, ev, keyrec, &lim);
	if (keyrec != NULL) {
		common(t, e, keyrec, &st);
		event_fields(e, keyrec, scratch, &st);
	}
	set_int(e, "serial", (int64_t)ev->serial, &st);
	if (audit_time_ms(ev) > 0)
		set_int(e, "audit_time_ms", audit_time_ms(ev), &st);
	if (ev->unparsed) {
		set_bytes(e, "types", "UNPARSED", 8, &st);
	} else {
		for (size_t i = 0; i < ev->nrec && i < 64; i++) {
			const struct pa_record *r = &ev->recs[i].rec;
			size_t j;

			for (j = 0; j < i; j++)
				if (ev->recs[j].rec.type_len == r->type_len &&
				    memcmp(ev->recs[j].rec.type, r->type, r->type_len) == 0)
					break;
			if (j == i)
				copy_text(e, "types", r->type, r->type_len, &st);
		}
	}
	raw_kept = set_raw(e, ev, shrink, &lim, scratch, &raw_cut, &st);
	st = finish(t, e, st);
	charge(t, &lim, raw_kept, raw_cut > 0, st);
	return st;
}

/* A gap record; node (len bytes): the audit node the serials are of. */
static privaudit_status node_gap(struct pa_translate *t, uint64_t count, const char *reason,
				 uint64_t first_serial, uint64_t last_serial, const char *node,
				 size_t len)
{
	privaudit_event *e = NULL;
	privaudit_status st;

	st = privaudit_event_new(&e, "gap");
	if (st != PRIVAUDIT_OK)
		return st;
	set_int(e, "count", (int64_t)count, &st);
	set_bytes(e, "reason", reason, strlen(reason), &st);
	if (first_serial)
		set_int(e, "first_serial", (int64_t)first_serial, &st);
	if (last_serial)
		set_int(e, "last_serial", (int64_t)last_serial, &st);
	if (len > 0)
		set_bytes(e, "node", node, len, &st);
	return finish(t, e, st);
}

privaudit_status pa_translate_gap(struct pa_translate *t, uint64_t count, const char *reason,
				  uint64_t first_serial, uint64_t last_serial)
{
	return node_gap(t, count, reason, first_serial, last_serial, NULL, 0);
}

/* ------------------------------------------------------------ loss */

/* Gap records for what a judgement of node's serials found missing. */
static privaudit_status report_loss(struct pa_translate *t, const char *node, size_t len,
				    const struct pa_loss *l)
{
	privaudit_status st = PRIVAUDIT_OK, st2 = PRIVAUDIT_OK;

	if (l->restart.count > 0)
		st = node_gap(t, l->restart.count, "plugin-restart", l->restart.first,
			      l->restart.last, node, len);
	if (l->jump.count > 0)
		st2 = node_gap(t, l->jump.count, "serial-jump", l->jump.first, l->jump.last, node,
			       len);
	return st != PRIVAUDIT_OK ? st : st2;
}

static privaudit_status serial_seen(struct pa_translate *t, const struct pa_event *ev)
{
	struct pa_serials *s = pa_nodes_get(&t->nodes, ev->node, ev->node_len);
	struct pa_loss l;

	if (s == NULL)
		return PRIVAUDIT_OK;   /* beyond PA_NODES_MAX nodes: not judged */
	memset(&l, 0, sizeof(l));
	pa_serials_seen(s, ev->serial, &l);
	if (l.restart.count == 0 && l.jump.count == 0)
		return PRIVAUDIT_OK;
	return report_loss(t, s->node, s->node_len, &l);
}

privaudit_status pa_translate_settle(struct pa_translate *t)
{
	privaudit_status st = PRIVAUDIT_OK;

	for (size_t i = 0; i < t->nodes.n; i++) {
		struct pa_serials *s = t->nodes.v[i];
		struct pa_loss l;
		privaudit_status st1;

		memset(&l, 0, sizeof(l));
		pa_serials_settle(s, &l);
		if (l.restart.count == 0 && l.jump.count == 0)
			continue;
		st1 = report_loss(t, s->node, s->node_len, &l);
		if (st == PRIVAUDIT_OK)
			st = st1;
	}
	return st;
}

void pa_translate_serials_reset(struct pa_translate *t)
{
	pa_nodes_reset(&t->nodes);
}

/* A node of another boot in the state file: what it had not seen. */
static void restore_loss(void *arg, const char *node, size_t len, const struct pa_loss *l)
{
	struct pa_translate *t = arg;

	if (report_loss(t, node, len, l) != PRIVAUDIT_OK)
		t->failed++;
}

int pa_translate_restore(struct pa_translate *t, const char *dir)
{
	int n = 0;

	if (t->boot_id[0] == '\0')
		return 0;   /* serials cannot be told apart from another boot's */
	if (pa_nodes_load(&t->nodes, dir, t->boot_id, restore_loss, t, &n) < 0)
		return -1;
	return n;
}

int pa_translate_save(const struct pa_translate *t, const char *dir)
{
	if (t->boot_id[0] == '\0')
		return 0;
	return pa_nodes_save(&t->nodes, dir, t->boot_id);
}

/* The "lost=N" of a daemon record; auditd 1.x wrote "name=value,". */
static int lost_count(const struct pa_record *r, uint64_t *lost)
{
	const char *v;
	size_t n;

	if (!pa_field_get(r, "lost", &v, &n))
		return 0;
	if (n > 0 && v[n - 1] == ',')
		n--;
	return pa_value_u64(v, n, lost);
}

/* auditd and the kernel say when they lost events: "lost=N" (a running
 * count) in a daemon record, or the kernel's backlog message. */
static privaudit_status loss_report(struct pa_translate *t, const struct pa_event *ev)
{
	for (size_t i = 0; i < ev->nrec; i++) {
		const struct pa_record *r = &ev->recs[i].rec;
		uint64_t lost;

		if (ev->unparsed || r->type == NULL || r->type_len < 7 ||
		    (memcmp(r->type, "DAEMON_", 7) != 0 && !rec_is(r, "KERNEL")))
			continue;
		if (lost_count(r, &lost) && lost > 0) {
			uint64_t n = lost > t->last_lost ? lost - t->last_lost : lost;

			t->last_lost = lost;
			if (n > 0)
				return pa_translate_gap(t, n, "auditd-lost", 0, 0);
		}
	}
	if ((ev->unparsed || (ev->nrec > 0 && ev->recs[0].rec.type_len > 7 &&
			      memcmp(ev->recs[0].rec.type, "DAEMON_", 7) == 0)) &&
	    ev->text != NULL && memmem(ev->text, ev->text_len, "backlog limit exceeded", 22) != NULL)
		return pa_translate_gap(t, 0, "auditd-lost: backlog limit exceeded", 0, 0);
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ events */

static int key_selected(const struct pa_translate *t, const struct pa_record *sys, struct buf *scratch)
{
	const char *v;
	size_t vl, n, start = 0;

	if (t->sel.only_keys == NULL || sys == NULL)
		return 1;
	if (!pa_field_get(sys, "key", &v, &vl))
		return 0;
	scratch->len = 0;
	if (buf_reserve(scratch, vl + 1) < 0)
		return 1;
	n = pa_value_decode(v, vl, scratch->p);
	/* several keys are joined by 0x01 */
	for (size_t i = 0; i <= n; i++) {
		if (i == n || scratch->p[i] == 0x01) {
			if (in_list(t->sel.only_keys, scratch->p + start, i - start))
				return 1;
			start = i + 1;
		}
	}
	return 0;
}

static int is_config(const struct pa_record *r)
{
	return rec_is(r, "CONFIG_CHANGE") || rec_is(r, "FEATURE_CHANGE") ||
	       (r->type_len > 7 && memcmp(r->type, "DAEMON_", 7) == 0);
}

static privaudit_status dispatch(struct pa_translate *t, const struct pa_event *ev, int shrink,
				 struct buf *scratch)
{
	const struct pa_record *first, *sys, *cfg = NULL;

	if (ev->unparsed || ev->nrec == 0)
		return audit_event(t, ev, NULL, shrink, scratch);
	first = &ev->recs[0].rec;
	for (size_t i = 0; i < ev->nrec && cfg == NULL; i++)
		if (is_config(&ev->recs[i].rec))
			cfg = &ev->recs[i].rec;
	if (cfg != NULL)
		return config_change(t, ev, cfg, shrink, scratch);
	sys = find_rec(ev, "SYSCALL");
	if (t->sel.drop_types != NULL && in_list(t->sel.drop_types, first->type, first->type_len))
		return PRIVAUDIT_E_END;
	/* Rule keys select system call events.  TTY input and logins are
	 * kept whatever the keys: the kernel logs them during a system call,
	 * first, with a SYSCALL record of no key after them. */
	if (!rec_is(first, "TTY") && !rec_is(first, "LOGIN") && !key_selected(t, sys, scratch))
		return PRIVAUDIT_E_END;
	if (find_rec(ev, "EXECVE") != NULL)
		return kernel_command(t, ev, shrink, scratch);
	if (rec_is(first, "USER_CMD"))
		return user_command(t, ev, first, shrink, scratch);
	if (rec_is(first, "TTY") || rec_is(first, "USER_TTY"))
		return tty_input(t, ev, first, shrink, scratch);
	return audit_event(t, ev, sys ? sys : first, shrink, scratch);
}

privaudit_status pa_translate_event(struct pa_translate *t, const struct pa_event *ev)
{
	struct buf scratch = { 0 };
	char small[1024];
	privaudit_status st, lst = PRIVAUDIT_OK;

	buf_on(&scratch, small, sizeof(small));
	t->events++;
	if (!ev->unparsed && ev->nrec > 0) {
		const struct pa_record *first = &ev->recs[0].rec;

		if (!(first->type_len > 7 && memcmp(first->type, "DAEMON_", 7) == 0)) {
			lst = serial_seen(t, ev);
			t->last_serial = ev->serial;
		}
		if (rec_is(first, "USER_END"))
			t->session_ends++;
	}
	if (lst == PRIVAUDIT_OK)
		lst = loss_report(t, ev);
	st = dispatch(t, ev, 0, &scratch);
	if (st == PRIVAUDIT_E_TOOBIG)
		st = dispatch(t, ev, 1, &scratch);
	buf_free(&scratch);
	if (st == PRIVAUDIT_E_END) {
		t->skipped++;
		st = PRIVAUDIT_OK;
	}
	/* a full disk's are counted by the library, in a gap record */
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_NOSPACE)
		t->failed++;
	return lst != PRIVAUDIT_OK ? lst : st;
}
