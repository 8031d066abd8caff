/* SPDX-License-Identifier: ISC */
/* keys.c: forward-secure one-time signing keys and the key file.  Secrets
 * exist only in sodium_malloc memory and in the 0600 file log.key, where a
 * used key is overwritten in place before the next one becomes current.
 *
 * Why in place.  A file replaced by rename leaves its old blocks on the
 * device, free but intact until something else lands there: whoever reads
 * the raw device finds every used key in them.  So log.key is one file of
 * two 4 KiB slots, allocated and written whole when it is created and from
 * then on only overwritten, one slot at a time, with pwrite + fdatasync.
 * A seal with key i, whose slot has generation g:
 *   1. prepare: key i+1 into the other slot (a KEY slot, generation g+1),
 *      fdatasync;
 *   2. sign the checkpoint with key i, in memory;
 *   3. retire: key i's slot overwritten by the signed note and no key (a
 *      SPENT slot, generation g), fdatasync.
 * Key i is used once its signature exists outside this process's memory,
 * and the signature reaches the file in the very write that overwrites key
 * i: one 4 KiB block at a 4 KiB offset, which a killed process leaves in
 * the page cache whole or not at all.  So a crash at any instant leaves
 *   - before 3: key i in its slot, unused (its signature died with the
 *     process), and perhaps key i+1, never used, in the other.  Two KEY
 *     slots mean step 3 did not happen: the older generation is current;
 *   - after 3: the note key i signed, and key i+1, current.  Key i is gone.
 * pa_keys_load reads these rules back.  A power cut may also tear the
 * write of step 3 at a 512-byte sector of a disk without atomic 4 KiB
 * writes: a slot is therefore encoded compactly from its start (the key at
 * bytes 96-159) with its checksum right behind it, so that a KEY slot and
 * a short enough SPENT slot lie within the first sector; a torn slot fails
 * its checksum (doc/threat-model.md says what that costs).
 *
 * Filesystems.  On ext2/3/4 with data=ordered (the default) or
 * data=writeback, xfs and tmpfs, an overwrite of an allocated, written
 * block goes to that same block: ext4 journals metadata only, an overwrite
 * inside the file's size changes none that fdatasync must commit, and the
 * file was written whole (no unwritten extents) when it was made.  Once
 * fdatasync returns the old bytes are gone from the device as far as the
 * filesystem goes.  ext4 with data=journal (or a file with chattr +j)
 * writes each data block to the journal first, where copies of keys stay
 * until the journal wraps: pa_keys_erasure_risk says so.  Copy-on-write
 * filesystems (btrfs, bcachefs, ZFS) and log-structured ones (F2FS,
 * NILFS2) write every change to new blocks.  btrfs and bcachefs overwrite
 * in place a file made NOCOW while still empty, so log.key is made so; its
 * 8 KiB keep it out of btrfs's inline extents, which live in the metadata
 * and are always copied on write (files under max_inline, 2 KiB by
 * default).  A snapshot or a reflinked copy shares the blocks, and the
 * next write to them goes elsewhere: a snapshot keeps the key it saw.
 * What a disk does beneath the filesystem (SSD wear levelling) no
 * filesystem controls: doc/threat-model.md.
 *
 * The old format (one key per file, replaced by rename) is still read, and
 * moved to the two-slot file by the next seal (pa_keys_settle). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include <linux/fs.h>
#include <linux/magic.h>

#include "keys.h"

/* The old format: one file per key. */
#define KEY_MAGIC "PRVAUDKY"
#define KEY_VERSION 1u
#define KEY_ALG "Ed"
/* magic, version, alg(2)+pad(2), key index, log id, pk, sk, origin len, origin, note len, note, checksum */
#define KEY_FIXED (8 + 4 + 4 + 8 + PA_HASH_LEN + crypto_sign_PUBLICKEYBYTES + \
		   crypto_sign_SECRETKEYBYTES + 4 + 4 + PA_HASH_LEN)
#define KEY_FILE_MAX (KEY_FIXED + PA_ORIGIN_MAX + PA_NOTE_MAX)
/* A read of either format. */
#define READ_MAX (KEY_FILE_MAX > PA_KEY_FILE_SIZE ? KEY_FILE_MAX : PA_KEY_FILE_SIZE)

