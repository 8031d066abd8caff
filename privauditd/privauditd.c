/* SPDX-License-Identifier: ISC */
/* privauditd: the host's writer for PAM's records.  Clients (pam_privaudit
 * inside sshd, sudo, su) hand it one record per message on a Unix socket;
 * it stamps each with the sender's kernel credentials, appends them through
 * libprivaudit with one commit per group, answers once they are durable,
 * and seals on a heartbeat and after session closes.  Only this root
 * process holds the log's lock for them: no user can stop it mid-append.
 * With --ship-to, a thread ships every record off the host (ship.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "budget.h"
#include "conf.h"
#include "privaudit.h"
#include "request.h"
#include "ship.h"
#include "wire.h"

#define PROGRAM "privauditd"
#define SD_LISTEN_FDS_START 3

enum client_state { C_READ, C_WAIT, C_WRITE };

struct client {
	int fd;
	enum client_state state;
	struct pa_peer peer;
	unsigned char hdr[4];
	size_t hdr_got;
	unsigned char *body;
	size_t body_len, body_got, body_cap;
	unsigned flags;           /* of the request waiting for its commit */
	int close_after;          /* answer, then hang up (refused, malformed) */
	long long deadline;
	unsigned char out[6 + PA_WIRE_ANSWER_MAX];
	size_t out_len, out_sent;
	struct client *prev, *next;
};

struct daemon {
	struct pad_config cfg;
	const char *config_path;
	long cli_heartbeat_s;     /* --heartbeat: wins over the file, also on reload */
	struct pad_config cli_ship; /* --ship-*: the same, for the ship_* settings */
	struct pad_ship *ship;    /* the shipper thread, when shipping */
	struct pad_budget budget; /* max_log_bytes: the archiving child, alerts */
	long long budget_at;      /* when to look at it again */
	int foreground;
	int ep, lfd, sfd;
	int listen_inherited;     /* socket activation: systemd owns the path */
	dev_t sock_dev;           /* the socket this daemon made, removed at exit */
	ino_t sock_ino;
	privaudit_status open_st; /* of the last open_log() */
	privaudit_log *log;
	struct client *clients;
	long nclients;
	long pending;             /* records appended, not yet committed (their
				     clients may have hung up since) */
	unsigned group_flags;     /* PA_WIRE_SYNC/SEAL asked by the waiting group */
	int seal_wanted;          /* a session closed since the last seal */
	long long seal_due;       /* ...and is sealed from then on */
	long long seal_first;     /* when the first of those closes came */
	int stop, reload;
	long long now, last_seal, retry_at;
	long long accept_at;      /* out of descriptors: accept again then (0: now) */
	int accept_full;          /* said so in the log; until an accept works */
	long long accept_logged;  /* when that was last said */
	int nospace;              /* the log's disk is full: said so, until a record goes in */
	uint64_t received, recorded, refused;
};

static int use_stderr = 1;

static void logmsg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logmsg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_stderr) {
		va_list aq;

		va_copy(aq, ap);
		flockfile(stderr);   /* the shipper thread logs too: one line each */
		fprintf(stderr, PROGRAM ": ");
		vfprintf(stderr, fmt, aq);
		fputc('\n', stderr);
		funlockfile(stderr);
		va_end(aq);
	}
	vsyslog(level, fmt, ap);
	va_end(ap);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the log */

/* The library's warnings (privaudit_set_warning): at every seal, a key
 * file whose erased keys the filesystem may keep. */
static void key_warning(void *arg, const char *msg)
{
	(void)arg;
	logmsg(LOG_WARNING, "%s", msg);
}

static int open_log(struct daemon *d, unsigned flags)
{
	privaudit_status st;

	st = privaudit_open_timeout(&d->log, d->cfg.dir, flags, (int)d->cfg.lock_timeout_ms);
	d->open_st = st;
	if (st != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "cannot open log %s: %s", d->cfg.dir, privaudit_strerror(st));
		d->log = NULL;
		return -1;
	}
	privaudit_set_program(d->log, PROGRAM);
	privaudit_set_warning(d->log, key_warning, NULL);
	privaudit_set_reserve(d->log, (uint64_t)d->cfg.disk_reserve);
	return 0;
}

/* PRIVAUDIT_E_NOSPACE: the log's disk is below its reserve.  The records
 * were not written (their clients are told so) and the library counts them
 * in a gap record; the handle is kept: reopening would spend the reserve on
 * writer start and stop records.  Said once, until a record goes in. */
