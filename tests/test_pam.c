/* test_pam.c: pam_privaudit.so loaded by the real libpam under pam_wrapper
 * (tests/pam-wrapper.sh runs it): sessions, auth and account attempts read
 * back from the log, every module argument, failmodes, a lock held by
 * someone else, hostile PAM items, and the host process left as it was.
 *
 * pam_wrapper reads its service files once, at start-up, so they are
 * written beforehand by this same program:
 *   test_pam --services SERVICE_DIR BASE MODULE SET_ITEMS_MODULE
 * and the tests then run with PA_PAM_BASE=BASE (logs live in BASE/log). */
#include "config.h"

#include "testutil.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

static char base[1024], logdir[TU_PATH_MAX], vkey[512];

/* ------------------------------------------------------------ service files */

static const struct service {
	const char *name;
	const char *body;
} services[] = {
	{"other",
	 "auth required pam_deny.so\naccount required pam_deny.so\n"
	 "password required pam_deny.so\nsession required pam_deny.so\n"},
	{"pa_basic",
	 "auth optional @M@ dir=@D@\nauth required pam_permit.so\n"
	 "account optional @M@ dir=@D@\naccount required pam_permit.so\n"
	 "session required @M@ dir=@D@\n"},
	/* only our module: its own return code decides the stack's */
	{"pa_alone",
	 "auth required @M@ dir=@D@\naccount required @M@ dir=@D@\n"
	 "session required @M@ dir=@D@\n"},
	/* the same outcome must come with and without our module */
	{"pa_deny",
	 "auth optional @M@ dir=@D@\nauth required pam_deny.so\n"
	 "account optional @M@ dir=@D@\naccount required pam_deny.so\n"},
	{"pa_ref_deny", "auth required pam_deny.so\naccount required pam_deny.so\n"},
	{"pa_users", "session required @M@ dir=@D@ users=" UNPRIV_USER "\n"},
	{"pa_groups", "session required @M@ dir=@D@ groups=sudo,@G@\n"},
	{"pa_nogroups", "session required @M@ dir=@D@ users= groups=\n"},
	{"pa_services_in", "session required @M@ dir=@D@ services=sshd,pa_services_in,su\n"},
	{"pa_services_out", "session required @M@ dir=@D@ services=sshd,pa_services,su\n"},
	{"pa_uid_min", "session required @M@ dir=@D@ uid_min=1000\n"},
	{"pa_uid_min_high", "session required @M@ dir=@D@ uid_min=70000\n"},
	{"pa_uid_min_bad", "session required @M@ dir=@D@ uid_min=1000x\n"},
	{"pa_fail_closed",
	 "auth required @M@ dir=@D@ failmode=closed\nauth required pam_permit.so\n"
	 "account required @M@ dir=@D@ failmode=closed\naccount required pam_permit.so\n"
	 "session required @M@ dir=@D@ failmode=closed\nsession required pam_permit.so\n"},
	{"pa_fail_open",
	 "auth required @M@ dir=@D@ failmode=open\nauth required pam_permit.so\n"
	 "account required @M@ dir=@D@ failmode=open\naccount required pam_permit.so\n"
	 "session required @M@ dir=@D@ failmode=open\nsession required pam_permit.so\n"},
	{"pa_lock_closed",
	 "session required @M@ dir=@D@ lock_timeout=200 failmode=closed\n"
	 "session required pam_permit.so\n"},
	{"pa_lock_open",
	 "session required @M@ dir=@D@ lock_timeout=200 failmode=open\n"
	 "session required pam_permit.so\n"},
	/* pam_set_items.so copies PAM_RHOST, PAM_TTY... from the environment */
	{"pa_items",
	 "auth required @S@\nauth optional @M@ dir=@D@\nauth required pam_permit.so\n"
	 "account required @S@\naccount optional @M@ dir=@D@\naccount required pam_permit.so\n"
	 "session required @S@\nsession required @M@ dir=@D@\n"},
	{"pa_unknown",
	 "session required @M@ dir=@D@ bogus_arg=1 lock_timeout=soon uid_min=-3 sync=maybe\n"},
	{"pa_debug", "session required @M@ dir=@D@ debug\n"},
	{"pa_sync_yes", "session required @M@ dir=@D@ sync=yes\n"},
	{"pa_sync_no", "session required @M@ dir=@D@ sync=no\n"},
	{"pa_seal", "session required @M@ dir=@D@ seal\n"},
	{"pa_tty", "session required @M@ dir=@D@ tty_audit log_passwd\n"},
	{"pa_tty_nopasswd", "session required @M@ dir=@D@ tty_audit\n"},
	/* the documented placement: authfail only after a failure, authsucc
	 * only after a success */
	{"pa_auth_ok",
	 "auth [success=2 default=ignore] pam_permit.so\n"
	 "auth optional @M@ dir=@D@ authfail\nauth requisite pam_deny.so\n"
	 "auth optional @M@ dir=@D@ authsucc\nauth required pam_permit.so\n"},
	{"pa_auth_bad",
	 "auth [success=2 default=ignore] pam_deny.so\n"
	 "auth optional @M@ dir=@D@ authfail\nauth requisite pam_deny.so\n"
	 "auth optional @M@ dir=@D@ authsucc\nauth required pam_permit.so\n"},
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
	char log[TU_PATH_MAX];
	const char *group = unpriv_group();

	snprintf(log, sizeof(log), "%s/log", b);
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
				const char *v = p[1] == 'M' ? module : p[1] == 'D' ? log :
						p[1] == 'S' ? set_items : p[1] == 'G' ? group : NULL;

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

/* ------------------------------------------------------------ durability probe */

/* The module's libprivaudit.so binds to these (exported from this program
 * with --export-dynamic-symbol): count the syncs made inside a PAM call. */
static int n_fdatasync, n_fsync;

int fdatasync(int fd)
{
	n_fdatasync++;
	return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
	n_fsync++;
	return (int)syscall(SYS_fsync, fd);
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

/* Every record of the log at dir, in index order. */
static void load_records(const char *dir, recs *rs)
{
	size_t cap = 0;

	memset(rs, 0, sizeof(*rs));
	for (uint64_t seg = 0;; seg++) {
		char name[PA_SEG_NAME_MAX], path[TU_PATH_MAX];
		pa_segreader r;
		pa_frame_status fs;
		struct stat sb;
		int fd;

		pa_seg_name(name, seg);
		tu_path(path, dir, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			assert_true(seg > 0);
			break;
		}
		assert_int_equal(fstat(fd, &sb), 0);
		assert_int_equal(pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)sb.st_size),
				 PRIVAUDIT_OK);
		for (;;) {
			const unsigned char *entry;
			size_t len;
			uint64_t off;

			fs = pa_segreader_next(&r, &entry, &len, &off);
			if (fs != PA_FRAME_OK)
				break;
			assert_int_equal(pa_load64(entry), rs->n);
			if (rs->n == cap) {
				cap = cap ? cap * 2 : 64;
				rs->r = realloc(rs->r, cap * sizeof(*rs->r));
				assert_non_null(rs->r);
			}
			rs->r[rs->n] = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
			assert_non_null(rs->r[rs->n]);
			rs->n++;
		}
		assert_int_equal(fs, PA_FRAME_END);
		pa_segreader_free(&r);
		close(fd);
	}
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

/* ------------------------------------------------------------ fixtures */

/* Open descriptors, umask and signal dispositions of this process. */
struct proc_state {
	int fds;
	mode_t umask;
	struct sigaction sa[NSIG];
};

static struct proc_state pristine;   /* before any PAM call */

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

static int setup(void **state)
{
	(void)state;
	fresh_log();
	return 0;
}

static int teardown(void **state)
{
	char path[TU_PATH_MAX];
	struct proc_state now;

	(void)state;
	/* whatever a test did through PAM left the process as it found it */
	proc_state(&now);
	assert_same_state(&pristine, &now, "after the test");
	tu_rmrf(logdir);
	tu_rmrf(tu_path(path, base, "log.moved"));
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
}

/* Restore stdout and stderr; what each received, malloc'd. */
static void capture_end(struct capture *c, char **out, char **err)
{
	char **dst[2] = {out, err};

	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dup2(c->saved[i], i + 1), i + 1);
		close(c->saved[i]);
		*dst[i] = (char *)tu_read(c->path[i], NULL);
		unlink(c->path[i]);
	}
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
	assert_int_equal(ro->writer_pid, (uint32_t)getpid());
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
	verify_log();
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
	verify_log();
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
	verify_log();
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
	verify_log();
}

