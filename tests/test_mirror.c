/* SPDX-License-Identifier: ISC */
/* test_mirror.c: a mirror fed a real log's entries in order, twice, out of
 * order, with forks and forgeries, across reopening and lost state: it holds
 * exactly the log's records and verifies with the host's key. */
#include "config.h"

#include "testutil.h"

#include "privaudit.h"

#define ORIGIN "host1.test/privaudit"
#define MAXREC 4096

typedef struct src {
	char *dir;
	char vkey[512];
	size_t n;
	unsigned char *entry[MAXREC];
	size_t len[MAXREC];
} src;

/* A host log of about n records with a checkpoint every `every`. */
static void make_log(src *s, const char *dir, const char *origin, int n, int every)
{
	privaudit_reader *r = NULL;
	privaudit_log *log = NULL;
	const privaudit_record *rec;

	s->dir = strdup(dir);
	assert_int_equal(privaudit_init(dir, origin, s->vkey, sizeof(s->vkey)), PRIVAUDIT_OK);
	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	for (int i = 0; i < n; i++) {
		char text[64];

		snprintf(text, sizeof(text), "record %d", i);
		assert_int_equal(privaudit_append_text(log, text, strlen(text)), PRIVAUDIT_OK);
		assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
		if (every > 0 && i % every == every - 1)
			assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	s->n = 0;
	while (privaudit_reader_next(r, &rec) == PRIVAUDIT_OK) {
		const void *data;
		size_t len;

		assert_true(s->n < MAXREC);
		privaudit_record_entry(rec, &data, &len);
		s->entry[s->n] = malloc(len);
		assert_non_null(s->entry[s->n]);
		memcpy(s->entry[s->n], data, len);
		s->len[s->n] = len;
		s->n++;
	}
	privaudit_reader_free(r);
}

static void free_src(src *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->entry[i]);
	free(s->dir);
}

static privaudit_mirror_result put(privaudit_mirror *m, const src *s, size_t i)
{
	privaudit_mirror_result res;

	assert_int_equal(privaudit_mirror_put(m, i, s->entry[i], s->len[i], &res), PRIVAUDIT_OK);
	return res;
}

/* privaudit verify MIRROR --key: what an auditor runs on the copy. */
static privaudit_status verify_pinned(const char *dir, const char *vkey,
				      privaudit_verify_report *out)
{
	const privaudit_verify_report *rep;
	privaudit_verifier *v;
	privaudit_status st;

	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_pin_key(v, vkey), PRIVAUDIT_OK);
	st = privaudit_verify_run(v, &rep);
	if (out != NULL) {
		*out = *rep;
		out->detail = NULL;
		out->origin = NULL;
	}
	privaudit_verifier_free(v);
	return st;
}

/* Every record of the mirror equals the source's, in order. */
static void assert_same_records(const char *mirror, const src *s, size_t n)
{
	privaudit_reader *r;
	const privaudit_record *rec;
	size_t i = 0;

	assert_int_equal(privaudit_reader_open(&r, mirror), PRIVAUDIT_OK);
	while (privaudit_reader_next(r, &rec) == PRIVAUDIT_OK) {
		const void *data;
		size_t len;

		assert_true(i < n);
		privaudit_record_entry(rec, &data, &len);
		assert_int_equal(len, s->len[i]);
		assert_memory_equal(data, s->entry[i], len);
		i++;
	}
	assert_int_equal(i, n);
	privaudit_reader_free(r);
}

