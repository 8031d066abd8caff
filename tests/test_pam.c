/* SPDX-License-Identifier: ISC */
/* test_pam.c: pam_privaudit.so loaded by the real libpam under pam_wrapper
 * (tests/pam-wrapper.sh runs it), talking to the real privauditd, which
 * each test starts on a temporary log and socket: sessions, auth and
 * account attempts read back from the log, every module argument,
 * failmodes with the daemon down, stalled or saying no, hostile PAM items,
 * and the host process left as it was.
 *
 * pam_wrapper reads its service files once, at start-up, so they are
 * written beforehand by this same program:
 *   test_pam --services SERVICE_DIR BASE MODULE SET_ITEMS_MODULE
 * and the tests then run with PA_PAM_BASE=BASE (the log is BASE/log, the
 * daemon's socket BASE/pad.sock) and PRIVAUDITD naming the daemon. */
#include "config.h"

#include "testutil.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include <security/pam_appl.h>
#include <libpamtest.h>

#include "privaudit.h"
#include "record.h"
#include "segment.h"

/* What libpam returns when every module of a stack said PAM_IGNORE: how a
 * stack holding only pam_privaudit shows that the module ignored the call. */
#define ALL_IGNORED PAM_PERM_DENIED

/* What pam_sm_open_session/close_session return with failmode=closed when
 * the record cannot be made (DESIGN.md 5, pam_privaudit(8)). */
#define REFUSED PAM_SYSTEM_ERR

#define UNPRIV_USER "nobody"        /* exists on Debian, Fedora, Ubuntu... */
#define UNPRIV_USER2 "daemon"
#define HUGE_LEN (64 * 1024)

/* Sockets under BASE, as the service files name them. */
#define DAEMON_SOCK "pad.sock"      /* the real privauditd */
#define STALL_SOCK "stall.sock"     /* listens, never accepts nor answers */
#define PEER_SOCK "peer.sock"       /* a fake daemon with canned answers */

static char base[1024], logdir[TU_PATH_MAX], vkey[512];
static char sockpath[TU_PATH_MAX], daemon_err[TU_PATH_MAX], daemon_conf[TU_PATH_MAX];
static const char *daemon_bin;

/* ------------------------------------------------------------ service files */

static const struct service {
	const char *name;
	const char *body;
} services[] = {
	{"other",
	 "auth required pam_deny.so\naccount required pam_deny.so\n"
	 "password required pam_deny.so\nsession required pam_deny.so\n"},
	{"pa_basic",
	 "auth optional @M@ socket=@K@\nauth required pam_permit.so\n"
	 "account optional @M@ socket=@K@\naccount required pam_permit.so\n"
	 "session required @M@ socket=@K@\n"},
	/* only our module: its own return code decides the stack's */
	{"pa_alone",
	 "auth required @M@ socket=@K@\naccount required @M@ socket=@K@\n"
	 "session required @M@ socket=@K@\n"},
	/* the same outcome must come with and without our module */
	{"pa_deny",
	 "auth optional @M@ socket=@K@\nauth required pam_deny.so\n"
	 "account optional @M@ socket=@K@\naccount required pam_deny.so\n"},
	{"pa_ref_deny", "auth required pam_deny.so\naccount required pam_deny.so\n"},
	{"pa_users", "session required @M@ socket=@K@ users=" UNPRIV_USER "\n"},
	{"pa_groups", "session required @M@ socket=@K@ groups=sudo,@G@\n"},
	{"pa_nogroups", "session required @M@ socket=@K@ users= groups=\n"},
	{"pa_services_in", "session required @M@ socket=@K@ services=sshd,pa_services_in,su\n"},
	{"pa_services_out", "session required @M@ socket=@K@ services=sshd,pa_services,su\n"},
	{"pa_uid_min", "session required @M@ socket=@K@ uid_min=1000\n"},
	{"pa_uid_min_high", "session required @M@ socket=@K@ uid_min=70000\n"},
	{"pa_uid_min_bad", "session required @M@ socket=@K@ uid_min=1000x\n"},
	{"pa_fail_closed",
	 "auth required @M@ socket=@K@ failmode=closed\nauth required pam_permit.so\n"
	 "account required @M@ socket=@K@ failmode=closed\naccount required pam_permit.so\n"
	 "session required @M@ socket=@K@ failmode=closed\nsession required pam_permit.so\n"},
	{"pa_fail_open",
	 "auth required @M@ socket=@K@ failmode=open\nauth required pam_permit.so\n"
	 "account required @M@ socket=@K@ failmode=open\naccount required pam_permit.so\n"
	 "session required @M@ socket=@K@ failmode=open\nsession required pam_permit.so\n"},
	/* a daemon that never answers */
	{"pa_stall_closed",
	 "session required @M@ socket=@B@/" STALL_SOCK " lock_timeout=200 failmode=closed\n"
	 "session required pam_permit.so\n"},
	{"pa_stall_open",
	 "session required @M@ socket=@B@/" STALL_SOCK " lock_timeout=200 failmode=open\n"
	 "session required pam_permit.so\n"},
	/* a daemon that answers what the test tells it to */
	{"pa_peer_closed",
	 "session required @M@ socket=@B@/" PEER_SOCK " failmode=closed\n"
	 "session required pam_permit.so\n"},
	{"pa_peer_open",
	 "session required @M@ socket=@B@/" PEER_SOCK " failmode=open\n"
	 "session required pam_permit.so\n"},
	{"pa_peer_sync_yes", "session required @M@ socket=@B@/" PEER_SOCK " sync=yes\n"},
	{"pa_peer_sync_no", "session required @M@ socket=@B@/" PEER_SOCK " sync=no\n"},
	{"pa_peer_seal", "session required @M@ socket=@B@/" PEER_SOCK " seal sync=no\n"},
	{"pa_peer_auth", "auth required @M@ socket=@B@/" PEER_SOCK " sync=no\n"},
	/* pam_set_items.so copies PAM_RHOST, PAM_TTY... from the environment */
	{"pa_items",
	 "auth required @S@\nauth optional @M@ socket=@K@\nauth required pam_permit.so\n"
	 "account required @S@\naccount optional @M@ socket=@K@\naccount required pam_permit.so\n"
	 "session required @S@\nsession required @M@ socket=@K@\n"},
	/* dir= named the log before privauditd wrote it: now ignored, said so */
	{"pa_unknown",
	 "session required @M@ socket=@K@ bogus_arg=1 lock_timeout=soon uid_min=-3 sync=maybe "
	 "dir=@B@/elsewhere\n"},
	{"pa_debug", "session required @M@ socket=@K@ debug\n"},
	{"pa_sync_yes", "session required @M@ socket=@K@ sync=yes\n"},
	{"pa_sync_no", "session required @M@ socket=@K@ sync=no\n"},
	{"pa_seal", "session required @M@ socket=@K@ seal\n"},
	{"pa_tty", "session required @M@ socket=@K@ tty_audit log_passwd\n"},
	{"pa_tty_nopasswd", "session required @M@ socket=@K@ tty_audit\n"},
	/* the documented placement: authfail only after a failure, authsucc
	 * only after a success */
	{"pa_auth_ok",
	 "auth [success=2 default=ignore] pam_permit.so\n"
	 "auth optional @M@ socket=@K@ authfail\nauth requisite pam_deny.so\n"
	 "auth optional @M@ socket=@K@ authsucc\nauth required pam_permit.so\n"},
	{"pa_auth_bad",
	 "auth [success=2 default=ignore] pam_deny.so\n"
	 "auth optional @M@ socket=@K@ authfail\nauth requisite pam_deny.so\n"
	 "auth optional @M@ socket=@K@ authsucc\nauth required pam_permit.so\n"},
};

/* The primary group of UNPRIV_USER, which no default makes privileged. */
static const char *unpriv_group(void)
{
	static char name[256];
	struct passwd *pw = getpwnam(UNPRIV_USER);
	struct group *gr = pw != NULL ? getgrgid(pw->pw_gid) : NULL;

	if (gr == NULL)
		return "nogroup";
	snprintf(name, sizeof(name), "%s", gr->gr_name);
	return name;
}