static void disk_full(struct daemon *d)
{
	if (!d->nospace)
		logmsg(LOG_ERR, "%s; records are refused until there is room again",
		       privaudit_log_error(d->log));
	d->nospace = 1;
}

/* The handle after a failure it cannot go on from: closed (what it still
 * held is written if it can be), reopened at the next request. */
static void drop_log(struct daemon *d)
{
	if (d->log != NULL)
		(void)privaudit_close(d->log);
	d->log = NULL;
}

static int seal(struct daemon *d)
{
	privaudit_status st;

	if (d->log == NULL && open_log(d, PRIVAUDIT_OPEN_ANNOUNCE) < 0)
		return -1;
	st = privaudit_seal(d->log);
	if (st == PRIVAUDIT_E_NOSPACE) {
		disk_full(d);   /* sealed: what was queued is counted in the gap record */
	} else if (st != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "seal failed: %s (%s)", privaudit_strerror(st),
		       privaudit_log_error(d->log));
		if (st != PRIVAUDIT_E_LOCK_TIMEOUT)
			drop_log(d);
		return -1;
	}
	d->last_seal = d->now;
	d->seal_wanted = 0;
	pad_ship_poke(d->ship);
	return 0;
}

/* ------------------------------------------------------------ clients */

static void client_events(struct daemon *d, struct client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	(void)epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void listen_events(struct daemon *d, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = &d->lfd};

	(void)epoll_ctl(d->ep, EPOLL_CTL_MOD, d->lfd, &ev);
}

static void accept_resume(struct daemon *d)
{
	if (d->accept_at != 0) {
		d->accept_at = 0;
		listen_events(d, EPOLLIN);
	}
}

static void client_free(struct daemon *d, struct client *c)
{
	accept_resume(d);   /* a descriptor is free again */
	(void)epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->body);
	free(c);
	d->nclients--;
}

/* Send what is left of the answer; 1 when it is all sent. */
static int client_flush(struct client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			c->out_sent += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 1;
}

/* Queue the answer and send it; the client then waits for its next request
 * (or is hung up on).  Frees c when it is done with. */
static void client_answer(struct daemon *d, struct client *c, enum pa_wire_code code,
			  const char *why)
{
	int rc;

	c->out_len = pa_wire_answer(c->out, sizeof(c->out), code, why);
	c->out_sent = 0;
	c->state = C_WRITE;
	c->deadline = d->now + d->cfg.client_timeout_ms;
	rc = client_flush(c);
	if (rc < 0) {
		client_free(d, c);
	} else if (rc == 0) {
		client_events(d, c, EPOLLOUT);
	} else if (c->close_after) {
		client_free(d, c);
	} else {
		c->state = C_READ;
		c->hdr_got = c->body_got = c->body_len = 0;
		client_events(d, c, EPOLLIN);
	}
}

/* Peers that may write into the log: root, and the daemon's own user (a
 * daemon run unprivileged for tests). */
static int peer_allowed(const struct pa_peer *p)
{
	return p->uid == 0 || p->uid == geteuid();
}

/* A session closed: seal seal_delay_ms later, so that the audit events of
 * its last moments, which reach the auditd plugin after PAM's close, are
 * in the log before the checkpoint that seals the close; anything with
 * its key appended after that checkpoint, readers show as appended later.
 * Closes that keep coming postpone the seal at most four delays. */
static void want_seal(struct daemon *d)
{
	long long due = d->now + d->cfg.seal_delay_ms;

	if (!d->seal_wanted) {
		d->seal_wanted = 1;
		d->seal_first = d->now;
	}
	if (due > d->seal_first + 4 * d->cfg.seal_delay_ms)
		due = d->seal_first + 4 * d->cfg.seal_delay_ms;
	d->seal_due = due;
}

