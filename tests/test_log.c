/* SPDX-License-Identifier: ISC */
/* test_log.c: the writer through the public API: append, commit, seal, lock
 * timeout, recovery, rollover, fds, key rotation, ENOSPC via --wrap=pwrite,
 * which files are synced (fdatasync defined here: the library is linked in
 * statically, so its calls land here). */
#include "config.h"

#include "testutil.h"

#include <signal.h>
#include <time.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sodium.h>

#include "keys.h"
#include "note.h"
#include "privaudit.h"
#include "record.h"
#include "segment.h"

#define ORIGIN "test.example/privaudit/log"

/* ------------------------------------------------------------ fault injection */

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);

static struct {
	int armed;        /* fail writes to segment files */
	int pass;         /* segment writes still let through before failing */
	int short_first;  /* the first failing write stores half and returns short */
	int injected;     /* failures injected so far */
} fault;

static int is_segment_fd(int fd)
{
	char link[64], target[TU_PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	return strncmp(base, "seg-", 4) == 0;
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fault.armed && is_segment_fd(fd)) {
		if (fault.pass > 0) {
			fault.pass--;
		} else if (fault.short_first && n > 1) {
			/* a full disk often takes part of a write first */
			fault.short_first = 0;
			return __real_pwrite(fd, buf, n / 2, off);
		} else {
			fault.injected++;
			errno = ENOSPC;
			return -1;
		}
	}
	return __real_pwrite(fd, buf, n, off);
}

/* The base names of the files fdatasync'ed since the last reset. */
static struct {
	int on;
	int n;
	char names[16][TU_PATH_MAX];
} synced;

int fdatasync(int fd)
{
	char link[64], target[TU_PATH_MAX];
	ssize_t n;

	if (synced.on && synced.n < 16) {
		const char *base;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		base = strrchr(target, '/');
		snprintf(synced.names[synced.n++], TU_PATH_MAX, "%s", base != NULL ? base + 1 : target);
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* fdatasync of segment files: counted, and failed with EIO when armed. */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

static struct {
	int segment_syncs;
	int fail;
} syncs;

int __wrap_fdatasync(int fd)
{
	if (is_segment_fd(fd)) {
		syncs.segment_syncs++;
		if (syncs.fail) {
			errno = EIO;
			return -1;
		}
	}
	return __real_fdatasync(fd);
}

/* fstatfs: the free space the reserve is judged by, when set (bytes > 0) */
int __real_fstatfs(int fd, struct statfs *sf);
int __wrap_fstatfs(int fd, struct statfs *sf);

static uint64_t fake_free, fake_size = 1ull << 40;

int __wrap_fstatfs(int fd, struct statfs *sf)
{
	int rc = __real_fstatfs(fd, sf);

	if (rc == 0 && fake_free > 0) {
		sf->f_frsize = sf->f_bsize = 1024;
		sf->f_blocks = fake_size / 1024;
		sf->f_bfree = sf->f_bavail = fake_free / 1024;
	}
	return rc;
}

static void arm_enospc(int pass, int short_first)
{
	fault.armed = 1;
	fault.pass = pass;
	fault.short_first = short_first;
	fault.injected = 0;
}

static void disarm(void)
{
	fault.armed = 0;
}

/* ------------------------------------------------------------ helpers */

static void log_dir(char *buf, void **state)
{
	tu_path(buf, *state, "log");
}

static void make_log(const char *dir)
{
	char vkey[PA_VKEY_MAX];

	assert_int_equal(privaudit_init(dir, ORIGIN, vkey, sizeof(vkey)), PRIVAUDIT_OK);
}

static privaudit_log *open_log(const char *dir, unsigned flags)
{
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_open(&log, dir, flags), PRIVAUDIT_OK);
	assert_non_null(log);
	return log;
}

static void append(privaudit_log *log, const char *text)
{
	assert_int_equal(privaudit_append_text(log, text, strlen(text)), PRIVAUDIT_OK);
}

static void close_ok(privaudit_log *log)
{
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
}

/* Verify dir pinned to its log.pub; the report is copied to out. */
static privaudit_status verify_log(const char *dir, privaudit_verify_report *out)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;
	privaudit_status st;
	char path[TU_PATH_MAX];
	char *vkey;

	vkey = (char *)tu_read(tu_path(path, dir, PRIVAUDIT_PUBKEY_FILE), NULL);
	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verifier_pin_key(v, vkey), PRIVAUDIT_OK);
	st = privaudit_verify_run(v, &rep);
	assert_non_null(rep);
	assert_int_equal(st, rep->status);
	if (st != PRIVAUDIT_OK)
		print_message("verify %s: %s: %s (record %llu)\n", dir, privaudit_strerror(st), rep->detail,
			      (unsigned long long)rep->bad_index);
	if (out != NULL) {
		*out = *rep;
		out->detail = out->origin = NULL;   /* they live in the verifier */
	}
	privaudit_verifier_free(v);
	free(vkey);
	return st;
}

static void verify_ok(const char *dir, uint64_t records)
{
	privaudit_verify_report rep;

	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, records);
	assert_int_equal(rep.pinned, 1);
}

/* The record at index, read back from the segments; NULL when absent.  Its
 * raw stored bytes (after the index) go to raw when not NULL. */
static pa_record *find_record(const char *dir, uint64_t index, unsigned char **raw, size_t *raw_len)
{
	for (uint64_t s = 0;; s++) {
		char name[PA_SEG_NAME_MAX], path[TU_PATH_MAX];
		pa_segreader r;
		off_t size;
		int fd;

		pa_seg_name(name, s);
		size = tu_size(tu_path(path, dir, name));
		if (size < 0)
			return NULL;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)size), PRIVAUDIT_OK);
		for (;;) {
			const unsigned char *entry;
			size_t len;
			uint64_t off;

			if (pa_segreader_next(&r, &entry, &len, &off) != PA_FRAME_OK)
				break;
			if (pa_load64(entry) == index) {
				pa_record *rec = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);

				if (raw != NULL) {
					*raw_len = len - PA_ENTRY_INDEX;
					*raw = malloc(*raw_len);
					assert_non_null(*raw);
					memcpy(*raw, entry + PA_ENTRY_INDEX, *raw_len);
				}
				pa_segreader_free(&r);
				close(fd);
				assert_non_null(rec);
				return rec;
			}
		}
		pa_segreader_free(&r);
		close(fd);
	}
}

static void expect_text(const char *dir, uint64_t index, const void *text, size_t len)
{
	pa_record *rec = find_record(dir, index, NULL, NULL);

	assert_non_null(rec);
	assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_APPLICATION);
	assert_int_equal(rec->application->text.len, len);
	assert_memory_equal(rec->application->text.data, text, len);
	pa_record_free(rec);
}

