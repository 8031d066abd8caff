/* SPDX-License-Identifier: ISC */
/* shipped.c: the collector's reading of what privauditd ships (doc/format.md,
 * "Shipping"): the JSON body of one message, of which only the origin, the
 * log id, the index and the exact entry bytes matter; the rest is skipped. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain.h"
#include "note.h"
#include "privaudit.h"
#include "record.h"
#include "segment.h"
#include "util.h"

/* Nesting deeper than this in the readable part is refused. */
#define MAX_DEPTH 64

typedef struct js {
	const char *p, *end;
} js;

static void ws(js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at j->p (the opening quote).  With out != NULL, its decoded
 * bytes go there (at most cap - 1, NUL-terminated), else it is skipped;
 * *len gets the decoded length.  -1 when malformed or longer than cap - 1. */
static int string(js *j, char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char buf[8];
		size_t k = 1;
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			buf[0] = (char)c;
			j->p++;
		} else {
			if (j->end - j->p < 2)
				return -1;
			switch (j->p[1]) {
			case '"': buf[0] = '"'; break;
			case '\\': buf[0] = '\\'; break;
			case '/': buf[0] = '/'; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u': {
				uint32_t cp, lo;

				if (j->end - j->p < 6 || hex4(j->p + 2, &cp) < 0)
					return -1;
				if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 12 && j->p[6] == '\\' &&
				    j->p[7] == 'u' && hex4(j->p + 8, &lo) == 0 && lo >= 0xdc00 &&
				    lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					j->p += 6;
				}
				k = utf8_put(buf, cp);
				j->p += 4;
				break;
			}
			default:
				return -1;
			}
			j->p += 2;
		}
		if (out != NULL) {
			if (n + k >= cap)
				return -1;
			memcpy(out + n, buf, k);
		}
		n += k;
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	if (out != NULL)
		out[n] = '\0';
	if (len != NULL)
		*len = n;
	return 0;
}

/* A whole value of any kind, skipped. */
static int skip_value(js *j, int depth)
{
	ws(j);
	if (j->p >= j->end || depth > MAX_DEPTH)
		return -1;
	switch (*j->p) {
	case '"':
		return string(j, NULL, 0, NULL);
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';
		int first = 1;

		j->p++;
		for (;;) {
			ws(j);
			if (j->p < j->end && *j->p == close) {
				j->p++;
				return 0;
			}
			if (!first) {
				if (j->p >= j->end || *j->p != ',')
					return -1;
				j->p++;
				ws(j);
			}
			first = 0;
			if (close == '}') {
				if (string(j, NULL, 0, NULL) < 0)
					return -1;
				ws(j);
				if (j->p >= j->end || *j->p != ':')
					return -1;
				j->p++;
			}
			if (skip_value(j, depth + 1) < 0)
				return -1;
		}
	}
	default: {
		const char *s = j->p;

		while (j->p < j->end && (*j->p == '-' || *j->p == '+' || *j->p == '.' ||
					 (*j->p >= '0' && *j->p <= '9') || *j->p == 'e' ||
					 *j->p == 'E' || (*j->p >= 'a' && *j->p <= 'z')))
			j->p++;
		return j->p > s ? 0 : -1;
	}
	}
}

static int number(js *j, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned d = (unsigned)(*j->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		j->p++;
	}
	if (j->p == s || (j->p - s > 1 && *s == '0'))
		return -1;
	*out = v;
	return 0;
}