/* A whole request is in: append it, or answer why not. */
static void client_request(struct daemon *d, struct client *c)
{
	privaudit_event *ev = NULL;
	privaudit_status st;
	enum pa_wire_code code;
	const char *why = NULL;
	unsigned flags = 0;
	int closes = 0;

	d->received++;
	code = pa_request_event(c->body, c->body_len, &c->peer, &ev, &flags, &closes, &why);
	if (code != PA_WIRE_OK) {
		d->refused++;
		logmsg(LOG_WARNING, "request from pid %ld uid %ld not recorded: %s",
		       (long)c->peer.pid, (long)c->peer.uid, why);
		c->close_after = 1;
		client_answer(d, c, code, why);
		return;
	}
	if (d->budget.over && d->cfg.budget_refuse) {
		/* budget_policy = refuse: the module's failmode decides */
		privaudit_event_free(ev);
		d->refused++;
		client_answer(d, c, PA_WIRE_FAILED, "the log is over its disk budget (max_log_bytes)");
		return;
	}
	if (d->log == NULL && open_log(d, PRIVAUDIT_OPEN_ANNOUNCE) < 0) {
		privaudit_event_free(ev);
		client_answer(d, c, PA_WIRE_FAILED, "the log cannot be opened");
		return;
	}
	st = privaudit_append_event(d->log, ev);
	privaudit_event_free(ev);
	if (st == PRIVAUDIT_E_NOSPACE) {
		disk_full(d);
		client_answer(d, c, PA_WIRE_FAILED, privaudit_strerror(st));
		return;
	}
	if (st != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "append failed: %s", privaudit_strerror(st));
		client_answer(d, c, PA_WIRE_FAILED, privaudit_strerror(st));
		return;
	}
	c->state = C_WAIT;
	c->flags = flags;
	d->pending++;
	d->group_flags |= flags;
	if (closes && d->cfg.seal_on_close)
		want_seal(d);
	client_events(d, c, 0);
}

/* Read what the client sent; a request is handled once it is whole. */
static void client_read(struct daemon *d, struct client *c)
{
	for (;;) {
		unsigned char *dst;
		size_t want;
		ssize_t n;

		if (c->hdr_got < 4) {
			dst = c->hdr + c->hdr_got;
			want = 4 - c->hdr_got;
		} else {
			if (c->body_got == c->body_cap) {
				/* grow with what arrives, not with what the header
				 * claims: a stalled sender holds only what it sent */
				size_t cap = c->body_cap ? c->body_cap * 2 : 1024;
				unsigned char *b;

				if (cap > c->body_len)
					cap = c->body_len;
				b = realloc(c->body, cap);
				if (b == NULL) {
					c->close_after = 1;
					client_answer(d, c, PA_WIRE_FAILED, "out of memory");
					return;
				}
				c->body = b;
				c->body_cap = cap;
			}
			dst = c->body + c->body_got;
			want = (c->body_cap < c->body_len ? c->body_cap : c->body_len) - c->body_got;
		}
		n = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
			client_free(d, c);   /* gone before its request was whole */
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (c->hdr_got < 4) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < 4)
				continue;
			c->body_len = pa_wire_load32(c->hdr);
			c->body_got = 0;
			if (c->body_len == 0 || c->body_len > PA_WIRE_REQUEST_MAX) {
				d->refused++;
				c->close_after = 1;
				client_answer(d, c, c->body_len ? PA_WIRE_TOOBIG : PA_WIRE_BAD,
					      c->body_len ? "request too large" : "empty request");
				return;
			}
			continue;
		}
		c->body_got += (size_t)n;
		if (c->body_got == c->body_len) {
			client_request(d, c);
			return;
		}
	}
}

