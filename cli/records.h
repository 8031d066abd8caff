/* SPDX-License-Identifier: ISC */
/* records.h: printing records, shared by the verbs that show them. */
#ifndef PA_CLI_RECORDS_H
#define PA_CLI_RECORDS_H

#include <inttypes.h>
#include <stdio.h>

#include "privaudit.h"

/* The marks show and replay put on a record: appended after its session
 * was sealed, or (with --verified) not covered by a verified checkpoint. */
#define MARK_LATER "[APPENDED LATER]"
#define MARK_UNVERIFIED "[NOT VERIFIED]"
/* ...and read after damage the reader stepped over (never verified). */
#define MARK_DAMAGE_FMT "[after damage at record %" PRIu64 ", not verifiable]"

/* One JSON object (privaudit_record_json()) and a newline; with_verified
 * adds "verified".  -1 when it could not be made (said on stderr). */
int print_record_json(FILE *f, const privaudit_record *rec, int with_verified, int late);
/* "#INDEX TIME HOST KIND [session=ID] field=value ..." and a newline. */
void print_record_line(FILE *f, const privaudit_record *rec, int raw, int with_verified,
		       int late);
/* The body's set fields as " name=value" (raw: also raw text and notes). */
void print_record_fields(FILE *f, const privaudit_record *rec, int raw);
/* A value, escaped, quoted when it holds a space or is empty. */
void print_value(FILE *f, const void *data, size_t len);
/* ,"name":"text" and ,"name_b64":"..." when the bytes are not UTF-8 (never
 * the first member of an object). */
void json_text_field(FILE *f, const char *name, const void *data, size_t len);

#endif
