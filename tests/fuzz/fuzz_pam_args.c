/* fuzz_pam_args.c: the PAM module's argument parser and its handling of PAM
 * items (user, ruser, rhost, tty, service: set by whoever runs sshd or sudo
 * against us).  pam_privaudit.c is included, its parser being static; this
 * file stands in for libpam, and the log calls of write_event() are
 * replaced by a fake log that packs each event into a record and decodes
 * it back (the real log path has its own tests).
 *
 * Input: NUL-separated strings.  The first byte picks the hooks run; then
 * service, user, ruser, rhost, tty (an empty string leaves the item unset),
 * then the module arguments.  dir= and tty_audit arguments are dropped: the
 * harness must not write a real log nor change the kernel's TTY auditing. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "fuzz.h"
#include "privaudit.h"
#include "record.h"

#define MAX_ARGS 32

/* ------------------------------------------------------- fake log */

static privaudit_status fake_open_timeout(privaudit_log **out, const char *dir, unsigned flags,
					  int ms)
{
	(void)flags;
	(void)ms;
	FUZZ_CHECK(dir != NULL && dir[0] == '/');
	*out = malloc(1);
	return *out != NULL ? PRIVAUDIT_OK : PRIVAUDIT_E_NOMEM;
}

static privaudit_status fake_append_event(privaudit_log *log, const privaudit_event *ev)
{
	Privaudit__Record rec;
	pa_record *back;
	unsigned char *buf;
	size_t len;

	FUZZ_CHECK(log != NULL);
	privaudit__record__init(&rec);
	pa_event_to_record(ev, &rec);
	len = privaudit__record__get_packed_size(&rec);
	if (len > PRIVAUDIT_RECORD_MAX)
		return PRIVAUDIT_E_TOOBIG;
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(privaudit__record__pack(&rec, buf) == len);
	back = pa_record_decode(buf, len);
	FUZZ_CHECK(back != NULL && back->body_case == rec.body_case);
	pa_record_free(back);
	free(buf);
	return PRIVAUDIT_OK;
}

static privaudit_status fake_ok(privaudit_log *log)
{
	FUZZ_CHECK(log != NULL);
	return PRIVAUDIT_OK;
}

static privaudit_status fake_close(privaudit_log *log)
{
	free(log);
	return PRIVAUDIT_OK;
}

static privaudit_status fake_set_program(privaudit_log *log, const char *program)
{
	FUZZ_CHECK(log != NULL && program != NULL);
	return PRIVAUDIT_OK;
}

static const char *fake_log_error(const privaudit_log *log)
{
	(void)log;
	return "fake log";
}

#define privaudit_open_timeout fake_open_timeout
#define privaudit_append_event fake_append_event
#define privaudit_seal fake_ok
#define privaudit_commit fake_ok
#define privaudit_close fake_close
#define privaudit_set_program fake_set_program
#define privaudit_log_error fake_log_error
#include "../../pam_privaudit/pam_privaudit.c"
#undef privaudit_open_timeout
#undef privaudit_append_event
#undef privaudit_seal
#undef privaudit_commit
#undef privaudit_close
#undef privaudit_set_program
#undef privaudit_log_error

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

static int allowed(int rc)
{
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
	while (p <= end && argc < MAX_ARGS - 1) {
		const char *s = p;

		p += strlen(p) + 1;
		if (strncmp(s, "dir=", 4) == 0 || strncmp(s, "tty_audit", 9) == 0)
			continue;
		argv[argc++] = s;
	}
	argv[argc++] = "dir=/nonexistent/pa-fuzz";
	argv[argc] = NULL;

	if (hooks & 1) {
		FUZZ_CHECK(allowed(pam_sm_open_session(&h, 0, argc, argv)));
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
