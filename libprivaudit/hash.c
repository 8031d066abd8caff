/* SPDX-License-Identifier: ISC */
/* hash.c: SHA-256 (FIPS 180-4) for the Merkle tree, in-house: the x86 SHA
 * extensions when the CPU has them, portable C otherwise.  Hashing is most
 * of the cost of appending and verifying, and an external crypto library
 * would be loaded and relocated in every process that opens a PAM session
 * (libcrypto alone costs each sudo or login about 2.5 ms); this file is
 * small and tested against the published vectors and libsodium. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define PA_SHA_X86 1
#endif

#include "hash.h"

struct pa_sha_ctx {
	uint32_t h[8];
	uint64_t len;             /* bytes so far */
	unsigned char buf[64];
	size_t used;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static const uint32_t H0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* ------------------------------------------------------------ portable */

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n > 0; n--, p += 64) {
		uint32_t w[64], a, b, c, d, e, f, g, hh;

		for (int i = 0; i < 16; i++)
			w[i] = load_be32(p + 4 * i);
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
				      K[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
}

/* ------------------------------------------------------------ SHA-NI */

#ifdef PA_SHA_X86
/* The SHA extensions keep the state as two vectors, ABEF and CDGH; each
 * sha256rnds2 does two rounds, each group of four message words feeds two
 * of them, and sha256msg1/msg2 extend the schedule four words at a time. */
#define PA_SHANI __attribute__((target("sha,sse4.1,ssse3")))

PA_SHANI static inline void shani_load(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[0]), 0xB1);
	__m128i c = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[4]), 0x1B);

	*abef = _mm_alignr_epi8(t, c, 8);
	*cdgh = _mm_blend_epi16(c, t, 0xF0);
}

PA_SHANI static inline void shani_store(uint32_t h[8], __m128i abef, __m128i cdgh)
{
	__m128i t = _mm_shuffle_epi32(abef, 0x1B);

	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)(void *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0));
	_mm_storeu_si128((__m128i *)(void *)&h[4], _mm_alignr_epi8(cdgh, t, 8));
}

/* The 64-byte block at p as four groups of big-endian message words. */
PA_SHANI static inline void shani_words(const unsigned char *p, __m128i w[4])
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	const __m128i *in = (const __m128i *)(const void *)p;

	for (int i = 0; i < 4; i++)
		w[i] = _mm_shuffle_epi8(_mm_loadu_si128(in + i), bswap);
}

/* The schedule's next four words, made from the four groups before them. */
#define SHA_SCHEDULE(w0, w1, w2, w3)                                              \
	(w0) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1),    \
						  _mm_alignr_epi8(w3, w2, 4)), \
				    w3)

PA_SHANI static void blocks_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	__m128i abef, cdgh;

	shani_load(h, &abef, &cdgh);