/* The entry: standard base64 with padding, decoded into malloc'd memory. */
static privaudit_status entry_b64(js *j, privaudit_shipped *out)
{
	const char *s;
	size_t n, max, got = 0;

	if (j->p >= j->end || *j->p != '"')
		return PRIVAUDIT_E_FORMAT;
	s = ++j->p;
	while (j->p < j->end && *j->p != '"')
		j->p++;
	if (j->p >= j->end)
		return PRIVAUDIT_E_FORMAT;
	n = (size_t)(j->p - s);
	j->p++;
	if (n == 0 || n % 4 != 0 || !pa_b64_chars_ok(s, n))
		return PRIVAUDIT_E_FORMAT;
	max = n / 4 * 3;
	if (max > PA_ENTRY_MAX + 2)
		return PRIVAUDIT_E_TOOBIG;
	free(out->entry);
	out->entry = malloc(max);
	if (out->entry == NULL)
		return PRIVAUDIT_E_NOMEM;
	if (sodium_base642bin(out->entry, max, s, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return PRIVAUDIT_E_FORMAT;
	out->entry_len = got;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT void privaudit_shipped_free(privaudit_shipped *s)
{
	if (s == NULL)
		return;
	free(s->entry);
	s->entry = NULL;
	s->entry_len = 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_shipped_parse(const char *text, size_t len,
							  privaudit_shipped *out)
{
	enum { HAVE_V = 1, HAVE_ORIGIN = 2, HAVE_ID = 4, HAVE_INDEX = 8, HAVE_ENTRY = 16,
	       HAVE_SIZE = 32 };
	unsigned have = 0;
	privaudit_status st = PRIVAUDIT_E_FORMAT;
	js j = {text, text + len};
	int first = 1;

	if (text == NULL || out == NULL)
		return PRIVAUDIT_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		goto out;
	j.p++;
	for (;;) {
		char name[32];
		size_t nl;

		ws(&j);
		if (j.p < j.end && *j.p == '}') {
			j.p++;
			break;
		}
		if (!first) {
			if (j.p >= j.end || *j.p != ',')
				goto out;
			j.p++;
			ws(&j);
		}
		first = 0;
		{
			const char *at = j.p;

			if (string(&j, name, sizeof(name), &nl) < 0 || strlen(name) != nl) {
				/* A member name longer than ours, or with a NUL:
				 * none of ours. */
				j.p = at;
				if (string(&j, NULL, 0, NULL) < 0)
					goto out;
				name[0] = '\0';
			}
		}
		ws(&j);
		if (j.p >= j.end || *j.p != ':')
			goto out;
		j.p++;
		ws(&j);
		if (strcmp(name, "privaudit") == 0) {
			uint64_t v;

			if (number(&j, &v) < 0 || v != 1)
				goto out;
			have |= HAVE_V;
		} else if (strcmp(name, "origin") == 0) {
			size_t ol;

			if (string(&j, out->origin, sizeof(out->origin), &ol) < 0 || ol == 0 ||
			    strlen(out->origin) != ol)
				goto out;
			have |= HAVE_ORIGIN;
		} else if (strcmp(name, "log_id") == 0) {
			size_t il;

			if (string(&j, out->log_id, sizeof(out->log_id), &il) < 0 || il != 64 ||
			    strspn(out->log_id, "0123456789abcdef") != 64)
				goto out;
			have |= HAVE_ID;
		} else if (strcmp(name, "index") == 0) {
			if (number(&j, &out->index) < 0)
				goto out;
			have |= HAVE_INDEX;
		} else if (strcmp(name, "entry") == 0) {
			st = entry_b64(&j, out);
			if (st != PRIVAUDIT_OK)
				goto out;
			st = PRIVAUDIT_E_FORMAT;
			have |= HAVE_ENTRY;
		} else if (strcmp(name, "size") == 0) {
			if (number(&j, &out->size) < 0)
				goto out;
			have |= HAVE_SIZE;
		} else if (strcmp(name, "acked") == 0) {
			if (number(&j, &out->acked) < 0)
				goto out;
		} else if (skip_value(&j, 0) < 0) {
			goto out;
		}
	}
	ws(&j);
	if (j.p != j.end)
		goto out;
	if ((have & (HAVE_V | HAVE_ORIGIN | HAVE_ID)) != (HAVE_V | HAVE_ORIGIN | HAVE_ID))
		goto out;
	if ((have & (HAVE_INDEX | HAVE_ENTRY)) == (HAVE_INDEX | HAVE_ENTRY)) {
		if (out->entry_len < PA_ENTRY_INDEX + 1 || out->entry_len > PA_ENTRY_MAX)
			goto out;
		out->type = PRIVAUDIT_SHIPPED_RECORD;
	} else if ((have & (HAVE_INDEX | HAVE_ENTRY)) == 0 && (have & HAVE_SIZE)) {
		out->type = PRIVAUDIT_SHIPPED_SYNC;
	} else {
		goto out;
	}
	return PRIVAUDIT_OK;
out:
	privaudit_shipped_free(out);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_vkey_log_id(const char *vkey,
							char origin[PRIVAUDIT_ORIGIN_MAX],
							char log_id[65])
{
	char name[PA_ORIGIN_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], id[PA_HASH_LEN];

	if (vkey == NULL || origin == NULL || log_id == NULL)
		return PRIVAUDIT_E_INVAL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	if (pa_vkey_parse(vkey, name, pk) != PRIVAUDIT_OK)
		return PRIVAUDIT_E_NOTE;
	pa_chain_log_id(name, pk, id);
	memcpy(origin, name, PA_ORIGIN_MAX);
	sodium_bin2hex(log_id, 65, id, PA_HASH_LEN);
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_genesis_vkey(const void *entry, size_t len, char *vkey,
							 size_t vkey_len)
{
	const unsigned char *e = entry;
	privaudit_status st;
	pa_record *rec;

	if (entry == NULL || vkey == NULL || len < PA_ENTRY_INDEX + 1 || len > PA_ENTRY_MAX)
		return PRIVAUDIT_E_INVAL;
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	if (pa_load64(e) != 0)
		return PRIVAUDIT_E_FORMAT;
	rec = pa_record_decode(e + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	if (rec == NULL)
		return PRIVAUDIT_E_FORMAT;
	if (rec->body_case != PRIVAUDIT__RECORD__BODY_GENESIS || rec->genesis->origin == NULL ||
	    rec->genesis->origin[0] == '\0' || strlen(rec->genesis->origin) >= PA_ORIGIN_MAX ||
	    rec->genesis->public_key.len != crypto_sign_PUBLICKEYBYTES)
		st = PRIVAUDIT_E_FORMAT;
	else
		st = pa_vkey_format(rec->genesis->origin, rec->genesis->public_key.data, vkey,
				    vkey_len);
	pa_record_free(rec);
	return st;
}
