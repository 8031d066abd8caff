/* SPDX-License-Identifier: ISC */
/* test_verify.c: the verifier's report on logs built through the API: pins,
 * trusted and stale checkpoints, and tampering named at the right record. */
#include "config.h"

#include "testutil.h"

#include <time.h>

#include "crc32c.h"
#include "privaudit.h"
#include "segment.h"

#define ORIGIN "test.example/privaudit/verify"
#define SEG0 "seg-0000000000000000"
#define MAX_FRAMES 64

typedef struct vopts {
	const char *pin;          /* path of a log.pub to pin, or NULL */
	const char *trusted;      /* a note, or NULL */
	size_t trusted_len;
	int64_t max_age, now;
} vopts;

static char detail[1024];

static privaudit_status run_verify(const char *dir, const vopts *o, privaudit_verify_report *out)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	privaudit_status st;

	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	if (o != NULL && o->pin != NULL) {
		char *line = (char *)tu_read(o->pin, NULL);

		assert_int_equal(privaudit_verifier_pin_key(v, line), PRIVAUDIT_OK);
		free(line);
	}
	if (o != NULL && o->trusted != NULL)
		assert_int_equal(privaudit_verifier_trust(v, o->trusted, o->trusted_len), PRIVAUDIT_OK);
	if (o != NULL && o->max_age > 0)
		assert_int_equal(privaudit_verifier_max_age(v, o->max_age, o->now), PRIVAUDIT_OK);
	st = privaudit_verify_run(v, &rep);
	assert_non_null(rep);
	assert_int_equal(st, rep->status);
	assert_non_null(rep->detail);
	assert_non_null(rep->origin);
	snprintf(detail, sizeof(detail), "%s", rep->detail);
	*out = *rep;
	out->detail = detail;
	out->origin = NULL;
	privaudit_verifier_free(v);
	return st;
}

static const char *pub_of(char *buf, const char *dir)
{
	return tu_path(buf, dir, PRIVAUDIT_PUBKEY_FILE);
}

static void add(privaudit_log *log, int n, const char *tag)
{
	char text[64];

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%s %d", tag, i);
		assert_int_equal(privaudit_append_text(log, text, strlen(text)), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
}

/* 0 genesis, 1 rotation, 2 checkpoint(2), 3..7 text, 8 rotation,
 * 9 checkpoint(9), 10..11 text: 12 records. */
static void build_log(const char *dir, const char *origin)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_init(dir, origin, NULL, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	add(log, 5, "sealed");
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	add(log, 2, "unsealed");
	assert_int_equal(privaudit_log_size(log), 12);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

static void extend(const char *dir, int n, const char *tag, int seal)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	add(log, n, tag);
	if (seal)
		assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

static char *latest(const char *dir, size_t *len)
{
	char *note = NULL;

	assert_int_equal(privaudit_checkpoint_latest(dir, &note, len), PRIVAUDIT_OK);
	assert_non_null(note);
	return note;
}

/* Frame offsets and entry lengths of a segment, in order; the count. */
static size_t frames(const char *path, uint64_t *offs, size_t *lens)
{
	const unsigned char *entry;
	pa_segreader r;
	size_t n = 0, len;
	uint64_t off;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)tu_size(path)), PRIVAUDIT_OK);
	while (pa_segreader_next(&r, &entry, &len, &off) == PA_FRAME_OK) {
		assert_true(n < MAX_FRAMES);
		assert_int_equal(pa_load64(entry), n);   /* segment 0 starts at record 0 */
		offs[n] = off;
		lens[n] = len;
		n++;
	}
	pa_segreader_free(&r);
	close(fd);
	return n;
}

/* Flip a bit in the middle of record index's protobuf bytes; with fix_crc
 * the frame's CRC is recomputed, as a forger would. */
static uint64_t tamper(const char *dir, uint64_t index, int fix_crc)
{
	char path[TU_PATH_MAX];
	uint64_t offs[MAX_FRAMES];
	size_t lens[MAX_FRAMES], flen, n;
	unsigned char *seg;

	tu_path(path, dir, SEG0);
	n = frames(path, offs, lens);
	assert_true(index < n);
	seg = tu_read(path, NULL);
	seg[offs[index] + 4 + PA_ENTRY_INDEX + (lens[index] - PA_ENTRY_INDEX) / 2] ^= 0x20;
	flen = 4 + lens[index];
	if (fix_crc)
		pa_store32(seg + offs[index] + flen, pa_crc32c(0, seg + offs[index], flen));
	tu_pwrite(path, seg + offs[index], flen + 4, (off_t)offs[index]);
	free(seg);
	return offs[index];
}

/* ------------------------------------------------------------ tests */

static void progress(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *p = arg;

	assert_true(done <= total);
	p[0]++;
	p[1] = done;
	p[2] = total;
}