static int write_services(const char *dir, const char *b, const char *module, const char *set_items)
{
	char sock[TU_PATH_MAX];
	const char *group = unpriv_group();

	snprintf(sock, sizeof(sock), "%s/%s", b, DAEMON_SOCK);
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		char path[TU_PATH_MAX];
		const char *p = services[i].body;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, services[i].name);
		f = fopen(path, "w");
		if (f == NULL) {
			perror(path);
			return 1;
		}
		while (*p != '\0') {
			if (p[0] == '@' && p[1] != '\0' && p[2] == '@') {
				const char *v = p[1] == 'M' ? module : p[1] == 'K' ? sock :
						p[1] == 'B' ? b : p[1] == 'S' ? set_items :
						p[1] == 'G' ? group : NULL;

				if (v == NULL) {
					fprintf(stderr, "bad token in service %s\n", services[i].name);
					fclose(f);
					return 1;
				}
				fputs(v, f);
				p += 3;
			} else {
				fputc(*p++, f);
			}
		}
		if (fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ running PAM */

/* Run test cases, failing with the first unexpected return named. */
static void run_cases(const char *svc, const char *user, struct pam_testcase *tc, size_t n)
{
	struct pamtest_conv_data conv;
	enum pamtest_err perr;

	memset(&conv, 0, sizeof(conv));
	perr = _pamtest(svc, user, &conv, tc, n, NULL);
	if (perr == PAMTEST_ERR_CASE) {
		const struct pam_testcase *f = _pamtest_failed_case(tc, n);

		fail_msg("service %s, user %s: operation %d returned %d (%s), expected %d (%s)", svc,
			 user ? user : "(null)", f ? (int)f->pam_operation : -1, f ? f->op_rv : -1,
			 f ? pam_strerror(NULL, f->op_rv) : "?", f ? f->expected_rv : -1,
			 f ? pam_strerror(NULL, f->expected_rv) : "?");
	}
	if (perr != PAMTEST_ERR_OK)
		fail_msg("service %s, user %s: %s", svc, user ? user : "(null)", pamtest_strerror(perr));
}

#define RUN(svc, user, tc) run_cases((svc), (user), (tc), sizeof(tc) / sizeof((tc)[0]))

/* One operation; its return code. */
static int run_one(const char *svc, const char *user, enum pamtest_ops op)
{
	struct pam_testcase tc[] = {pam_test(op, PAM_SUCCESS)};
	struct pamtest_conv_data conv;
	enum pamtest_err perr;

	memset(&conv, 0, sizeof(conv));
	perr = run_pamtest(svc, user, &conv, tc, NULL);
	if (perr != PAMTEST_ERR_OK && perr != PAMTEST_ERR_CASE)
		fail_msg("service %s: %s", svc, pamtest_strerror(perr));
	return tc[0].op_rv;
}

/* Open a session and keep the handle, to look at the process in between. */
static pam_handle_t *open_keep(const char *svc, const char *user, int expect)
{
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_OPEN_SESSION, expect),
		pam_test(PAMTEST_KEEPHANDLE, 0),
	};

	RUN(svc, user, tc);
	assert_non_null(tc[1].case_out.ph);
	return tc[1].case_out.ph;
}

static void close_keep(pam_handle_t *ph, int expect)
{
	int rv = pam_close_session(ph, 0);

	if (rv != expect)
		fail_msg("pam_close_session returned %d (%s), expected %d", rv, pam_strerror(ph, rv),
			 expect);
	assert_int_equal(pam_end(ph, rv), PAM_SUCCESS);
}


/* ------------------------------------------------------------ reading the log */

typedef struct recs {
	pa_record **r;
	size_t n;
} recs;

