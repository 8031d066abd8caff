/* SPDX-License-Identifier: ISC */
/* sudo_privaudit.c: a sudo I/O plugin (sudo_plugin(5)) that records the
 * terminal input and output of every command run through sudo into the
 * privaudit log, through privauditd, like pam_privaudit's records
 * (sudo_privaudit(8), doc/format.md "Terminal I/O").
 *
 * One command per sudo process: open() sends an io_open, each stream's
 * bytes gather with their timing into a chunk of at most chunk= bytes,
 * sent as an io_chunk when full, flush= milliseconds after its first event
 * (a timer of sudo's event loop) and at close(), which ends with an
 * io_close.  Offsets in every chunk say where its bytes sit in each
 * stream, so a reader sees any byte lost or recorded twice.
 *
 * sudo must never break or hang because of this plugin: every exchange
 * with privauditd is bounded by timeout=, and when privauditd is not there
 * the plugin waits for it no more than once every RETRY_MS.  With
 * failmode=open (the default) the command runs on and what could not be
 * recorded is counted (lost_bytes, and holes in the offsets); with
 * failmode=closed sudo refuses to run the command, or stops it.
 *
 * With seal_input_to=KEYFILE, keystrokes (ttyin, stdin) are sealed to the
 * auditors' X25519 key (crypto_box_seal) before they leave this process:
 * the log holds them only encrypted, and they are kept here only in
 * sodium_malloc memory, wiped once sealed. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>
#include <sys/wait.h>

#include <sodium.h>
#include <sudo_plugin.h>

#include "auditorkey.h"
#include "client.h"
#include "wire.h"

#define PLUGIN_NAME "sudo_privaudit"
#define NSTREAMS 5
#define EV_WINSIZE 5
#define EV_SUSPEND 6
#define UNSET_ID 4294967295u
#define RETRY_MS 5000            /* privauditd away: try again after this long */
#define CHUNK_DEFAULT (64u * 1024u)
#define CHUNK_MIN 1024u
#define CHUNK_MAX (192u * 1024u) /* stays under PA_WIRE_REQUEST_MAX with its timing */
#define TIMING_MAX (16u * 1024u) /* events per chunk are bounded by this too */

static const char *const stream_names[NSTREAMS] = {"ttyin", "ttyout", "stdin", "stdout", "stderr"};

/* A growing byte buffer; secret ones live in sodium_malloc memory of a
 * fixed capacity and are wiped when emptied. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static struct state {
	/* options */
	char socket[108];
	int failmode_closed;
	int timeout_ms;
	size_t chunk_max;
	long flush_ms;
	unsigned sealed_streams;       /* bit 1 << stream */
	unsigned char seal_pk[PA_AUDITOR_KEY_BYTES];
	unsigned char seal_id[PA_AUDITOR_ID_BYTES];

	/* the command */
	int active;
	char io_id[33];                /* 16 random bytes, in hex */
	char session_key[128];
	uint64_t start_ns;             /* CLOCK_REALTIME at open */
	uint64_t start_us;             /* CLOCK_MONOTONIC at open */
	uint64_t seq;
	uint64_t pos[NSTREAMS];        /* bytes sudo gave us, by stream */
	uint64_t lost;

	/* the chunk being gathered */
	struct buf timing, data, secret;
	uint64_t chunk_pos[NSTREAMS];  /* pos[] when it began */
	uint64_t chunk_start_us, last_us;
	int chunk_events;

	/* privauditd */
	int fd;
	int inflight;                  /* a chunk sent, its answer not read yet */
	uint64_t inflight_bytes;
	long long retry_at;            /* monotonic ms: no connect before then */
	int said_down;

	sudo_printf_t printf_fn;
	struct sudo_plugin_event *timer;
	int timer_armed;
} S = {.fd = -1};

