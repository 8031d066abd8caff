/* SPDX-License-Identifier: ISC */
/* request.h: what privauditd makes of one client request: a record of an
 * allowed kind, stamped with the sender's kernel-given credentials. */
#ifndef PA_REQUEST_H
#define PA_REQUEST_H

#include <stddef.h>
#include <sys/types.h>

#include "privaudit.h"
#include "wire.h"

/* The sender, as SO_PEERCRED gives it. */
struct pa_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* Is a record of this kind one a client may send? */
int pa_request_kind_allowed(const char *kind, size_t len);

/* The event for a request body from peer.  PA_WIRE_OK: *out is the
 * caller's (privaudit_event_free), *flags the request's flags and
 * *closes 1 for a session close or the end of a command's I/O.  Otherwise the answer's code, with *why a
 * static reason. */
enum pa_wire_code pa_request_event(const void *body, size_t len, const struct pa_peer *peer,
				   privaudit_event **out, unsigned *flags, int *closes,
				   const char **why);

#endif
