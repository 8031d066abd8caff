/* SPDX-License-Identifier: ISC */
/* test_segment.c: segment names, headers, CRC-32C, frames, and the bounded
 * frame reader on real files: torn tails, bad CRCs and lengths, big frames. */
#include "config.h"

#include "testutil.h"

#include "crc32c.h"
#include "segment.h"

#define MiB (1024u * 1024u)

/* ------------------------------------------------------------ helpers */

static void fill_pattern(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

/* Entry = 8-byte big-endian index || payload of len - 8 pattern bytes. */
static unsigned char *make_entry(uint64_t index, size_t len)
{
	unsigned char *e = malloc(len);

	assert_non_null(e);
	assert_true(len >= PA_ENTRY_INDEX);
	pa_store64(e, index);
	fill_pattern(e + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX, index);
	return e;
}

/* A segment file: header, then one frame per length in lens (entry i has
 * index first + i).  Frame offsets go to offs when not NULL. */
static void write_segment(const char *path, const size_t *lens, size_t n, uint64_t *offs)
{
	unsigned char hdr[PA_SEG_HEADER];
	uint64_t off = PA_SEG_HEADER;
	pa_seghdr h;

	memset(&h, 0, sizeof(h));
	h.number = 0;
	h.first_index = 0;
	memset(h.log_id, 0x5a, sizeof(h.log_id));
	pa_seg_header_encode(hdr, &h);
	tu_write(path, hdr, sizeof(hdr));
	for (size_t i = 0; i < n; i++) {
		unsigned char *e = make_entry(i, lens[i]);
		unsigned char *f = malloc(lens[i] + PA_FRAME_OVERHEAD);

		assert_non_null(f);
		pa_frame_encode(f, e, lens[i]);
		tu_append(path, f, lens[i] + PA_FRAME_OVERHEAD);
		if (offs != NULL)
			offs[i] = off;
		off += lens[i] + PA_FRAME_OVERHEAD;
		free(f);
		free(e);
	}
}

typedef struct reader {
	pa_segreader r;
	int fd;
} reader;

static void reader_open(reader *rd, const char *path, uint64_t start, uint64_t end)
{
	rd->fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(rd->fd >= 0);
	if (end == UINT64_MAX)
		end = (uint64_t)tu_size(path);
	assert_int_equal(pa_segreader_init(&rd->r, rd->fd, start, end), PRIVAUDIT_OK);
}

static void reader_close(reader *rd)
{
	pa_segreader_free(&rd->r);
	pa_segreader_free(&rd->r);   /* harmless twice */
	close(rd->fd);
}

/* The next frame must be entry i of length len at offset off. */
static void expect_frame(reader *rd, uint64_t i, size_t len, uint64_t off)
{
	const unsigned char *entry = NULL;
	unsigned char *want;
	size_t got_len = 0;
	uint64_t got_off = 0;

	assert_int_equal(pa_segreader_next(&rd->r, &entry, &got_len, &got_off), PA_FRAME_OK);
	assert_int_equal(got_len, len);
	assert_int_equal(got_off, off);
	want = make_entry(i, len);
	assert_memory_equal(entry, want, len);
	free(want);
	assert_int_equal(pa_segreader_offset(&rd->r), off + len + PA_FRAME_OVERHEAD);
}

static void expect_status(reader *rd, pa_frame_status want, uint64_t off)
{
	const unsigned char *entry;
	size_t len;
	uint64_t got_off = 0;

	assert_int_equal(pa_segreader_next(&rd->r, &entry, &len, &got_off), want);
	assert_int_equal(got_off, off);
}

/* ------------------------------------------------------------ names, headers */

static void test_seg_name(void **state)
{
	static const char *const bad[] = {
		"seg-000000000000000",         /* 15 digits */
		"seg-00000000000000000",       /* 17 */
		"seg-000000000000000A",        /* uppercase */
		"seg-0000000000000g00",
		"seg-000000000000000 ",
		"Seg-0000000000000000",
		"cut-0000000000000000",
		"seg-0000000000000000.tmp",
		"seg--000000000000000",
		"seg-",
		"",
	};
	char buf[PA_SEG_NAME_MAX];
	uint64_t n;

	(void)state;
	pa_seg_name(buf, 0);
	assert_string_equal(buf, "seg-0000000000000000");
	pa_seg_name(buf, 0x1a2bu);
	assert_string_equal(buf, "seg-0000000000001a2b");
	pa_seg_name(buf, UINT64_MAX);
	assert_string_equal(buf, "seg-ffffffffffffffff");
	for (uint64_t v = 0; v < 4096; v += 37) {
		pa_seg_name(buf, v * 0x100000001u);
		assert_int_equal(pa_seg_parse_name(buf, &n), 0);
		assert_true(n == v * 0x100000001u);
	}
	assert_int_equal(pa_seg_parse_name("seg-ffffffffffffffff", &n), 0);
	assert_true(n == UINT64_MAX);
	n = 7;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(pa_seg_parse_name(bad[i], &n), 0);
		assert_int_equal(n, 7);
	}
}

