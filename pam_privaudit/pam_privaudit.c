/* SPDX-License-Identifier: ISC */
/* pam_privaudit.c: records privileged PAM sessions and authentication
 * attempts by handing them to privauditd, the host's log writer, over its
 * Unix socket.  It runs inside sshd, sudo, su and login, so it holds no
 * log lock and links nothing but libpam: it never prints, never aborts,
 * keeps no fd open between calls, waits a bounded time for the daemon's
 * answer, and changes the stack's outcome only when the administrator asks
 * for failmode=closed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <sys/socket.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "client.h"
#include "wire.h"

#define PAM_EXPORT __attribute__((visibility("default")))
#define DATA_NAME "pam_privaudit_session"
#define DEFAULT_SOCKET PRIVAUDITD_SOCKET   /* configure --with-socket */
#define DEFAULT_USERS "root"
#define DEFAULT_GROUPS "sudo,wheel,adm"
/* Services whose authentication is itself a bid for privilege: during auth
 * and account sudo's PAM_USER is the invoking user, not the target. */
#define DEFAULT_ESCALATION "sudo,sudo-i,su,su-l,pkexec,polkit-1,doas,run0"
#define DEFAULT_TIMEOUT_MS 2000
#define UNSET_ID 4294967295u

enum auth_mode { AUTH_ATTEMPT, AUTH_FAIL, AUTH_SUCC };

struct options {
	const char *socket;
	const char *users;
	const char *groups;
	const char *services;
	const char *escalation;
	long uid_min;             /* -1: not set */
	int tty_audit;
	int log_passwd;
	int sync;
	int failmode_closed;
	int debug;
	int seal;
	int timeout_ms;           /* lock_timeout=: the wait for the daemon's answer */
	enum auth_mode auth_mode;
};

/* What open_session leaves for close_session. */
struct session_data {
	char key[80];
	uint64_t start_ns;
	int recorded;
	int tty_audit_prev;       /* -1: not changed */
	int tty_audit_prev_passwd;
};

/* A decimal number in [0, max]; -1 for anything else. */
static int parse_num(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Arguments parsed in one loop; unknown ones logged and ignored. */
static void parse_args(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->socket = DEFAULT_SOCKET;
	o->users = DEFAULT_USERS;
	o->groups = DEFAULT_GROUPS;
	o->escalation = DEFAULT_ESCALATION;
	o->uid_min = -1;
	o->sync = 1;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->auth_mode = AUTH_ATTEMPT;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "socket=", 7) == 0 && a[7] == '/')
			o->socket = a + 7;
		else if (strncmp(a, "dir=", 4) == 0)
			/* the log is privauditd's (--dir) since the daemon writes it */
			pam_syslog(pamh, LOG_WARNING, "dir= is ignored: privauditd's --dir names the log");
		else if (strncmp(a, "users=", 6) == 0)
			o->users = a + 6;
		else if (strncmp(a, "groups=", 7) == 0)
			o->groups = a + 7;
		else if (strncmp(a, "services=", 9) == 0)
			o->services = a + 9;
		else if (strncmp(a, "escalation=", 11) == 0)
			o->escalation = a + 11;
		else if (strncmp(a, "uid_min=", 8) == 0) {
			long v;

			if (parse_num(a + 8, UINT32_MAX, &v) < 0)
				pam_syslog(pamh, LOG_ERR, "bad argument ignored: %s", a);
			else
				o->uid_min = v;
		} else if (strcmp(a, "tty_audit") == 0)
			o->tty_audit = 1;
		else if (strcmp(a, "log_passwd") == 0)
			o->log_passwd = 1;
		else if (strcmp(a, "sync=yes") == 0)
			o->sync = 1;
		else if (strcmp(a, "sync=no") == 0)
			o->sync = 0;
		else if (strcmp(a, "failmode=open") == 0)
			o->failmode_closed = 0;
		else if (strcmp(a, "failmode=closed") == 0)
			o->failmode_closed = 1;
		else if (strcmp(a, "seal") == 0)
			o->seal = 1;
		else if (strcmp(a, "debug") == 0)
			o->debug = 1;
		else if (strcmp(a, "authfail") == 0)
			o->auth_mode = AUTH_FAIL;
		else if (strcmp(a, "authsucc") == 0)
			o->auth_mode = AUTH_SUCC;
		else if (strncmp(a, "lock_timeout=", 13) == 0) {
			long v;

			if (parse_num(a + 13, 600000, &v) < 0)
				pam_syslog(pamh, LOG_ERR, "bad argument ignored: %s", a);
			else
				o->timeout_ms = (int)v;
		} else
			pam_syslog(pamh, LOG_ERR, "unknown argument ignored: %s", a);
	}
}

