/* SPDX-License-Identifier: ISC */
/* audisp-privaudit.c: the auditd plugin.  One thread only reads stdin into
 * a bounded queue, so auditd never waits on us; a writer thread parses,
 * appends through libprivaudit and writes in groups; a sync thread makes
 * each written group durable while the writer goes on with the next one.
 * Signal handlers only set flags. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "privaudit.h"
#include "stream.h"
#include "translate.h"

#define PROGRAM "audisp-privaudit"
#define CHUNK 65536
/* A read shorter than this is copied into a chunk of its own size, so a
 * queue of small reads (auditd writes a record at a time) holds what it
 * counts, not 64 KiB a read. */
#define SMALL_READ (CHUNK / 4)

struct config {
	char *dir;
	char *drop_types;
	char *only_keys;
	long heartbeat_s;          /* seal at least this often */
	long commit_events;        /* group commit: every N events... */
	long commit_ms;            /* ...or T ms after the first pending one */
	long long queue_bytes;     /* reader queue bound */
	long seal_min_ms;          /* session-end seals at most this often */
	long seal_delay_ms;        /* ...this long after the end */
	int seal_on_session_end;
	int sync;
	long long disk_reserve;    /* free bytes kept for gap and seal records */
	long long user_argv_cap;   /* a non-root user's argv kept per event (caps.h) */
	long long user_raw_cap;    /* ...and raw event text */
	long long user_budget;     /* argv and raw text kept per user per minute */
	long test_slow_ms;         /* tests only: the writer sleeps per chunk */
};

struct chunk {
	struct chunk *next;
	size_t len, cap;
	uint64_t dropped_before;   /* lines lost just before this chunk, not yet reported */
	int after_drop;            /* input was dropped just before this chunk */
	int torn_start;            /* ...ending mid-line: this chunk starts inside a lost line */
	char data[];
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t bytes, max_bytes;   /* memory of the queued chunks, and its bound */
	uint64_t dropped_lines;    /* lost lines not yet reported to the writer */
	uint64_t dropped_total;
	int dropping;              /* the last input read was dropped */
	int in_lost;               /* input so far ends inside a line counted lost */
	int eof;
	/* chunks the writer is done with, for the reader to fill again: no
	 * malloc, free and fresh pages per read */
	struct chunk *spare;
	size_t nspare;
};

#define SPARE_CHUNKS 32

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static int verbose;

static void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (verbose || prio <= LOG_ERR) {
		va_start(ap, fmt);
		fprintf(stderr, PROGRAM ": ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

/* /dev/null, put on standard input by a stop signal: a read() the signal
 * did not interrupt (it came just before the call) then ends at once. */
static int devnull_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP) {
		reload_flag = 1;
	} else {
		stop_flag = 1;
		if (devnull_fd >= 0)
			dup2(devnull_fd, STDIN_FILENO);
	}
	errno = saved;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ config */

static void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_s = 60;
	c->commit_events = 1024;
	c->commit_ms = 200;
	c->queue_bytes = 64LL << 20;
	c->seal_min_ms = 1000;
	c->seal_delay_ms = 2000;
	c->seal_on_session_end = 1;
	c->sync = 1;
	c->disk_reserve = PRIVAUDIT_RESERVE_DEFAULT;
	c->user_argv_cap = 65536;
	c->user_raw_cap = 131072;
	c->user_budget = 4LL << 20;
}

static void config_free(struct config *c)
{
	free(c->dir);
	free(c->drop_types);
	free(c->only_keys);
	memset(c, 0, sizeof(*c));
}

