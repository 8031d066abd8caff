/* SPDX-License-Identifier: ISC */
/* table.c: aligned columns for the listings (sessions), measured after
 * every row is known. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, size_t ncol, const char *const *heads, unsigned right)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	t->heads = heads;
	t->right = right;
}

FILE *table_row(struct table *t, uint64_t key)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct table_row *nr = realloc(t->rows, nc * sizeof(*nr));

		if (nr == NULL)
			return NULL;
		t->rows = nr;
		t->cap = nc;
	}
	t->rows[t->n].key = key;
	t->rows[t->n].seq = t->n;
	t->cur_buf = NULL;
	t->cur_len = 0;
	t->cur = open_memstream(&t->cur_buf, &t->cur_len);
	return t->cur;
}

void table_cell(struct table *t)
{
	fputc('\0', t->cur);
}

int table_row_end(struct table *t)
{
	int bad = ferror(t->cur);

	if (fclose(t->cur) != 0 || bad) {
		free(t->cur_buf);
		t->cur = NULL;
		return -1;
	}
	t->cur = NULL;
	t->rows[t->n].buf = t->cur_buf;
	t->rows[t->n].len = t->cur_len;
	t->n++;
	return 0;
}

static int cmp_desc(const void *a, const void *b)
{
	const struct table_row *x = a, *y = b;

	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void table_sort_desc(struct table *t)
{
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_desc);
}

void table_truncate(struct table *t, size_t n)
{
	while (t->n > n)
		free(t->rows[--t->n].buf);
}

/* Columns on a terminal: UTF-8 continuation bytes take none (what the
 * escaping lets through is printable UTF-8 or ASCII). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static void print_cells(FILE *f, const struct table *t, const char *const *cells, const size_t *w)
{
	for (size_t c = 0; c < t->ncol; c++) {
		size_t cw = width(cells[c]);
		int last = c + 1 == t->ncol;

		if (c > 0)
			fputs("  ", f);
		if (t->right & (1u << c))
			pad(f, w[c] - cw);
		fputs(cells[c], f);
		if (!(t->right & (1u << c)) && !last)
			pad(f, w[c] - cw);
	}
	fputc('\n', f);
}

/* The cells of a row; missing ones (a short row) are empty. */
static void split(const struct table *t, const struct table_row *r, const char **cells)
{
	size_t off = 0;

	for (size_t c = 0; c < t->ncol; c++) {
		cells[c] = off < r->len ? r->buf + off : "";
		off += off < r->len ? strlen(r->buf + off) + 1 : 0;
	}
}

void table_print(FILE *f, const struct table *t)
{
	size_t w[32];
	const char *cells[32];

	if (t->ncol > 32)
		return;
	for (size_t c = 0; c < t->ncol; c++)
		w[c] = width(t->heads[c]);
	for (size_t i = 0; i < t->n; i++) {
		split(t, &t->rows[i], cells);
		for (size_t c = 0; c < t->ncol; c++)
			if (width(cells[c]) > w[c])
				w[c] = width(cells[c]);
	}
	print_cells(f, t, t->heads, w);
	for (size_t i = 0; i < t->n; i++) {
		split(t, &t->rows[i], cells);
		print_cells(f, t, cells, w);
	}
}

void table_print_raw(FILE *f, const struct table *t, int reverse)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct table_row *r = &t->rows[reverse ? t->n - 1 - i : i];

		fwrite(r->buf, 1, r->len, f);
	}
}

void table_free(struct table *t)
{
	table_truncate(t, 0);
	free(t->rows);
	t->rows = NULL;
	t->cap = 0;
}