/* Is word one of the comma-separated items of list? */
static int in_list(const char *list, const char *word)
{
	size_t wl = strlen(word);

	if (list == NULL || word == NULL)
		return 0;
	while (*list != '\0') {
		const char *end = strchr(list, ',');
		size_t l = end ? (size_t)(end - list) : strlen(list);

		if (l == wl && memcmp(list, word, l) == 0)
			return 1;
		if (end == NULL)
			break;
		list = end + 1;
	}
	return 0;
}

/* getpwnam_r (name) or getpwuid_r into a heap buffer grown while it is too
 * small; *buf is the caller's to free.  Not a large stack buffer: the
 * compiler probes every page of one, which costs a page fault per 4 KiB in
 * each login process even when the lookup is never made. */
static struct passwd *lookup_pw(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
	for (size_t len = 1024; len <= (1u << 20); len *= 4) {
		struct passwd *r = NULL;
		char *nb = realloc(*buf, len);
		int e;

		if (nb == NULL)
			return NULL;
		*buf = nb;
		e = name != NULL ? getpwnam_r(name, pw, nb, len, &r) : getpwuid_r(uid, pw, nb, len, &r);
		if (e != ERANGE)
			return e == 0 ? r : NULL;
	}
	return NULL;
}

/* The same for getgrgid_r. */
static struct group *lookup_gr(gid_t gid, struct group *gr, char **buf)
{
	for (size_t len = 1024; len <= (1u << 22); len *= 4) {
		struct group *r = NULL;
		char *nb = realloc(*buf, len);
		int e;

		if (nb == NULL)
			return NULL;
		*buf = nb;
		e = getgrgid_r(gid, gr, nb, len, &r);
		if (e != ERANGE)
			return e == 0 ? r : NULL;
	}
	return NULL;
}

/* Target user is privileged: uid 0, named in users=, member (primary or
 * supplementary) of a group in groups=, or uid >= uid_min when given. */
static int privileged_target(const struct options *o, const char *user)
{
	struct passwd pw;
	char *buf = NULL, *gbuf = NULL;
	int privileged = 0;

	if (user == NULL || user[0] == '\0')
		return 0;
	if (in_list(o->users, user))
		return 1;
	if (lookup_pw(user, 0, &pw, &buf) == NULL) {
		free(buf);
		return 0;
	}
	if (pw.pw_uid == 0 || (o->uid_min >= 0 && (long)pw.pw_uid >= o->uid_min))
		privileged = 1;
	if (!privileged && o->groups != NULL && o->groups[0] != '\0') {
		gid_t groups[256];
		int n = 256;

		if (getgrouplist(user, pw.pw_gid, groups, &n) < 0)
			n = 256;   /* more groups than we look at: check the first 256 */
		for (int i = 0; i < n && !privileged; i++) {
			struct group gr;

			if (lookup_gr(groups[i], &gr, &gbuf) != NULL && in_list(o->groups, gr.gr_name))
				privileged = 1;
		}
	}
	free(gbuf);
	free(buf);
	return privileged;
}

/* Small /proc files: the audit login uid and session, the boot id. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static uint32_t read_id(const char *path)
{
	char buf[32], *end;
	unsigned long v;

	if (read_small(path, buf, sizeof(buf)) < 0)
		return UNSET_ID;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return UNSET_ID;
	return (uint32_t)v;
}

/* The audit login uid and session id of this process.  The kernel hands
 * out a session id only when it sets a login uid (audit_set_loginuid), so
 * without a login uid (cron, services, a shell that did not log in) there
 * is no session id to read, and one /proc lookup is saved. */