extern struct io_plugin privaudit_io;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(LOG_AUTHPRIV | level, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ buffers */

static int buf_reserve(struct buf *b, size_t more)
{
	unsigned char *p;
	size_t cap;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_put(struct buf *b, const void *v, size_t len)
{
	if (len == 0)
		return 0;
	if (buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->p + b->len, v, len);
	b->len += len;
	return 0;
}

static int buf_varint(struct buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;

	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			t[n] |= 0x80;
		n++;
	} while (v != 0);
	return buf_put(b, t, n);
}

/* The secret buffer: one chunk's worth, allocated once. */
static int secret_put(const void *v, size_t len)
{
	if (S.secret.len + len > S.secret.cap)
		return -1;   /* the chunk is flushed before it could be */
	memcpy(S.secret.p + S.secret.len, v, len);
	S.secret.len += len;
	return 0;
}

static void chunk_reset(void)
{
	S.timing.len = 0;
	S.data.len = 0;
	if (S.secret.p != NULL)
		sodium_memzero(S.secret.p, S.secret.len);
	S.secret.len = 0;
	S.chunk_events = 0;
	memcpy(S.chunk_pos, S.pos, sizeof(S.pos));
}

/* ------------------------------------------------------------ privauditd */

static long long mono_ms(void)
{
	return (long long)(mono_us() / 1000u);
}

static void hang_up(void)
{
	if (S.fd >= 0)
		close(S.fd);
	S.fd = -1;
}

static void went_away(const char *what, const char *stage)
{
	hang_up();
	S.retry_at = mono_ms() + RETRY_MS;
	if (!S.said_down)
		say(LOG_ERR, PLUGIN_NAME ": cannot record %s: privauditd at %s: %s: %s", what,
		    S.socket, stage, strerror(errno));
	S.said_down = 1;
}

static int answered(int code, const char *text, const char *what)
{
	if (S.said_down)
		say(LOG_NOTICE, PLUGIN_NAME ": privauditd at %s answers again", S.socket);
	S.said_down = 0;
	if (code != PA_WIRE_OK) {
		say(LOG_ERR, PLUGIN_NAME ": cannot record %s: privauditd answered %d: %s", what, code,
		    text);
		return -1;
	}
	return 0;
}

/* The answer to the chunk in flight: its bytes count as lost unless it
 * was recorded.  0 when it was (or none was in flight). */
static int drain(void)
{
	char text[PA_WIRE_ANSWER_MAX];
	const char *stage = "answer";
	int code;

	if (!S.inflight)
		return 0;
	S.inflight = 0;
	code = pa_client_answer(S.fd, S.timeout_ms, text, sizeof(text), &stage);
	if (code < 0)
		went_away("terminal I/O", stage);
	if (code < 0 || answered(code, text, "terminal I/O") < 0) {
		S.lost += S.inflight_bytes;
		return -1;
	}
	return 0;
}

/* Send one request, connecting when needed; a connection privauditd
 * closed while idle is opened again once.  With wait, read its answer
 * too: 0 when the record is in the log.  Without, it is in flight: 0 when
 * it went out, and drain() reads its answer before the next request. */
static int send_request(struct pa_wire_buf *b, const char *what, int wait, uint64_t bytes)
{
	char text[PA_WIRE_ANSWER_MAX];
	const char *stage = "build";
	int code = -1, rc = drain();

	if (pa_wire_end(b) < 0) {
		say(LOG_ERR, PLUGIN_NAME ": cannot build the %s record", what);
		return -1;
	}
	for (int tries = 0; tries < 2; tries++) {
		if (S.fd < 0) {
			if (mono_ms() < S.retry_at)
				return -1;   /* said already; not waited for again yet */
			S.fd = pa_client_connect(S.socket, S.timeout_ms, &stage);
			if (S.fd < 0)
				break;
		}
		if (!wait) {
			code = pa_client_send(S.fd, b, S.timeout_ms, &stage);
			if (code == 0) {
				S.inflight = 1;
				S.inflight_bytes = bytes;
				return rc;
			}
		} else {
			code = pa_client_exchange(S.fd, b, S.timeout_ms, text, sizeof(text), &stage);
			if (code >= 0)
				break;
		}
		hang_up();
		/* only a connection closed under us is worth a second try */
		if (errno != EPIPE && errno != ECONNRESET)
			break;
	}
	if (code < 0) {
		went_away(what, stage);
		return -1;
	}
	return answered(code, text, what) < 0 ? -1 : rc;
}

static void add_common(struct pa_wire_buf *b)
{
	pa_wire_add_str(b, "io_id", S.io_id);
	pa_wire_add_str(b, "session_key", S.session_key);
}

/* Send the gathered chunk.  0 when it is in the log (or there was none);
 * on failure its bytes are counted as lost and the offsets of the next
 * chunk show the hole. */
static int flush_chunk(void)
{
	struct pa_wire_buf b = {0};
	unsigned char *sealed = NULL;
	uint64_t bytes = S.data.len + S.secret.len;
	int rc = 0;

	if (S.chunk_events == 0)
		return 0;
	pa_wire_begin(&b, "io_chunk", 0);
	add_common(&b);
	pa_wire_add_int(&b, "seq", (int64_t)S.seq);
	pa_wire_add_int(&b, "start_us", (int64_t)S.chunk_start_us);
	pa_wire_add_bytes(&b, "timing", S.timing.p, S.timing.len);
	if (S.data.len > 0)
		pa_wire_add_bytes(&b, "data", S.data.p, S.data.len);
	if (S.sealed_streams != 0)
		pa_wire_add_int(&b, "sealed_streams", S.sealed_streams);
	if (S.secret.len > 0) {
		sealed = malloc(S.secret.len + crypto_box_SEALBYTES);
		if (sealed == NULL || crypto_box_seal(sealed, S.secret.p, S.secret.len, S.seal_pk) != 0)
			b.failed = 1;
		else
			pa_wire_add_bytes(&b, "sealed", sealed, S.secret.len + crypto_box_SEALBYTES);
	}
	for (int s = 0; s < NSTREAMS; s++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_offset", stream_names[s]);
		if (S.chunk_pos[s] != 0)
			pa_wire_add_int(&b, name, (int64_t)S.chunk_pos[s]);
	}
	S.seq++;
	/* in flight while sudo goes on: its answer is read before the next */
	if (send_request(&b, "terminal I/O", 0, bytes) < 0) {
		if (!S.inflight)
			S.lost += bytes;   /* not sent (a failed answer counted its own) */
		rc = -1;
	}
	pa_wire_buf_free(&b);
	free(sealed);
	chunk_reset();
	return rc;
}

/* ------------------------------------------------------------ events */

static void timer_fired(int fd, int what, void *closure)
{
	(void)fd;
	(void)what;
	(void)closure;
	S.timer_armed = 0;
	(void)flush_chunk();
}

/* A chunk's first event starts the clock on it: it goes out flush_ms
 * later even when nothing else happens (a command waiting for input). */
static void arm_timer(void)
{
	struct timespec ts;

	if (S.timer == NULL || S.timer_armed)
		return;
	ts.tv_sec = S.flush_ms / 1000;
	ts.tv_nsec = (S.flush_ms % 1000) * 1000000L;
	if (S.timer->add(S.timer, &ts) == 0)
		S.timer_armed = 1;
}

static void disarm_timer(void)
{
	if (S.timer != NULL && S.timer_armed)
		(void)S.timer->del(S.timer);
	S.timer_armed = 0;
}

/* Open a new event in the chunk: its type and delay. */
static int event_head(unsigned type)
{
	uint64_t now = mono_us() - S.start_us;

	if (S.chunk_events == 0) {
		S.chunk_start_us = now;
		S.last_us = now;
		arm_timer();
	}
	if (now < S.last_us)
		now = S.last_us;
	if (buf_varint(&S.timing, type) < 0 || buf_varint(&S.timing, now - S.last_us) < 0)
		return -1;
	S.last_us = now;
	S.chunk_events++;
	return 0;
}

/* The result for sudo: with failmode=closed a failure stops the command. */
static int result(int rc, const char **errstr)
{
	if (rc == 0 || !S.failmode_closed)
		return 1;
	if (errstr != NULL)
		*errstr = "privaudit: the terminal I/O could not be recorded (failmode=closed)";
	return -1;
}

static int room_left(void)
{
	size_t used = S.data.len + S.secret.len;

	return used < S.chunk_max && S.timing.len < TIMING_MAX;
}

static int log_stream(unsigned stream, const char *buf, unsigned int len, const char **errstr)
{
	const unsigned char *p = (const unsigned char *)buf;
	int secret = (S.sealed_streams >> stream) & 1u;
	int rc = 0;

	if (!S.active)
		return 1;
	while (len > 0) {
		size_t room, n;

		if (!room_left() && flush_chunk() < 0)
			rc = -1;
		room = S.chunk_max - (S.data.len + S.secret.len);
		n = len < room ? len : room;
		if (event_head(stream) < 0 || buf_varint(&S.timing, n) < 0 ||
		    (secret ? secret_put(p, n) : buf_put(&S.data, p, n)) < 0) {
			/* out of memory: what this chunk has goes out now */
			S.lost += len;
			S.pos[stream] += len;
			(void)flush_chunk();
			return result(-1, errstr);
		}
		S.pos[stream] += n;
		p += n;
		len -= (unsigned)n;
	}
	if (!room_left() || S.last_us - S.chunk_start_us >= (uint64_t)S.flush_ms * 1000u) {
		disarm_timer();
		if (flush_chunk() < 0)
			rc = -1;
	}
	return result(rc, errstr);
}

static int io_log_ttyin(const char *buf, unsigned int len, const char **errstr)
{
	return log_stream(0, buf, len, errstr);
}

static int io_log_ttyout(const char *buf, unsigned int len, const char **errstr)
{
	return log_stream(1, buf, len, errstr);
}

static int io_log_stdin(const char *buf, unsigned int len, const char **errstr)
{
	return log_stream(2, buf, len, errstr);
}

static int io_log_stdout(const char *buf, unsigned int len, const char **errstr)
{
	return log_stream(3, buf, len, errstr);
}

static int io_log_stderr(const char *buf, unsigned int len, const char **errstr)
{
	return log_stream(4, buf, len, errstr);
}

static int io_change_winsize(unsigned int lines, unsigned int cols, const char **errstr)
{
	int rc = 0;

	if (!S.active)
		return 1;
	if (!room_left() && flush_chunk() < 0)
		rc = -1;
	if (event_head(EV_WINSIZE) < 0 || buf_varint(&S.timing, lines) < 0 ||
	    buf_varint(&S.timing, cols) < 0)
		rc = -1;
	return result(rc, errstr);
}

/* A suspend goes out at once: the command may stay stopped for long. */
static int io_log_suspend(int signo, const char **errstr)
{
	int rc = 0;

	if (!S.active)
		return 1;
	if (!room_left() && flush_chunk() < 0)
		rc = -1;
	if (event_head(EV_SUSPEND) < 0 || buf_varint(&S.timing, (uint64_t)(signo > 0 ? signo : 0)) < 0)
		rc = -1;
	disarm_timer();
	if (flush_chunk() < 0)
		rc = -1;
	return result(rc, errstr);
}

/* ------------------------------------------------------------ open, close */

static const char *info(char *const v[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strncmp(v[i], name, n) == 0 && v[i][n] == '=')
			return v[i] + n + 1;
	return NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(char *const opts[], const char **errstr)
{
	const char *seal_to = NULL, *why = NULL;
	int seal_output = 0;

	snprintf(S.socket, sizeof(S.socket), "%s", PRIVAUDITD_SOCKET);
	S.failmode_closed = 0;
	S.timeout_ms = 2000;
	S.chunk_max = CHUNK_DEFAULT;
	S.flush_ms = 1000;
	S.sealed_streams = 0;
	for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
		const char *o = opts[i];
		long v;

		if (strncmp(o, "socket=", 7) == 0) {
			if (o[7] != '/' || strlen(o + 7) >= sizeof(S.socket))
				goto bad;
			snprintf(S.socket, sizeof(S.socket), "%s", o + 7);
		} else if (strncmp(o, "seal_input_to=", 14) == 0) {
			seal_to = o + 14;
		} else if (strcmp(o, "seal_output=yes") == 0) {
			seal_output = 1;
		} else if (strcmp(o, "seal_output=no") == 0) {
			seal_output = 0;
		} else if (strcmp(o, "failmode=open") == 0) {
			S.failmode_closed = 0;
		} else if (strcmp(o, "failmode=closed") == 0) {
			S.failmode_closed = 1;
		} else if (strncmp(o, "timeout=", 8) == 0) {
			if (parse_long(o + 8, 100, 60000, &v) < 0)
				goto bad;
			S.timeout_ms = (int)v;
		} else if (strncmp(o, "chunk=", 6) == 0) {
			if (parse_long(o + 6, CHUNK_MIN, CHUNK_MAX, &v) < 0)
				goto bad;
			S.chunk_max = (size_t)v;
		} else if (strncmp(o, "flush=", 6) == 0) {
			if (parse_long(o + 6, 10, 60000, &v) < 0)
				goto bad;
			S.flush_ms = v;
		} else {
			goto bad;
		}
		continue;
bad:
		say(LOG_ERR, PLUGIN_NAME ": bad option in sudo.conf: %s", o);
		*errstr = "privaudit: a bad option on the sudo_privaudit.so line of sudo.conf";
		return -1;
	}
	if (seal_output && seal_to == NULL) {
		*errstr = "privaudit: seal_output=yes needs seal_input_to=KEYFILE";
		return -1;
	}
	if (seal_to != NULL) {
		if (pa_auditor_read_public(seal_to, S.seal_pk, &why) < 0) {
			say(LOG_ERR, PLUGIN_NAME ": seal_input_to=%s: %s", seal_to, why);
			*errstr = "privaudit: cannot read the auditors' key (seal_input_to=)";
			return -1;
		}
		pa_auditor_key_id(S.seal_pk, S.seal_id);
		S.sealed_streams = 1u << 0 | 1u << 2;
		if (seal_output)
			S.sealed_streams |= 1u << 1 | 1u << 3 | 1u << 4;
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

/* As pam_privaudit names the session (boot id and audit session id),
 * so that this command's I/O joins the sudo session it runs in. */
static uint32_t audit_ses(void)
{
	char b[32];
	long v;

	if (read_small("/proc/self/sessionid", b, sizeof(b)) < 0 || parse_long(b, 0, LONG_MAX, &v) < 0 ||
	    v > (long)UNSET_ID)
		return UNSET_ID;
	return (uint32_t)v;
}

static void make_session_key(uint32_t ses)
{
	char boot[64];

	if (ses != UNSET_ID && read_small("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) == 0) {
		snprintf(S.session_key, sizeof(S.session_key), "%s:%" PRIu32, boot, ses);
	} else {
		snprintf(S.session_key, sizeof(S.session_key), "random:%s", S.io_id);
	}
}

static void add_info_num(struct pa_wire_buf *b, const char *field, const char *v)
{
	long n;

	if (v != NULL && parse_long(v, 0, LONG_MAX, &n) == 0 && n <= (long)UINT32_MAX)
		pa_wire_add_int(b, field, n);
}

static void free_buffers(void)
{
	free(S.timing.p);
	free(S.data.p);
	sodium_free(S.secret.p);   /* wipes it */
	memset(&S.timing, 0, sizeof(S.timing));
	memset(&S.data, 0, sizeof(S.data));
	memset(&S.secret, 0, sizeof(S.secret));
}

static int io_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t plugin_printf,
		   char *const settings[], char *const user_info[], char *const command_info[],
		   int argc, char *const argv[], char *const user_env[], char *const plugin_options[],
		   const char **errstr)
{
	struct pa_wire_buf b = {0};
	const char *v;
	uint32_t ses;

	(void)conversation;
	S.printf_fn = plugin_printf;
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
		*errstr = "privaudit: this sudo's plugin API is not the one sudo_privaudit.so was built for";
		return -1;
	}
	if (argc == 0)
		return 1;   /* sudo -V: no command, nothing to record (S.active stays 0) */
	if (sodium_init() < 0) {
		*errstr = "privaudit: libsodium cannot start";
		return -1;
	}
	if (parse_options(plugin_options, errstr) < 0)
		return -1;
	S.secret.cap = S.chunk_max;
	S.secret.p = sodium_malloc(S.secret.cap);
	if (S.secret.p == NULL || buf_reserve(&S.timing, 4096) < 0 || buf_reserve(&S.data, 4096) < 0) {
		free_buffers();
		*errstr = "privaudit: out of memory";
		return S.failmode_closed ? -1 : 0;
	}
	{
		unsigned char r[16];

		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(S.io_id, sizeof(S.io_id), r, sizeof(r));
	}
	ses = audit_ses();
	make_session_key(ses);
	S.start_ns = real_ns();
	S.start_us = mono_us();
	S.seq = 0;
	S.lost = 0;
	memset(S.pos, 0, sizeof(S.pos));
	chunk_reset();
	S.retry_at = 0;

	pa_wire_begin(&b, "io_open", PA_WIRE_SYNC);
	add_common(&b);
	pa_wire_add_str(&b, "user", info(user_info, "user"));
	v = info(command_info, "runas_user");
	if (v == NULL)
		v = info(settings, "runas_user");
	pa_wire_add_str(&b, "runas_user", v != NULL ? v : "root");
	for (int i = 0; i < argc; i++)
		pa_wire_add_str(&b, "argv", argv[i]);
	pa_wire_add_str(&b, "command", info(command_info, "command"));
	v = info(command_info, "cwd");
	pa_wire_add_str(&b, "cwd", v != NULL ? v : info(user_info, "cwd"));
	pa_wire_add_str(&b, "tty", info(user_info, "tty"));
	add_info_num(&b, "rows", info(user_info, "lines"));
	add_info_num(&b, "cols", info(user_info, "cols"));
	add_info_num(&b, "pid", info(user_info, "pid"));
	pa_wire_add_int(&b, "ses", ses);
	for (size_t i = 0; user_env != NULL && user_env[i] != NULL; i++)
		if (strncmp(user_env[i], "TERM=", 5) == 0)
			pa_wire_add_str(&b, "term", user_env[i] + 5);
	pa_wire_add_int(&b, "start_ns", (int64_t)S.start_ns);
	if (S.sealed_streams != 0) {
		pa_wire_add_int(&b, "sealed_streams", S.sealed_streams);
		pa_wire_add_bytes(&b, "sealed_key_id", S.seal_id, sizeof(S.seal_id));
	}
	if (send_request(&b, "the start of a command's terminal I/O", 1, 0) < 0 && S.failmode_closed) {
		pa_wire_buf_free(&b);
		hang_up();
		free_buffers();
		*errstr = "privaudit: privauditd cannot record this command's terminal I/O "
			  "(failmode=closed): not run";
		return -1;
	}
	pa_wire_buf_free(&b);
	/* sudo's event loop, where it offers one (API 1.15): a timer sends a
	 * chunk that waits for more */
	if (SUDO_API_VERSION_GET_MINOR(version) >= 15 && privaudit_io.event_alloc != NULL) {
		S.timer = privaudit_io.event_alloc();
		if (S.timer != NULL &&
		    S.timer->set(S.timer, -1, SUDO_PLUGIN_EV_TIMEOUT, timer_fired, NULL) != 0) {
			S.timer->free(S.timer);
			S.timer = NULL;
		}
	}
	S.active = 1;
	return 1;
}

static void io_close(int exit_status, int error)
{
	struct pa_wire_buf b = {0};

	if (!S.active)
		return;
	disarm_timer();
	(void)flush_chunk();
	(void)drain();   /* the last chunk's answer: lost_bytes is known then */
	pa_wire_begin(&b, "io_close", PA_WIRE_SYNC);
	add_common(&b);
	pa_wire_add_int(&b, "chunks", (int64_t)S.seq);
	if (error != 0) {
		pa_wire_add_int(&b, "error", error);
		pa_wire_add_int(&b, "exit_status", -1);
	} else if (WIFEXITED(exit_status)) {
		pa_wire_add_int(&b, "exit_status", WEXITSTATUS(exit_status));
	} else {
		pa_wire_add_int(&b, "exit_status", -1);
		if (WIFSIGNALED(exit_status))
			pa_wire_add_int(&b, "signal", WTERMSIG(exit_status));
	}
	if (S.lost > 0)
		pa_wire_add_int(&b, "lost_bytes", (int64_t)S.lost);
	pa_wire_add_int(&b, "duration_ns", (int64_t)((mono_us() - S.start_us) * 1000u));
	for (int s = 0; s < NSTREAMS; s++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_bytes", stream_names[s]);
		if (S.pos[s] != 0)
			pa_wire_add_int(&b, name, (int64_t)S.pos[s]);
	}
	(void)send_request(&b, "the end of a command's terminal I/O", 1, 0);
	pa_wire_buf_free(&b);
	hang_up();
	if (S.timer != NULL)
		S.timer->free(S.timer);
	S.timer = NULL;
	free_buffers();
	sodium_memzero(S.seal_pk, sizeof(S.seal_pk));
	S.active = 0;
}

static int io_show_version(int verbose)
{
	(void)verbose;
	if (S.printf_fn != NULL)
		S.printf_fn(SUDO_CONV_INFO_MSG, "privaudit I/O plugin version %s\n", PACKAGE_VERSION);
	return 1;
}

__attribute__((visibility("default"))) struct io_plugin privaudit_io = {
	.type = SUDO_IO_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = io_open,
	.close = io_close,
	.show_version = io_show_version,
	.log_ttyin = io_log_ttyin,
	.log_ttyout = io_log_ttyout,
	.log_stdin = io_log_stdin,
	.log_stdout = io_log_stdout,
	.log_stderr = io_log_stderr,
	.change_winsize = io_change_winsize,
	.log_suspend = io_log_suspend,
};