static void recs_free(recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		pa_record_free(rs->r[i]);
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

/* Records a PAM client asks for; the daemon adds its own (writer start and
 * stop, key rotations and checkpoints when it seals) at times of its
 * choosing, which the tests do not count. */
static int is_pam_record(const pa_record *r)
{
	return r->body_case == PRIVAUDIT__RECORD__BODY_SESSION_OPEN ||
	       r->body_case == PRIVAUDIT__RECORD__BODY_SESSION_CLOSE ||
	       r->body_case == PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT;
}

/* The PAM records of the log at dir, in log order, read as a user's program
 * would, through libprivaudit's reader, while the daemon may be writing.
 * With sealed != NULL the log is verified first (against the key printed
 * at init) and *sealed counts those records a verified checkpoint covers. */
static void load_records_sealed(const char *dir, recs *rs, size_t *sealed)
{
	privaudit_reader *r = NULL;
	const privaudit_record *rec;
	privaudit_status st;
	size_t cap = 0;

	memset(rs, 0, sizeof(*rs));
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	if (sealed != NULL) {
		const privaudit_verify_report *rep = NULL;

		*sealed = 0;
		st = privaudit_reader_verify(r, vkey, &rep);
		if (st != PRIVAUDIT_OK)
			fail_msg("verify %s: %s", dir, rep ? rep->detail : privaudit_strerror(st));
	}
	while ((st = privaudit_reader_next(r, &rec)) == PRIVAUDIT_OK) {
		const void *entry;
		size_t len;
		pa_record *pr;

		privaudit_record_entry(rec, &entry, &len);
		assert_true(len > PA_ENTRY_INDEX);
		pr = pa_record_decode((const unsigned char *)entry + PA_ENTRY_INDEX,
				      len - PA_ENTRY_INDEX);
		assert_non_null(pr);
		if (!is_pam_record(pr)) {
			pa_record_free(pr);
			continue;
		}
		if (sealed != NULL)
			*sealed += privaudit_record_verified(rec) == 1;
		if (rs->n == cap) {
			cap = cap ? cap * 2 : 64;
			rs->r = realloc(rs->r, cap * sizeof(*rs->r));
			assert_non_null(rs->r);
		}
		rs->r[rs->n++] = pr;
	}
	if (st != PRIVAUDIT_E_END)
		fail_msg("reading %s: %s", dir, privaudit_reader_error(r));
	privaudit_reader_free(r);
}

static void load_records(const char *dir, recs *rs)
{
	load_records_sealed(dir, rs, NULL);
}

static size_t record_count(void)
{
	recs rs;
	size_t n;

	load_records(logdir, &rs);
	n = rs.n;
	recs_free(&rs);
	return n;
}

/* Records of kind body among rs->r[from..]. */
static size_t count_kind(const recs *rs, size_t from, Privaudit__Record__BodyCase body)
{
	size_t n = 0;

	for (size_t i = from; i < rs->n; i++)
		n += rs->r[i]->body_case == body;
	return n;
}

/* The k-th record of kind body from index from on; fails when absent. */
static const pa_record *nth_kind(const recs *rs, size_t from, Privaudit__Record__BodyCase body,
				 size_t k)
{
	for (size_t i = from; i < rs->n; i++)
		if (rs->r[i]->body_case == body && k-- == 0)
			return rs->r[i];
	fail_msg("no record of kind %d (number %zu) after index %zu", (int)body, k, from);
	return NULL;
}

static void assert_bytes(ProtobufCBinaryData b, const void *want, size_t len)
{
	if (b.len != len || (len > 0 && memcmp(b.data, want, len) != 0))
		fail_msg("stored %zu bytes, expected %zu bytes \"%.*s\"", b.len, len,
			 (int)(len > 80 ? 80 : len), (const char *)want);
}

static void assert_str(ProtobufCBinaryData b, const char *want)
{
	assert_bytes(b, want, strlen(want));
}

/* The log verifies against the key printed at init, by the library and by
 * the CLI when PRIVAUDIT names it. */

/* The log verifies against the key printed at init, by the library and by
 * the CLI when PRIVAUDIT names it, and nothing in it is left unsealed
 * (run once the daemon has stopped: SIGTERM seals). */
static void verify_log(void)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	const char *cli = getenv("PRIVAUDIT");

	assert_int_equal(privaudit_verifier_new(&v, logdir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_pin_key(v, vkey), PRIVAUDIT_OK);
	if (privaudit_verify_run(v, &rep) != PRIVAUDIT_OK || rep->status != PRIVAUDIT_OK)
		fail_msg("verify: %s", rep ? rep->detail : "no report");
	assert_int_equal(rep->pinned, 1);
	if (rep->unsealed != 0)
		fail_msg("%llu records unsealed after privauditd stopped",
			 (unsigned long long)rep->unsealed);
	privaudit_verifier_free(v);

	if (cli != NULL && cli[0] != '\0') {
		char key[TU_PATH_MAX];
		pid_t pid;
		int status;

		tu_path(key, logdir, PRIVAUDIT_PUBKEY_FILE);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0)
				dup2(null, 1);
			unsetenv("LD_PRELOAD");
			execl(cli, cli, "verify", logdir, "--key", key, (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s verify %s --key %s: status %d", cli, logdir, key, status);
	}
}

/* ------------------------------------------------------------ privauditd */

static pid_t daemon_pid = -1;

/* What the daemon said on standard error, for a failure message. */
static void show_daemon_err(void)
{
	char *err = (char *)tu_read(daemon_err, NULL);

	if (err != NULL)
		print_error("privauditd said:\n%s\n", err);
	free(err);
}

/* A socket of ours at path, listening (backlog < 0: bound, but nobody
 * listens: a stale socket); -1 when it cannot be made. */
static int unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int unix_connects(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* Start privauditd in the foreground on the log at dir and the test's
 * socket, as a child of this process, and wait until it takes
 * connections. */
static void daemon_start(const char *dir)
{
	pid_t pid;

	assert_int_equal(daemon_pid, -1);
	unlink(sockpath);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = open(daemon_err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* not left running when the test dies */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (err >= 0)
			dup2(err, 2);
		/* the daemon is neither under pam_wrapper nor under the
		 * sanitizer runtime preloaded for this program */
		unsetenv("LD_PRELOAD");
		unsetenv("PAM_WRAPPER");
		unsetenv("PAM_WRAPPER_SERVICE_DIR");
		execl(daemon_bin, daemon_bin, "--foreground", "--dir", dir, "--socket", sockpath,
		      "--config", daemon_conf, "--heartbeat", "3600", (char *)NULL);
		_exit(127);
	}
	daemon_pid = pid;
	for (int i = 0;; i++) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			daemon_pid = -1;
			show_daemon_err();
			fail_msg("%s exited at start (status %d)", daemon_bin, status);
		}
		if (unix_connects(sockpath))
			return;
		if (i == 2000) {
			show_daemon_err();
			fail_msg("%s took no connection on %s in 20 s", daemon_bin, sockpath);
		}
		usleep(10 * 1000);
	}
}

/* SIGTERM, as systemd stops it; its wait status (killed after 20 s). */
static int daemon_stop(void)
{
	pid_t pid = daemon_pid;
	int status = -1;

	if (pid < 0)
		return 0;
	daemon_pid = -1;
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (int i = 0; i < 2000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	show_daemon_err();
	fail_msg("privauditd did not exit within 20 s of SIGTERM");
	return status;
}

/* Stopped as systemd stops it, it exits 0 (having sealed the log). */
static void daemon_stop_ok(void)
{
	int status = daemon_stop();

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		show_daemon_err();
		fail_msg("privauditd exited with status %d on SIGTERM, expected 0", status);
	}
}

/* ------------------------------------------------------------ fixtures */

/* Open descriptors, umask and signal dispositions of this process. */
struct proc_state {
	int fds;
	mode_t umask;
	struct sigaction sa[NSIG];
};

static struct proc_state pristine;   /* before any PAM call */

static void capture_abandon(void);
static void proc_state(struct proc_state *ps);
static void assert_same_state(const struct proc_state *a, const struct proc_state *b,
			      const char *when);

static void fresh_log(void)
{
	tu_rmrf(logdir);
	memset(vkey, 0, sizeof(vkey));
	assert_int_equal(privaudit_init(logdir, "pam-test.example/privaudit", vkey, sizeof(vkey)),
			 PRIVAUDIT_OK);
	assert_true(vkey[0] != '\0');
}

/* Each test: a new log, and privauditd writing it. */
static int setup(void **state)
{
	(void)state;
	fresh_log();
	unlink(daemon_err);
	daemon_start(logdir);
	return 0;
}

static int teardown(void **state)
{
	char path[TU_PATH_MAX];
	struct proc_state now;

	(void)state;
	capture_abandon();
	/* a test that stopped the daemon started it again unless it failed */
	if (daemon_pid >= 0) {
		daemon_stop_ok();
		verify_log();
	}
	/* whatever a test did through PAM left the process as it found it */
	proc_state(&now);
	assert_same_state(&pristine, &now, "after the test");
	tu_rmrf(logdir);
	unlink(sockpath);
	unlink(tu_path(path, base, STALL_SOCK));
	unlink(tu_path(path, base, PEER_SOCK));
	return 0;
}

static int have_user(const char *name)
{
	return getpwnam(name) != NULL;
}

static void need_unpriv_users(void)
{
	if (!have_user(UNPRIV_USER) || !have_user(UNPRIV_USER2))
		skip();
}

/* The kernel boot id and this process's audit ids, as the module reads them. */
static void read_trimmed(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

static uint32_t read_audit_id(const char *path)
{
	char buf[32];

	read_trimmed(path, buf, sizeof(buf));
	return buf[0] ? (uint32_t)strtoul(buf, NULL, 10) : 4294967295u;
}

/* ------------------------------------------------------------ stdout/stderr */

struct capture {
	int saved[2];
	char path[2][TU_PATH_MAX];
};

static struct capture *capturing;   /* between capture_start and capture_end */

static void capture_start(struct capture *c)
{
	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(c->path[i], sizeof(c->path[i]), "%s/capture-%d", base, i + 1);
		fd = open(c->path[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		c->saved[i] = fcntl(i + 1, F_DUPFD_CLOEXEC, 10);
		assert_true(c->saved[i] >= 0);
		assert_int_equal(dup2(fd, i + 1), i + 1);
		close(fd);
	}
	capturing = c;
}

/* Restore stdout and stderr; what each received, malloc'd. */
static void capture_end(struct capture *c, char **out, char **err)
{
	char **dst[2] = {out, err};

	capturing = NULL;
	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dup2(c->saved[i], i + 1), i + 1);
		close(c->saved[i]);
		*dst[i] = (char *)tu_read(c->path[i], NULL);
		unlink(c->path[i]);
	}
}

/* A test that failed while capturing: its output back where it shows. */
static void capture_abandon(void)
{
	char *out, *err;

	if (capturing == NULL)
		return;
	capture_end(capturing, &out, &err);
	print_error("captured while the test failed:\n%s%s", out ? out : "", err ? err : "");
	free(out);
	free(err);
}

/* Every line of err was printed by pam_wrapper on the module's behalf
 * (pam_syslog), none by the module itself. */
static void assert_only_syslog(const char *err)
{
	const char *p = err;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, "PWRAP_", 6) != 0)
			fail_msg("the module wrote to stderr: %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}


/* ------------------------------------------------------------ a fake daemon */

/* The request flags of the wire protocol (privauditd/wire.h), as the
 * module must send them. */
#define WIRE_SYNC 0x1u
#define WIRE_SEAL 0x2u

/* One answer of a fake privauditd: the bytes sent back (a 4-byte
 * big-endian length first), or none at all (it hangs up). */
struct canned {
	unsigned char bytes[64];
	size_t len;
};

/* A well-formed answer: version, code, text. */
static struct canned answer(unsigned version, unsigned code, const char *text)
{
	struct canned c;
	size_t tl = strlen(text);

	assert_true(tl + 6 <= sizeof(c.bytes));
	memset(&c, 0, sizeof(c));
	c.bytes[3] = (unsigned char)(2 + tl);
	c.bytes[4] = (unsigned char)version;
	c.bytes[5] = (unsigned char)code;
	memcpy(c.bytes + 6, text, tl);
	c.len = 6 + tl;
	return c;
}

/* What a fake daemon saw of one request. */
struct seen {
	unsigned char version, flags;
	char kind[32];
};

static int read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A child that accepts n connections on lfd, reads each request whole,
 * writes what it was to report (when >= 0) and answers it with ans[i].
 * It exits 0 when all went so, and is killed after 20 s. */
static pid_t fake_daemon(int lfd, const struct canned *ans, size_t n, int report)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	alarm(20);
	for (size_t i = 0; i < n; i++) {
		unsigned char hdr[4], *body;
		struct seen s;
		uint32_t len;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0 || read_full(fd, hdr, 4) < 0)
			_exit(2);
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (len < 3 || len > (1u << 20))
			_exit(3);
		body = malloc(len);
		if (body == NULL || read_full(fd, body, len) < 0)
			_exit(4);
		memset(&s, 0, sizeof(s));
		s.version = body[0];
		s.flags = body[1];
		if (body[2] >= sizeof(s.kind) || 3u + body[2] > len)
			_exit(5);
		memcpy(s.kind, body + 3, body[2]);
		free(body);
		if (report >= 0 && write(report, &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(6);
		if (ans[i].len > 0 &&
		    send(fd, ans[i].bytes, ans[i].len, MSG_NOSIGNAL) != (ssize_t)ans[i].len)
			_exit(7);
		close(fd);
	}
	_exit(0);
}

static void fake_daemon_done(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the fake daemon did not see every request it expected (status %d)", status);
}

/* ------------------------------------------------------------ tests */

/* A session for root through the stack is recorded at open and at close,
 * with the PAM items, the process and audit ids, and one session key. */
static void test_open_close(void **state)
{
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	const Privaudit__SessionOpen *so;
	const Privaudit__SessionClose *sc;
	const pa_record *ro, *rc;
	char boot[64], key[128];
	uint32_t auid = read_audit_id("/proc/self/loginuid");
	uint32_t ses = read_audit_id("/proc/self/sessionid");
	struct timespec now;
	size_t n0 = record_count();
	recs rs;

	(void)state;
	RUN("pa_basic", "root", tc);
	clock_gettime(CLOCK_REALTIME, &now);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 2);
	assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
	assert_int_equal(rs.r[n0 + 1]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE);
	ro = rs.r[n0];
	rc = rs.r[n0 + 1];
	so = ro->session_open;
	sc = rc->session_close;

	assert_str(so->service, "pa_basic");
	assert_str(so->user, "root");
	/* items nobody set are absent, not empty strings from nowhere */
	assert_int_equal(so->ruser.len, 0);
	assert_int_equal(so->rhost.len, 0);
	assert_int_equal(so->tty.len, 0);
	assert_int_equal(so->pid, (uint32_t)getpid());
	assert_int_equal(so->uid, (uint32_t)getuid());
	assert_int_equal(so->euid, (uint32_t)geteuid());
	assert_int_equal(so->auid, auid);
	assert_int_equal(so->ses, ses);
	assert_int_equal(so->result, PAM_SUCCESS);
	read_trimmed("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	assert_true(boot[0] != '\0');
	assert_str(so->boot_id, boot);
	if (auid != 4294967295u) {
		struct passwd *pw = getpwuid(auid);

		if (pw != NULL)
			assert_str(so->login_user, pw->pw_name);
	} else {
		assert_int_equal(so->login_user.len, 0);
	}
	/* written by privauditd, which stamped who asked: this process */
	assert_int_equal(ro->writer_pid, (uint32_t)daemon_pid);
	assert_int_equal(so->peer_pid, (uint32_t)getpid());
	assert_int_equal(so->peer_uid, (uint32_t)getuid());
	assert_int_equal(so->peer_gid, (uint32_t)getgid());
	assert_true(ro->time_ns <= (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
	assert_true(ro->time_ns + 60 * 1000000000ull > (uint64_t)now.tv_sec * 1000000000u);

	/* the session key: boot id and audit session, or a random id */
	assert_true(ro->session_key.len > 0 && ro->session_key.len < sizeof(key));
	memcpy(key, ro->session_key.data, ro->session_key.len);
	key[ro->session_key.len] = '\0';
	if (ses != 4294967295u) {
		char want[128];

		snprintf(want, sizeof(want), "%s:%u", boot, ses);
		assert_string_equal(key, want);
	} else {
		assert_int_equal(strlen(key), 7 + 32);
		assert_memory_equal(key, "random:", 7);
		assert_int_equal(strspn(key + 7, "0123456789abcdef"), 32);
	}

	/* close: same session, its duration */
	assert_bytes(rc->session_key, ro->session_key.data, ro->session_key.len);
	assert_str(sc->service, "pa_basic");
	assert_str(sc->user, "root");
	assert_int_equal(sc->pid, (uint32_t)getpid());
	assert_int_equal(rc->writer_pid, (uint32_t)daemon_pid);
	assert_int_equal(sc->peer_pid, (uint32_t)getpid());
	assert_int_equal(sc->peer_uid, (uint32_t)getuid());
	assert_int_equal(sc->peer_gid, (uint32_t)getgid());
	assert_int_equal(sc->result, PAM_SUCCESS);
	assert_true(sc->duration_ns > 0);
	assert_true(sc->duration_ns < 60 * 1000000000ull);
	assert_true(rc->time_ns >= ro->time_ns);
	recs_free(&rs);

	/* a second session gets its own record pair (and, without an audit
	 * session, its own random key) */
	RUN("pa_basic", "root", tc);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 4);
	assert_int_equal(count_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_SESSION_OPEN), 2);
	assert_int_equal(count_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE), 2);
	assert_bytes(rs.r[n0 + 3]->session_key, rs.r[n0 + 2]->session_key.data,
		     rs.r[n0 + 2]->session_key.len);
	if (ses == 4294967295u)
		assert_false(rs.r[n0 + 2]->session_key.len == rs.r[n0]->session_key.len &&
			     memcmp(rs.r[n0 + 2]->session_key.data, rs.r[n0]->session_key.data,
				    rs.r[n0]->session_key.len) == 0);
	recs_free(&rs);
}