static void test_in_order_then_resent(void **state)
{
	const char *tmp = *state;
	char host[TU_PATH_MAX], mir[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	privaudit_verify_report rep;
	src s;

	make_log(&s, tu_path(host, tmp, "host"), ORIGIN, 300, 50);
	tu_path(mir, tmp, "mirror");
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_TAKEN);
	/* A resend after a host restart: every record again. */
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_DUPLICATE);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.records, s.n);
	assert_int_equal(ms.failed, PRIVAUDIT_OK);
	assert_string_equal(ms.origin, ORIGIN);
	assert_true(ms.checkpoints >= 6);
	assert_true(ms.sealed > 290);
	assert_true(ms.checkpoint_time > 0);
	assert_int_equal(ms.buffered, 0);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);

	assert_same_records(mir, &s, s.n);
	assert_int_equal(verify_pinned(mir, s.vkey, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, s.n);
	assert_int_equal(rep.pinned, 1);
	/* The mirror's checkpoint file is the host's newest note. */
	{
		char a[TU_PATH_MAX], b[TU_PATH_MAX];
		size_t la, lb;
		unsigned char *x = tu_read(tu_path(a, host, PRIVAUDIT_CHECKPOINT_FILE), &la);
		unsigned char *y = tu_read(tu_path(b, mir, PRIVAUDIT_CHECKPOINT_FILE), &lb);

		assert_int_equal(la, lb);
		assert_memory_equal(x, y, la);
		free(x);
		free(y);
	}
	free_src(&s);
}

static void test_out_of_order_and_reopen(void **state)
{
	const char *tmp = *state;
	char host[TU_PATH_MAX], mir[TU_PATH_MAX], p[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	src s;

	make_log(&s, tu_path(host, tmp, "host"), ORIGIN, 200, 40);
	tu_path(mir, tmp, "mirror");
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_TAKEN);
	/* 120..149 arrive before 100..119. */
	for (size_t i = 120; i < 150; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_BUFFERED);
	assert_int_equal(put(m, &s, 130), PRIVAUDIT_MIRROR_DUPLICATE);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.records, 100);
	assert_int_equal(ms.buffered, 30);
	assert_int_equal(ms.first_missing, 100);
	assert_int_equal(ms.buffered_max, 149);
	/* What waits survives a restart of the collector. */
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.records, 100);
	assert_int_equal(ms.buffered, 30);
	for (size_t i = 100; i < 119; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_TAKEN);
	assert_int_equal(put(m, &s, 119), PRIVAUDIT_MIRROR_TAKEN);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.records, 150);
	assert_int_equal(ms.buffered, 0);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	{
		struct stat sb;

		assert_int_equal(stat(tu_path(p, mir, "pending"), &sb), 0);
		assert_int_equal(sb.st_size, 0);
	}
	/* The state file lost: the mirror is checked again from record 0. */
	unlink(tu_path(p, mir, "collect.state"));
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (size_t i = 150; i < s.n; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_TAKEN);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	assert_same_records(mir, &s, s.n);
	assert_int_equal(verify_pinned(mir, s.vkey, NULL), PRIVAUDIT_OK);
	free_src(&s);
}

/* A crash between writing frames and saving the state, and a torn frame:
 * the next open checks the frames it finds and cuts the torn one. */