static int parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int replace(char **dst, const char *v)
{
	char *d = strdup(v);

	if (d == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

/* One "key = value" setting; -1 for an unknown key or a bad value. */
static int config_set(struct config *c, const char *k, const char *v)
{
	long long n;
	int rc = 0;

	if (strcmp(k, "dir") == 0)
		rc = v[0] == '/' || v[0] == '.' ? replace(&c->dir, v) : -1;
	else if (strcmp(k, "heartbeat") == 0)
		rc = parse_long(v, 1, 86400, &n) == 0 ? (c->heartbeat_s = (long)n, 0) : -1;
	else if (strcmp(k, "commit_events") == 0)
		rc = parse_long(v, 1, 1000000, &n) == 0 ? (c->commit_events = (long)n, 0) : -1;
	else if (strcmp(k, "commit_ms") == 0)
		rc = parse_long(v, 0, 60000, &n) == 0 ? (c->commit_ms = (long)n, 0) : -1;
	else if (strcmp(k, "queue_bytes") == 0)
		rc = parse_long(v, CHUNK, 1LL << 40, &n) == 0 ? (c->queue_bytes = n, 0) : -1;
	else if (strcmp(k, "seal_min_interval_ms") == 0)
		rc = parse_long(v, 0, 3600000, &n) == 0 ? (c->seal_min_ms = (long)n, 0) : -1;
	else if (strcmp(k, "seal_delay_ms") == 0)
		rc = parse_long(v, 0, 60000, &n) == 0 ? (c->seal_delay_ms = (long)n, 0) : -1;
	else if (strcmp(k, "seal_on_session_end") == 0)
		rc = parse_bool(v, &c->seal_on_session_end);
	else if (strcmp(k, "sync") == 0)
		rc = parse_bool(v, &c->sync);
	else if (strcmp(k, "drop_types") == 0)
		rc = replace(&c->drop_types, v);
	else if (strcmp(k, "only_keys") == 0)
		rc = replace(&c->only_keys, v);
	else if (strcmp(k, "disk_reserve") == 0)
		rc = parse_long(v, 0, 1LL << 40, &n) == 0 ? (c->disk_reserve = n, 0) : -1;
	else if (strcmp(k, "user_argv_cap") == 0)
		rc = parse_long(v, 0, PRIVAUDIT_RECORD_MAX, &n) == 0 ? (c->user_argv_cap = n, 0) : -1;
	else if (strcmp(k, "user_raw_cap") == 0)
		rc = parse_long(v, 0, PRIVAUDIT_RECORD_MAX, &n) == 0 ? (c->user_raw_cap = n, 0) : -1;
	else if (strcmp(k, "user_bytes_per_minute") == 0)
		rc = parse_long(v, 0, 1LL << 40, &n) == 0 ? (c->user_budget = n, 0) : -1;
	else
		rc = -1;
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Read a config file over c.  Bad lines are reported and skipped. */
static int config_load(struct config *c, const char *path)
{
	char line[4096];
	int lineno = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		logmsg(LOG_ERR, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			logmsg(LOG_WARNING, "%s:%d: no '=': ignored", path, lineno);
			continue;
		}
		*eq = '\0';
		if (config_set(c, trim(s), trim(eq + 1)) < 0)
			logmsg(LOG_WARNING, "%s:%d: bad setting '%s': ignored", path, lineno, trim(s));
	}
	fclose(f);
	return 0;
}

/* Command-line settings over the file's (-1 or NULL: not given). */
static void apply_cli(struct config *c, const struct config *cli)
{
	if (cli->dir != NULL && replace(&c->dir, cli->dir) < 0)
		logmsg(LOG_ERR, "out of memory");
	if (cli->heartbeat_s > 0)
		c->heartbeat_s = cli->heartbeat_s;
	if (cli->commit_events > 0)
		c->commit_events = cli->commit_events;
	if (cli->commit_ms >= 0)
		c->commit_ms = cli->commit_ms;
	if (cli->queue_bytes > 0)
		c->queue_bytes = cli->queue_bytes;
	if (cli->sync == 0)
		c->sync = 0;
	c->test_slow_ms = cli->test_slow_ms;
}

/* ------------------------------------------------------------ queue */

static void queue_init(struct queue *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->max_bytes = max_bytes;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *end = p + n;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

static void chunks_done(struct queue *q, struct chunk *list);

static size_t chunk_bytes(const struct chunk *c)
{
	return c->cap;
}

/* n bytes of input are dropped: count the lines lost, each line any byte
 * of which was dropped once.  A line an earlier drop ended inside was
 * counted then (input queued since may lie inside it too).  With q->mu
 * held; n > 0. */
static void drop_locked(struct queue *q, const char *p, size_t n)
{
	int open = p[n - 1] != '\n';
	uint64_t lost = count_lines(p, n) + (uint64_t)open;

	if (q->in_lost)
		lost--;   /* never below 0: n bytes ending in '\n' hold one */
	q->dropped_lines += lost;
	q->dropped_total += lost;
	q->dropping = 1;
	q->in_lost = open;
}

/* Queue a chunk, or drop it when the queue is full: never block. */
static void queue_put(struct queue *q, struct chunk *c)
{
	pthread_mutex_lock(&q->mu);
	if (q->bytes + chunk_bytes(c) > q->max_bytes) {
		drop_locked(q, c->data, c->len);
		pthread_mutex_unlock(&q->mu);
		if (c->cap == CHUNK)
			chunks_done(q, c);
		else
			free(c);
		return;
	}
	c->dropped_before = q->dropped_lines;
	c->after_drop = q->dropping;
	c->torn_start = q->in_lost;
	if (q->in_lost && memchr(c->data, '\n', c->len) != NULL)
		q->in_lost = 0;   /* the lost line ends in this chunk */
	q->dropped_lines = 0;
	q->dropping = 0;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += chunk_bytes(c);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* A chunk to read into: a spare one, or a new one (NULL: no memory). */
static struct chunk *chunk_get(struct queue *q)
{
	struct chunk *c;

	pthread_mutex_lock(&q->mu);
	c = q->spare;
	if (c != NULL) {
		q->spare = c->next;
		q->nspare--;
	}
	pthread_mutex_unlock(&q->mu);
	if (c == NULL && (c = malloc(sizeof(*c) + CHUNK)) != NULL)
		c->cap = CHUNK;
	return c;
}

/* The writer is done with the chunks of list: keep a few full-size ones,
 * free the rest. */
static void chunks_done(struct queue *q, struct chunk *list)
{
	struct chunk *next, *extra = NULL;

	pthread_mutex_lock(&q->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		if (list->cap == CHUNK && q->nspare < SPARE_CHUNKS) {
			list->next = q->spare;
			q->spare = list;
			q->nspare++;
		} else {
			list->next = extra;
			extra = list;
		}
	}
	pthread_mutex_unlock(&q->mu);
	for (; extra != NULL; extra = next) {
		next = extra->next;
		free(extra);
	}
}

static void queue_free_spares(struct queue *q)
{
	struct chunk *c, *next;

	for (c = q->spare; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	q->spare = NULL;
	q->nspare = 0;
}

static void queue_eof(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->eof = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* ------------------------------------------------------------ sync thread */

/* The writer hands each written group over (privaudit_write) and goes on
 * parsing while this thread waits for the disk (privaudit_sync): the
 * fdatasync of one group overlaps the work on the next.  Groups written
 * while a sync runs are covered by the next one. */
struct syncer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	privaudit_log *log;        /* the handle of the last request */
	int wanted, running, quit;
	uint64_t target;           /* records written when the last request came */
	uint64_t durable;          /* records known durable */
	privaudit_status failed;   /* first failure not yet taken by the writer */
	uint64_t lost;             /* records written but maybe not durable then */
	uint64_t syncs;
};

static void *syncer_main(void *arg)
{
	struct syncer *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		privaudit_log *log;
		privaudit_status st;
		uint64_t target;

		while (!s->wanted && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->wanted)
			break;
		s->wanted = 0;
		s->running = 1;
		log = s->log;
		target = s->target;
		pthread_mutex_unlock(&s->mu);
		st = privaudit_sync(log);
		pthread_mutex_lock(&s->mu);
		s->running = 0;
		s->syncs++;
		if (st == PRIVAUDIT_OK) {
			s->durable = target;
		} else if (s->failed == PRIVAUDIT_OK) {
			s->failed = st;
			s->lost = target - s->durable;
			s->durable = target;
		}
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int syncer_start(struct syncer *s, pthread_t *th)
{
	int rc;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	rc = pthread_create(th, NULL, syncer_main, s);
	if (rc != 0)
		logmsg(LOG_ERR, "cannot start the sync thread: %s", strerror(rc));
	return rc == 0 ? 0 : -1;
}

/* Ask for everything written on log so far (written records in all) to
 * be made durable. */
static void syncer_request(struct syncer *s, privaudit_log *log, uint64_t written)
{
	pthread_mutex_lock(&s->mu);
	s->log = log;
	s->target = written;
	s->wanted = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Wait until no sync runs or is asked for: before the handle is closed. */
static void syncer_quiesce(struct syncer *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->wanted || s->running)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* A failed sync, once (PRIVAUDIT_OK: none); *lost: records it may have lost. */
static privaudit_status syncer_failure(struct syncer *s, uint64_t *lost)
{
	privaudit_status st;

	pthread_mutex_lock(&s->mu);
	st = s->failed;
	*lost = s->lost;
	s->failed = PRIVAUDIT_OK;
	s->lost = 0;
	pthread_mutex_unlock(&s->mu);
	return st;
}

static void syncer_stop(struct syncer *s, pthread_t th)
{
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* ------------------------------------------------------------ writer */

struct writer {
	struct config cfg;
	struct config cli;         /* what the command line set: wins over the file */
	const char *config_path;
	struct queue *q;
	struct syncer *syncer;
	privaudit_log *log;
	struct pa_lines lines;
	struct pa_grouper grouper;
	struct pa_translate tr;
	uint64_t now;
	uint64_t pending_since;    /* when the oldest uncommitted record was queued */
	uint64_t since_commit;     /* records since the last commit */
	uint64_t written;          /* records handed to the sync thread */
	uint64_t last_seal;
	uint64_t last_session_seal;
	uint64_t last_activity;
	uint64_t settled_serial;
	int seal_wanted;
	uint64_t seal_due;         /* a session ended: seal from then on */
	uint64_t seal_first;       /* when the first of those ended */
	int skip_line;             /* input resumes inside a lost line */
	int log_sync;              /* the sync setting the log was opened with */
	/* write failure: events are counted, not kept, until a commit works */
	int failing;
	uint64_t failed_events;
	uint64_t last_retry;
	char fail_reason[128];
	uint64_t seals, commits, gaps_overflow;
	/* the log's disk is full: the library counts events in gap records */
	int nospace;
	uint64_t nospace_events;
	struct pa_caps caps;
	int status;
};

static privaudit_status append_cb(void *arg, const privaudit_event *ev)
{
	struct writer *w = arg;
	privaudit_status st;

	if (w->failing) {
		w->failed_events++;
		return PRIVAUDIT_OK;
	}
	st = privaudit_append_event(w->log, ev);
	if (st == PRIVAUDIT_OK) {
		if (w->since_commit == 0)
			w->pending_since = w->now;
		w->since_commit++;
	}
	return st;
}

/* PRIVAUDIT_E_NOSPACE: the log's disk is below its reserve.  The library
 * has counted the events in a gap record (written with the next seal, and
 * when there is room again, when it asks for no retry): said once. */
static void disk_full(struct writer *w)
{
	if (!w->nospace)
		logmsg(LOG_ERR, "%s; events are counted in gap records until there is room again",
		       privaudit_log_error(w->log));
	w->nospace = 1;
}

static void disk_ok(struct writer *w)
{
	if (w->nospace)
		logmsg(LOG_WARNING, "room on the log's disk again: recording resumed (%llu events counted "
		       "in gap records meanwhile)", (unsigned long long)w->nospace_events);
	w->nospace = 0;
}

static void start_failing(struct writer *w, privaudit_status st, const char *what)
{
	if (!w->failing)
		logmsg(LOG_ERR, "%s failed: %s (%s); counting events until the log works again",
		       what, privaudit_strerror(st), privaudit_log_error(w->log));
	snprintf(w->fail_reason, sizeof(w->fail_reason), "write-error: %s",
		 privaudit_log_errno(w->log) ? strerror(privaudit_log_errno(w->log))
					     : privaudit_strerror(st));
	w->failing = 1;
	w->last_retry = w->now;
}

/* The library's warnings (privaudit_set_warning): at every seal, a key
 * file whose erased keys the filesystem may keep. */
static void key_warning(void *arg, const char *msg)
{
	(void)arg;
	logmsg(LOG_WARNING, "%s", msg);
}

static int open_log(struct writer *w, unsigned flags)
{
	privaudit_status st;

	if (!w->cfg.sync)
		flags |= PRIVAUDIT_OPEN_NOSYNC;
	w->log_sync = w->cfg.sync;   /* a reload changes it at the next open */
	st = privaudit_open(&w->log, w->cfg.dir, flags);
	if (st != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "cannot open log %s: %s", w->cfg.dir, privaudit_strerror(st));
		w->log = NULL;
		return -1;
	}
	privaudit_set_program(w->log, PROGRAM);
	privaudit_set_warning(w->log, key_warning, NULL);
	privaudit_set_reserve(w->log, (uint64_t)w->cfg.disk_reserve);
	return 0;
}

/* A group commit: written now, made durable by the sync thread (with
 * sync = no, written only); a seal is durable when it returns. */
static privaudit_status write_group(struct writer *w, int seal)
{
	privaudit_status st;

	if (seal)
		return privaudit_seal(w->log);
	if (!w->log_sync)
		return privaudit_commit(w->log);
	st = privaudit_write(w->log);
	/* E_NOSPACE: the gap record counting the group went in instead */
	if (st == PRIVAUDIT_OK || st == PRIVAUDIT_E_NOSPACE) {
		w->written += w->since_commit;
		syncer_request(w->syncer, w->log, w->written);
	}
	return st;
}

/* What the sync thread could not make durable is counted as lost. */
static void check_sync(struct writer *w)
{
	uint64_t lost = 0;
	privaudit_status st = syncer_failure(w->syncer, &lost);

	if (st == PRIVAUDIT_OK)
		return;
	start_failing(w, st, "sync");
	w->failed_events += lost;
}

/* The serials handled so far, for the next run to count what it never got
 * (serials.h).  A failure is logged once and tried again at the next
 * commit: meanwhile a restart would count too many lost, never too few. */
static void save_serials(struct writer *w)
{
	static int failed;

	if (pa_translate_save(&w->tr, w->cfg.dir) == 0) {
		failed = 0;
		return;
	}
	if (!failed)
		logmsg(LOG_WARNING, "cannot write %s/" PA_STATE_FILE ": %s", w->cfg.dir, strerror(errno));
	failed = 1;
}

static void commit(struct writer *w, int seal)
{
	privaudit_status st;

	check_sync(w);
	if (w->failing || w->log == NULL)
		return;
	st = write_group(w, seal);
	if (st == PRIVAUDIT_E_NOSPACE) {
		/* done as far as the plugin goes: the library took the group
		 * out and counted it; retrying it would fill nothing but memory */
		w->nospace_events += w->since_commit;
		disk_full(w);
	} else if (st != PRIVAUDIT_OK) {
		start_failing(w, st, seal ? "seal" : "commit");
		return;
	}
	w->commits++;
	w->since_commit = 0;
	save_serials(w);
	if (seal) {
		w->seals++;
		w->last_seal = w->now;
		w->seal_wanted = 0;
	}
}

/* While failing: retry every second; when the log works again, say what
 * was lost. */
static void retry(struct writer *w)
{
	privaudit_status st;

	if (!w->failing || w->now - w->last_retry < 1000)
		return;
	w->last_retry = w->now;
	st = w->log ? privaudit_commit(w->log) : PRIVAUDIT_E_STATE;
	if (st == PRIVAUDIT_E_STATE || w->log == NULL) {
		/* the handle gave up: what it held is lost, start again */
		if (w->log != NULL) {
			syncer_quiesce(w->syncer);
			w->failed_events += privaudit_log_pending(w->log);
			privaudit_close(w->log);
			w->log = NULL;
		}
		if (open_log(w, PRIVAUDIT_OPEN_ANNOUNCE) < 0)
			return;
		st = PRIVAUDIT_OK;
	}
	if (st != PRIVAUDIT_OK)
		return;
	w->failing = 0;
	w->since_commit = 0;
	if (w->failed_events > 0) {
		logmsg(LOG_WARNING, "log writable again; %llu events lost",
		       (unsigned long long)w->failed_events);
		pa_translate_gap(&w->tr, w->failed_events, w->fail_reason, 0, 0);
		w->failed_events = 0;
	}
	commit(w, 1);
}

static void on_event(void *arg, struct pa_event *ev)
{
	struct writer *w = arg;
	uint64_t ends = w->tr.session_ends, records = w->tr.records;
	privaudit_status st;

	st = pa_translate_event(&w->tr, ev);
	if (st == PRIVAUDIT_OK && w->tr.records != records)
		disk_ok(w);
	if (st == PRIVAUDIT_E_NOSPACE) {
		/* counted by the library, in the gap record it writes */
		w->nospace_events++;
		disk_full(w);
	} else if (st != PRIVAUDIT_OK && !w->failing) {
		if (st == PRIVAUDIT_E_INVAL || st == PRIVAUDIT_E_TOOBIG)
			logmsg(LOG_WARNING, "event %llu not recorded: %s",
			       (unsigned long long)ev->serial, privaudit_strerror(st));
		else
			start_failing(w, st, "append");
	}
	if (w->tr.session_ends != ends && w->cfg.seal_on_session_end) {
		/* seal_delay_ms on: the session's last events (CRED_DISP after
		 * USER_END, what a busy auditd hands over later) go in before
		 * the checkpoint that seals its close, and are not shown as
		 * appended later.  Ends that keep coming postpone it at most
		 * four delays. */
		uint64_t delay = (uint64_t)w->cfg.seal_delay_ms;

		if (!w->seal_wanted) {
			w->seal_wanted = 1;
			w->seal_first = w->now;
		}
		w->seal_due = w->now + delay < w->seal_first + 4 * delay ? w->now + delay
									  : w->seal_first + 4 * delay;
	}
	if ((long)w->since_commit >= w->cfg.commit_events)
		commit(w, 0);
}

static void on_line(void *arg, const char *line, size_t len, int truncated)
{
	struct writer *w = arg;

	pa_grouper_line(&w->grouper, line, len, truncated, w->now);
}

/* Input was dropped: the line in progress is part of a lost one, the
 * events in progress are flushed as they are, and lost lines (the reader
 * counted them) are reported by a gap record. */
static void dropped(struct writer *w, uint64_t lost)
{
	pa_lines_reset(&w->lines);
	pa_grouper_tick(&w->grouper, w->now, 1);
	if (lost == 0)
		return;
	w->gaps_overflow++;
	pa_translate_gap(&w->tr, lost, "queue-overflow",
			 w->tr.last_serial ? w->tr.last_serial + 1 : 0, 0);
	pa_translate_serials_reset(&w->tr);
}

static void handle_chunk(struct writer *w, struct chunk *c)
{
	const char *p = c->data;
	size_t n = c->len;

	if (c->after_drop) {
		dropped(w, c->dropped_before);
		/* what comes before the first newline ends a lost line */
		w->skip_line = c->torn_start;
	}
	if (w->skip_line) {
		const char *nl = memchr(p, '\n', n);

		if (nl == NULL)
			return;
		w->skip_line = 0;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	pa_lines_feed(&w->lines, p, n, on_line, w);
	if (w->cfg.test_slow_ms > 0) {
		struct timespec ts = { w->cfg.test_slow_ms / 1000, (w->cfg.test_slow_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static void apply_config(struct writer *w)
{
	struct pa_grouper_limits lim = { 0 };

	(void)lim;
	if (pa_translate_select(&w->tr, w->cfg.drop_types, w->cfg.only_keys) < 0)
		logmsg(LOG_ERR, "out of memory for the selection lists");
	/* the users' use of their budgets is kept over a reload */
	w->caps.argv_max = (uint64_t)w->cfg.user_argv_cap;
	w->caps.raw_max = (uint64_t)w->cfg.user_raw_cap;
	w->caps.budget = (uint64_t)w->cfg.user_budget;
	w->tr.caps = &w->caps;
	if (w->log != NULL)
		privaudit_set_reserve(w->log, (uint64_t)w->cfg.disk_reserve);
	pthread_mutex_lock(&w->q->mu);
	w->q->max_bytes = (size_t)w->cfg.queue_bytes;
	pthread_mutex_unlock(&w->q->mu);
}

static void reload(struct writer *w)
{
	struct config c;

	if (w->config_path == NULL) {
		logmsg(LOG_INFO, "SIGHUP: no --config file to reload");
		return;
	}
	config_defaults(&c);
	if (config_load(&c, w->config_path) < 0) {
		config_free(&c);
		return;
	}
	apply_cli(&c, &w->cli);
	/* the log directory stays: its handle and session state are kept */
	free(c.dir);
	c.dir = w->cfg.dir;
	w->cfg.dir = NULL;
	config_free(&w->cfg);
	w->cfg = c;
	apply_config(w);
	logmsg(LOG_INFO, "configuration reloaded from %s", w->config_path);
}

/* Periodic work: flush events that will see no EOE, group commit, seals. */
static void housekeeping(struct writer *w)
{
	if (reload_flag) {
		reload_flag = 0;
		reload(w);
	}
	pa_grouper_tick(&w->grouper, w->now, 0);
	check_sync(w);
	if (w->now - w->last_activity >= 2000 && w->tr.last_serial != w->settled_serial) {
		pa_translate_settle(&w->tr);
		w->settled_serial = w->tr.last_serial;
	}
	retry(w);
	if (w->now - w->last_seal >= (uint64_t)w->cfg.heartbeat_s * 1000u) {
		privaudit_event *hb = NULL;

		if (privaudit_event_new(&hb, "heartbeat") == PRIVAUDIT_OK) {
			privaudit_event_set_int(hb, "events_seen", (int64_t)w->tr.events);
			append_cb(w, hb);
			privaudit_event_free(hb);
		}
		commit(w, 1);
		w->last_seal = w->now;  /* also when failing: retry() seals */
	} else if (w->seal_wanted && !w->nospace && w->now >= w->seal_due &&
		   w->now - w->last_seal >= (uint64_t)w->cfg.seal_min_ms) {
		/* not while the disk is full: sessions closing would spend the
		 * reserve on seals; the heartbeat's go on */
		commit(w, 1);
	} else if (w->since_commit > 0 && w->now - w->pending_since >= (uint64_t)w->cfg.commit_ms) {
		commit(w, 0);
	}
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct queue *q = w->q;

	for (;;) {
		struct chunk *c = NULL, *next;
		uint64_t lost;
		int eof;

		pthread_mutex_lock(&q->mu);
		if (q->head == NULL && !q->eof) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
		c = q->head;
		q->head = q->tail = NULL;
		q->bytes = 0;
		eof = q->eof;
		/* lines lost after the last chunk queued: reported now, not
		 * when (if ever) the next chunk comes */
		lost = q->dropped_lines;
		q->dropped_lines = 0;
		pthread_mutex_unlock(&q->mu);

		w->now = mono_ms();
		if (c != NULL) {
			struct chunk *done = c;

			for (; c != NULL; c = next) {
				next = c->next;
				w->last_activity = w->now;
				handle_chunk(w, c);
				w->now = mono_ms();
			}
			chunks_done(q, done);
		}
		if (lost > 0)
			dropped(w, lost);
		housekeeping(w);
		if (eof) {
			pthread_mutex_lock(&q->mu);
			eof = q->head == NULL;
			pthread_mutex_unlock(&q->mu);
			if (eof)
				break;
		}
	}
	/* drain: what is left becomes records, then stop, then seal */
	w->now = mono_ms();
	pa_lines_finish(&w->lines, on_line, w);
	pa_grouper_tick(&w->grouper, w->now, 1);
	pa_translate_settle(&w->tr);
	w->last_retry = 0;
	syncer_quiesce(w->syncer);
	check_sync(w);
	retry(w);
	if (w->failing) {
		logmsg(LOG_ERR, "exiting with %llu events not recorded",
		       (unsigned long long)w->failed_events);
		w->status = 1;
	}
	if (w->log != NULL) {
		privaudit_status st = privaudit_close(w->log);

		w->log = NULL;
		if (st != PRIVAUDIT_OK) {
			logmsg(LOG_ERR, "closing the log failed: %s", privaudit_strerror(st));
			w->status = 1;
		} else if (open_log(w, 0) == 0) {
			st = privaudit_seal(w->log);
			if (st != PRIVAUDIT_OK) {
				logmsg(LOG_ERR, "final seal failed: %s", privaudit_strerror(st));
				w->status = 1;
			} else {
				w->seals++;
				save_serials(w);
			}
			privaudit_close(w->log);
			w->log = NULL;
		} else {
			w->status = 1;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ main */

static void read_boot_id(char *out, size_t len)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROGRAM " --dir DIR [--config FILE] [OPTIONS] < auditd-plugin-stream\n"
		"\n"
		"Reads the auditd plugin string stream (format = string) on stdin and\n"
		"appends privileged events to the signed privaudit log in DIR.\n"
		"\n"
		"  --dir DIR              the log directory (made with `privaudit init`)\n"
		"  --config FILE          settings (key = value), reread on SIGHUP\n"
		"  --heartbeat SECONDS    seal at least this often (default 60)\n"
		"  --commit-events N      group commit every N records (default 1024)\n"
		"  --commit-ms MS         ...or MS after the first pending one (default 200)\n"
		"  --queue-bytes N        reader queue bound; beyond it events are dropped\n"
		"                         and a gap record says so (default 67108864)\n"
		"  --boot-id ID           session keys use ID instead of this boot's id\n"
		"  --no-sync              commit without fdatasync (seals still sync)\n"
		"  --stats                print counters to stderr at exit\n"
		"  --test-slow-writer MS  tests only: the writer sleeps MS per chunk read\n"
		"  -v, --verbose          log to stderr as well as syslog\n"
		"  -h, --help             this text\n"
		"\n"
		"See audisp-privaudit(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "commit-events", required_argument, NULL, 'N' },
		{ "commit-ms", required_argument, NULL, 'T' },
		{ "queue-bytes", required_argument, NULL, 'Q' },
		{ "boot-id", required_argument, NULL, 'B' },
		{ "no-sync", no_argument, NULL, 'S' },
		{ "stats", no_argument, NULL, 's' },
		{ "test-slow-writer", required_argument, NULL, 'W' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct writer w;
	static struct queue q;
	static struct syncer syncer;
	struct chunk *rchunk = NULL;   /* the reader's chunk to read into */
	const char *boot_id = NULL;
	struct pa_grouper_limits lim = { 0 };
	struct sigaction sa;
	sigset_t all, old;
	pthread_t th, sync_th;
	int opt, stats = 0, rc;

	openlog(PROGRAM, LOG_PID, LOG_DAEMON);
	config_defaults(&w.cfg);
	memset(&w.cli, 0, sizeof(w.cli));
	w.cli.heartbeat_s = w.cli.commit_events = w.cli.commit_ms = -1;
	w.cli.queue_bytes = -1;
	w.cli.sync = -1;
	while ((opt = getopt_long(argc, argv, "d:c:vh", opts, NULL)) != -1) {
		long long n;

		switch (opt) {
		case 'd':
			free(w.cli.dir);
			w.cli.dir = strdup(optarg);
			if (w.cli.dir == NULL)
				return 1;
			break;
		case 'c':
			w.config_path = optarg;
			break;
		case 'H':
			if (parse_long(optarg, 1, 86400, &n) < 0)
				goto bad;
			w.cli.heartbeat_s = (long)n;
			break;
		case 'N':
			if (parse_long(optarg, 1, 1000000, &n) < 0)
				goto bad;
			w.cli.commit_events = (long)n;
			break;
		case 'T':
			if (parse_long(optarg, 0, 60000, &n) < 0)
				goto bad;
			w.cli.commit_ms = (long)n;
			break;
		case 'Q':
			if (parse_long(optarg, CHUNK, 1LL << 40, &n) < 0)
				goto bad;
			w.cli.queue_bytes = n;
			break;
		case 'B':
			boot_id = optarg;
			break;
		case 'S':
			w.cli.sync = 0;
			break;
		case 's':
			stats = 1;
			break;
		case 'W':
			if (parse_long(optarg, 0, 10000, &n) < 0)
				goto bad;
			w.cli.test_slow_ms = (long)n;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (w.config_path != NULL && config_load(&w.cfg, w.config_path) < 0)
		return 1;
	apply_cli(&w.cfg, &w.cli);
	if (w.cfg.dir == NULL) {
		fprintf(stderr, PROGRAM ": --dir DIR is required\n");
		goto bad;
	}

	queue_init(&q, (size_t)w.cfg.queue_bytes);
	w.q = &q;
	pa_lines_init(&w.lines);
	pa_grouper_init(&w.grouper, &lim, on_event, &w);
	pa_translate_init(&w.tr, append_cb, &w);
	pa_caps_init(&w.caps, 0, 0, 0);
	if (boot_id != NULL)
		snprintf(w.tr.boot_id, sizeof(w.tr.boot_id), "%s", boot_id);
	else
		read_boot_id(w.tr.boot_id, sizeof(w.tr.boot_id));
	apply_config(&w);
	w.now = mono_ms();
	w.last_seal = w.last_activity = w.now;
	if (open_log(&w, PRIVAUDIT_OPEN_ANNOUNCE) < 0)
		return 1;
	if (privaudit_commit(w.log) != PRIVAUDIT_OK) {
		logmsg(LOG_ERR, "cannot write to log %s: %s", w.cfg.dir, privaudit_log_error(w.log));
		privaudit_close(w.log);
		return 1;
	}
	/* what the run before this one never got becomes a gap record */
	if (pa_translate_restore(&w.tr, w.cfg.dir) < 0)
		logmsg(LOG_WARNING, "cannot take up %s/" PA_STATE_FILE
		       ": %s: what a restart lost is not counted", w.cfg.dir, strerror(errno));

	/* only the reader (this thread) takes signals; read() returns EINTR */
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (syncer_start(&syncer, &sync_th) < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		privaudit_close(w.log);
		return 1;
	}
	w.syncer = &syncer;
	rc = pthread_create(&th, NULL, writer_main, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		logmsg(LOG_ERR, "cannot start the writer thread: %s", strerror(rc));
		syncer_stop(&syncer, sync_th);
		privaudit_close(w.log);
		return 1;
	}

	while (!stop_flag) {
		ssize_t n;

		if (rchunk == NULL)
			rchunk = chunk_get(&q);
		if (rchunk == NULL) {
			/* no memory for the chunk: read into nothing, count as lost */
			static char sink[CHUNK];

			n = read(STDIN_FILENO, sink, sizeof(sink));
			if (n > 0) {
				pthread_mutex_lock(&q.mu);
				drop_locked(&q, sink, (size_t)n);
				pthread_mutex_unlock(&q.mu);
				continue;
			}
		} else {
			n = read(STDIN_FILENO, rchunk->data, CHUNK);
			if (n > 0) {
				struct chunk *c = rchunk, *small;

				/* a short read goes in a chunk of its size (none
				 * when it would be dropped); the 64 KiB one is
				 * read into again */
				if ((size_t)n < SMALL_READ) {
					int room;

					pthread_mutex_lock(&q.mu);
					room = q.bytes + (size_t)n <= q.max_bytes;
					if (!room)
						drop_locked(&q, c->data, (size_t)n);
					pthread_mutex_unlock(&q.mu);
					if (!room)
						continue;
				}
				if ((size_t)n < SMALL_READ &&
				    (small = malloc(sizeof(*small) + (size_t)n)) != NULL) {
					memcpy(small->data, c->data, (size_t)n);
					small->cap = (size_t)n;
					c = small;
				} else {
					rchunk = NULL;
				}
				c->next = NULL;
				c->len = (size_t)n;
				queue_put(&q, c);
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			logmsg(LOG_ERR, "reading stdin: %s", strerror(errno));
		break;
	}
	free(rchunk);
	queue_eof(&q);
	pthread_join(th, NULL);
	syncer_stop(&syncer, sync_th);
	if (stats)
		fprintf(stderr,
			PROGRAM ": lines %llu unparsed %llu events %llu records %llu skipped %llu "
			"failed %llu dropped %llu commits %llu syncs %llu seals %llu "
			"disk-full %llu capped %llu over-budget %llu\n",
			(unsigned long long)w.grouper.lines, (unsigned long long)w.grouper.unparsed,
			(unsigned long long)w.tr.events, (unsigned long long)w.tr.records,
			(unsigned long long)w.tr.skipped, (unsigned long long)w.tr.failed,
			(unsigned long long)q.dropped_total, (unsigned long long)w.commits,
			(unsigned long long)syncer.syncs, (unsigned long long)w.seals,
			(unsigned long long)w.nospace_events, (unsigned long long)w.caps.capped,
			(unsigned long long)w.caps.over_budget);
	queue_free_spares(&q);
	pa_grouper_free(&w.grouper);
	pa_lines_free(&w.lines);
	pa_translate_free(&w.tr);
	config_free(&w.cfg);
	config_free(&w.cli);
	closelog();
	return w.status;
bad:
	usage(stderr);
	return 2;
}
