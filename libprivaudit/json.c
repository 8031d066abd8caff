/* SPDX-License-Identifier: ISC */
/* json.c: a record as one JSON object, the form `privaudit export --json`
 * prints and privauditd ships beside a record's exact bytes. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privaudit.h"
#include "text.h"

/* Fields that hold binary values (keys, hashes): base64 only. */
static int binary_field(const char *name)
{
	return strcmp(name, "public_key") == 0 || strcmp(name, "log_id") == 0 ||
	       strcmp(name, "root_hash") == 0 || strcmp(name, "next_public_key") == 0 ||
	       strcmp(name, "frontier") == 0;
}

/* The record's own fields come first, outside "fields". */
static int own_field(const char *name)
{
	return strcmp(name, "time_ns") == 0 || strcmp(name, "host") == 0 ||
	       strcmp(name, "writer_pid") == 0 || strcmp(name, "session_key") == 0;
}

/* ,"name": (no comma before the first member of an object). */
static void key(pa_text *t, int *first, const char *name, const char *suffix)
{
	pa_text_printf(t, "%s\"%s%s\":", *first ? "" : ",", name, suffix);
	*first = 0;
}

/* A text value, and its exact bytes as name_b64 when it is not UTF-8. */
static void text_member(pa_text *t, int *first, const char *name, const void *data, size_t len)
{
	key(t, first, name, "");
	pa_text_json_string(t, data, len);
	if (!pa_utf8_valid(data, len)) {
		key(t, first, name, "_b64");
		pa_text_put(t, "\"", 1);
		pa_text_base64(t, data, len);
		pa_text_put(t, "\"", 1);
	}
}

static void number(pa_text *t, const privaudit_field *fd, uint64_t num)
{
	if (fd->type == PRIVAUDIT_FIELD_BOOL)
		pa_text_puts(t, num ? "true" : "false");
	else if (fd->type == PRIVAUDIT_FIELD_INT)
		pa_text_printf(t, "%" PRId64, (int64_t)num);
	else
		pa_text_printf(t, "%" PRIu64, num);
}

static void repeated(pa_text *t, int *first, const privaudit_record *rec, size_t i,
		     const privaudit_field *fd)
{
	int all_text = !binary_field(fd->name);   /* hashes: base64 only */
	const void *data;
	uint64_t num;
	size_t len;

	if (!all_text)
		goto b64;
	key(t, first, fd->name, "");
	pa_text_put(t, "[", 1);
	for (size_t j = 0; j < fd->count; j++) {
		if (privaudit_record_value(rec, i, j, &data, &len, &num) != PRIVAUDIT_OK)
			continue;
		if (j > 0)
			pa_text_put(t, ",", 1);
		if (fd->type == PRIVAUDIT_FIELD_BYTES || fd->type == PRIVAUDIT_FIELD_STRING) {
			pa_text_json_string(t, data, len);
			all_text &= pa_utf8_valid(data, len);
		} else {
			number(t, fd, num);
		}
	}
	pa_text_put(t, "]", 1);
	if (all_text)
		return;
b64:
	key(t, first, fd->name, "_b64");
	pa_text_put(t, "[", 1);
	for (size_t j = 0; j < fd->count; j++) {
		if (privaudit_record_value(rec, i, j, &data, &len, &num) != PRIVAUDIT_OK)
			continue;
		pa_text_puts(t, j > 0 ? ",\"" : "\"");
		pa_text_base64(t, data, len);
		pa_text_put(t, "\"", 1);
	}
	pa_text_put(t, "]", 1);
}

/* UTC, ISO 8601, milliseconds, as the CLI prints times. */
static void time_ns(pa_text *t, uint64_t ns)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)(ns / 1000000000u);

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		pa_text_puts(t, "unknown");
	else
		pa_text_printf(t, "%s.%03uZ", buf, (unsigned)(ns % 1000000000u / 1000000u));
}

static void body_fields(pa_text *t, const privaudit_record *rec)
{
	size_t n = privaudit_record_field_count(rec);
	int first = 1;

	for (size_t i = 0; i < n; i++) {
		privaudit_field fd;
		const void *data;
		uint64_t num;
		size_t len;

		if (privaudit_record_field(rec, i, &fd) != PRIVAUDIT_OK || own_field(fd.name))
			continue;
		if (fd.repeated) {
			repeated(t, &first, rec, i, &fd);
			continue;
		}
		if (privaudit_record_value(rec, i, 0, &data, &len, &num) != PRIVAUDIT_OK)
			continue;
		if (fd.type != PRIVAUDIT_FIELD_BYTES && fd.type != PRIVAUDIT_FIELD_STRING) {
			key(t, &first, fd.name, "");
			number(t, &fd, num);
		} else if (binary_field(fd.name)) {
			key(t, &first, fd.name, "_b64");
			pa_text_put(t, "\"", 1);
			pa_text_base64(t, data, len);
			pa_text_put(t, "\"", 1);
		} else {
			text_member(t, &first, fd.name, data, len);
		}
	}
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_json(const privaudit_record *rec,
							unsigned flags, size_t max, char **out,
							size_t *len)
{
	const void *host = NULL, *skey = NULL;
	size_t hl = 0, kl = 0;
	uint64_t pid = 0;
	int first = 0;   /* "index" opens the object by hand */
	char id[16];
	pa_text t;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (rec == NULL || out == NULL || (flags & ~PRIVAUDIT_JSON_VERIFIED) != 0)
		return PRIVAUDIT_E_INVAL;
	/* absent own fields print as empty and zero, as they read */
	if (privaudit_record_get_bytes(rec, "host", &host, &hl) != PRIVAUDIT_OK)
		hl = 0;
	if (privaudit_record_get_bytes(rec, "session_key", &skey, &kl) != PRIVAUDIT_OK)
		kl = 0;
	if (privaudit_record_get_uint(rec, "writer_pid", &pid) != PRIVAUDIT_OK)
		pid = 0;
	pa_text_init(&t, max);
	pa_text_printf(&t, "{\"index\":%" PRIu64 ",\"time\":\"", privaudit_record_index(rec));
	time_ns(&t, privaudit_record_time_ns(rec));
	pa_text_printf(&t, "\",\"time_ns\":%" PRIu64 ",\"kind\":\"%s\"",
		       privaudit_record_time_ns(rec), privaudit_record_kind(rec));
	text_member(&t, &first, "host", host, hl);
	pa_text_printf(&t, ",\"writer_pid\":%" PRIu64, pid);
	if (kl > 0) {
		text_member(&t, &first, "session", skey, kl);
		if (privaudit_record_session_id(rec, id) != PRIVAUDIT_OK)
			id[0] = '\0';
		pa_text_printf(&t, ",\"session_id\":\"%s\"", id);
	} else {
		pa_text_puts(&t, ",\"session\":null,\"session_id\":null");
	}
	if (flags & PRIVAUDIT_JSON_VERIFIED)
		pa_text_printf(&t, ",\"verified\":%s",
			       privaudit_record_verified(rec) ? "true" : "false");
	pa_text_puts(&t, ",\"fields\":{");
	body_fields(&t, rec);
	pa_text_puts(&t, "}}");
	if (t.err != PA_TEXT_OK) {
		privaudit_status st = t.err == PA_TEXT_TOOBIG ? PRIVAUDIT_E_TOOBIG : PRIVAUDIT_E_NOMEM;

		pa_text_free(&t);
		return st;
	}
	*out = t.buf;
	if (len != NULL)
		*len = t.len;
	return PRIVAUDIT_OK;
}
