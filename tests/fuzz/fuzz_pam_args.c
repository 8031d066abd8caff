/* SPDX-License-Identifier: ISC */
/* fuzz_pam_args.c: the PAM module's argument parser, its handling of PAM
 * items (user, ruser, rhost, tty, service: set by whoever runs sshd or sudo
 * against us) and the requests it builds, read back by privauditd's own
 * parser.  pam_privaudit.c is included, its parser being static; this file
 * stands in for libpam, and for the socket: pa_client_call() is replaced by
 * a fake daemon that hands the request to pa_request_event() (request.c,
 * as privauditd does), packs the event into a record and decodes it back,
 * and answers with the code the input picks.
 *
 * Input: NUL-separated strings.  The first byte picks the hooks run (bits
 * 0-3) and the fake daemon's answer (bits 4-6, see answer_for); then
 * service, user, ruser, rhost, tty (an empty string leaves the item unset),
 * then the module arguments.  tty_audit arguments are dropped: the harness
 * must not change the kernel's TTY auditing. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "fuzz.h"
#include "privaudit.h"
#include "record.h"
#include "request.h"
#include "wire.h"

#define MAX_ARGS 32

/* ------------------------------------------------------- fake privauditd */

/* What the fake daemon answers this input's requests with: a code of
 * enum pa_wire_code, or -1 for a daemon that cannot be reached. */
static int answer;

static int answer_for(unsigned bits)
{
	static const int answers[] = {PA_WIRE_OK, PA_WIRE_OK, PA_WIRE_OK, PA_WIRE_OK,
				      PA_WIRE_FAILED, PA_WIRE_REFUSED, PA_WIRE_BAD, -1};

	return answers[bits & 7];
}

/* The request as privauditd reads it: one frame, accepted by its parser
 * whole (a request the module builds is never refused for its form), every
 * field set on a record that packs and decodes to the same kind, stamped
 * with the peer credentials the daemon gives it. */
static void check_request(const struct pa_wire_buf *req)
{
	struct pa_peer peer = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
	privaudit_event *ev = NULL;
	Privaudit__Record rec;
	pa_record *back;
	enum pa_wire_code code;
	const char *why = NULL;
	unsigned char *buf;
	unsigned flags = 0;
	int closes = 0;
	size_t len;

	FUZZ_CHECK(req != NULL && !req->failed && req->data != NULL && req->len > 4);
	FUZZ_CHECK(pa_wire_load32(req->data) == req->len - 4);
	FUZZ_CHECK(req->len - 4 <= PA_WIRE_REQUEST_MAX);
	code = pa_request_event(req->data + 4, req->len - 4, &peer, &ev, &flags, &closes, &why);
	if (code != PA_WIRE_OK) {
		fprintf(stderr, "privauditd's parser refused the module's request: %d %s\n",
			(int)code, why ? why : "");
		FUZZ_CHECK(code == PA_WIRE_OK);
	}
	FUZZ_CHECK(ev != NULL && (flags & ~PA_WIRE_FLAGS) == 0);
	privaudit__record__init(&rec);
	pa_event_to_record(ev, &rec);
	FUZZ_CHECK(closes == (rec.body_case == PRIVAUDIT__RECORD__BODY_SESSION_CLOSE));
	len = privaudit__record__get_packed_size(&rec);
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(privaudit__record__pack(&rec, buf) == len);
	back = pa_record_decode(buf, len);
	FUZZ_CHECK(back != NULL && back->body_case == rec.body_case);
	if (back->body_case == PRIVAUDIT__RECORD__BODY_SESSION_OPEN) {
		FUZZ_CHECK(back->session_open->peer_pid == (uint32_t)peer.pid);
		FUZZ_CHECK(back->session_open->peer_uid == (uint32_t)peer.uid);
	} else if (back->body_case == PRIVAUDIT__RECORD__BODY_SESSION_CLOSE) {
		FUZZ_CHECK(back->session_close->peer_pid == (uint32_t)peer.pid);
		FUZZ_CHECK(back->session_close->peer_uid == (uint32_t)peer.uid);
	} else {
		/* the only other kind a client may send */
		FUZZ_CHECK(back->body_case == PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT);
		FUZZ_CHECK(back->auth_attempt->peer_pid == (uint32_t)peer.pid);
		FUZZ_CHECK(back->auth_attempt->peer_uid == (uint32_t)peer.uid);
	}
	pa_record_free(back);
	free(buf);
	privaudit_event_free(ev);
}

