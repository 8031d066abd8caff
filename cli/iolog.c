/* SPDX-License-Identifier: ISC */
/* iolog.c: a session's sudo terminal I/O put back together (iolog.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auditorkey.h"
#include "cli.h"
#include "escape.h"
#include "iolog.h"

#define NSTREAMS 5

static const char *const stream_names[NSTREAMS] = {"ttyin", "ttyout", "stdin", "stdout", "stderr"};

struct io_key {
	unsigned char *sk;   /* sodium_malloc */
	unsigned char pk[PA_AUDITOR_KEY_BYTES];
	unsigned char id[PA_AUDITOR_ID_BYTES];
};

struct block {
	unsigned char *p;
	size_t len;
	int secret;          /* opened from sealed bytes: sodium_malloc, wiped */
};

struct io_cmd {
	char io_id[40];
	char *argv_text;     /* escaped, for the header */
	uint64_t start_ns;
	unsigned rows, cols;
	struct pa_io_event *ev;
	size_t nev, evcap;
	struct block *blocks;
	size_t nblocks, bcap;
	uint64_t pos[NSTREAMS], next_seq;
	uint64_t hidden;     /* sealed bytes not opened (no key, or another key) */
	int closed;
};

struct io_set {
	struct io_cmd *cmd;
	size_t n, cap;
};

/* ------------------------------------------------------------ keys */

struct io_key *io_key_load(const char *verb, const char *path)
{
	struct io_key *k = calloc(1, sizeof(*k));
	const char *why = NULL;

	if (k == NULL || sodium_init() < 0 || (k->sk = sodium_malloc(PA_AUDITOR_KEY_BYTES)) == NULL) {
		fprintf(stderr, "%s %s: out of memory\n", progname, verb);
		free(k);
		return NULL;
	}
	if (pa_auditor_read_secret(path, k->sk, k->pk, &why) < 0) {
		fprintf(stderr, "%s %s: --decrypt-key ", progname, verb);
		pa_print_escaped(stderr, path, strlen(path));
		fprintf(stderr, ": %s\n", why);
		io_key_free(k);
		return NULL;
	}
	pa_auditor_key_id(k->pk, k->id);
	return k;
}

void io_key_free(struct io_key *k)
{
	if (k == NULL)
		return;
	sodium_free(k->sk);
	free(k);
}

/* ------------------------------------------------------------ chunks */

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		r |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static void get_bytes(const privaudit_record *rec, const char *name, const unsigned char **p,
		      size_t *len)
{
	const void *d = NULL;

	if (privaudit_record_get_bytes(rec, name, &d, len) != PRIVAUDIT_OK || d == NULL) {
		d = "";
		*len = 0;
	}
	*p = d;
}

static uint64_t get_uint(const privaudit_record *rec, const char *name)
{
	uint64_t v = 0;

	(void)privaudit_record_get_uint(rec, name, &v);
	return v;
}

/* One io_chunk record, decoded: the bytes of its sealed streams opened
 * when a key that fits is given. */
struct chunk {
	uint64_t seq, start_us, off[NSTREAMS];
	unsigned sealed_streams;
	const unsigned char *timing, *data, *sealed;
	size_t tlen, dlen, slen;
	unsigned char *plain;  /* opened sealed bytes (sodium_malloc) or NULL */
	size_t plen;
	int open_failed;       /* a key was given and did not open them */
};

static void chunk_read(struct chunk *c, const privaudit_record *rec, const struct io_key *key)
{
	memset(c, 0, sizeof(*c));
	c->seq = get_uint(rec, "seq");
	c->start_us = get_uint(rec, "start_us");
	c->sealed_streams = (unsigned)get_uint(rec, "sealed_streams") & 0x1fu;
	for (int s = 0; s < NSTREAMS; s++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_offset", stream_names[s]);
		c->off[s] = get_uint(rec, name);
	}
	get_bytes(rec, "timing", &c->timing, &c->tlen);
	get_bytes(rec, "data", &c->data, &c->dlen);
	get_bytes(rec, "sealed", &c->sealed, &c->slen);
	if (c->slen > crypto_box_SEALBYTES && key != NULL) {
		c->plen = c->slen - crypto_box_SEALBYTES;
		c->plain = sodium_malloc(c->plen);
		if (c->plain == NULL ||
		    crypto_box_seal_open(c->plain, c->sealed, c->slen, key->pk, key->sk) != 0) {
			sodium_free(c->plain);
			c->plain = NULL;
			c->open_failed = 1;
		}
	}
}