static void client_io(struct daemon *d, struct client *c, uint32_t events)
{
	if (c->state == C_WRITE) {
		int rc = client_flush(c);

		if (rc < 0 || (rc > 0 && c->close_after)) {
			client_free(d, c);
		} else if (rc > 0) {
			c->state = C_READ;
			c->hdr_got = c->body_got = c->body_len = 0;
			client_events(d, c, EPOLLIN);
		}
		return;
	}
	if (c->state == C_WAIT && (events & (EPOLLHUP | EPOLLERR))) {
		/* gone while its record waits for the group: its slot and fd
		 * are freed now; the record stays queued (pending) */
		client_free(d, c);
		return;
	}
	if (c->state == C_READ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		client_read(d, c);
}

/* All slots taken: the oldest client that has sent nothing of a request
 * (connected and stopped, or answered and idle) makes room, so that users
 * who stop their own su or sudo cannot fill the slots and turn every
 * other login away.  0 when one was let go. */
static int evict_idle(struct daemon *d)
{
	struct client *c, *oldest = NULL;

	for (c = d->clients; c != NULL; c = c->next)
		if (c->state == C_READ && c->hdr_got == 0)
			oldest = c;   /* the list is newest first */
	if (oldest == NULL)
		return -1;
	client_free(d, oldest);
	return 0;
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		struct client *c;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct epoll_event ev;
		int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* the backlog stays readable: without a pause
				 * the loop would spin (and log) until a client
				 * leaves, or for 100 ms. */
				/* once per episode, and at most once a
				 * second: idle clients timing out one by one
				 * would each start a new one */
				if (!d->accept_full && d->now - d->accept_logged >= 1000) {
					logmsg(LOG_ERR, "accept: %s: %ld clients; new ones wait",
					       strerror(errno), d->nclients);
					d->accept_logged = d->now;
				}
				d->accept_full = 1;
				d->accept_at = d->now + 100;
				listen_events(d, 0);
			}
			return;
		}
		d->accept_full = 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
			close(fd);
			continue;
		}
		if (d->nclients >= d->cfg.max_clients)
			(void)evict_idle(d);
		if (d->nclients >= d->cfg.max_clients || (c = calloc(1, sizeof(*c))) == NULL) {
			unsigned char a[64];
			size_t n = pa_wire_answer(a, sizeof(a), PA_WIRE_FAILED, "too many clients");

			(void)send(fd, a, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->deadline = d->now + d->cfg.client_timeout_ms;
		c->next = d->clients;
		if (c->next != NULL)
			c->next->prev = c;
		d->clients = c;
		d->nclients++;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			client_free(d, c);
			continue;
		}
		if (!peer_allowed(&c->peer)) {
			d->refused++;
			logmsg(LOG_WARNING, "refused a client: pid %ld uid %ld is not root",
			       (long)c->peer.pid, (long)c->peer.uid);
			c->close_after = 1;
			client_answer(d, c, PA_WIRE_REFUSED, "only root may write to the log");
		}
	}
}

/* ------------------------------------------------------------ groups */

/* One commit for every record appended since the last: written, made
 * durable when any of them asked for it, sealed when one asked for that;
 * then every waiting client gets its answer. */
static void commit_group(struct daemon *d)
{
	privaudit_status st;
	struct client *c, *next;

	if (d->pending == 0 || d->now < d->retry_at)
		return;
	if (d->log == NULL) {
		st = PRIVAUDIT_E_STATE;   /* dropped after a failed seal */
		goto answer;
	}
	if (d->group_flags & PA_WIRE_SEAL) {
		st = privaudit_seal(d->log);
		if (st == PRIVAUDIT_OK) {
			d->last_seal = d->now;
			d->seal_wanted = 0;
		}
	} else {
		st = privaudit_write(d->log);
		if (st == PRIVAUDIT_OK && (d->group_flags & PA_WIRE_SYNC))
			st = privaudit_sync(d->log);
	}
	if (st == PRIVAUDIT_E_LOCK_TIMEOUT) {
		/* another root writer (the plugin, the CLI) holds the log: the
		 * clients wait, within their own timeout, and the group is
		 * tried again */
		d->now = mono_ms();   /* the lock wait took time */
		logmsg(LOG_WARNING, "log lock busy; %ld records wait", d->pending);
		d->retry_at = d->now + 50;
		return;
	}
	if (st == PRIVAUDIT_E_NOSPACE) {
		disk_full(d);
		pad_ship_poke(d->ship);   /* the gap record goes off the host */
	} else if (st != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "commit failed: %s (%s)", privaudit_strerror(st),
		       privaudit_log_error(d->log));
	} else {
		if (d->nospace)
			logmsg(LOG_WARNING, "room on the log's disk again: records are written");
		d->nospace = 0;
		pad_ship_poke(d->ship);   /* the records go off the host at once */
	}
answer:
	d->now = mono_ms();
	d->pending = 0;
	for (c = d->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state != C_WAIT)
			continue;
		if (st == PRIVAUDIT_OK)
			d->recorded++;
		client_answer(d, c, st == PRIVAUDIT_OK ? PA_WIRE_OK : PA_WIRE_FAILED,
			      st == PRIVAUDIT_OK ? NULL : privaudit_strerror(st));
	}
	d->group_flags = 0;
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_NOSPACE)
		drop_log(d);
}

