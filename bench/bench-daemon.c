/* SPDX-License-Identifier: ISC */
/* bench-daemon.c: records per second through privauditd (one record per
 * message, the PAM module's protocol) against the same records appended
 * directly with libprivaudit's group commit, in one run.  It measures what
 * the auditd plugin would lose by going through the daemon (issue 14: the
 * plugin keeps appending directly; bench/README.md).
 *
 *   bench-daemon SOCKET LOGDIR [RECORDS] [CLIENTS]
 *
 * privauditd must be serving LOGDIR on SOCKET. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "privaudit.h"
#include "wire.h"

struct job {
	const char *sock;
	long n, failed;
	unsigned flags;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client_loop(void *arg)
{
	struct job *j = arg;
	struct pa_wire_buf b = {0};
	char text[PA_WIRE_ANSWER_MAX];
	const char *stage;

	for (long i = 0; i < j->n; i++) {
		pa_wire_begin(&b, "auth_attempt", j->flags);
		pa_wire_add_str(&b, "service", "bench");
		pa_wire_add_str(&b, "user", "root");
		pa_wire_add_str(&b, "phase", "auth");
		pa_wire_add_int(&b, "uid", 0);
		if (pa_wire_end(&b) < 0 ||
		    pa_client_call(j->sock, &b, 10000, text, sizeof(text), &stage) != PA_WIRE_OK)
			j->failed++;
	}
	pa_wire_buf_free(&b);
	return NULL;
}

static double through_daemon(const char *sock, long n, int clients, unsigned flags)
{
	pthread_t th[256];
	struct job jobs[256];
	double t0 = now_s();
	long failed = 0;

	for (int i = 0; i < clients; i++) {
		jobs[i] = (struct job){.sock = sock, .n = n / clients, .flags = flags};
		pthread_create(&th[i], NULL, client_loop, &jobs[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		failed += jobs[i].failed;
	}
	if (failed > 0) {
		fprintf(stderr, "bench-daemon: %ld requests failed\n", failed);
		exit(1);
	}
	return (double)(n / clients * clients) / (now_s() - t0);
}

static double direct(const char *dir, long n, long group)
{
	privaudit_log *log = NULL;
	privaudit_event *ev = NULL;
	double t0 = now_s();

	if (privaudit_open(&log, dir, 0) != PRIVAUDIT_OK ||
	    privaudit_event_new(&ev, "auth_attempt") != PRIVAUDIT_OK ||
	    privaudit_event_set_bytes(ev, "service", "bench", 5) != PRIVAUDIT_OK ||
	    privaudit_event_set_bytes(ev, "user", "root", 4) != PRIVAUDIT_OK ||
	    privaudit_event_set_bytes(ev, "phase", "auth", 4) != PRIVAUDIT_OK) {
		fprintf(stderr, "bench-daemon: cannot open %s\n", dir);
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		if (privaudit_append_event(log, ev) != PRIVAUDIT_OK ||
		    ((i + 1) % group == 0 && privaudit_commit(log) != PRIVAUDIT_OK)) {
			fprintf(stderr, "bench-daemon: append failed\n");
			exit(1);
		}
	}
	if (privaudit_close(log) != PRIVAUDIT_OK)
		exit(1);
	privaudit_event_free(ev);
	return (double)n / (now_s() - t0);
}

int main(int argc, char **argv)
{
	long n = argc > 3 ? atol(argv[3]) : 20000;
	int clients = argc > 4 ? atoi(argv[4]) : 8;
	double d1, dn, dsync, dir;

	if (argc < 3 || n <= 0 || clients <= 0 || clients > 256) {
		fprintf(stderr, "usage: bench-daemon SOCKET LOGDIR [RECORDS] [CLIENTS<=256]\n");
		return 2;
	}
	dir = direct(argv[2], n, 256);
	d1 = through_daemon(argv[1], n, 1, 0);
	dn = through_daemon(argv[1], n, clients, 0);
	dsync = through_daemon(argv[1], n, clients, PA_WIRE_SYNC);
	printf("direct append (group of 256, fdatasync)  %9.0f records/s\n", dir);
	printf("privauditd, 1 client, sync=no           %9.0f records/s  (%.3f of direct)\n", d1,
	       d1 / dir);
	printf("privauditd, %d clients, sync=no         %9.0f records/s  (%.3f of direct)\n",
	       clients, dn, dn / dir);
	printf("privauditd, %d clients, sync=yes        %9.0f records/s  (%.3f of direct)\n",
	       clients, dsync, dsync / dir);
	return 0;
}
