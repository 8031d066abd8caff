/* SPDX-License-Identifier: ISC */
/* archive.c: moving closed segments out of the live log, compressed, and
 * reading them back.
 *
 * A segment is archived as one zstd frame (content size and checksum
 * set) in ARCHIVE_DIR/seg-N.zst.  zstd because it is made for this: fast
 * to decompress for a verifier that reads years of segments, a frame
 * checksum beside the log's own CRCs, and Debian ships it (libzstd, which
 * the system already loads through systemd and apt).  The live log
 * then starts at a segment whose first record, a segment_start, holds the
 * Merkle frontier of everything archived: checkpoints after it cover it, so
 * the live log still verifies from there, and the archive, which holds
 * segment 0 and the genesis record, verifies from the first key on its own
 * or joined with the live log (privaudit verify --archive).
 *
 * The order makes a crash at any point lose nothing: the compressed copy
 * is written beside, synced, renamed, read back and compared; then the
 * marker "archived" names the new first live segment; only then are the
 * live copies removed.  A crash leaves a segment in both places (the next
 * run compares and removes it) or in the live log only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <sodium.h>
#include <zstd.h>

#include "privaudit.h"
#include "archive.h"
#include "lock.h"
#include "segment.h"

/* zstd level: 9 compresses a log's text and protobuf framing well at tens
 * of MB/s on one core (bench/bench-archive.sh measures it). */
#define ARCHIVE_LEVEL 9
#define ARCHIVE_LOCK_MS 10000
#define SHIP_STATE_FILE "ship-state"

/* ------------------------------------------------------------ the marker */