/* Timers: the heartbeat, session-close seals, clients out of time. */
static void housekeeping(struct daemon *d)
{
	struct client *c, *next;

	if (d->accept_at != 0 && d->now >= d->accept_at)
		accept_resume(d);
	if (d->now >= d->budget_at)
		d->budget_at = pad_budget_tick(&d->budget, &d->cfg, d->now, logmsg);
	if (d->pending > 0) {
		/* a group waits for the lock: it goes first, then the seals */
	} else if (d->now - d->last_seal >= d->cfg.heartbeat_s * 1000) {
		privaudit_event *hb = NULL;

		if ((d->log != NULL || open_log(d, PRIVAUDIT_OPEN_ANNOUNCE) == 0) &&
		    privaudit_event_new(&hb, "heartbeat") == PRIVAUDIT_OK) {
			if (privaudit_event_set_int(hb, "events_seen", (int64_t)d->received) ==
			    PRIVAUDIT_OK)
				(void)privaudit_append_event(d->log, hb);
			privaudit_event_free(hb);
		}
		if (seal(d) < 0)
			d->last_seal = d->now;   /* tried: again at the next beat */
	} else if (d->seal_wanted && d->now >= d->seal_due &&
		   d->now - d->last_seal >= d->cfg.seal_min_ms) {
		if (seal(d) < 0)
			d->seal_wanted = 0;   /* the heartbeat will try again */
	}
	for (c = d->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state != C_WAIT && d->now >= c->deadline)
			client_free(d, c);   /* stalled: its record, if any, is in */
	}
}

static int next_timeout(const struct daemon *d)
{
	long long t = d->last_seal + d->cfg.heartbeat_s * 1000;
	const struct client *c;

	if (d->pending > 0)
		t = d->retry_at;   /* seals wait for the group: no spin on them */
	else if (d->seal_wanted) {
		long long s = d->last_seal + d->cfg.seal_min_ms;

		if (s < d->seal_due)
			s = d->seal_due;
		if (s < t)
			t = s;
	}
	if (d->accept_at != 0 && d->accept_at < t)
		t = d->accept_at;
	if (d->budget_at < t)
		t = d->budget_at;
	for (c = d->clients; c != NULL; c = c->next)
		if (c->state != C_WAIT && c->deadline < t)
			t = c->deadline;
	t -= d->now;
	if (t < 0)
		return 0;
	return t > 60000 ? 60000 : (int)t;
}

/* ------------------------------------------------------------ setup */

static void on_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			d->reload = 1;
		else
			d->stop = 1;
	}
}

/* ------------------------------------------------------------ shipping */

/* The --ship-* options win over the file, also on reload. */
static int ship_overrides(struct pad_config *c, const struct pad_config *cli)
{
	return (cli->ship_to != NULL && pad_config_set(c, "ship_to", cli->ship_to) < 0) ||
	       (cli->ship_tls_ca != NULL && pad_config_set(c, "ship_tls_ca", cli->ship_tls_ca) < 0) ||
	       (cli->ship_tls_cert != NULL &&
		pad_config_set(c, "ship_tls_cert", cli->ship_tls_cert) < 0) ||
	       (cli->ship_tls_key != NULL && pad_config_set(c, "ship_tls_key", cli->ship_tls_key) < 0) ||
	       (cli->ship_tls_peer != NULL &&
		pad_config_set(c, "ship_tls_peer", cli->ship_tls_peer) < 0)
		       ? -1 : 0;
}

/* dst takes src's ship_* settings (its own are freed). */
static void move_ship(struct pad_config *dst, struct pad_config *src)
{
	char **d[] = {&dst->ship_to, &dst->ship_tls_ca, &dst->ship_tls_cert, &dst->ship_tls_key,
		      &dst->ship_tls_peer};
	char **s[] = {&src->ship_to, &src->ship_tls_ca, &src->ship_tls_cert, &src->ship_tls_key,
		      &src->ship_tls_peer};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		free(*d[i]);
		*d[i] = *s[i];
		*s[i] = NULL;
	}
	dst->ship_window = src->ship_window;
}

static void ship_start(struct daemon *d)
{
	if (d->cfg.ship_to != NULL && pad_ship_start(&d->ship, &d->cfg, logmsg) < 0)
		logmsg(LOG_ERR, "records are not shipped: the shipper could not start");
}

/* drain_ms: time left to the shipper to send what the log holds. */
static void ship_stop(struct daemon *d, int drain_ms)
{
	(void)pad_ship_stop(d->ship, drain_ms, 5000);
	d->ship = NULL;
}

/* ------------------------------------------------------------ reload */

