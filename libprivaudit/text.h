/* SPDX-License-Identifier: ISC */
/* text.h: building text from untrusted bytes (UTF-8 decoding, JSON strings,
 * base64) into a growing buffer.  One source for the library's record JSON,
 * the CLI's output and privauditd's shipped messages, which compile it in. */
#ifndef PA_TEXT_H
#define PA_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define PA_TEXT_HIDDEN __attribute__((visibility("hidden")))

enum { PA_TEXT_OK = 0, PA_TEXT_NOMEM, PA_TEXT_TOOBIG };

/* A growing, NUL-terminated buffer.  The first failure (out of memory, or
 * more than max bytes) sticks in err and makes every later write a no-op,
 * so a builder checks once at the end. */
typedef struct pa_text {
	char *buf;
	size_t len, cap;
	size_t max;    /* largest len allowed; 0: no limit */
	int err;       /* PA_TEXT_OK, PA_TEXT_NOMEM or PA_TEXT_TOOBIG */
} pa_text;

void pa_text_init(pa_text *t, size_t max) PA_TEXT_HIDDEN;
void pa_text_free(pa_text *t) PA_TEXT_HIDDEN;
/* Empty again (and no error), keeping the memory. */
void pa_text_reset(pa_text *t) PA_TEXT_HIDDEN;
void pa_text_put(pa_text *t, const void *data, size_t len) PA_TEXT_HIDDEN;
void pa_text_puts(pa_text *t, const char *s) PA_TEXT_HIDDEN;
void pa_text_printf(pa_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) PA_TEXT_HIDDEN;
/* A JSON string literal, quotes included, valid JSON for any input: control
 * and format characters as \uNNNN, each invalid UTF-8 byte as U+FFFD
 * (callers give the exact bytes beside it, in base64). */
void pa_text_json_string(pa_text *t, const void *data, size_t len) PA_TEXT_HIDDEN;
/* Standard base64 with padding. */
void pa_text_base64(pa_text *t, const void *data, size_t len) PA_TEXT_HIDDEN;

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid; *cp gets
 * the code point. */
size_t pa_utf8_seq(const unsigned char *p, size_t len, uint32_t *cp) PA_TEXT_HIDDEN;
/* 1 when the bytes are valid UTF-8. */
int pa_utf8_valid(const void *data, size_t len) PA_TEXT_HIDDEN;
/* Format controls that reorder or hide text on screen (Trojan Source), and
 * spaces other than U+0020, which could fake a field boundary. */
int pa_is_format_char(uint32_t cp) PA_TEXT_HIDDEN;

#endif