static void test_good_log(void **state)
{
	char dir[TU_PATH_MAX], pub[TU_PATH_MAX];
	privaudit_verify_report rep;
	vopts o = {0};
	int64_t t0 = (int64_t)time(NULL);

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	o.pin = pub_of(pub, dir);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, 12);
	assert_int_equal(rep.checkpoints, 2);
	assert_int_equal(rep.sealed, 9);
	assert_int_equal(rep.unsealed, 2);
	assert_int_equal(rep.newest_size, 9);
	assert_int_equal(rep.key_index, 2);
	assert_int_equal(rep.pinned, 1);
	assert_int_equal(rep.trusted_checked, 0);
	assert_int_equal(rep.segments, 1);
	assert_int_equal(rep.bytes, tu_size(tu_path(pub, dir, SEG0)));
	assert_int_equal(rep.torn_bytes, 0);
	assert_int_equal(rep.has_bad, 0);
	assert_true(rep.newest_time >= t0 - 1 && rep.newest_time <= (int64_t)time(NULL));

	/* without a pin the first key comes from the log itself */
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.pinned, 0);
	assert_int_equal(rep.records, 12);

	/* a verifier runs again from nothing, with the same answer and progress */
	{
		const privaudit_verify_report *r = NULL;
		privaudit_verifier *v = NULL;
		uint64_t calls[3];

		assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
		for (int run = 0; run < 2; run++) {
			memset(calls, 0, sizeof(calls));
			assert_int_equal(privaudit_verifier_progress(v, progress, calls), PRIVAUDIT_OK);
			assert_int_equal(privaudit_verify_run(v, &r), PRIVAUDIT_OK);
			assert_int_equal(r->records, 12);
			assert_int_equal(r->checkpoints, 2);
			assert_string_equal(r->origin, ORIGIN);
			assert_true(calls[0] >= 1);
			assert_int_equal(calls[1], calls[2]);
			assert_int_equal(calls[2], tu_size(tu_path(pub, dir, SEG0)));
		}
		privaudit_verifier_free(v);
		privaudit_verifier_free(NULL);
	}
}

static void test_pinned_key(void **state)
{
	char dir[TU_PATH_MAX], other[TU_PATH_MAX], twin[TU_PATH_MAX], pub[TU_PATH_MAX];
	privaudit_verify_report rep;
	vopts o = {0};

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	build_log(tu_path(other, *state, "other"), "other.example/log");
	/* same origin, its own first key */
	build_log(tu_path(twin, *state, "twin"), ORIGIN);

	o.pin = pub_of(pub, other);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_PINNED_KEY);
	assert_int_equal(rep.has_bad, 1);
	assert_int_equal(rep.bad_index, 0);
	assert_int_equal(rep.bad_segment, 0);
	assert_int_equal(rep.bad_offset, PA_SEG_HEADER);
	assert_int_equal(rep.pinned, 0);
	o.pin = pub_of(pub, twin);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_PINNED_KEY);
	assert_int_equal(rep.bad_index, 0);
	o.pin = pub_of(pub, dir);
	assert_int_equal(run_verify(twin, &o, &rep), PRIVAUDIT_E_PINNED_KEY);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.pinned, 1);
	/* a pin that is not a key line is refused when given */
	{
		privaudit_verifier *v = NULL;

		assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
		assert_int_equal(privaudit_verifier_pin_key(v, "not a key"), PRIVAUDIT_E_NOTE);
		assert_int_equal(privaudit_verifier_pin_key(v, NULL), PRIVAUDIT_E_INVAL);
		privaudit_verifier_free(v);
	}
}