static void expect_kind(const char *dir, uint64_t index, const char *kind)
{
	pa_record *rec = find_record(dir, index, NULL, NULL);

	assert_non_null(rec);
	assert_string_equal(pa_record_kind_name(rec), kind);
	pa_record_free(rec);
}

/* Record index is a "disk-full" gap record counting count events. */
static void expect_gap(const char *dir, uint64_t index, uint64_t count)
{
	pa_record *rec = find_record(dir, index, NULL, NULL);

	assert_non_null(rec);
	assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_GAP);
	assert_int_equal(rec->gap->count, count);
	assert_string_equal(rec->gap->reason, "disk-full");
	assert_true(rec->gap->bytes >= count * (4 + 8 + 4));
	assert_true(rec->gap->first_time_ns > 0);
	assert_true(rec->gap->first_time_ns <= rec->gap->last_time_ns);
	assert_true(rec->gap->last_time_ns <= rec->time_ns);
	pa_record_free(rec);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t key_index(const char *dir)
{
	pa_keystate *ks = pa_keys_new();
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t i;
	pa_err e;

	assert_non_null(ks);
	assert_true(dirfd >= 0);
	assert_int_equal(pa_keys_load(&e, dirfd, ks), PRIVAUDIT_OK);
	i = ks->key_index;
	pa_keys_free(ks);
	close(dirfd);
	return i;
}

static off_t seg_size(const char *dir, uint64_t n)
{
	char name[PA_SEG_NAME_MAX], path[TU_PATH_MAX];

	pa_seg_name(name, n);
	return tu_size(tu_path(path, dir, name));
}

/* ------------------------------------------------------------ tests */

static void test_init_append_reopen(void **state)
{
	static const char odd[] = "th\0ird\xff\n";   /* any bytes, stored as given */
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], vkey[PA_VKEY_MAX];
	privaudit_log *log;
	struct stat sb;
	char *pub;

	log_dir(dir, state);
	assert_int_equal(privaudit_init(dir, ORIGIN, vkey, sizeof(vkey)), PRIVAUDIT_OK);
	/* the layout of privaudit-log(5) */
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07027, 0);   /* 0750 at most (less under a strict umask) */
	pub = (char *)tu_read(tu_path(path, dir, PRIVAUDIT_PUBKEY_FILE), NULL);
	assert_int_equal(strlen(pub), strlen(vkey) + 1);
	assert_memory_equal(pub, vkey, strlen(vkey));
	assert_int_equal(pub[strlen(vkey)], '\n');
	assert_int_equal(strncmp(vkey, ORIGIN "+", strlen(ORIGIN) + 1), 0);
	free(pub);
	assert_int_equal(stat(tu_path(path, dir, "log.key"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_true(tu_size(tu_path(path, dir, "lock")) == 0);
	assert_true(tu_size(tu_path(path, dir, PRIVAUDIT_CHECKPOINT_FILE)) > 0);
	assert_true(seg_size(dir, 0) > PA_SEG_HEADER);

	/* genesis, key rotation, checkpoint */
	log = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(log), 3);
	assert_int_equal(privaudit_log_pending(log), 0);
	expect_kind(dir, 0, "genesis");
	expect_kind(dir, 1, "key_rotation");
	expect_kind(dir, 2, "checkpoint");

	assert_int_equal(privaudit_set_program(log, "test_log"), PRIVAUDIT_OK);
	append(log, "first");
	assert_int_equal(privaudit_log_pending(log), 1);
	assert_int_equal(privaudit_log_size(log), 3);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_pending(log), 0);
	assert_int_equal(privaudit_log_size(log), 4);
	append(log, "second");
	assert_int_equal(privaudit_append_text(log, odd, sizeof(odd) - 1), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_text(log, NULL, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_pending(log), 3);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_size(log), 7);
	/* nothing queued: nothing written */
	{
		off_t before = seg_size(dir, 0);

		assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
		assert_int_equal(privaudit_log_size(log), 7);
		assert_true(seg_size(dir, 0) == before);
	}
	/* close commits what is still queued */
	append(log, "at close");
	close_ok(log);

	log = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(log), 8);
	close_ok(log);
	expect_text(dir, 3, "first", 5);
	expect_text(dir, 4, "second", 6);
	expect_text(dir, 5, odd, sizeof(odd) - 1);
	expect_text(dir, 6, "", 0);
	expect_text(dir, 7, "at close", 8);
	{
		pa_record *rec = find_record(dir, 3, NULL, NULL);

		assert_int_equal(rec->application->program.len, 8);
		assert_memory_equal(rec->application->program.data, "test_log", 8);
		assert_int_equal(rec->application->pid, getpid());
		assert_true(rec->time_ns > 0);
		pa_record_free(rec);
	}
	assert_null(find_record(dir, 8, NULL, NULL));
	verify_ok(dir, 8);
}