static void audit_ids(uint32_t *auid, uint32_t *ses)
{
	*auid = read_id("/proc/self/loginuid");
	*ses = *auid == UNSET_ID ? UNSET_ID : read_id("/proc/self/sessionid");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void free_session_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* PAM item as bytes, or nothing when unset. */
static void add_item(pam_handle_t *pamh, struct pa_wire_buf *b, const char *field, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) == PAM_SUCCESS && v != NULL)
		pa_wire_add_str(b, field, v);
}

/* Hand one record to privauditd and wait, at most timeout_ms, for its
 * answer: once the record is durable (sync) or written (sync=no).  0 when
 * it was recorded; the reason goes to syslog otherwise. */
static int send_record(pam_handle_t *pamh, const struct options *o, struct pa_wire_buf *b,
		       const char *what)
{
	char text[PA_WIRE_ANSWER_MAX];
	const char *stage = "build";
	int code;

	if (pa_wire_end(b) < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot build the %s record (out of memory or over %u bytes)",
			   what, PA_WIRE_REQUEST_MAX);
		return -1;
	}
	code = pa_client_call(o->socket, b, o->timeout_ms, text, sizeof(text), &stage);
	if (code < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot record %s: privauditd at %s: %s: %s", what,
			   o->socket, stage, strerror(errno));
		return -1;
	}
	if (code != PA_WIRE_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot record %s: privauditd answered %d: %s", what,
			   code, text);
		return -1;
	}
	return 0;
}

/* 16 random bytes naming a session with no audit session id: a name,
 * not a secret, so libsodium's set-up (tens of microseconds in every
 * login process) buys nothing.  A login must never wait for entropy:
 * while the kernel pool is not ready (early boot), /dev/urandom, which
 * never blocks, still gives a name unique enough. */
static int random_id(unsigned char r[16])
{
	ssize_t n;
	int fd;

	if (getrandom(r, 16, GRND_NONBLOCK) == 16)
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	do
		n = read(fd, r, 16);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == 16 ? 0 : -1;
}

/* The audit ids and boot id that tie this session to kernel records. */
static int session_key(uint32_t ses, char *key, size_t len, char *boot, size_t boot_len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t p;

	if (read_small("/proc/sys/kernel/random/boot_id", boot, boot_len) < 0)
		boot[0] = '\0';
	if (ses != UNSET_ID && boot[0] != '\0') {
		snprintf(key, len, "%s:%" PRIu32, boot, ses);
		return 0;
	}
	/* by hand: libsodium's bin2hex would be the only libsodium code a
	 * login touches, at the cost of faulting its pages in */
	if (len < 7 + 2 * sizeof(r) + 1 || random_id(r) < 0)
		return -1;
	memcpy(key, "random:", 7);
	p = 7;
	for (size_t i = 0; i < sizeof(r); i++) {
		key[p++] = hex[r[i] >> 4];
		key[p++] = hex[r[i] & 15];
	}
	key[p] = '\0';
	return 0;
}

/* One request on the audit netlink socket, as pam_tty_audit does it; for
 * AUDIT_TTY_GET the reply lands in *out. */
static int audit_tty_request(int type, struct audit_tty_status *st)
{
	struct {
		struct nlmsghdr h;
		struct audit_tty_status s;
	} req;
	union {
		struct nlmsghdr h;
		char buf[8192];
	} rep;
	struct sockaddr_nl addr;
	int fd, rc = -1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(type == AUDIT_TTY_SET ? sizeof(req.s) : 0);
	req.h.nlmsg_type = (uint16_t)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = 1;
	if (type == AUDIT_TTY_SET)
		req.s = *st;
	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto out;
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = recv(fd, &rep, sizeof(rep), 0);

		if (n < 0 || !NLMSG_OK(&rep.h, (size_t)n))
			goto out;
		if (rep.h.nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(&rep.h);

			if (e->error != 0) {
				errno = -e->error;
				goto out;
			}
			if (type == AUDIT_TTY_SET) {
				rc = 0;
				goto out;
			}
			continue;   /* the ack; the status follows */
		}
		if (rep.h.nlmsg_type == AUDIT_TTY_GET && type == AUDIT_TTY_GET &&
		    rep.h.nlmsg_len >= NLMSG_LENGTH(sizeof(*st))) {
			memcpy(st, NLMSG_DATA(&rep.h), sizeof(*st));
			rc = 0;
			goto out;
		}
	}
out:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return rc;
}

