/* SPDX-License-Identifier: ISC */
/* table.h: rows gathered first and printed as aligned columns, so that a
 * listing reads as a table whatever the length of what the log holds. */
#ifndef PA_CLI_TABLE_H
#define PA_CLI_TABLE_H

#include <stdint.h>
#include <stdio.h>

struct table_row {
	uint64_t key;       /* what rows are sorted by (a start time) */
	size_t seq;         /* the order rows came in, for ties */
	char *buf;          /* the cells, each NUL-terminated, one after another */
	size_t len;
};

struct table {
	size_t ncol;
	const char *const *heads;   /* column headings */
	unsigned right;             /* bit i: column i is right-aligned */
	struct table_row *rows;
	size_t n, cap;
	/* the row being written */
	FILE *cur;
	char *cur_buf;
	size_t cur_len;
};

void table_init(struct table *t, size_t ncol, const char *const *heads, unsigned right);
/* Begin a row: the stream its cells are printed to (escaped by the caller),
 * ended by table_cell(); NULL when out of memory. */
FILE *table_row(struct table *t, uint64_t key);
/* End the current cell. */
void table_cell(struct table *t);
/* End the row; -1 when out of memory. */
int table_row_end(struct table *t);
/* Newest (largest key) first; ties keep the order rows came in. */
void table_sort_desc(struct table *t);
/* Keep the first n rows. */
void table_truncate(struct table *t, size_t n);
/* Headings, then each row, columns two spaces apart, the last one unpadded.
 * raw: rows are whole lines (JSON), printed as they are, no headings. */
void table_print(FILE *f, const struct table *t);
void table_print_raw(FILE *f, const struct table *t, int reverse);
void table_free(struct table *t);

#endif