static void test_init_refuses(void **state)
{
	static const char *const traces[] = {"lock", "log.key", "log.pub", "state",
					     "seg-0000000000000000"};
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], other[TU_PATH_MAX], vkey[PA_VKEY_MAX];
	unsigned char *key_before, *key_after;
	size_t kl_before, kl_after;
	off_t seg_before;

	log_dir(dir, state);
	make_log(dir);
	key_before = tu_read(tu_path(path, dir, "log.key"), &kl_before);
	seg_before = seg_size(dir, 0);
	assert_int_equal(privaudit_init(dir, ORIGIN, NULL, 0), PRIVAUDIT_E_EXISTS);
	assert_int_equal(privaudit_init(dir, "another.origin", NULL, 0), PRIVAUDIT_E_EXISTS);
	assert_int_equal(privaudit_init(dir, NULL, NULL, 0), PRIVAUDIT_E_EXISTS);
	/* the existing log is untouched */
	key_after = tu_read(path, &kl_after);
	assert_int_equal(kl_before, kl_after);
	assert_memory_equal(key_before, key_after, kl_before);
	assert_true(seg_size(dir, 0) == seg_before);
	free(key_before);
	free(key_after);
	verify_ok(dir, 3);

	/* any trace of a log is enough to refuse */
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		tu_path(other, *state, "partial");
		assert_int_equal(mkdir(other, 0700), 0);
		tu_write(tu_path(path, other, traces[i]), "", 0);
		assert_int_equal(privaudit_init(other, ORIGIN, NULL, 0), PRIVAUDIT_E_EXISTS);
		assert_int_equal(tu_count_prefix(other, "", NULL, 0), 2 + 1);   /* ., .., the trace */
		tu_rmrf(other);
	}

	/* a bad origin is refused before anything is written */
	tu_path(other, *state, "badorigin");
	assert_int_equal(privaudit_init(other, "has space", NULL, 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_init(other, "has+plus", NULL, 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_init(other, "", NULL, 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(tu_count_prefix(other, "", NULL, 0), 2);
	assert_int_equal(privaudit_init(other, ORIGIN, NULL, 0), PRIVAUDIT_OK);

	/* default origin: <hostname>/privaudit/<key id> */
	tu_path(other, *state, "default");
	assert_int_equal(privaudit_init(other, NULL, vkey, sizeof(vkey)), PRIVAUDIT_OK);
	{
		char host[256] = "";

		gethostname(host, sizeof(host) - 1);
		assert_non_null(strstr(vkey, "/privaudit/"));
		assert_int_equal(strncmp(vkey, host, strlen(host)), 0);
	}
	verify_ok(other, 3);

	/* not a directory, no parent, no arguments */
	tu_write(tu_path(path, *state, "file"), "x", 1);
	assert_int_equal(privaudit_init(path, ORIGIN, NULL, 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_init(tu_path(path, *state, "no/such/dir"), ORIGIN, NULL, 0),
			 PRIVAUDIT_E_IO);
	assert_int_equal(privaudit_init(NULL, ORIGIN, NULL, 0), PRIVAUDIT_E_INVAL);
}

static void set_ofd_lock(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
}

/* Commit must give up after the timeout while another writer holds the
 * lock, keep the queue, and succeed once the lock is free. */
static void expect_timeout(privaudit_log *log, int ms)
{
	long long t0, dt;

	assert_int_equal(privaudit_set_lock_timeout(log, ms), PRIVAUDIT_OK);
	t0 = now_ms();
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_LOCK_TIMEOUT);
	dt = now_ms() - t0;
	assert_true(dt >= ms - 5);
	assert_true(dt < 1000);
	assert_true(strlen(privaudit_log_error(log)) > 0);
}

/* The lock holder of test_lock_timeout, killed in teardown if a failed
 * assertion left it waiting. */
static pid_t lock_child = -1;

static int teardown_lock(void **state)
{
	if (lock_child > 0) {
		kill(lock_child, SIGKILL);
		waitpid(lock_child, NULL, 0);
		lock_child = -1;
	}
	return tu_teardown_dir(state);
}

static void test_lock_timeout(void **state)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX];
	int held[2], release[2], status;
	privaudit_log *log;
	uint64_t size;
	pid_t pid;
	char c;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	size = privaudit_log_size(log);
	tu_path(path, dir, "lock");

	/* another process holds the lock */
	assert_int_equal(pipe(held), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl;
		int fd = open(path, O_RDWR | O_CLOEXEC);

		close(held[0]);
		close(release[1]);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) < 0)
			_exit(1);
		if (write(held[1], "L", 1) != 1)
			_exit(1);
		/* until the parent says so, or dies */
		_exit(read(release[0], &c, 1) >= 0 ? 0 : 1);
	}
	lock_child = pid;
	close(held[1]);
	close(release[0]);
	assert_int_equal(read(held[0], &c, 1), 1);

	append(log, "queued while locked");
	expect_timeout(log, 100);
	assert_int_equal(privaudit_log_pending(log), 1);
	assert_int_equal(privaudit_log_size(log), size);
	append(log, "queued too");
	expect_timeout(log, 0);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_E_LOCK_TIMEOUT);
	assert_int_equal(privaudit_log_pending(log), 2);

	assert_int_equal(write(release[1], "U", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	lock_child = -1;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(held[0]);
	close(release[1]);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_pending(log), 0);
	assert_int_equal(privaudit_log_size(log), size + 2);
	expect_text(dir, size, "queued while locked", 19);
	expect_text(dir, size + 1, "queued too", 10);

	/* an OFD lock from another open file description in this process
	 * conflicts too (a PAM host with two handles) */
	{
		int fd = open(path, O_RDWR | O_CLOEXEC);

		assert_true(fd >= 0);
		set_ofd_lock(fd, F_WRLCK);
		append(log, "same process");
		expect_timeout(log, 100);
		assert_int_equal(privaudit_log_pending(log), 1);
		set_ofd_lock(fd, F_UNLCK);
		assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
		/* a shared lock (a verifier's snapshot) also holds writers off */
		set_ofd_lock(fd, F_RDLCK);
		append(log, "after a reader");
		expect_timeout(log, 50);
		close(fd);   /* closing the description drops its lock */
		assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	}
	size = privaudit_log_size(log);
	close_ok(log);
	verify_ok(dir, size);
}

/* A torn frame at the end of the last segment is cut (and kept) on open,
 * with a recovery record, and the log verifies again. */
static void test_recovery(void **state)
{
	unsigned char torn[34] = {0, 0, 0, 100};
	unsigned char junk[64];
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], name[64];
	privaudit_verify_report rep;
	privaudit_log *log;
	uint64_t size;
	off_t end;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	append(log, "a");
	append(log, "b");
	close_ok(log);
	size = 5;
	end = seg_size(dir, 0);

	/* an interrupted append: reported, not a failure */
	memset(torn + 4, 0x42, sizeof(torn) - 4);
	tu_append(tu_path(path, dir, "seg-0000000000000000"), torn, sizeof(torn));
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, size);
	assert_int_equal(rep.torn_bytes, sizeof(torn));

	log = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(log), size + 1);
	close_ok(log);
	{
		pa_record *rec = find_record(dir, size, NULL, NULL);

		assert_non_null(rec);
		assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_RECOVERY);
		assert_int_equal(rec->recovery->segment, 0);
		assert_int_equal(rec->recovery->offset, end);
		assert_int_equal(rec->recovery->bytes_cut, sizeof(torn));
		assert_true(strlen(rec->recovery->reason) > 0);
		snprintf(name, sizeof(name), "cut-%016llx-%016llx", 0ull, (unsigned long long)end);
		assert_string_equal(rec->recovery->saved_as, name);
		pa_record_free(rec);
	}
	{
		unsigned char *cut;
		size_t len;

		cut = tu_read(tu_path(path, dir, name), &len);
		assert_int_equal(len, sizeof(torn));
		assert_memory_equal(cut, torn, len);
		free(cut);
	}
	assert_int_equal(tu_count_prefix(dir, "cut-", NULL, 0), 1);
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, size + 1);
	assert_int_equal(rep.torn_bytes, 0);
	size++;

	/* opening a clean log again records nothing */
	log = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(log), size);
	close_ok(log);

	/* garbage after the last frame (an impossible length) */
	end = seg_size(dir, 0);
	memset(junk, 0xff, sizeof(junk));
	tu_path(path, dir, "seg-0000000000000000");
	tu_append(path, junk, sizeof(junk));
	log = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(log), size + 1);
	append(log, "after recovery");
	close_ok(log);
	{
		pa_record *rec = find_record(dir, size, NULL, NULL);

		assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_RECOVERY);
		assert_int_equal(rec->recovery->offset, end);
		assert_int_equal(rec->recovery->bytes_cut, sizeof(junk));
		assert_true(tu_size(tu_path(path, dir, rec->recovery->saved_as)) == (off_t)sizeof(junk));
		pa_record_free(rec);
	}
	expect_text(dir, size + 1, "after recovery", 14);
	assert_int_equal(tu_count_prefix(dir, "cut-", NULL, 0), 2);
	verify_ok(dir, size + 2);
}

