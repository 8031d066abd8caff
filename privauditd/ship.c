/* SPDX-License-Identifier: ISC */
/* ship.c: privauditd's shipper.  A thread follows the log through the
 * public reader API and sends every record, as its exact stored bytes, to a
 * RELP server (librelp), persisting in DIR/ship-state how far the server has
 * acknowledged; it never touches the writer's handle or its lock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <librelp.h>

#include "privaudit.h"
#include "ship.h"
#include "text.h"

#define STATE_FILE "ship-state"
#define STATE_TMP "ship-state.tmp"
#define WAKE_SIGNAL SIGUSR1
/* doc/format.md: "fields" gives way to "fields_omitted" beyond this. */
#define FIELDS_MAX (16u * 1024u)
/* A record's entry is at most 8 + PRIVAUDIT_RECORD_MAX bytes: its base64,
 * the fields, the note and the header stay under 6 MiB. */
#define MSG_MAX (6u * 1024u * 1024u)
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* A TLS handshake or authentication that fails needs an administrator
 * (certificates, names), and librelp 1.11 leaks some 50 KiB at each such
 * failure (fixed upstream later): those are retried every 5 minutes at
 * most. */
#define BACKOFF_TLS_MAX_MS 300000
/* The log is read again this often when nothing woke the thread: the
 * auditd plugin and the CLI append without telling privauditd. */
#define POLL_INOTIFY_MS 1000
#define POLL_BLIND_MS 50
/* After the last record, this much quiet before the sync messages that get
 * it acknowledged: records that follow soon push the window themselves. */
#define SYNC_DELAY_MS 500
/* ship-state is written on change, at most this often. */
#define PERSIST_MS 250
/* librelp's own waits: for room in the window, and for a connection. */
#define RELP_TIMEOUT_S 30
#define RELP_CONN_TIMEOUT_S 10

struct pad_ship {
	/* settings (copies) */
	char *dir, *target, *host, *port, *ca, *cert, *key, *peer;
	int window;
	pad_log_fn log;

	/* between the threads */
	pthread_t thread;
	int wake_fd;              /* eventfd: the log grew, or stop */
	int stop;                 /* __atomic: stop asked */
	long long drain_until;    /* __atomic: after this (monotonic ms), stop now */
	int relp_stop;            /* __atomic: librelp's stop flag, set at drain_until */

	/* the thread's own */
	int dirfd, ino_fd;
	relpEngine_t *engine;
	relpClt_t *clt;
	privaudit_reader *reader;
	char origin[1024];
	char log_id[65];          /* the log's, hex ("" until read) */
	char state_log_id[65];    /* the one ship-state was written for */
	uint64_t acked;           /* records 0..acked-1 acknowledged */
	uint64_t next;            /* index of the next record to send */
	int64_t acked_time;
	uint64_t *ring;           /* per message of this session, by number mod window:
				     records acknowledged once it is */
	uint64_t msgs;            /* messages sent in this session */
	int connected;
	char last_error[256];
	char relp_msg[256];       /* librelp's own words on the failure of this call */
	int relp_auth;            /* relp_msg is about TLS authentication */
	int tls_failed;           /* the last connection failed in TLS */
	int dirty;
	long long last_write, backoff_ms;
	char hostname[256];
	char logged[256];         /* last error said in syslog, and when */
	long long logged_at;
	pa_text msg;
};

static __thread struct pad_ship *current;   /* for librelp's generic errors */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stop_asked(struct pad_ship *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* Stop now: asked, and the drain time is over. */
static int must_stop(struct pad_ship *s)
{
	return stop_asked(s) && mono_ms() >= __atomic_load_n(&s->drain_until, __ATOMIC_ACQUIRE);
}

/* One line of plain text: what librelp or a peer said is not trusted. */
static void set_text(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || (unsigned char)src[i] == 0x7f ? ' ' : src[i];
	dst[i] = '\0';
}

static void on_relp_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
	struct pad_ship *s = usr;
	char m[256];

	(void)objinfo;
	if (s == NULL || s->relp_msg[0] != '\0')
		return;   /* the first is the cause; the rest follow from it */
	snprintf(m, sizeof(m), "%s (librelp %d)", errmsg != NULL ? errmsg : "?", (int)code);
	set_text(s->relp_msg, sizeof(s->relp_msg), m);
}