/* A slot of the two-slot file (doc/format.md, "Key file"). */
#define SLOT_MAGIC "PRVAUDK2"
#define SLOT_VERSION 2u
#define SLOT_KEY 1      /* a secret key: the current one, or the next, prepared */
#define SLOT_SPENT 2    /* no key: the note that the key which was here signed */
#define OFF_KIND 14
#define OFF_GEN 16
#define OFF_INDEX 24
#define OFF_LOG_ID 32
#define OFF_PK 64
#define OFF_SK 96
#define OFF_ORIGIN 160  /* origin length, origin, note length, note, SHA-256 */

#ifndef ZFS_SUPER_MAGIC
#define ZFS_SUPER_MAGIC 0x2fc12fc1
#endif
#ifndef BCACHEFS_SUPER_MAGIC
#define BCACHEFS_SUPER_MAGIC 0xca451a4e
#endif

pa_keystate *pa_keys_new(void)
{
	pa_keystate *ks;

	/* Every key path starts here, and sodium_malloc needs the library
	 * initialised; privaudit_open() leaves that until a key is needed. */
	if (sodium_init() < 0)
		return NULL;
	ks = sodium_malloc(sizeof(*ks));
	if (ks != NULL)
		memset(ks, 0, sizeof(*ks));
	return ks;
}

privaudit_status pa_keys_generate(pa_keystate *ks)
{
	return crypto_sign_keypair(ks->pk, ks->sk) == 0 ? PRIVAUDIT_OK : PRIVAUDIT_E_CRYPTO;
}

void pa_keys_free(pa_keystate *ks)
{
	if (ks == NULL)
		return;
	sodium_memzero(ks, sizeof(*ks));
	sodium_free(ks);
}

static unsigned char *secure_buf(size_t len)
{
	unsigned char *b = sodium_malloc(len);

	if (b != NULL)
		memset(b, 0, len);
	return b;
}

static void secure_free(unsigned char *b, size_t len)
{
	if (b == NULL)
		return;
	sodium_memzero(b, len);
	sodium_free(b);
}

static int all_zero(const unsigned char *b, size_t len)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= b[i];
	return acc == 0;
}

/* ------------------------------------------------------------ slots */

/* Encode one slot into b (PA_KEY_SLOT bytes): a KEY slot holds ks's key, a
 * SPENT slot no key and the note.  0 when it does not fit. */
static size_t slot_encode(unsigned char *b, int kind, uint64_t gen, uint64_t index,
			  const pa_keystate *ks, const char *note, size_t note_len)
{
	size_t ol = strnlen(ks->origin, PA_ORIGIN_MAX), p;

	if (ol == 0 || ol >= PA_ORIGIN_MAX ||
	    OFF_ORIGIN + 4 + ol + 4 + note_len + PA_HASH_LEN > PA_KEY_SLOT)
		return 0;
	memset(b, 0, PA_KEY_SLOT);
	memcpy(b, SLOT_MAGIC, 8);
	pa_store32(b + 8, SLOT_VERSION);
	memcpy(b + 12, KEY_ALG, 2);
	b[OFF_KIND] = (unsigned char)kind;
	pa_store64(b + OFF_GEN, gen);
	pa_store64(b + OFF_INDEX, index);
	memcpy(b + OFF_LOG_ID, ks->log_id, PA_HASH_LEN);
	if (kind == SLOT_KEY) {
		memcpy(b + OFF_PK, ks->pk, crypto_sign_PUBLICKEYBYTES);
		memcpy(b + OFF_SK, ks->sk, crypto_sign_SECRETKEYBYTES);
	}
	p = OFF_ORIGIN;
	pa_store32(b + p, (uint32_t)ol);
	p += 4;
	memcpy(b + p, ks->origin, ol);
	p += ol;
	pa_store32(b + p, (uint32_t)note_len);
	p += 4;
	if (note_len > 0)
		memcpy(b + p, note, note_len);
	p += note_len;
	pa_sha256(b + p, b, p);
	return p + PA_HASH_LEN;
}

typedef struct slot_info {
	int kind;                   /* 0: empty (all zero), -1: invalid */
	uint64_t gen, index;
	size_t origin_len, note_off;
	uint32_t note_len;
} slot_info;