/* Targets that are not privileged by default: the module returns
 * PAM_IGNORE (a stack of it alone fails) and records nothing; a NULL user
 * likewise. */
static void test_not_privileged(void **state)
{
	static const char *const users[] = {UNPRIV_USER, UNPRIV_USER2, NULL};
	size_t n0 = record_count();

	(void)state;
	need_unpriv_users();
	for (size_t i = 0; i < 3; i++) {
		const char *u = users[i];

		assert_int_equal(run_one("pa_alone", u, PAMTEST_OPEN_SESSION), ALL_IGNORED);
		assert_int_equal(run_one("pa_alone", u, PAMTEST_CLOSE_SESSION), ALL_IGNORED);
		assert_int_equal(run_one("pa_alone", u, PAMTEST_AUTHENTICATE), ALL_IGNORED);
		assert_int_equal(run_one("pa_alone", u, PAMTEST_ACCOUNT), ALL_IGNORED);
	}
	/* and through a whole stack, which goes on as if the module were absent */
	{
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
		};

		RUN("pa_basic", UNPRIV_USER, tc);
	}
	assert_int_equal(record_count(), n0);
	/* root through the same stack alone: PAM_SUCCESS from the module */
	assert_int_equal(run_one("pa_alone", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	assert_int_equal(record_count(), n0 + 1);
}

/* users=, groups=, services=, uid_min=: who counts as privileged. */
static void expect_recorded(const char *svc, const char *user, int recorded)
{
	size_t n0 = record_count();
	int rv = run_one(svc, user, PAMTEST_OPEN_SESSION);

	if (recorded) {
		recs rs;

		if (rv != PAM_SUCCESS)
			fail_msg("%s for %s: open returned %d, expected a recorded session", svc, user, rv);
		load_records(logdir, &rs);
		assert_int_equal(rs.n, n0 + 1);
		assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
		assert_str(rs.r[n0]->session_open->service, svc);
		assert_str(rs.r[n0]->session_open->user, user);
		recs_free(&rs);
	} else {
		if (rv != ALL_IGNORED)
			fail_msg("%s for %s: open returned %d, expected PAM_IGNORE (stack %d)", svc, user,
				 rv, ALL_IGNORED);
		assert_int_equal(record_count(), n0);
	}
}

static void test_users(void **state)
{
	(void)state;
	need_unpriv_users();
	expect_recorded("pa_users", UNPRIV_USER, 1);
	expect_recorded("pa_users", UNPRIV_USER2, 0);
	expect_recorded("pa_users", "root", 1);       /* uid 0 always counts */
}

static void test_groups(void **state)
{
	(void)state;
	need_unpriv_users();
	expect_recorded("pa_groups", UNPRIV_USER, 1); /* its primary group is listed */
	expect_recorded("pa_groups", UNPRIV_USER2, 0);
	expect_recorded("pa_groups", "root", 1);
	/* empty lists: only uid 0 */
	expect_recorded("pa_nogroups", UNPRIV_USER, 0);
	expect_recorded("pa_nogroups", "root", 1);
}

static void test_services(void **state)
{
	(void)state;
	expect_recorded("pa_services_in", "root", 1);
	/* "pa_services" is a prefix of neither: whole names only */
	expect_recorded("pa_services_out", "root", 0);
}

static void test_uid_min(void **state)
{
	(void)state;
	need_unpriv_users();
	if (getpwnam(UNPRIV_USER)->pw_uid < 1000 || getpwnam(UNPRIV_USER)->pw_uid >= 70000 ||
	    getpwnam(UNPRIV_USER2)->pw_uid >= 1000)
		skip();
	expect_recorded("pa_uid_min", UNPRIV_USER, 1);
	expect_recorded("pa_uid_min", UNPRIV_USER2, 0);
	expect_recorded("pa_uid_min_high", UNPRIV_USER, 0);
	/* a malformed value is ignored, not read as a prefix */
	expect_recorded("pa_uid_min_bad", UNPRIV_USER, 0);
	expect_recorded("pa_uid_min_bad", "root", 1);
}

/* Ways the daemon can be out of reach or of use. */
enum outage { OUT_STOPPED, OUT_STALE_SOCKET, OUT_NOT_A_SOCKET, OUT_NO_LOG };

static const char *const outage_name[] = {
	"daemon stopped", "stale socket, nobody listening", "socket path is a plain file",
	"daemon running without a usable log"};

static void outage_begin(enum outage o, const char *other)
{
	int fd;

	switch (o) {
	case OUT_STOPPED:
		/* the daemon took its socket away when it stopped */
		assert_int_equal(access(sockpath, F_OK), -1);
		break;
	case OUT_STALE_SOCKET:
		fd = unix_listen(sockpath, -1);
		assert_true(fd >= 0);
		close(fd);
		break;
	case OUT_NOT_A_SOCKET:
		tu_write(sockpath, "not a socket\n", 13);
		break;
	case OUT_NO_LOG:
		tu_rmrf(other);
		assert_int_equal(mkdir(other, 0700), 0);
		daemon_start(other);
		break;
	}
}

static void outage_end(enum outage o, const char *other)
{
	int status;

	switch (o) {
	case OUT_STOPPED:
	case OUT_STALE_SOCKET:
	case OUT_NOT_A_SOCKET:
		unlink(sockpath);
		break;
	case OUT_NO_LOG:
		/* it has nothing to seal: any exit will do, not a crash */
		status = daemon_stop();
		if (!WIFEXITED(status))
			fail_msg("privauditd without a log: wait status %d on SIGTERM", status);
		tu_rmrf(other);
		break;
	}
}

/* failmode=closed refuses the session when it cannot be recorded,
 * failmode=open lets it through; auth and account never change outcome;
 * either way the module says why in syslog and nothing on the terminal. */
static void test_failmodes(void **state)
{
	char other[TU_PATH_MAX];

	(void)state;
	tu_path(other, base, "not-a-log");
	daemon_stop_ok();
	for (int o = OUT_STOPPED; o <= OUT_NO_LOG; o++) {
		struct pam_testcase closed[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
			pam_test(PAMTEST_OPEN_SESSION, REFUSED),
		};
		struct pam_testcase open_[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
			pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
		};
		struct capture cap;
		char *out, *err;

		print_message("%s\n", outage_name[o]);
		outage_begin((enum outage)o, other);
		capture_start(&cap);
		RUN("pa_fail_closed", "root", closed);
		RUN("pa_fail_open", "root", open_);
		capture_end(&cap, &out, &err);
		outage_end((enum outage)o, other);
		assert_string_equal(out, "");
		assert_only_syslog(err);
		if (strstr(err, "cannot record session open") == NULL)
			fail_msg("%s: the module did not say why in syslog:\n%s", outage_name[o], err);
		free(out);
		free(err);
	}
	/* nothing went anywhere meanwhile, and the daemon back on its log
	 * records everything under the same services */
	daemon_start(logdir);
	assert_int_equal(record_count(), 0);
	{
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
			pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
		};
		recs rs;

		RUN("pa_fail_closed", "root", tc);
		load_records(logdir, &rs);
		assert_int_equal(rs.n, 4);
		assert_int_equal(count_kind(&rs, 0, PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT), 2);
		assert_int_equal(count_kind(&rs, 0, PRIVAUDIT__RECORD__BODY_SESSION_OPEN), 1);
		assert_int_equal(count_kind(&rs, 0, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE), 1);
		recs_free(&rs);
	}
}

