/* SPDX-License-Identifier: ISC */
/* segment.c: the segment file layout.  Readers treat every byte as hostile:
 * lengths are bounded before any allocation and reads never pass the end. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "crc32c.h"
#include "segment.h"

#define READ_CHUNK (1u << 20)

/* By hand: a writer names segments several times per commit, and stdio's
 * formatting is most of a PAM session's user-space instructions. */
void pa_seg_name(char buf[PA_SEG_NAME_MAX], uint64_t number)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(buf, "seg-", 4);
	for (int i = 0; i < 16; i++)
		buf[4 + i] = hex[(number >> (60 - 4 * i)) & 15];
	buf[20] = '\0';
}

int pa_seg_parse_name(const char *name, uint64_t *number)
{
	uint64_t v = 0;

	if (strncmp(name, "seg-", 4) != 0 || strlen(name) != 20)
		return -1;
	for (int i = 4; i < 20; i++) {
		char c = name[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*number = v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int pa_seg_list(int dirfd, int zst, uint64_t **out, size_t *count)
{
	uint64_t *list = NULL;
	size_t n = 0, cap = 0, k = 0;
	struct dirent *de;
	DIR *d;
	int fd = dup(dirfd);

	*out = NULL;
	*count = 0;
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		char base[21];
		uint64_t num;
		size_t len = strlen(de->d_name);

		if (zst && len == 24 && strcmp(de->d_name + 20, ".zst") == 0) {
			memcpy(base, de->d_name, 20);
			base[20] = '\0';
			if (pa_seg_parse_name(base, &num) != 0)
				continue;
		} else if (pa_seg_parse_name(de->d_name, &num) != 0) {
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *nl = realloc(list, nc * sizeof(*nl));

			if (nl == NULL) {
				free(list);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			list = nl;
			cap = nc;
		}
		list[n++] = num;
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof(*list), cmp_u64);
	for (size_t i = 0; i < n; i++)   /* seg-N and seg-N.zst both: once */
		if (k == 0 || list[k - 1] != list[i])
			list[k++] = list[i];
	*out = list;
	*count = k;
	return 0;
}

void pa_seg_header_encode(unsigned char out[PA_SEG_HEADER], const pa_seghdr *h)
{
	memset(out, 0, PA_SEG_HEADER);
	memcpy(out, PA_SEG_MAGIC, 8);
	pa_store32(out + 8, PA_SEG_VERSION);
	pa_store32(out + 12, PA_SEG_HEADER);
	pa_store64(out + 16, h->number);
	pa_store64(out + 24, h->first_index);
	memcpy(out + 32, h->log_id, PA_HASH_LEN);
}

privaudit_status pa_seg_header_decode(const unsigned char in[PA_SEG_HEADER], pa_seghdr *h,
				      const char **why)
{
	if (memcmp(in, PA_SEG_MAGIC, 8) != 0) {
		*why = "bad segment magic";
		return PRIVAUDIT_E_FORMAT;
	}
	if (pa_load32(in + 8) != PA_SEG_VERSION) {
		*why = "unsupported segment version";
		return PRIVAUDIT_E_FORMAT;
	}
	if (pa_load32(in + 12) != PA_SEG_HEADER) {
		*why = "bad segment header length";
		return PRIVAUDIT_E_FORMAT;
	}
	h->number = pa_load64(in + 16);
	h->first_index = pa_load64(in + 24);
	memcpy(h->log_id, in + 32, PA_HASH_LEN);
	return PRIVAUDIT_OK;
}

void pa_frame_encode(unsigned char *out, const unsigned char *entry, size_t len)
{
	pa_store32(out, (uint32_t)len);
	if (out + 4 != entry)
		memmove(out + 4, entry, len);
	pa_store32(out + 4 + len, pa_crc32c(0, out, 4 + len));
}

void pa_frame_encode2(unsigned char *out_a, size_t len_a, unsigned char *out_b, size_t len_b)
{
	uint32_t ca = 0, cb = 0;

	pa_store32(out_a, (uint32_t)len_a);
	pa_store32(out_b, (uint32_t)len_b);
	pa_crc32c2(&ca, out_a, 4 + len_a, &cb, out_b, 4 + len_b);
	pa_store32(out_a + 4 + len_a, ca);
	pa_store32(out_b + 4 + len_b, cb);
}

privaudit_status pa_segreader_init(pa_segreader *r, int fd, uint64_t start, uint64_t end)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->end = end;
	r->buf_off = start;
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	return r->buf == NULL ? PRIVAUDIT_E_NOMEM : PRIVAUDIT_OK;
}

void pa_segreader_free(pa_segreader *r)
{
	free(r->buf);
	r->buf = NULL;
}

uint64_t pa_segreader_offset(const pa_segreader *r)
{
	return r->buf_off + r->pos;
}

/* Make want bytes available at buf[pos]; 1 if they are, 0 at end of data,
 * -1 on error. */
static int fill(pa_segreader *r, size_t want)
{
	uint64_t file_off;
	size_t avail = r->len - r->pos, need;

	if (avail >= want)
		return 1;
	if (r->buf_off + r->pos + want > r->end)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, avail);
		r->buf_off += r->pos;
		r->pos = 0;
		r->len = avail;
	}
	if (want > r->cap) {
		size_t cap = want + READ_CHUNK;
		unsigned char *nb = realloc(r->buf, cap);

		if (nb == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r->buf = nb;
		r->cap = cap;
	}
	file_off = r->buf_off + r->len;
	need = r->cap - r->len;
	if (file_off + need > r->end)
		need = (size_t)(r->end - file_off);
	while (r->len < want) {
		ssize_t n = pread(r->fd, r->buf + r->len, need, (off_t)file_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;  /* file shrank under us: treat as its end */
		r->len += (size_t)n;
		file_off += (uint64_t)n;
		need -= (size_t)n;
	}
	return 1;
}

pa_frame_status pa_segreader_next(pa_segreader *r, const unsigned char **entry, size_t *len,
				  uint64_t *offset)
{
	uint32_t l, crc;
	int f;

	*offset = r->buf_off + r->pos;
	if (r->buf_off + r->pos >= r->end)
		return PA_FRAME_END;
	f = fill(r, 4);
	if (f < 0)
		return PA_FRAME_IOERR;
	if (f == 0)
		return PA_FRAME_TORN;
	l = pa_load32(r->buf + r->pos);
	if (l < PA_ENTRY_INDEX + 1 || l > PA_ENTRY_MAX)
		return PA_FRAME_BADLEN;
	f = fill(r, (size_t)l + PA_FRAME_OVERHEAD);
	if (f < 0)
		return PA_FRAME_IOERR;
	if (f == 0)
		return PA_FRAME_TORN;
	crc = pa_load32(r->buf + r->pos + 4 + l);
	if (pa_crc32c(0, r->buf + r->pos, 4 + (size_t)l) != crc)
		return PA_FRAME_BADCRC;
	*entry = r->buf + r->pos + 4;
	*len = l;
	r->pos += (size_t)l + PA_FRAME_OVERHEAD;
	return PA_FRAME_OK;
}

pa_frame_status pa_frame_read_at(int fd, uint64_t off, uint64_t end, unsigned char **buf,
				 size_t *cap, const unsigned char **entry, size_t *len)
{
	unsigned char hdr[4];
	uint32_t l;
	size_t need;

	if (off >= end)
		return PA_FRAME_END;
	if (end - off < 4)
		return PA_FRAME_TORN;
	if (pa_pread_full(fd, hdr, 4, (off_t)off) < 0)
		return PA_FRAME_IOERR;
	l = pa_load32(hdr);
	if (l < PA_ENTRY_INDEX + 1 || l > PA_ENTRY_MAX)
		return PA_FRAME_BADLEN;
	need = (size_t)l + PA_FRAME_OVERHEAD;
	if (end - off < need)
		return PA_FRAME_TORN;
	if (need > *cap) {
		unsigned char *nb = realloc(*buf, need);

		if (nb == NULL) {
			errno = ENOMEM;
			return PA_FRAME_IOERR;
		}
		*buf = nb;
		*cap = need;
	}
	if (pa_pread_full(fd, *buf, need, (off_t)off) < 0)
		return PA_FRAME_IOERR;
	if (pa_crc32c(0, *buf, 4 + (size_t)l) != pa_load32(*buf + 4 + l))
		return PA_FRAME_BADCRC;
	*entry = *buf + 4;
	*len = l;
	return PA_FRAME_OK;
}