int pa_archived_read(int dirfd, pa_archived *a)
{
	char *text = NULL, *p;
	size_t len = 0;
	int have = 0;

	memset(a, 0, sizeof(*a));
	if (pa_read_file(NULL, dirfd, PA_ARCHIVED_FILE, 4096, &text, &len) != PRIVAUDIT_OK) {
		if (errno != ENOENT)
			errno = EINVAL;
		return -1;
	}
	for (p = text; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n'), *eq;

		if (nl != NULL)
			*nl = '\0';
		eq = strchr(p, '=');
		if (eq != NULL) {
			*eq++ = '\0';
			if (strcmp(p, "first_segment") == 0)
				have |= sscanf(eq, "%" SCNu64, &a->first_segment) == 1 ? 1 : 0;
			else if (strcmp(p, "first_index") == 0)
				have |= sscanf(eq, "%" SCNu64, &a->first_index) == 1 ? 2 : 0;
			else if (strcmp(p, "log_id") == 0 && strlen(eq) == 2 * PA_HASH_LEN &&
				 sodium_hex2bin(a->log_id, PA_HASH_LEN, eq, 2 * PA_HASH_LEN, NULL, NULL,
						NULL) == 0)
				have |= 4;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	free(text);
	if (have != 7 || a->first_segment == 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static privaudit_status archived_write(pa_err *e, int dirfd, const pa_archived *a)
{
	char hex[2 * PA_HASH_LEN + 1], buf[512];
	int n;

	sodium_bin2hex(hex, sizeof(hex), a->log_id, PA_HASH_LEN);
	n = snprintf(buf, sizeof(buf),
		     "# privaudit: the segments before first_segment were archived\n"
		     "first_segment=%" PRIu64 "\nfirst_index=%" PRIu64 "\nlog_id=%s\n",
		     a->first_segment, a->first_index, hex);
	return pa_replace_file(e, dirfd, PA_ARCHIVED_FILE, buf, (size_t)n, 0644);
}

/* ------------------------------------------------------------ reading */

static void zst_name(char *out, size_t size, uint64_t number)
{
	char name[PA_SEG_NAME_MAX];

	pa_seg_name(name, number);
	snprintf(out, size, "%s.zst", name);
}

/* Decompress the zstd file at fd into a memory file. */
static int inflate_to_memfd(int fd)
{
	unsigned char *in = NULL;
	size_t outcap = ZSTD_DStreamOutSize();
	unsigned char *out = malloc(outcap);
	ZSTD_DCtx *dz = ZSTD_createDCtx();
	struct stat sb;
	int mfd = -1, e = EIO;
	size_t ret = 1;

	if (out == NULL || dz == NULL || fstat(fd, &sb) < 0) {
		e = out == NULL || dz == NULL ? ENOMEM : errno;
		goto fail;
	}
	if (sb.st_size > 0) {
		in = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (in == MAP_FAILED) {
			in = NULL;
			e = errno;
			goto fail;
		}
	}
	mfd = memfd_create("privaudit-segment", MFD_CLOEXEC);
	if (mfd < 0) {
		e = errno;
		goto fail;
	}
	{
		ZSTD_inBuffer ib = { in, (size_t)sb.st_size, 0 };

		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { out, outcap, 0 };

			ret = ZSTD_decompressStream(dz, &ob, &ib);
			if (ZSTD_isError(ret)) {
				e = EBADMSG;   /* damaged: the verifier says where */
				goto fail;
			}
			if (ob.pos > 0 && pa_write_full(mfd, out, ob.pos) < 0) {
				e = errno;
				goto fail;
			}
		}
	}
	if (ret != 0) {
		e = EBADMSG;   /* truncated frame */
		goto fail;
	}
	if (in != NULL)
		munmap(in, (size_t)sb.st_size);
	ZSTD_freeDCtx(dz);
	free(out);
	return mfd;
fail:
	if (mfd >= 0)
		close(mfd);
	if (in != NULL)
		munmap(in, (size_t)sb.st_size);
	ZSTD_freeDCtx(dz);
	free(out);
	errno = e;
	return -1;
}

int pa_segment_open_any(int dirfd, uint64_t number)
{
	char name[PA_SEG_NAME_MAX + 8];
	int fd, mfd, e;

	pa_seg_name(name, number);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	zst_name(name, sizeof(name), number);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	mfd = inflate_to_memfd(fd);
	e = errno;
	close(fd);
	errno = e;
	return mfd;
}

pa_record *pa_segment_first(int fd, uint64_t *index, unsigned char leaf[PA_HASH_LEN])
{
	unsigned char *buf = NULL;
	const unsigned char *entry;
	pa_record *rec = NULL;
	size_t cap = 0, len;
	struct stat sb;

	if (fstat(fd, &sb) == 0 &&
	    pa_frame_read_at(fd, PA_SEG_HEADER, (uint64_t)sb.st_size, &buf, &cap, &entry, &len) ==
		    PA_FRAME_OK) {
		*index = pa_load64(entry);
		pa_hash_leaf(leaf, entry, len);
		rec = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	}
	free(buf);
	return rec;
}

/* ------------------------------------------------------------ archiving */

typedef struct seginfo {
	uint64_t number;
	uint64_t first_index;        /* from the header */
	int anchored;                /* its first record is a segment_start */
	uint64_t start_ns;           /* that record's time */
	uint64_t size;
} seginfo;

/* The live segments, sorted, with what their header and first record say. */
static privaudit_status live_segments(pa_err *e, int dirfd, const unsigned char log_id[PA_HASH_LEN],
				      seginfo **out, size_t *count)
{
	seginfo *list = NULL;
	uint64_t *nums = NULL;
	size_t n = 0;
	int fd;

	*out = NULL;
	*count = 0;
	if (pa_seg_list(dirfd, 0, &nums, &n) < 0)
		return errno == ENOMEM ? pa_fail(e, PRIVAUDIT_E_NOMEM, "out of memory")
				       : pa_fail_errno(e, "read directory", "log");
	list = calloc(n + 1, sizeof(*list));
	if (list == NULL) {
		free(nums);
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		list[i].number = nums[i];
	free(nums);
	for (size_t i = 0; i < n; i++) {
		unsigned char hdr[PA_SEG_HEADER], leaf[PA_HASH_LEN];
		char name[PA_SEG_NAME_MAX];
		const char *why = NULL;
		pa_seghdr h;
		pa_record *rec;
		uint64_t idx = 0;

		pa_seg_name(name, list[i].number);
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			free(list);
			return pa_fail_errno(e, "open", name);
		}
		if (pa_pread_full(fd, hdr, sizeof(hdr), 0) < 0 ||
		    pa_seg_header_decode(hdr, &h, &why) != PRIVAUDIT_OK || h.number != list[i].number ||
		    memcmp(h.log_id, log_id, PA_HASH_LEN) != 0) {
			close(fd);
			free(list);
			return pa_fail(e, PRIVAUDIT_E_FORMAT, "%s: not a segment of this log%s%s", name,
				       why ? ": " : "", why ? why : "");
		}
		list[i].first_index = h.first_index;
		{
			struct stat sb;

			list[i].size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		}
		rec = pa_segment_first(fd, &idx, leaf);
		close(fd);
		/* the live log can start only at a complete one (pa_chain_start_at) */
		if (rec != NULL && idx == h.first_index &&
		    rec->body_case == PRIVAUDIT__RECORD__BODY_SEGMENT_START &&
		    rec->segment_start->origin != NULL && rec->segment_start->origin[0] != '\0' &&
		    rec->segment_start->public_key.len == crypto_sign_PUBLICKEYBYTES &&
		    rec->segment_start->log_id.len == PA_HASH_LEN) {
			list[i].anchored = 1;
			list[i].start_ns = rec->time_ns;
		}
		pa_record_free(rec);
	}
	*out = list;
	*count = n;
	return PRIVAUDIT_OK;
}

/* Records 0 .. acked-1 of this log the collector acknowledged (ship-state);
 * 0 when nothing was, or no shipping was ever set up. */
static uint64_t shipped_acked(int dirfd, const unsigned char log_id[PA_HASH_LEN])
{
	char *text = NULL, *p, hex[2 * PA_HASH_LEN + 1];
	uint64_t acked = 0;
	int same = 0;
	size_t len;

	if (pa_read_file(NULL, dirfd, SHIP_STATE_FILE, 65536, &text, &len) != PRIVAUDIT_OK)
		return 0;
	sodium_bin2hex(hex, sizeof(hex), log_id, PA_HASH_LEN);
	for (p = text; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strncmp(p, "log_id=", 7) == 0)
			same = strcmp(p + 7, hex) == 0;
		else if (strncmp(p, "acked=", 6) == 0)
			(void)sscanf(p + 6, "%" SCNu64, &acked);
		p = nl != NULL ? nl + 1 : NULL;
	}
	free(text);
	return same ? acked : 0;
}

/* Compress segment `name` of dirfd into adirfd/seg-N.zst (via a
 * temporary), synced; bytes written in *out_bytes. */
static privaudit_status compress_segment(pa_err *e, int dirfd, int adirfd, uint64_t number,
					 uint64_t *in_bytes, uint64_t *out_bytes)
{
	char name[PA_SEG_NAME_MAX], zname[PA_SEG_NAME_MAX + 8], tmp[PA_SEG_NAME_MAX + 16];
	unsigned char *in = NULL;
	size_t outcap = ZSTD_CStreamOutSize();
	unsigned char *out = malloc(outcap);
	ZSTD_CCtx *cz = ZSTD_createCCtx();
	privaudit_status st = PRIVAUDIT_OK;
	struct stat sb;
	int fd, zfd = -1;
	uint64_t written = 0;

	pa_seg_name(name, number);
	zst_name(zname, sizeof(zname), number);
	snprintf(tmp, sizeof(tmp), "%s.tmp", zname);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (out == NULL || cz == NULL) {
		st = pa_fail(e, PRIVAUDIT_E_NOMEM, "out of memory");
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) < 0) {
		st = pa_fail_errno(e, "open", name);
		goto out;
	}
	if (sb.st_size > 0) {
		in = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (in == MAP_FAILED) {
			in = NULL;
			st = pa_fail_errno(e, "read", name);
			goto out;
		}
	}
	(void)unlinkat(adirfd, tmp, 0);
	zfd = openat(adirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (zfd < 0) {
		st = pa_fail_errno(e, "create", tmp);
		goto out;
	}
	ZSTD_CCtx_setParameter(cz, ZSTD_c_compressionLevel, ARCHIVE_LEVEL);
	ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(cz, (unsigned long long)sb.st_size);
	{
		ZSTD_inBuffer ib = { in, (size_t)sb.st_size, 0 };
		size_t left;

		do {
			ZSTD_outBuffer ob = { out, outcap, 0 };

			left = ZSTD_compressStream2(cz, &ob, &ib, ZSTD_e_end);
			if (ZSTD_isError(left)) {
				st = pa_fail(e, PRIVAUDIT_E_IO, "compress %s: %s", name,
					     ZSTD_getErrorName(left));
				goto out;
			}
			if (ob.pos > 0 && pa_write_full(zfd, out, ob.pos) < 0) {
				st = pa_fail_errno(e, "write", tmp);
				goto out;
			}
			written += ob.pos;
		} while (left != 0);
	}
	if (fsync(zfd) < 0) {
		st = pa_fail_errno(e, "fsync", tmp);
		goto out;
	}
	close(zfd);
	zfd = -1;
	if (renameat(adirfd, tmp, adirfd, zname) < 0 || fsync(adirfd) < 0) {
		st = pa_fail_errno(e, "rename into place", zname);
		goto out;
	}
	*in_bytes += (uint64_t)sb.st_size;
	*out_bytes += written;
out:
	if (zfd >= 0) {
		close(zfd);
		(void)unlinkat(adirfd, tmp, 0);
	}
	if (in != NULL)
		munmap(in, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	ZSTD_freeCCtx(cz);
	free(out);
	return st;
}

/* The archived copy of segment number must hold the live one's bytes. */
static privaudit_status same_bytes(pa_err *e, int dirfd, int adirfd, uint64_t number)
{
	unsigned char a[65536], b[65536];
	char name[PA_SEG_NAME_MAX];
	struct stat sa, sb;
	int fa, fb;
	privaudit_status st = PRIVAUDIT_OK;

	pa_seg_name(name, number);
	fa = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	fb = pa_segment_open_any(adirfd, number);
	if (fa < 0 || fb < 0 || fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0) {
		st = pa_fail_errno(e, "read back", name);
		goto out;
	}
	if (sa.st_size != sb.st_size) {
		st = pa_fail(e, PRIVAUDIT_E_IO, "the archived %s has %lld bytes, the live one %lld",
			     name, (long long)sb.st_size, (long long)sa.st_size);
		goto out;
	}
	for (off_t off = 0; off < sa.st_size;) {
		size_t n = sa.st_size - off < (off_t)sizeof(a) ? (size_t)(sa.st_size - off) : sizeof(a);

		if (pa_pread_full(fa, a, n, off) < 0 || pa_pread_full(fb, b, n, off) < 0) {
			st = pa_fail_errno(e, "read back", name);
			goto out;
		}
		if (memcmp(a, b, n) != 0) {
			st = pa_fail(e, PRIVAUDIT_E_IO, "the archived %s differs from the live one at byte %lld",
				     name, (long long)off);
			goto out;
		}
		off += (off_t)n;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return st;
}

/* The archive directory belongs to this log: it holds its log.pub (copied
 * there the first time). */
static privaudit_status claim_archive(pa_err *e, int dirfd, int adirfd)
{
	char *mine = NULL, *theirs = NULL;
	size_t ml = 0, tl = 0;
	privaudit_status st;

	st = pa_read_file(e, dirfd, PRIVAUDIT_PUBKEY_FILE, 4096, &mine, &ml);
	if (st != PRIVAUDIT_OK)
		return st;
	if (pa_read_file(NULL, adirfd, PRIVAUDIT_PUBKEY_FILE, 4096, &theirs, &tl) == PRIVAUDIT_OK) {
		if (tl != ml || memcmp(mine, theirs, ml) != 0)
			st = pa_fail(e, PRIVAUDIT_E_FOREIGN,
				     "the archive directory holds another log (its log.pub differs)");
	} else {
		st = pa_replace_file(e, adirfd, PRIVAUDIT_PUBKEY_FILE, mine, ml, 0644);
	}
	free(mine);
	free(theirs);
	return st;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_archive(const char *dir, const char *to,
						    const privaudit_archive_opts *opts,
						    privaudit_archive_report *rep)
{
	int dirfd = -1, adirfd = -1, lockfd = -1, locked = 0;
	unsigned char log_id[PA_HASH_LEN];
	seginfo *segs = NULL;
	size_t nsegs = 0, cut;
	pa_archived mark;
	uint64_t acked, now_ns = pa_now_ns(), live = 0;
	privaudit_status st;
	pa_err e;

	memset(&e, 0, sizeof(e));
	if (dir == NULL || to == NULL || opts == NULL || rep == NULL)
		return PRIVAUDIT_E_INVAL;
	memset(rep, 0, sizeof(*rep));
	if (opts->before_index == 0 && opts->older_than_s < 0 && opts->max_live_bytes == 0) {
		snprintf(rep->detail, sizeof(rep->detail), "nothing asked: give a record index or an age");
		return PRIVAUDIT_E_INVAL;
	}
	if (sodium_init() < 0)
		return PRIVAUDIT_E_CRYPTO;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		st = errno == ENOENT ? PRIVAUDIT_E_NOLOG : pa_fail_errno(&e, "open", dir);
		goto out;
	}
	if (mkdir(to, 0750) < 0 && errno != EEXIST) {
		st = pa_fail_errno(&e, "create", to);
		goto out;
	}
	adirfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (adirfd < 0) {
		st = pa_fail_errno(&e, "open", to);
		goto out;
	}
	lockfd = openat(dirfd, PA_LOCK_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lockfd < 0) {
		st = errno == ENOENT ? PRIVAUDIT_E_NOLOG : pa_fail_errno(&e, "open", PA_LOCK_FILE);
		goto out;
	}
	/* The log's id: segment 0's header, or the marker once it is gone. */
	{
		unsigned char hdr[PA_SEG_HEADER];
		const char *why = NULL;
		pa_seghdr h;
		int fd = pa_segment_open_any(dirfd, 0);

		if (fd >= 0) {
			int ok = pa_pread_full(fd, hdr, sizeof(hdr), 0) == 0 &&
				 pa_seg_header_decode(hdr, &h, &why) == PRIVAUDIT_OK;

			close(fd);
			if (!ok) {
				st = pa_fail(&e, PRIVAUDIT_E_FORMAT, "segment 0: bad header");
				goto out;
			}
			memcpy(log_id, h.log_id, PA_HASH_LEN);
		} else if (pa_archived_read(dirfd, &mark) == 0) {
			memcpy(log_id, mark.log_id, PA_HASH_LEN);
		} else {
			st = pa_fail(&e, PRIVAUDIT_E_NOLOG, "no segment 0 and no archived marker");
			goto out;
		}
	}
	st = claim_archive(&e, dirfd, adirfd);
	if (st != PRIVAUDIT_OK)
		goto out;
	st = live_segments(&e, dirfd, log_id, &segs, &nsegs);
	if (st != PRIVAUDIT_OK)
		goto out;
	acked = shipped_acked(dirfd, log_id);
	for (size_t i = 0; i < nsegs; i++)
		live += segs[i].size;
	/* cut: the first segment kept.  Never the newest (writers append
	 * there); only before a segment_start; only what was asked; only what
	 * the collector has (unless forced). */
	for (cut = 0; cut + 1 < nsegs; cut++) {
		const seginfo *next = &segs[cut + 1];

		if (next->number != segs[cut].number + 1) {
			st = pa_fail(&e, PRIVAUDIT_E_SEQUENCE, "segment %" PRIu64 " is missing",
				     segs[cut].number + 1);
			goto out;
		}
		if (!next->anchored) {
			rep->no_anchor++;
			break;
		}
		if (opts->before_index > 0 && next->first_index > opts->before_index)
			break;
		if (opts->max_live_bytes > 0 && live <= opts->max_live_bytes)
			break;
		if (opts->older_than_s >= 0 &&
		    next->start_ns + (uint64_t)opts->older_than_s * 1000000000u > now_ns)
			break;
		if (!(opts->flags & PRIVAUDIT_ARCHIVE_FORCE) && next->first_index > acked) {
			rep->unshipped = 1;
			break;
		}
		live -= segs[cut].size;
	}
	rep->live_bytes = live;
	rep->first_segment = nsegs > 0 ? segs[cut].number : 0;
	rep->first_index = nsegs > 0 ? segs[cut].first_index : 0;
	rep->acked = acked;
	if (cut == 0) {
		snprintf(rep->detail, sizeof(rep->detail), "%s",
			 rep->unshipped ? "nothing archived: the collector has not acknowledged the oldest segment"
			 : rep->no_anchor ? "nothing archived: the next segment has no complete segment_start record (written before archiving existed, or without log.pub)"
			 : "nothing archived: no closed segment matches");
		st = PRIVAUDIT_OK;
		goto out;
	}
	for (size_t i = 0; i < cut; i++) {
		char zname[PA_SEG_NAME_MAX + 8];

		zst_name(zname, sizeof(zname), segs[i].number);
		if (faccessat(adirfd, zname, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
			st = compress_segment(&e, dirfd, adirfd, segs[i].number, &rep->bytes_in,
					      &rep->bytes_out);
			if (st != PRIVAUDIT_OK)
				goto out;
		}
		/* A copy from a run that crashed before removing is checked too. */
		st = same_bytes(&e, dirfd, adirfd, segs[i].number);
		if (st != PRIVAUDIT_OK)
			goto out;
	}
	/* The live log now starts at segs[cut]: say so, then remove. */
	if (pa_lock(lockfd, 1, ARCHIVE_LOCK_MS) < 0) {
		st = pa_fail_errno(&e, "lock", PA_LOCK_FILE);
		goto out;
	}
	locked = 1;
	mark.first_segment = segs[cut].number;
	mark.first_index = segs[cut].first_index;
	memcpy(mark.log_id, log_id, PA_HASH_LEN);
	st = archived_write(&e, dirfd, &mark);
	if (st != PRIVAUDIT_OK)
		goto out;
	for (size_t i = 0; i < cut; i++) {
		char name[PA_SEG_NAME_MAX];

		pa_seg_name(name, segs[i].number);
		if (unlinkat(dirfd, name, 0) < 0) {
			st = pa_fail_errno(&e, "remove", name);
			goto out;
		}
		rep->segments++;
	}
	if (fsync(dirfd) < 0) {
		st = pa_fail_errno(&e, "fsync", dir);
		goto out;
	}
	/* The session index points into removed segments: readers rebuild it. */
	(void)unlinkat(dirfd, "index", 0);
	snprintf(rep->detail, sizeof(rep->detail), "archived");
	st = PRIVAUDIT_OK;
out:
	if (st != PRIVAUDIT_OK && e.msg[0] != '\0')
		snprintf(rep->detail, sizeof(rep->detail), "%s", e.msg);
	if (locked)
		pa_unlock(lockfd);
	if (lockfd >= 0)
		close(lockfd);
	if (adirfd >= 0)
		close(adirfd);
	if (dirfd >= 0)
		close(dirfd);
	free(segs);
	return st;
}