static void test_rollover(void **state)
{
	char dir[TU_PATH_MAX], path[TU_PATH_MAX], text[300];
	unsigned char log_id[PA_HASH_LEN];
	privaudit_verify_report rep;
	privaudit_log *log;
	uint64_t size, index = 0;
	int nseg;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	assert_int_equal(privaudit_set_segment_size(log, PA_SEG_HEADER), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_set_segment_size(NULL, 4096), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_set_segment_size(log, 4096), PRIVAUDIT_OK);
	memset(text, 't', sizeof(text));
	for (int i = 0; i < 60; i++) {
		snprintf(text, sizeof(text), "record %d ", i);
		text[strlen(text)] = 't';
		assert_int_equal(privaudit_append_text(log, text, 250), PRIVAUDIT_OK);
		if (i % 5 == 4)
			assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
		if (i == 30)
			assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	size = privaudit_log_size(log);
	close_ok(log);

	nseg = tu_count_prefix(dir, "seg-", NULL, 0);
	assert_true(nseg >= 3);
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.segments, nseg);
	assert_int_equal(rep.records, size);
	assert_int_equal(rep.checkpoints, 3);

	/* headers chain: number, first index, one log id; no frame spans two */
	for (int s = 0; s < nseg; s++) {
		unsigned char hdr[PA_SEG_HEADER];
		char name[PA_SEG_NAME_MAX];
		const char *why;
		const unsigned char *entry;
		pa_segreader r;
		pa_seghdr h;
		size_t len;
		uint64_t off;
		int fd;

		pa_seg_name(name, (uint64_t)s);
		fd = open(tu_path(path, dir, name), O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
		assert_int_equal(pa_seg_header_decode(hdr, &h, &why), PRIVAUDIT_OK);
		assert_int_equal(h.number, s);
		assert_int_equal(h.first_index, index);
		if (s == 0)
			memcpy(log_id, h.log_id, PA_HASH_LEN);
		assert_memory_equal(h.log_id, log_id, PA_HASH_LEN);
		assert_int_equal(pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)tu_size(path)),
				 PRIVAUDIT_OK);
		while (pa_segreader_next(&r, &entry, &len, &off) == PA_FRAME_OK)
			assert_int_equal(pa_load64(entry), index++);
		assert_int_equal(off, (uint64_t)tu_size(path));   /* ended cleanly */
		pa_segreader_free(&r);
		close(fd);
	}
	assert_int_equal(index, size);

	/* a later writer with the default limit carries on in the last segment */
	log = open_log(dir, 0);
	append(log, "later");
	close_ok(log);
	assert_int_equal(tu_count_prefix(dir, "seg-", NULL, 0), nseg);
	verify_ok(dir, size + 1);
}

/* A writer that rolls the log over to a new segment first makes the old
 * one durable, also when the records at its end were committed without
 * sync by another writer (a PAM close record, sync=no): otherwise a crash
 * could keep the new segment and lose the old one's tail, a hole no
 * recovery can cut away. */
static void test_rollover_syncs_others(void **state)
{
	char dir[TU_PATH_MAX], seg0[PA_SEG_NAME_MAX], seg1[PA_SEG_NAME_MAX];
	privaudit_log *nosync, *log;
	char text[300];

	log_dir(dir, state);
	make_log(dir);
	nosync = open_log(dir, PRIVAUDIT_OPEN_NOSYNC);
	memset(text, 'n', sizeof(text));
	synced.on = 1;
	synced.n = 0;
	for (int i = 0; i < 20; i++)
		assert_int_equal(privaudit_append_text(nosync, text, 250), PRIVAUDIT_OK);
	assert_int_equal(privaudit_commit(nosync), PRIVAUDIT_OK);
	close_ok(nosync);
	assert_int_equal(synced.n, 0);   /* the premise: nothing of that synced */

	log = open_log(dir, 0);
	assert_int_equal(privaudit_set_segment_size(log, 4096), PRIVAUDIT_OK);
	append(log, "in the next segment");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	synced.on = 0;
	close_ok(log);
	pa_seg_name(seg0, 0);
	pa_seg_name(seg1, 1);
	assert_int_equal(seg_size(dir, 1) > 0, 1);   /* it did roll over */
	assert_true(synced.n >= 2);
	assert_string_equal(synced.names[0], seg0);  /* before anything of seg 1 */
	for (int i = 1; i < synced.n; i++) {
		/* seg 1 is written as seg-N.new (header and segment_start),
		 * synced, then linked into place */
		if (strcmp(synced.names[i], seg1) != 0) {
			char tmp[PA_SEG_NAME_MAX + 8];

			snprintf(tmp, sizeof(tmp), "%s.new", seg1);
			assert_string_equal(synced.names[i], tmp);
		}
	}
	/* init's three records, then ours, and seg 1's segment_start */
	verify_ok(dir, 3 + 20 + 1 + 1);
}

static size_t pack(Privaudit__Record *rec, unsigned char **out)
{
	size_t len = privaudit__record__get_packed_size(rec);

	*out = malloc(len + 1);
	assert_non_null(*out);
	assert_int_equal(privaudit__record__pack(rec, *out), len);
	return len;
}

