/* SPDX-License-Identifier: ISC */
/* client.h: one request to privauditd and its answer, within a bounded
 * time.  Used by pam_privaudit inside sshd, sudo and su: no fd outlives the
 * call, nothing blocks past the deadline, no SIGPIPE. */
#ifndef PA_CLIENT_H
#define PA_CLIENT_H

#include <stddef.h>

#include "wire.h"

/* The least time a call is given, whatever timeout_ms says (ms). */
#define PA_CLIENT_MIN_MS 100

/* Send the request frame (pa_wire_end() done) to the socket at path and
 * wait for the answer, timeout_ms in all (connect, send, answer; at least
 * PA_CLIENT_MIN_MS).  The server must run as root or as this process's
 * effective user (SO_PEERCRED), else EPERM.  Returns
 * the answer's code (enum pa_wire_code) with its text copied into text
 * (NUL-terminated, cut to text_len), or -1 with errno set and *stage
 * naming the step that failed ("connect", "send", "answer"). */
int pa_client_call(const char *path, const struct pa_wire_buf *req, int timeout_ms,
		   char *text, size_t text_len, const char **stage);

/* The same over one connection kept for many requests (sudo_privaudit.so:
 * a chunk of terminal I/O at a time).  pa_client_connect() returns the
 * connected descriptor (close-on-exec, non-blocking; the caller closes
 * it) or -1; pa_client_exchange() is pa_client_call() on it.  privauditd
 * hangs up on a connection idle for its client_timeout_ms: a send or an
 * answer that fails with EPIPE or ECONNRESET then means "connect again". */
int pa_client_connect(const char *path, int timeout_ms, const char **stage);
int pa_client_exchange(int fd, const struct pa_wire_buf *req, int timeout_ms, char *text,
		       size_t text_len, const char **stage);
/* The two halves of pa_client_exchange(), for a client that sends its next
 * request before it reads the answer to the last (one in flight): the
 * daemon appends one while the client gathers the next.  Answers come in
 * the order of the requests.  send: 0 or -1 with errno; answer: as
 * pa_client_exchange(). */
int pa_client_send(int fd, const struct pa_wire_buf *req, int timeout_ms, const char **stage);
int pa_client_answer(int fd, int timeout_ms, char *text, size_t text_len, const char **stage);

#endif
