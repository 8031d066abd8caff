/* SPDX-License-Identifier: ISC */
/* fuzz_ttyplay.c: replay --tty's renderer (cli/ttyplay.c) on hostile
 * terminal output: whatever a recorded program printed, the screen and
 * frame modes write text only, never an escape sequence, BEL or C1 control
 * (the auditor's terminal must not act on the recording), and the raw
 * mode writes the output bytes exactly.
 *
 * Input: events back to back, each a type byte (mod 8: 0-4 a stream, then
 * a length byte and that many bytes; 5 a window size, two bytes; 6 a
 * suspend, one byte; 7 a 24-bit pause, in microseconds). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ttyplay.h"

#define MAX_EVENTS 4096

/* Valid UTF-8 with no control character but newline: no ESC, BEL, DEL,
 * no C1 control (CSI 0x9b, OSC 0x9d...) raw or encoded as U+0080..U+009F. */
static int only_text(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need, cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;   /* a lone continuation byte, a raw C1 byte, or worse */
		if (n - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp >= 0x80 && cp <= 0x9f)
			return 0;
		i += need + 1;
	}
	return 1;
}

static void play(const struct pa_io_log *log, enum pa_tty_mode mode, const unsigned char *want,
		 size_t want_len)
{
	struct pa_tty_opts o = {.mode = mode, .speed = 0, .max_wait = 0};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc;

	if (f == NULL)
		return;
	rc = pa_tty_play(log, &o, f);
	fclose(f);
	if (rc == 0 && mode != PA_TTY_RAW)
		FUZZ_CHECK(only_text((const unsigned char *)out, len));
	if (rc == 0 && mode == PA_TTY_RAW)
		FUZZ_CHECK(len == want_len && (len == 0 || memcmp(out, want, len) == 0));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_io_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	unsigned char *raw = malloc(size + 1);
	struct pa_io_log log = {.rows = 24, .cols = 80, .ev = ev};
	size_t i = 0, rawlen = 0;
	uint64_t t = 0;

	if (ev == NULL || raw == NULL)
		goto out;
	while (i < size && log.n < MAX_EVENTS) {
		struct pa_io_event *e = &ev[log.n];
		unsigned type = data[i++] % 8;

		if (type < 5) {
			size_t len;

			if (i >= size)
				break;
			len = data[i++];
			if (len > size - i)
				len = size - i;
			e->type = (enum pa_io_type)type;
			e->data = data + i;
			e->len = len;
			if (type == PA_IO_TTYOUT || type == PA_IO_STDOUT || type == PA_IO_STDERR) {
				memcpy(raw + rawlen, data + i, len);
				rawlen += len;
			}
			i += len;
		} else if (type == 5) {
			if (size - i < 2)
				break;
			e->type = PA_IO_WINSIZE;
			e->rows = data[i];
			e->cols = (unsigned)data[i + 1] * 2;
			i += 2;
		} else if (type == 6) {
			if (i >= size)
				break;
			e->type = PA_IO_SUSPEND;
			e->signo = data[i++];
		} else {
			if (size - i < 3)
				break;
			t += (uint64_t)data[i] << 16 | (uint64_t)data[i + 1] << 8 | data[i + 2];
			i += 3;
			continue;
		}
		e->t_us = t;
		log.n++;
	}
	play(&log, PA_TTY_SCREEN, NULL, 0);
	play(&log, PA_TTY_FRAMES, NULL, 0);
	play(&log, PA_TTY_RAW, raw, rawlen);
out:
	free(ev);
	free(raw);
	return 0;
}
