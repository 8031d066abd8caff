/* SPDX-License-Identifier: ISC */
/* request.c: a client's request turned into a record (request.h).  The
 * client names the fields; the daemon adds the peer credentials, which no
 * client may set itself. */
#include "config.h"

#include <string.h>

#include "request.h"

/* The records a local client may ask for: PAM's, and the terminal I/O of
 * sudo_privaudit.so.  The log's own records (writer start/stop, heartbeat,
 * gap, checkpoints) are the daemon's. */
static const char *const allowed_kinds[] = {"session_open", "session_close", "auth_attempt",
					    "io_open", "io_chunk", "io_close"};

static int name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

int pa_request_kind_allowed(const char *kind, size_t len)
{
	for (size_t i = 0; i < sizeof(allowed_kinds) / sizeof(allowed_kinds[0]); i++)
		if (name_is(kind, len, allowed_kinds[i]))
			return 1;
	return 0;
}

static int is_peer_field(const char *name, size_t len)
{
	return name_is(name, len, "peer_pid") || name_is(name, len, "peer_uid") ||
	       name_is(name, len, "peer_gid");
}

enum pa_wire_code pa_request_event(const void *body, size_t len, const struct pa_peer *peer,
				   privaudit_event **out, unsigned *flags, int *closes,
				   const char **why)
{
	struct pa_wire_req r;
	struct pa_wire_field f;
	privaudit_event *ev = NULL;
	privaudit_status st;
	char kind[PA_WIRE_NAME_MAX + 1], name[PA_WIRE_NAME_MAX + 1];

	*out = NULL;
	if (pa_wire_parse(&r, body, len, why) < 0)
		return PA_WIRE_BAD;
	if (!pa_request_kind_allowed(r.kind, r.kind_len)) {
		*why = "record kind not allowed from a client";
		return PA_WIRE_REFUSED;
	}
	memcpy(kind, r.kind, r.kind_len);
	kind[r.kind_len] = '\0';
	st = privaudit_event_new(&ev, kind);
	if (st != PRIVAUDIT_OK) {
		*why = privaudit_strerror(st);
		return PA_WIRE_FAILED;
	}
	while (pa_wire_next(&r, &f)) {
		if (is_peer_field(f.name, f.name_len)) {
			*why = "peer credentials are the daemon's to set";
			privaudit_event_free(ev);
			return PA_WIRE_REFUSED;
		}
		memcpy(name, f.name, f.name_len);
		name[f.name_len] = '\0';
		st = f.type == 'b' ? privaudit_event_set_bytes(ev, name, f.data, f.len)
				   : privaudit_event_set_int(ev, name, f.i);
		if (st != PRIVAUDIT_OK) {
			*why = st == PRIVAUDIT_E_NOMEM ? "out of memory"
			     : "unknown field, or a value out of its range";
			privaudit_event_free(ev);
			return st == PRIVAUDIT_E_NOMEM ? PA_WIRE_FAILED : PA_WIRE_BAD;
		}
	}
	st = privaudit_event_set_int(ev, "peer_pid", (int64_t)peer->pid);
	if (st == PRIVAUDIT_OK)
		st = privaudit_event_set_int(ev, "peer_uid", (int64_t)peer->uid);
	if (st == PRIVAUDIT_OK)
		st = privaudit_event_set_int(ev, "peer_gid", (int64_t)peer->gid);
	if (st != PRIVAUDIT_OK) {
		*why = privaudit_strerror(st);
		privaudit_event_free(ev);
		return PA_WIRE_FAILED;
	}
	*out = ev;
	*flags = r.flags;
	*closes = strcmp(kind, "session_close") == 0 || strcmp(kind, "io_close") == 0;
	*why = NULL;
	return PA_WIRE_OK;
}