/* The daemon goes away while the session is open: closing it is refused
 * with failmode=closed and allowed with failmode=open. */
static void test_failmode_at_close(void **state)
{
	static const char *const svc[] = {"pa_fail_closed", "pa_fail_open"};

	(void)state;
	for (int i = 0; i < 2; i++) {
		pam_handle_t *ph;
		size_t n0 = record_count();
		recs rs;

		ph = open_keep(svc[i], "root", PAM_SUCCESS);
		daemon_stop_ok();
		close_keep(ph, i == 0 ? REFUSED : PAM_SUCCESS);
		daemon_start(logdir);
		load_records(logdir, &rs);
		assert_int_equal(rs.n, n0 + 1);
		assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
		recs_free(&rs);
	}
}

/* A 64 KiB rhost, newlines and ANSI escapes in tty and ruser, invalid
 * UTF-8: stored byte for byte in every record that holds them. */
static void test_hostile_items(void **state)
{
	static const char tty[] = "pts/0\n\x1b[2J\x1b]0;owned\x07\r\x1b[31mred";
	static const char ruser[] = "\xff\xfe\xc3(\xed\xa0\x80\xc0\xaf root\nFAKE LINE\x1b[0m";
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	char *rhost = malloc(HUGE_LEN + 1);
	size_t n0 = record_count();
	const pa_record *r;
	recs rs;

	(void)state;
	assert_non_null(rhost);
	for (size_t i = 0; i < HUGE_LEN; i++)
		rhost[i] = (char)(1 + (i * 7) % 255);   /* every byte value but NUL */
	rhost[HUGE_LEN] = '\0';
	assert_int_equal(setenv("PAM_RHOST", rhost, 1), 0);
	assert_int_equal(setenv("PAM_TTY", tty, 1), 0);
	assert_int_equal(setenv("PAM_RUSER", ruser, 1), 0);
	RUN("pa_items", "root", tc);
	unsetenv("PAM_RHOST");
	unsetenv("PAM_TTY");
	unsetenv("PAM_RUSER");

	load_records(logdir, &rs);
	assert_int_equal(count_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT), 2);
	assert_int_equal(count_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_SESSION_OPEN), 1);
	assert_int_equal(count_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE), 1);
	for (size_t k = 0; k < 2; k++) {
		r = nth_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT, k);
		assert_bytes(r->auth_attempt->rhost, rhost, HUGE_LEN);
		assert_bytes(r->auth_attempt->tty, tty, sizeof(tty) - 1);
		assert_bytes(r->auth_attempt->ruser, ruser, sizeof(ruser) - 1);
	}
	r = nth_kind(&rs, n0, PRIVAUDIT__RECORD__BODY_SESSION_OPEN, 0);
	assert_bytes(r->session_open->rhost, rhost, HUGE_LEN);
	assert_bytes(r->session_open->tty, tty, sizeof(tty) - 1);
	assert_bytes(r->session_open->ruser, ruser, sizeof(ruser) - 1);
	assert_str(r->session_open->user, "root");
	recs_free(&rs);
	free(rhost);
}

/* A NULL user, and a 64 KiB user name full of control bytes that no
 * account has: ignored without a crash or a record. */
static void test_hostile_user(void **state)
{
	char *user = malloc(HUGE_LEN + 1);
	size_t n0 = record_count();

	(void)state;
	assert_non_null(user);
	for (size_t i = 0; i < HUGE_LEN; i++)
		user[i] = (char)(1 + (i * 13) % 255);
	user[HUGE_LEN] = '\0';
	assert_int_equal(run_one("pa_alone", NULL, PAMTEST_OPEN_SESSION), ALL_IGNORED);
	assert_int_equal(run_one("pa_alone", NULL, PAMTEST_AUTHENTICATE), ALL_IGNORED);
	assert_int_equal(run_one("pa_alone", "", PAMTEST_OPEN_SESSION), ALL_IGNORED);
	assert_int_equal(run_one("pa_alone", user, PAMTEST_OPEN_SESSION), ALL_IGNORED);
	assert_int_equal(setenv("PAM_USER", user, 1), 0);
	{
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),   /* pam_set_items said so */
		};

		/* set by pam_set_items.so in the stack, over "root" */
		RUN("pa_items", "root", tc);
	}
	unsetenv("PAM_USER");
	assert_int_equal(record_count(), n0);
	free(user);
}


