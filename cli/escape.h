/* SPDX-License-Identifier: ISC */
/* escape.h: printing bytes that came from a log, so that they cannot drive
 * the reader's terminal or break JSON. */
#ifndef PA_CLI_ESCAPE_H
#define PA_CLI_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "text.h"   /* pa_utf8_valid() */

/* Valid UTF-8 printable text as is; control characters (C0, DEL, C1),
 * bidirectional and zero-width format characters, backslash and invalid
 * UTF-8 bytes as \xNN, \uNNNN or \n, \t, \\. */
void pa_print_escaped(FILE *f, const void *data, size_t len);
/* A JSON string literal, quotes included, valid JSON for any input:
 * controls and format characters as \uNNNN escapes, each invalid UTF-8
 * byte as U+FFFD (callers give the exact bytes beside it, in base64). */
void pa_print_json_string(FILE *f, const void *data, size_t len);
/* Standard base64 with padding. */
void pa_print_base64(FILE *f, const void *data, size_t len);

#endif
