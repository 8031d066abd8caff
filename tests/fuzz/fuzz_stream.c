/* SPDX-License-Identifier: ISC */
/* fuzz_stream.c: the auditd plugin's stream parser, as audisp-privaudit
 * drives it: bytes cut into lines, lines grouped into events, events
 * translated into records.  The first 8 bytes are parameters (the seed of
 * the chunk sizes, the grouper's limits: byte 5 zero for the plugin's own,
 * the selection, the clock steps);
 * the rest is the stream, fed in chunks of the sizes they pick.  Every
 * record made is packed and decoded back, as the log would store it.  The
 * serial state the run leaves is written, read back and written again the
 * same; with byte 7's bit 0x40, the stream is also read as a state file. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fields_ref.h"
#include "fuzz.h"
#include "record.h"
#include "stream.h"
#include "translate.h"

struct ctx {
	struct pa_grouper g;
	struct pa_translate tr;
	uint64_t now;
	uint64_t events, records;
};

static privaudit_status on_record(void *arg, const privaudit_event *ev)
{
	struct ctx *c = arg;
	Privaudit__Record rec;
	pa_record *back;
	unsigned char *buf;
	size_t len;

	privaudit__record__init(&rec);
	pa_event_to_record((const struct privaudit_event *)ev, &rec);
	len = privaudit__record__get_packed_size(&rec);
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(privaudit__record__pack(&rec, buf) == len);
	/* What the plugin appends, the verifier must be able to read. */
	back = pa_record_decode(buf, len);
	FUZZ_CHECK(len > PRIVAUDIT_RECORD_MAX || (back != NULL && back->body_case == rec.body_case));
	pa_record_free(back);
	free(buf);
	c->records++;
	return PRIVAUDIT_OK;
}

/* Every field of every record, through each value decoder. */
static void walk_fields(const struct pa_event *ev)
{
	for (size_t i = 0; i < ev->nrec; i++) {
		const struct pa_record *r = &ev->recs[i].rec;
		struct pa_field_iter it;
		const char *key, *val;
		size_t klen, vlen;

		if (ev->unparsed)
			break;
		FUZZ_CHECK(r->body + r->body_len <= ev->text + ev->text_len);
		/* the batch tokenizer's shortcuts give the grammar's fields */
		{
			struct pa_field want[64], got[64];
			size_t nw, ng;

			nw = ref_fields(r->body, r->body_len, want, 64);
			pa_fields_begin(&it, r->body, r->body_len);
			ng = pa_fields_batch(&it, got, 64);
			FUZZ_CHECK(ng == nw);
			for (size_t j = 0; j < ng; j++)
				FUZZ_CHECK(got[j].key == want[j].key && got[j].klen == want[j].klen &&
					   got[j].val == want[j].val && got[j].vlen == want[j].vlen);
		}
		pa_fields_begin(&it, r->body, r->body_len);
		while (pa_fields_next(&it, &key, &klen, &val, &vlen)) {
			char *out = malloc(vlen + 1);
			uint64_t u;
			int64_t s;

			FUZZ_CHECK(out != NULL);
			FUZZ_CHECK(key >= r->body && key + klen <= r->body + r->body_len);
			FUZZ_CHECK(val >= r->body && val + vlen <= r->body + r->body_len);
			FUZZ_CHECK(pa_value_decode(val, vlen, out) <= vlen);
			(void)pa_value_u64(val, vlen, &u);
			(void)pa_value_i64(val, vlen, &s);
			pa_value_unquote(&val, &vlen);
			free(out);
		}
		(void)pa_field_get(r, "key", &val, &vlen);
		(void)pa_record_is(r, "SYSCALL");
	}
}

static void on_event(void *arg, struct pa_event *ev)
{
	struct ctx *c = arg;

	c->events++;
	FUZZ_CHECK(ev->text_len <= ev->text_cap || ev->text == NULL);
	walk_fields(ev);
	(void)pa_translate_event(&c->tr, ev);
}

static void on_line(void *arg, const char *line, size_t len, int truncated)
{
	struct ctx *c = arg;

	FUZZ_CHECK(len <= PA_LINE_MAX);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	pa_grouper_line(&c->g, line, len, truncated, c->now);
}