static void test_append_packed(void **state)
{
	Privaudit__Record rec = PRIVAUDIT__RECORD__INIT;
	Privaudit__Application app = PRIVAUDIT__APPLICATION__INIT;
	Privaudit__SessionOpen so = PRIVAUDIT__SESSION_OPEN__INIT;
	Privaudit__Genesis gen = PRIVAUDIT__GENESIS__INIT;
	Privaudit__Checkpoint ck = PRIVAUDIT__CHECKPOINT__INIT;
	Privaudit__KeyRotation kr = PRIVAUDIT__KEY_ROTATION__INIT;
	Privaudit__Recovery rc = PRIVAUDIT__RECOVERY__INIT;
	unsigned char *good, *sess, *bad, *stored, *huge;
	size_t good_len, sess_len, bad_len, stored_len;
	char dir[TU_PATH_MAX];
	privaudit_log *log;
	uint64_t size;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	size = privaudit_log_size(log);

	/* the caller's own time, kept as given: a time before the log's
	 * checkpoint would make verify flag it (PRIVAUDIT_E_BACKDATED) */
	rec.time_ns = (uint64_t)time(NULL) * 1000000000u + 123456789u;
	rec.host = (char *)(uintptr_t)"packed-host";
	rec.body_case = PRIVAUDIT__RECORD__BODY_APPLICATION;
	rec.application = &app;
	app.text.data = (uint8_t *)(uintptr_t)"packed text";
	app.text.len = 11;
	good_len = pack(&rec, &good);
	assert_int_equal(privaudit_append_packed(log, good, good_len), PRIVAUDIT_OK);
	rec.body_case = PRIVAUDIT__RECORD__BODY_SESSION_OPEN;
	rec.session_open = &so;
	so.user = (ProtobufCBinaryData){4, (uint8_t *)(uintptr_t)"root"};
	sess_len = pack(&rec, &sess);
	assert_int_equal(privaudit_append_packed(log, sess, sess_len), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_pending(log), 2);

	/* not a record */
	assert_int_equal(privaudit_append_packed(log, "\xff\xff\xff\xff", 4), PRIVAUDIT_E_FORMAT);
	assert_int_equal(privaudit_append_packed(log, "garbage bytes", 13), PRIVAUDIT_E_FORMAT);
	assert_int_equal(privaudit_append_packed(log, good, good_len - 1), PRIVAUDIT_E_FORMAT);
	assert_int_equal(privaudit_append_packed(log, "", 0), PRIVAUDIT_E_FORMAT);
	assert_int_equal(privaudit_append_packed(log, NULL, 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_append_packed(NULL, good, good_len), PRIVAUDIT_E_INVAL);
	/* a record without a body */
	rec.body_case = PRIVAUDIT__RECORD__BODY__NOT_SET;
	bad_len = pack(&rec, &bad);
	assert_int_equal(privaudit_append_packed(log, bad, bad_len), PRIVAUDIT_E_FORMAT);
	free(bad);
	/* the log's own kinds come from the library only */
	rec.body_case = PRIVAUDIT__RECORD__BODY_GENESIS;
	rec.genesis = &gen;
	gen.origin = (char *)(uintptr_t)ORIGIN;
	bad_len = pack(&rec, &bad);
	assert_int_equal(privaudit_append_packed(log, bad, bad_len), PRIVAUDIT_E_INVAL);
	assert_non_null(strstr(privaudit_log_error(log), "genesis"));
	free(bad);
	rec.body_case = PRIVAUDIT__RECORD__BODY_CHECKPOINT;
	rec.checkpoint = &ck;
	ck.tree_size = 3;
	bad_len = pack(&rec, &bad);
	assert_int_equal(privaudit_append_packed(log, bad, bad_len), PRIVAUDIT_E_INVAL);
	free(bad);
	rec.body_case = PRIVAUDIT__RECORD__BODY_KEY_ROTATION;
	rec.key_rotation = &kr;
	kr.key_index = 9;
	bad_len = pack(&rec, &bad);
	assert_int_equal(privaudit_append_packed(log, bad, bad_len), PRIVAUDIT_E_INVAL);
	free(bad);
	rec.body_case = PRIVAUDIT__RECORD__BODY_RECOVERY;
	rec.recovery = &rc;
	rc.bytes_cut = 1;
	bad_len = pack(&rec, &bad);
	assert_int_equal(privaudit_append_packed(log, bad, bad_len), PRIVAUDIT_E_INVAL);
	free(bad);
	/* too big */
	huge = calloc(1, PRIVAUDIT_RECORD_MAX + 1);
	assert_non_null(huge);
	assert_int_equal(privaudit_append_packed(log, huge, PRIVAUDIT_RECORD_MAX + 1), PRIVAUDIT_E_TOOBIG);
	assert_int_equal(privaudit_append_text(log, huge, PRIVAUDIT_RECORD_MAX), PRIVAUDIT_E_TOOBIG);
	free(huge);

	/* none of the refused ones was queued */
	assert_int_equal(privaudit_log_pending(log), 2);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_size(log), size + 2);
	close_ok(log);

	/* stored byte for byte */
	pa_record_free(find_record(dir, size, &stored, &stored_len));
	assert_int_equal(stored_len, good_len);
	assert_memory_equal(stored, good, good_len);
	free(stored);
	pa_record_free(find_record(dir, size + 1, &stored, &stored_len));
	assert_int_equal(stored_len, sess_len);
	assert_memory_equal(stored, sess, sess_len);
	free(stored);
	free(good);
	free(sess);
	verify_ok(dir, size + 2);
}

/* Every descriptor the library opens is close-on-exec and closed again. */
static void test_no_fd_leak(void **state)
{
	char dir[TU_PATH_MAX], empty[TU_PATH_MAX], path[TU_PATH_MAX];
	unsigned char before_set[1024] = {0};
	privaudit_log *log = NULL, *log2 = NULL;
	int before, lockfd;
	char *note = NULL;
	size_t note_len;
	DIR *d;
	struct dirent *de;

	log_dir(dir, state);
	tu_path(empty, *state, "empty");
	assert_int_equal(mkdir(empty, 0700), 0);
	before = tu_count_fds();
	d = opendir("/proc/self/fd");
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (fd >= 0 && fd < 1024)
			before_set[fd] = 1;
	}
	closedir(d);

	make_log(dir);
	assert_int_equal(privaudit_init(dir, ORIGIN, NULL, 0), PRIVAUDIT_E_EXISTS);
	log = open_log(dir, PRIVAUDIT_OPEN_ANNOUNCE);
	log2 = open_log(dir, 0);
	/* while open: the handle's descriptors are all O_CLOEXEC */
	{
		int n = 0;

		d = opendir("/proc/self/fd");
		while ((de = readdir(d)) != NULL) {
			int fd = atoi(de->d_name), fl;

			if (de->d_name[0] == '.' || fd == dirfd(d) || (fd < 1024 && before_set[fd]))
				continue;
			fl = fcntl(fd, F_GETFD);
			assert_true(fl >= 0 && (fl & FD_CLOEXEC));
			n++;
		}
		closedir(d);
		assert_true(n > 0);
	}
	append(log, "x");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	append(log2, "y");
	assert_int_equal(privaudit_seal(log2), PRIVAUDIT_OK);
	/* failure paths */
	lockfd = open(tu_path(path, dir, "lock"), O_RDWR | O_CLOEXEC);
	set_ofd_lock(lockfd, F_WRLCK);
	append(log, "z");
	privaudit_set_lock_timeout(log, 10);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_LOCK_TIMEOUT);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_E_LOCK_TIMEOUT);
	close(lockfd);
	assert_int_equal(privaudit_checkpoint_latest(dir, &note, &note_len), PRIVAUDIT_OK);
	free(note);
	close_ok(log);
	close_ok(log2);
	{
		privaudit_log *none = NULL;

		assert_int_equal(privaudit_open(&none, empty, 0), PRIVAUDIT_E_NOLOG);
		assert_null(none);
		assert_int_equal(privaudit_open(&none, tu_path(path, *state, "missing"), 0),
				 PRIVAUDIT_E_NOLOG);
	}
	verify_ok(dir, 3 + 1 + 1 + 2 + 1 + 2 + 1 + 1);
	{
		privaudit_verifier *v = NULL;
		const privaudit_verify_report *rep;

		assert_int_equal(privaudit_verifier_new(&v, empty), PRIVAUDIT_OK);
		assert_int_equal(privaudit_verify_run(v, &rep), PRIVAUDIT_E_NOLOG);
		privaudit_verifier_free(v);
		assert_int_equal(privaudit_checkpoint_latest(empty, &note, &note_len), PRIVAUDIT_E_NOLOG);
	}
	assert_int_equal(tu_count_fds(), before);
}

