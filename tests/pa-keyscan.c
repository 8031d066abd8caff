/* SPDX-License-Identifier: ISC */
/* pa-keyscan.c: a test helper for tests/key-erasure.sh, never installed:
 * it shows secret key bytes, which nothing privaudit installs ever does.
 *   pa-keyscan written TRACE      the secret seed (hex) of every key slot
 *                                 written in an strace log made with
 *                                 -e write=all (log.key's pwrite64 calls;
 *                                 the old one-key format's writes too)
 *   pa-keyscan keys DIR           the seeds log.key holds now: "current
 *                                 HEX", and "prepared HEX" for a next key
 *                                 that a stopped seal left unused
 *   pa-keyscan scan IMAGE HEX...  "HEX COUNT" for each seed: how often it
 *                                 occurs in IMAGE (a raw filesystem image) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "keys.h"

#define SEED 32
/* slot layout (doc/format.md, "Key file"): kind at 14, pk at 64, sk at 96 */
#define OFF_KIND 14
#define OFF_PK 64
#define OFF_SK 96

static void print_seed(const char *tag, const unsigned char *sk)
{
	if (tag != NULL)
		printf("%s ", tag);
	for (int i = 0; i < SEED; i++)
		printf("%02x", sk[i]);
	putchar('\n');
}

/* A well-formed KEY slot's secret matches its public key. */
static int is_key_slot(const unsigned char *b, size_t len)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	if (len < OFF_SK + crypto_sign_SECRETKEYBYTES || memcmp(b, "PRVAUDK2", 8) != 0 ||
	    b[OFF_KIND] != 1)
		return 0;
	crypto_sign_ed25519_sk_to_pk(pk, b + OFF_SK);
	return memcmp(pk, b + OFF_PK, sizeof(pk)) == 0;
}

/* The old one-key format (keys.c): public key at 56, secret at 88. */
static int is_old_key(const unsigned char *b, size_t len)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	if (len < 88 + crypto_sign_SECRETKEYBYTES || memcmp(b, "PRVAUDKY", 8) != 0)
		return 0;
	crypto_sign_ed25519_sk_to_pk(pk, b + 88);
	return memcmp(pk, b + 56, sizeof(pk)) == 0;
}

static void slots_in(const unsigned char *buf, size_t len, const char *tag)
{
	if (is_old_key(buf, len)) {
		print_seed(tag, buf + 88);
		return;
	}
	for (size_t off = 0; off < len; off += PA_KEY_SLOT)
		if (is_key_slot(buf + off, len - off))
			print_seed(tag, buf + off + OFF_SK);
}

/* strace -e write=all dumps each call's bytes as lines
 * " | 00010  xx xx ... xx  ascii |" after the call's line. */
static int cmd_written(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned char *buf = NULL;
	size_t cap = 0, len = 0, lcap = 0;
	char *line = NULL;

	if (f == NULL) {
		perror(path);
		return 2;
	}
	for (;;) {
		ssize_t n = getline(&line, &lcap, f);
		unsigned long off;
		char *p;

		if (n < 0 || strncmp(line, " | ", 3) != 0) {
			slots_in(buf, len, NULL);   /* the dump before ends here */
			len = 0;
			if (n < 0)
				break;
			continue;
		}
		off = strtoul(line + 3, &p, 16);
		for (int i = 0; i < 16; i++) {
			char *q;
			unsigned long v;

			while (*p == ' ')
				p++;
			v = strtoul(p, &q, 16);
			if (q - p != 2)
				break;
			if (off + (size_t)i + 1 > cap) {
				cap = (off + 16) * 2;
				buf = realloc(buf, cap);
				if (buf == NULL)
					return 2;
			}
			buf[off + (size_t)i] = (unsigned char)v;
			if (off + (size_t)i + 1 > len)
				len = off + (size_t)i + 1;
			p = q;
		}
	}
	free(line);
	free(buf);
	fclose(f);
	return 0;
}

static int read_all(const char *path, unsigned char *buf, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf + *len, max - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	return n < 0 ? -1 : 0;
}