static void proc_state(struct proc_state *ps)
{
	ps->fds = tu_count_fds();
	ps->umask = umask(022);
	umask(ps->umask);
	memset(ps->sa, 0, sizeof(ps->sa));
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, NULL, &ps->sa[s]);
}

static void assert_same_state(const struct proc_state *a, const struct proc_state *b,
			      const char *when)
{
	if (a->fds != b->fds) {
		for (int fd = 0; fd < 1024; fd++) {
			char link[64], target[TU_PATH_MAX];
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			n = readlink(link, target, sizeof(target) - 1);
			if (n >= 0)
				print_error("fd %d -> %.*s\n", fd, (int)n, target);
		}
		fail_msg("%s: %d descriptors open, %d before", when, b->fds, a->fds);
	}
	assert_int_equal(a->umask, b->umask);
	for (int s = 1; s < NSIG; s++)
		if (a->sa[s].sa_handler != b->sa[s].sa_handler || a->sa[s].sa_flags != b->sa[s].sa_flags)
			fail_msg("%s: signal %d disposition changed", when, s);
}

/* Nothing stays open in the host process, during or after a session, on
 * success or failure, and no umask or signal handler changes. */
static void test_process_state(void **state)
{
	struct proc_state before, now;
	char stall[TU_PATH_MAX];
	pam_handle_t *ph;
	int lfd;

	(void)state;
	proc_state(&before);
	ph = open_keep("pa_basic", "root", PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "session open");
	close_keep(ph, PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "session closed");

	{
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
			pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
			pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
			pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
		};

		for (int i = 0; i < 20; i++)
			RUN("pa_basic", "root", tc);
	}
	assert_int_equal(run_one("pa_seal", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "after 20 sessions");
	assert_int_equal(record_count(), 2 + 20 * 4 + 1);

	/* failures: the daemon down */
	daemon_stop_ok();
	assert_int_equal(run_one("pa_fail_closed", "root", PAMTEST_OPEN_SESSION), REFUSED);
	assert_int_equal(run_one("pa_fail_open", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	assert_int_equal(run_one("pa_fail_closed", "root", PAMTEST_AUTHENTICATE), PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "with the daemon down");

	/* a daemon that never answers: the wait ends, the socket is closed */
	lfd = unix_listen(tu_path(stall, base, STALL_SOCK), 8);
	assert_true(lfd >= 0);
	proc_state(&before);
	assert_int_equal(run_one("pa_stall_closed", "root", PAMTEST_OPEN_SESSION), REFUSED);
	assert_int_equal(run_one("pa_stall_open", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "after a daemon that never answered");
	close(lfd);
	unlink(stall);
	daemon_start(logdir);
}

/* One pam_open_session in a child, so that a module that blocks cannot
 * hang the test: its return code, or -1 when it took over limit_ms (the
 * child is then killed).  *ms gets the time it took. */
static int timed_open(const char *svc, const char *user, int limit_ms, double *ms)
{
	struct timespec t0, t1;
	struct pollfd pfd;
	int p[2], rv = -1, status;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pam_testcase tc[] = {pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS)};
		struct pamtest_conv_data conv;

		close(p[0]);
		memset(&conv, 0, sizeof(conv));
		(void)run_pamtest(svc, user, &conv, tc, NULL);
		if (write(p[1], &tc[0].op_rv, sizeof(tc[0].op_rv)) != (ssize_t)sizeof(tc[0].op_rv))
			_exit(2);
		exit(0);   /* pam_wrapper's destructor removes the child's copy of the services */
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, limit_ms) == 1 && read(p[0], &rv, sizeof(rv)) == (ssize_t)sizeof(rv)) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(waitpid(pid, &status, 0), pid);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		rv = -1;
	}
	close(p[0]);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return rv;
}

/* A daemon that takes the connection and never answers (here: a socket
 * that listens and never accepts, so the request sits in its buffers):
 * pam_open_session gives up after lock_timeout=200, with the failmode
 * applied, and nothing is recorded anywhere. */
static void test_daemon_stalls(void **state)
{
	static const struct {
		const char *svc;
		int expect;
	} cases[] = {
		{"pa_stall_closed", REFUSED},
		{"pa_stall_open", PAM_SUCCESS},
	};
	char stall[TU_PATH_MAX];
	size_t n0 = record_count();
	int lfd;

	(void)state;
	lfd = unix_listen(tu_path(stall, base, STALL_SOCK), 8);
	assert_true(lfd >= 0);
	for (size_t i = 0; i < 2; i++) {
		double ms;
		int rv = timed_open(cases[i].svc, "root", 5000, &ms);

		print_message("%s with a silent daemon: %d after %.0f ms\n", cases[i].svc, rv, ms);
		if (rv < 0)
			fail_msg("%s: pam_open_session still blocked after %.0f ms with lock_timeout=200",
				 cases[i].svc, ms);
		if (rv != cases[i].expect)
			fail_msg("%s: returned %d (%s), expected %d", cases[i].svc, rv,
				 pam_strerror(NULL, rv), cases[i].expect);
		if (ms > 1000)
			fail_msg("%s: took %.0f ms with lock_timeout=200", cases[i].svc, ms);
		assert_true(ms >= 150);   /* it did wait for the answer */
	}
	close(lfd);
	unlink(stall);
	assert_int_equal(record_count(), n0);
}

/* A daemon that answers, but not "recorded": an error code, a garbled or
 * foreign answer, a hang-up.  Each is a failure to record: refused with
 * failmode=closed, let through with failmode=open, said in syslog only. */
static void test_daemon_errors(void **state)
{
	static const struct {
		const char *what;
		unsigned version, code;
		const char *text;
	} kinds[] = {
		{"failed", 1, 4, "log on fire"},
		{"refused", 1, 3, "not you"},
		{"malformed", 1, 1, ""},
		{"an unknown code", 1, 77, ""},
		{"\"recorded\" in another version", 9, 0, ""},
		{"an answer too short", 0, 0, NULL},
		{"a hang-up", 0, 0, NULL},
	};
	enum { NK = sizeof(kinds) / sizeof(kinds[0]) };
	struct canned ans[2 * NK];
	struct proc_state before, now;
	char peer[TU_PATH_MAX];
	size_t n0 = record_count();
	pid_t pid;
	int lfd;

	(void)state;
	memset(ans, 0, sizeof(ans));
	for (size_t k = 0; k < NK; k++) {
		struct canned c;

		if (kinds[k].text != NULL) {
			c = answer(kinds[k].version, kinds[k].code, kinds[k].text);
		} else if (strcmp(kinds[k].what, "an answer too short") == 0) {
			memset(&c, 0, sizeof(c));
			c.bytes[3] = 1;    /* a body of one byte: no code */
			c.bytes[4] = 1;
			c.len = 5;
		} else {
			memset(&c, 0, sizeof(c));   /* nothing: hang up */
		}
		ans[2 * k] = ans[2 * k + 1] = c;
	}
	lfd = unix_listen(tu_path(peer, base, PEER_SOCK), 16);
	assert_true(lfd >= 0);
	pid = fake_daemon(lfd, ans, 2 * NK, -1);
	close(lfd);
	proc_state(&before);
	for (size_t k = 0; k < NK; k++) {
		struct capture cap;
		char *out, *err;
		int rc_closed, rc_open;

		capture_start(&cap);
		rc_closed = run_one("pa_peer_closed", "root", PAMTEST_OPEN_SESSION);
		rc_open = run_one("pa_peer_open", "root", PAMTEST_OPEN_SESSION);
		capture_end(&cap, &out, &err);
		print_message("daemon answers %s: closed %d, open %d\n", kinds[k].what, rc_closed,
			      rc_open);
		if (rc_closed != REFUSED || rc_open != PAM_SUCCESS)
			fail_msg("daemon answers %s: failmode=closed gave %d, failmode=open %d; "
				 "expected %d and %d; syslog said:\n%s",
				 kinds[k].what, rc_closed, rc_open, REFUSED, PAM_SUCCESS, err);
		assert_string_equal(out, "");
		assert_only_syslog(err);
		if (strstr(err, "cannot record session open") == NULL)
			fail_msg("daemon answers %s: not said in syslog:\n%s", kinds[k].what, err);
		/* the daemon's reason reaches the administrator */
		if (kinds[k].text != NULL && kinds[k].text[0] != '\0' && kinds[k].version == 1 &&
		    strstr(err, kinds[k].text) == NULL)
			fail_msg("daemon answers %s: its text is not in syslog:\n%s", kinds[k].what,
				 err);
		free(out);
		free(err);
	}
	proc_state(&now);
	assert_same_state(&before, &now, "after the fake daemon's answers");
	fake_daemon_done(pid);
	unlink(peer);
	assert_int_equal(record_count(), n0);
}