static void test_seg_header(void **state)
{
	unsigned char b[PA_SEG_HEADER], c[PA_SEG_HEADER];
	const char *why = NULL;
	pa_seghdr h, g;

	(void)state;
	h.number = 0x0102030405060708u;
	h.first_index = 0x1112131415161718u;
	for (int i = 0; i < PA_HASH_LEN; i++)
		h.log_id[i] = (unsigned char)(0xa0 + i);
	pa_seg_header_encode(b, &h);
	/* the documented layout, big-endian */
	assert_memory_equal(b, "PRVAUDSG", 8);
	assert_memory_equal(b + 8, "\0\0\0\1", 4);
	assert_memory_equal(b + 12, "\0\0\0\x40", 4);
	assert_memory_equal(b + 16, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(b + 24, "\x11\x12\x13\x14\x15\x16\x17\x18", 8);
	assert_memory_equal(b + 32, h.log_id, PA_HASH_LEN);

	memset(&g, 0, sizeof(g));
	assert_int_equal(pa_seg_header_decode(b, &g, &why), PRIVAUDIT_OK);
	assert_true(g.number == h.number);
	assert_true(g.first_index == h.first_index);
	assert_memory_equal(g.log_id, h.log_id, PA_HASH_LEN);

	memcpy(c, b, sizeof(c));
	c[0] = 'p';
	why = NULL;
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	assert_non_null(why);
	memcpy(c, b, sizeof(c));
	c[7] = 'X';
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	memcpy(c, b, sizeof(c));
	c[11] = 2;   /* version 2 */
	why = NULL;
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	assert_non_null(why);
	memcpy(c, b, sizeof(c));
	c[8] = 1;    /* version 0x01000001 */
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	memcpy(c, b, sizeof(c));
	c[11] = 0;   /* version 0 */
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	memcpy(c, b, sizeof(c));
	c[15] = 0x80;   /* header length 128 */
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
	memset(c, 0, sizeof(c));
	assert_int_equal(pa_seg_header_decode(c, &g, &why), PRIVAUDIT_E_FORMAT);
}

/* ------------------------------------------------------------ CRC-32C */

/* Bit at a time, reflected polynomial 0x82F63B78: the definition. */
static uint32_t crc_ref(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len-- > 0) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static void test_crc32c(void **state)
{
	unsigned char buf[1100];

	(void)state;
	assert_int_equal(pa_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(pa_crc32c(0, "", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros, and of 0xff */
	memset(buf, 0, 32);
	assert_int_equal(pa_crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	assert_int_equal(pa_crc32c(0, buf, 32), 0x62A8AB43u);
	/* a running value continues a computation */
	assert_int_equal(pa_crc32c(pa_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
	/* every length and alignment against the definition */
	fill_pattern(buf, sizeof(buf), 42);
	for (size_t a = 0; a < 8; a++)
		for (size_t len = 0; len + a <= sizeof(buf); len += len < 40 ? 1 : 97)
			assert_int_equal(pa_crc32c(0, buf + a, len), crc_ref(buf + a, len));
	for (size_t cut = 0; cut <= 100; cut++)
		assert_int_equal(pa_crc32c(pa_crc32c(0, buf, cut), buf + cut, 100 - cut),
				 crc_ref(buf, 100));
}

/* Two at once: each the definition's value, whatever the two lengths,
 * alignments and running values. */
static void test_crc32c2(void **state)
{
	unsigned char buf[1100];

	(void)state;
	fill_pattern(buf, sizeof(buf), 7);
	for (size_t la = 0; la <= 520; la += la < 40 ? 1 : 53) {
		for (size_t lb = 0; lb <= 520; lb += lb < 24 ? 1 : 37) {
			uint32_t ca = 0, cb = 0;
			size_t a = la % 8, b = 540 + lb % 5;

			pa_crc32c2(&ca, buf + a, la, &cb, buf + b, lb);
			assert_int_equal(ca, crc_ref(buf + a, la));
			assert_int_equal(cb, crc_ref(buf + b, lb));
			ca = pa_crc32c(0, buf, 9);
			cb = pa_crc32c(0, buf + 20, 3);
			pa_crc32c2(&ca, buf + 9, la, &cb, buf + 23, lb);
			assert_int_equal(ca, crc_ref(buf, 9 + la));
			assert_int_equal(cb, crc_ref(buf + 20, 3 + lb));
		}
	}
}

/* ------------------------------------------------------------ frames */

static void test_frame_encode(void **state)
{
	unsigned char *e = make_entry(77, 30), f[30 + PA_FRAME_OVERHEAD], g[30 + PA_FRAME_OVERHEAD];
	unsigned char lenb[4] = {0, 0, 0, 30};

	(void)state;
	pa_frame_encode(f, e, 30);
	assert_memory_equal(f, lenb, 4);
	assert_memory_equal(f + 4, e, 30);
	assert_int_equal(pa_load32(f + 34), crc_ref(f, 34));
	/* encoding in place, entry already after the length */
	memcpy(g + 4, e, 30);
	pa_frame_encode(g, g + 4, 30);
	assert_memory_equal(f, g, sizeof(f));
	free(e);
	/* two in place at once, as the writer frames a group */
	{
		unsigned char *e1 = make_entry(78, 1000), *e2 = make_entry(79, 13);
		unsigned char f1[1000 + PA_FRAME_OVERHEAD], f2[13 + PA_FRAME_OVERHEAD];
		unsigned char g1[1000 + PA_FRAME_OVERHEAD], g2[13 + PA_FRAME_OVERHEAD];

		pa_frame_encode(f1, e1, 1000);
		pa_frame_encode(f2, e2, 13);
		memcpy(g1 + 4, e1, 1000);
		memcpy(g2 + 4, e2, 13);
		pa_frame_encode2(g1, 1000, g2, 13);
		assert_memory_equal(f1, g1, sizeof(f1));
		assert_memory_equal(f2, g2, sizeof(f2));
		pa_frame_encode2(g2, 13, g1, 1000);
		assert_memory_equal(f1, g1, sizeof(f1));
		assert_memory_equal(f2, g2, sizeof(f2));
		free(e1);
		free(e2);
	}
}

static void test_frames_roundtrip(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t lens[40];
	uint64_t offs[40];
	reader rd;

	for (size_t i = 0; i < 40; i++)
		lens[i] = PA_ENTRY_INDEX + 1 + (i * 131) % 700;
	lens[0] = PA_ENTRY_INDEX + 1;   /* the smallest entry */
	tu_path(path, dir, "seg-0000000000000000");
	write_segment(path, lens, 40, offs);

	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	for (size_t i = 0; i < 40; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_END, (uint64_t)tu_size(path));
	expect_status(&rd, PA_FRAME_END, (uint64_t)tu_size(path));
	reader_close(&rd);

	/* starting at a frame boundary in the middle */
	reader_open(&rd, path, offs[25], UINT64_MAX);
	for (size_t i = 25; i < 40; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_END, (uint64_t)tu_size(path));
	reader_close(&rd);

	/* a limit at a frame boundary is a clean end; inside a frame, a torn one */
	reader_open(&rd, path, PA_SEG_HEADER, offs[10]);
	for (size_t i = 0; i < 10; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_END, offs[10]);
	reader_close(&rd);
	reader_open(&rd, path, PA_SEG_HEADER, offs[10] + 6);
	for (size_t i = 0; i < 10; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_TORN, offs[10]);
	reader_close(&rd);
	reader_open(&rd, path, PA_SEG_HEADER, offs[10] + 2);
	for (size_t i = 0; i < 10; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_TORN, offs[10]);
	reader_close(&rd);

	/* an empty segment */
	write_segment(path, lens, 0, NULL);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	expect_status(&rd, PA_FRAME_END, PA_SEG_HEADER);
	reader_close(&rd);
}

static void test_torn_tail(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t lens[5] = {40, 500, 9, 1000, 60};
	uint64_t offs[5];
	reader rd;
	off_t full;

	tu_path(path, dir, "seg-0000000000000000");
	write_segment(path, lens, 5, offs);
	full = tu_size(path);
	/* cut the last frame at every length short of complete */
	for (off_t cut = (off_t)offs[4] + 1; cut < full; cut += cut < (off_t)offs[4] + 8 ? 1 : 13) {
		assert_int_equal(truncate(path, cut), 0);
		reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
		for (size_t i = 0; i < 4; i++)
			expect_frame(&rd, i, lens[i], offs[i]);
		expect_status(&rd, PA_FRAME_TORN, offs[4]);
		reader_close(&rd);
		write_segment(path, lens, 5, offs);
	}
	/* all but the last CRC byte */
	assert_int_equal(truncate(path, full - 1), 0);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	for (size_t i = 0; i < 4; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_TORN, offs[4]);
	reader_close(&rd);
	/* a length that runs past the end of the file */
	write_segment(path, lens, 2, offs);
	tu_append(path, "\0\0\x10\0abcdefghij", 14);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	expect_frame(&rd, 0, lens[0], offs[0]);
	expect_frame(&rd, 1, lens[1], offs[1]);
	expect_status(&rd, PA_FRAME_TORN, offs[1] + lens[1] + PA_FRAME_OVERHEAD);
	reader_close(&rd);
}

static void test_bad_crc(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t lens[4] = {100, 200, 300, 400};
	uint64_t offs[4];
	reader rd;

	tu_path(path, dir, "seg-0000000000000000");
	/* a changed byte anywhere in frame 2, from the low byte of its length
	 * (kept in range) to the last byte of its CRC */
	for (uint64_t at = 3; at < 4 + 300 + 4; at += 19) {
		unsigned char b;

		write_segment(path, lens, 4, offs);
		{
			unsigned char *all = tu_read(path, NULL);

			b = all[offs[2] + at] ^ 0x01;
			free(all);
		}
		tu_pwrite(path, &b, 1, (off_t)(offs[2] + at));
		reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
		expect_frame(&rd, 0, lens[0], offs[0]);
		expect_frame(&rd, 1, lens[1], offs[1]);
		expect_status(&rd, PA_FRAME_BADCRC, offs[2]);
		/* the reader does not skip past a bad frame */
		expect_status(&rd, PA_FRAME_BADCRC, offs[2]);
		reader_close(&rd);
	}
}

static void test_bad_length(void **state)
{
	static const uint32_t bad[] = {0xffffffffu, 0, 1, PA_ENTRY_INDEX, PA_ENTRY_MAX + 1, 0x80000000u};
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t lens[3] = {100, 200, 300};
	uint64_t offs[3];
	reader rd;

	tu_path(path, dir, "seg-0000000000000000");
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unsigned char b[4];

		write_segment(path, lens, 3, offs);
		pa_store32(b, bad[k]);
		tu_pwrite(path, b, 4, (off_t)offs[1]);
		reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
		expect_frame(&rd, 0, lens[0], offs[0]);
		expect_status(&rd, PA_FRAME_BADLEN, offs[1]);
		reader_close(&rd);
	}
	/* a bad length is reported even when the file ends right after it */
	write_segment(path, lens, 1, offs);
	tu_append(path, "\xff\xff\xff\xff", 4);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	expect_frame(&rd, 0, lens[0], offs[0]);
	expect_status(&rd, PA_FRAME_BADLEN, offs[0] + lens[0] + PA_FRAME_OVERHEAD);
	reader_close(&rd);
}

/* Frames larger than the reader's 1 MiB chunk, up to the largest allowed. */
static void test_big_frames(void **state)
{
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t lens[6] = {50, 3 * MiB, 70, PA_ENTRY_MAX, MiB - 4, 90};
	uint64_t offs[6];
	reader rd;

	tu_path(path, dir, "seg-0000000000000000");
	write_segment(path, lens, 6, offs);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	for (size_t i = 0; i < 6; i++)
		expect_frame(&rd, i, lens[i], offs[i]);
	expect_status(&rd, PA_FRAME_END, (uint64_t)tu_size(path));
	reader_close(&rd);
	/* the 3 MiB frame torn at its end */
	assert_int_equal(truncate(path, (off_t)(offs[2] - 1)), 0);
	reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
	expect_frame(&rd, 0, lens[0], offs[0]);
	expect_status(&rd, PA_FRAME_TORN, offs[1]);
	reader_close(&rd);
}

/* Many small frames, so that frames straddle every 1 MiB refill, read with
 * the reader's buffer also forced down to a few bytes. */
static void test_small_buffers(void **state)
{
	static const size_t caps[] = {0, 1, 4, 13, 100, 4096};
	const char *dir = *state;
	char path[TU_PATH_MAX];
	size_t n = 0, *lens = malloc(4000 * sizeof(*lens));
	uint64_t *offs = malloc(4000 * sizeof(*offs)), total = 0;

	assert_non_null(lens);
	assert_non_null(offs);
	while (total < 2 * MiB + 12345) {
		assert_true(n < 4000);
		lens[n] = PA_ENTRY_INDEX + 1 + (n * 7919) % 1500;
		total += lens[n] + PA_FRAME_OVERHEAD;
		n++;
	}
	tu_path(path, dir, "seg-0000000000000000");
	write_segment(path, lens, n, offs);
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		reader rd;

		reader_open(&rd, path, PA_SEG_HEADER, UINT64_MAX);
		if (caps[c] > 0)
			rd.r.cap = caps[c];   /* the buffer is bigger; the reader must not care */
		for (size_t i = 0; i < n; i++)
			expect_frame(&rd, i, lens[i], offs[i]);
		expect_status(&rd, PA_FRAME_END, (uint64_t)tu_size(path));
		reader_close(&rd);
	}
	free(lens);
	free(offs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seg_name),
		cmocka_unit_test(test_seg_header),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_crc32c2),
		cmocka_unit_test(test_frame_encode),
		cmocka_unit_test_setup_teardown(test_frames_roundtrip, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_torn_tail, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_bad_crc, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_bad_length, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_big_frames, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_small_buffers, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