static void slot_decode(const unsigned char *b, slot_info *si)
{
	unsigned char sum[PA_HASH_LEN], pk[crypto_sign_PUBLICKEYBYTES];
	size_t p, ol;
	uint32_t nl;

	memset(si, 0, sizeof(*si));
	if (all_zero(b, PA_KEY_SLOT))
		return;
	si->kind = -1;
	if (memcmp(b, SLOT_MAGIC, 8) != 0 || pa_load32(b + 8) != SLOT_VERSION ||
	    memcmp(b + 12, KEY_ALG, 2) != 0 || b[OFF_KIND + 1] != 0 ||
	    (b[OFF_KIND] != SLOT_KEY && b[OFF_KIND] != SLOT_SPENT))
		return;
	ol = pa_load32(b + OFF_ORIGIN);
	if (ol == 0 || ol >= PA_ORIGIN_MAX)
		return;
	p = OFF_ORIGIN + 4 + ol;
	nl = pa_load32(b + p);
	p += 4;
	if (nl > PA_KEY_SLOT - PA_HASH_LEN - p)
		return;
	pa_sha256(sum, b, p + nl);
	if (sodium_memcmp(sum, b + p + nl, PA_HASH_LEN) != 0 ||
	    !all_zero(b + p + nl + PA_HASH_LEN, PA_KEY_SLOT - (p + nl + PA_HASH_LEN)))
		return;
	if (b[OFF_KIND] == SLOT_KEY) {
		/* The secret must match the public half it claims. */
		crypto_sign_ed25519_sk_to_pk(pk, b + OFF_SK);
		if (nl != 0 || sodium_memcmp(pk, b + OFF_PK, sizeof(pk)) != 0)
			return;
	} else if (nl == 0 || !all_zero(b + OFF_PK, OFF_ORIGIN - OFF_PK)) {
		return;
	}
	si->kind = b[OFF_KIND];
	si->gen = pa_load64(b + OFF_GEN);
	si->index = pa_load64(b + OFF_INDEX);
	si->origin_len = ol;
	si->note_off = p;
	si->note_len = nl;
}

/* The current key of a two-slot file, and the note its predecessor signed
 * when the other slot holds it. */
static privaudit_status parse_slots(pa_err *e, const unsigned char *buf, pa_keystate *ks)
{
	slot_info si[2];
	const unsigned char *cur, *other;
	unsigned c;

	slot_decode(buf, &si[0]);
	slot_decode(buf + PA_KEY_SLOT, &si[1]);
	if (si[0].kind == SLOT_KEY && si[1].kind == SLOT_KEY) {
		/* A seal stopped between preparing the next key and retiring
		 * this one: nothing was signed, the older key is current. */
		if (si[0].gen == si[1].gen ||
		    memcmp(buf + OFF_LOG_ID, buf + PA_KEY_SLOT + OFF_LOG_ID, PA_HASH_LEN) != 0)
			return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: two keys of one generation or of two logs");
		c = si[0].gen < si[1].gen ? 0 : 1;
	} else if (si[0].kind == SLOT_KEY) {
		c = 0;
	} else if (si[1].kind == SLOT_KEY) {
		c = 1;
	} else if (si[0].kind == SLOT_SPENT || si[1].kind == SLOT_SPENT) {
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key holds only used keys' notes, no signing key");
	} else {
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad magic, version or checksum");
	}
	cur = buf + (size_t)c * PA_KEY_SLOT;
	other = buf + (size_t)(c ^ 1) * PA_KEY_SLOT;
	ks->key_index = si[c].index;
	ks->gen = si[c].gen;
	ks->slot = c;
	memcpy(ks->log_id, cur + OFF_LOG_ID, PA_HASH_LEN);
	memcpy(ks->pk, cur + OFF_PK, crypto_sign_PUBLICKEYBYTES);
	memcpy(ks->sk, cur + OFF_SK, crypto_sign_SECRETKEYBYTES);
	memcpy(ks->origin, cur + OFF_ORIGIN + 4, si[c].origin_len);
	ks->origin[si[c].origin_len] = '\0';
	ks->note_len = 0;
	/* The previous key's note, retired by the write that made this key
	 * current: its record may not be in the log yet. */
	if (si[c ^ 1].kind == SLOT_SPENT && si[c ^ 1].gen + 1 == ks->gen &&
	    si[c ^ 1].index + 1 == ks->key_index &&
	    memcmp(other + OFF_LOG_ID, ks->log_id, PA_HASH_LEN) == 0 &&
	    si[c ^ 1].note_len <= PA_NOTE_MAX) {
		memcpy(ks->note, other + si[c ^ 1].note_off, si[c ^ 1].note_len);
		ks->note_len = si[c ^ 1].note_len;
	}
	return PRIVAUDIT_OK;
}