static void test_trusted(void **state)
{
	char dir[TU_PATH_MAX], other[TU_PATH_MAX], fork_dir[TU_PATH_MAX], pub[TU_PATH_MAX];
	char *early, *mid, *foreign, *ahead, *forked;
	size_t early_len, mid_len, foreign_len, ahead_len, forked_len;
	privaudit_verify_report rep;
	vopts o = {0};

	tu_path(dir, *state, "log");
	assert_int_equal(privaudit_init(dir, ORIGIN, NULL, 0), PRIVAUDIT_OK);
	early = latest(dir, &early_len);           /* size 2 */
	extend(dir, 5, "a", 1);
	mid = latest(dir, &mid_len);               /* size 9 */
	extend(dir, 3, "b", 1);
	o.pin = pub_of(pub, dir);

	/* an earlier seal and the current one both hold */
	o.trusted = early;
	o.trusted_len = early_len;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.trusted_checked, 1);
	o.trusted = mid;
	o.trusted_len = mid_len;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.trusted_checked, 1);

	/* another log's note, of the same origin and size */
	build_log(tu_path(other, *state, "other"), ORIGIN);
	foreign = latest(other, &foreign_len);
	o.trusted = foreign;
	o.trusted_len = foreign_len;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_TRUSTED);
	assert_int_equal(rep.trusted_checked, 0);
	o.trusted = early;   /* and the other way round */
	o.trusted_len = early_len;
	o.pin = NULL;
	assert_int_equal(run_verify(other, &o, &rep), PRIVAUDIT_E_TRUSTED);
	o.pin = pub_of(pub, dir);

	/* a copy taken now, grown and sealed: a log shorter than a note it
	 * signed was cut back */
	tu_path(fork_dir, *state, "fork");
	tu_copy_dir(dir, fork_dir);
	extend(fork_dir, 2, "ahead", 1);
	ahead = latest(fork_dir, &ahead_len);
	o.trusted = ahead;
	o.trusted_len = ahead_len;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_TRUNCATED);
	/* while the original goes on differently: a fork, whichever is longer */
	extend(dir, 6, "elsewhere", 1);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_TRUSTED);
	forked = latest(dir, &forked_len);
	o.trusted = forked;
	o.trusted_len = forked_len;
	assert_int_equal(run_verify(fork_dir, &o, &rep), PRIVAUDIT_E_TRUNCATED);
	/* the fork's records differ from where the original has them */
	extend(fork_dir, 20, "more", 1);
	assert_int_equal(run_verify(fork_dir, &o, &rep), PRIVAUDIT_E_TRUSTED);

	{
		privaudit_verifier *v = NULL;

		assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
		assert_int_equal(privaudit_verifier_trust(v, "garbage\n", 8), PRIVAUDIT_E_NOTE);
		assert_int_equal(privaudit_verifier_trust(v, NULL, 0), PRIVAUDIT_E_INVAL);
		privaudit_verifier_free(v);
	}
	free(early);
	free(mid);
	free(foreign);
	free(ahead);
	free(forked);
}

static void test_max_age(void **state)
{
	char dir[TU_PATH_MAX], pub[TU_PATH_MAX];
	privaudit_verify_report rep;
	int64_t newest;
	vopts o = {0};

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	o.pin = pub_of(pub, dir);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	newest = rep.newest_time;
	assert_true(newest > 0);

	o.max_age = 3600;
	o.now = 0;   /* the current time */
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	o.now = newest + 3600;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_OK);
	o.now = newest + 3601;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_STALE);
	o.now = newest + 10 * 365 * 86400LL;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_STALE);
	assert_int_equal(rep.records, 12);   /* the log itself verified */
	{
		privaudit_verifier *v = NULL;

		assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
		assert_int_equal(privaudit_verifier_max_age(v, -1, 0), PRIVAUDIT_E_INVAL);
		privaudit_verifier_free(v);
	}
}

static void test_tamper_crc(void **state)
{
	char dir[TU_PATH_MAX], pub[TU_PATH_MAX];
	privaudit_verify_report rep;
	uint64_t off;
	vopts o = {0};

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	o.pin = pub_of(pub, dir);
	off = tamper(dir, 4, 0);
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_FORMAT);
	assert_int_equal(rep.has_bad, 1);
	assert_int_equal(rep.bad_index, 4);
	assert_int_equal(rep.bad_segment, 0);
	assert_int_equal(rep.bad_offset, off);
	assert_int_equal(rep.records, 4);
	/* the genesis record itself */
	build_log(tu_path(dir, *state, "log2"), ORIGIN);
	off = tamper(dir, 0, 0);
	assert_int_equal(off, PA_SEG_HEADER);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_FORMAT);
	assert_int_equal(rep.bad_index, 0);
	assert_int_equal(rep.bad_offset, PA_SEG_HEADER);
}

/* With the CRC fixed up, the Merkle root of the next checkpoint still
 * tells: the first bad record named is in the sealed range holding it. */
static void test_tamper_sealed(void **state)
{
	char dir[TU_PATH_MAX], pub[TU_PATH_MAX];
	privaudit_verify_report rep;
	vopts o = {0};

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	o.pin = pub_of(pub, dir);
	tamper(dir, 5, 1);
	/* caught by the root in the checkpoint file or in the record of the
	 * checkpoint of 9 records, whichever comes first: a record between
	 * the last good checkpoint (2 records) and that one is named */
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_ROOT);
	assert_int_equal(rep.has_bad, 1);
	assert_true(rep.bad_index >= 2 && rep.bad_index <= 8);
	assert_int_equal(rep.bad_segment, 0);
	assert_int_equal(rep.checkpoints, 1);
	/* by the log's own checkpoint record alone */
	assert_int_equal(unlink(tu_path(pub, dir, PRIVAUDIT_CHECKPOINT_FILE)), 0);
	o.pin = NULL;
	assert_int_equal(run_verify(dir, &o, &rep), PRIVAUDIT_E_ROOT);
	assert_int_equal(rep.has_bad, 1);
	assert_true(rep.bad_index >= 2 && rep.bad_index <= 5);
	assert_int_equal(rep.checkpoints, 1);
}