/* Each seal replaces log.key with the next one-time key (0600), and the
 * used secret is gone from it. */
static void test_seal_rotates_key(void **state)
{
	char dir[TU_PATH_MAX], keypath[TU_PATH_MAX], path[TU_PATH_MAX];
	unsigned char *prev, *cur, prev_sk[crypto_sign_SECRETKEYBYTES];
	size_t prev_len, cur_len;
	privaudit_verify_report rep;
	privaudit_log *log;
	uint64_t idx;

	log_dir(dir, state);
	make_log(dir);
	tu_path(keypath, dir, "log.key");
	idx = key_index(dir);
	assert_int_equal(idx, 1);   /* init sealed once */
	prev = tu_read(keypath, &prev_len);
	log = open_log(dir, 0);
	for (int i = 0; i < 4; i++) {
		struct stat sb;
		char *note = NULL, *file;
		size_t note_len = 0;
		pa_note n;
		pa_keystate *ks = pa_keys_new();
		int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		pa_err e;

		assert_int_equal(pa_keys_load(&e, dirfd, ks), PRIVAUDIT_OK);
		memcpy(prev_sk, ks->sk, sizeof(prev_sk));
		pa_keys_free(ks);

		append(log, "sealed");
		assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
		cur = tu_read(keypath, &cur_len);
		assert_false(cur_len == prev_len && memcmp(cur, prev, cur_len) == 0);
		assert_int_equal(key_index(dir), idx + 1);
		idx++;
		assert_int_equal(stat(keypath, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, 0600);
		assert_false(tu_contains(cur, cur_len, prev_sk, 32));
		/* the checkpoint covers everything before its own record */
		assert_int_equal(privaudit_checkpoint_latest(dir, &note, &note_len), PRIVAUDIT_OK);
		assert_int_equal(pa_note_parse(note, note_len, &n), PRIVAUDIT_OK);
		assert_int_equal(n.size, privaudit_log_size(log) - 1);
		assert_string_equal(n.origin, ORIGIN);
		pa_note_free(&n);
		file = (char *)tu_read(tu_path(path, dir, PRIVAUDIT_CHECKPOINT_FILE), NULL);
		assert_string_equal(file, note);
		/* and it is signed by the key just retired: log.key keeps it */
		ks = pa_keys_new();
		assert_int_equal(pa_keys_load(&e, dirfd, ks), PRIVAUDIT_OK);
		assert_int_equal(ks->note_len, note_len);
		assert_memory_equal(ks->note, note, note_len);
		pa_keys_free(ks);
		close(dirfd);
		free(file);
		free(note);
		expect_kind(dir, privaudit_log_size(log) - 2, "key_rotation");
		expect_kind(dir, privaudit_log_size(log) - 1, "checkpoint");
		free(prev);
		prev = cur;
		prev_len = cur_len;
	}
	sodium_memzero(prev_sk, sizeof(prev_sk));
	free(prev);
	close_ok(log);
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.checkpoints, 5);
	assert_int_equal(rep.key_index, 5);
	assert_int_equal(rep.unsealed, 0);
}

/* A full disk: the commit fails with ENOSPC, nothing committed is touched,
 * and the same handle commits the queue once there is room. */
static void test_enospc(void **state)
{
	char dir[TU_PATH_MAX], keypath[TU_PATH_MAX];
	privaudit_verify_report rep;
	privaudit_log *log, *other;
	unsigned char *key_before, *key_after;
	size_t kb_len, ka_len;
	uint64_t size;
	off_t seg;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	append(log, "one");
	append(log, "two");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	size = privaudit_log_size(log);
	seg = seg_size(dir, 0);

	append(log, "three");
	append(log, "four");
	append(log, "five");
	arm_enospc(0, 1);
	/* Full: the events are not kept for a retry that would fail as long
	 * as the disk stays full; a gap record counts them, and waits. */
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_NOSPACE);
	assert_true(fault.injected > 0);
	assert_int_equal(privaudit_log_errno(log), ENOSPC);
	assert_non_null(strstr(privaudit_log_error(log), "3 events not written"));
	assert_int_equal(privaudit_log_pending(log), 1);
	assert_int_equal(privaudit_log_size(log), size);
	assert_true(seg_size(dir, 0) == seg);   /* the half-written batch is gone */
	/* still failing: still nothing changes */
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_IO);
	assert_int_equal(privaudit_log_errno(log), ENOSPC);
	assert_true(seg_size(dir, 0) == seg);
	disarm();
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, size);
	assert_int_equal(rep.torn_bytes, 0);
	/* another writer sees the log as it was, with nothing to recover */
	other = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(other), size);
	close_ok(other);

	/* room again: the gap record goes in, counting the three */
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_pending(log), 0);
	assert_int_equal(privaudit_log_size(log), size + 1);
	expect_gap(dir, size, 3);
	verify_ok(dir, size + 1);
	/* and the handle records again */
	append(log, "three");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	expect_text(dir, size + 1, "three", 5);
	size = privaudit_log_size(log);

	/* full while sealing, before the key rotation record is written: the
	 * key is not used, and a later seal works */
	tu_path(keypath, dir, "log.key");
	key_before = tu_read(keypath, &kb_len);
	arm_enospc(0, 0);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_E_IO);
	assert_int_equal(privaudit_log_errno(log), ENOSPC);
	disarm();
	key_after = tu_read(keypath, &ka_len);
	assert_int_equal(kb_len, ka_len);
	assert_memory_equal(key_before, key_after, kb_len);
	free(key_before);
	free(key_after);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	size = privaudit_log_size(log);
	assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
	assert_int_equal(rep.records, size);
	assert_int_equal(rep.unsealed, 0);

	/* full after signing, when the checkpoint record is written: the note
	 * is safe in log.key; the record is not left queued (a later commit
	 * would write it behind the state's back, and a later open would write
	 * it again) but appended by the next open or seal */
	{
		uint64_t ckpts = rep.checkpoints, idx = key_index(dir);
		privaudit_log *again = NULL;

		append(log, "six");
		arm_enospc(2, 0);   /* "six", then the key rotation, then fail */
		assert_int_equal(privaudit_seal(log), PRIVAUDIT_E_IO);
		disarm();
		assert_int_equal(key_index(dir), idx + 1);
		assert_int_equal(privaudit_log_pending(log), 0);
		assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
		/* the log verifies meanwhile: the rotation is just not sealed yet */
		assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
		assert_int_equal(rep.checkpoints, ckpts);
		assert_int_equal(privaudit_open(&again, dir, 0), PRIVAUDIT_OK);
		expect_kind(dir, privaudit_log_size(again) - 1, "checkpoint");
		close_ok(again);
		assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
		assert_int_equal(rep.checkpoints, ckpts + 1);
		/* opening again does not append it twice */
		assert_int_equal(privaudit_open(&again, dir, 0), PRIVAUDIT_OK);
		assert_int_equal(privaudit_seal(again), PRIVAUDIT_OK);
		close_ok(again);
		assert_int_equal(verify_log(dir, &rep), PRIVAUDIT_OK);
		assert_int_equal(rep.checkpoints, ckpts + 2);
	}
	close_ok(log);
}

