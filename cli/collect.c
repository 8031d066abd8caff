/* SPDX-License-Identifier: ISC */
/* collect.c: `privaudit collect`, the collector behind rsyslog's omprog: one
 * shipped message per line on stdin, one verified mirror per host log under
 * --root, confirmations on stdout once what was taken is durable, and
 * alerts (forks, bad signatures, missing records, stale hosts, unknown or
 * foreign senders) to syslog and to each host's status file. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "escape.h"
#include "fleet.h"

#define LINE_MAX_BYTES (16u << 20)
#define ALERTS_KEPT 32
/* A hole in what arrived that lasts this long is reported. */
#define MISSING_AFTER 30
/* The status file is rewritten at most this often (seconds). */
#define STATUS_EVERY 1

typedef struct alert {
	int64_t time;
	char type[16];
	char detail[256];
} alert;

typedef struct host {
	char origin[PRIVAUDIT_ORIGIN_MAX];
	char log_id[65];
	char *vkey;
	char *dir;
	privaudit_mirror *m;
	int dirty;                    /* taken since the last sync */
	int status_dirty;
	int64_t status_written;       /* when collect-status was last written */
	uint64_t host_size;           /* from the newest sync message */
	int64_t last_seen;
	uint64_t forks, rejected;     /* counts already alerted */
	int64_t fork_alerted;         /* when forks were last alerted (once a second) */
	int failed_alerted, stale_alerted, missing_alerted;
	uint64_t missing_from;        /* first missing index when the hole was seen */
	int64_t missing_since;
	alert alerts[ALERTS_KEPT];
	size_t nalerts, next_alert;
} host;

struct collector {
	const char *root, *keydir, *alerts_path;
	int64_t max_age;
	int enroll;
	size_t buffer;
	privaudit_witness *witness;
	host *hosts;
	size_t nhosts, caphosts;
	int in_txn;
	time_t keydir_scanned;
	char **unknown;               /* origin/log id pairs already alerted */
	size_t nunknown;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void put_alert(struct collector *c, host *h, const char *origin, const char *log_id,
		      const char *type, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* One alert: to syslog with a stable tag, to --alerts, and into the host's
 * status file. */
static void put_alert(struct collector *c, host *h, const char *origin, const char *log_id,
		      const char *type, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	syslog(LOG_ALERT, "ALERT type=%s origin=%s log=%.16s %s", type, origin, log_id, detail);
	if (c->alerts_path != NULL) {
		FILE *f = fopen(c->alerts_path, "ae");

		if (f != NULL) {
			fprintf(f, "%" PRId64 " ALERT type=%s origin=", now_s(), type);
			pa_print_escaped(f, origin, strlen(origin));
			fprintf(f, " log=%.16s ", log_id);
			pa_print_escaped(f, detail, strlen(detail));
			fputc('\n', f);
			fclose(f);
		}
	}
	if (h != NULL) {
		alert *a = &h->alerts[h->next_alert];

		a->time = now_s();
		snprintf(a->type, sizeof(a->type), "%s", type);
		snprintf(a->detail, sizeof(a->detail), "%s", detail);
		h->next_alert = (h->next_alert + 1) % ALERTS_KEPT;
		if (h->nalerts < ALERTS_KEPT)
			h->nalerts++;
		h->status_dirty = 1;
	}
}

static host *find_host(struct collector *c, const char *log_id)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].log_id, log_id) == 0)
			return &c->hosts[i];
	return NULL;
}

static host *find_origin(struct collector *c, const char *origin)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].origin, origin) == 0)
			return &c->hosts[i];
	return NULL;
}