static void test_removed_and_truncated(void **state)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	uint64_t offs[MAX_FRAMES];
	size_t lens[MAX_FRAMES], len;
	privaudit_verify_report rep;
	unsigned char *seg;

	/* a record cut out of the middle */
	build_log(tu_path(dir, *state, "log"), ORIGIN);
	tu_path(path, dir, SEG0);
	assert_int_equal(frames(path, offs, lens), 12);
	seg = tu_read(path, &len);
	memmove(seg + offs[5], seg + offs[6], len - offs[6]);
	tu_write(path, seg, len - (offs[6] - offs[5]));
	free(seg);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_SEQUENCE);
	assert_int_equal(rep.bad_index, 5);
	assert_int_equal(rep.bad_offset, offs[5]);

	/* the tail cut back before the newest checkpoint's rotation */
	build_log(tu_path(dir, *state, "log2"), ORIGIN);
	tu_path(path, dir, SEG0);
	assert_int_equal(frames(path, offs, lens), 12);
	assert_int_equal(truncate(path, (off_t)offs[8]), 0);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_TRUNCATED);
	assert_int_equal(rep.has_bad, 1);
	assert_int_equal(rep.bad_index, 8);
	assert_int_equal(rep.records, 8);
	/* cut at a frame boundary after the checkpoint: nothing to see */
	build_log(tu_path(dir, *state, "log3"), ORIGIN);
	tu_path(path, dir, SEG0);
	assert_int_equal(frames(path, offs, lens), 12);
	seg = tu_read(path, &len);
	assert_int_equal(truncate(path, (off_t)offs[11]), 0);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, 11);
	/* an incomplete last frame is an interrupted writer, not tampering */
	tu_write(path, seg, offs[11] + 7);
	free(seg);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, 11);
	assert_int_equal(rep.torn_bytes, 7);
}

static void test_foreign_segment(void **state)
{
	char dir[TU_PATH_MAX], other[TU_PATH_MAX], path[TU_PATH_MAX];
	privaudit_verify_report rep;
	unsigned char *seg;
	size_t len;
	pa_seghdr h;
	const char *why;

	build_log(tu_path(dir, *state, "log"), ORIGIN);
	build_log(tu_path(other, *state, "other"), ORIGIN);
	/* the other log's segment dressed up as our next one */
	seg = tu_read(tu_path(path, other, SEG0), &len);
	assert_int_equal(pa_seg_header_decode(seg, &h, &why), PRIVAUDIT_OK);
	h.number = 1;
	h.first_index = 12;
	pa_seg_header_encode(seg, &h);
	tu_write(tu_path(path, dir, "seg-0000000000000001"), seg, len);
	free(seg);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_FOREIGN);
	assert_int_equal(rep.bad_segment, 1);
	assert_int_equal(rep.bad_index, 12);
	/* and a gap in the segment numbers */
	assert_int_equal(rename(path, tu_path(other, dir, "seg-0000000000000002")), 0);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_SEQUENCE);
}

static void test_no_log(void **state)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	privaudit_verify_report rep;
	privaudit_verifier *v = NULL;

	tu_path(dir, *state, "empty");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_NOLOG);
	assert_int_equal(rep.has_bad, 0);
	assert_int_equal(rep.records, 0);
	/* segments, but not the first */
	tu_write(tu_path(path, dir, "seg-0000000000000001"), "x", 1);
	assert_int_equal(run_verify(dir, NULL, &rep), PRIVAUDIT_E_NOLOG);
	/* no such directory, or not a directory */
	assert_int_equal(privaudit_verifier_new(&v, tu_path(path, *state, "missing")), PRIVAUDIT_E_NOLOG);
	assert_null(v);
	assert_int_equal(privaudit_verifier_new(&v, tu_path(path, dir, "seg-0000000000000001")),
			 PRIVAUDIT_E_NOLOG);
	assert_int_equal(privaudit_verifier_new(NULL, dir), PRIVAUDIT_E_INVAL);
	{
		char *note = NULL;
		size_t len;

		assert_int_equal(privaudit_checkpoint_latest(dir, &note, &len), PRIVAUDIT_E_NOLOG);
		assert_null(note);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_good_log),
		T(test_pinned_key),
		T(test_trusted),
		T(test_max_age),
		T(test_tamper_crc),
		T(test_tamper_sealed),
		T(test_removed_and_truncated),
		T(test_foreign_segment),
		T(test_no_log),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