/* Turn kernel TTY input auditing on for this process and its children, as
 * pam_tty_audit does; prev gets the old setting to restore at close. */
static int tty_audit_set(pam_handle_t *pamh, int enable, int log_passwd, int *prev, int *prev_passwd)
{
	struct audit_tty_status old, now;

	memset(&old, 0, sizeof(old));
	if (audit_tty_request(AUDIT_TTY_GET, &old) < 0) {
		pam_syslog(pamh, LOG_ERR, "tty_audit: cannot read TTY auditing state: %s",
			   strerror(errno));
		return -1;
	}
	now = old;
	now.enabled = enable ? 1 : 0;
	now.log_passwd = log_passwd ? 1 : 0;
	if (audit_tty_request(AUDIT_TTY_SET, &now) < 0) {
		pam_syslog(pamh, LOG_ERR, "tty_audit: cannot change TTY auditing: %s", strerror(errno));
		return -1;
	}
	if (prev != NULL) {
		*prev = (int)old.enabled;
		*prev_passwd = (int)old.log_passwd;
	}
	return 0;
}

/* failmode=closed must refuse the session everywhere: sudo deliberately
 * treats PAM_SESSION_ERR from pam_open_session as non-fatal and would run
 * the command unrecorded, so the refusal is PAM_SYSTEM_ERR, which sudo, su,
 * sshd and login all treat as fatal. */
static int failure(const struct options *o)
{
	return o->failmode_closed ? PAM_SYSTEM_ERR : PAM_IGNORE;
}

PAM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options o;
	struct session_data *sd;
	struct pa_wire_buf b = {0};
	const void *service = NULL, *user = NULL;
	char boot[64], login_name[256] = "";
	int rc;
	uint32_t auid, ses;

	(void)flags;
	parse_args(pamh, argc, argv, &o);
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS)
		service = NULL;
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
		user = NULL;
	if (o.services != NULL && (service == NULL || !in_list(o.services, service)))
		return PAM_IGNORE;
	if (!privileged_target(&o, user)) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "session for a non-privileged target: not recorded");
		return PAM_IGNORE;
	}
	sd = calloc(1, sizeof(*sd));
	if (sd == NULL)
		return failure(&o);
	sd->tty_audit_prev = -1;
	audit_ids(&auid, &ses);
	if (session_key(ses, sd->key, sizeof(sd->key), boot, sizeof(boot)) < 0) {
		free(sd);
		return failure(&o);
	}
	if (auid != UNSET_ID) {
		struct passwd pw;
		char *buf = NULL;

		if (lookup_pw(NULL, auid, &pw, &buf) != NULL)
			snprintf(login_name, sizeof(login_name), "%s", pw.pw_name);
		free(buf);
	}
	sd->start_ns = mono_ns();

	pa_wire_begin(&b, "session_open",
		      (o.sync ? PA_WIRE_SYNC : 0) | (o.seal ? PA_WIRE_SEAL : 0));
	add_item(pamh, &b, "service", PAM_SERVICE);
	add_item(pamh, &b, "user", PAM_USER);
	add_item(pamh, &b, "ruser", PAM_RUSER);
	add_item(pamh, &b, "rhost", PAM_RHOST);
	add_item(pamh, &b, "tty", PAM_TTY);
	pa_wire_add_int(&b, "pid", getpid());
	pa_wire_add_int(&b, "uid", getuid());
	pa_wire_add_int(&b, "euid", geteuid());
	pa_wire_add_int(&b, "auid", auid);
	pa_wire_add_int(&b, "ses", ses);
	pa_wire_add_str(&b, "boot_id", boot[0] ? boot : NULL);
	pa_wire_add_str(&b, "login_user", login_name[0] ? login_name : NULL);
	pa_wire_add_int(&b, "result", PAM_SUCCESS);
	pa_wire_add_str(&b, "session_key", sd->key);
	rc = send_record(pamh, &o, &b, "session open");
	pa_wire_buf_free(&b);
	sd->recorded = rc == 0;
	if (o.tty_audit && sd->recorded)
		(void)tty_audit_set(pamh, 1, o.log_passwd, &sd->tty_audit_prev,
				    &sd->tty_audit_prev_passwd);
	if (pam_set_data(pamh, DATA_NAME, sd, free_session_data) != PAM_SUCCESS) {
		free(sd);
		return rc == 0 ? PAM_SUCCESS : failure(&o);
	}
	if (o.debug && rc == 0)
		pam_syslog(pamh, LOG_DEBUG, "session %s recorded through %s", sd->key, o.socket);
	return rc == 0 ? PAM_SUCCESS : failure(&o);
}