/* The reserve: events that would leave less free are counted in a gap
 * record instead, which (with seals and writer records) may use it; events
 * are recorded again once twice the reserve is free. */
static void test_reserve(void **state)
{
	char dir[TU_PATH_MAX];
	privaudit_log *log;
	uint64_t size;
	pa_record *rec;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, PRIVAUDIT_OPEN_ANNOUNCE);
	assert_int_equal(privaudit_set_reserve(log, 1u << 20), PRIVAUDIT_OK);
	fake_free = (1u << 20) + 65536;
	append(log, "fits");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	size = privaudit_log_size(log);
	expect_text(dir, size - 1, "fits", 4);

	/* 100 bytes above the reserve: two events do not go in */
	fake_free = (1u << 20) + 100;
	append(log, "lost-1");
	append(log, "lost-2");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_NOSPACE);
	assert_int_equal(privaudit_log_errno(log), ENOSPC);
	assert_int_equal(privaudit_log_pending(log), 0);
	assert_int_equal(privaudit_log_size(log), size + 1);
	expect_gap(dir, size, 2);
	/* from now on events are refused at once, and counted */
	assert_int_equal(privaudit_append_text(log, "lost-3", 6), PRIVAUDIT_E_NOSPACE);
	assert_int_equal(privaudit_log_pending(log), 0);
	/* a commit with nothing else to write writes no gap record for it */
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_log_size(log), size + 1);
	/* between the reserve and twice it: still refused */
	fake_free = (1u << 20) + (1u << 19);
	assert_int_equal(privaudit_append_text(log, "lost-4", 6), PRIVAUDIT_E_NOSPACE);
	/* a seal uses the reserve, and says what was lost before it */
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	expect_gap(dir, size + 1, 2);
	expect_kind(dir, size + 2, "key_rotation");
	expect_kind(dir, size + 3, "checkpoint");
	size = privaudit_log_size(log);
	assert_int_equal(privaudit_append_text(log, "lost-5", 6), PRIVAUDIT_E_NOSPACE);

	/* twice the reserve free: the gap record first, then the event */
	fake_free = 2u << 20;
	append(log, "back");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	expect_gap(dir, size, 1);
	expect_text(dir, size + 1, "back", 4);
	size += 2;
	assert_int_equal(privaudit_log_size(log), size);

	/* full again, and closed while full: the writer stop goes in, after
	 * the gap record counting what came before it */
	fake_free = (1u << 20) + 100;
	append(log, "lost-6");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_NOSPACE);
	assert_int_equal(privaudit_append_text(log, "lost-7", 6), PRIVAUDIT_E_NOSPACE);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	expect_gap(dir, size, 1);
	expect_gap(dir, size + 1, 1);
	rec = find_record(dir, size + 2, NULL, NULL);
	assert_non_null(rec);
	assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_WRITER_STOP);
	pa_record_free(rec);
	assert_null(find_record(dir, size + 3, NULL, NULL));

	/* a small filesystem keeps an eighth of itself at most: 512 KiB of a
	 * 4 MiB one, whatever the reserve asked */
	log = open_log(dir, 0);
	fake_size = 4u << 20;
	fake_free = 600u << 10;
	append(log, "small fs");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	fake_free = 500u << 10;
	append(log, "small fs, full");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_E_NOSPACE);
	expect_text(dir, size + 3, "small fs", 8);
	expect_gap(dir, size + 4, 1);
	/* no reserve: events go in down to the last byte the disk gives */
	assert_int_equal(privaudit_set_reserve(log, 0), PRIVAUDIT_OK);
	append(log, "no reserve");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	fake_free = 0;
	fake_size = 1ull << 40;
	close_ok(log);
	verify_ok(dir, size + 6);
}

static void test_announce(void **state)
{
	char dir[TU_PATH_MAX];
	privaudit_log *log;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, PRIVAUDIT_OPEN_ANNOUNCE);
	assert_int_equal(privaudit_log_size(log), 4);   /* writer-start, durable at open */
	expect_kind(dir, 3, "writer_start");
	assert_int_equal(privaudit_set_program(log, "announcer"), PRIVAUDIT_OK);
	append(log, "between");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	close_ok(log);
	expect_text(dir, 4, "between", 7);
	expect_kind(dir, 5, "writer_stop");
	{
		pa_record *rec = find_record(dir, 5, NULL, NULL);

		/* writer-start and the text came before it */
		assert_int_equal(rec->writer_stop->records_written, 2);
		assert_string_equal(rec->writer_stop->program, "announcer");
		pa_record_free(rec);
	}
	verify_ok(dir, 6);
}

/* privaudit_write() writes without waiting; privaudit_sync() makes it
 * durable, while the handle goes on; close and commit sync what is left. */
