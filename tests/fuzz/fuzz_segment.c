/* SPDX-License-Identifier: ISC */
/* fuzz_segment.c: a whole log directory made from the input, through the
 * public verifier.  An input that starts with the segment magic is the log's
 * only segment; any other is a small archive (pack-log.py writes it from a
 * real log) of tagged entries, each a 1-byte tag, a 4-byte big-endian
 * length and the bytes (the same directory is then read as the reader verbs
 * read it, stepping over damage, and its sessions listed):
 *   's' + 1-byte number: segment file seg-<number>
 *   'c': the checkpoint file     'p': a key to pin (log.pub)
 *   't': a trusted note          'm': 16 bytes, --max-age seconds and now */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "privaudit.h"
#include "segment.h"

#define MAX_FILES 16

static int put_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		rc = -1;
	close(fd);
	return rc;
}

static const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0)
		return "/dev/shm";   /* no disk writes for every run */
	return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* Read every record stepping over damage: indexes only go up, and once a
 * record comes after damage, every later one does; then list the sessions. */
static void read_past_damage(const char *dir)
{
	const privaudit_session *list;
	const privaudit_record *rec;
	const privaudit_damage *d;
	privaudit_reader *r = NULL;
	uint64_t last = 0, first;
	int any = 0, after = 0;
	size_t n, reads = 0;

	if (privaudit_reader_open(&r, dir) != PRIVAUDIT_OK)
		return;
	FUZZ_CHECK(privaudit_reader_skip_damage(r, 1) == PRIVAUDIT_OK);
	while (privaudit_reader_next(r, &rec) == PRIVAUDIT_OK) {
		uint64_t i = privaudit_record_index(rec);

		FUZZ_CHECK(++reads < (1u << 20));   /* it ends */
		FUZZ_CHECK(!any || i > last);
		if (privaudit_record_after_damage(rec, &first)) {
			FUZZ_CHECK(first <= i);
			after = 1;
		} else {
			FUZZ_CHECK(!after);
		}
		FUZZ_CHECK(!privaudit_record_verified(rec));
		last = i;
		any = 1;
	}
	n = privaudit_reader_damaged(r, &d);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(d[i].what != NULL);
		FUZZ_CHECK(i == 0 || d[i].first_index >= d[i - 1].first_index);
	}
	FUZZ_CHECK(!after || n > 0);
	if (privaudit_sessions(r, &list, &n) == PRIVAUDIT_OK)
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(list[i].first_index <= list[i].last_index);
	privaudit_reader_free(r);
}

static void check_report(const privaudit_verify_report *rep)
{
	FUZZ_CHECK(rep->detail != NULL && rep->origin != NULL);
	FUZZ_CHECK(strlen(rep->detail) < 1024);
	FUZZ_CHECK(privaudit_strerror(rep->status) != NULL);
	if (rep->status == PRIVAUDIT_OK)
		FUZZ_CHECK(rep->sealed <= rep->records);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[256], names[MAX_FILES][PA_SEG_NAME_MAX];
	char *pin = NULL, *trusted = NULL;
	size_t nnames = 0, trusted_len = 0, off = 0;
	int64_t max_age = -1, now = 0;
	privaudit_verifier *v = NULL;
	const privaudit_verify_report *rep = NULL;
	privaudit_status st;

	snprintf(dir, sizeof(dir), "%s/pa-fuzz-segment.XXXXXX", tmp_base());
	if (mkdtemp(dir) == NULL)
		return 0;
	if (size >= 8 && memcmp(data, PA_SEG_MAGIC, 8) == 0) {
		pa_seg_name(names[nnames], 0);
		if (put_file(dir, names[nnames], data, size) == 0)
			nnames++;
		off = size;
	}
	while (off + 5 <= size && nnames < MAX_FILES) {
		uint8_t tag = data[off];
		uint8_t segno = data[off + 1];
		size_t hdr = tag == 's' ? 6 : 5, len;
		const uint8_t *p;

		if (off + hdr > size)
			break;
		len = (size_t)data[off + hdr - 4] << 24 | (size_t)data[off + hdr - 3] << 16 |
		      (size_t)data[off + hdr - 2] << 8 | data[off + hdr - 1];
		p = data + off + hdr;
		if (len > size - off - hdr)
			len = size - off - hdr;   /* a cut archive: take what is there */
		off += hdr + len;
		switch (tag) {
		case 's':
			pa_seg_name(names[nnames], segno);
			if (put_file(dir, names[nnames], p, len) == 0)
				nnames++;
			break;
		case 'c':
			strcpy(names[nnames], PRIVAUDIT_CHECKPOINT_FILE);
			if (put_file(dir, names[nnames], p, len) == 0)
				nnames++;
			break;
		case 'p':
			free(pin);
			pin = strndup((const char *)p, len);
			break;
		case 't':
			free(trusted);
			trusted = malloc(len + 1);
			if (trusted != NULL) {
				memcpy(trusted, p, len);
				trusted[len] = '\0';
				trusted_len = len;
			}
			break;
		case 'm':
			if (len >= 16) {
				max_age = (int64_t)pa_load64(p);
				now = (int64_t)pa_load64(p + 8);
			}
			break;
		default:
			break;
		}
	}

	st = privaudit_verifier_new(&v, dir);
	FUZZ_CHECK(st == PRIVAUDIT_OK);
	if (pin != NULL)
		(void)privaudit_verifier_pin_key(v, pin);
	if (trusted != NULL)
		(void)privaudit_verifier_trust(v, trusted, trusted_len);
	if (max_age >= 0)
		(void)privaudit_verifier_max_age(v, max_age, now);
	st = privaudit_verify_run(v, &rep);
	FUZZ_CHECK(rep != NULL && rep->status == st);
	check_report(rep);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "  %s: %llu records, %llu checkpoints: %s\n",
			privaudit_strerror(st), (unsigned long long)rep->records,
			(unsigned long long)rep->checkpoints, rep->detail);
	privaudit_verifier_free(v);

	/* The newest checkpoint as the CLI's `checkpoint` verb reads it. */
	{
		char *note = NULL;
		size_t len = 0;

		if (privaudit_checkpoint_latest(dir, &note, &len) == PRIVAUDIT_OK)
			FUZZ_CHECK(note != NULL && strlen(note) == len);
		free(note);
	}

	read_past_damage(dir);

	for (size_t i = 0; i < nnames; i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	{
		char path[1024];

		/* the session index read_past_damage() may have left */
		snprintf(path, sizeof(path), "%s/index", dir);
		unlink(path);
	}
	rmdir(dir);
	free(pin);
	free(trusted);
	return 0;
}