/* The old format: the whole file is one key, its length the file's. */
static privaudit_status parse_old(pa_err *e, const unsigned char *buf, size_t len,
				  pa_keystate *ks)
{
	unsigned char sum[PA_HASH_LEN], pk[crypto_sign_PUBLICKEYBYTES];
	size_t p, ol;

	if (len < KEY_FIXED || len > KEY_FILE_MAX)
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: not a key file");
	pa_sha256(sum, buf, len - PA_HASH_LEN);
	if (memcmp(buf, KEY_MAGIC, 8) != 0 || pa_load32(buf + 8) != KEY_VERSION ||
	    memcmp(buf + 12, KEY_ALG, 2) != 0 ||
	    sodium_memcmp(sum, buf + len - PA_HASH_LEN, PA_HASH_LEN) != 0)
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad magic, version or checksum");
	p = 16;
	ks->key_index = pa_load64(buf + p);
	p += 8;
	memcpy(ks->log_id, buf + p, PA_HASH_LEN);
	p += PA_HASH_LEN;
	memcpy(ks->pk, buf + p, crypto_sign_PUBLICKEYBYTES);
	p += crypto_sign_PUBLICKEYBYTES;
	memcpy(ks->sk, buf + p, crypto_sign_SECRETKEYBYTES);
	p += crypto_sign_SECRETKEYBYTES;
	ol = pa_load32(buf + p);
	p += 4;
	if (ol == 0 || ol >= PA_ORIGIN_MAX || p + ol + 4 + PA_HASH_LEN > len)
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad origin");
	memcpy(ks->origin, buf + p, ol);
	ks->origin[ol] = '\0';
	p += ol;
	ks->note_len = pa_load32(buf + p);
	p += 4;
	if (ks->note_len > PA_NOTE_MAX || p + ks->note_len + PA_HASH_LEN != len)
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: bad note length");
	memcpy(ks->note, buf + p, ks->note_len);
	crypto_sign_ed25519_sk_to_pk(pk, ks->sk);
	if (sodium_memcmp(pk, ks->pk, sizeof(pk)) != 0)
		return pa_fail(e, PRIVAUDIT_E_KEY, "log.key: secret and public key differ");
	ks->gen = 1;
	ks->slot = 0;
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ filesystems */

static int fs_has_nocow(unsigned long type)
{
	return type == BTRFS_SUPER_MAGIC || type == BCACHEFS_SUPER_MAGIC;
}

static int get_flags(int fd, int *flags)
{
	*flags = 0;
	return ioctl(fd, FS_IOC_GETFLAGS, flags);
}

/* Make fd, still empty, overwrite in place where its filesystem is
 * copy-on-write but can be told not to be (the flag is taken only while a
 * file has no data).  1 when fd now overwrites in place as far as the
 * filesystem goes. */
static int make_nocow(int fd)
{
	struct statfs sf;
	int flags;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	if (!fs_has_nocow((unsigned long)sf.f_type))
		return 1;   /* the rest is pa_keys_erasure_risk's to say */
	if (get_flags(fd, &flags) < 0)
		return 0;
	if (!(flags & FS_NOCOW_FL)) {
		flags |= FS_NOCOW_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 || get_flags(fd, &flags) < 0)
			return 0;
	}
	return (flags & FS_NOCOW_FL) != 0;
}

/* Copy-on-write, where a file made anew could be NOCOW. */
static int cow_fixable(int fd)
{
	struct statfs sf;
	int flags;

	if (fstatfs(fd, &sf) < 0 || !fs_has_nocow((unsigned long)sf.f_type))
		return 0;
	return get_flags(fd, &flags) == 0 && !(flags & FS_NOCOW_FL);
}

