/* SPDX-License-Identifier: ISC */
/* test_reader.c: the reading side of libprivaudit: records in order and by
 * position, field access, the session index (built, reused, extended,
 * rejected when it does not match), verified reading, proofs, and the
 * stored-levels Merkle proofs they use. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "hash.h"
#include "index.h"
#include "merkle.h"
#include "privaudit.h"
#include "segment.h"

#define BOOT "0b7c9d10-1111-2222-3333-444455556666"

static char *log_dir(void **state, char *buf)
{
	tu_path(buf, *state, "log");
	return buf;
}

static void init_log(const char *dir)
{
	assert_int_equal(privaudit_init(dir, "test.example/reader", NULL, 0), PRIVAUDIT_OK);
}

static void append_texts(const char *dir, int n, const char *prefix)
{
	privaudit_log *log = NULL;
	char text[64];

	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%s-%d", prefix, i);
		assert_int_equal(privaudit_append_text(log, text, strlen(text)), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

static void seal(const char *dir)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

static void set(privaudit_event *ev, const char *field, const char *v)
{
	assert_int_equal(privaudit_event_set_bytes(ev, field, v, strlen(v)), PRIVAUDIT_OK);
}

/* A login of user on session ses: open, a command, close unless left open. */
static void session(privaudit_log *log, uint32_t ses, const char *user, int close)
{
	privaudit_event *ev = NULL;
	char key[96];

	snprintf(key, sizeof(key), "%s:%u", BOOT, ses);
	assert_int_equal(privaudit_event_new(&ev, "session_open"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "service", "sshd");
	set(ev, "user", user);
	set(ev, "login_user", user);
	set(ev, "rhost", "192.0.2.1");
	assert_int_equal(privaudit_event_set_int(ev, "pid", 100 + ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "ses", ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "auid", 1000), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);

	assert_int_equal(privaudit_event_new(&ev, "command"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "argv", "id");
	set(ev, "argv", "-u");
	assert_int_equal(privaudit_event_set_int(ev, "exit", -2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);

	if (!close)
		return;
	assert_int_equal(privaudit_event_new(&ev, "session_close"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "service", "sshd");
	set(ev, "user", user);
	assert_int_equal(privaudit_event_set_int(ev, "pid", 100 + ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
}

static void write_sessions(const char *dir, uint32_t first, int n, int leave_last_open)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	for (int i = 0; i < n; i++)
		session(log, first + (uint32_t)i, i % 2 ? "bob" : "alice",
			!(leave_last_open && i + 1 == n));
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

/* ------------------------------------------------------------ records */

static void test_next_follows(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	const void *data;
	size_t len;

	init_log(dir);
	append_texts(dir, 3, "t");
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	for (uint64_t i = 0; i < 6; i++) {
		assert_int_equal(privaudit_reader_next(r, &rec), PRIVAUDIT_OK);
		assert_int_equal(privaudit_record_index(rec), i);
	}
	assert_string_equal(privaudit_record_kind(rec), "application");
	assert_int_equal(privaudit_record_get_bytes(rec, "text", &data, &len), PRIVAUDIT_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "t-2", 3);
	assert_int_equal(privaudit_reader_next(r, &rec), PRIVAUDIT_E_END);
	/* a writer appends: the same reader goes on */
	append_texts(dir, 1, "late");
	assert_int_equal(privaudit_reader_next(r, &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_index(rec), 6);
	assert_int_equal(privaudit_reader_next(r, &rec), PRIVAUDIT_E_END);
	privaudit_reader_free(r);
	assert_int_equal(privaudit_reader_open(&r, "/nonexistent/privaudit"), PRIVAUDIT_E_NOLOG);
}

static void test_fields(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	const char *want[] = {"time_ns", "host", "writer_pid", "session_key",
			      "program", "pid", "uid", "text"};
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	privaudit_field f;
	const void *data;
	uint64_t num;
	size_t len;

	init_log(dir);
	append_texts(dir, 1, "x");
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_get(r, 3, &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_field_count(rec), 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(privaudit_record_field(rec, i, &f), PRIVAUDIT_OK);
		assert_string_equal(f.name, want[i]);
		assert_int_equal(f.count, 1);
	}
	assert_int_equal(privaudit_record_field(rec, 8, &f), PRIVAUDIT_E_NOTFOUND);
	assert_int_equal(privaudit_record_get_uint(rec, "pid", &num), PRIVAUDIT_OK);
	assert_int_equal(num, (uint64_t)getpid());
	assert_int_equal(privaudit_record_get_bytes(rec, "argv", &data, &len), PRIVAUDIT_E_NOTFOUND);
	assert_int_equal(privaudit_record_get_uint(rec, "text", &num), PRIVAUDIT_E_INVAL);
	privaudit_record_entry(rec, &data, &len);
	assert_true(len > 8);
	assert_int_equal(((const unsigned char *)data)[7], 3);   /* index prefix */
	privaudit_reader_free(r);
}

/* Record bodies of every length size (1 to 4 bytes of varint, around each
 * boundary): the writer packs a body behind room for a 2-byte length and
 * moves the others; each reads back byte for byte and the log verifies. */
static void test_body_lengths(void **state)
{
	static const size_t sizes[] = {0, 1, 90, 110, 120, 125, 126, 127, 128, 129, 200,
				       16360, 16370, 16380, 16383, 16384, 16385, 20000,
				       2097140, 2097152, 2097160, 3000000};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	enum { PAT = 3000000 + N };   /* value i starts at pat + i */
	unsigned char *pat = malloc(PAT);
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	privaudit_log *log = NULL;
	const privaudit_verify_report *rep;
	privaudit_verifier *v = NULL;
	const void *data;
	size_t len;

	assert_non_null(pat);
	for (size_t i = 0; i < PAT; i++)
		pat[i] = (unsigned char)(i * 7 + i / 251);
	init_log(dir);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	for (size_t i = 0; i < N; i++) {
		privaudit_event *ev = NULL;

		assert_int_equal(privaudit_event_new(&ev, "command"), PRIVAUDIT_OK);
		assert_int_equal(privaudit_event_set_bytes(ev, "raw", pat + i, sizes[i]), PRIVAUDIT_OK);
		assert_int_equal(privaudit_event_set_int(ev, "pid", (int64_t)i + 1), PRIVAUDIT_OK);
		assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
		privaudit_event_free(ev);
	}
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	seal(dir);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	for (size_t i = 0; i < N; i++) {
		uint64_t pid;

		assert_int_equal(privaudit_reader_get(r, 3 + i, &rec), PRIVAUDIT_OK);
		assert_string_equal(privaudit_record_kind(rec), "command");
		assert_int_equal(privaudit_record_get_uint(rec, "pid", &pid), PRIVAUDIT_OK);
		assert_int_equal(pid, i + 1);
		assert_int_equal(privaudit_record_get_bytes(rec, "raw", &data, &len), PRIVAUDIT_OK);
		assert_int_equal(len, sizes[i]);
		if (len > 0)
			assert_memory_equal(data, pat + i, len);
	}
	privaudit_reader_free(r);
	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verify_run(v, &rep), PRIVAUDIT_OK);
	privaudit_verifier_free(v);
	free(pat);
}

static void test_seek_get_count_segments(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	privaudit_log *log = NULL;
	uint64_t count, seg = 0, nsegs = 0;
	char text[32];

	init_log(dir);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	assert_int_equal(privaudit_set_segment_size(log, 4096), PRIVAUDIT_OK);
	for (int i = 0; i < 300; i++) {
		snprintf(text, sizeof(text), "record %d", i);
		assert_int_equal(privaudit_append_text(log, text, strlen(text)), PRIVAUDIT_OK);
		if (i % 10 == 9)
			assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	/* init's 3 records, ours, and a segment_start opening each segment
	 * after the first */
	{
		char name[PA_SEG_NAME_MAX], path[TU_PATH_MAX];
		struct stat sb;

		for (;;) {
			pa_seg_name(name, nsegs);
			if (stat(tu_path(path, dir, name), &sb) != 0)
				break;
			nsegs++;
		}
	}
	assert_true(nsegs > 2);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_count(r, &count), PRIVAUDIT_OK);
	assert_int_equal(count, 303 + nsegs - 1);
	assert_int_equal(privaudit_reader_seek(r, 250), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_next(r, &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_index(rec), 250);
	privaudit_record_position(rec, &seg, NULL);
	assert_true(seg > 0);   /* the log spans several segments */
	assert_int_equal(privaudit_reader_get(r, 17, &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_index(rec), 17);
	assert_int_equal(privaudit_reader_get(r, 303 + nsegs - 1, &rec), PRIVAUDIT_E_NOTFOUND);
	privaudit_reader_free(r);
}

/* ------------------------------------------------------------ sessions */

static void test_sessions_and_index(void **state)
{
	char buf[TU_PATH_MAX], ix[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list, *s;
	const privaudit_verify_report *v;
	privaudit_reader *r = NULL;
	const uint64_t *idx;
	unsigned char *bytes, *again;
	size_t n, len, len2;
	pa_index *parsed;
	int cached;

	init_log(dir);
	write_sessions(dir, 1, 3, 1);
	seal(dir);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].records, 3);
	assert_int_equal(list[0].commands, 1);
	assert_false(list[0].open);
	assert_true(list[2].open);
	assert_int_equal(list[0].ses, 1);
	assert_int_equal(list[1].user.len, 3);
	assert_memory_equal(list[1].user.data, "bob", 3);
	assert_int_equal(list[0].verified, 3);   /* sealed, and the index verified the log */
	assert_int_equal(privaudit_reader_verdict(r, &v, &cached), PRIVAUDIT_OK);
	assert_non_null(v);
	assert_true(cached);
	assert_int_equal(v->status, PRIVAUDIT_OK);
	assert_int_equal(privaudit_session_find(r, list[1].id, &s), PRIVAUDIT_OK);
	assert_ptr_equal(s, &list[1]);   /* the same list: nothing changed */
	assert_int_equal(privaudit_session_find(r, list[1].id + 0, &s), PRIVAUDIT_OK);
	{
		char prefix[8];

		memcpy(prefix, list[1].id, 6);
		prefix[6] = '\0';
		assert_int_equal(privaudit_session_find(r, prefix, &s), PRIVAUDIT_OK);
		assert_string_equal(s->id, list[1].id);
	}
	assert_int_equal(privaudit_session_records(r, s, &idx, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(idx[0], s->first_index);
	assert_int_equal(idx[2], s->last_index);
	assert_int_equal(privaudit_session_find(r, "zzzzzzzz", &s), PRIVAUDIT_E_NOTFOUND);
	privaudit_reader_free(r);

	/* the index file parses, and serializes back byte for byte */
	bytes = tu_read(tu_path(ix, dir, "index"), &len);
	assert_int_equal(pa_index_parse(bytes, len, &parsed), 0);
	assert_int_equal(pa_index_serialize(parsed, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(bytes, again, len);
	pa_index_free(parsed);
	free(again);
	bytes[len / 2] ^= 1;   /* the CRC catches it */
	assert_int_not_equal(pa_index_parse(bytes, len, &parsed), 0);
	free(bytes);

	/* new sessions: the index is extended, the older ones stay */
	write_sessions(dir, 10, 2, 0);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 5);
	assert_int_equal(list[4].verified, 0);   /* not sealed yet */
	assert_int_equal(list[0].verified, 3);
	privaudit_reader_free(r);
}

/* An audit event as audisp-privaudit writes it for a PAM or login
 * message: its type, then acct, exe, terminal, hostname (addr the same). */
static void audit_event(privaudit_log *log, uint32_t ses, uint32_t auid, const char *type,
			const char *acct, const char *exe, const char *terminal, const char *host,
			int success)
{
	privaudit_event *ev = NULL;
	char key[96];

	snprintf(key, sizeof(key), "%s:%u", BOOT, ses);
	assert_int_equal(privaudit_event_new(&ev, "audit_event"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "types", type);
	if (acct != NULL)
		set(ev, "acct", acct);
	set(ev, "exe", exe);
	set(ev, "terminal", terminal);
	set(ev, "hostname", host);
	set(ev, "addr", strcmp(host, "?") == 0 ? "?" : host);
	set(ev, "op", strcmp(type, "USER_LOGIN") == 0 ? "login" : "PAM:session_open");
	assert_int_equal(privaudit_event_set_int(ev, "auid", auid), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "ses", ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "success", success), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
}

static void assert_bytes(privaudit_bytes b, const char *want)
{
	assert_int_equal(b.len, strlen(want));
	if (b.len > 0)
		assert_memory_equal(b.data, want, b.len);
}

static uint32_t flags_of(privaudit_reader *r, const privaudit_session *s)
{
	uint32_t flags = 0xdead;

	assert_int_equal(privaudit_session_flags(r, s, &flags), PRIVAUDIT_OK);
	return flags;
}

/* The sessions of test_sessions_from_audit, as a second reader sees them
 * too (from the index file the first one wrote). */
static void check_audit_sessions(privaudit_reader *r)
{
	const privaudit_session *list;
	size_t n;

	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 6);
	/* sshd without pam_privaudit: its USER_START names who logged in,
	 * as its USER_LOGIN (id=, no acct) names the same program; sudo's
	 * USER_START the target */
	assert_int_equal(flags_of(r, &list[0]), PRIVAUDIT_SESSION_WHO_FROM_AUDIT);
	assert_bytes(list[0].login_user, "alice");
	assert_bytes(list[0].user, "root");
	assert_bytes(list[0].service, "sshd");
	assert_bytes(list[0].tty, "/dev/pts/3");
	assert_bytes(list[0].rhost, "198.51.100.7");
	assert_false(list[0].has_open);
	assert_int_equal(list[0].auid, 1001);
	/* sudo alone: who is not in its events by name, the auid is */
	assert_int_equal(flags_of(r, &list[1]), PRIVAUDIT_SESSION_WHO_FROM_AUDIT);
	assert_bytes(list[1].login_user, "");
	assert_bytes(list[1].user, "root");
	assert_bytes(list[1].service, "sudo");
	assert_bytes(list[1].tty, "/dev/pts/4");
	assert_bytes(list[1].rhost, "");
	assert_int_equal(list[1].auid, 1002);
	/* a USER_LOGIN with acct names who logged in; failures name nobody */
	assert_bytes(list[2].login_user, "carol");
	assert_bytes(list[2].user, "carol");
	assert_bytes(list[2].tty, "/dev/pts/5");
	/* a PAM open before or after the audit events names the session */
	assert_int_equal(flags_of(r, &list[3]), 0);
	assert_true(list[3].has_open);
	assert_bytes(list[3].login_user, "alice");
	assert_bytes(list[3].user, "alice");
	assert_bytes(list[3].rhost, "192.0.2.1");
	assert_int_equal(flags_of(r, &list[4]), 0);
	assert_bytes(list[4].login_user, "erin");
	assert_bytes(list[4].service, "sshd");
	assert_bytes(list[4].tty, "");
	/* only failures: nothing taken */
	assert_int_equal(flags_of(r, &list[5]), 0);
	assert_bytes(list[5].user, "");
	assert_bytes(list[5].service, "");
}

static void test_sessions_from_audit(void **state)
{
	char buf[TU_PATH_MAX], ix[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	privaudit_log *log = NULL;
	unsigned char *bytes, *again;
	size_t n, len, len2;
	uint32_t flags;
	pa_index *parsed;

	init_log(dir);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	audit_event(log, 21, 1001, "USER_START", "alice", "/usr/sbin/sshd", "ssh", "198.51.100.7", 1);
	audit_event(log, 21, 1001, "USER_LOGIN", NULL, "/usr/sbin/sshd", "/dev/pts/3", "198.51.100.7",
		    1);
	audit_event(log, 21, 1001, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/3", "?", 1);
	audit_event(log, 21, 1001, "USER_START", "bob", "/usr/bin/su", "/dev/pts/3", "?", 1);
	audit_event(log, 22, 1002, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/4", "?", 1);
	audit_event(log, 23, 1003, "USER_LOGIN", "mallory", "/usr/sbin/sshd", "ssh", "?", 0);
	audit_event(log, 23, 1003, "USER_LOGIN", "carol", "/usr/sbin/sshd", "/dev/pts/5", "?", 1);
	audit_event(log, 23, 1003, "USER_START", "carol", "/usr/sbin/sshd", "ssh", "?", 1);
	audit_event(log, 24, 1000, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/6", "?", 1);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	/* 24: a PAM open after the audit event; 25: before it */
	write_sessions(dir, 24, 1, 0);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	audit_event(log, 24, 1000, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/6", "?", 1);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	{
		privaudit_event *ev = NULL;
		char key[96];

		/* 25: a PAM open with no rhost or tty, then audit events */
		snprintf(key, sizeof(key), "%s:%u", BOOT, 25u);
		assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
		assert_int_equal(privaudit_event_new(&ev, "session_open"), PRIVAUDIT_OK);
		set(ev, "session_key", key);
		set(ev, "service", "sshd");
		set(ev, "user", "erin");
		set(ev, "login_user", "erin");
		assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
		privaudit_event_free(ev);
		audit_event(log, 25, 1000, "USER_LOGIN", "erin", "/usr/sbin/sshd", "/dev/pts/7",
			    "203.0.113.9", 1);
		audit_event(log, 25, 1000, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/7", "?", 1);
		audit_event(log, 26, 1000, "USER_START", "root", "/usr/bin/sudo", "/dev/pts/8", "?", 0);
		assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	check_audit_sessions(r);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(privaudit_session_flags(r, NULL, &flags), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_session_flags(r, list - 1, &flags), PRIVAUDIT_E_INVAL);
	assert_int_equal(flags, 0);
	privaudit_reader_free(r);
	/* the flags are kept in the index file, which serializes back as it was */
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	check_audit_sessions(r);
	privaudit_reader_free(r);
	bytes = tu_read(tu_path(ix, dir, "index"), &len);
	assert_int_equal(pa_index_parse(bytes, len, &parsed), 0);
	assert_int_equal(pa_index_serialize(parsed, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(bytes, again, len);
	pa_index_free(parsed);
	free(again);
	free(bytes);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void gap(privaudit_log *log, uint64_t count, uint64_t first_ns, uint64_t last_ns)
{
	privaudit_event *ev = NULL;

	assert_int_equal(privaudit_event_new(&ev, "gap"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "count", (int64_t)count), PRIVAUDIT_OK);
	set(ev, "reason", "test");
	if (first_ns != 0) {
		assert_int_equal(privaudit_event_set_int(ev, "first_time_ns", (int64_t)first_ns),
				 PRIVAUDIT_OK);
		assert_int_equal(privaudit_event_set_int(ev, "last_time_ns", (int64_t)last_ns),
				 PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
}

static void session_open(privaudit_log *log, uint32_t ses)
{
	privaudit_event *ev = NULL;
	char key[96];

	snprintf(key, sizeof(key), "%s:%u", BOOT, ses);
	assert_int_equal(privaudit_event_new(&ev, "session_open"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "service", "sshd");
	set(ev, "user", "alice");
	assert_int_equal(privaudit_event_set_int(ev, "pid", 100 + ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
}

static void session_close(privaudit_log *log, uint32_t ses)
{
	privaudit_event *ev = NULL;
	char key[96];

	snprintf(key, sizeof(key), "%s:%u", BOOT, ses);
	assert_int_equal(privaudit_event_new(&ev, "session_close"), PRIVAUDIT_OK);
	set(ev, "session_key", key);
	set(ev, "service", "sshd");
	set(ev, "user", "alice");
	assert_int_equal(privaudit_event_set_int(ev, "pid", 100 + ses), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
}

/* The gap records of a session: those whose lost events may fall within
 * it, by the times they give, else by when they were written. */
static void test_session_gaps(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list;
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	privaudit_log *log = NULL;
	const uint64_t *idx;
	uint64_t during, counts[8];
	size_t n;

	init_log(dir);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	gap(log, 1, 0, 0);                 /* before any session */
	session_open(log, 1);
	during = now_ns();
	gap(log, 2, 0, 0);                 /* written while 1 is open */
	gap(log, 3, 1000, 2000);           /* written then, but of events long before */
	session_close(log, 1);
	gap(log, 4, during, during);       /* written after, of events while 1 was open */
	gap(log, 5, 0, 0);                 /* written after, no times: not 1's */
	session_open(log, 2);              /* left open: every later gap is its */
	gap(log, 6, 0, 0);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);

	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(privaudit_session_gaps(r, &list[0], &idx, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(privaudit_reader_get(r, idx[i], &rec), PRIVAUDIT_OK);
		assert_string_equal(privaudit_record_kind(rec), "gap");
		assert_int_equal(privaudit_record_get_uint(rec, "count", &counts[i]), PRIVAUDIT_OK);
	}
	assert_true(idx[0] < idx[1]);
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 4);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(privaudit_session_gaps(r, &list[1], &idx, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(privaudit_reader_get(r, idx[0], &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_get_uint(rec, "count", &counts[0]), PRIVAUDIT_OK);
	assert_int_equal(counts[0], 6);
	assert_int_equal(privaudit_session_gaps(r, NULL, &idx, &n), PRIVAUDIT_E_INVAL);
	privaudit_reader_free(r);
}

static void test_index_of_another_log(void **state)
{
	char a[TU_PATH_MAX], b[TU_PATH_MAX], ia[TU_PATH_MAX], ib[TU_PATH_MAX];
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	unsigned char *bytes;
	size_t n, len;

	tu_path(a, *state, "a");
	tu_path(b, *state, "b");
	init_log(a);
	init_log(b);
	write_sessions(a, 1, 4, 0);
	write_sessions(b, 1, 1, 0);
	assert_int_equal(privaudit_reader_open(&r, a), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	privaudit_reader_free(r);
	/* a's index put beside b is rejected: b's own sessions are listed */
	bytes = tu_read(tu_path(ia, a, "index"), &len);
	tu_write(tu_path(ib, b, "index"), bytes, len);
	free(bytes);
	assert_int_equal(privaudit_reader_open(&r, b), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 1);
	privaudit_reader_free(r);
}

/* A session known only from its commands (no PAM open): its index is
 * written once and then reused, not rebuilt on every query. */
static void test_index_reused_without_open(void **state)
{
	char buf[TU_PATH_MAX], ix[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list;
	privaudit_reader *r = NULL;
	privaudit_event *ev = NULL;
	privaudit_log *log = NULL;
	unsigned char *bytes;
	pa_index *parsed;
	struct stat a, b;
	size_t n, len;

	init_log(dir);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&ev, "command"), PRIVAUDIT_OK);
	set(ev, "session_key", BOOT ":77");
	set(ev, "argv", "reboot");
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
		assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
		assert_int_equal(n, 1);
		assert_false(list[0].has_open);
		assert_int_equal(list[0].user.len, 0);
		privaudit_reader_free(r);
		assert_int_equal(stat(tu_path(ix, dir, "index"), round ? &b : &a), 0);
	}
	assert_int_equal(a.st_ino, b.st_ino);   /* not written again */
	bytes = tu_read(ix, &len);
	assert_int_equal(pa_index_parse(bytes, len, &parsed), 0);
	pa_index_free(parsed);
	free(bytes);
}

/* A record changed in place after the index cached a verdict: the next
 * reader must not repeat that verdict. */
static void test_cached_verdict_not_reused(void **state)
{
	char buf[TU_PATH_MAX], seg[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list;
	const privaudit_verify_report *v;
	privaudit_reader *r = NULL;
	unsigned char *bytes;
	size_t n, len;
	int cached;

	init_log(dir);
	write_sessions(dir, 1, 2, 0);
	seal(dir);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	privaudit_reader_free(r);
	/* flip a byte of the first session's user name, same size, same file */
	bytes = tu_read(tu_path(seg, dir, "seg-0000000000000000"), &len);
	for (size_t i = 64; i + 5 < len; i++)
		if (memcmp(bytes + i, "alice", 5) == 0) {
			tu_pwrite(seg, "A", 1, (off_t)i);
			break;
		}
	free(bytes);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_verdict(r, &v, &cached), PRIVAUDIT_OK);
	assert_non_null(v);
	assert_int_not_equal(v->status, PRIVAUDIT_OK);
	assert_int_equal(list[0].verified, 0);
	privaudit_reader_free(r);
	/* without the index, reading meets the damage and says where */
	assert_int_equal(unlink(tu_path(seg, dir, "index")), 0);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 0);
	assert_non_null(privaudit_reader_damage(r));
	assert_non_null(strstr(privaudit_reader_damage(r), "checksum"));
	privaudit_reader_free(r);
}

static void test_verified_reading(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_verify_report *v;
	const privaudit_record *rec;
	privaudit_reader *r = NULL;

	init_log(dir);
	append_texts(dir, 2, "sealed");
	seal(dir);
	append_texts(dir, 1, "after");
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_verify(r, NULL, &v), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_get(r, 3, &rec), PRIVAUDIT_OK);
	assert_true(privaudit_record_verified(rec));
	assert_int_equal(privaudit_reader_seek(r, 0), PRIVAUDIT_OK);
	{
		uint64_t i = 0;

		for (; privaudit_reader_next(r, &rec) == PRIVAUDIT_OK; i++) {
			assert_int_equal(privaudit_record_index(rec), i);
			assert_int_equal(privaudit_record_verified(rec), i < v->sealed);
		}
		assert_int_equal(i, 8);   /* genesis, rotation, checkpoint, 2, rotation, checkpoint, 1 */
		assert_int_equal(v->sealed, 6);
	}
	privaudit_reader_free(r);
}

/* ------------------------------------------------------------ proofs */

static void test_prove_and_check(void **state)
{
	char buf[TU_PATH_MAX], pub[TU_PATH_MAX], *dir = log_dir(state, buf);
	const privaudit_session *list;
	const privaudit_proof_report *rep;
	const privaudit_record *rec;
	privaudit_reader *r = NULL;
	privaudit_proof *p = NULL;
	const uint64_t *idx;
	uint64_t copy[8];
	char *proof, *key, *line;
	size_t n, len, proved;

	init_log(dir);
	write_sessions(dir, 1, 2, 0);
	seal(dir);
	append_texts(dir, 5, "between");
	seal(dir);
	write_sessions(dir, 7, 1, 0);   /* not sealed: left out */
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(privaudit_session_records(r, &list[0], &idx, &n), PRIVAUDIT_OK);
	memcpy(copy, idx, n * sizeof(*idx));
	assert_int_equal(privaudit_session_records(r, &list[2], &idx, &len), PRIVAUDIT_OK);
	copy[n] = idx[0];
	/* out of order and repeated: proved once each, in order */
	copy[n + 1] = copy[0];
	copy[n + 2] = copy[1];
	{
		uint64_t t = copy[0];

		copy[0] = copy[2];
		copy[2] = t;
	}
	assert_int_equal(privaudit_prove(r, copy, n + 3, NULL, 0, &proof, &len, &proved),
			 PRIVAUDIT_OK);
	assert_int_equal(proved, 3);
	privaudit_reader_free(r);

	key = (char *)tu_read(tu_path(pub, dir, PRIVAUDIT_PUBKEY_FILE), NULL);
	assert_int_equal(privaudit_proof_check(&p, key, proof, len, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep->records, 3);
	assert_int_equal(rep->key_index, 2);   /* init, then two seals */
	assert_int_equal(privaudit_proof_record(p, 0, &rec), PRIVAUDIT_OK);
	assert_string_equal(privaudit_record_kind(rec), "session_open");
	assert_true(privaudit_record_verified(rec));
	privaudit_proof_free(p);

	/* one character of a record entry changed: the proof no longer holds */
	line = strstr(proof, "\nrecord ");
	assert_non_null(line);
	line = strchr(line + 8, ' ') + 5;
	*line = *line == 'A' ? 'B' : 'A';
	assert_int_not_equal(privaudit_proof_check(&p, key, proof, len, &rep), PRIVAUDIT_OK);
	assert_true(rep->status == PRIVAUDIT_E_PROOF || rep->status == PRIVAUDIT_E_FORMAT);
	assert_int_equal(privaudit_proof_record(p, 0, &rec), PRIVAUDIT_E_NOTFOUND);
	privaudit_proof_free(p);
	/* cut short */
	assert_int_equal(privaudit_proof_check(&p, key, proof, len / 2, &rep), PRIVAUDIT_E_FORMAT);
	privaudit_proof_free(p);
	free(key);
	free(proof);
}

/* ------------------------------------------------------------ merkle levels */

static void test_levels_match_leaves(void **state)
{
	unsigned char leaves[70][PA_HASH_LEN], a[PA_PROOF_MAX][PA_HASH_LEN],
		b[PA_PROOF_MAX][PA_HASH_LEN], ra[PA_HASH_LEN], rb[PA_HASH_LEN];
	pa_levels lv;

	(void)state;
	for (int i = 0; i < 70; i++)
		pa_hash_leaf(leaves[i], &i, sizeof(i));
	assert_int_equal(pa_levels_build(&lv, (const unsigned char (*)[PA_HASH_LEN])leaves, 70), 0);
	for (uint64_t n = 1; n <= 70; n++) {
		pa_levels_root(&lv, n, ra);
		pa_merkle_root((const unsigned char (*)[PA_HASH_LEN])leaves, 0, n, rb);
		assert_memory_equal(ra, rb, PA_HASH_LEN);
		for (uint64_t m = 0; m < n; m++) {
			int x = pa_levels_inclusion_proof(&lv, n, m, a);
			int y = pa_merkle_inclusion_proof((const unsigned char (*)[PA_HASH_LEN])leaves,
							  n, m, b);

			assert_int_equal(x, y);
			assert_memory_equal(a, b, (size_t)x * PA_HASH_LEN);
			x = pa_levels_consistency_proof(&lv, n, m + 1, a);
			y = pa_merkle_consistency_proof((const unsigned char (*)[PA_HASH_LEN])leaves,
							n, m + 1, b);
			assert_int_equal(x, y);
			assert_memory_equal(a, b, (size_t)x * PA_HASH_LEN);
		}
	}
	assert_int_equal(pa_levels_inclusion_proof(&lv, 71, 0, a), -1);
	pa_levels_free(&lv);
}

/* One flipped byte: without skipping, reading stops there; with it, every
 * record after the damaged one is read, marked, and the range kept. */
static void test_skip_damage(void **state)
{
	char buf[TU_PATH_MAX], *dir = log_dir(state, buf), path[TU_PATH_MAX + 32];
	const privaudit_session *list;
	const privaudit_record *rec;
	const privaudit_damage *d;
	privaudit_reader *r = NULL;
	uint64_t seg, off, first, count = 0, last = 0, after = 0;
	const void *entry;
	size_t len, n;
	unsigned char byte;
	int fd;

	init_log(dir);
	write_sessions(dir, 1, 6, 0);
	seal(dir);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_get(r, 10, &rec), PRIVAUDIT_OK);
	privaudit_record_position(rec, &seg, &off);
	privaudit_record_entry(rec, &entry, &len);
	privaudit_reader_free(r);
	snprintf(path, sizeof(path), "%s/seg-%016" PRIx64, dir, seg);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, (off_t)(off + 4 + len - 3)), 1);
	byte ^= 0x20;
	assert_int_equal(pwrite(fd, &byte, 1, (off_t)(off + 4 + len - 3)), 1);
	close(fd);

	/* by default, reading stops at the damage */
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	while (privaudit_reader_next(r, &rec) == PRIVAUDIT_OK)
		count++;
	assert_int_equal(count, 10);
	assert_non_null(privaudit_reader_damage(r));
	assert_int_equal(privaudit_reader_damaged(r, &d), 0);
	privaudit_reader_free(r);

	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_skip_damage(r, 1), PRIVAUDIT_OK);
	count = 0;
	while (privaudit_reader_next(r, &rec) == PRIVAUDIT_OK) {
		assert_int_not_equal(privaudit_record_index(rec), 10);
		if (privaudit_record_after_damage(rec, &first)) {
			assert_true(privaudit_record_index(rec) > 10);
			assert_int_equal(first, 10);
			after++;
		} else {
			assert_true(privaudit_record_index(rec) < 10);
		}
		last = privaudit_record_index(rec);
		count++;
	}
	assert_true(after > 0);
	assert_int_equal(count, last);   /* all but record 10 */
	assert_int_equal(privaudit_reader_damaged(r, &d), 1);
	assert_int_equal(d[0].first_index, 10);
	assert_int_equal(d[0].resumed_index, 11);
	assert_int_equal(d[0].segment, seg);
	assert_int_equal(d[0].offset, off);
	/* the sessions after the damage are all listed */
	assert_int_equal(privaudit_sessions(r, &list, &n), PRIVAUDIT_OK);
	assert_int_equal(n, 6);
	/* verified: nothing after the damage */
	assert_int_not_equal(privaudit_reader_verify(r, NULL, &(const privaudit_verify_report *){NULL}),
			     PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_get(r, 12, &rec), PRIVAUDIT_OK);
	assert_int_equal(privaudit_record_verified(rec), 0);
	assert_int_equal(privaudit_record_after_damage(rec, NULL), 1);
	privaudit_reader_free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_next_follows),
		T(test_fields),
		T(test_seek_get_count_segments),
		T(test_sessions_and_index),
		T(test_index_of_another_log),
		T(test_index_reused_without_open),
		T(test_body_lengths),
		T(test_cached_verdict_not_reused),
		T(test_verified_reading),
		T(test_prove_and_check),
		T(test_sessions_from_audit),
		T(test_session_gaps),
		T(test_skip_damage),
		cmocka_unit_test(test_levels_match_leaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