static host *add_host(struct collector *c, const char *vkey)
{
	char origin[PRIVAUDIT_ORIGIN_MAX], id[65], name[PRIVAUDIT_ORIGIN_MAX + 20];
	host *h;

	if (privaudit_vkey_log_id(vkey, origin, id) != PRIVAUDIT_OK)
		return NULL;
	if ((h = find_host(c, id)) != NULL)
		return h;
	if (c->nhosts == c->caphosts) {
		size_t cap = c->caphosts ? c->caphosts * 2 : 16;
		host *n = realloc(c->hosts, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		c->hosts = n;
		c->caphosts = cap;
	}
	h = &c->hosts[c->nhosts];
	memset(h, 0, sizeof(*h));
	memcpy(h->origin, origin, sizeof(h->origin));
	memcpy(h->log_id, id, sizeof(h->log_id));
	h->vkey = strdup(vkey);
	fleet_mirror_name(name, sizeof(name), origin, id);
	if (h->vkey == NULL || asprintf(&h->dir, "%s/%s", c->root, name) < 0) {
		free(h->vkey);
		return NULL;
	}
	c->nhosts++;
	return h;
}

/* KEYDIR: one host's log.pub line per file, any name.  Read again when an
 * unknown log shows up, so enrolling needs no restart. */
static void scan_keydir(struct collector *c)
{
	struct dirent *de;
	DIR *d;

	c->keydir_scanned = time(NULL);
	d = opendir(c->keydir);
	if (d == NULL) {
		fprintf(stderr, "%s collect: %s: %s\n", progname, c->keydir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		char *line;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", c->keydir, de->d_name) >= (int)sizeof(path))
			continue;
		line = read_file(path, 4096, &len);
		if (line == NULL)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		if (add_host(c, line) == NULL)
			fprintf(stderr, "%s collect: %s holds no log key line: ignored\n", progname, path);
		free(line);
	}
	closedir(d);
}

static privaudit_status cosign_cb(void *arg, const char *note, size_t len, char **out,
				  size_t *out_len)
{
	return privaudit_witness_cosign(arg, note, len, 0, out, out_len);
}

static privaudit_status open_mirror(struct collector *c, host *h)
{
	privaudit_status st;

	if (h->m != NULL)
		return PRIVAUDIT_OK;
	st = privaudit_mirror_open(&h->m, h->dir, h->vkey);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "%s collect: mirror %s: %s\n", progname, h->dir,
			h->m == NULL ? privaudit_strerror(st) : privaudit_mirror_error(h->m));
		h->m = NULL;
		return st;
	}
	if (c->buffer > 0)
		privaudit_mirror_set_buffer(h->m, c->buffer, c->buffer * 64 * 1024 > (4u << 20) + 64
							     ? c->buffer * 64 * 1024
							     : (4u << 20) + 64);
	if (c->witness != NULL)
		privaudit_mirror_set_cosigner(h->m, cosign_cb, c->witness);
	h->status_dirty = 1;
	return PRIVAUDIT_OK;
}

static const char *failure_type(privaudit_status st)
{
	if (st == PRIVAUDIT_E_FORK)
		return "fork";
	if (st == PRIVAUDIT_E_PINNED_KEY || st == PRIVAUDIT_E_FOREIGN)
		return "foreign";
	if (st == PRIVAUDIT_E_SIGNATURE || st == PRIVAUDIT_E_CHAIN || st == PRIVAUDIT_E_ROOT)
		return "signature";
	return "format";
}

/* Alerts that follow from what the mirror now says. */
static void check_mirror(struct collector *c, host *h)
{
	privaudit_mirror_state s;

	if (h->m == NULL || privaudit_mirror_get_state(h->m, &s) != PRIVAUDIT_OK)
		return;
	if (s.forks > h->forks && (h->forks == 0 || now_s() != h->fork_alerted)) {
		h->fork_alerted = now_s();
		put_alert(c, h, h->origin, h->log_id, "fork",
			  "%" PRIu64 " record(s) conflict with records already held: the host's log was "
			  "rewritten or rolled back (kept in %s/forks)",
			  s.forks - h->forks, h->dir);
		h->forks = s.forks;
	}
	if (s.failed != PRIVAUDIT_OK && !h->failed_alerted && s.failed != PRIVAUDIT_E_FORK) {
		put_alert(c, h, h->origin, h->log_id, failure_type(s.failed),
			  "record %" PRIu64 ": %s; the mirror takes nothing after it", s.failed_at,
			  s.detail);
		h->failed_alerted = 1;
	}
	if (s.rejected > h->rejected) {
		if (s.failed == PRIVAUDIT_OK)
			put_alert(c, h, h->origin, h->log_id, "format",
				  "%" PRIu64 " record(s) rejected (kept in %s/rejected)",
				  s.rejected - h->rejected, h->dir);
		h->rejected = s.rejected;
	}
}