static void test_services(void **state)
{
	(void)state;
	expect_recorded("pa_services_in", "root", 1);
	/* "pa_services" is a prefix of neither: whole names only */
	expect_recorded("pa_services_out", "root", 0);
	verify_log();
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
	verify_log();
}

/* Ways the log can be unusable; 0 when this one cannot be made here. */
enum breakage { BROKEN_MISSING, BROKEN_NOT_A_LOG, BROKEN_READ_ONLY, BROKEN_LOCK_NOT_A_FILE };

static const char *const breakage_name[] = {"missing", "not a log", "read-only",
					     "lock not a file"};

static void break_log(enum breakage b)
{
	char path[TU_PATH_MAX];

	switch (b) {
	case BROKEN_MISSING:
		tu_rmrf(logdir);
		break;
	case BROKEN_NOT_A_LOG:
		tu_rmrf(logdir);
		assert_int_equal(mkdir(logdir, 0700), 0);
		break;
	case BROKEN_READ_ONLY: {
		/* the files and the directory: writing anything must fail */
		DIR *d = opendir(logdir);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				chmod(tu_path(path, logdir, de->d_name), 0444);
		closedir(d);
		assert_int_equal(chmod(logdir, 0555), 0);
		break;
	}
	case BROKEN_LOCK_NOT_A_FILE:
		tu_path(path, logdir, "lock");
		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	}
}