static void chunk_done(struct chunk *c)
{
	sodium_free(c->plain);   /* wipes it */
	c->plain = NULL;
}

/* Walk the chunk's events: fn gets each, with its bytes (NULL when they
 * are sealed and not opened).  0, or -1 when the timing and the bytes do
 * not agree (a malformed chunk). */
typedef int (*event_fn)(void *arg, const struct pa_io_event *e);

static int chunk_walk(const struct chunk *c, event_fn fn, void *arg)
{
	const unsigned char *p = c->timing, *end = c->timing + c->tlen;
	size_t dpos = 0, ppos = 0, spos = 0;
	uint64_t t = c->start_us;

	while (p < end) {
		struct pa_io_event e;
		uint64_t type, delay, a, b;

		memset(&e, 0, sizeof(e));
		if (get_varint(&p, end, &type) < 0 || get_varint(&p, end, &delay) < 0 || type >= PA_IO_NTYPES)
			return -1;
		t += delay;
		e.t_us = t;
		e.type = (enum pa_io_type)type;
		if (type < NSTREAMS) {
			if (get_varint(&p, end, &a) < 0)
				return -1;
			e.len = (size_t)a;
			if ((c->sealed_streams >> type) & 1u) {
				if (a > c->slen || spos + a > c->slen - (c->slen >= crypto_box_SEALBYTES ? crypto_box_SEALBYTES : c->slen))
					return -1;
				spos += a;
				if (c->plain != NULL) {
					e.data = c->plain + ppos;
					ppos += a;
				}
			} else {
				if (a > c->dlen - dpos)
					return -1;
				e.data = c->data + dpos;
				dpos += a;
			}
		} else if (type == PA_IO_WINSIZE) {
			if (get_varint(&p, end, &a) < 0 || get_varint(&p, end, &b) < 0 || a > 10000 || b > 10000)
				return -1;
			e.rows = (unsigned)a;
			e.cols = (unsigned)b;
		} else {
			if (get_varint(&p, end, &a) < 0 || a > 128)
				return -1;
			e.signo = (int)a;
		}
		if (fn != NULL && fn(arg, &e) < 0)
			return -1;
	}
	if (dpos != c->dlen || (c->slen > 0 && spos + crypto_box_SEALBYTES != c->slen))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ the set */

static struct io_cmd *find_cmd(struct io_set *set, const unsigned char *id, size_t len)
{
	for (size_t i = 0; i < set->n; i++)
		if (strlen(set->cmd[i].io_id) == len && memcmp(set->cmd[i].io_id, id, len) == 0)
			return &set->cmd[i];
	return NULL;
}

static struct io_cmd *add_cmd(struct io_set *set, const unsigned char *id, size_t len)
{
	struct io_cmd *c;

	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 4;
		struct io_cmd *p = realloc(set->cmd, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		set->cmd = p;
		set->cap = cap;
	}
	c = &set->cmd[set->n++];
	memset(c, 0, sizeof(*c));
	if (len >= sizeof(c->io_id))
		len = sizeof(c->io_id) - 1;
	memcpy(c->io_id, id, len);
	/* a name only: keep it printable whatever the record says */
	for (size_t i = 0; i < len; i++)
		if (c->io_id[i] < 0x21 || c->io_id[i] > 0x7e)
			c->io_id[i] = '?';
	return c;
}

static int add_event(struct io_cmd *c, const struct pa_io_event *e)
{
	if (c->nev == c->evcap) {
		size_t cap = c->evcap ? c->evcap * 2 : 256;
		struct pa_io_event *p = realloc(c->ev, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		c->ev = p;
		c->evcap = cap;
	}
	c->ev[c->nev++] = *e;
	return 0;
}

/* A copy of the chunk's bytes the command keeps: the record's memory is
 * the reader's, reused for the next record. */
static unsigned char *keep(struct io_cmd *c, const unsigned char *p, size_t len, int secret)
{
	struct block *b;

	if (len == 0)
		return NULL;
	if (c->nblocks == c->bcap) {
		size_t cap = c->bcap ? c->bcap * 2 : 16;
		struct block *nb = realloc(c->blocks, cap * sizeof(*nb));

		if (nb == NULL)
			return NULL;
		c->blocks = nb;
		c->bcap = cap;
	}
	b = &c->blocks[c->nblocks];
	b->p = secret ? sodium_malloc(len) : malloc(len);
	if (b->p == NULL)
		return NULL;
	memcpy(b->p, p, len);
	b->len = len;
	b->secret = secret;
	c->nblocks++;
	return b->p;
}

struct add_ctx {
	struct io_cmd *c;
	const struct chunk *ch;
	const unsigned char *data_copy, *plain_copy;
};

static int add_chunk_event(void *arg, const struct pa_io_event *e)
{
	struct add_ctx *x = arg;
	struct pa_io_event ev = *e;

	/* point into the kept copies instead of the record */
	if (e->data != NULL && e->type < NSTREAMS) {
		if ((x->ch->sealed_streams >> e->type) & 1u)
			ev.data = x->plain_copy + (e->data - x->ch->plain);
		else
			ev.data = x->data_copy + (e->data - x->ch->data);
	}
	if (e->type < NSTREAMS) {
		x->c->pos[e->type] += e->len;
		if (ev.data == NULL)
			x->c->hidden += e->len;
	}
	return add_event(x->c, &ev);
}

static void say(const char *verb, const struct io_cmd *c, uint64_t index, uint64_t *problems,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(const char *verb, const struct io_cmd *c, uint64_t index, uint64_t *problems,
		const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: warning: terminal I/O %s, record #%" PRIu64 ": ", progname, verb,
		c->io_id, index);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	(*problems)++;
}

/* Does the key given open what this io_open's command sealed?  When it
 * does not, both key ids are said on stderr. */
static int key_fits(const privaudit_record *rec, const struct io_key *key, const char *verb)
{
	char want[2 * PA_AUDITOR_ID_BYTES + 1], have[2 * PA_AUDITOR_ID_BYTES + 1];
	const unsigned char *kid, *id;
	size_t kidlen, idlen;

	get_bytes(rec, "sealed_key_id", &kid, &kidlen);
	if (key == NULL || kidlen != PA_AUDITOR_ID_BYTES || memcmp(kid, key->id, kidlen) == 0)
		return 1;
	get_bytes(rec, "io_id", &id, &idlen);
	pa_auditor_id_hex(kid, want);
	pa_auditor_id_hex(key->id, have);
	fprintf(stderr, "%s %s: warning: terminal I/O ", progname, verb);
	pa_print_escaped(stderr, id, idlen);
	fprintf(stderr, " (record #%" PRIu64 ") is sealed to auditor key %s; --decrypt-key is "
			"key %s: its sealed bytes stay closed\n",
		privaudit_record_index(rec), want, have);
	return 0;
}

static int collect_open(struct io_set *set, const privaudit_record *rec, const struct io_key *key,
			const char *verb, uint64_t *problems)
{
	const unsigned char *id;
	size_t idlen, n = privaudit_record_field_count(rec);
	struct io_cmd *c;
	char *text = NULL;
	size_t tlen = 0;
	FILE *m;

	get_bytes(rec, "io_id", &id, &idlen);
	c = find_cmd(set, id, idlen);
	if (c == NULL && (c = add_cmd(set, id, idlen)) == NULL)
		return -1;
	c->start_ns = get_uint(rec, "start_ns");
	c->rows = (unsigned)get_uint(rec, "rows");
	c->cols = (unsigned)get_uint(rec, "cols");
	m = open_memstream(&text, &tlen);
	if (m == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		privaudit_field fd;

		if (privaudit_record_field(rec, i, &fd) != PRIVAUDIT_OK || strcmp(fd.name, "argv") != 0)
			continue;
		for (size_t j = 0; j < fd.count; j++) {
			const void *d;
			uint64_t num;
			size_t l;

			if (privaudit_record_value(rec, i, j, &d, &l, &num) == PRIVAUDIT_OK) {
				if (j > 0)
					fputc(' ', m);
				pa_print_escaped(m, d, l);
			}
		}
	}
	if (fclose(m) != 0) {
		free(text);
		return -1;
	}
	free(c->argv_text);
	c->argv_text = text;
	if (!key_fits(rec, key, verb))
		(*problems)++;
	return 0;
}

static int collect_chunk(struct io_set *set, const privaudit_record *rec, const struct io_key *key,
			 const char *verb, uint64_t *problems)
{
	uint64_t index = privaudit_record_index(rec);
	const unsigned char *id;
	struct add_ctx x;
	struct chunk ch;
	struct io_cmd *c;
	size_t idlen;
	int rc = 0;

	get_bytes(rec, "io_id", &id, &idlen);
	c = find_cmd(set, id, idlen);
	if (c == NULL) {
		if ((c = add_cmd(set, id, idlen)) == NULL)
			return -1;
		say(verb, c, index, problems, "no io_open record before its first chunk");
	}
	chunk_read(&ch, rec, key);
	if (ch.seq < c->next_seq) {
		say(verb, c, index, problems, "chunk %" PRIu64 " again (recorded twice): left out", ch.seq);
		goto out;
	}
	if (ch.seq > c->next_seq)
		say(verb, c, index, problems, "chunk(s) %" PRIu64 " to %" PRIu64 " missing", c->next_seq,
		    ch.seq - 1);
	c->next_seq = ch.seq + 1;
	for (int s = 0; s < NSTREAMS; s++) {
		if (ch.off[s] > c->pos[s])
			say(verb, c, index, problems, "%s bytes %" PRIu64 " to %" PRIu64 " were not recorded",
			    stream_names[s], c->pos[s], ch.off[s] - 1);
		else if (ch.off[s] < c->pos[s])
			say(verb, c, index, problems, "%s bytes from %" PRIu64 " are recorded twice",
			    stream_names[s], ch.off[s]);
		c->pos[s] = ch.off[s];
	}
	if (ch.open_failed)
		say(verb, c, index, problems, "sealed bytes that --decrypt-key does not open");
	if (chunk_walk(&ch, NULL, NULL) < 0) {
		say(verb, c, index, problems, "malformed chunk (its timing does not match its bytes): left out");
		goto out;
	}
	x.c = c;
	x.ch = &ch;
	x.data_copy = keep(c, ch.data, ch.dlen, 0);
	x.plain_copy = ch.plain != NULL ? keep(c, ch.plain, ch.plen, 1) : NULL;
	if ((ch.dlen > 0 && x.data_copy == NULL) || (ch.plain != NULL && ch.plen > 0 && x.plain_copy == NULL) ||
	    chunk_walk(&ch, add_chunk_event, &x) < 0)
		rc = -1;
out:
	chunk_done(&ch);
	return rc;
}

static void collect_close(struct io_set *set, const privaudit_record *rec, const char *verb,
			  uint64_t *problems)
{
	const unsigned char *id;
	struct io_cmd *c;
	size_t idlen;
	uint64_t chunks = get_uint(rec, "chunks"), lost = get_uint(rec, "lost_bytes");

	get_bytes(rec, "io_id", &id, &idlen);
	c = find_cmd(set, id, idlen);
	if (c == NULL)
		return;
	c->closed = 1;
	if (chunks > c->next_seq)
		say(verb, c, privaudit_record_index(rec), problems,
		    "the plugin sent %" PRIu64 " chunk(s), the log holds up to %" PRIu64, chunks,
		    c->next_seq);
	if (lost > 0)
		say(verb, c, privaudit_record_index(rec), problems,
		    "the plugin could not record %" PRIu64 " byte(s) (privauditd did not take them)", lost);
	for (int s = 0; s < NSTREAMS; s++) {
		char name[32];
		uint64_t total;

		snprintf(name, sizeof(name), "%s_bytes", stream_names[s]);
		total = get_uint(rec, name);
		if (total > c->pos[s])
			say(verb, c, privaudit_record_index(rec), problems,
			    "%s bytes %" PRIu64 " to %" PRIu64 " (the end) were not recorded",
			    stream_names[s], c->pos[s], total - 1);
	}
}

struct io_set *io_collect(const char *verb, const char *dir, privaudit_reader *r,
			  const uint64_t *idx, size_t n, const struct io_key *key,
			  uint64_t *problems)
{
	struct io_set *set = calloc(1, sizeof(*set));

	*problems = 0;
	if (set == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const privaudit_record *rec;
		privaudit_status st = privaudit_reader_get(r, idx[i], &rec);
		const char *kind;
		int rc = 0;

		if (st != PRIVAUDIT_OK) {
			err_reader(verb, dir, st, r);
			io_set_free(set);
			return NULL;
		}
		kind = privaudit_record_kind(rec);
		if (strcmp(kind, "io_open") == 0)
			rc = collect_open(set, rec, key, verb, problems);
		else if (strcmp(kind, "io_chunk") == 0)
			rc = collect_chunk(set, rec, key, verb, problems);
		else if (strcmp(kind, "io_close") == 0)
			collect_close(set, rec, verb, problems);
		if (rc < 0)
			goto nomem;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct io_cmd *c = &set->cmd[i];

		if (!c->closed)
			fprintf(stderr, "%s %s: note: terminal I/O %s has no io_close: the command was "
					"still running, or sudo was killed\n", progname, verb, c->io_id);
		if (c->hidden > 0)
			fprintf(stderr, "%s %s: note: terminal I/O %s: %" PRIu64 " byte(s) are sealed to the "
					"auditors%s\n", progname, verb, c->io_id, c->hidden,
				key == NULL ? " (--decrypt-key FILE opens them)" : "");
	}
	return set;
nomem:
	fprintf(stderr, "%s %s: out of memory\n", progname, verb);
	io_set_free(set);
	return NULL;
}

void io_set_free(struct io_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		struct io_cmd *c = &set->cmd[i];

		for (size_t b = 0; b < c->nblocks; b++) {
			if (c->blocks[b].secret)
				sodium_free(c->blocks[b].p);
			else
				free(c->blocks[b].p);
		}
		free(c->blocks);
		free(c->ev);
		free(c->argv_text);
	}
	free(set->cmd);
	free(set);
}

size_t io_count(const struct io_set *set)
{
	return set != NULL ? set->n : 0;
}

int io_play(const struct io_set *set, size_t i, const struct pa_tty_opts *opts, int header,
	    FILE *out)
{
	const struct io_cmd *c = &set->cmd[i];
	struct pa_io_log log = {.rows = c->rows, .cols = c->cols, .ev = c->ev, .n = c->nev};

	if (header) {
		fprintf(out, "=== terminal I/O %zu of %zu: %s  started ", i + 1, set->n, c->io_id);
		print_time_ns(out, c->start_ns);
		fprintf(out, "\n=== $ %s\n", c->argv_text != NULL ? c->argv_text : "(no io_open)");
	}
	return pa_tty_play(&log, opts, out);
}

/* ------------------------------------------------------------ timeline */

struct input_ctx {
	FILE *out;
	uint64_t shown, hidden, out_bytes;
};

static int show_input(void *arg, const struct pa_io_event *e)
{
	struct input_ctx *x = arg;

	if (e->type == PA_IO_TTYIN || e->type == PA_IO_STDIN) {
		if (e->data == NULL) {
			x->hidden += e->len;
		} else {
			if (x->shown == 0)
				fputs(" \"", x->out);
			pa_print_escaped(x->out, e->data, e->len);
			x->shown += e->len;
		}
	} else if (e->type == PA_IO_TTYOUT || e->type == PA_IO_STDOUT || e->type == PA_IO_STDERR) {
		x->out_bytes += e->len;
	}
	return 0;
}

/* Input bytes in the chunk (also those sealed), without printing. */
static int count_input(void *arg, const struct pa_io_event *e)
{
	if (e->type == PA_IO_TTYIN || e->type == PA_IO_STDIN)
		(*(uint64_t *)arg) += e->len;
	return 0;
}

int io_has_input(const privaudit_record *rec)
{
	struct chunk ch;
	uint64_t in = 0;

	if (strcmp(privaudit_record_kind(rec), "io_chunk") != 0)
		return 1;
	chunk_read(&ch, rec, NULL);
	if (chunk_walk(&ch, count_input, &in) < 0)
		in = 1;   /* malformed: shown as such */
	chunk_done(&ch);
	return in > 0;
}

int io_timeline(FILE *out, const privaudit_record *rec, const struct io_key *key)
{
	const char *kind = privaudit_record_kind(rec);
	const unsigned char *id;
	size_t idlen;

	get_bytes(rec, "io_id", &id, &idlen);
	if (strcmp(kind, "io_open") == 0) {
		const unsigned char *cmd;
		size_t clen;

		get_bytes(rec, "command", &cmd, &clen);
		fputs("  sudo-io  ", out);
		pa_print_escaped(out, cmd, clen);
		fprintf(out, ": terminal I/O recorded (%" PRIu64 "x%" PRIu64 ")", get_uint(rec, "rows"),
			get_uint(rec, "cols"));
		if (get_uint(rec, "sealed_streams") != 0)
			fputs(", input sealed to the auditors", out);
		(void)key_fits(rec, key, "replay");
		fputs("; replay --tty plays it", out);
		return 1;
	}
	if (strcmp(kind, "io_close") == 0) {
		uint64_t sig = get_uint(rec, "signal");

		fputs("  sudo-io  end", out);
		if (sig != 0)
			fprintf(out, ": killed by signal %" PRIu64, sig);
		else if ((int64_t)get_uint(rec, "exit_status") >= 0)
			fprintf(out, ": exit %" PRId64, (int64_t)get_uint(rec, "exit_status"));
		fprintf(out, ", %" PRIu64 " bytes out, %" PRIu64 " bytes in",
			get_uint(rec, "ttyout_bytes") + get_uint(rec, "stdout_bytes") +
				get_uint(rec, "stderr_bytes"),
			get_uint(rec, "ttyin_bytes") + get_uint(rec, "stdin_bytes"));
		if (get_uint(rec, "lost_bytes") > 0)
			fprintf(out, ", %" PRIu64 " bytes NOT RECORDED", get_uint(rec, "lost_bytes"));
		return 1;
	}
	if (strcmp(kind, "io_chunk") == 0) {
		struct input_ctx x = {.out = out};
		struct chunk ch;
		uint64_t in = 0;
		int rc = 0;

		chunk_read(&ch, rec, key);
		if (chunk_walk(&ch, count_input, &in) < 0) {
			fputs("  input    [malformed chunk]", out);
			rc = 1;
		} else if (in > 0) {
			fputs("  input   ", out);
			(void)chunk_walk(&ch, show_input, &x);
			if (x.shown > 0)
				fputc('"', out);
			if (x.hidden > 0)
				fprintf(out, " [%" PRIu64 " byte(s) sealed to the auditors%s]", x.hidden,
					ch.open_failed ? "; --decrypt-key does not open them"
					: key == NULL ? "; --decrypt-key opens them" : "");
			rc = 1;
		}
		chunk_done(&ch);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ keygen-auditor */

static int keygen_usage(FILE *f)
{
	fprintf(f, "usage: privaudit keygen-auditor --out SECRETFILE\n\n"
		   "Make the auditors' X25519 key pair: the secret key in SECRETFILE (mode\n"
		   "0600; keep it off the audited hosts) and the public key in\n"
		   "SECRETFILE.pub, for sudo_privaudit.so's seal_input_to= (sudo_privaudit(8)).\n"
		   "Keystrokes sealed to it are opened with 'privaudit replay --decrypt-key\n"
		   "SECRETFILE'.  Neither file is ever written over.  Prints the key id.\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_keygen_auditor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned char pk[PA_AUDITOR_KEY_BYTES], id[PA_AUDITOR_ID_BYTES];
	char hex[2 * PA_AUDITOR_ID_BYTES + 1];
	const char *out = NULL, *why = NULL;
	char *pub;
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': return keygen_usage(stdout);
		default: return usage_error("keygen-auditor", NULL);
		}
	}
	if (out == NULL)
		return usage_error("keygen-auditor", "--out SECRETFILE is needed");
	if (check_operands("keygen-auditor", argc, argv, "") < 0)
		return EXIT_USAGE;
	if (sodium_init() < 0) {
		fprintf(stderr, "%s keygen-auditor: libsodium cannot start\n", progname);
		return EXIT_CANNOT_READ;
	}
	n = strlen(out);
	pub = malloc(n + 5);
	if (pub == NULL) {
		fprintf(stderr, "%s keygen-auditor: out of memory\n", progname);
		return EXIT_CANNOT_READ;
	}
	memcpy(pub, out, n);
	memcpy(pub + n, ".pub", 5);
	if (access(pub, F_OK) == 0) {
		fprintf(stderr, "%s keygen-auditor: ", progname);
		pa_print_escaped(stderr, pub, strlen(pub));
		fputs(": exists; not overwritten\n", stderr);
		free(pub);
		return EXIT_CANNOT_READ;
	}
	if (pa_auditor_keygen(out, pub, pk, &why) < 0) {
		fprintf(stderr, "%s keygen-auditor: ", progname);
		pa_print_escaped(stderr, out, n);
		fprintf(stderr, ": %s\n", why);
		free(pub);
		return EXIT_CANNOT_READ;
	}
	pa_auditor_key_id(pk, id);
	pa_auditor_id_hex(id, hex);
	printf("secret key: ");
	pa_print_escaped(stdout, out, n);
	printf(" (keep it off the audited hosts)\npublic key: ");
	pa_print_escaped(stdout, pub, strlen(pub));
	printf(" (seal_input_to= in sudo.conf)\nkey id:     %s\n", hex);
	free(pub);
	return fflush(stdout) == 0 ? 0 : EXIT_CANNOT_READ;
}