/* Holes and silence, looked at about once a second. */
static void check_time(struct collector *c, host *h, int64_t now)
{
	privaudit_mirror_state s;

	if (h->m == NULL || privaudit_mirror_get_state(h->m, &s) != PRIVAUDIT_OK)
		return;
	if (s.buffered > 0 || h->host_size > s.records) {
		if (h->missing_since == 0 || h->missing_from != s.records) {
			h->missing_since = now;
			h->missing_from = s.records;
			h->missing_alerted = 0;
		} else if (now - h->missing_since >= MISSING_AFTER && !h->missing_alerted) {
			uint64_t to = s.buffered > 0 ? s.buffered_max : h->host_size - 1;

			put_alert(c, h, h->origin, h->log_id, "missing",
				  "records from %" PRIu64 " not received for %" PRId64
				  " s (the host has sent up to %" PRIu64 ")",
				  s.records, now - h->missing_since, to);
			h->missing_alerted = 1;
		}
	} else {
		h->missing_since = 0;
		h->missing_alerted = 0;
	}
	if (c->max_age > 0 && s.checkpoints > 0) {
		int stale = now - s.checkpoint_time > c->max_age;

		if (stale && !h->stale_alerted) {
			put_alert(c, h, h->origin, h->log_id, "stale",
				  "no checkpoint for %" PRId64 " s (more than %" PRId64 " s)",
				  now - s.checkpoint_time, c->max_age);
			h->stale_alerted = 1;
		} else if (!stale && h->stale_alerted) {
			h->stale_alerted = 0;
			h->status_dirty = 1;
		}
	}
}

static void write_status(struct collector *c, host *h)
{
	struct fleet_status fs;

	(void)c;
	if (h->m == NULL)
		return;
	memset(&fs, 0, sizeof(fs));
	if (privaudit_mirror_get_state(h->m, &fs.mirror) != PRIVAUDIT_OK)
		return;
	fs.host_size = h->host_size;
	fs.last_seen = h->last_seen;
	fs.stale = h->stale_alerted;
	for (size_t i = 0; i < h->nalerts; i++) {
		const alert *a = &h->alerts[(h->next_alert + ALERTS_KEPT - h->nalerts + i) % ALERTS_KEPT];

		fs.alert_time[i] = a->time;
		fs.alert_type[i] = a->type;
		fs.alert_detail[i] = a->detail;
	}
	fs.nalerts = h->nalerts;
	if (fleet_status_write(h->dir, &fs) < 0)
		fprintf(stderr, "%s collect: %s/%s: %s\n", progname, h->dir, FLEET_STATUS_FILE,
			strerror(errno));
	h->status_dirty = 0;
}

/* Messages of a log no key in KEYDIR names: kept, never mirrored. */
static void quarantine(struct collector *c, const privaudit_shipped *s, const char *line,
		       size_t len, const char *why)
{
	char name[PRIVAUDIT_ORIGIN_MAX + 20], path[4096];
	int known = 0, fd;

	fleet_mirror_name(name, sizeof(name), s->origin, s->log_id);
	for (size_t i = 0; i < c->nunknown; i++)
		if (strcmp(c->unknown[i], name) == 0)
			known = 1;
	if (!known) {
		char **n = realloc(c->unknown, (c->nunknown + 1) * sizeof(*n));

		if (n != NULL) {
			c->unknown = n;
			c->unknown[c->nunknown] = strdup(name);
			if (c->unknown[c->nunknown] != NULL)
				c->nunknown++;
		}
		put_alert(c, NULL, s->origin, s->log_id,
			  strcmp(why, "foreign") == 0 ? "foreign" : "unknown-host", "%s",
			  strcmp(why, "foreign") == 0
				  ? "a log id that the origin's enrolled key does not give: rejected, quarantined"
				  : "no enrolled key for this log: quarantined");
	}
	snprintf(path, sizeof(path), "%s/quarantine", c->root);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/quarantine/%s", c->root, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd >= 0) {
		if (write(fd, line, len) < 0 || write(fd, "\n", 1) < 0 || fdatasync(fd) < 0)
			fprintf(stderr, "%s collect: %s: %s\n", progname, path, strerror(errno));
		close(fd);
	}
}

/* Enrol on first use (--enroll-on-first-use): the key comes from the log's
 * own genesis record, and is written to KEYDIR like any other. */
