/* SPDX-License-Identifier: ISC */
/* pa-sessions.c: writes synthetic login sessions through libprivaudit, as
 * the PAM module and the audit plugin would: an sshd login, a sudo session
 * inside it, commands with argv and cwd, TTY input, then the closes.  Used
 * by the auditor-verb tests and the sessions/replay benchmark.
 *
 * usage: pa-sessions DIR SESSIONS COMMANDS [--hostile] [--open-last]
 *                    [--gap] [--host NAME] [--boot ID] [--audit-log FILE]
 *                    [--distinct]
 *
 * --distinct adds the command's number to each argv (log only), so that a
 * session runs more distinct commands than the session index keeps.
 * --audit-log also writes the same events as kernel audit records (the
 * text auditd logs), for comparing with ausearch/aureport. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privaudit.h"

static privaudit_status st_all = PRIVAUDIT_OK;

static void check(privaudit_status st, const char *what)
{
	if (st != PRIVAUDIT_OK && st_all == PRIVAUDIT_OK) {
		fprintf(stderr, "pa-sessions: %s: %s\n", what, privaudit_strerror(st));
		st_all = st;
	}
}

static void set_s(privaudit_event *ev, const char *field, const char *v)
{
	check(privaudit_event_set_bytes(ev, field, v, strlen(v)), field);
}

static void set_i(privaudit_event *ev, const char *field, int64_t v)
{
	check(privaudit_event_set_int(ev, field, v), field);
}

static void append(privaudit_log *log, privaudit_event *ev)
{
	check(privaudit_append_event(log, ev), "append");
	privaudit_event_free(ev);
}

static privaudit_event *event(const char *kind, const char *key)
{
	privaudit_event *ev = NULL;

	check(privaudit_event_new(&ev, kind), kind);
	if (ev == NULL) {
		fprintf(stderr, "pa-sessions: out of memory\n");
		exit(1);
	}
	set_s(ev, "session_key", key);
	return ev;
}

static void pam(privaudit_log *log, const char *kind, const char *key, const char *service,
		const char *login, const char *user, const char *rhost, const char *tty, uint32_t pid,
		uint32_t ses, const char *boot)
{
	privaudit_event *ev = event(kind, key);

	set_s(ev, "service", service);
	set_s(ev, "user", user);
	set_i(ev, "pid", pid);
	if (strcmp(kind, "session_open") == 0) {
		set_s(ev, "login_user", login);
		set_s(ev, "ruser", login);
		set_s(ev, "rhost", rhost);
		set_s(ev, "tty", tty);
		set_i(ev, "uid", 1000);
		set_i(ev, "euid", 0);
		set_i(ev, "auid", 1000);
		set_i(ev, "ses", ses);
		set_s(ev, "boot_id", boot);
	} else {
		set_i(ev, "duration_ns", 2500000000LL);
	}
	append(log, ev);
}

static const char *const commands[][4] = {
	{"/usr/bin/id", "id", "-u", NULL},
	{"/usr/bin/cat", "cat", "/etc/shadow", NULL},
	{"/usr/bin/systemctl", "systemctl", "restart", "sshd"},
	{"/usr/bin/ls", "ls", "-la", "/root"},
	{"/usr/sbin/auditctl", "auditctl", "-l", NULL},
};

static int distinct;

static void command(privaudit_log *log, const char *key, uint32_t ses, uint64_t serial, int n,
		    int hostile, FILE *audit, time_t t)
{
	const char *const *c = commands[n % 5];
	privaudit_event *ev = event("command", key);
	char raw[512];
	int argc = 0;

	set_i(ev, "auid", 1000);
	set_i(ev, "ses", ses);
	set_i(ev, "uid", 1000);
	set_i(ev, "euid", 0);
	set_i(ev, "pid", 4000 + n);
	set_i(ev, "ppid", 3999);
	set_s(ev, "exe", c[0]);
	for (int i = 1; i < 4 && c[i] != NULL; i++, argc++)
		set_s(ev, "argv", c[i]);
	if (hostile && n == 0) {
		static const char evil[] = "\x1b]0;owned\x07\x1b[2J\r\n\xff\xfe rm -rf / \xe2\x80\xae";

		check(privaudit_event_set_bytes(ev, "argv", evil, sizeof(evil) - 1), "argv");
		argc++;
	}
	if (distinct) {
		char nb[24];

		snprintf(nb, sizeof(nb), "#%d", n);
		set_s(ev, "argv", nb);
	}
	set_s(ev, "cwd", "/root");
	set_i(ev, "success", n % 7 != 6);
	set_i(ev, "exit", n % 7 != 6 ? 0 : -13);
	set_s(ev, "tty", "pts0");
	set_s(ev, "source", "execve");
	set_i(ev, "serial", (int64_t)serial);
	snprintf(raw, sizeof(raw),
		 "type=SYSCALL msg=audit(%lld.000:%" PRIu64 "): arch=c000003e syscall=59 success=%s "
		 "exit=0 ppid=3999 pid=%d auid=1000 uid=1000 euid=0 tty=pts0 ses=%" PRIu32
		 " comm=\"%s\" exe=\"%s\"",
		 (long long)t, serial, n % 7 != 6 ? "yes" : "no", 4000 + n, ses, c[1], c[0]);
	set_s(ev, "raw", raw);
	append(log, ev);
	if (audit != NULL) {
		/* as the kernel writes it: ausearch -x and -sc skip a SYSCALL
		 * record without the syscall's arguments */
		fprintf(audit,
			"type=SYSCALL msg=audit(%lld.000:%" PRIu64 "): arch=c000003e syscall=59 "
			"success=%s exit=0 a0=55d0c0de0000 a1=55d0c0de0100 a2=55d0c0de0200 a3=0 "
			"items=2 ppid=3999 pid=%d auid=1000 uid=1000 gid=1000 euid=0 suid=0 "
			"fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=%" PRIu32 " comm=\"%s\" "
			"exe=\"%s\" key=(null)\n",
			(long long)t, serial, n % 7 != 6 ? "yes" : "no", 4000 + n, ses, c[1], c[0]);
		fprintf(audit, "type=EXECVE msg=audit(%lld.000:%" PRIu64 "): argc=%d", (long long)t,
			serial, argc);
		for (int i = 1; i < 4 && c[i] != NULL; i++)
			fprintf(audit, " a%d=\"%s\"", i - 1, c[i]);
		fprintf(audit, "\ntype=CWD msg=audit(%lld.000:%" PRIu64 "): cwd=\"/root\"\n",
			(long long)t, serial);
		fprintf(audit, "type=EOE msg=audit(%lld.000:%" PRIu64 "): \n", (long long)t, serial);
	}
}