static void on_relp_auth_err(void *usr, char *authinfo, char *errmsg, relpRetVal code)
{
	struct pad_ship *s = usr;
	char m[256];

	if (s == NULL || s->relp_auth)
		return;
	snprintf(m, sizeof(m), "TLS authentication of the server failed: %s (peer %s, librelp %d)",
		 errmsg != NULL ? errmsg : "?", authinfo != NULL ? authinfo : "?", (int)code);
	set_text(s->relp_msg, sizeof(s->relp_msg), m);   /* says more than any other */
	s->relp_auth = 1;
}

static void on_relp_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
	(void)objinfo;
	on_relp_err(current, NULL, errmsg, code);
}

static const char *relp_name(relpRetVal r)
{
	switch (r) {
	case RELP_RET_OUT_OF_MEMORY: return "out of memory";
	case RELP_RET_SESSION_BROKEN: return "session broken";
	case RELP_RET_SESSION_CLOSED: return "the server closed the session";
	case RELP_RET_IO_ERR: return "I/O error";
	case RELP_RET_TIMED_OUT: return "timed out";
	case RELP_RET_RSP_STATE_ERR: return "the server refused a message";
	case RELP_RET_CMD_DISABLED: return "the server does not take syslog messages";
	case RELP_RET_ERR_TLS_SETUP: return "TLS setup failed";
	case RELP_RET_ERR_TLS_HANDS: return "TLS handshake failed";
	case RELP_RET_ERR_TLS: return "TLS error";
	case RELP_RET_AUTH_ERR_NAME: return "the server's certificate does not name the peer";
	case RELP_RET_AUTH_NO_CERT: return "the server sent no certificate";
	case RELP_RET_AUTH_CERT_INVL: return "the server's certificate is not valid";
	case RELP_RET_ERR_NO_TLS: return "librelp has no TLS";
	default: return "RELP error";
	}
}

/* ------------------------------------------------------------ state */