static host *enroll(struct collector *c, const privaudit_shipped *s)
{
	char vkey[512], origin[PRIVAUDIT_ORIGIN_MAX], id[65], name[PRIVAUDIT_ORIGIN_MAX + 24];
	char path[4096];
	host *h;
	FILE *f;

	if (s->type != PRIVAUDIT_SHIPPED_RECORD || s->index != 0 ||
	    privaudit_genesis_vkey(s->entry, s->entry_len, vkey, sizeof(vkey)) != PRIVAUDIT_OK ||
	    privaudit_vkey_log_id(vkey, origin, id) != PRIVAUDIT_OK || strcmp(origin, s->origin) != 0 ||
	    strcmp(id, s->log_id) != 0)
		return NULL;
	fleet_mirror_name(name, sizeof(name), origin, id);
	snprintf(path, sizeof(path), "%s/%s.pub", c->keydir, name);
	f = fopen(path, "wx");
	if (f == NULL && errno != EEXIST)
		return NULL;
	if (f != NULL) {
		fprintf(f, "%s\n", vkey);
		if (fclose(f) != 0)
			return NULL;
	}
	h = add_host(c, vkey);
	if (h != NULL)
		put_alert(c, h, origin, id, "enrolled",
			  "enrolled on first use with the key in its genesis record (%s)", path);
	return h;
}

/* The parts of an RFC 5424 line (RSYSLOG_SyslogProtocol23Format) we need:
 * APP-NAME, MSGID and MSG.  0, or -1 when it is not such a line. */
static int parse_syslog(char *line, char **app, char **msgid, char **msg)
{
	char *f[7];
	char *p = line;

	if (*p != '<')
		return -1;
	for (int i = 0; i < 6; i++) {
		char *sp = strchr(p, ' ');

		if (sp == NULL)
			return -1;
		*sp = '\0';
		f[i] = p;
		p = sp + 1;
	}
	/* STRUCTURED-DATA: "-" or one or more [elements]. */
	if (*p == '-') {
		p++;
	} else if (*p == '[') {
		int in_q = 0;

		for (; *p != '\0'; p++) {
			if (in_q) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					in_q = 0;
			} else if (*p == '"') {
				in_q = 1;
			} else if (*p == ']' && p[1] != '[') {
				p++;
				break;
			}
		}
	} else {
		return -1;
	}
	if (*p == ' ')
		p++;
	f[6] = p;
	if (strncmp(f[0], "<", 1) != 0 || strchr(f[0], '>') == NULL)
		return -1;
	*app = f[3];
	*msgid = f[5];
	*msg = f[6];
	return 0;
}

/* One input line: 0 to confirm it, -1 to have rsyslog keep and resend it
 * (*why says why). */
static int handle_message(struct collector *c, char *line, size_t len, const char **why)
{
	char *app, *msgid, *msg, *copy;
	privaudit_shipped s;
	privaudit_mirror_result res;
	privaudit_status st;
	host *h;

	copy = strdup(line);
	if (copy == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (parse_syslog(copy, &app, &msgid, &msg) < 0 || strcmp(app, "privaudit") != 0) {
		free(copy);
		return 0;   /* not ours: another ruleset's business */
	}
	st = privaudit_shipped_parse(msg, strlen(msg), &s);
	if (st != PRIVAUDIT_OK) {
		put_alert(c, NULL, "-", "-", "format", "a privaudit message that does not parse (%s)",
			  privaudit_strerror(st));
		free(copy);
		return 0;
	}
	(void)msgid;
	h = find_host(c, s.log_id);
	if (h == NULL && time(NULL) != c->keydir_scanned) {
		scan_keydir(c);
		h = find_host(c, s.log_id);
	}
	if (h == NULL && c->enroll && find_origin(c, s.origin) == NULL)
		h = enroll(c, &s);
	if (h != NULL && strcmp(h->origin, s.origin) != 0) {
		/* A log id that is not this origin's: someone else's records. */
		h = NULL;
		quarantine(c, &s, line, len, "foreign");
		privaudit_shipped_free(&s);
		free(copy);
		return 0;
	}
	if (h == NULL) {
		quarantine(c, &s, line, len, find_origin(c, s.origin) != NULL ? "foreign" : "unknown");
		privaudit_shipped_free(&s);
		free(copy);
		return 0;
	}
	h->last_seen = now_s();
	h->status_dirty = 1;
	if (s.type == PRIVAUDIT_SHIPPED_SYNC) {
		h->host_size = s.size;
		privaudit_shipped_free(&s);
		free(copy);
		return 0;
	}
	if (s.index + 1 > h->host_size)
		h->host_size = s.index + 1;
	if (open_mirror(c, h) != PRIVAUDIT_OK) {
		privaudit_shipped_free(&s);
		free(copy);
		*why = "cannot open the mirror";
		return -1;
	}
	st = privaudit_mirror_put(h->m, s.index, s.entry, s.entry_len, &res);
	privaudit_shipped_free(&s);
	free(copy);
	if (st != PRIVAUDIT_OK) {
		fprintf(stderr, "%s collect: %s: %s\n", progname, h->dir, privaudit_mirror_error(h->m));
		*why = "cannot write the mirror";
		return -1;
	}
	h->dirty = 1;
	check_mirror(c, h);
	if (res == PRIVAUDIT_MIRROR_FULL) {
		*why = "too many records wait for a missing one";
		return -1;
	}
	return 0;
}

static int sync_all(struct collector *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nhosts; i++) {
		host *h = &c->hosts[i];

		if (!h->dirty || h->m == NULL)
			continue;
		if (privaudit_mirror_sync(h->m) != PRIVAUDIT_OK) {
			fprintf(stderr, "%s collect: %s: %s\n", progname, h->dir,
				privaudit_mirror_error(h->m));
			rc = -1;
			continue;
		}
		h->dirty = 0;
	}
	return rc;
}

