/* SPDX-License-Identifier: ISC */
/* fuzz_record.c: a segment file's bytes through the header decoder, the
 * frame reader (length, CRC) and both record decoders.  The input is read
 * twice: as it is, and with every frame's CRC made right, so mutated record
 * bytes reach the protobuf decoders instead of stopping at the checksum. */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "crc32c.h"
#include "fuzz.h"
#include "record.h"
#include "segment.h"

/* Both decoders must agree on every entry, and what decodes re-encodes. */
static void check_entry(pa_arena *arena, const unsigned char *entry, size_t len)
{
	pa_record *a, *b;

	FUZZ_CHECK(len > PA_ENTRY_INDEX);
	(void)pa_load64(entry);
	a = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	b = pa_record_decode_arena(arena, entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
	FUZZ_CHECK((a == NULL) == (b == NULL));
	if (a != NULL) {
		size_t sa, sb;
		unsigned char *pa, *pb;

		FUZZ_CHECK(a->body_case == b->body_case);
		FUZZ_CHECK(strcmp(pa_record_kind_name(a), "unknown") != 0);
		sa = privaudit__record__get_packed_size(a);
		sb = privaudit__record__get_packed_size(b);
		FUZZ_CHECK(sa == sb);
		pa = malloc(sa + 1);
		pb = malloc(sb + 1);
		FUZZ_CHECK(pa != NULL && pb != NULL);
		FUZZ_CHECK(privaudit__record__pack(a, pa) == sa);
		FUZZ_CHECK(privaudit__record__pack(b, pb) == sb);
		FUZZ_CHECK(memcmp(pa, pb, sa) == 0);
		free(pa);
		free(pb);
	}
	pa_record_free(a);
}

static void read_frames(const unsigned char *data, size_t size, pa_arena *arena)
{
	pa_segreader r;
	uint64_t start = size >= PA_SEG_HEADER ? PA_SEG_HEADER : 0, last = start;
	int fd = memfd_create("fuzz_record", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		goto out;
	if (pa_segreader_init(&r, fd, start, size) != PRIVAUDIT_OK)
		goto out;
	for (;;) {
		const unsigned char *entry;
		size_t len;
		uint64_t off;
		pa_frame_status fs = pa_segreader_next(&r, &entry, &len, &off);

		FUZZ_CHECK(off == last);
		if (fs != PA_FRAME_OK)
			break;
		FUZZ_CHECK(len >= PA_ENTRY_INDEX + 1 && len <= PA_ENTRY_MAX);
		FUZZ_CHECK(off + PA_FRAME_OVERHEAD + len <= size);
		FUZZ_CHECK(memcmp(entry, data + off + 4, len) == 0);
		check_entry(arena, entry, len);
		last = pa_segreader_offset(&r);
		FUZZ_CHECK(last == off + PA_FRAME_OVERHEAD + len);
	}
	pa_segreader_free(&r);
out:
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pa_arena arena;
	unsigned char *fixed;
	size_t off;

	if (size >= PA_SEG_HEADER) {
		pa_seghdr h;
		const char *why = NULL;

		if (pa_seg_header_decode(data, &h, &why) == PRIVAUDIT_OK) {
			unsigned char again[PA_SEG_HEADER];

			/* A header that decodes is one we would have written. */
			pa_seg_header_encode(again, &h);
			FUZZ_CHECK(memcmp(again, data, PA_SEG_HEADER) == 0);
		} else {
			FUZZ_CHECK(why != NULL);
		}
	}
	pa_arena_init(&arena);
	read_frames(data, size, &arena);

	/* The same frames with their checksums made right. */
	fixed = malloc(size + 1);
	if (fixed == NULL)
		goto out;
	memcpy(fixed, data, size);
	off = size >= PA_SEG_HEADER ? PA_SEG_HEADER : 0;
	while (off + 4 <= size) {
		uint32_t l = pa_load32(fixed + off);

		if (l < PA_ENTRY_INDEX + 1 || l > size || off + 8 + (size_t)l > size)
			break;
		pa_store32(fixed + off + 4 + l, pa_crc32c(0, fixed + off, 4 + (size_t)l));
		off += 8 + (size_t)l;
	}
	read_frames(fixed, size, &arena);
	free(fixed);
out:
	pa_arena_free(&arena);
	return 0;
}