static void test_crash_leftovers(void **state)
{
	const char *tmp = *state;
	char host[TU_PATH_MAX], mir[TU_PATH_MAX], p[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	src s;

	make_log(&s, tu_path(host, tmp, "host"), ORIGIN, 120, 30);
	tu_path(mir, tmp, "mirror");
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (size_t i = 0; i < 80; i++)
		put(m, &s, i);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	/* Half a frame at the end, as a kill -9 mid-write leaves. */
	tu_append(tu_path(p, mir, "seg-0000000000000000"), "\0\0\0\x40garbage", 11);
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.records, 80);
	assert_int_equal(ms.failed, PRIVAUDIT_OK);
	for (size_t i = 0; i < s.n; i++)
		put(m, &s, i);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	assert_same_records(mir, &s, s.n);
	assert_int_equal(verify_pinned(mir, s.vkey, NULL), PRIVAUDIT_OK);
	free_src(&s);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Another record for an index already held is fork evidence: kept aside,
 * never in the mirror, and the mirror stops. */
static void test_fork_kept_aside(void **state)
{
	const char *tmp = *state;
	char host[TU_PATH_MAX], mir[TU_PATH_MAX], p[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	privaudit_mirror_result res;
	unsigned char *forged;
	src s;

	make_log(&s, tu_path(host, tmp, "host"), ORIGIN, 60, 20);
	tu_path(mir, tmp, "mirror");
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(put(m, &s, i), PRIVAUDIT_MIRROR_TAKEN);
	forged = malloc(s.len[10]);
	memcpy(forged, s.entry[10], s.len[10]);
	forged[s.len[10] - 1] ^= 1;
	assert_int_equal(privaudit_mirror_put(m, 10, forged, s.len[10], &res), PRIVAUDIT_OK);
	assert_int_equal(res, PRIVAUDIT_MIRROR_FORK);
	/* Claiming another index than the entry's own: rejected. */
	assert_int_equal(privaudit_mirror_put(m, 11, forged, s.len[10], &res), PRIVAUDIT_OK);
	assert_int_equal(res, PRIVAUDIT_MIRROR_REJECTED);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.forks, 1);
	assert_int_equal(ms.rejected, 1);
	/* Which version goes on is for a person to decide: nothing more is
	 * taken. */
	assert_int_equal(ms.failed, PRIVAUDIT_E_FORK);
	assert_int_equal(ms.failed_at, 10);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	assert_int_equal(count_files(tu_path(p, mir, "forks")), 1);
	assert_same_records(mir, &s, s.n);
	assert_int_equal(verify_pinned(mir, s.vkey, NULL), PRIVAUDIT_OK);
	free(forged);
	free_src(&s);
}

/* A record altered before the checkpoint that covers it: the checkpoint
 * fails, the mirror stops there and says so; what follows is kept aside. */
static void test_tampered_stops_mirror(void **state)
{
	const char *tmp = *state;
	char host[TU_PATH_MAX], mir[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	privaudit_mirror_result res;
	size_t i, rejected_at = 0;
	src s;

	make_log(&s, tu_path(host, tmp, "host"), ORIGIN, 60, 20);
	tu_path(mir, tmp, "mirror");
	s.entry[5][s.len[5] - 1] ^= 0x20;
	assert_int_equal(privaudit_mirror_open(&m, mir, s.vkey), PRIVAUDIT_OK);
	for (i = 0; i < s.n; i++) {
		assert_int_equal(privaudit_mirror_put(m, i, s.entry[i], s.len[i], &res),
				 PRIVAUDIT_OK);
		if (res == PRIVAUDIT_MIRROR_REJECTED) {
			rejected_at = i;
			break;
		}
		assert_int_equal(res, PRIVAUDIT_MIRROR_TAKEN);
	}
	assert_true(rejected_at > 5);
	assert_int_equal(put(m, &s, rejected_at + 1), PRIVAUDIT_MIRROR_REJECTED);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.failed, PRIVAUDIT_E_ROOT);
	assert_true(ms.failed_at <= 5);
	assert_int_equal(privaudit_mirror_sync(m), PRIVAUDIT_OK);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	free_src(&s);
}

/* Another host's log under this host's key: refused at its genesis. */
static void test_foreign_log_refused(void **state)
{
	const char *tmp = *state;
	char h1[TU_PATH_MAX], h2[TU_PATH_MAX], mir[TU_PATH_MAX];
	privaudit_mirror *m;
	privaudit_mirror_state ms;
	src a, b;

	make_log(&a, tu_path(h1, tmp, "h1"), ORIGIN, 10, 0);
	make_log(&b, tu_path(h2, tmp, "h2"), ORIGIN, 10, 0);
	tu_path(mir, tmp, "mirror");
	assert_int_equal(privaudit_mirror_open(&m, mir, a.vkey), PRIVAUDIT_OK);
	assert_int_equal(put(m, &b, 0), PRIVAUDIT_MIRROR_REJECTED);
	assert_int_equal(privaudit_mirror_get_state(m, &ms), PRIVAUDIT_OK);
	assert_int_equal(ms.failed, PRIVAUDIT_E_PINNED_KEY);
	assert_int_equal(ms.records, 0);
	assert_int_equal(privaudit_mirror_close(m), PRIVAUDIT_OK);
	/* The directory stays bound to the first host's key. */
	assert_int_equal(privaudit_mirror_open(&m, mir, b.vkey), PRIVAUDIT_E_FOREIGN);
	free_src(&a);
	free_src(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order_then_resent, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_out_of_order_and_reopen, tu_setup_dir,
						tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_crash_leftovers, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_fork_kept_aside, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_tampered_stops_mirror, tu_setup_dir,
						tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_foreign_log_refused, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
