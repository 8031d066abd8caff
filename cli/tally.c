/* SPDX-License-Identifier: ISC */
/* tally.c: counts by key for privaudit report.  The tree is tsearch(3)'s,
 * a red-black tree in glibc: O(log n) per key whatever the keys are. */
#include "config.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"

struct tally {
	void *root;
	struct tally_entry **all;   /* in the order they came, for listing and freeing */
	size_t n, cap;
	struct tally_entry *probe;  /* the key looked up, reused between calls */
	size_t probe_cap;
};

/* The part at *off (a 4-byte big-endian length, then its bytes), and *off
 * moved past it; 0 at the end of the key. */
static int next_part(const struct tally_entry *e, size_t *off, privaudit_bytes *b)
{
	uint32_t l;

	if (e->len - *off < 4)
		return 0;
	l = (uint32_t)e->key[*off] << 24 | (uint32_t)e->key[*off + 1] << 16 |
	    (uint32_t)e->key[*off + 2] << 8 | e->key[*off + 3];
	if (l > e->len - *off - 4)
		return 0;
	b->data = e->key + *off + 4;
	b->len = l;
	*off += 4 + (size_t)l;
	return 1;
}

/* Part by part, each as bytes ("ab" < "b"), so that a listing by key
 * reads in order; a key that ends first sorts first. */
static int cmp_key(const void *a, const void *b)
{
	const struct tally_entry *x = a, *y = b;
	size_t ox = 0, oy = 0;

	for (;;) {
		privaudit_bytes p, q;
		int hx = next_part(x, &ox, &p), hy = next_part(y, &oy, &q);
		size_t n;
		int c;

		if (!hx || !hy)
			return hx - hy;
		n = p.len < q.len ? p.len : q.len;
		c = n > 0 ? memcmp(p.data, q.data, n) : 0;
		if (c != 0)
			return c;
		if (p.len != q.len)
			return p.len < q.len ? -1 : 1;
	}
}

struct tally *tally_new(void)
{
	return calloc(1, sizeof(struct tally));
}

static void no_free(void *p)
{
	(void)p;   /* the entries are freed from the list */
}

void tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	tdestroy(t->root, no_free);
	for (size_t i = 0; i < t->n; i++)
		free(t->all[i]);
	free(t->all);
	free(t->probe);
	free(t);
}

/* The parts as one key in t->probe: 4-byte big-endian length, bytes. */
static int make_probe(struct tally *t, const privaudit_bytes *parts, size_t nparts)
{
	size_t len = 0, off = 0;

	for (size_t i = 0; i < nparts; i++) {
		/* a record is at most PRIVAUDIT_RECORD_MAX bytes: no part nears 4 GiB */
		if (parts[i].len > UINT32_MAX || len > SIZE_MAX - 4 - parts[i].len)
			return -1;
		len += 4 + parts[i].len;
	}
	if (t->probe == NULL || t->probe_cap < len) {
		struct tally_entry *p = realloc(t->probe, sizeof(*p) + len);

		if (p == NULL)
			return -1;
		t->probe = p;
		t->probe_cap = len;
	}
	for (size_t i = 0; i < nparts; i++) {
		uint32_t l = (uint32_t)parts[i].len;

		t->probe->key[off++] = (unsigned char)(l >> 24);
		t->probe->key[off++] = (unsigned char)(l >> 16);
		t->probe->key[off++] = (unsigned char)(l >> 8);
		t->probe->key[off++] = (unsigned char)l;
		if (l > 0)
			memcpy(t->probe->key + off, parts[i].data, l);
		off += l;
	}
	t->probe->len = len;
	return 0;
}

struct tally_entry *tally_get(struct tally *t, const privaudit_bytes *parts, size_t nparts)
{
	struct tally_entry *e, **found;

	if (make_probe(t, parts, nparts) < 0)
		return NULL;
	found = tfind(t->probe, &t->root, cmp_key);
	if (found != NULL)
		return *found;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct tally_entry **na = realloc(t->all, nc * sizeof(*na));

		if (na == NULL)
			return NULL;
		t->all = na;
		t->cap = nc;
	}
	e = malloc(sizeof(*e) + t->probe->len);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->len = t->probe->len;
	memcpy(e->key, t->probe->key, e->len);
	if (tsearch(e, &t->root, cmp_key) == NULL) {
		free(e);
		return NULL;
	}
	t->all[t->n++] = e;
	return e;
}

size_t tally_size(const struct tally *t)
{
	return t->n;
}

static int cmp_by_key(const void *a, const void *b)
{
	return cmp_key(*(struct tally_entry *const *)a, *(struct tally_entry *const *)b);
}

static int cmp_by_count(const void *a, const void *b)
{
	const struct tally_entry *x = *(struct tally_entry *const *)a;
	const struct tally_entry *y = *(struct tally_entry *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cmp_key(x, y);
}

struct tally_entry **tally_sorted(const struct tally *t, int by_key)
{
	struct tally_entry **v;

	if (t->n == 0)
		return NULL;
	v = malloc(t->n * sizeof(*v));
	if (v == NULL)
		return NULL;
	memcpy(v, t->all, t->n * sizeof(*v));
	qsort(v, t->n, sizeof(*v), by_key ? cmp_by_key : cmp_by_count);
	return v;
}

privaudit_bytes tally_part(const struct tally_entry *e, size_t i)
{
	privaudit_bytes b = {"", 0};
	size_t off = 0;

	do {
		if (!next_part(e, &off, &b)) {
			b.data = "";
			b.len = 0;
			return b;
		}
	} while (i-- > 0);
	return b;
}