static void tty(privaudit_log *log, const char *key, uint32_t ses, int hostile)
{
	privaudit_event *ev = event("tty_input", key);
	static const char evil[] = "sudo -i\r\x1b[A\x7f\x03";

	set_i(ev, "auid", 1000);
	set_i(ev, "ses", ses);
	set_i(ev, "pid", 3999);
	if (hostile)
		check(privaudit_event_set_bytes(ev, "data", evil, sizeof(evil) - 1), "data");
	else
		set_s(ev, "data", "ls -la\r");
	set_s(ev, "tty", "pts0");
	append(log, ev);
}

int main(int argc, char **argv)
{
	const char *host_boot = "6c1e0c7e-0b4b-4a3c-9a43-2f1e5c3d7b10", *audit_path = NULL;
	int hostile = 0, open_last = 0, gap = 0;
	privaudit_log *log = NULL;
	uint64_t sessions, cmds, serial = 1000;
	FILE *audit = NULL;
	time_t t0 = time(NULL);

	if (argc < 4) {
		fprintf(stderr, "usage: pa-sessions DIR SESSIONS COMMANDS [--hostile] [--open-last] "
				"[--gap] [--boot ID] [--audit-log FILE] [--distinct]\n");
		return 2;
	}
	sessions = strtoull(argv[2], NULL, 10);
	cmds = strtoull(argv[3], NULL, 10);
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--hostile") == 0)
			hostile = 1;
		else if (strcmp(argv[i], "--distinct") == 0)
			distinct = 1;
		else if (strcmp(argv[i], "--open-last") == 0)
			open_last = 1;
		else if (strcmp(argv[i], "--gap") == 0)
			gap = 1;
		else if (strcmp(argv[i], "--boot") == 0 && i + 1 < argc)
			host_boot = argv[++i];
		else if (strcmp(argv[i], "--audit-log") == 0 && i + 1 < argc)
			audit_path = argv[++i];
		else {
			fprintf(stderr, "pa-sessions: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (audit_path != NULL && (audit = fopen(audit_path, "w")) == NULL) {
		perror(audit_path);
		return 1;
	}
	check(privaudit_open(&log, argv[1], PRIVAUDIT_OPEN_NOSYNC), "open");
	if (log == NULL)
		return 1;
	privaudit_set_program(log, "pa-sessions");
	for (uint64_t s = 0; s < sessions && st_all == PRIVAUDIT_OK; s++) {
		uint32_t ses = (uint32_t)(s + 1), pid = (uint32_t)(2000 + s);
		int last = s + 1 == sessions;
		char key[128], login[64];
		time_t t = t0 + (time_t)s;

		snprintf(key, sizeof(key), "%s:%" PRIu32, host_boot, ses);
		snprintf(login, sizeof(login), "user%" PRIu64, s % 10);
		if (hostile && s == 0)
			snprintf(login, sizeof(login), "ev\x1b[31mil\xff");
		pam(log, "session_open", key, "sshd", login, login, "10.0.0.7", "ssh", pid, ses,
		    host_boot);
		if (audit != NULL)
			fprintf(audit,
				"type=USER_LOGIN msg=audit(%lld.000:%" PRIu64 "): pid=%" PRIu32
				" uid=0 auid=1000 ses=%" PRIu32 " msg='op=login id=1000 exe=\"/usr/sbin/sshd\" "
				"hostname=10.0.0.7 addr=10.0.0.7 terminal=ssh res=success'\n",
				(long long)t, serial++, pid, ses);
		if (audit != NULL)
			fprintf(audit,
				"type=USER_START msg=audit(%lld.000:%" PRIu64 "): pid=%" PRIu32
				" uid=0 auid=1000 ses=%" PRIu32 " msg='op=PAM:session_open acct=\"%s\" "
				"exe=\"/usr/sbin/sshd\" hostname=10.0.0.7 addr=10.0.0.7 terminal=ssh res=success'\n",
				(long long)t, serial++, pid, ses, login);
		pam(log, "session_open", key, "sudo", login, "root", "", "/dev/pts/0", pid + 50000, ses,
		    host_boot);
		tty(log, key, ses, hostile && s == 0);
		for (uint64_t c = 0; c < cmds; c++)
			command(log, key, ses, serial++, (int)c, hostile && s == 0, audit, t);
		if (gap && s == 0) {
			privaudit_event *ev = NULL;

			check(privaudit_event_new(&ev, "gap"), "gap");
			set_i(ev, "count", 42);
			set_s(ev, "reason", "queue-overflow");
			append(log, ev);
		}
		pam(log, "session_close", key, "sudo", login, "root", "", "", pid + 50000, ses,
		    host_boot);
		if (!(open_last && last))
			pam(log, "session_close", key, "sshd", login, login, "", "", pid, ses, host_boot);
		if (audit != NULL && !(open_last && last))
			fprintf(audit,
				"type=USER_END msg=audit(%lld.000:%" PRIu64 "): pid=%" PRIu32
				" uid=0 auid=1000 ses=%" PRIu32 " msg='op=PAM:session_close acct=\"%s\" "
				"exe=\"/usr/sbin/sshd\" hostname=10.0.0.7 addr=10.0.0.7 terminal=ssh res=success'\n",
				(long long)t, serial++, pid, ses, login);
		if (privaudit_log_pending(log) >= 1000)
			check(privaudit_commit(log), "commit");
	}
	check(privaudit_commit(log), "commit");
	check(privaudit_close(log), "close");
	if (audit != NULL && fclose(audit) != 0) {
		perror(audit_path);
		return 1;
	}
	return st_all == PRIVAUDIT_OK ? 0 : 1;
}