/* Unknown and malformed arguments go to syslog and are ignored; dir= (the
 * log is privauditd's now) likewise; the module prints nothing of its own. */
static void test_unknown_argument(void **state)
{
	static const char *const expected[] = {
		"unknown argument ignored: bogus_arg=1",
		"bad argument ignored: lock_timeout=soon",
		"bad argument ignored: uid_min=-3",
		"unknown argument ignored: sync=maybe",
		"dir= is ignored",
	};
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	struct capture cap;
	char *out, *err, elsewhere[TU_PATH_MAX];
	size_t n0 = record_count();

	(void)state;
	/* pam_wrapper shows LOG_WARNING from level 1 */
	assert_int_equal(setenv("PAM_WRAPPER_DEBUGLEVEL", "1", 1), 0);
	capture_start(&cap);
	RUN("pa_unknown", "root", tc);
	capture_end(&cap, &out, &err);
	unsetenv("PAM_WRAPPER_DEBUGLEVEL");
	assert_string_equal(out, "");
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (strstr(err, expected[i]) == NULL)
			fail_msg("not logged: \"%s\"; the log said:\n%s", expected[i], err);
	assert_only_syslog(err);
	free(out);
	free(err);
	/* recorded through the daemon, into its log, and nothing made at dir= */
	assert_int_equal(record_count(), n0 + 2);
	assert_int_equal(access(tu_path(elsewhere, base, "elsewhere"), F_OK), -1);
}