PAM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options o;
	const void *data = NULL;
	const struct session_data *sd;
	struct pa_wire_buf b = {0};
	int rc;

	(void)flags;
	parse_args(pamh, argc, argv, &o);
	if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS || data == NULL)
		return PAM_IGNORE;   /* open did not record this session */
	sd = data;
	if (sd->tty_audit_prev >= 0)
		(void)tty_audit_set(pamh, sd->tty_audit_prev, sd->tty_audit_prev_passwd, NULL, NULL);
	if (!sd->recorded)
		return PAM_IGNORE;
	/* Only the open record must be durable before the hook returns (it
	 * is what lets the session go on).  The close record is answered once
	 * privauditd has written it, without waiting for fdatasync: a crash
	 * of the machine before the log's next synced commit or seal can
	 * lose it, and saving a disk flush per logout is worth that
	 * (pam_privaudit(8)).  The daemon seals soon after a close. */
	pa_wire_begin(&b, "session_close", o.seal ? PA_WIRE_SEAL : 0);
	add_item(pamh, &b, "service", PAM_SERVICE);
	add_item(pamh, &b, "user", PAM_USER);
	pa_wire_add_int(&b, "pid", getpid());
	pa_wire_add_int(&b, "duration_ns", (int64_t)(mono_ns() - sd->start_ns));
	pa_wire_add_int(&b, "result", PAM_SUCCESS);
	pa_wire_add_str(&b, "session_key", sd->key);
	rc = send_record(pamh, &o, &b, "session close");
	pa_wire_buf_free(&b);
	if (rc != 0)
		return failure(&o);
	return PAM_SUCCESS;
}

/* auth and account: record the attempt, never change the outcome. */
static int record_attempt(pam_handle_t *pamh, int argc, const char **argv, const char *phase,
			  enum auth_mode mode_override)
{
	/* mode_override is AUTH_ATTEMPT for both hooks today: the arguments decide. */
	struct options o;
	struct pa_wire_buf b = {0};
	const void *service = NULL, *user = NULL;
	enum auth_mode mode;
	uint32_t auid, ses;

	parse_args(pamh, argc, argv, &o);
	mode = mode_override != AUTH_ATTEMPT ? mode_override : o.auth_mode;
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS)
		service = NULL;
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
		user = NULL;
	if (o.services != NULL && (service == NULL || !in_list(o.services, service)))
		return PAM_IGNORE;
	if (!privileged_target(&o, user) && !(service != NULL && in_list(o.escalation, service)))
		return PAM_IGNORE;
	audit_ids(&auid, &ses);
	pa_wire_begin(&b, "auth_attempt", o.sync ? PA_WIRE_SYNC : 0);
	add_item(pamh, &b, "service", PAM_SERVICE);
	add_item(pamh, &b, "user", PAM_USER);
	add_item(pamh, &b, "ruser", PAM_RUSER);
	add_item(pamh, &b, "rhost", PAM_RHOST);
	add_item(pamh, &b, "tty", PAM_TTY);
	pa_wire_add_str(&b, "phase", phase);
	pa_wire_add_int(&b, "uid", getuid());
	pa_wire_add_int(&b, "auid", auid);
	pa_wire_add_int(&b, "ses", ses);
	/* result: 0 success, 1 failure, -1 not known at this point */
	pa_wire_add_int(&b, "result", mode == AUTH_SUCC ? 0 : mode == AUTH_FAIL ? 1 : -1);
	pa_wire_add_int(&b, "success", mode == AUTH_SUCC);
	(void)send_record(pamh, &o, &b, phase);
	pa_wire_buf_free(&b);
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return record_attempt(pamh, argc, argv, "auth", AUTH_ATTEMPT);
}

PAM_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}

PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	/* Earlier account modules may have failed (a required failure does not
	 * stop the stack): the result is known only from the placement, told
	 * by authsucc/authfail as in auth. */
	return record_attempt(pamh, argc, argv, "account", AUTH_ATTEMPT);
}