/* SIGHUP: settings other than the log directory and the socket take effect
 * now; those two need a restart.  New shipping settings restart the
 * shipper (from its persisted position). */
static void reload(struct daemon *d)
{
	struct pad_config c;
	const char *why = NULL;
	int reship;

	d->reload = 0;
	if (d->config_path == NULL) {
		logmsg(LOG_INFO, "SIGHUP: no configuration file to reload");
		return;
	}
	pad_config_defaults(&c);
	if (pad_config_load(&c, d->config_path, logmsg) < 0) {
		pad_config_free(&c);
		return;
	}
	if (d->cli_heartbeat_s > 0)
		c.heartbeat_s = d->cli_heartbeat_s;
	if (ship_overrides(&c, &d->cli_ship) < 0 || pad_config_check_ship(&c, &why) < 0) {
		logmsg(LOG_ERR, "%s: %s: the shipping settings stay as they were", d->config_path,
		       why != NULL ? why : "out of memory");
		move_ship(&c, &d->cfg);
		reship = d->ship == NULL && c.ship_to != NULL;
	} else {
		reship = !pad_config_same_ship(&c, &d->cfg) || (d->ship == NULL && c.ship_to != NULL);
	}
	free(c.dir);
	free(c.socket_path);
	c.dir = d->cfg.dir;
	c.socket_path = d->cfg.socket_path;
	d->cfg.dir = d->cfg.socket_path = NULL;
	pad_config_free(&d->cfg);
	d->cfg = c;
	if (d->log != NULL) {
		(void)privaudit_set_lock_timeout(d->log, (int)d->cfg.lock_timeout_ms);
		(void)privaudit_set_reserve(d->log, (uint64_t)d->cfg.disk_reserve);
	}
	if (reship) {
		ship_stop(d, 0);
		ship_start(d);
	}
	/* the budget is looked at again now, and may archive at once */
	d->budget.next_check = d->budget.next_archive = 0;
	d->budget_at = 0;
	logmsg(LOG_INFO, "configuration reloaded from %s", d->config_path);
}

/* The listening socket: inherited from systemd (LISTEN_FDS), else made at
 * the configured path, mode 0600, in a directory made 0755 if missing. */
static int listen_socket(struct daemon *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sa;
	struct stat stt;
	char parent[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int fd;

	if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid() &&
	    strtol(fds, NULL, 10) >= 1) {
		fd = SD_LISTEN_FDS_START;
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		d->listen_inherited = 1;
		return fd;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(d->cfg.socket_path) >= sizeof(sa.sun_path)) {
		logmsg(LOG_ERR, "socket path too long: %s", d->cfg.socket_path);
		return -1;
	}
	strcpy(sa.sun_path, d->cfg.socket_path);
	strcpy(parent, d->cfg.socket_path);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
			logmsg(LOG_ERR, "cannot make %s: %s", parent, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		logmsg(LOG_ERR, "socket: %s", strerror(errno));
		return -1;
	}
	/* a socket left by a daemon that died is replaced; one that still
	 * answers (another daemon, systemd's) and anything else at the path
	 * are not ours to remove */
	if (lstat(sa.sun_path, &stt) == 0) {
		int probe;

		if (!S_ISSOCK(stt.st_mode)) {
			logmsg(LOG_ERR, "%s exists and is not a socket", sa.sun_path);
			close(fd);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			logmsg(LOG_ERR, "%s is in use by another server", sa.sun_path);
			close(probe);
			close(fd);
			return -1;
		}
		if (probe >= 0 && errno != ECONNREFUSED) {
			logmsg(LOG_ERR, "%s: %s", sa.sun_path, strerror(errno));
			close(probe);
			close(fd);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		(void)unlink(sa.sun_path);
	}
	old = umask(0177);   /* the socket is born 0600: only root connects */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		logmsg(LOG_ERR, "cannot bind %s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (stat(sa.sun_path, &stt) == 0) {
		d->sock_dev = stt.st_dev;
		d->sock_ino = stt.st_ino;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		logmsg(LOG_ERR, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int setup(struct daemon *d)
{
	struct epoll_event ev;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sfd < 0 || d->ep < 0) {
		logmsg(LOG_ERR, "signalfd/epoll: %s", strerror(errno));
		return -1;
	}
	d->lfd = listen_socket(d);
	if (d->lfd < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = &d->lfd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev) < 0)
		return -1;
	ev.data.ptr = &d->sfd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sfd, &ev) < 0)
		return -1;
	return 0;
}