static int cmd_keys(const char *dir)
{
	unsigned char buf[PA_KEY_FILE_SIZE];
	char path[4096];
	pa_keystate *ks = pa_keys_new();
	pa_err e;
	size_t len;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (ks == NULL || dirfd < 0 || pa_keys_load(&e, dirfd, ks) != PRIVAUDIT_OK) {
		fprintf(stderr, "pa-keyscan: %s: no current key\n", dir);
		return 1;
	}
	print_seed("current", ks->sk);
	snprintf(path, sizeof(path), "%s/%s", dir,
		 ks->from == PA_KEYS_FROM_NEW ? PA_KEY_NEW_FILE : PA_KEY_FILE);
	if (read_all(path, buf, sizeof(buf), &len) == 0 && len == sizeof(buf)) {
		unsigned char *other = buf + (size_t)(ks->slot ^ 1u) * PA_KEY_SLOT;

		if (is_key_slot(other, PA_KEY_SLOT) && memcmp(other + OFF_SK, ks->sk, SEED) != 0)
			print_seed("prepared", other + OFF_SK);
	}
	sodium_memzero(buf, sizeof(buf));
	pa_keys_free(ks);
	close(dirfd);
	return 0;
}

static int unhex(const char *s, unsigned char out[SEED])
{
	size_t bin_len;

	return sodium_hex2bin(out, SEED, s, strlen(s), NULL, &bin_len, NULL) == 0 && bin_len == SEED
		       ? 0 : -1;
}

static unsigned char first[65536 / 8];   /* 16-bit prefixes of the seeds */

static void scan_buf(const unsigned char *b, size_t len, int n, unsigned char (*seed)[SEED],
		     unsigned long *count)
{
	for (size_t i = 0; i + SEED <= len; i++) {
		if (!(first[(b[i] << 5) | (b[i + 1] >> 3)] & (1u << (b[i + 1] & 7))))
			continue;
		for (int k = 0; k < n; k++)
			if (memcmp(b + i, seed[k], SEED) == 0)
				count[k]++;
	}
}

static int cmd_scan(const char *path, int n, char **hex)
{
	enum { CHUNK = 1 << 20 };
	unsigned char (*seed)[SEED] = calloc((size_t)n + 1, SEED);
	unsigned long *count = calloc((size_t)n + 1, sizeof(*count));
	unsigned char *buf = malloc(CHUNK + SEED);
	off_t data = 0, hole;
	int fd;

	if (seed == NULL || count == NULL || buf == NULL)
		return 2;
	for (int i = 0; i < n; i++) {
		if (unhex(hex[i], seed[i]) < 0) {
			fprintf(stderr, "pa-keyscan: not a 32-byte hex seed: %s\n", hex[i]);
			return 2;
		}
		first[(seed[i][0] << 5) | (seed[i][1] >> 3)] |= (unsigned char)(1u << (seed[i][1] & 7));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	/* Every byte offset of every part of the image that holds data (a
	 * hole reads as zeros): a key slot is block-aligned, but a copy of
	 * one (a journal, a log tree) need not be.  Chunks overlap by a seed
	 * less one byte, so that none is missed or counted twice. */
	while ((data = lseek(fd, data, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		for (off_t off = data; off < hole;) {
			size_t want = hole - off > CHUNK + SEED - 1 ? CHUNK + SEED - 1 : (size_t)(hole - off);
			ssize_t got = pread(fd, buf, want, off);

			if (got <= 0) {
				perror("pread");
				return 2;
			}
			scan_buf(buf, (size_t)got, n, seed, count);
			if ((size_t)got < SEED || off + got >= hole)
				break;
			off += got - (SEED - 1);
		}
		data = hole;
	}
	if (errno != ENXIO && data < 0) {
		perror("lseek");
		return 2;
	}
	for (int k = 0; k < n; k++)
		printf("%s %lu\n", hex[k], count[k]);
	close(fd);
	free(buf);
	free(seed);
	free(count);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 2;
	if (argc == 3 && strcmp(argv[1], "written") == 0)
		return cmd_written(argv[2]);
	if (argc == 3 && strcmp(argv[1], "keys") == 0)
		return cmd_keys(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "scan") == 0)
		return cmd_scan(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: pa-keyscan written TRACE | keys DIR | scan IMAGE HEX...\n");
	return 2;
}
