/* SPDX-License-Identifier: ISC */
/* text.c: JSON strings and base64 from untrusted bytes, into a growing
 * buffer; compiled into the library, the CLI and privauditd alike. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

void pa_text_init(pa_text *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
}

void pa_text_free(pa_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

void pa_text_reset(pa_text *t)
{
	t->len = 0;
	t->err = PA_TEXT_OK;
	if (t->buf != NULL)
		t->buf[0] = '\0';
}

/* Room for len more bytes and the NUL; 0 when there is. */
static int reserve(pa_text *t, size_t len)
{
	size_t need, cap;
	char *b;

	if (t->err != PA_TEXT_OK)
		return -1;
	if (len > SIZE_MAX - t->len - 1 || (t->max != 0 && t->len + len > t->max)) {
		t->err = PA_TEXT_TOOBIG;
		return -1;
	}
	need = t->len + len + 1;
	if (need <= t->cap)
		return 0;
	cap = t->cap ? t->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b = realloc(t->buf, cap);
	if (b == NULL) {
		t->err = PA_TEXT_NOMEM;
		return -1;
	}
	t->buf = b;
	t->cap = cap;
	return 0;
}

void pa_text_put(pa_text *t, const void *data, size_t len)
{
	if (reserve(t, len) < 0)
		return;
	if (len > 0)
		memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

void pa_text_puts(pa_text *t, const char *s)
{
	pa_text_put(t, s, strlen(s));
}

void pa_text_printf(pa_text *t, const char *fmt, ...)
{
	char small[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->err = t->err != PA_TEXT_OK ? t->err : PA_TEXT_NOMEM;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		pa_text_put(t, small, (size_t)n);
		return;
	}
	if (reserve(t, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

size_t pa_utf8_seq(const unsigned char *p, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int pa_utf8_valid(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = pa_utf8_seq(p + i, len - i, &cp);

		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int pa_is_format_char(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff ||
	       cp == 0x00a0 || cp == 0x00ad || cp == 0x1680 || cp == 0x180e ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || (cp >= 0x2060 && cp <= 0x2064) ||
	       cp == 0x3000 || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

void pa_text_json_string(pa_text *t, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, run = 0;   /* bytes from run to i go out as they are */

	pa_text_put(t, "\"", 1);
	while (i < len) {
		uint32_t cp = 0;
		size_t n = pa_utf8_seq(p + i, len - i, &cp);
		const char *esc = NULL;
		char u[8];

		if (n == 0) {
			esc = "\\ufffd";   /* exact bytes: the field's _b64 twin */
			n = 1;
		} else if (cp == '"') {
			esc = "\\\"";
		} else if (cp == '\\') {
			esc = "\\\\";
		} else if (cp == '\n') {
			esc = "\\n";
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
			   pa_is_format_char(cp)) {
			snprintf(u, sizeof(u), "\\u%04x", (unsigned)cp);
			esc = u;
		}
		if (esc != NULL) {
			pa_text_put(t, p + run, i - run);
			pa_text_puts(t, esc);
			run = i + n;
		}
		i += n;
	}
	pa_text_put(t, p + run, i - run);
	pa_text_put(t, "\"", 1);
}

void pa_text_base64(pa_text *t, const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i, out;
	char *o;

	if (len > (SIZE_MAX - 3) / 4 * 3) {
		t->err = t->err != PA_TEXT_OK ? t->err : PA_TEXT_TOOBIG;
		return;
	}
	out = (len + 2) / 3 * 4;
	if (reserve(t, out) < 0)
		return;
	o = t->buf + t->len;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	t->len += out;
	t->buf[t->len] = '\0';
}