/* Without --foreground: detach as a classic daemon. */
static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	use_stderr = 0;
	return 0;
}

static void serve(struct daemon *d)
{
	struct epoll_event evs[64];

	while (!d->stop) {
		int n;

		d->now = mono_ms();
		n = epoll_wait(d->ep, evs, 64, next_timeout(d));
		d->now = mono_ms();
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->lfd)
				accept_clients(d);
			else if (p == &d->sfd)
				on_signals(d);
			else
				client_io(d, p, evs[i].events);
		}
		/* everything that arrived while the last group was on the
		 * disk is the next group */
		commit_group(d);
		if (d->reload)
			reload(d);
		housekeeping(d);
	}
}

/* SIGTERM: answer what is in, stop the writer, seal, exit. */
static int shutdown_log(struct daemon *d)
{
	int rc = 0;

	d->retry_at = 0;
	commit_group(d);
	while (d->clients != NULL)
		client_free(d, d->clients);
	if (d->log != NULL) {
		privaudit_status st = privaudit_close(d->log);   /* writer stop */

		d->log = NULL;
		if (st != PRIVAUDIT_OK) {
			logmsg(LOG_ERR, "closing the log failed: %s", privaudit_strerror(st));
			rc = 1;
		}
	}
	if (open_log(d, 0) == 0) {
		privaudit_status st = privaudit_seal(d->log);

		if (st != PRIVAUDIT_OK) {
			logmsg(LOG_ERR, "final seal failed: %s", privaudit_strerror(st));
			rc = 1;
		}
		(void)privaudit_close(d->log);
		d->log = NULL;
	} else if (d->open_st != PRIVAUDIT_E_NOLOG) {
		/* no log yet (before privaudit init) is nothing to seal: a
		 * service stopped then has not failed */
		rc = 1;
	}
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROGRAM " --dir DIR [--socket PATH] [--heartbeat SECONDS]\n"
		"                  [--config FILE] [--foreground]\n"
		"                  [--ship-to HOST:PORT [--ship-tls-ca FILE --ship-tls-cert FILE\n"
		"                   --ship-tls-key FILE [--ship-tls-peer NAME]]]\n"
		"The host's writer for PAM records (privauditd(8)).\n"
		"  --dir DIR            the log directory (made with privaudit init)\n"
		"  --socket PATH        where clients connect (default " PRIVAUDITD_SOCKET ")\n"
		"  --heartbeat SECONDS  seal at least this often (default 60)\n"
		"  --config FILE        settings file (default " PRIVAUDITD_CONF " when present)\n"
		"  --foreground         do not detach; log to standard error too\n"
		"  --ship-to HOST:PORT  send every record to this RELP server (rsyslog imrelp)\n"
		"  --ship-tls-ca FILE   TLS: the CA that signed the server's certificate\n"
		"  --ship-tls-cert FILE TLS: this host's certificate, and its key:\n"
		"  --ship-tls-key FILE  without the three, the link is plain RELP\n"
		"  --ship-tls-peer NAME the name the server's certificate must hold\n"
		"                       (default: HOST of --ship-to)\n"
		"  --help               this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"heartbeat", required_argument, NULL, 'H'},
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"ship-to", required_argument, NULL, 0x100},
		{"ship-tls-ca", required_argument, NULL, 0x101},
		{"ship-tls-cert", required_argument, NULL, 0x102},
		{"ship-tls-key", required_argument, NULL, 0x103},
		{"ship-tls-peer", required_argument, NULL, 0x104},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const ship_keys[] = {"ship_to", "ship_tls_ca", "ship_tls_cert",
						"ship_tls_key", "ship_tls_peer"};
	struct daemon d;
	struct pad_config cli;
	const char *why = NULL;
	int opt, rc;

	memset(&d, 0, sizeof(d));
	d.ep = d.lfd = d.sfd = -1;
	pad_config_defaults(&d.cfg);
	pad_config_defaults(&cli);
	pad_config_defaults(&d.cli_ship);
	cli.heartbeat_s = 0;
	while ((opt = getopt_long(argc, argv, "d:s:H:c:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (pad_config_set(&cli, "dir", optarg) < 0)
				goto bad;
			break;
		case 's':
			if (pad_config_set(&cli, "socket", optarg) < 0)
				goto bad;
			break;
		case 'H':
			if (pad_config_set(&cli, "heartbeat", optarg) < 0)
				goto bad;
			break;
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			d.foreground = 1;
			break;
		case 0x100:
		case 0x101:
		case 0x102:
		case 0x103:
		case 0x104:
			if (optarg[0] == '\0' ||
			    pad_config_set(&d.cli_ship, ship_keys[opt - 0x100], optarg) < 0) {
				fprintf(stderr, PROGRAM ": bad --%s '%s'%s\n", opts[opt - 0x100 + 5].name,
					optarg, opt == 0x100 ? " (HOST:PORT, [ADDRESS]:PORT)"
					: opt < 0x104 ? " (an absolute path)" : "");
				goto bad;
			}
			break;
		case 'h':
			usage(stdout);
			pad_config_free(&d.cli_ship);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	openlog(PROGRAM, LOG_PID, LOG_DAEMON);
	if (d.config_path == NULL && access(PRIVAUDITD_CONF, F_OK) == 0)
		d.config_path = PRIVAUDITD_CONF;
	if (d.config_path != NULL && pad_config_load(&d.cfg, d.config_path, logmsg) < 0)
		return 1;
	if (cli.dir != NULL) {
		free(d.cfg.dir);
		d.cfg.dir = cli.dir;
		cli.dir = NULL;
	}
	if (cli.socket_path != NULL) {
		free(d.cfg.socket_path);
		d.cfg.socket_path = cli.socket_path;
		cli.socket_path = NULL;
	}
	if (cli.heartbeat_s > 0)
		d.cfg.heartbeat_s = cli.heartbeat_s;
	d.cli_heartbeat_s = cli.heartbeat_s;
	pad_config_free(&cli);
	if (d.cfg.dir == NULL) {
		fprintf(stderr, PROGRAM ": --dir DIR (or dir = in the configuration) is required\n");
		goto bad;
	}
	if (d.cfg.socket_path == NULL && (d.cfg.socket_path = strdup(PRIVAUDITD_SOCKET)) == NULL)
		return 1;
	if (ship_overrides(&d.cfg, &d.cli_ship) < 0 || pad_config_check_ship(&d.cfg, &why) < 0) {
		fprintf(stderr, PROGRAM ": %s\n", why != NULL ? why : "out of memory");
		goto bad;
	}

	if (!d.foreground && daemonize() < 0) {
		logmsg(LOG_ERR, "cannot detach: %s", strerror(errno));
		return 1;
	}
	if (setup(&d) < 0)
		return 1;
	d.now = mono_ms();
	d.last_seal = d.now;
	/* the writer announces itself now: a start with no stop shows a crash */
	if (open_log(&d, PRIVAUDIT_OPEN_ANNOUNCE) < 0 || privaudit_commit(d.log) != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "cannot write to log %s%s%s", d.cfg.dir, d.log ? ": " : "",
		       d.log ? privaudit_log_error(d.log) : "");
		drop_log(&d);
		/* keep serving: each request answers why, and tries again */
	}
	logmsg(LOG_INFO, "serving %s on %s", d.cfg.dir,
	       d.listen_inherited ? "the socket passed by systemd" : d.cfg.socket_path);
	ship_start(&d);
	serve(&d);
	pad_budget_stop(&d.budget);
	rc = shutdown_log(&d);
	/* the last records (writer stop, the final checkpoint) still go, if
	 * the collector takes them within 2 s */
	ship_stop(&d, 2000);
	logmsg(LOG_INFO, "stopped: %llu requests, %llu recorded, %llu refused",
	       (unsigned long long)d.received, (unsigned long long)d.recorded,
	       (unsigned long long)d.refused);
	if (!d.listen_inherited) {
		struct stat stt;

		/* only the socket this daemon made: a later daemon's stays */
		if (lstat(d.cfg.socket_path, &stt) == 0 && stt.st_dev == d.sock_dev &&
		    stt.st_ino == d.sock_ino)
			(void)unlink(d.cfg.socket_path);
	}
	close(d.lfd);
	close(d.sfd);
	close(d.ep);
	pad_config_free(&d.cfg);
	pad_config_free(&d.cli_ship);
	return rc;
bad:
	usage(stderr);
	pad_config_free(&cli);
	pad_config_free(&d.cfg);
	pad_config_free(&d.cli_ship);
	return 2;
}