static void test_write_sync(void **state)
{
	char dir[TU_PATH_MAX], text[300];
	privaudit_log *log, *other;
	uint64_t size;

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	assert_int_equal(privaudit_write(NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_sync(NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_sync(log), PRIVAUDIT_OK);   /* nothing written */
	size = privaudit_log_size(log);
	append(log, "one");
	append(log, "two");
	syncs.segment_syncs = 0;
	assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	assert_int_equal(syncs.segment_syncs, 0);
	assert_int_equal(privaudit_log_pending(log), 0);
	assert_int_equal(privaudit_log_size(log), size + 2);

	/* another writer sees them and appends behind them */
	other = open_log(dir, 0);
	assert_int_equal(privaudit_log_size(other), size + 2);
	append(other, "other");
	close_ok(other);

	/* the next group is written while the last one is not yet synced */
	append(log, "three");
	assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	syncs.segment_syncs = 0;
	assert_int_equal(privaudit_sync(log), PRIVAUDIT_OK);
	assert_int_equal(syncs.segment_syncs, 1);
	assert_int_equal(privaudit_sync(log), PRIVAUDIT_OK);   /* nothing left */
	assert_int_equal(syncs.segment_syncs, 1);
	expect_text(dir, size, "one", 3);
	expect_text(dir, size + 2, "other", 5);
	expect_text(dir, size + 3, "three", 5);

	/* commit syncs what write left */
	append(log, "four");
	assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	syncs.segment_syncs = 0;
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(syncs.segment_syncs, 1);

	/* rollovers: every old segment is synced before the next is made */
	assert_int_equal(privaudit_set_segment_size(log, 4096), PRIVAUDIT_OK);
	memset(text, 'w', sizeof(text));
	syncs.segment_syncs = 0;
	for (int i = 0; i < 40; i++) {
		assert_int_equal(privaudit_append_text(log, text, 250), PRIVAUDIT_OK);
		if (i % 4 == 3)
			assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	}
	assert_true(tu_count_prefix(dir, "seg-", NULL, 0) >= 3);
	assert_true(syncs.segment_syncs >= 2);

	/* close syncs the last group */
	append(log, "last");
	assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	syncs.segment_syncs = 0;
	size = privaudit_log_size(log);
	close_ok(log);
	assert_int_equal(syncs.segment_syncs, 1);
	verify_ok(dir, size);

	/* a failed sync: reported, and the handle writes no more */
	log = open_log(dir, 0);
	append(log, "lost?");
	assert_int_equal(privaudit_write(log), PRIVAUDIT_OK);
	syncs.fail = 1;
	assert_int_equal(privaudit_sync(log), PRIVAUDIT_E_IO);
	syncs.fail = 0;
	assert_int_equal(privaudit_log_errno(log), EIO);
	append(log, "refused");
	assert_int_equal(privaudit_write(log), PRIVAUDIT_E_STATE);
	privaudit_close(log);
	log = open_log(dir, 0);
	close_ok(log);
	verify_ok(dir, size + 1);
}

static void test_api_edges(void **state)
{
	char dir[TU_PATH_MAX];
	privaudit_log *log = NULL;

	for (int s = -1; s <= PRIVAUDIT_E_STATE + 5; s++) {
		const char *m = privaudit_strerror((privaudit_status)s);

		assert_non_null(m);
		assert_true(m[0] != '\0');
	}
	assert_string_equal(privaudit_version(), PRIVAUDIT_VERSION_STRING);
	assert_int_equal(privaudit_record_max(), PRIVAUDIT_RECORD_MAX);
	assert_int_equal(privaudit_close(NULL), PRIVAUDIT_OK);
	assert_int_equal(privaudit_commit(NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_seal(NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_append_text(NULL, "x", 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_set_lock_timeout(NULL, 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_set_program(NULL, "x"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_log_size(NULL), 0);
	assert_int_equal(privaudit_log_pending(NULL), 0);
	assert_int_equal(privaudit_log_errno(NULL), 0);
	assert_non_null(privaudit_log_error(NULL));
	assert_int_equal(privaudit_open(NULL, "x", 0), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_open(&log, NULL, 0), PRIVAUDIT_E_INVAL);

	log_dir(dir, state);
	make_log(dir);
	log = open_log(dir, 0);
	assert_int_equal(privaudit_append_text(log, NULL, 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_set_program(log, NULL), PRIVAUDIT_E_INVAL);
	assert_non_null(privaudit_log_error(log));
	assert_int_equal(privaudit_log_pending(log), 0);
	close_ok(log);
}

/* Another log's state file, or a state naming a segment that is not
 * there, does not mislead a writer: it appends to this log, and a cut of
 * the newest segments is recorded even by a deferred open (PAM). */
static void test_foreign_state(void **state)
{
	char dir[TU_PATH_MAX], other[TU_PATH_MAX], path[TU_PATH_MAX], opath[TU_PATH_MAX];
	unsigned char *bytes;
	privaudit_log *log;
	size_t len;

	log_dir(dir, state);
	make_log(dir);
	tu_path(other, *state, "other");
	make_log(other);
	log = open_log(other, 0);
	assert_int_equal(privaudit_set_segment_size(log, 200), PRIVAUDIT_OK);
	memset(path, 'x', 300);
	path[300] = '\0';
	for (int i = 0; i < 5; i++) {   /* each commit starts a segment: 1 to 5 */
		append(log, path);
		assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	}
	close_ok(log);
	assert_true(tu_size(tu_path(path, other, "seg-0000000000000005")) > 0);
	assert_true(access(tu_path(path, dir, "seg-0000000000000001"), F_OK) < 0);

	/* the other log's state (its segment 1 is not in this log) */
	bytes = tu_read(tu_path(opath, other, "state"), &len);
	tu_write(tu_path(path, dir, "state"), bytes, len);
	free(bytes);
	log = open_log(dir, PRIVAUDIT_OPEN_DEFER);
	append(log, "after a foreign state");
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	close_ok(log);
	expect_text(dir, 3, "after a foreign state", 21);
	verify_ok(dir, 4);

	/* the other log's state again: it names segment 5, which this log
	 * (one segment) does not have */
	bytes = tu_read(tu_path(opath, other, "state"), &len);
	tu_write(tu_path(path, dir, "state"), bytes, len);
	free(bytes);
	log = open_log(dir, PRIVAUDIT_OPEN_DEFER);
	append(log, "again");
	close_ok(log);
	expect_text(dir, 4, "again", 5);
	verify_ok(dir, 5);
	verify_ok(other, 3 + 5 * 2);   /* each of segments 1 to 5: segment_start, ours */

	/* the last two segments of the other log removed behind the writers'
	 * back: the next writer, deferred like the PAM module, says so */
	assert_int_equal(unlink(tu_path(path, other, "seg-0000000000000005")), 0);
	assert_int_equal(unlink(tu_path(path, other, "seg-0000000000000004")), 0);
	log = open_log(other, PRIVAUDIT_OPEN_DEFER);
	append(log, "after the cut");
	close_ok(log);
	/* left: records 0 to 8 (segment 3 ends with ours, at 8) */
	expect_text(other, 9, "after the cut", 13);   /* queued before the refresh */
	{
		pa_record *rec = find_record(other, 10, NULL, NULL);

		assert_non_null(rec);
		assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_RECOVERY);
		assert_non_null(strstr(rec->recovery->reason, "removed outside privaudit"));
		pa_record_free(rec);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_dir, tu_teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_init_append_reopen),
		T(test_init_refuses),
		cmocka_unit_test_setup_teardown(test_lock_timeout, tu_setup_dir, teardown_lock),
		T(test_recovery),
		T(test_rollover),
		T(test_rollover_syncs_others),
		T(test_append_packed),
		T(test_no_fd_leak),
		T(test_seal_rotates_key),
		T(test_enospc),
		T(test_reserve),
		T(test_announce),
		T(test_write_sync),
		T(test_api_edges),
		T(test_foreign_state),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
