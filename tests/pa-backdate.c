/* SPDX-License-Identifier: ISC */
/* pa-backdate.c: what a root insider holding log.key can do to a session
 * that is closed and sealed: append a command with that session's key,
 * written while the clock reads SECONDS earlier (so the record's own time
 * and its event time both lie in the past), then seal with the right time.
 * The readers must show it as appended later; verify must flag its time.
 *
 * usage: pa-backdate DIR SESSION_KEY SECONDS [ARGV0] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "privaudit.h"

static long shift;

/* The library reads CLOCK_REALTIME here, as it would after `date -s`. */
int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, clk, ts) != 0)
		return -1;
	if (clk == CLOCK_REALTIME)
		ts->tv_sec -= shift;
	return 0;
}

static void die(const char *what, privaudit_status st)
{
	fprintf(stderr, "pa-backdate: %s: %s\n", what, privaudit_strerror(st));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *key, *prog;
	privaudit_event *ev = NULL;
	privaudit_log *log = NULL;
	privaudit_status st;
	struct timespec now;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: pa-backdate DIR SESSION_KEY SECONDS [ARGV0]\n");
		return 2;
	}
	key = argv[2];
	prog = argc == 5 ? argv[4] : "backdoor.sh";
	st = privaudit_open(&log, argv[1], 0);
	if (st != PRIVAUDIT_OK)
		die("open", st);
	shift = strtol(argv[3], NULL, 10);
	clock_gettime(CLOCK_REALTIME, &now);
	if ((st = privaudit_event_new(&ev, "command")) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "session_key", key, strlen(key))) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_int(ev, "auid", 1000)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_int(ev, "uid", 0)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_int(ev, "euid", 0)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_int(ev, "audit_time_ms", (int64_t)now.tv_sec * 1000)) !=
		    PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "exe", "/bin/sh", 7)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "argv", "sh", 2)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "argv", prog, strlen(prog))) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "cwd", "/root", 5)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_int(ev, "success", 1)) != PRIVAUDIT_OK ||
	    (st = privaudit_event_set_bytes(ev, "source", "execve", 6)) != PRIVAUDIT_OK)
		die("event", st);
	st = privaudit_append_event(log, ev);
	privaudit_event_free(ev);
	if (st != PRIVAUDIT_OK || (st = privaudit_commit(log)) != PRIVAUDIT_OK)
		die("append", st);
	shift = 0;
	if ((st = privaudit_seal(log)) != PRIVAUDIT_OK)
		die("seal", st);
	if ((st = privaudit_close(log)) != PRIVAUDIT_OK)
		die("close", st);
	return 0;
}
