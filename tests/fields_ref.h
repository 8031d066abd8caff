/* SPDX-License-Identifier: ISC */
/* fields_ref.h: the plugin's key=value grammar (audisp_privaudit/stream.c),
 * written out byte by byte with none of its shortcuts, for tests that
 * compare pa_fields_batch against it. */
#ifndef PA_FIELDS_REF_H
#define PA_FIELDS_REF_H

#include <string.h>

#include "stream.h"

/* The fields of body, up to max, as pa_fields_batch gives them one batch
 * after another. */
static inline size_t ref_fields(const char *body, size_t len, struct pa_field *out, size_t max)
{
	const char *p = body, *end = body + len, *outer_end = NULL;
	size_t n = 0;

	while (n < max) {
		const char *k, *v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end) {
			if (outer_end == NULL)
				break;
			/* past the closing quote of msg='...' */
			p = end + 1;
			end = outer_end;
			outer_end = NULL;
			if (p > end)
				p = end;
			continue;
		}
		k = p;
		while (p < end && *p != '=' && *p != ' ')
			p++;
		if (p >= end || *p == ' ' || p == k) {
			/* a bare word, or "=x": skipped to the next space */
			while (p < end && *p != ' ')
				p++;
			continue;
		}
		v = ++p;
		if (v < end && *v == '\'' && p - k == 4 && memcmp(k, "msg", 3) == 0 &&
		    outer_end == NULL) {
			/* the message ends at the body's last quote */
			const char *q = end - 1;

			while (q > v && *q != '\'')
				q--;
			if (q > v) {
				outer_end = end;
				end = q;
			}
			p = v + 1;
			continue;
		}
		if (v < end && (*v == '"' || *v == '\'')) {
			const char *q = v + 1;

			while (q < end && *q != *v)
				q++;
			p = q < end ? q + 1 : end;
		} else {
			while (p < end && *p != ' ')
				p++;
		}
		out[n].key = k;
		out[n].klen = (size_t)(v - 1 - k);
		out[n].val = v;
		out[n].vlen = (size_t)(p - v);
		n++;
	}
	return n;
}

#endif
