/* SPDX-License-Identifier: ISC */
/* scan.c: a producer thread reads a segment in chunks, checks each frame's
 * CRC and hashes its leaf, and hands batches to the verifier in file order
 * through a ring of three buffers.  Every length is bounded before use and
 * no read passes the end given; a frame cut by the end of a chunk is
 * carried to the next one. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "scan.h"

#define NSLOT 3
#define CHUNK (4u * 1024u * 1024u)
#define FRAME_MAX ((size_t)PA_ENTRY_MAX + PA_FRAME_OVERHEAD)

enum { SLOT_FREE, SLOT_READY, SLOT_INUSE };

struct slot {
	int state;
	unsigned char *buf;
	pa_scan_frame *frames;
	size_t cap_frames;
	pa_scan_batch batch;
};

struct pa_scanner {
	int fd;
	uint64_t start, end;
	size_t cap;                   /* bytes per slot buffer */
	struct slot slot[NSLOT];
	unsigned char *carry;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	int stop;
	unsigned next;                /* slot the consumer takes next */
	int holding;                  /* the consumer holds slot next-1 */
};

static int add_frame(struct slot *sl, size_t n)
{
	if (n < sl->cap_frames)
		return 0;
	{
		size_t cap = sl->cap_frames ? sl->cap_frames * 2 : 1024;
		pa_scan_frame *nf = realloc(sl->frames, cap * sizeof(*nf));

		if (nf == NULL)
			return -1;
		sl->frames = nf;
		sl->cap_frames = cap;
	}
	return 0;
}

/* Fill one slot; returns 1 when it is the last batch. */
static int produce(pa_scanner *s, struct slot *sl, uint64_t *file_off, size_t *carry_len)
{
	pa_scan_batch *b = &sl->batch;
	uint64_t base = *file_off - *carry_len;
	size_t have = *carry_len, p = 0, n = 0;
	int at_eof;

	memset(b, 0, sizeof(*b));
	if (have > 0)
		memcpy(sl->buf, s->carry, have);
	while (have < s->cap && *file_off < s->end) {
		size_t want = s->cap - have;
		ssize_t r;

		if (want > s->end - *file_off)
			want = (size_t)(s->end - *file_off);
		r = pread(s->fd, sl->buf + have, want, (off_t)*file_off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			b->end = PA_FRAME_IOERR;
			b->end_errno = errno;
			b->end_offset = *file_off;
			b->last = 1;
			goto out;
		}
		if (r == 0) {
			s->end = *file_off;   /* the file shrank: its end is here */
			break;
		}
		have += (size_t)r;
		*file_off += (uint64_t)r;
	}
	at_eof = *file_off >= s->end;
	for (;;) {
		uint32_t l;

		if (have - p < 4) {
			if (at_eof) {
				b->end = have == p ? PA_FRAME_END : PA_FRAME_TORN;
				b->end_offset = base + p;
				b->last = 1;
			}
			break;
		}
		l = pa_load32(sl->buf + p);
		if (l < PA_ENTRY_INDEX + 1 || l > PA_ENTRY_MAX) {
			b->end = PA_FRAME_BADLEN;
			b->end_offset = base + p;
			b->last = 1;
			break;
		}
		if (have - p < (size_t)l + PA_FRAME_OVERHEAD) {
			if (at_eof) {
				b->end = PA_FRAME_TORN;
				b->end_offset = base + p;
				b->last = 1;
			}
			break;
		}
		if (pa_crc32c(0, sl->buf + p, 4 + (size_t)l) != pa_load32(sl->buf + p + 4 + l)) {
			b->end = PA_FRAME_BADCRC;
			b->end_offset = base + p;
			b->end_len = l;
			b->last = 1;
			break;
		}
		if (add_frame(sl, n) < 0) {
			b->end = PA_FRAME_IOERR;
			b->end_errno = ENOMEM;
			b->end_offset = base + p;
			b->last = 1;
			break;
		}
		sl->frames[n].entry = sl->buf + p + 4;
		sl->frames[n].len = l;
		sl->frames[n].offset = base + p;
		if (n % 2 == 1)   /* two at a time; an odd last one below */
			pa_hash_leaf2(sl->frames[n - 1].leaf, sl->frames[n - 1].entry,
				      sl->frames[n - 1].len, sl->frames[n].leaf, sl->buf + p + 4, l);
		n++;
		p += (size_t)l + PA_FRAME_OVERHEAD;
	}
	if (n % 2 == 1)
		pa_hash_leaf(sl->frames[n - 1].leaf, sl->frames[n - 1].entry, sl->frames[n - 1].len);
	/* What is left is the start of a frame the next chunk completes. */
	*carry_len = b->last ? 0 : have - p;
	if (*carry_len > 0)
		memcpy(s->carry, sl->buf + p, *carry_len);
out:
	b->frames = sl->frames;
	b->n = n;
	return b->last;
}

static void *producer(void *arg)
{
	pa_scanner *s = arg;
	uint64_t file_off = s->start;
	size_t carry_len = 0;

	for (unsigned k = 0;; k++) {
		struct slot *sl = &s->slot[k % NSLOT];
		int last;

		pthread_mutex_lock(&s->mu);
		while (sl->state != SLOT_FREE && !s->stop)
			pthread_cond_wait(&s->cond, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		last = produce(s, sl, &file_off, &carry_len);
		pthread_mutex_lock(&s->mu);
		sl->state = SLOT_READY;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->mu);
		if (last)
			break;
	}
	return NULL;
}

static void scanner_free(pa_scanner *s)
{
	for (int i = 0; i < NSLOT; i++) {
		free(s->slot[i].buf);
		free(s->slot[i].frames);
	}
	free(s->carry);
	free(s);
}

pa_scanner *pa_scanner_start(int fd, uint64_t start, uint64_t end)
{
	pa_scanner *s = calloc(1, sizeof(*s));
	uint64_t span = end > start ? end - start : 0;
	size_t chunk = span < CHUNK ? (size_t)span + 1 : CHUNK;
	size_t frame = span < FRAME_MAX ? (size_t)span + 1 : FRAME_MAX;

	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->start = start;
	s->end = end > start ? end : start;
	/* a carried partial frame plus a whole chunk always fit */
	s->cap = chunk + frame;
	s->carry = malloc(frame);
	for (int i = 0; i < NSLOT; i++)
		s->slot[i].buf = malloc(s->cap);
	for (int i = 0; i < NSLOT; i++)
		if (s->slot[i].buf == NULL || s->carry == NULL) {
			scanner_free(s);
			return NULL;
		}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, producer, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cond);
		scanner_free(s);
		return NULL;
	}
	return s;
}

const pa_scan_batch *pa_scanner_next(pa_scanner *s)
{
	struct slot *sl;

	pthread_mutex_lock(&s->mu);
	if (s->holding) {
		s->slot[(s->next + NSLOT - 1) % NSLOT].state = SLOT_FREE;
		s->holding = 0;
		pthread_cond_broadcast(&s->cond);
	}
	sl = &s->slot[s->next % NSLOT];
	while (sl->state != SLOT_READY)
		pthread_cond_wait(&s->cond, &s->mu);
	sl->state = SLOT_INUSE;
	s->next++;
	s->holding = 1;
	pthread_mutex_unlock(&s->mu);
	return &sl->batch;
}

void pa_scanner_stop(pa_scanner *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	scanner_free(s);
}