/* The state text of ns, taken up again, gives the same text. */
static void state_round_trip(const struct pa_nodes *ns)
{
	struct pa_nodes back;
	size_t len, len2;
	char *text = pa_nodes_state(ns, "b", &len), *text2;

	if (text == NULL)
		return;
	pa_nodes_init(&back);
	FUZZ_CHECK(pa_nodes_restore(&back, text, len, "b", NULL, NULL) >= 0);
	text2 = pa_nodes_state(&back, "b", &len2);
	if (text2 != NULL)
		FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
	free(text);
	free(text2);
	pa_nodes_free(&back);
}

static uint32_t next_rand(uint32_t *s)
{
	/* xorshift32: chunk sizes that follow the input, not the run */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_grouper_limits lim;
	struct pa_lines lines;
	struct ctx c;
	uint32_t seed;
	size_t max_chunk, off = 8;

	if (size < 8)
		return 0;
	seed = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	if (seed == 0)
		seed = 1;
	/* Chunks of 1 byte up to 4 KiB, or the whole rest at once. */
	max_chunk = data[4] == 0 ? size : (size_t)1 << (data[4] % 13);
	/* 0: the plugin's limits (the grouper's defaults); else small ones. */
	lim.max_open = data[5] == 0 ? 0 : 1 + (data[5] & 0x3f);
	lim.max_bytes = data[5] == 0 ? 0 : (size_t)256 << (data[5] >> 6 << 2);   /* 256 B to 1 MiB */
	lim.newer_events = 1 + (data[6] & 0x7f) * 8;
	lim.idle_ms = (uint64_t)(data[7] & 0x0f) * 100;
	lim.hold_ms = (uint64_t)(data[7] >> 7);   /* 0: the default */

	memset(&c, 0, sizeof(c));
	pa_lines_init(&lines);
	pa_grouper_init(&c.g, &lim, on_event, &c);
	pa_translate_init(&c.tr, on_record, &c);
	if (data[6] & 0x80)
		snprintf(c.tr.boot_id, sizeof(c.tr.boot_id), "00000000-fuzz-boot-0000-000000000000");
	if (data[7] & 0x10)
		FUZZ_CHECK(pa_translate_select(&c.tr, "PROCTITLE,CWD", "privaudit,privileged") == 0);

	while (off < size) {
		size_t n = 1 + next_rand(&seed) % max_chunk;
		uint32_t r = next_rand(&seed);

		if (n > size - off)
			n = size - off;
		FUZZ_CHECK(pa_lines_feed(&lines, (const char *)data + off, n, on_line, &c) == 0);
		off += n;
		c.now += r % 64;
		if ((r >> 8) % 16 == 0)
			pa_grouper_tick(&c.g, c.now, 0);
		if ((r >> 12) % 64 == 0)
			(void)pa_translate_settle(&c.tr);
		if (data[7] & 0x20 && (r >> 20) % 256 == 0) {
			/* The plugin's queue dropped bytes here. */
			pa_lines_reset(&lines);
			pa_grouper_tick(&c.g, c.now, 1);
			(void)pa_translate_gap(&c.tr, 1, "queue-overflow", 0, 0);
			pa_translate_serials_reset(&c.tr);
		}
	}
	pa_lines_finish(&lines, on_line, &c);
	pa_grouper_tick(&c.g, c.now, 1);
	(void)pa_translate_settle(&c.tr);
	FUZZ_CHECK(c.g.nopen == 0);
	FUZZ_CHECK(c.g.nheld == 0);
	state_round_trip(&c.tr.nodes);
	if (data[7] & 0x40) {
		struct pa_nodes ns;

		pa_nodes_init(&ns);
		(void)pa_nodes_restore(&ns, (const char *)data + 8, size - 8, "b", NULL, NULL);
		state_round_trip(&ns);
		pa_nodes_free(&ns);
	}

	pa_translate_free(&c.tr);
	pa_grouper_free(&c.g);
	pa_lines_free(&lines);
	return 0;
}