static void mark_error(struct pad_ship *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mark_error(struct pad_ship *s, const char *fmt, ...)
{
	char m[256];
	long long now = mono_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	set_text(s->last_error, sizeof(s->last_error), m);
	s->dirty = 1;
	/* the same failure again (the server is down) is said every 10 minutes */
	if (strcmp(s->logged, s->last_error) != 0 || now - s->logged_at >= 600000) {
		s->log(LOG_WARNING, "shipping to %s: %s", s->target, s->last_error);
		strcpy(s->logged, s->last_error);
		s->logged_at = now;
	}
}

static void ack_to(struct pad_ship *s, uint64_t n)
{
	if (n <= s->acked)
		return;
	s->acked = n;
	s->acked_time = (int64_t)time(NULL);
	s->backoff_ms = 0;   /* the link works: a later failure retries soon, */
	s->logged[0] = '\0';  /* and is said again */
	s->dirty = 1;
}

/* DIR/ship-state (doc/format.md): a temporary file, fdatasync'd, renamed
 * over it.  The directory is not fsync'd: after a power cut the older
 * file, with a smaller acked, only makes records go again. */
static int write_state(struct pad_ship *s)
{
	char buf[2048];
	int n, fd;

	n = snprintf(buf, sizeof(buf),
		     "target=%s\ntls=%s\nlog_id=%s\nacked=%" PRIu64 "\nacked_time=%" PRId64
		     "\nconnected=%s\nlast_error=%s\nupdated=%lld\n",
		     s->target, s->ca != NULL ? "yes" : "no", s->log_id, s->acked, s->acked_time,
		     s->connected ? "yes" : "no", s->last_error, (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	fd = openat(s->dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0) {   /* whatever the umask: ship-status reads it */
		close(fd);
		return -1;
	}
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(fd, buf + done, (size_t)n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	if (fdatasync(fd) < 0) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	return renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_FILE);
}

/* Write the state when it changed, at most every PERSIST_MS (force: now). */
static void persist(struct pad_ship *s, int force)
{
	long long now = mono_ms();

	if (!s->dirty || (!force && now - s->last_write < PERSIST_MS))
		return;
	s->last_write = now;
	if (write_state(s) < 0) {
		int e = errno;

		if (strncmp(s->logged, "ship-state", 10) != 0) {
			s->log(LOG_ERR, "cannot write %s/" STATE_FILE ": %s", s->dir, strerror(e));
			snprintf(s->logged, sizeof(s->logged), "ship-state");
		}
		return;   /* dirty still: tried again later */
	}
	s->dirty = 0;
}

/* The position from an earlier run: valid for the same target and log. */
static void load_state(struct pad_ship *s)
{
	char buf[4096], *line, *save = NULL;
	char target[512] = "";
	uint64_t acked = 0;
	int64_t at = 0;
	ssize_t n;
	int fd;

	fd = openat(s->dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;   /* first run */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *end;

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "target") == 0) {
			snprintf(target, sizeof(target), "%s", eq);
		} else if (strcmp(line, "log_id") == 0) {
			snprintf(s->state_log_id, sizeof(s->state_log_id), "%s", eq);
		} else if (strcmp(line, "acked") == 0) {
			errno = 0;
			acked = strtoull(eq, &end, 10);
			if (errno != 0 || *end != '\0' || eq[0] < '0' || eq[0] > '9')
				acked = 0;
		} else if (strcmp(line, "acked_time") == 0) {
			at = strtoll(eq, &end, 10);
			if (*end != '\0')
				at = 0;
		}
	}
	if (strcmp(target, s->target) != 0) {
		if (target[0] != '\0')
			s->log(LOG_NOTICE, "shipping to %s, no longer to %s: every record goes from the first",
			       s->target, target);
		s->state_log_id[0] = '\0';
		return;
	}
	s->acked = acked;
	s->acked_time = at;
}

/* ------------------------------------------------------------ waiting */

/* Wait at most ms for a poke, the log to change, or stop; 1 when woken. */
static int wait_wake(struct pad_ship *s, long long ms)
{
	struct pollfd p[2];
	int woken = 0;

	p[0].fd = s->wake_fd;
	p[0].events = POLLIN;
	p[1].fd = s->ino_fd;
	p[1].events = POLLIN;
	if (ms < 0)
		ms = 0;
	if (poll(p, s->ino_fd >= 0 ? 2 : 1, (int)(ms > INT_MAX ? INT_MAX : ms)) <= 0)
		return 0;
	if (p[0].revents & POLLIN) {
		uint64_t v;

		if (read(s->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			woken = 1;
	}
	if (s->ino_fd >= 0 && (p[1].revents & POLLIN)) {
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t n;

		/* any segment written or made; the rest (index, ship-state) is not news */
		while ((n = read(s->ino_fd, ev, sizeof(ev))) > 0) {
			for (char *p2 = ev; p2 < ev + n;) {
				const struct inotify_event *ie = (const struct inotify_event *)(void *)p2;

				if (ie->len == 0 || strncmp(ie->name, "seg-", 4) == 0 ||
				    (ie->mask & IN_Q_OVERFLOW))
					woken = 1;
				p2 += sizeof(*ie) + ie->len;
			}
		}
	}
	return woken;
}

/* The time to wait for: at most ms, less when the state is due to be written. */
static long long wait_for(struct pad_ship *s, long long ms)
{
	if (s->dirty) {
		long long due = s->last_write + PERSIST_MS - mono_ms();

		if (due < ms)
			ms = due < 0 ? 0 : due;
	}
	return ms;
}

static long long poll_ms(const struct pad_ship *s)
{
	return s->ino_fd >= 0 ? POLL_INOTIFY_MS : POLL_BLIND_MS;
}

/* After a failure: 0.5 s, doubling up to 30 s (5 minutes after a TLS
 * failure), each drawn in [d/2, d] so that a fleet does not come back in
 * step.  Only a stop cuts it short. */
static void back_off(struct pad_ship *s)
{
	long long max = s->tls_failed ? BACKOFF_TLS_MAX_MS : BACKOFF_MAX_MS, until;
	uint32_t r = 0;

	s->backoff_ms = s->backoff_ms == 0 ? BACKOFF_MIN_MS
			: s->backoff_ms * 2 > max ? max : s->backoff_ms * 2;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)mono_ms() * 2654435761u;
	until = mono_ms() + s->backoff_ms / 2 + (long long)(r % (uint32_t)(s->backoff_ms / 2 + 1));
	while (!stop_asked(s)) {
		long long left = until - mono_ms();

		persist(s, 0);
		if (left <= 0)
			break;
		(void)wait_wake(s, wait_for(s, left));
	}
}

/* ------------------------------------------------------------ the log */

static void close_reader(struct pad_ship *s)
{
	privaudit_reader_free(s->reader);
	s->reader = NULL;
}

/* Open the log and learn its origin and id from the genesis record. */
static int open_reader(struct pad_ship *s)
{
	const privaudit_record *rec;
	const void *origin, *id;
	size_t ol, il;
	privaudit_status st;

	st = privaudit_reader_open(&s->reader, s->dir);
	if (st != PRIVAUDIT_OK) {
		mark_error(s, "cannot read the log %s: %s", s->dir, privaudit_strerror(st));
		return -1;
	}
	st = privaudit_reader_get(s->reader, 0, &rec);
	if (st != PRIVAUDIT_OK) {
		mark_error(s, "cannot read the log's first record: %s (%s)", privaudit_strerror(st),
			   privaudit_reader_error(s->reader));
		close_reader(s);
		return -1;
	}
	if (strcmp(privaudit_record_kind(rec), "genesis") != 0 ||
	    privaudit_record_get_bytes(rec, "origin", &origin, &ol) != PRIVAUDIT_OK ||
	    privaudit_record_get_bytes(rec, "log_id", &id, &il) != PRIVAUDIT_OK || il != 32 ||
	    ol == 0 || ol >= sizeof(s->origin) || memchr(origin, '\0', ol) != NULL) {
		mark_error(s, "the log's first record is not a valid genesis record");
		close_reader(s);
		return -1;
	}
	memcpy(s->origin, origin, ol);
	s->origin[ol] = '\0';
	for (size_t i = 0; i < il; i++)
		snprintf(s->log_id + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
	if (s->state_log_id[0] != '\0' && strcmp(s->state_log_id, s->log_id) != 0) {
		s->log(LOG_NOTICE, "%s is a new log (id %.16s, ship-state was for %.16s): "
		       "every record goes from the first", s->dir, s->log_id, s->state_log_id);
		s->acked = 0;
		s->acked_time = 0;
	}
	strcpy(s->state_log_id, s->log_id);
	s->dirty = 1;
	return 0;
}

/* Put the reader at acked.  A log with fewer records than acked was cut
 * back (restored from a copy, or the machine lost records it had not yet
 * made durable): shipping goes on from its end, so that whatever is
 * appended there reaches the collector, which holds the records it had. */
static int seek_acked(struct pad_ship *s)
{
	privaudit_status st = privaudit_reader_seek(s->reader, s->acked);
	uint64_t n;

	if (st == PRIVAUDIT_E_END) {
		st = privaudit_reader_count(s->reader, &n);   /* moves the reader to 0 */
		if (st != PRIVAUDIT_OK)
			goto bad;
		if (n < s->acked) {
			s->log(LOG_WARNING, "%s holds %" PRIu64 " records, fewer than the %" PRIu64
			       " the collector acknowledged: the log was cut back or restored; "
			       "shipping goes on from record %" PRIu64, s->dir, n, s->acked, n);
			s->acked = n;
			s->dirty = 1;
		}
		st = privaudit_reader_seek(s->reader, s->acked);
	}
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_END)
		goto bad;
	s->next = s->acked;
	return 0;
bad:
	mark_error(s, "cannot find record %" PRIu64 " in the log: %s (%s)", s->acked,
		   privaudit_strerror(st), privaudit_reader_error(s->reader));
	return -1;
}

/* ------------------------------------------------------------ RELP */

static void disconnect(struct pad_ship *s)
{
	if (s->clt != NULL)
		(void)relpEngineCltDestruct(s->engine, &s->clt);
	s->clt = NULL;
	if (s->connected) {
		s->connected = 0;
		s->dirty = 1;
	}
}

static int relp_failed(struct pad_ship *s, const char *what, relpRetVal r)
{
	if (s->relp_msg[0] != '\0')
		mark_error(s, "%s: %s", what, s->relp_msg);
	else
		mark_error(s, "%s: %s (librelp %d)", what, relp_name(r), (int)r);
	return -1;
}

static int connect_relp(struct pad_ship *s)
{
	static char auth_name[] = "name";
	relpRetVal r;

	s->relp_msg[0] = '\0';
	s->relp_auth = 0;
	r = relpEngineCltConstruct(s->engine, &s->clt);
	if (r != RELP_RET_OK) {
		s->clt = NULL;
		return relp_failed(s, "cannot make a RELP client", r);
	}
	if ((r = relpCltSetUsrPtr(s->clt, s)) != RELP_RET_OK ||
	    (r = relpCltSetTimeout(s->clt, RELP_TIMEOUT_S)) != RELP_RET_OK ||
	    (r = relpCltSetConnTimeout(s->clt, RELP_CONN_TIMEOUT_S)) != RELP_RET_OK ||
	    (r = relpCltSetWindowSize(s->clt, s->window)) != RELP_RET_OK)
		return relp_failed(s, "cannot set up the RELP client", r);
	if (s->ca != NULL) {
		/* the server proves its name with a certificate of the CA; the
		 * host proves itself with its own */
		if ((r = relpCltEnableTLS(s->clt)) != RELP_RET_OK ||
		    (r = relpCltSetCACert(s->clt, s->ca)) != RELP_RET_OK ||
		    (r = relpCltSetOwnCert(s->clt, s->cert)) != RELP_RET_OK ||
		    (r = relpCltSetPrivKey(s->clt, s->key)) != RELP_RET_OK ||
		    (r = relpCltSetAuthMode(s->clt, auth_name)) != RELP_RET_OK ||
		    (r = relpCltAddPermittedPeer(s->clt, s->peer)) != RELP_RET_OK)
			return relp_failed(s, "cannot set up TLS", r);
	}
	r = relpCltConnect(s->clt, AF_UNSPEC, (unsigned char *)s->port, (unsigned char *)s->host);
	if (r != RELP_RET_OK) {
		s->tls_failed = s->relp_auth || r == RELP_RET_ERR_TLS_SETUP ||
				r == RELP_RET_ERR_TLS_HANDS || r == RELP_RET_ERR_TLS ||
				r == RELP_RET_AUTH_ERR_NAME || r == RELP_RET_AUTH_NO_CERT ||
				r == RELP_RET_AUTH_CERT_INVL || r == RELP_RET_AUTH_ERR_FP;
		return relp_failed(s, "cannot connect", r);
	}
	s->tls_failed = 0;
	s->connected = 1;
	s->last_error[0] = '\0';
	s->dirty = 1;
	s->msgs = 0;
	s->log(LOG_INFO, "shipping %s to %s from record %" PRIu64 "%s", s->dir, s->target, s->acked,
	       s->ca != NULL ? " (TLS)" : "");
	return 0;
}

/* Send one message.  librelp returns only once fewer than window messages
 * are unacknowledged, and a RELP server answers in order: so when the k-th
 * message of a session is sent, the (k - window)-th and all before it were
 * acknowledged.  ends: records acknowledged once this message is. */
static int send_msg(struct pad_ship *s, uint64_t ends)
{
	relpRetVal r;
	size_t slot;

	s->relp_msg[0] = '\0';
	s->relp_auth = 0;
	r = relpCltSendSyslog(s->clt, (unsigned char *)s->msg.buf, s->msg.len);
	if (r != RELP_RET_OK)
		return relp_failed(s, "sending", r);
	s->msgs++;
	slot = (size_t)(s->msgs % (uint64_t)s->window);
	if (s->msgs > (uint64_t)s->window)
		ack_to(s, s->ring[slot]);
	s->ring[slot] = ends;
	return 0;
}

/* "<86>1 TIME HOST privaudit PID MSGID - " (RFC 5424, authpriv.info). */
static void header(struct pad_ship *s, uint64_t ns, const char *msgid)
{
	time_t t = (time_t)(ns / 1000000000u);
	char ts[40];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		strcpy(ts, "-");
	else
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06uZ",
			 (unsigned)(ns % 1000000000u / 1000u));
	pa_text_reset(&s->msg);
	pa_text_printf(&s->msg, "<86>1 %s %s privaudit %ld %s - {\"privaudit\":1,\"origin\":", ts,
		       s->hostname, (long)getpid(), msgid);
	pa_text_json_string(&s->msg, s->origin, strlen(s->origin));
	pa_text_printf(&s->msg, ",\"log_id\":\"%s\"", s->log_id);
}

static int msg_ready(struct pad_ship *s)
{
	if (s->msg.err == PA_TEXT_OK)
		return 0;
	mark_error(s, "record %" PRIu64 ": %s", s->next,
		   s->msg.err == PA_TEXT_NOMEM ? "out of memory" : "message too large");
	return -1;
}

static int send_record(struct pad_ship *s, const privaudit_record *rec)
{
	const char *kind = privaudit_record_kind(rec);
	int checkpoint = strcmp(kind, "checkpoint") == 0;
	const void *entry, *note;
	char *fields = NULL;
	size_t elen, nlen, flen = 0;
	privaudit_status st;
	int rc;

	if (privaudit_record_index(rec) != s->next) {
		mark_error(s, "the reader gave record %" PRIu64 " where %" PRIu64 " was due",
			   privaudit_record_index(rec), s->next);
		return -1;
	}
	privaudit_record_entry(rec, &entry, &elen);
	st = privaudit_record_json(rec, 0, FIELDS_MAX, &fields, &flen);
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_TOOBIG) {
		mark_error(s, "record %" PRIu64 ": %s", s->next, privaudit_strerror(st));
		return -1;
	}
	header(s, privaudit_record_time_ns(rec), checkpoint ? "checkpoint" : "record");
	pa_text_printf(&s->msg, ",\"index\":%" PRIu64 ",\"kind\":", s->next);
	pa_text_json_string(&s->msg, kind, strlen(kind));
	pa_text_puts(&s->msg, ",\"entry\":\"");
	pa_text_base64(&s->msg, entry, elen);
	pa_text_puts(&s->msg, "\"");
	if (checkpoint && privaudit_record_get_bytes(rec, "note", &note, &nlen) == PRIVAUDIT_OK) {
		pa_text_puts(&s->msg, ",\"note\":");
		pa_text_json_string(&s->msg, note, nlen);
	}
	if (fields != NULL) {
		pa_text_puts(&s->msg, ",\"fields\":");
		pa_text_put(&s->msg, fields, flen);
	} else {
		pa_text_puts(&s->msg, ",\"fields_omitted\":true");
	}
	pa_text_puts(&s->msg, "}");
	free(fields);
	if (msg_ready(s) < 0)
		return -1;
	rc = send_msg(s, s->next + 1);
	if (rc == 0)
		s->next++;
	/* a huge record's buffer is not kept for the small ones after it */
	if (s->msg.cap > 1024 * 1024) {
		pa_text_free(&s->msg);
		pa_text_init(&s->msg, MSG_MAX);
	}
	return rc;
}

