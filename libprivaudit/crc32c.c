/* SPDX-License-Identifier: ISC */
/* crc32c.c: CRC-32C, with the SSE4.2 instruction when the CPU has it and a
 * slicing table otherwise.  It only detects torn writes, never tampering. */
#include "config.h"

#include <string.h>

#include "crc32c.h"

static uint32_t table[8][256];
static int table_ready;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	__atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
	/* Computing the table twice in a race yields the same bytes. */
	if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
		make_table();
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

/* Two independent buffers at once: one chain of crc32 instructions waits on
 * their latency (three cycles each), two chains share those cycles. */
__attribute__((target("sse4.2")))
static void crc_hw2(uint32_t *crc_a, const unsigned char *a, size_t len_a, uint32_t *crc_b,
		    const unsigned char *b, size_t len_b)
{
	uint64_t ca = *crc_a, cb = *crc_b;

	while (len_a >= 8 && len_b >= 8) {
		uint64_t wa, wb;

		memcpy(&wa, a, 8);
		memcpy(&wb, b, 8);
		ca = __builtin_ia32_crc32di(ca, wa);
		cb = __builtin_ia32_crc32di(cb, wb);
		a += 8;
		b += 8;
		len_a -= 8;
		len_b -= 8;
	}
	*crc_a = crc_hw((uint32_t)ca, a, len_a);
	*crc_b = crc_hw((uint32_t)cb, b, len_b);
}

static int have_hw(void)
{
	static int cached = -1;
	int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("sse4.2") ? 1 : 0;
		__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	}
	return v;
}
#endif

uint32_t pa_crc32c(uint32_t crc, const void *data, size_t len)
{
	crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_hw())
		return ~crc_hw(crc, data, len);
#endif
	return ~crc_soft(crc, data, len);
}

void pa_crc32c2(uint32_t *crc_a, const void *a, size_t len_a, uint32_t *crc_b, const void *b,
		size_t len_b)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_hw()) {
		uint32_t ca = ~*crc_a, cb = ~*crc_b;

		crc_hw2(&ca, a, len_a, &cb, b, len_b);
		*crc_a = ~ca;
		*crc_b = ~cb;
		return;
	}
#endif
	*crc_a = pa_crc32c(*crc_a, a, len_a);
	*crc_b = pa_crc32c(*crc_b, b, len_b);
}