static int fake_client_call(const char *path, const struct pa_wire_buf *req, int timeout_ms,
			    char *text, size_t text_len, const char **stage)
{
	FUZZ_CHECK(path != NULL && path[0] == '/');
	FUZZ_CHECK(timeout_ms >= 0);
	FUZZ_CHECK(text != NULL && text_len > 0);
	text[0] = '\0';
	*stage = "connect";
	if (answer < 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	check_request(req);
	if (answer != PA_WIRE_OK)
		snprintf(text, text_len, "fake daemon says no");
	return answer;
}

#define pa_client_call fake_client_call
#include "../../pam_privaudit/pam_privaudit.c"
#undef pa_client_call

/* ------------------------------------------------------- fake libpam */

struct pam_handle {
	const char *item[PAM_RUSER + 1];  /* by item type */
	void *data;
	void (*cleanup)(pam_handle_t *, void *, int);
};

int pam_get_item(const pam_handle_t *pamh, int type, const void **item)
{
	static const int known[] = { PAM_SERVICE, PAM_USER, PAM_RUSER, PAM_RHOST, PAM_TTY };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (type == known[i]) {
			*item = pamh->item[type];
			return PAM_SUCCESS;
		}
	}
	return PAM_BAD_ITEM;
}

void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	(void)pamh;
	(void)priority;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

int pam_set_data(pam_handle_t *pamh, const char *name, void *data,
		 void (*cleanup)(pam_handle_t *, void *, int))
{
	FUZZ_CHECK(strcmp(name, DATA_NAME) == 0);
	if (pamh->cleanup != NULL)
		pamh->cleanup(pamh, pamh->data, PAM_DATA_REPLACE);
	pamh->data = data;
	pamh->cleanup = cleanup;
	return PAM_SUCCESS;
}

int pam_get_data(const pam_handle_t *pamh, const char *name, const void **data)
{
	if (strcmp(name, DATA_NAME) != 0 || pamh->data == NULL)
		return PAM_NO_MODULE_DATA;
	*data = pamh->data;
	return PAM_SUCCESS;
}

/* ------------------------------------------------------- harness */

/* What a session hook may return: PAM_SUCCESS only when the daemon took the
 * record (or nothing was to be recorded), a refusal only with
 * failmode=closed. */
static int allowed(int rc)
{
	if (answer != PA_WIRE_OK && rc == PAM_SUCCESS)
		return 0;
	return rc == PAM_SUCCESS || rc == PAM_IGNORE || rc == PAM_SYSTEM_ERR;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pam_handle h;
	const char *argv[MAX_ARGS + 1];
	char *copy, *p, *end;
	int argc = 0, field = 0;
	uint8_t hooks;

	if (size < 1)
		return 0;
	hooks = data[0];
	answer = answer_for((unsigned)hooks >> 4);
	copy = malloc(size);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	memset(&h, 0, sizeof(h));
	p = copy;
	end = copy + size - 1;
	while (p <= end && field < 5) {
		static const int order[] = { PAM_SERVICE, PAM_USER, PAM_RUSER, PAM_RHOST, PAM_TTY };
		const char *s = p;

		p += strlen(p) + 1;
		h.item[order[field++]] = *s ? s : NULL;
	}
	while (p <= end && argc < MAX_ARGS) {
		const char *s = p;

		p += strlen(p) + 1;
		if (strncmp(s, "tty_audit", 9) == 0)
			continue;
		argv[argc++] = s;
	}
	argv[argc] = NULL;

	if (hooks & 1) {
		int rc = pam_sm_open_session(&h, 0, argc, argv);

		FUZZ_CHECK(allowed(rc));
		/* close after the open the module answered, as libpam does */
		FUZZ_CHECK(allowed(pam_sm_close_session(&h, 0, argc, argv)));
	}
	if (hooks & 2)
		FUZZ_CHECK(pam_sm_authenticate(&h, 0, argc, argv) == PAM_IGNORE);
	if (hooks & 4)
		FUZZ_CHECK(pam_sm_acct_mgmt(&h, 0, argc, argv) == PAM_IGNORE);
	if (hooks & 8)
		FUZZ_CHECK(pam_sm_setcred(&h, 0, argc, argv) == PAM_IGNORE);
	if (h.cleanup != NULL)
		h.cleanup(&h, h.data, PAM_SUCCESS);
	free(copy);
	return 0;
}