static int send_sync(struct pad_ship *s)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	header(s, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, "sync");
	pa_text_printf(&s->msg, ",\"size\":%" PRIu64 ",\"acked\":%" PRIu64 "}", s->next, s->acked);
	if (msg_ready(s) < 0)
		return -1;
	return send_msg(s, s->next);
}

/* ------------------------------------------------------------ the thread */

/* Connected, following the log: -1 on any failure, 0 when told to stop. */
static int ship_session(struct pad_ship *s)
{
	long long idle_since = 0;

	if ((s->reader == NULL && open_reader(s) < 0) || connect_relp(s) < 0 || seek_acked(s) < 0)
		return -1;
	persist(s, 1);
	for (;;) {
		const privaudit_record *rec;
		privaudit_status st;

		if (must_stop(s))
			return 0;
		st = privaudit_reader_next(s->reader, &rec);
		if (st == PRIVAUDIT_OK) {
			if (send_record(s, rec) < 0)
				return -1;
			idle_since = 0;
			persist(s, 0);
			continue;
		}
		if (st != PRIVAUDIT_E_END) {
			mark_error(s, "reading the log: %s (%s)", privaudit_strerror(st),
				   privaudit_reader_error(s->reader));
			close_reader(s);
			return -1;
		}
		/* everything is sent; what is not known to be acknowledged
		 * yet is pushed out of the window by sync messages */
		if (s->acked < s->next) {
			long long now = mono_ms();

			if (idle_since == 0)
				idle_since = now;
			if (now - idle_since >= SYNC_DELAY_MS || stop_asked(s)) {
				if (send_sync(s) < 0)
					return -1;
				persist(s, 0);
				continue;
			}
			(void)wait_wake(s, wait_for(s, idle_since + SYNC_DELAY_MS - now));
		} else {
			if (stop_asked(s))
				return 0;   /* drained: all of it acknowledged */
			persist(s, 0);
			(void)wait_wake(s, wait_for(s, poll_ms(s)));
		}
	}
}