/* failmode=closed refuses the session when it cannot be recorded,
 * failmode=open lets it through; auth and account never change outcome. */
static void test_failmodes(void **state)
{
	(void)state;
	for (int b = BROKEN_MISSING; b <= BROKEN_LOCK_NOT_A_FILE; b++) {
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

		/* root writes through permissions: read-only is for other users */
		if (b == BROKEN_READ_ONLY && geteuid() == 0)
			continue;
		print_message("log %s\n", breakage_name[b]);
		fresh_log();
		break_log((enum breakage)b);
		RUN("pa_fail_closed", "root", closed);
		RUN("pa_fail_open", "root", open_);
		/* nothing was written to the broken log */
		chmod(logdir, 0700);
		if (b == BROKEN_READ_ONLY || b == BROKEN_LOCK_NOT_A_FILE)
			assert_int_equal(record_count(), 3);
	}
	/* and a working log under the same services records everything */
	fresh_log();
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
		assert_int_equal(rs.n, 3 + 4);
		assert_int_equal(count_kind(&rs, 3, PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT), 2);
		assert_int_equal(count_kind(&rs, 3, PRIVAUDIT__RECORD__BODY_SESSION_OPEN), 1);
		assert_int_equal(count_kind(&rs, 3, PRIVAUDIT__RECORD__BODY_SESSION_CLOSE), 1);
		recs_free(&rs);
	}
	verify_log();
}

/* The log goes away while the session is open: closing it is refused with
 * failmode=closed and allowed with failmode=open. */