/* Four rounds on the message words in w. */
#define SHA_ROUNDS4(w, k)                                                         \
	do {                                                                      \
		__m128i m_ = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(const void *)(k))); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                       \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0E)); \
	} while (0)

	for (; n > 0; n--, p += 64) {
		__m128i w[4], abef0 = abef, cdgh0 = cdgh;

		shani_words(p, w);
		SHA_ROUNDS4(w[0], &K[0]);
		SHA_ROUNDS4(w[1], &K[4]);
		SHA_ROUNDS4(w[2], &K[8]);
		SHA_ROUNDS4(w[3], &K[12]);
		for (int i = 16; i < 64; i += 16) {
			SHA_SCHEDULE(w[0], w[1], w[2], w[3]);
			SHA_ROUNDS4(w[0], &K[i]);
			SHA_SCHEDULE(w[1], w[2], w[3], w[0]);
			SHA_ROUNDS4(w[1], &K[i + 4]);
			SHA_SCHEDULE(w[2], w[3], w[0], w[1]);
			SHA_ROUNDS4(w[2], &K[i + 8]);
			SHA_SCHEDULE(w[3], w[0], w[1], w[2]);
			SHA_ROUNDS4(w[3], &K[i + 12]);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
#undef SHA_ROUNDS4
	shani_store(h, abef, cdgh);
}

/* Two independent runs of n blocks at once.  One stream waits on the
 * latency of sha256rnds2 (each round pair needs the one before), about two
 * cycles a byte; the other stream's rounds fill those waits. */
PA_SHANI static void blocks_shani_x2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
				     const unsigned char *pb, size_t n)
{
	__m128i abef_a, cdgh_a, abef_b, cdgh_b;

	shani_load(ha, &abef_a, &cdgh_a);
	shani_load(hb, &abef_b, &cdgh_b);
#define SHA_ROUNDS4_X2(wa, wb, k)                                                 \
	do {                                                                      \
		__m128i k_ = _mm_loadu_si128((const __m128i *)(const void *)(k));   \
		__m128i ma_ = _mm_add_epi32(wa, k_), mb_ = _mm_add_epi32(wb, k_);   \
		cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, ma_);                \
		cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, mb_);                \
		abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, _mm_shuffle_epi32(ma_, 0x0E)); \
		abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(mb_, 0x0E)); \
	} while (0)

	for (; n > 0; n--, pa += 64, pb += 64) {
		__m128i a[4], b[4];
		__m128i abef_a0 = abef_a, cdgh_a0 = cdgh_a, abef_b0 = abef_b, cdgh_b0 = cdgh_b;

		shani_words(pa, a);
		shani_words(pb, b);
		SHA_ROUNDS4_X2(a[0], b[0], &K[0]);
		SHA_ROUNDS4_X2(a[1], b[1], &K[4]);
		SHA_ROUNDS4_X2(a[2], b[2], &K[8]);
		SHA_ROUNDS4_X2(a[3], b[3], &K[12]);
		for (int i = 16; i < 64; i += 16) {
			SHA_SCHEDULE(a[0], a[1], a[2], a[3]);
			SHA_SCHEDULE(b[0], b[1], b[2], b[3]);
			SHA_ROUNDS4_X2(a[0], b[0], &K[i]);
			SHA_SCHEDULE(a[1], a[2], a[3], a[0]);
			SHA_SCHEDULE(b[1], b[2], b[3], b[0]);
			SHA_ROUNDS4_X2(a[1], b[1], &K[i + 4]);
			SHA_SCHEDULE(a[2], a[3], a[0], a[1]);
			SHA_SCHEDULE(b[2], b[3], b[0], b[1]);
			SHA_ROUNDS4_X2(a[2], b[2], &K[i + 8]);
			SHA_SCHEDULE(a[3], a[0], a[1], a[2]);
			SHA_SCHEDULE(b[3], b[0], b[1], b[2]);
			SHA_ROUNDS4_X2(a[3], b[3], &K[i + 12]);
		}
		abef_a = _mm_add_epi32(abef_a, abef_a0);
		cdgh_a = _mm_add_epi32(cdgh_a, cdgh_a0);
		abef_b = _mm_add_epi32(abef_b, abef_b0);
		cdgh_b = _mm_add_epi32(cdgh_b, cdgh_b0);
	}
#undef SHA_ROUNDS4_X2
	shani_store(ha, abef_a, cdgh_a);
	shani_store(hb, abef_b, cdgh_b);
}
#undef SHA_SCHEDULE

/* GCC answers from what libgcc read at load time (a CPUID instruction is
 * a VM exit, microseconds on a guest); clang 14 does not know "sha". */
static int cpu_has_shani(void)
{
#if defined(__GNUC__) && !defined(__clang__)
	return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") &&
	       __builtin_cpu_supports("ssse3");
#else
	unsigned a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0 || !(b & (1u << 29)))
		return 0;   /* SHA */
	if (__get_cpuid(1, &a, &b, &c, &d) == 0)
		return 0;
	return (c & (1u << 19)) && (c & (1u << 9));   /* SSE4.1, SSSE3 */
#endif
}
#endif

typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);

static blocks_fn *impl;

/* Chosen once; a race only stores the same answer twice. */
static blocks_fn *blocks_impl(void)
{
	blocks_fn *f = __atomic_load_n(&impl, __ATOMIC_RELAXED);

	if (f == NULL) {
		f = blocks_portable;
#ifdef PA_SHA_X86
		if (cpu_has_shani())
			f = blocks_shani;
#endif
		__atomic_store_n(&impl, f, __ATOMIC_RELAXED);
	}
	return f;
}

static void sha_init(struct pa_sha_ctx *c)
{
	memcpy(c->h, H0, sizeof(H0));
	c->len = 0;
	c->used = 0;
}