static void on_wake_signal(int sig)
{
	(void)sig;   /* only interrupts librelp's poll() */
}

static void *ship_main(void *arg)
{
	struct pad_ship *s = arg;
	sigset_t set;

	current = s;
	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	load_state(s);
	while (!stop_asked(s)) {
		if (ship_session(s) == 0)
			break;
		disconnect(s);
		persist(s, 1);
		back_off(s);
	}
	disconnect(s);
	close_reader(s);
	s->dirty = 1;
	persist(s, 1);
	return NULL;
}

/* ------------------------------------------------------------ the main thread */

static void ship_free(struct pad_ship *s)
{
	if (s == NULL)
		return;
	if (s->engine != NULL)
		(void)relpEngineDestruct(&s->engine);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->ino_fd >= 0)
		close(s->ino_fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pa_text_free(&s->msg);
	free(s->ring);
	free(s->dir);
	free(s->target);
	free(s->host);
	free(s->port);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s->peer);
	free(s);
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src == NULL || (*dst = strdup(src)) != NULL ? 0 : -1;
}

/* A host name as RFC 5424's HOSTNAME allows it: printable ASCII, no space. */
static void set_hostname(struct pad_ship *s)
{
	char h[256];
	size_t i;

	if (gethostname(h, sizeof(h)) < 0)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i] != '\0'; i++)
		s->hostname[i] = (unsigned char)h[i] > ' ' && (unsigned char)h[i] < 0x7f ? h[i] : '_';
	s->hostname[i] = '\0';
	if (i == 0)
		strcpy(s->hostname, "-");
}

