/* SPDX-License-Identifier: ISC */
/* serials.c: per-node serial windows, what they find missing, and the state
 * file that carries them over a restart of the plugin.  The state file is
 * input like any other: a bad one restores nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serials.h"

#define STATE_TMP PA_STATE_FILE ".tmp"
#define STATE_MAGIC "audisp-privaudit serials 1\n"
/* Runs of unseen serials written per node; more are merged into the last
 * one, which then counts seen serials as lost: a state never hides loss. */
#define STATE_RUNS 256u
#define STATE_MAX (4u << 20)

/* ------------------------------------------------------------ nodes */

void pa_nodes_init(struct pa_nodes *ns)
{
	memset(ns, 0, sizeof(*ns));
}

void pa_nodes_reset(struct pa_nodes *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->v[i]->node);
		free(ns->v[i]);
	}
	ns->n = 0;
	ns->last = 0;
}

void pa_nodes_free(struct pa_nodes *ns)
{
	pa_nodes_reset(ns);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

static int is_node(const struct pa_serials *s, const char *node, size_t len)
{
	return s->node_len == len && (len == 0 || memcmp(s->node, node, len) == 0);
}

struct pa_serials *pa_nodes_get(struct pa_nodes *ns, const char *node, size_t len)
{
	struct pa_serials *s;

	if (ns->last < ns->n && is_node(ns->v[ns->last], node, len))
		return ns->v[ns->last];
	for (size_t i = 0; i < ns->n; i++) {
		if (is_node(ns->v[i], node, len)) {
			ns->last = i;
			return ns->v[i];
		}
	}
	if (ns->n >= PA_NODES_MAX) {
		ns->untracked++;
		return NULL;
	}
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 4;
		struct pa_serials **nv = realloc(ns->v, cap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		ns->v = nv;
		ns->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (len > 0 && (s->node = malloc(len)) == NULL)) {
		free(s);
		return NULL;
	}
	if (len > 0)
		memcpy(s->node, node, len);
	s->node_len = len;
	ns->last = ns->n;
	ns->v[ns->n++] = s;
	return s;
}

/* ------------------------------------------------------------ judging */

static int bit(const struct pa_serials *s, uint64_t serial)
{
	uint64_t i = serial % PA_SERIAL_WINDOW;

	return (s->seen[i / 8] >> (i % 8)) & 1;
}

static void set_bit(struct pa_serials *s, uint64_t serial, int on)
{
	uint64_t i = serial % PA_SERIAL_WINDOW;

	if (on)
		s->seen[i / 8] |= (unsigned char)(1u << (i % 8));
	else
		s->seen[i / 8] &= (unsigned char)~(1u << (i % 8));
}

static void span_add(struct pa_span *sp, uint64_t first, uint64_t last)
{
	if (sp->count == 0)
		sp->first = first;
	sp->last = last;
	sp->count += last - first + 1;
}

/* Serials first..last are lost: across the restart below restart_below. */
static void lost(const struct pa_serials *s, struct pa_loss *l, uint64_t first, uint64_t last)
{
	uint64_t cut = s->restart_below;

	if (first < cut)
		span_add(&l->restart, first, last < cut ? last : cut - 1);
	if (last >= cut)
		span_add(&l->jump, first > cut ? first : cut, last);
}

/* Judge serials below upto: unseen ones are lost. */
static void judge(struct pa_serials *s, uint64_t upto, struct pa_loss *l)
{
	if (upto > s->base && upto - s->base > PA_SERIAL_WINDOW) {
		/* beyond the window: everything between is missing */
		for (uint64_t x = s->base; x < s->base + PA_SERIAL_WINDOW; x++) {
			if (!bit(s, x))
				lost(s, l, x, x);
			set_bit(s, x, 0);
		}
		lost(s, l, s->base + PA_SERIAL_WINDOW, upto - 1);
		s->base = upto;
	}
	for (; s->base < upto; s->base++) {
		if (!bit(s, s->base))
			lost(s, l, s->base, s->base);
		set_bit(s, s->base, 0);
	}
	if (!s->restored && s->restart_below != 0 && s->base >= s->restart_below)
		s->restart_below = 0;
}

void pa_serials_seen(struct pa_serials *s, uint64_t serial, struct pa_loss *l)
{
	if (s->restored && serial >= s->base) {
		/* the first serial since a restart: what lies between the last
		 * one handled before it and this one was lost with the run that
		 * was stopped (events a little out of order still count as seen
		 * when they come) */
		s->restored = 0;
		if (serial > s->restart_below)
			s->restart_below = serial;
	}
	if (s->have && s->base > PA_SERIAL_RESTART_SLACK &&
	    serial < s->base - PA_SERIAL_RESTART_SLACK) {
		/* the node's counter started again: what it had not seen of the
		 * old one is lost; the new one is not compared with it */
		judge(s, s->max + 1, l);
		s->have = 0;
		s->restored = 0;
	}
	if (!s->have) {
		memset(s->seen, 0, sizeof(s->seen));
		s->have = 1;
		s->base = s->max = serial;
		s->restart_below = 0;
	}
	if (serial < s->base)
		return;   /* late, already judged */
	if (serial - s->base >= PA_SERIAL_WINDOW)
		judge(s, serial - PA_SERIAL_WINDOW + 1, l);
	set_bit(s, serial, 1);
	if (serial > s->max)
		s->max = serial;
}

void pa_serials_settle(struct pa_serials *s, struct pa_loss *l)
{
	if (s->have)
		judge(s, s->max + 1, l);
}

/* ------------------------------------------------------------ state text */

/* Text that grows; failed set once memory ran out. */
struct text {
	char *p;
	size_t len, cap;
	int failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed || n == 0)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *np;

		while (cap < t->len + n + 1)
			cap *= 2;
		np = realloc(t->p, cap);
		if (np == NULL) {
			t->failed = 1;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void putf_u64(struct text *t, const char *before, uint64_t v)
{
	char b[48];
	int n = snprintf(b, sizeof(b), "%s%llu", before, (unsigned long long)v);

	put(t, b, (size_t)n);
}

/* "n BASE MAX RUNS node=NAME": RUNS lists the unseen serials of the
 * window as "a" and "a-b" joined by ',', or "-" when there are none. */
static void node_state(struct text *t, const struct pa_serials *s)
{
	unsigned runs = 0;
	uint64_t x = s->base;

	putf_u64(t, "n ", s->base);
	putf_u64(t, " ", s->max);
	put(t, " ", 1);
	while (x <= s->max) {
		uint64_t a, b;

		if (bit(s, x)) {
			x++;
			continue;
		}
		a = b = x;
		while (b + 1 <= s->max && (!bit(s, b + 1) || runs + 1 >= STATE_RUNS))
			b++;
		putf_u64(t, runs > 0 ? "," : "", a);
		if (b > a)
			putf_u64(t, "-", b);
		runs++;
		x = b + 1;
	}
	if (runs == 0)
		put(t, "-", 1);
	put(t, " node=", 6);
	put(t, s->node, s->node_len);
	put(t, "\n", 1);
}

char *pa_nodes_state(const struct pa_nodes *ns, const char *boot_id, size_t *len)
{
	struct text t = { 0 };

	put(&t, STATE_MAGIC, sizeof(STATE_MAGIC) - 1);
	put(&t, "boot ", 5);
	put(&t, boot_id, strlen(boot_id));
	put(&t, "\n", 1);
	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i]->have)
			node_state(&t, ns->v[i]);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

/* Unsigned decimal at *p (advanced); -1 when there is none or it overflows. */
static int num(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

static int lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* One "n" line (without its newline) into s; -1 when it is not one. */
static int parse_node(struct pa_serials *s, const char *p, const char *end, const char **node)
{
	uint64_t a, b;

	if (lit(&p, end, "n ") < 0 || num(&p, end, &s->base) < 0 || lit(&p, end, " ") < 0 ||
	    num(&p, end, &s->max) < 0 || lit(&p, end, " ") < 0)
		return -1;
	/* the window: base..max, max = base - 1 when every serial was judged */
	if (s->max == UINT64_MAX || s->max + 1 < s->base || s->max + 1 - s->base > PA_SERIAL_WINDOW)
		return -1;
	for (uint64_t x = s->base; x <= s->max; x++)
		set_bit(s, x, 1);
	if (lit(&p, end, "-") < 0) {
		do {
			if (num(&p, end, &a) < 0)
				return -1;
			b = a;
			if (lit(&p, end, "-") == 0 && num(&p, end, &b) < 0)
				return -1;
			if (a < s->base || b > s->max || b < a)
				return -1;
			for (uint64_t x = a; x <= b; x++)
				set_bit(s, x, 0);
		} while (lit(&p, end, ",") == 0);
	}
	if (lit(&p, end, " node=") < 0)
		return -1;
	*node = p;
	s->have = 1;
	return 0;
}

int pa_nodes_restore(struct pa_nodes *ns, const char *text, size_t len, const char *boot_id,
		     pa_node_loss_fn fn, void *arg)
{
	const char *p = text, *end = text + len, *nl;
	int same_boot, n = 0;

	if (lit(&p, end, STATE_MAGIC) < 0 || lit(&p, end, "boot ") < 0 ||
	    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return -1;
	same_boot = boot_id[0] != '\0' && (size_t)(nl - p) == strlen(boot_id) &&
		    memcmp(p, boot_id, (size_t)(nl - p)) == 0;
	for (p = nl + 1; p < end; p = nl + 1) {
		struct pa_serials tmp, *s;
		const char *node;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;   /* a line cut short: the file is not whole */
		memset(&tmp, 0, sizeof(tmp));
		if (parse_node(&tmp, p, nl, &node) < 0)
			continue;
		if (!same_boot) {
			/* the serials of another boot: only what that run had
			 * not seen is known lost */
			struct pa_loss l;

			memset(&l, 0, sizeof(l));
			tmp.restart_below = tmp.max + 1;
			judge(&tmp, tmp.max + 1, &l);
			if (fn != NULL && l.restart.count > 0)
				fn(arg, node, (size_t)(nl - node), &l);
			continue;
		}
		s = pa_nodes_get(ns, node, (size_t)(nl - node));
		if (s == NULL || s->have)
			continue;   /* too many nodes, or a node named twice */
		memcpy(s->seen, tmp.seen, sizeof(s->seen));
		s->base = tmp.base;
		s->max = tmp.max;
		s->have = 1;
		s->restored = 1;
		/* what it had not seen, and what comes before the first serial
		 * of this run, was lost across the restart */
		s->restart_below = s->max + 1;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ state file */

int pa_nodes_save(const struct pa_nodes *ns, const char *dir, const char *boot_id)
{
	size_t len = 0;
	char *text = pa_nodes_state(ns, boot_id, &len);
	int dfd, fd, rc = -1, e = ENOMEM;

	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = errno;
		free(text);
		errno = e;
		return -1;
	}
	/* No fsync: the file has to outlive the process (kill -9), which the
	 * page cache does.  After a power cut it may be older than the log:
	 * the next run then counts lost what was recorded after it (more,
	 * never less). */
	fd = openat(dfd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		goto out;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			close(fd);
			unlinkat(dfd, STATE_TMP, 0);
			goto out;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 || renameat(dfd, STATE_TMP, dfd, PA_STATE_FILE) < 0) {
		e = errno;
		unlinkat(dfd, STATE_TMP, 0);
		goto out;
	}
	rc = 0;
out:
	close(dfd);
	free(text);
	errno = e;
	return rc;
}

int pa_nodes_load(struct pa_nodes *ns, const char *dir, const char *boot_id, pa_node_loss_fn fn,
		  void *arg, int *restored)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, n, e;

	*restored = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, PA_STATE_FILE) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;   /* ENOENT: the first run */
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > STATE_MAX || (nb = realloc(buf, cap)) == NULL) {
				e = cap > STATE_MAX ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	n = pa_nodes_restore(ns, buf, len, boot_id, fn, arg);
	free(buf);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	*restored = n;
	return 0;
fail:
	close(fd);
	free(buf);
	errno = e;
	return -1;
}