/* debug: says what it did (at LOG_DEBUG), silent otherwise. */
static void test_debug(void **state)
{
	struct capture cap;
	char *out, *err;

	(void)state;
	need_unpriv_users();
	assert_int_equal(setenv("PAM_WRAPPER_DEBUGLEVEL", "2", 1), 0);
	capture_start(&cap);
	assert_int_equal(run_one("pa_debug", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	assert_int_equal(run_one("pa_debug", UNPRIV_USER, PAMTEST_OPEN_SESSION), ALL_IGNORED);
	assert_int_equal(run_one("pa_basic", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	capture_end(&cap, &out, &err);
	unsetenv("PAM_WRAPPER_DEBUGLEVEL");
	assert_string_equal(out, "");
	if (strstr(err, "recorded through ") == NULL || strstr(err, sockpath) == NULL)
		fail_msg("debug did not say where the session was recorded:\n%s", err);
	if (strstr(err, "non-privileged target: not recorded") == NULL)
		fail_msg("debug did not say why a session was not recorded:\n%s", err);
	/* only the debug service said so */
	{
		const char *first = strstr(err, "recorded through ");

		assert_null(strstr(first + 1, "recorded through "));
	}
	assert_only_syslog(err);
	free(out);
	free(err);
}

/* When pam_open_session returns, the open record is in the log for any
 * reader, with sync=yes (the default) and with sync=no; and likewise the
 * close record when pam_close_session returns.  What sync= changes is only
 * what the module asks of the daemon: durable before the answer or not
 * (kill -9 of the daemon and crash recovery are tests of their own), which
 * a fake daemon sees in each request's flags: sync only on the open record
 * (pam_privaudit(8): the close is answered once written), seal on both when
 * asked. */
static void test_sync(void **state)
{
	static const char *const svcs[] = {"pa_basic", "pa_sync_yes", "pa_sync_no"};
	static const struct {
		const char *svc;
		enum pamtest_ops op;
		const char *kind;
		unsigned flags;
	} wire[] = {
		{"pa_peer_sync_yes", PAMTEST_OPEN_SESSION, "session_open", WIRE_SYNC},
		{"pa_peer_sync_yes", PAMTEST_CLOSE_SESSION, "session_close", 0},
		{"pa_peer_sync_no", PAMTEST_OPEN_SESSION, "session_open", 0},
		{"pa_peer_sync_no", PAMTEST_CLOSE_SESSION, "session_close", 0},
		{"pa_peer_seal", PAMTEST_OPEN_SESSION, "session_open", WIRE_SEAL},
		{"pa_peer_seal", PAMTEST_CLOSE_SESSION, "session_close", WIRE_SEAL},
		{"pa_peer_closed", PAMTEST_OPEN_SESSION, "session_open", WIRE_SYNC},
		{"pa_peer_auth", PAMTEST_AUTHENTICATE, "auth_attempt", 0},
	};
	enum { NW = sizeof(wire) / sizeof(wire[0]) };
	struct canned ok[NW];
	char peer[TU_PATH_MAX];
	pid_t pid;
	int lfd, p[2];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t n0 = record_count();
		pam_handle_t *ph;
		recs rs;

		ph = open_keep(svcs[i], "root", PAM_SUCCESS);
		load_records(logdir, &rs);
		if (rs.n != n0 + 1)
			fail_msg("%s: pam_open_session returned before its record was in the log",
				 svcs[i]);
		assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
		assert_str(rs.r[n0]->session_open->service, svcs[i]);
		recs_free(&rs);
		close_keep(ph, PAM_SUCCESS);
		load_records(logdir, &rs);
		if (rs.n != n0 + 2)
			fail_msg("%s: pam_close_session returned before its record was in the log",
				 svcs[i]);
		assert_int_equal(rs.r[n0 + 1]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE);
		recs_free(&rs);
	}

	for (size_t i = 0; i < NW; i++)
		ok[i] = answer(1, 0, "");
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	lfd = unix_listen(tu_path(peer, base, PEER_SOCK), 16);
	assert_true(lfd >= 0);
	pid = fake_daemon(lfd, ok, NW, p[1]);
	close(lfd);
	close(p[1]);
	for (size_t i = 0; i < NW; i++) {
		struct seen s;

		if (wire[i].op == PAMTEST_OPEN_SESSION && i + 1 < NW &&
		    wire[i + 1].op == PAMTEST_CLOSE_SESSION) {
			struct pam_testcase tc[] = {
				pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
				pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
			};

			RUN(wire[i].svc, "root", tc);
		} else if (wire[i].op != PAMTEST_CLOSE_SESSION) {
			int rv = run_one(wire[i].svc, "root", wire[i].op);

			assert_int_equal(rv, wire[i].op == PAMTEST_OPEN_SESSION ? PAM_SUCCESS
										 : ALL_IGNORED);
		}
		assert_int_equal(read_full(p[0], &s, sizeof(s)), 0);
		assert_int_equal(s.version, 1);
		assert_string_equal(s.kind, wire[i].kind);
		if (s.flags != wire[i].flags)
			fail_msg("%s, %s: request flags 0x%x, expected 0x%x", wire[i].svc, wire[i].kind,
				 s.flags, wire[i].flags);
	}
	close(p[0]);
	fake_daemon_done(pid);
	unlink(peer);
}

/* seal: when pam_open_session returns, a signed checkpoint covers the
 * record (and every one before it), as the library's verifier finds; a
 * session without it is sealed by the daemon soon after it closes. */
static void test_seal(void **state)
{
	pam_handle_t *ph;
	size_t sealed;
	recs rs;

	(void)state;
	ph = open_keep("pa_basic", "root", PAM_SUCCESS);
	load_records_sealed(logdir, &rs, &sealed);
	assert_int_equal(rs.n, 1);
	/* written, not sealed: what seal changes can be seen */
	assert_int_equal(sealed, 0);
	recs_free(&rs);

	assert_int_equal(run_one("pa_seal", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	load_records_sealed(logdir, &rs, &sealed);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[1]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
	assert_str(rs.r[1]->session_open->service, "pa_seal");
	if (sealed != 2)
		fail_msg("seal: %zu of the 2 session records sealed when the hook returned", sealed);
	recs_free(&rs);

	close_keep(ph, PAM_SUCCESS);
	for (int i = 0;; i++) {
		load_records_sealed(logdir, &rs, &sealed);
		recs_free(&rs);
		if (sealed == 3)
			break;
		if (i == 100)
			fail_msg("a session close still unsealed 5 s later (%zu of 3 sealed)", sealed);
		usleep(50 * 1000);
	}
}

/* The kernel's TTY auditing state of this process, as pam_tty_audit reads
 * it; -1 when the audit netlink socket is not usable here. */
static int tty_audit_get(struct audit_tty_status *out)
{
	struct {
		struct nlmsghdr h;
	} req;
	union {
		struct nlmsghdr h;
		char buf[8192];
	} rep;
	struct sockaddr_nl addr;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT), rc = -1;

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(0);
	req.h.nlmsg_type = AUDIT_TTY_GET;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = 7;
	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto out;
	for (int i = 0; i < 4; i++) {
		ssize_t n = recv(fd, &rep, sizeof(rep), 0);

		if (n < 0 || !NLMSG_OK(&rep.h, (size_t)n))
			goto out;
		if (rep.h.nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(&rep.h);

			if (e->error != 0)
				goto out;
			continue;
		}
		if (rep.h.nlmsg_type == AUDIT_TTY_GET &&
		    rep.h.nlmsg_len >= NLMSG_LENGTH(sizeof(*out))) {
			memcpy(out, NLMSG_DATA(&rep.h), sizeof(*out));
			rc = 0;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* tty_audit turns TTY input auditing on for the session (log_passwd as
 * asked) and puts back what was there at close; where the kernel refuses,
 * the session still goes on and is recorded. */
static void test_tty_audit(void **state)
{
	static const struct {
		const char *svc;
		unsigned log_passwd;
	} cases[] = {{"pa_tty", 1}, {"pa_tty_nopasswd", 0}};
	struct audit_tty_status before, during, after;
	int have_audit = tty_audit_get(&before) == 0;

	(void)state;
	if (!have_audit)
		print_message("no audit netlink here: only checking that sessions go on\n");
	for (size_t i = 0; i < 2; i++) {
		size_t n0 = record_count();
		pam_handle_t *ph = open_keep(cases[i].svc, "root", PAM_SUCCESS);

		if (have_audit) {
			assert_int_equal(tty_audit_get(&during), 0);
			assert_int_equal(during.enabled, 1);
			assert_int_equal(during.log_passwd, cases[i].log_passwd);
		}
		close_keep(ph, PAM_SUCCESS);
		if (have_audit) {
			assert_int_equal(tty_audit_get(&after), 0);
			assert_int_equal(after.enabled, before.enabled);
			assert_int_equal(after.log_passwd, before.log_passwd);
		}
		assert_int_equal(record_count(), n0 + 2);
	}
}

/* auth and account: the attempt is recorded (authfail/authsucc say which
 * way it went) and the stack's outcome is the one it has without us. */
static void check_attempt(const pa_record *r, const char *svc, const char *phase, int result,
			  int success)
{
	const Privaudit__AuthAttempt *a = r->auth_attempt;

	assert_non_null(a);
	assert_str(a->service, svc);
	assert_str(a->user, "root");
	assert_string_equal(a->phase, phase);
	assert_int_equal(a->result, result);
	assert_int_equal(a->success, success);
	assert_int_equal(a->uid, (uint32_t)getuid());
	assert_int_equal(a->auid, read_audit_id("/proc/self/loginuid"));
	assert_int_equal(a->ses, read_audit_id("/proc/self/sessionid"));
	assert_int_equal(a->peer_pid, (uint32_t)getpid());
	assert_int_equal(a->peer_uid, (uint32_t)getuid());
	assert_int_equal(a->peer_gid, (uint32_t)getgid());
}

static void test_auth_hooks(void **state)
{
	int ref_auth, ref_acct;
	size_t n0 = record_count();
	recs rs;

	(void)state;
	/* alone in the stack, the module ignores: PAM_IGNORE */
	assert_int_equal(run_one("pa_alone", "root", PAMTEST_AUTHENTICATE), ALL_IGNORED);
	assert_int_equal(run_one("pa_alone", "root", PAMTEST_SETCRED), ALL_IGNORED);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 1);
	check_attempt(rs.r[n0], "pa_alone", "auth", -1, 0);
	recs_free(&rs);

	/* before pam_permit / pam_deny: the outcome is theirs */
	n0 = record_count();
	assert_int_equal(run_one("pa_basic", "root", PAMTEST_AUTHENTICATE), PAM_SUCCESS);
	assert_int_equal(run_one("pa_basic", "root", PAMTEST_ACCOUNT), PAM_SUCCESS);
	assert_int_equal(run_one("pa_basic", "root", PAMTEST_SETCRED), PAM_SUCCESS);
	ref_auth = run_one("pa_ref_deny", "root", PAMTEST_AUTHENTICATE);
	ref_acct = run_one("pa_ref_deny", "root", PAMTEST_ACCOUNT);
	assert_int_not_equal(ref_auth, PAM_SUCCESS);
	assert_int_not_equal(ref_acct, PAM_SUCCESS);
	assert_int_equal(run_one("pa_deny", "root", PAMTEST_AUTHENTICATE), ref_auth);
	assert_int_equal(run_one("pa_deny", "root", PAMTEST_ACCOUNT), ref_acct);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 4);   /* setcred records nothing */
	check_attempt(rs.r[n0], "pa_basic", "auth", -1, 0);
	check_attempt(rs.r[n0 + 1], "pa_basic", "account", -1, 0);
	check_attempt(rs.r[n0 + 2], "pa_deny", "auth", -1, 0);
	check_attempt(rs.r[n0 + 3], "pa_deny", "account", -1, 0);
	recs_free(&rs);

	/* authsucc after a success, authfail after a failure */
	n0 = record_count();
	assert_int_equal(run_one("pa_auth_ok", "root", PAMTEST_AUTHENTICATE), PAM_SUCCESS);
	assert_int_equal(run_one("pa_auth_bad", "root", PAMTEST_AUTHENTICATE), ref_auth);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 2);
	check_attempt(rs.r[n0], "pa_auth_ok", "auth", 0, 1);
	check_attempt(rs.r[n0 + 1], "pa_auth_bad", "auth", 1, 0);
	recs_free(&rs);
}

/* The process before any PAM call (cmocka's own signal handlers being in
 * place, as they are in every test and teardown). */
static int group_setup(void **state)
{
	(void)state;
	proc_state(&pristine);
	return 0;
}

/* A daemon left by a test that failed half-way is not left running. */
static int group_teardown(void **state)
{
	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_privileged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uid_min, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failmodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failmode_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_stalls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_argument, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tty_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_hooks, setup, teardown),
	};
	struct sockaddr_un sa;
	const char *b;

	if (argc == 6 && strcmp(argv[1], "--services") == 0)
		return write_services(argv[2], argv[3], argv[4], argv[5]);
	if (argc != 1) {
		fprintf(stderr, "usage: test_pam --services SERVICE_DIR BASE MODULE SET_ITEMS_MODULE\n"
				"       PA_PAM_BASE=BASE PRIVAUDITD=DAEMON test_pam (under pam_wrapper)\n");
		return 2;
	}
	b = getenv("PA_PAM_BASE");
	daemon_bin = getenv("PRIVAUDITD");
	if (b == NULL || b[0] != '/' || getenv("PAM_WRAPPER_SERVICE_DIR") == NULL ||
	    daemon_bin == NULL || daemon_bin[0] == '\0') {
		fprintf(stderr, "test_pam: run through tests/pam-wrapper.sh\n");
		return 2;
	}
	snprintf(base, sizeof(base), "%s", b);
	snprintf(logdir, sizeof(logdir), "%s/log", base);
	snprintf(sockpath, sizeof(sockpath), "%s/%s", base, DAEMON_SOCK);
	snprintf(daemon_err, sizeof(daemon_err), "%s/privauditd.err", base);
	snprintf(daemon_conf, sizeof(daemon_conf), "%s/privauditd.conf", base);
	if (strlen(base) + 1 + sizeof(STALL_SOCK) > sizeof(sa.sun_path)) {
		fprintf(stderr, "test_pam: %s is too long a directory for a Unix socket\n", base);
		return 2;
	}
	/* the daemon's defaults, whatever /etc/privaudit/privauditd.conf says */
	{
		FILE *f = fopen(daemon_conf, "w");

		if (f == NULL || fputs("# test_pam: privauditd's defaults\n", f) < 0 ||
		    fclose(f) != 0) {
			perror(daemon_conf);
			return 2;
		}
	}
	/* items pam_set_items.so would copy in from a stray environment */
	unsetenv("PAM_USER");
	unsetenv("PAM_RUSER");
	unsetenv("PAM_RHOST");
	unsetenv("PAM_TTY");
	unsetenv("PAM_AUTHTOK");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
