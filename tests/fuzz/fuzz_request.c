/* SPDX-License-Identifier: ISC */
/* fuzz_request.c: a request body, as any local process can send it to
 * privauditd, through its parser (pa_wire_parse/pa_wire_next) and
 * pa_request_event with a fixed peer; a record it accepts is packed and
 * decoded back, and must carry that peer's credentials and no other's. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "privaudit.h"
#include "record.h"
#include "request.h"
#include "wire.h"

/* Values no input can produce by chance: a client's own peer_* field would
 * have to match all three. */
static const struct pa_peer fake_peer = {.pid = 424242, .uid = 0, .gid = 31337};

static int allowed_code(enum pa_wire_code c)
{
	switch (c) {
	case PA_WIRE_OK:
	case PA_WIRE_BAD:
	case PA_WIRE_REFUSED:
	case PA_WIRE_FAILED:
		return 1;
	case PA_WIRE_TOOBIG:   /* the frame reader's answer, never the parser's */
		break;
	}
	return 0;
}

/* The fields pa_wire_next walks lie inside the body, end to end. */
static void walk_fields(const uint8_t *data, size_t size)
{
	struct pa_wire_req r;
	struct pa_wire_field f;
	const char *why = NULL;
	const unsigned char *last;

	if (pa_wire_parse(&r, data, size, &why) < 0) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(why == NULL);
	FUZZ_CHECK((r.flags & ~PA_WIRE_FLAGS) == 0);
	FUZZ_CHECK(r.kind_len >= 1 && r.kind_len <= PA_WIRE_NAME_MAX);
	FUZZ_CHECK((const uint8_t *)r.kind == data + 3 && r.p == data + 3 + r.kind_len);
	FUZZ_CHECK(memchr(r.kind, '\0', r.kind_len) == NULL);
	last = r.p;
	while (pa_wire_next(&r, &f)) {
		FUZZ_CHECK(f.type == 'b' || f.type == 'i');
		FUZZ_CHECK(f.name_len >= 1 && f.name_len <= PA_WIRE_NAME_MAX);
		FUZZ_CHECK((const unsigned char *)f.name == last + 2);
		/* a name is the C string the daemon looks up: "user\0x"
		 * must not be a second spelling of "user" */
		FUZZ_CHECK(memchr(f.name, '\0', f.name_len) == NULL);
		if (f.type == 'b')
			FUZZ_CHECK(f.data >= last && f.data + f.len <= data + size);
		FUZZ_CHECK(r.p > last && r.p <= data + size);
		last = r.p;
	}
	/* pa_wire_parse took it: the walk ends exactly at the end */
	FUZZ_CHECK(r.p == data + size);
}

/* An accepted request: its record packs, decodes back as a PAM record, and
 * the peer in it is the one the kernel named. */
static void check_record(const privaudit_event *ev)
{
	Privaudit__Record rec;
	pa_record *back;
	unsigned char *buf;
	size_t len;
	uint32_t pid, uid, gid;

	privaudit__record__init(&rec);
	pa_event_to_record(ev, &rec);
	len = privaudit__record__get_packed_size(&rec);
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(privaudit__record__pack(&rec, buf) == len);
	back = pa_record_decode(buf, len);
	FUZZ_CHECK(back != NULL);
	if (back->body_case == PRIVAUDIT__RECORD__BODY_SESSION_OPEN) {
		pid = back->session_open->peer_pid;
		uid = back->session_open->peer_uid;
		gid = back->session_open->peer_gid;
	} else if (back->body_case == PRIVAUDIT__RECORD__BODY_SESSION_CLOSE) {
		pid = back->session_close->peer_pid;
		uid = back->session_close->peer_uid;
		gid = back->session_close->peer_gid;
	} else if (back->body_case == PRIVAUDIT__RECORD__BODY_IO_OPEN) {
		/* sudo_privaudit.so's kinds */
		pid = back->io_open->peer_pid;
		uid = back->io_open->peer_uid;
		gid = back->io_open->peer_gid;
	} else if (back->body_case == PRIVAUDIT__RECORD__BODY_IO_CHUNK) {
		pid = back->io_chunk->peer_pid;
		uid = back->io_chunk->peer_uid;
		gid = back->io_chunk->peer_gid;
	} else if (back->body_case == PRIVAUDIT__RECORD__BODY_IO_CLOSE) {
		pid = back->io_close->peer_pid;
		uid = back->io_close->peer_uid;
		gid = back->io_close->peer_gid;
	} else {
		/* the only other kind a client may send */
		FUZZ_CHECK(back->body_case == PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT);
		pid = back->auth_attempt->peer_pid;
		uid = back->auth_attempt->peer_uid;
		gid = back->auth_attempt->peer_gid;
	}
	FUZZ_CHECK(pid == (uint32_t)fake_peer.pid);
	FUZZ_CHECK(uid == (uint32_t)fake_peer.uid);
	FUZZ_CHECK(gid == (uint32_t)fake_peer.gid);
	pa_record_free(back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	privaudit_event *ev = NULL;
	const char *why = NULL;
	unsigned flags = 0;
	int closes = -1;
	enum pa_wire_code code;

	walk_fields(data, size);
	code = pa_request_event(data, size, &fake_peer, &ev, &flags, &closes, &why);
	FUZZ_CHECK(allowed_code(code));
	if (code != PA_WIRE_OK) {
		FUZZ_CHECK(ev == NULL && why != NULL);
		return 0;
	}
	FUZZ_CHECK(ev != NULL && why == NULL);
	FUZZ_CHECK((flags & ~PA_WIRE_FLAGS) == 0);
	/* a session's close, or the end of a sudo command's I/O, asks for a seal */
	FUZZ_CHECK(closes == ((size >= 3 + 13 && data[2] == 13 &&
			       memcmp(data + 3, "session_close", 13) == 0) ||
			      (size >= 3 + 8 && data[2] == 8 && memcmp(data + 3, "io_close", 8) == 0)));
	check_record(ev);
	privaudit_event_free(ev);
	return 0;
}