int pad_ship_start(struct pad_ship **out, const struct pad_config *c, pad_log_fn log)
{
	static unsigned char cmd_syslog[] = "syslog";
	struct pad_ship *s;
	struct sigaction sa;
	sigset_t set, old;
	relpRetVal r;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		log(LOG_ERR, "shipping: out of memory");
		return -1;
	}
	s->wake_fd = s->ino_fd = s->dirfd = -1;
	s->log = log;
	s->window = (int)c->ship_window;
	pa_text_init(&s->msg, MSG_MAX);
	if (dup_opt(&s->dir, c->dir) < 0 || dup_opt(&s->target, c->ship_to) < 0 ||
	    dup_opt(&s->ca, c->ship_tls_ca) < 0 || dup_opt(&s->cert, c->ship_tls_cert) < 0 ||
	    dup_opt(&s->key, c->ship_tls_key) < 0 ||
	    (s->ring = calloc((size_t)s->window, sizeof(*s->ring))) == NULL ||
	    pad_split_target(c->ship_to, &s->host, &s->port) < 0 ||
	    dup_opt(&s->peer, c->ship_tls_peer != NULL ? c->ship_tls_peer : s->host) < 0) {
		log(LOG_ERR, "shipping: bad target or out of memory");
		goto fail;
	}
	set_hostname(s);
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		log(LOG_ERR, "shipping: cannot open %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		log(LOG_ERR, "shipping: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* writes by the plugin and the CLI wake the shipper too; without
	 * inotify, it looks every POLL_BLIND_MS */
	s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino_fd >= 0 &&
	    inotify_add_watch(s->ino_fd, s->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		close(s->ino_fd);
		s->ino_fd = -1;
	}
	if ((r = relpEngineConstruct(&s->engine)) != RELP_RET_OK) {
		s->engine = NULL;
		log(LOG_ERR, "shipping: cannot start librelp (%d)", (int)r);
		goto fail;
	}
	if ((r = relpEngineSetDbgprint(s->engine, NULL)) != RELP_RET_OK ||
	    (r = relpEngineSetEnableCmd(s->engine, cmd_syslog, eRelpCmdState_Required)) !=
		    RELP_RET_OK ||
	    (r = relpEngineSetOnErr(s->engine, on_relp_err)) != RELP_RET_OK ||
	    (r = relpEngineSetOnAuthErr(s->engine, on_relp_auth_err)) != RELP_RET_OK ||
	    (r = relpEngineSetOnGenericErr(s->engine, on_relp_generic_err)) != RELP_RET_OK) {
		log(LOG_ERR, "shipping: cannot set up librelp (%d)", (int)r);
		goto fail;
	}
	relpEngineSetShutdownImmdtPtr(s->engine, &s->relp_stop);
	if (s->ca == NULL)
		log(LOG_WARNING, "shipping to %s over plain RELP, without TLS: anyone on the path "
		    "can read and alter the records, and the collector is not authenticated "
		    "(--ship-tls-ca, --ship-tls-cert, --ship-tls-key; privauditd(8))", s->target);
	/* The signal only breaks librelp's waits when stopping: the handler
	 * does nothing, and only the shipper thread takes it. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(WAKE_SIGNAL, &sa, NULL) < 0) {
		log(LOG_ERR, "shipping: sigaction: %s", strerror(errno));
		goto fail;
	}
	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* the thread starts with every signal blocked; it unblocks its own */
	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, &old);
	rc = pthread_create(&s->thread, NULL, ship_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log(LOG_ERR, "shipping: cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ship_free(s);
	return -1;
}

void pad_ship_poke(struct pad_ship *s)
{
	uint64_t one = 1;

	if (s != NULL && write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full of pokes already */
	}
}

int pad_ship_stop(struct pad_ship *s, int drain_ms, int wait_ms)
{
	long long drain_end, deadline;

	if (s == NULL)
		return 0;
	drain_end = mono_ms() + (drain_ms > 0 ? drain_ms : 0);
	deadline = drain_end + (wait_ms > 0 ? wait_ms : 0);
	__atomic_store_n(&s->drain_until, drain_end, __ATOMIC_RELEASE);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pad_ship_poke(s);
	for (;;) {
		struct timespec ts;
		long long now = mono_ms();
		int rc;

		if (now >= drain_end) {
			/* librelp's waits end on its flag and an interrupted poll();
			 * the signal is sent again each turn, in case it came
			 * before the thread entered one */
			__atomic_store_n(&s->relp_stop, 1, __ATOMIC_RELEASE);
			pthread_kill(s->thread, WAKE_SIGNAL);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		rc = pthread_timedjoin_np(s->thread, NULL, &ts);
		if (rc == 0) {
			ship_free(s);
			return 0;
		}
		if (rc != ETIMEDOUT || now >= deadline)
			break;
	}
	s->log(LOG_ERR, "the shipper did not stop in time; it is left to end on its own");
	pthread_detach(s->thread);
	return -1;
}