/* ext3/ext4 mounted data=journal (from the super options in mountinfo). */
static int journals_data(dev_t dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		const char *sep;

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 || makedev(maj, min) != dev)
			continue;
		sep = strstr(line, " - ");
		found = sep != NULL && strstr(sep, "data=journal") != NULL;
	}
	free(line);
	fclose(f);
	return found;
}

int pa_keys_erasure_risk(int dirfd, char *why, size_t len)
{
	static const char tail[] = ", where a root insider who reads the raw device can find them "
				   "and re-sign sealed records; ";
	struct statfs sf;
	struct stat sb;
	const char *fs = NULL, *what = NULL, *fix = NULL;
	int fd, flags = 0;

	if (len > 0)
		why[0] = '\0';
	fd = openat(dirfd, PA_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &sb) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	(void)get_flags(fd, &flags);
	close(fd);
	switch ((unsigned long)sf.f_type) {
	case BTRFS_SUPER_MAGIC:
	case BCACHEFS_SUPER_MAGIC:
		if (flags & FS_NOCOW_FL)
			return 0;
		fs = sf.f_type == BTRFS_SUPER_MAGIC ? "btrfs" : "bcachefs";
		what = "copy-on-write (it could not be made NOCOW), so every erased key stays "
		       "on the device in blocks the filesystem no longer uses";
		fix = "make the log directory NOCOW (chattr +C) and seal again, or keep it on "
		      "ext4 or xfs";
		break;
	case ZFS_SUPER_MAGIC:
		fs = "ZFS";
		what = "copy-on-write, so every erased key stays on the pool (and in any "
		       "snapshot) in blocks it no longer uses";
		fix = "keep the log directory on ext4 or xfs, on a disk or partition outside "
		      "ZFS";
		break;
	case F2FS_SUPER_MAGIC:
	case NILFS_SUPER_MAGIC:
		fs = sf.f_type == F2FS_SUPER_MAGIC ? "F2FS" : "NILFS2";
		what = "log-structured, so every erased key stays on the device in blocks it "
		       "no longer uses";
		fix = "keep the log directory on ext4 or xfs";
		break;
	case EXT4_SUPER_MAGIC:
		if (!(flags & FS_JOURNAL_DATA_FL) && !journals_data(sb.st_dev))
			return 0;
		fs = "ext4";
		what = "journalling file data (data=journal or chattr +j), so every key written "
		       "passes through the journal, where erased keys stay until it wraps";
		fix = "mount it with data=ordered (the default) and chattr -j log.key";
		break;
	default:
		return 0;
	}
	snprintf(why, len, "log.key is on %s, %s%s%s (privaudit-log(5), \"Key file\")", fs, what,
		 tail, fix);
	return 1;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_key_erasure_check(const char *dir, char *why,
							      size_t why_len)
{
	int dirfd, r, err;

	if (dir == NULL || why == NULL || why_len == 0)
		return PRIVAUDIT_E_INVAL;
	why[0] = '\0';
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
	r = pa_keys_erasure_risk(dirfd, why, why_len);
	err = errno;
	close(dirfd);
	if (r < 0)
		return err == ENOENT ? PRIVAUDIT_E_NOLOG : PRIVAUDIT_E_IO;
	return PRIVAUDIT_OK;
}

/* ------------------------------------------------------------ files */

static privaudit_status sync_dir(pa_err *e, int dirfd)
{
	return fsync(dirfd) < 0 ? pa_fail_errno(e, "fsync", "log directory") : PRIVAUDIT_OK;
}

/* Overwrite a file's bytes in place with zeros, durably, then remove it. */
static privaudit_status wipe_unlink(pa_err *e, int dirfd, const char *name)
{
	static const unsigned char zero[PA_KEY_SLOT];
	privaudit_status st = PRIVAUDIT_OK;
	struct stat sb;
	off_t off;
	int fd;

	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return PRIVAUDIT_OK;
		if (errno != ELOOP)   /* a symlink holds no key: just remove it */
			return pa_fail_errno(e, "open", name);
	} else {
		if (fstat(fd, &sb) < 0) {
			st = pa_fail_errno(e, "stat", name);
			close(fd);
			return st;
		}
		for (off = 0; S_ISREG(sb.st_mode) && off < sb.st_size; off += (off_t)sizeof(zero)) {
			size_t n = sb.st_size - off < (off_t)sizeof(zero) ? (size_t)(sb.st_size - off)
									: sizeof(zero);

			if (pa_pwrite_full(fd, zero, n, off) < 0)
				break;
		}
		if (S_ISREG(sb.st_mode) && (off < sb.st_size || fdatasync(fd) < 0))
			st = pa_fail_errno(e, "wipe", name);
		close(fd);
		if (st != PRIVAUDIT_OK)
			return st;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return pa_fail_errno(e, "unlink", name);
	return sync_dir(e, dirfd);
}

/* Create name (it must not exist) with the two slots in buf, NOCOW where
 * the filesystem needs and has it, written whole and durably.  With
 * only_nocow, a file that cannot be NOCOW is removed while still empty
 * (*nocow 0, PRIVAUDIT_OK). */
static privaudit_status create_file(pa_err *e, int dirfd, const char *name,
				    const unsigned char *buf, int only_nocow, int *nocow, dev_t *dev,
				    ino_t *ino)
{
	privaudit_status st;
	struct stat sb;
	int fd;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pa_fail_errno(e, "create", name);
	/* Before the first byte: the flag is taken only by an empty file. */
	*nocow = make_nocow(fd);
	if (only_nocow && !*nocow) {
		close(fd);
		if (unlinkat(dirfd, name, 0) < 0)
			return pa_fail_errno(e, "unlink", name);
		return PRIVAUDIT_OK;
	}
	/* Every block written now (no unwritten extents, no holes): later
	 * writes overwrite these very blocks. */
	if (fchmod(fd, 0600) < 0 || pa_pwrite_full(fd, buf, PA_KEY_FILE_SIZE, 0) < 0 ||
	    fdatasync(fd) < 0 || fstat(fd, &sb) < 0) {
		st = pa_fail_errno(e, "write", name);
		close(fd);
		(void)wipe_unlink(NULL, dirfd, name);   /* what did land holds a key */
		return st;
	}
	close(fd);
	if (dev != NULL)
		*dev = sb.st_dev;
	if (ino != NULL)
		*ino = sb.st_ino;
	st = sync_dir(e, dirfd);
	if (st != PRIVAUDIT_OK)
		(void)wipe_unlink(NULL, dirfd, name);
	return st;
}

/* Overwrite one slot of log.key in place, durably.  owner is the key the
 * file was loaded with: the file must still be that one. */
static privaudit_status write_slot(pa_err *e, int dirfd, const pa_keystate *owner, unsigned slot,
				   const unsigned char *buf)
{
	privaudit_status st = PRIVAUDIT_OK;
	struct stat sb;
	int fd;

	if (owner->from != PA_KEYS_FROM_SLOTS)
		return pa_fail(e, PRIVAUDIT_E_STATE, "log.key is not in the two-slot format yet");
	fd = openat(dirfd, PA_KEY_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return pa_fail_errno(e, "open", PA_KEY_FILE);
	if (fstat(fd, &sb) < 0) {
		st = pa_fail_errno(e, "stat", PA_KEY_FILE);
	} else if (!S_ISREG(sb.st_mode) || sb.st_size != (off_t)PA_KEY_FILE_SIZE ||
		   sb.st_dev != owner->dev || sb.st_ino != owner->ino) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key was replaced since it was read");
	} else if (pa_pwrite_full(fd, buf, PA_KEY_SLOT, (off_t)slot * PA_KEY_SLOT) < 0 ||
		   fdatasync(fd) < 0) {
		st = pa_fail_errno(e, "write", PA_KEY_FILE);
	}
	close(fd);
	return st;
}

/* ------------------------------------------------------------ keys */

privaudit_status pa_keys_create(pa_err *e, int dirfd, const pa_keystate *ks)
{
	unsigned char *buf = secure_buf(PA_KEY_FILE_SIZE);
	privaudit_status st;
	int nocow;

	if (buf == NULL)
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
	if (slot_encode(buf, SLOT_KEY, 1, ks->key_index, ks, NULL, 0) == 0)
		st = pa_fail(e, PRIVAUDIT_E_INVAL, "key state too large");
	else
		st = create_file(e, dirfd, PA_KEY_FILE, buf, 0, &nocow, NULL, NULL);
	secure_free(buf, PA_KEY_FILE_SIZE);
	return st;
}

static privaudit_status load_file(pa_err *e, int dirfd, const char *name, pa_keystate *ks)
{
	unsigned char *buf = NULL;
	privaudit_status st = PRIVAUDIT_E_KEY;
	struct stat sb;
	size_t len;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? pa_fail(e, PRIVAUDIT_E_KEY,
						 "no signing key (%s) in the log directory", name)
				       : pa_fail_errno(e, "open", name);
	if (fstat(fd, &sb) < 0) {
		st = pa_fail_errno(e, "stat", name);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size < 8 ||
	    (sb.st_size > (off_t)KEY_FILE_MAX && sb.st_size != (off_t)PA_KEY_FILE_SIZE)) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "%s: not a key file", name);
		goto out;
	}
	len = (size_t)sb.st_size;
	buf = secure_buf(READ_MAX);
	if (buf == NULL) {
		st = pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
		goto out;
	}
	if (pa_pread_full(fd, buf, len, 0) < 0) {
		st = pa_fail_errno(e, "read", name);
		goto out;
	}
	if (memcmp(buf, KEY_MAGIC, 8) == 0) {
		st = parse_old(e, buf, len, ks);
		ks->from = PA_KEYS_FROM_OLD;
	} else if (len == PA_KEY_FILE_SIZE) {
		st = parse_slots(e, buf, ks);
		ks->from = PA_KEYS_FROM_SLOTS;
	} else {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "%s: not a key file", name);
	}
	ks->dev = sb.st_dev;
	ks->ino = sb.st_ino;
	ks->cow_fixable = cow_fixable(fd);