static void test_failmode_at_close(void **state)
{
	static const char *const svc[] = {"pa_fail_closed", "pa_fail_open"};
	char moved[TU_PATH_MAX];

	(void)state;
	tu_path(moved, base, "log.moved");
	for (int i = 0; i < 2; i++) {
		pam_handle_t *ph;
		size_t n0 = record_count();
		recs rs;

		ph = open_keep(svc[i], "root", PAM_SUCCESS);
		assert_int_equal(rename(logdir, moved), 0);
		close_keep(ph, i == 0 ? REFUSED : PAM_SUCCESS);
		assert_int_equal(rename(moved, logdir), 0);
		load_records(logdir, &rs);
		assert_int_equal(rs.n, n0 + 1);
		assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
		recs_free(&rs);
	}
	verify_log();
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
	verify_log();
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
	verify_log();
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
	pam_handle_t *ph;

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

	/* failures */
	break_log(BROKEN_NOT_A_LOG);
	assert_int_equal(run_one("pa_fail_closed", "root", PAMTEST_OPEN_SESSION), REFUSED);
	assert_int_equal(run_one("pa_fail_open", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	fresh_log();
	break_log(BROKEN_LOCK_NOT_A_FILE);
	assert_int_equal(run_one("pa_fail_closed", "root", PAMTEST_OPEN_SESSION), REFUSED);
	assert_int_equal(run_one("pa_fail_closed", "root", PAMTEST_AUTHENTICATE), PAM_SUCCESS);
	proc_state(&now);
	assert_same_state(&before, &now, "after failures");
	fresh_log();
}

/* ---- a lock held by another writer */

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

static void test_lock_held(void **state)
{
	static const struct {
		const char *svc;
		int expect;
	} cases[] = {
		{"pa_lock_closed", REFUSED},
		{"pa_lock_open", PAM_SUCCESS},
	};
	char path[TU_PATH_MAX];
	struct flock fl;
	size_t n0 = record_count();
	int fd;

	(void)state;
	fd = open(tu_path(path, logdir, "lock"), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	for (size_t i = 0; i < 2; i++) {
		double ms;
		int rv = timed_open(cases[i].svc, "root", 5000, &ms);

		print_message("%s with the lock held: %d after %.0f ms\n", cases[i].svc, rv, ms);
		if (rv < 0)
			fail_msg("%s: pam_open_session still blocked after %.0f ms with lock_timeout=200",
				 cases[i].svc, ms);
		if (rv != cases[i].expect)
			fail_msg("%s: returned %d (%s), expected %d", cases[i].svc, rv,
				 pam_strerror(NULL, rv), cases[i].expect);
		if (ms > 1000)
			fail_msg("%s: took %.0f ms with lock_timeout=200", cases[i].svc, ms);
		assert_true(ms >= 150);   /* it did wait for the lock */
	}
	assert_int_equal(record_count(), n0);
	close(fd);   /* releases the lock */
	assert_int_equal(run_one("pa_lock_closed", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	assert_int_equal(record_count(), n0 + 1);
	verify_log();
}

/* Unknown and malformed arguments go to syslog and are ignored; the module
 * prints nothing of its own. */
static void test_unknown_argument(void **state)
{
	static const char *const expected[] = {
		"unknown argument ignored: bogus_arg=1",
		"bad argument ignored: lock_timeout=soon",
		"bad argument ignored: uid_min=-3",
		"unknown argument ignored: sync=maybe",
	};
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	struct capture cap;
	char *out, *err;
	size_t n0 = record_count();

	(void)state;
	unsetenv("PAM_WRAPPER_DEBUGLEVEL");
	capture_start(&cap);
	RUN("pa_unknown", "root", tc);
	capture_end(&cap, &out, &err);
	assert_string_equal(out, "");
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (strstr(err, expected[i]) == NULL)
			fail_msg("not logged: \"%s\"; the log said:\n%s", expected[i], err);
	assert_only_syslog(err);
	free(out);
	free(err);
	assert_int_equal(record_count(), n0 + 2);
	verify_log();
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
	if (strstr(err, "recorded in ") == NULL || strstr(err, logdir) == NULL)
		fail_msg("debug did not say where the session was recorded:\n%s", err);
	if (strstr(err, "non-privileged target: not recorded") == NULL)
		fail_msg("debug did not say why a session was not recorded:\n%s", err);
	/* only the debug service said so */
	{
		const char *first = strstr(err, "recorded in ");

		assert_null(strstr(first + 1, "recorded in "));
	}
	assert_only_syslog(err);
	free(out);
	free(err);
	verify_log();
}

/* sync=yes (the default): the open record is fdatasync'ed before
 * pam_open_session returns; sync=no: written without a sync.  The close
 * record is written without a sync either way (pam_privaudit(8)), and is
 * in the log when pam_close_session returns. */
static void test_sync(void **state)
{
	static const struct {
		const char *svc;
		int synced;
	} cases[] = {{"pa_basic", 1}, {"pa_sync_yes", 1}, {"pa_sync_no", 0}};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t n0 = record_count();
		pam_handle_t *ph;
		int syncs;

		n_fdatasync = n_fsync = 0;
		ph = open_keep(cases[i].svc, "root", PAM_SUCCESS);
		syncs = n_fdatasync + n_fsync;
		print_message("%s: %d fdatasync, %d fsync in open_session\n", cases[i].svc,
			      n_fdatasync, n_fsync);
		if (cases[i].synced && n_fdatasync < 1)
			fail_msg("%s: the open record was not fdatasync'ed", cases[i].svc);
		if (!cases[i].synced && syncs != 0)
			fail_msg("%s: %d syncs with sync=no", cases[i].svc, syncs);
		/* the record is there before the session goes on */
		assert_int_equal(record_count(), n0 + 1);
		n_fdatasync = n_fsync = 0;
		close_keep(ph, PAM_SUCCESS);
		if (n_fdatasync + n_fsync != 0)
			fail_msg("%s: %d syncs in close_session", cases[i].svc, n_fdatasync + n_fsync);
		assert_int_equal(record_count(), n0 + 2);
	}
	verify_log();
}

/* seal: a checkpoint (after a key rotation) follows the session record. */
static void test_seal(void **state)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	uint64_t cps;
	size_t n0 = record_count();
	recs rs;

	(void)state;
	assert_int_equal(privaudit_verifier_new(&v, logdir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verify_run(v, &rep), PRIVAUDIT_OK);
	cps = rep->checkpoints;
	privaudit_verifier_free(v);

	assert_int_equal(run_one("pa_seal", "root", PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	load_records(logdir, &rs);
	assert_int_equal(rs.n, n0 + 3);
	assert_int_equal(rs.r[n0]->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
	assert_int_equal(rs.r[n0 + 1]->body_case, PRIVAUDIT__RECORD__BODY_KEY_ROTATION);
	assert_int_equal(rs.r[n0 + 2]->body_case, PRIVAUDIT__RECORD__BODY_CHECKPOINT);
	assert_int_equal(rs.r[n0 + 2]->checkpoint->tree_size, n0 + 2);
	recs_free(&rs);

	assert_int_equal(privaudit_verifier_new(&v, logdir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_pin_key(v, vkey), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verify_run(v, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep->checkpoints, cps + 1);
	assert_int_equal(rep->unsealed, 0);
	privaudit_verifier_free(v);
	verify_log();
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
	verify_log();
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
	verify_log();
}

/* The process before any PAM call (cmocka's own signal handlers being in
 * place, as they are in every test and teardown). */
static int group_setup(void **state)
{
	(void)state;
	proc_state(&pristine);
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
		cmocka_unit_test_setup_teardown(test_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_argument, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tty_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_hooks, setup, teardown),
	};
	const char *b;

	if (argc == 6 && strcmp(argv[1], "--services") == 0)
		return write_services(argv[2], argv[3], argv[4], argv[5]);
	if (argc != 1) {
		fprintf(stderr, "usage: test_pam --services SERVICE_DIR BASE MODULE SET_ITEMS_MODULE\n"
				"       PA_PAM_BASE=BASE test_pam (under pam_wrapper)\n");
		return 2;
	}
	b = getenv("PA_PAM_BASE");
	if (b == NULL || b[0] != '/' || getenv("PAM_WRAPPER_SERVICE_DIR") == NULL) {
		fprintf(stderr, "test_pam: run through tests/pam-wrapper.sh\n");
		return 2;
	}
	snprintf(base, sizeof(base), "%s", b);
	snprintf(logdir, sizeof(logdir), "%s/log", base);
	/* items pam_set_items.so would copy in from a stray environment */
	unsetenv("PAM_USER");
	unsetenv("PAM_RUSER");
	unsetenv("PAM_RHOST");
	unsetenv("PAM_TTY");
	unsetenv("PAM_AUTHTOK");
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