static void sha_update(struct pa_sha_ctx *c, blocks_fn *blocks, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	if (c->used > 0) {
		size_t take = 64 - c->used < len ? 64 - c->used : len;

		memcpy(c->buf + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used < 64)
			return;
		blocks(c->h, c->buf, 1);
		c->used = 0;
	}
	if (len >= 64) {
		blocks(c->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len > 0)   /* p may be NULL when there is nothing */
		memcpy(c->buf, p, len);
	c->used = len;
}

static void sha_final(struct pa_sha_ctx *c, blocks_fn *blocks, unsigned char out[PA_HASH_LEN])
{
	uint64_t bits = c->len * 8;

	c->buf[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->buf + c->used, 0, 64 - c->used);
		blocks(c->h, c->buf, 1);
		c->used = 0;
	}
	memset(c->buf + c->used, 0, 56 - c->used);
	for (int i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* SHA-256(prefix || data), the prefix omitted when negative. */
static void sha256_prefixed(unsigned char out[PA_HASH_LEN], int prefix, const void *data,
			    size_t len)
{
	blocks_fn *blocks = blocks_impl();
	struct pa_sha_ctx c;

	sha_init(&c);
	if (prefix >= 0) {
		c.buf[0] = (unsigned char)prefix;
		c.used = 1;
		c.len = 1;
	}
	sha_update(&c, blocks, data, len);
	sha_final(&c, blocks, out);
}

void pa_sha256(unsigned char out[PA_HASH_LEN], const void *data, size_t len)
{
	sha256_prefixed(out, -1, data, len);
}

int pa_sha256_file(unsigned char out[PA_HASH_LEN], int fd, uint64_t len)
{
	blocks_fn *blocks = blocks_impl();
	unsigned char buf[65536];
	uint64_t off = 0;
	struct pa_sha_ctx c;

	sha_init(&c);
	while (off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		sha_update(&c, blocks, buf, (size_t)n);
		off += (uint64_t)n;
	}
	sha_final(&c, blocks, out);
	return 0;
}

void pa_hash_leaf(unsigned char out[PA_HASH_LEN], const void *entry, size_t len)
{
	sha256_prefixed(out, 0x00, entry, len);
}

void pa_hash_leaf2(unsigned char out_a[PA_HASH_LEN], const void *entry_a, size_t len_a,
		   unsigned char out_b[PA_HASH_LEN], const void *entry_b, size_t len_b)
{
#ifdef PA_SHA_X86
	blocks_fn *blocks = blocks_impl();

	if (blocks == blocks_shani && len_a >= 63 && len_b >= 63) {
		const unsigned char *pa = entry_a, *pb = entry_b;
		struct pa_sha_ctx a, b;
		size_t n;

		/* the first block is the prefix and 63 bytes; the blocks after
		 * it are read in place, one byte before each 64-byte boundary */
		sha_init(&a);
		sha_init(&b);
		a.buf[0] = b.buf[0] = 0x00;
		memcpy(a.buf + 1, pa, 63);
		memcpy(b.buf + 1, pb, 63);
		n = 1 + ((len_a - 63) < (len_b - 63) ? len_a - 63 : len_b - 63) / 64;
		blocks_shani_x2(a.h, a.buf, b.h, b.buf, 1);
		if (n > 1)
			blocks_shani_x2(a.h, pa + 63, b.h, pb + 63, n - 1);
		a.len = b.len = 64 * n;
		sha_update(&a, blocks, pa + 64 * n - 1, len_a + 1 - 64 * n);
		sha_update(&b, blocks, pb + 64 * n - 1, len_b + 1 - 64 * n);
		sha_final(&a, blocks, out_a);
		sha_final(&b, blocks, out_b);
		return;
	}
#endif
	sha256_prefixed(out_a, 0x00, entry_a, len_a);
	sha256_prefixed(out_b, 0x00, entry_b, len_b);
}

void pa_hash_node(unsigned char out[PA_HASH_LEN], const unsigned char left[PA_HASH_LEN],
		  const unsigned char right[PA_HASH_LEN])
{
	unsigned char buf[2 * PA_HASH_LEN];

	memcpy(buf, left, PA_HASH_LEN);
	memcpy(buf + PA_HASH_LEN, right, PA_HASH_LEN);
	sha256_prefixed(out, 0x01, buf, sizeof(buf));
}

void pa_hash_force_portable(int on)
{
	__atomic_store_n(&impl, on ? blocks_portable : NULL, __ATOMIC_RELAXED);
}

const char *pa_hash_backend(void)
{
	return blocks_impl() == blocks_portable ? "portable" : "sha-ni";
}