static void reply(const char *s)
{
	fputs(s, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static void handle_line(struct collector *c, char *line, size_t len)
{
	const char *why = NULL;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (strcmp(line, "BEGIN TRANSACTION") == 0) {
		c->in_txn = 1;
		reply("OK");
		return;
	}
	if (strcmp(line, "COMMIT TRANSACTION") == 0) {
		c->in_txn = 0;
		reply(sync_all(c) == 0 ? "OK" : "ERROR the mirror could not be made durable");
		return;
	}
	if (handle_message(c, line, len, &why) < 0) {
		char buf[128];

		/* rsyslog answers an error inside a transaction by starting
		 * another without a commit: what this one took is made
		 * durable now, since no COMMIT will come for it. */
		if (c->in_txn)
			(void)sync_all(c);

		snprintf(buf, sizeof(buf), "ERROR %s", why ? why : "failed");
		reply(buf);
		return;
	}
	if (c->in_txn) {
		reply("DEFER_COMMIT");
		return;
	}
	reply(sync_all(c) == 0 ? "OK" : "ERROR the mirror could not be made durable");
}

static void tick(struct collector *c)
{
	int64_t now = now_s();

	for (size_t i = 0; i < c->nhosts; i++) {
		host *h = &c->hosts[i];

		if (h->m == NULL)
			continue;
		check_time(c, h, now);
		check_mirror(c, h);
		/* At most once a second: it is for people and monitoring. */
		if (h->status_dirty && now - h->status_written >= STATUS_EVERY) {
			write_status(c, h);
			h->status_written = now;
		}
	}
}

static int collect_usage(FILE *f)
{
	fprintf(f,
		"usage: privaudit collect --root DIR --hosts KEYDIR [--witness-key FILE]\n"
		"                         [--max-age SECONDS] [--enroll-on-first-use]\n"
		"                         [--buffer N] [--alerts FILE]\n\n"
		"The collector, run by rsyslog's omprog (confirmMessages=\"on\",\n"
		"template RSYSLOG_SyslogProtocol23Format): reads what privauditd ships,\n"
		"one message per line, keeps one verified mirror per host log under DIR,\n"
		"and confirms each line on stdout once it is durable.\n\n"
		"  --root DIR            where the mirrors are (DIR/ORIGIN-LOGID)\n"
		"  --hosts KEYDIR        enrolled hosts: one log.pub line per file\n"
		"  --witness-key FILE    cosign every verified checkpoint with this key\n"
		"  --max-age SECONDS     alert when a host's newest checkpoint is older\n"
		"  --enroll-on-first-use take an unknown host's key from its genesis record\n"
		"  --buffer N            records that may wait for a missing one (65536)\n"
		"  --alerts FILE         also append each alert to FILE\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"hosts", required_argument, NULL, 'k'},
		{"witness-key", required_argument, NULL, 'w'},
		{"max-age", required_argument, NULL, 'm'},
		{"enroll-on-first-use", no_argument, NULL, 'e'},
		{"buffer", required_argument, NULL, 'b'},
		{"alerts", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct collector c;
	const char *witness_path = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, skip = 0;
	int opt, rc = 0;
	uint64_t n;

	memset(&c, 0, sizeof(c));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': c.root = optarg; break;
		case 'k': c.keydir = optarg; break;
		case 'w': witness_path = optarg; break;
		case 'e': c.enroll = 1; break;
		case 'a': c.alerts_path = optarg; break;
		case 'm':
			if (parse_num(optarg, &n) < 0 || n > INT64_MAX)
				return collect_usage(stderr);
			c.max_age = (int64_t)n;
			break;
		case 'b':
			if (parse_num(optarg, &n) < 0 || n == 0 || n > (1u << 24))
				return collect_usage(stderr);
			c.buffer = (size_t)n;
			break;
		case 'h': return collect_usage(stdout);
		default: return collect_usage(stderr);
		}
	}
	if (c.root == NULL || c.keydir == NULL || optind != argc)
		return collect_usage(stderr);
	openlog("privaudit-collect", LOG_PID, LOG_AUTHPRIV);
	if (mkdir(c.root, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s collect: %s: %s\n", progname, c.root, strerror(errno));
		return EXIT_CANNOT_READ;
	}
	if (witness_path != NULL) {
		privaudit_status st = privaudit_witness_open(&c.witness, witness_path);

		if (st != PRIVAUDIT_OK) {
			fprintf(stderr, "%s collect: witness key %s: %s\n", progname, witness_path,
				st == PRIVAUDIT_E_IO ? strerror(errno) : privaudit_strerror(st));
			return EXIT_CANNOT_READ;
		}
	}
	scan_keydir(&c);
	for (size_t i = 0; i < c.nhosts; i++) {
		struct stat sb;

		/* Hosts seen before: their mirrors are watched for silence. */
		if (stat(c.hosts[i].dir, &sb) == 0 && open_mirror(&c, &c.hosts[i]) == PRIVAUDIT_OK)
			check_mirror(&c, &c.hosts[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* Ready: omprog waits for this before it sends anything. */
	reply("OK");
	while (!stop) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		ssize_t got;
		char *nl;

		tick(&c);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (cap - len < 65536) {
			size_t ncap = cap ? cap * 2 : 1u << 20;
			char *nb;

			if (ncap > LINE_MAX_BYTES + 65536)
				ncap = LINE_MAX_BYTES + 65536;
			nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (nb == NULL && ncap > cap) {
				rc = EXIT_CANNOT_READ;
				break;
			}
			if (nb != NULL) {
				buf = nb;
				cap = ncap;
			}
		}
		got = read(0, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;   /* rsyslog closed our input: it is stopping */
		len += (size_t)got;
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t ll = (size_t)(nl - buf);

			*nl = '\0';
			if (skip)
				skip = 0;   /* the end of an overlong line */
			else
				handle_line(&c, buf, ll);
			memmove(buf, nl + 1, len - ll - 1);
			len -= ll + 1;
		}
		if (len >= cap - 1 - 65536 && cap >= LINE_MAX_BYTES) {
			/* A line longer than any message privauditd sends: it
			 * cannot be ours; drop it, confirmed once. */
			if (!skip) {
				put_alert(&c, NULL, "-", "-", "format",
					  "a line over %u bytes dropped", LINE_MAX_BYTES);
				reply(c.in_txn ? "DEFER_COMMIT" : "OK");
			}
			len = 0;
			skip = 1;
		}
	}
	if (sync_all(&c) < 0)
		rc = EXIT_CANNOT_READ;
	for (size_t i = 0; i < c.nhosts; i++) {
		host *h = &c.hosts[i];

		if (h->m != NULL) {
			write_status(&c, h);
			privaudit_mirror_close(h->m);
		}
		free(h->vkey);
		free(h->dir);
	}
	for (size_t i = 0; i < c.nunknown; i++)
		free(c.unknown[i]);
	free(c.unknown);
	free(c.hosts);
	free(buf);
	privaudit_witness_free(c.witness);
	closelog();
	return rc;
}
