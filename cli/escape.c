/* SPDX-License-Identifier: ISC */
/* escape.c: terminal- and JSON-safe output of untrusted bytes. */
#include "config.h"

#include <stdint.h>

#include "escape.h"
#include "text.h"

void pa_print_escaped(FILE *f, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t n = pa_utf8_seq(p + i, len - i, &cp);

		if (n == 0) {
			fprintf(f, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (cp == '\\')
			fputs("\\\\", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if ((cp >= 0x80 && cp < 0xa0) || pa_is_format_char(cp))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(p + i, 1, n, f);
		i += n;
	}
}

/* Both built as the library builds them (text.c), so that the CLI's JSON
 * and the library's record JSON cannot drift apart. */
void pa_print_json_string(FILE *f, const void *data, size_t len)
{
	pa_text t;

	pa_text_init(&t, 0);
	pa_text_json_string(&t, data, len);
	if (t.err == PA_TEXT_OK)
		fwrite(t.buf, 1, t.len, f);
	else
		fputs("\"\"", f);   /* out of memory: still valid JSON */
	pa_text_free(&t);
}

void pa_print_base64(FILE *f, const void *data, size_t len)
{
	pa_text t;

	pa_text_init(&t, 0);
	pa_text_base64(&t, data, len);
	if (t.err == PA_TEXT_OK)
		fwrite(t.buf, 1, t.len, f);
	pa_text_free(&t);
}
