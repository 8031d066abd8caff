/* SPDX-License-Identifier: ISC */
/* gen-proofs.c: fuzz_proof.c inputs made from a real log (make-corpus.sh):
 * the leaf hashes of the segments given, inclusion and consistency proofs
 * the library makes for some of them, and entries for the round-trip mode.
 *   gen-proofs OUTDIR SEGMENT... */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "merkle.h"
#include "segment.h"

#define MAX_LEAVES 4096

static unsigned char leaves[MAX_LEAVES][PA_HASH_LEN];
static unsigned char *entries[MAX_LEAVES];
static size_t entry_len[MAX_LEAVES];
static uint64_t nleaves;

static void be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static int put(const char *dir, const char *name, const unsigned char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

static int read_segment(const char *path)
{
	struct stat sb;
	pa_segreader r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) < 0 ||
	    pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)sb.st_size) != PRIVAUDIT_OK) {
		perror(path);
		return -1;
	}
	while (nleaves < MAX_LEAVES) {
		const unsigned char *e;
		size_t len;
		uint64_t off;

		if (pa_segreader_next(&r, &e, &len, &off) != PA_FRAME_OK)
			break;
		pa_hash_leaf(leaves[nleaves], e, len);
		entries[nleaves] = malloc(len);
		if (entries[nleaves] == NULL)
			return -1;
		memcpy(entries[nleaves], e, len);
		entry_len[nleaves++] = len;
	}
	pa_segreader_free(&r);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 + 16 + 2 * PA_HASH_LEN + PA_PROOF_MAX * PA_HASH_LEN + 65536];
	unsigned char path[PA_PROOF_MAX][PA_HASH_LEN], r1[PA_HASH_LEN], r2[PA_HASH_LEN];
	const unsigned char (*lv)[PA_HASH_LEN] = (const unsigned char (*)[PA_HASH_LEN])leaves;
	char name[64];
	int files = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: gen-proofs OUTDIR SEGMENT...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		if (read_segment(argv[i]) < 0)
			return 1;
	if (nleaves == 0) {
		fprintf(stderr, "gen-proofs: no records\n");
		return 1;
	}
	/* A few tree sizes and positions: edges, middles, powers of two. */
	for (uint64_t n = 1; n <= nleaves; n = n < 4 ? n + 1 : n * 2 + 1) {
		uint64_t ms[3] = { 0, n / 2, n - 1 };

		pa_merkle_root(lv, 0, n, r2);
		for (int k = 0; k < 3; k++) {
			uint64_t m = ms[k];
			int c;
			size_t len;

			if (k > 0 && m == ms[k - 1])
				continue;
			c = pa_merkle_inclusion_proof(lv, n, m, path);
			buf[0] = 0;
			be64(buf + 1, m);
			be64(buf + 9, n);
			memcpy(buf + 17, leaves[m], PA_HASH_LEN);
			memcpy(buf + 17 + PA_HASH_LEN, r2, PA_HASH_LEN);
			memcpy(buf + 17 + 2 * PA_HASH_LEN, path, (size_t)c * PA_HASH_LEN);
			len = 17 + 2 * PA_HASH_LEN + (size_t)c * PA_HASH_LEN;
			snprintf(name, sizeof(name), "inclusion-%llu-%llu", (unsigned long long)m,
				 (unsigned long long)n);
			if (put(argv[1], name, buf, len) < 0)
				return 1;
			files++;

			if (m == 0)
				continue;
			pa_merkle_root(lv, 0, m, r1);
			c = pa_merkle_consistency_proof(lv, n, m, path);
			buf[0] = 1;
			be64(buf + 1, m);
			be64(buf + 9, n);
			memcpy(buf + 17, r1, PA_HASH_LEN);
			memcpy(buf + 17 + PA_HASH_LEN, r2, PA_HASH_LEN);
			memcpy(buf + 17 + 2 * PA_HASH_LEN, path, (size_t)c * PA_HASH_LEN);
			len = 17 + 2 * PA_HASH_LEN + (size_t)c * PA_HASH_LEN;
			snprintf(name, sizeof(name), "consistency-%llu-%llu", (unsigned long long)m,
				 (unsigned long long)n);
			if (put(argv[1], name, buf, len) < 0)
				return 1;
			files++;
		}
	}
	/* Round-trip inputs: the first entries of the log, equal-sized pieces. */
	for (uint64_t n = 1; n <= nleaves && n <= 256; n = n * 3 + 1) {
		size_t chunk = entry_len[0], len = 3;

		for (uint64_t i = 1; i < n; i++)
			if (entry_len[i] < chunk)
				chunk = entry_len[i];
		if (chunk > 64)
			chunk = 64;
		buf[0] = 2;
		buf[1] = (unsigned char)(n - 1);
		buf[2] = (unsigned char)(n / 2);
		for (uint64_t i = 0; i < n && len + chunk <= sizeof(buf); i++, len += chunk)
			memcpy(buf + len, entries[i], chunk);
		snprintf(name, sizeof(name), "roundtrip-%llu", (unsigned long long)n);
		if (put(argv[1], name, buf, len) < 0)
			return 1;
		files++;
	}
	for (uint64_t i = 0; i < nleaves; i++)
		free(entries[i]);
	printf("gen-proofs: %d inputs from %llu records\n", files, (unsigned long long)nleaves);
	return 0;
}