out:
	if (buf != NULL)
		secure_free(buf, READ_MAX);
	close(fd);
	if (st != PRIVAUDIT_OK)
		sodium_memzero(ks, sizeof(*ks));
	return st;
}

privaudit_status pa_keys_load(pa_err *e, int dirfd, pa_keystate *ks)
{
	privaudit_status st = load_file(e, dirfd, PA_KEY_FILE, ks);

	if (st == PRIVAUDIT_OK) {
		ks->stale_new = faccessat(dirfd, PA_KEY_NEW_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		return PRIVAUDIT_OK;
	}
	/* A move of log.key stopped after its copy was made (pa_keys_settle):
	 * the copy is the key.  Only the two-slot format is ever written there. */
	if (load_file(NULL, dirfd, PA_KEY_NEW_FILE, ks) == PRIVAUDIT_OK) {
		if (ks->from == PA_KEYS_FROM_SLOTS) {
			ks->from = PA_KEYS_FROM_NEW;
			return PRIVAUDIT_OK;
		}
		sodium_memzero(ks, sizeof(*ks));
	}
	return st;
}

/* Give the current key a fresh two-slot log.key, without renaming a file
 * (whose old blocks would keep what they held) and without a moment when
 * no file holds it:
 *   1. log.key.new with the key, durably (NOCOW where that is possible);
 *   2. log.key overwritten with zeros in place, durably, and removed;
 *   3. log.key made anew from the same bytes, durably;
 *   4. log.key.new overwritten with zeros, durably, and removed.
 * pa_keys_load takes log.key.new when log.key is gone or unreadable (after
 * 2), and settling again finishes from 2.  No key is signed with until
 * this is done, so a leftover copy is of the current key, wiped here. */
static privaudit_status move_key_file(pa_err *e, int dirfd, pa_keystate *ks)
{
	unsigned char *buf = secure_buf(PA_KEY_FILE_SIZE);
	privaudit_status st = PRIVAUDIT_OK;
	uint64_t gen = ks->gen > 0 ? ks->gen : 1;
	dev_t dev;
	ino_t ino;
	int nocow;

	if (buf == NULL)
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
	if (slot_encode(buf, SLOT_KEY, gen, ks->key_index, ks, NULL, 0) == 0) {
		st = pa_fail(e, PRIVAUDIT_E_KEY, "log.key: key state too large");
		goto out;
	}
	/* The note, when it fits (an old-format note always does unless
	 * forged): its record is in the log by now, this keeps it visible. */
	if (ks->note_len > 0 && ks->key_index > 0)
		(void)slot_encode(buf + PA_KEY_SLOT, SLOT_SPENT, gen - 1, ks->key_index - 1, ks,
				  ks->note, ks->note_len);
	if (ks->from != PA_KEYS_FROM_NEW) {
		st = wipe_unlink(e, dirfd, PA_KEY_NEW_FILE);
		/* Moved only to become NOCOW: not when a new file cannot
		 * be either (it stays; pa_keys_erasure_risk warns). */
		if (st == PRIVAUDIT_OK)
			st = create_file(e, dirfd, PA_KEY_NEW_FILE, buf,
					 ks->from == PA_KEYS_FROM_SLOTS, &nocow, NULL, NULL);
		if (st != PRIVAUDIT_OK)
			goto out;
		if (ks->from == PA_KEYS_FROM_SLOTS && !nocow) {
			ks->cow_fixable = 0;
			ks->stale_new = 0;
			goto out;
		}
	}
	st = wipe_unlink(e, dirfd, PA_KEY_FILE);
	if (st == PRIVAUDIT_OK)
		st = create_file(e, dirfd, PA_KEY_FILE, buf, 0, &nocow, &dev, &ino);
	if (st == PRIVAUDIT_OK)
		st = wipe_unlink(e, dirfd, PA_KEY_NEW_FILE);
	if (st != PRIVAUDIT_OK)
		goto out;
	ks->from = PA_KEYS_FROM_SLOTS;
	ks->gen = gen;
	ks->slot = 0;
	ks->dev = dev;
	ks->ino = ino;
	ks->stale_new = 0;
	ks->cow_fixable = 0;
out:
	secure_free(buf, PA_KEY_FILE_SIZE);
	return st;
}

privaudit_status pa_keys_settle(pa_err *e, int dirfd, pa_keystate *ks)
{
	if (ks->from == PA_KEYS_FROM_SLOTS && !ks->cow_fixable) {
		if (!ks->stale_new)
			return PRIVAUDIT_OK;
		ks->stale_new = 0;
		return wipe_unlink(e, dirfd, PA_KEY_NEW_FILE);
	}
	return move_key_file(e, dirfd, ks);
}

privaudit_status pa_keys_prepare(pa_err *e, int dirfd, const pa_keystate *cur,
				 pa_keystate *next)
{
	unsigned char *buf = secure_buf(PA_KEY_SLOT);
	privaudit_status st;

	if (buf == NULL)
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
	next->gen = cur->gen + 1;
	next->slot = cur->slot ^ 1u;
	next->from = cur->from;
	next->dev = cur->dev;
	next->ino = cur->ino;
	if (slot_encode(buf, SLOT_KEY, next->gen, next->key_index, next, NULL, 0) == 0)
		st = pa_fail(e, PRIVAUDIT_E_INVAL, "key state too large");
	else
		st = write_slot(e, dirfd, cur, next->slot, buf);
	secure_free(buf, PA_KEY_SLOT);
	return st;
}

privaudit_status pa_keys_retire(pa_err *e, int dirfd, const pa_keystate *cur, const char *note,
				size_t note_len)
{
	unsigned char *buf = secure_buf(PA_KEY_SLOT);
	privaudit_status st;

	if (buf == NULL)
		return pa_fail(e, PRIVAUDIT_E_NOMEM, "out of secure memory");
	if (slot_encode(buf, SLOT_SPENT, cur->gen, cur->key_index, cur, note, note_len) == 0) {
		st = pa_fail(e, PRIVAUDIT_E_NOTE, "checkpoint note too long for log.key");
		goto out;
	}
	st = write_slot(e, dirfd, cur, cur->slot, buf);
	if (st != PRIVAUDIT_OK && slot_encode(buf, SLOT_KEY, cur->gen, cur->key_index, cur, NULL, 0) > 0) {
		/* The signature may be in the page cache while the key is still
		 * on the device: put the key back, so that the note is never
		 * read back without its erasure (the caller drops the note). */
		(void)write_slot(NULL, dirfd, cur, cur->slot, buf);
	}
out:
	secure_free(buf, PA_KEY_SLOT);
	return st;
}
