/* SPDX-License-Identifier: ISC */
/* ttyplay.c: replay --tty.  Recorded terminal output goes into libvterm,
 * and only its screen of cells is drawn, with sequences of our own, so
 * that nothing the recorded program printed can act on the auditor's
 * terminal (see ttyplay.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <vterm.h>

#include "text.h"
#include "ttyplay.h"

/* Frames, one per batch of events.  A batch begins with the first event
 * that changes the screen after the last frame, and takes in every later
 * event that comes less than FRAME_US (1/30 s) after that one; the frame
 * shows the screen after the batch's last event, and off a terminal is
 * headed with that event's time.  Off a terminal the window is counted in
 * recording time, so there are at most 30 frames per recorded second
 * however many bytes were written in it; on a terminal in time as played
 * (at most 30 redraws a second, and a change is never shown more than
 * 1/30 s late).  Off a terminal, a frame whose rows equal those of the
 * frame printed before it is not printed. */
#define FRAME_US 33333u
/* The size a recording can ask for: a terminal of any real screen, and a
 * bound on what a hostile window size costs in memory (cells * 2 screens). */
#define MAX_ROWS 500
#define MAX_COLS 1000
#define DEFAULT_ROWS 24
#define DEFAULT_COLS 80
#define MIN_SPEED (1.0 / 1024)
#define MAX_SPEED 1024.0
/* Longest single wait we hand to ppoll (a speed near 0 with no cap). */
#define LONGEST_WAIT 1e7

/* Signals that end, stop or disturb a play on the auditor's terminal:
 * while we drive it, they are blocked and taken only inside ppoll(), where
 * the handler sets a flag; the terminal is restored before they act. */
static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH};
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))

static volatile sig_atomic_t sig_term, sig_tstp, sig_cont, sig_winch;

static void on_signal(int signo)
{
	switch (signo) {
	case SIGTSTP:
		sig_tstp = 1;
		break;
	case SIGCONT:
		sig_cont = 1;
		break;
	case SIGWINCH:
		sig_winch = 1;
		break;
	default:
		sig_term = signo;
		break;
	}
}

struct pen {
	unsigned bold, underline, italic, blink, reverse, strike;
	VTermColor fg, bg;
};

struct player {
	const struct pa_io_log *log;
	const struct pa_tty_opts *opts;
	FILE *out;
	int on_tty;             /* FRAMES redrawn in place on a terminal */
	VTerm *vt;
	VTermScreen *screen;
	int rows, cols;
	int cursor_visible;
	int dirty;              /* the screen changed since the last frame */
	uint64_t dirty_since;   /* clock_us() at that first change */
	uint64_t rec_us;        /* recording time of the last event played */
	pa_text frame, prev;    /* the frame being built; the last one printed */
	uint64_t sealed_bytes;  /* output not shown: sealed and not opened */
	size_t sealed_events;
	int suspended;          /* the recorded command is stopped */
	/* playing with timing */
	double speed;
	int paused, stepping, quit, term_signo;
	int keyfd;              /* /dev/tty in cbreak mode, -1: no keys */
	int keys_live;          /* keyfd still worth polling */
	struct termios saved_tio;
	int sigs;               /* signals caught and blocked */
	int installed[NCAUGHT];
	struct sigaction oldact[NCAUGHT];
	sigset_t oldmask;
	uint64_t last_poll;
	/* the auditor's terminal */
	int tty_rows, tty_cols; /* its size at the last draw */
	int disp_rows;          /* recorded rows drawn, then our status line */
	int drawn, need_clear;
	/* feed(): where the output is in a control sequence or a UTF-8
	 * character, the CSI being gathered, and bytes for libvterm */
	int seq;                /* SEQ_* */
	int utf8_more;          /* continuation bytes due */
	unsigned char csi[64];
	size_t csi_len;         /* > sizeof(csi): an overlong CSI, dropped */
	unsigned char ch[4], last[4];   /* the character being passed, the last whole one */
	size_t ch_len, last_len;
	unsigned char fbuf[4096];
	size_t flen;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The clock frames are batched by (see FRAME_US). */
static uint64_t clock_us(const struct player *p)
{
	return p->on_tty ? now_us() : p->rec_us;
}

static int is_output(enum pa_io_type type)
{
	return type == PA_IO_TTYOUT || type == PA_IO_STDOUT || type == PA_IO_STDERR;
}

/* ------------------------------------------------------------ the screen */

static int on_damage(VTermRect rect, void *user)
{
	struct player *p = user;

	(void)rect;
	p->dirty = 1;
	return 1;
}

static int on_moverect(VTermRect dest, VTermRect src, void *user)
{
	struct player *p = user;

	(void)dest;
	(void)src;
	p->dirty = 1;
	return 1;
}

/* The cursor is drawn only on a terminal; off it, a move alone is no new
 * frame. */
static int on_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	struct player *p = user;

	(void)pos;
	(void)oldpos;
	(void)visible;
	if (p->on_tty)
		p->dirty = 1;
	return 1;
}

/* Only cursor visibility is kept: titles, mouse modes and the like are
 * the recorded program talking to its terminal, never to ours. */
static int on_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct player *p = user;

	if (prop == VTERM_PROP_CURSORVISIBLE) {
		p->cursor_visible = val->boolean;
		if (p->on_tty)
			p->dirty = 1;
	}
	return 1;
}

static int on_resize(int rows, int cols, void *user)
{
	struct player *p = user;

	p->rows = rows;
	p->cols = cols;
	p->dirty = 1;
	return 1;
}

static const VTermScreenCallbacks screen_cbs = {
	.damage = on_damage,
	.moverect = on_moverect,
	.movecursor = on_movecursor,
	.settermprop = on_settermprop,
	.resize = on_resize,
};

/* Answers the recorded program asked for (device status, attributes) go
 * nowhere. */
static void drop_output(const char *s, size_t len, void *user)
{
	(void)s;
	(void)len;
	(void)user;
}

static unsigned clamp_size(unsigned v, unsigned dflt, unsigned max)
{
	if (v == 0)
		return dflt;
	return v > max ? max : v;
}

static int screen_open(struct player *p)
{
	p->rows = (int)clamp_size(p->log->rows, DEFAULT_ROWS, MAX_ROWS);
	p->cols = (int)clamp_size(p->log->cols, DEFAULT_COLS, MAX_COLS);
	p->vt = vterm_new(p->rows, p->cols);
	if (p->vt == NULL) {
		errno = ENOMEM;
		return -1;
	}
	vterm_set_utf8(p->vt, 1);
	vterm_output_set_callback(p->vt, drop_output, NULL);
	p->screen = vterm_obtain_screen(p->vt);
	vterm_screen_set_callbacks(p->screen, &screen_cbs, p);
	/* As a real terminal: vi and less draw on the alternate screen, and
	 * the normal one is back when they exit. */
	vterm_screen_enable_altscreen(p->screen, 1);
	vterm_screen_set_damage_merge(p->screen, VTERM_DAMAGE_SCROLL);
	vterm_screen_reset(p->screen, 1);
	p->cursor_visible = 1;
	p->dirty = 0;
	return 0;
}

/* What reaches libvterm.  libvterm 0.1 (Debian 12's) has bugs that a
 * recording can reach (tests/fuzz/fuzz_ttyplay found two): it keeps a
 * CSI's parameters in an array of 16 without checking the count, and its
 * answers to queries (DECRQSS in a DCS, device attributes, window reports)
 * crash on some input.  None of what it leaves out changes the screen:
 *   - control strings (DCS, OSC, SOS, PM, APC: titles, clipboard, queries,
 *     sixels) are dropped whole, up to their ST (ESC \, BEL, 0x9c);
 *   - CSI sequences longer than 64 bytes or with more than
 *     CSI_PARAMS_MAX separators, and queries (DA c, DSR n, window t,
 *     DECREQTPARM x, DECRQM $p) are dropped whole; ESC Z (DECID) too;
 *   - an escape sequence with intermediate bytes (ESC ( B and the like)
 *     passes only with at most three of them and a final byte that starts
 *     nothing: libvterm starts a control string or a CSI at ESC + P as at
 *     ESC P (fuzz_ttyplay's third finding: ESC + P $ q c ESC \ made it
 *     answer a status request it could not format), so such a sequence,
 *     and what it would start, is dropped;
 *   - a C1 byte (0x80-0x9f) that is not inside a UTF-8 character is
 *     dropped: in UTF-8 it is no character, and no control either;
 *   - inside an escape sequence, a C0 control acts at once and DEL is
 *     ignored, as libvterm does, so that it sees the sequences the filter
 *     sees (ESC NUL [ b is a REP: fuzz_ttyplay's fifth finding); an ESC
 *     before a byte of 0x80 or more starts nothing and is dropped;
 *   - REP (CSI n b) is done here, as the last graphic character passed
 *     n times (at most REP_MAX): libvterm loops forever on a REP with no
 *     character before it (fuzz_ttyplay's fourth finding).
 * Sequences may span events: where the output is stays in the player. */
enum { SEQ_TEXT, SEQ_ESC, SEQ_ESC_INTER, SEQ_CSI, SEQ_STRING, SEQ_STRING_ESC };
#define ESC_INTER_MAX 3
#define REP_MAX 4096
#define CSI_PARAMS_MAX 15

static void out_byte(struct player *p, unsigned char c)
{
	p->fbuf[p->flen++] = c;
	if (p->flen == sizeof(p->fbuf)) {
		vterm_input_write(p->vt, (const char *)p->fbuf, p->flen);
		p->flen = 0;
	}
}

/* A whole CSI sequence (ESC [ ... final) is in p->csi: pass it on unless
 * it is one to leave out. */
static void csi_done(struct player *p)
{
	unsigned char fin = p->csi[p->csi_len - 1];
	int dollar = memchr(p->csi, '$', p->csi_len) != NULL, params = 0;

	for (size_t i = 0; i < p->csi_len; i++)
		params += p->csi[i] == ';' || p->csi[i] == ':';
	if (params > CSI_PARAMS_MAX || fin == 'c' || fin == 'n' || fin == 't' || fin == 'x' ||
	    (dollar && fin == 'p'))
		return;
	if (fin == 'b') {
		/* REP: ESC [ digits b, else nothing */
		unsigned long n = 0;

		for (size_t i = 2; i + 1 < p->csi_len; i++) {
			if (p->csi[i] < '0' || p->csi[i] > '9')
				return;
			n = n * 10 + (p->csi[i] - '0');
			if (n > REP_MAX)
				n = REP_MAX;
		}
		for (unsigned long k = 0; k < (n ? n : 1); k++)
			for (size_t i = 0; i < p->last_len; i++)
				out_byte(p, p->last[i]);
		return;
	}
	for (size_t i = 0; i < p->csi_len; i++)
		out_byte(p, p->csi[i]);
}

static void filter_byte(struct player *p, unsigned char c)
{
	switch (p->seq) {
	case SEQ_ESC:
		if (c < 0x20 && c != 0x1b && c != 0x18 && c != 0x1a) {
			/* a control inside the sequence acts at once, and the
			 * sequence goes on (as libvterm takes it: ESC NUL [ b is
			 * a REP) */
			out_byte(p, c);
			return;
		}
		if (c == 0x7f)
			return;   /* DEL is ignored inside it */
		if (c >= 0x80) {
			p->seq = SEQ_TEXT;   /* no sequence: the ESC is dropped */
			break;
		}
		if (c == '[') {
			p->seq = SEQ_CSI;
			p->csi[0] = 0x1b;
			p->csi[1] = '[';
			p->csi_len = 2;
			return;
		}
		if (c == 'P' || c == ']' || c == 'X' || c == '^' || c == '_') {
			p->seq = SEQ_STRING;
			return;
		}
		if (c >= 0x20 && c <= 0x2f) {
			/* an intermediate byte: gathered with the ESC in csi[] */
			p->seq = SEQ_ESC_INTER;
			p->csi[0] = 0x1b;
			p->csi[1] = c;
			p->csi_len = 2;
			return;
		}
		p->seq = SEQ_TEXT;
		if (c == 'Z' || c == 0x1b || c == 0x18 || c == 0x1a) {
			if (c == 0x1b)
				p->seq = SEQ_ESC;
			return;   /* DECID; an ESC again; CAN or SUB cancel */
		}
		out_byte(p, 0x1b);
		out_byte(p, c);
		return;
	case SEQ_ESC_INTER:
		if (c >= 0x20 && c <= 0x2f) {
			if (p->csi_len <= ESC_INTER_MAX)
				p->csi[p->csi_len] = c;
			p->csi_len++;   /* past ESC_INTER_MAX + 1: dropped at its end */
			return;
		}
		if (c == 0x1b || c == 0x18 || c == 0x1a) {
			p->seq = c == 0x1b ? SEQ_ESC : SEQ_TEXT;   /* abandoned */
			return;
		}
		if (c < 0x20) {
			out_byte(p, c);     /* a control inside it acts at once */
			return;
		}
		if (c == 'P' || c == ']' || c == 'X' || c == '^' || c == '_') {
			p->seq = SEQ_STRING;   /* what libvterm would take as a string */
			return;
		}
		if (c == '[') {
			p->seq = SEQ_CSI;      /* ...or as a CSI: dropped up to its final */
			p->csi_len = sizeof(p->csi) + 1;
			return;
		}
		p->seq = SEQ_TEXT;
		if (p->csi_len > ESC_INTER_MAX + 1 || c == 'Z' || c > 0x7e)
			return;
		for (size_t i = 0; i < p->csi_len; i++)
			out_byte(p, p->csi[i]);
		out_byte(p, c);
		return;
	case SEQ_CSI:
		if (c == 0x1b) {
			p->seq = SEQ_ESC;   /* the sequence is abandoned */
			return;
		}
		if (c == 0x18 || c == 0x1a) {
			p->seq = SEQ_TEXT;
			return;
		}
		if (c < 0x20) {
			out_byte(p, c);     /* a control inside a CSI acts at once */
			return;
		}
		if (p->csi_len >= sizeof(p->csi)) {
			/* overlong: dropped, up to its final byte */
			p->csi_len = sizeof(p->csi) + 1;
			if (c >= 0x40 && c <= 0x7e)
				p->seq = SEQ_TEXT;
			return;
		}
		p->csi[p->csi_len++] = c;
		if (c >= 0x40 && c <= 0x7e) {
			p->seq = SEQ_TEXT;
			csi_done(p);
		}
		return;
	case SEQ_STRING:
		if (c == 0x1b)
			p->seq = SEQ_STRING_ESC;
		else if (c == 0x07 || c == 0x9c || c == 0x18 || c == 0x1a)
			p->seq = SEQ_TEXT;
		return;
	case SEQ_STRING_ESC:
		/* ESC \ ends the string; any other ESC sequence ends it too
		 * and starts anew */
		p->seq = SEQ_TEXT;
		if (c != '\\') {
			p->seq = SEQ_ESC;
			filter_byte(p, c);
		}
		return;
	default:
		break;
	}
	if (c == 0x1b) {
		p->seq = SEQ_ESC;
		return;
	}
	if (p->utf8_more > 0 && (c & 0xc0) == 0x80) {
		p->utf8_more--;
		out_byte(p, c);
		if (p->ch_len < sizeof(p->ch))
			p->ch[p->ch_len++] = c;
		if (p->utf8_more == 0) {
			memcpy(p->last, p->ch, p->ch_len);   /* a whole character: REP repeats it */
			p->last_len = p->ch_len;
		}
		return;
	}
	p->utf8_more = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xc2 && c <= 0xdf ? 1 : 0;
	if (c >= 0x80 && c <= 0x9f)
		return;   /* a stray C1 byte */
	out_byte(p, c);
	p->ch[0] = c;
	p->ch_len = 1;
	if (c >= 0x20 && c <= 0x7e) {
		p->last[0] = c;
		p->last_len = 1;
	}
}

static void feed(struct player *p, const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		filter_byte(p, data[i]);
	if (p->flen > 0)
		vterm_input_write(p->vt, (const char *)p->fbuf, p->flen);
	p->flen = 0;
}

/* stdout and stderr are recorded only when they were not a terminal (a
 * pipe, a file): no line discipline turned their LF into CR LF, as the
 * terminal that finally showed them (through cat, less) did. */
static void feed_lines(struct player *p, const unsigned char *data, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		feed(p, data + start, i - start);
		feed(p, (const unsigned char *)"\r\n", 2);
		start = i + 1;
	}
	feed(p, data + start, len - start);
}

/* One event into the screen; input is not drawn (the terminal's echo of
 * it is in the output). */
static void screen_apply(struct player *p, const struct pa_io_event *e)
{
	int was_dirty = p->dirty;

	p->rec_us = e->t_us;
	switch (e->type) {
	case PA_IO_TTYOUT:
		if (e->data != NULL)
			feed(p, e->data, e->len);
		break;
	case PA_IO_STDOUT:
	case PA_IO_STDERR:
		if (e->data != NULL)
			feed_lines(p, e->data, e->len);
		break;
	case PA_IO_WINSIZE:
		if (e->rows > 0 && e->cols > 0) {
			int rows = (int)clamp_size(e->rows, DEFAULT_ROWS, MAX_ROWS);
			int cols = (int)clamp_size(e->cols, DEFAULT_COLS, MAX_COLS);

			if (rows != p->rows || cols != p->cols)
				vterm_set_size(p->vt, rows, cols);
		}
		break;
	case PA_IO_SUSPEND:
		p->suspended = e->signo != SIGCONT;
		if (p->on_tty)
			p->dirty = 1;   /* the status line says it */
		break;
	case PA_IO_TTYIN:
	case PA_IO_STDIN:
	case PA_IO_NTYPES:
	default:
		break;
	}
	vterm_screen_flush_damage(p->screen);
	if (!was_dirty && p->dirty)
		p->dirty_since = clock_us(p);
}

/* What may be drawn of a cell's text: no C0 or C1 control, DEL, surrogate
 * or value beyond Unicode, and no format character (bidirectional
 * overrides, zero-width and odd spaces) that could reorder or hide what
 * the auditor reads. */
static int is_drawable(uint32_t cp)
{
	return cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0) && !(cp >= 0xd800 && cp <= 0xdfff) &&
	       cp <= 0x10ffff && !pa_is_format_char(cp);
}

static void put_utf8(pa_text *t, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	pa_text_put(t, b, n);
}

/* A cell's text, at most room columns of it; returns the columns covered.
 * An empty cell is a space; a character that may not be drawn is '?' (a
 * format character, which shows as nothing or a space, is a space), and
 * combining characters that may not be drawn are left out. */
static int put_cell(pa_text *t, const VTermScreenCell *cell, int room)
{
	uint32_t c0 = cell->chars[0];
	int width = cell->width == 2 ? 2 : 1;

	if (c0 == (uint32_t)-1 || c0 == 0) {
		/* empty, or the right half of a wide character drawn without
		 * its left half: a space keeps the columns right */
		pa_text_put(t, " ", 1);
		return 1;
	}
	if (width > room) {
		pa_text_put(t, " ", 1);
		return 1;
	}
	if (!is_drawable(c0)) {
		pa_text_put(t, pa_is_format_char(c0) ? " " : "?", 1);
		if (width == 2)
			pa_text_put(t, " ", 1);
		return width;
	}
	put_utf8(t, c0);
	for (int i = 1; i < VTERM_MAX_CHARS_PER_CELL && cell->chars[i] != 0; i++)
		if (is_drawable(cell->chars[i]))
			put_utf8(t, cell->chars[i]);
	return width;
}

static void get_cell(const struct player *p, int row, int col, VTermScreenCell *cell)
{
	VTermPos pos = {.row = row, .col = col};

	memset(cell, 0, sizeof(*cell));
	if (!vterm_screen_get_cell(p->screen, pos, cell))
		memset(cell, 0, sizeof(*cell));
}

static void text_truncate(pa_text *t, size_t len)
{
	if (t->err == PA_TEXT_OK && t->buf != NULL && len <= t->len) {
		t->len = len;
		t->buf[len] = '\0';
	}
}

/* The screen as plain text: one line per row, trailing blanks trimmed,
 * trailing empty rows dropped. */
static void render_plain(const struct player *p, pa_text *t)
{
	size_t keep = t->len;

	for (int r = 0; r < p->rows; r++) {
		size_t start = t->len;

		for (int c = 0; c < p->cols;) {
			VTermScreenCell cell;

			get_cell(p, r, c, &cell);
			c += put_cell(t, &cell, p->cols - c);
		}
		while (t->err == PA_TEXT_OK && t->len > start && t->buf[t->len - 1] == ' ')
			text_truncate(t, t->len - 1);
		pa_text_put(t, "\n", 1);
		if (t->len > start + 1)
			keep = t->len;
	}
	text_truncate(t, keep);
}

static int text_check(const pa_text *t)
{
	if (t->err != PA_TEXT_OK) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int emit(struct player *p, const void *data, size_t len)
{
	errno = 0;
	if (len > 0 && fwrite(data, 1, len, p->out) != len) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int emit_text(struct player *p, const pa_text *t)
{
	if (text_check(t) < 0)
		return -1;
	return emit(p, t->buf, t->len);
}

/* ------------------------------------------------ frames off a terminal */

static void put_time(pa_text *t, uint64_t us)
{
	pa_text_printf(t, "+%" PRIu64 ".%03us", us / 1000000u, (unsigned)(us % 1000000u / 1000u));
}

static const char *signal_name(int signo)
{
	switch (signo) {
	case SIGTSTP:
		return "SIGTSTP";
	case SIGSTOP:
		return "SIGSTOP";
	case SIGTTIN:
		return "SIGTTIN";
	case SIGTTOU:
		return "SIGTTOU";
	case SIGCONT:
		return "SIGCONT";
	default:
		return NULL;
	}
}

/* The rows of a frame, each after "| ": a recorded program that prints a
 * line like a frame header cannot pass it off as one. */
static int emit_rows(struct player *p, const pa_text *t)
{
	size_t at = 0;

	if (text_check(t) < 0)
		return -1;
	while (at < t->len) {
		const char *nl = memchr(t->buf + at, '\n', t->len - at);
		size_t end = nl != NULL ? (size_t)(nl - t->buf) + 1 : t->len;

		if (emit(p, end - at > 1 ? "| " : "|", end - at > 1 ? 2 : 1) < 0 ||
		    emit(p, t->buf + at, end - at) < 0)
			return -1;
		at = end;
	}
	return 0;
}

/* "--- +S.SSSs ---" and the rows, unless they are those of the last frame
 * printed. */
static int print_frame(struct player *p)
{
	pa_text head, swap;
	int rc;

	p->dirty = 0;
	pa_text_reset(&p->frame);
	render_plain(p, &p->frame);
	if (text_check(&p->frame) < 0)
		return -1;
	if (p->prev.err == PA_TEXT_OK && p->prev.buf != NULL && p->prev.len == p->frame.len &&
	    memcmp(p->prev.buf, p->frame.buf, p->frame.len) == 0)
		return 0;
	if (p->prev.buf == NULL && p->frame.len == 0)
		return 0;   /* an empty screen before anything was shown */
	pa_text_init(&head, 0);
	pa_text_puts(&head, "--- ");
	put_time(&head, p->rec_us);
	pa_text_puts(&head, " ---\n");
	rc = emit_text(p, &head);
	pa_text_free(&head);
	if (rc < 0 || emit_rows(p, &p->frame) < 0)
		return -1;
	/* the frame printed becomes the one the next is compared with */
	swap = p->prev;
	p->prev = p->frame;
	p->frame = swap;
	return 0;
}

static int print_note(struct player *p, const struct pa_io_event *e)
{
	const char *name = signal_name(e->signo);
	pa_text t;
	int rc;

	pa_text_init(&t, 0);
	pa_text_puts(&t, "--- ");
	put_time(&t, e->t_us);
	if (e->signo == SIGCONT)
		pa_text_puts(&t, " resumed ---\n");
	else if (name != NULL)
		pa_text_printf(&t, " suspended (%s) ---\n", name);
	else
		pa_text_printf(&t, " suspended (signal %d) ---\n", e->signo);
	rc = emit_text(p, &t);
	pa_text_free(&t);
	return rc;
}

/* ------------------------------------------------- frames on a terminal */

static void tty_size(struct player *p)
{
	struct winsize ws;
	int rows = DEFAULT_ROWS, cols = DEFAULT_COLS;

	if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	if (rows != p->tty_rows || cols != p->tty_cols)
		p->need_clear = 1;
	p->tty_rows = rows;
	p->tty_cols = cols;
}

static int color_eq(const VTermColor *a, const VTermColor *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type & VTERM_COLOR_DEFAULT_MASK)
		return 1;
	if (VTERM_COLOR_IS_INDEXED(a))
		return a->indexed.idx == b->indexed.idx;
	return a->rgb.red == b->rgb.red && a->rgb.green == b->rgb.green &&
	       a->rgb.blue == b->rgb.blue;
}

static int pen_eq(const struct pen *a, const struct pen *b)
{
	return a->bold == b->bold && a->underline == b->underline && a->italic == b->italic &&
	       a->blink == b->blink && a->reverse == b->reverse && a->strike == b->strike &&
	       color_eq(&a->fg, &b->fg) && color_eq(&a->bg, &b->bg);
}

static void pen_default(struct pen *pen)
{
	memset(pen, 0, sizeof(*pen));
	pen->fg.type = VTERM_COLOR_DEFAULT_FG;
	pen->bg.type = VTERM_COLOR_DEFAULT_BG;
}

static void pen_of(struct pen *pen, const VTermScreenCell *cell)
{
	pen_default(pen);
	pen->bold = cell->attrs.bold;
	pen->underline = cell->attrs.underline != 0;
	pen->italic = cell->attrs.italic;
	pen->blink = cell->attrs.blink;
	pen->reverse = cell->attrs.reverse;
	pen->strike = cell->attrs.strike;
	pen->fg = cell->fg;
	pen->bg = cell->bg;
}

/* base: 30 for a foreground, 40 for a background.  Every number written
 * is one of ours, from a small integer field. */
static void put_sgr_color(pa_text *t, const VTermColor *c, unsigned base, unsigned dflt_flag)
{
	if (c->type & dflt_flag)
		return;
	if (VTERM_COLOR_IS_INDEXED(c)) {
		unsigned idx = c->indexed.idx;

		if (idx < 8)
			pa_text_printf(t, ";%u", base + idx);
		else if (idx < 16)
			pa_text_printf(t, ";%u", base + 60 + idx - 8);
		else
			pa_text_printf(t, ";%u;5;%u", base + 8, idx);
	} else {
		pa_text_printf(t, ";%u;2;%u;%u;%u", base + 8, (unsigned)c->rgb.red,
			       (unsigned)c->rgb.green, (unsigned)c->rgb.blue);
	}
}

static void put_sgr(pa_text *t, const struct pen *pen)
{
	pa_text_puts(t, "\033[0");
	if (pen->bold)
		pa_text_puts(t, ";1");
	if (pen->italic)
		pa_text_puts(t, ";3");
	if (pen->underline)
		pa_text_puts(t, ";4");
	if (pen->blink)
		pa_text_puts(t, ";5");
	if (pen->reverse)
		pa_text_puts(t, ";7");
	if (pen->strike)
		pa_text_puts(t, ";9");
	put_sgr_color(t, &pen->fg, 30, VTERM_COLOR_DEFAULT_FG);
	put_sgr_color(t, &pen->bg, 40, VTERM_COLOR_DEFAULT_BG);
	pa_text_puts(t, "m");
}

/* Blank as CSI K leaves it: nothing drawn there, in the default colours
 * when they are shown. */
static int is_blank(const struct player *p, const VTermScreenCell *cell)
{
	if (cell->chars[0] != 0 && cell->chars[0] != ' ')
		return 0;
	if (!p->opts->color)
		return 1;
	return (cell->bg.type & VTERM_COLOR_DEFAULT_BG) && !cell->attrs.reverse &&
	       !cell->attrs.underline && !cell->attrs.strike;
}

static void draw_row(struct player *p, pa_text *t, int r, int disp_cols)
{
	struct pen cur, want;
	int end = p->cols < disp_cols ? p->cols : disp_cols;
	int c = 0;

	/* the last cell that is not blank, so that CSI K does the rest */
	while (end > 0) {
		VTermScreenCell cell;

		get_cell(p, r, end - 1, &cell);
		if (!is_blank(p, &cell))
			break;
		end--;
	}
	pa_text_printf(t, "\033[%d;1H", r + 1);
	pen_default(&cur);
	if (p->opts->color)
		pa_text_puts(t, "\033[0m");
	while (c < end) {
		VTermScreenCell cell;

		get_cell(p, r, c, &cell);
		if (p->opts->color) {
			pen_of(&want, &cell);
			if (!pen_eq(&cur, &want)) {
				put_sgr(t, &want);
				cur = want;
			}
		}
		c += put_cell(t, &cell, disp_cols - c);
	}
	if (p->opts->color)
		pa_text_puts(t, "\033[0m");
	/* In the last column the cursor waits to wrap, and CSI K would
	 * erase the character just drawn. */
	if (c < disp_cols)
		pa_text_puts(t, "\033[K");
}

static void draw_status(struct player *p, pa_text *t)
{
	pa_text line;

	pa_text_init(&line, 0);
	put_time(&line, p->rec_us);
	if (p->keyfd >= 0 && p->speed > 0)
		pa_text_printf(&line, "  speed %gx", p->speed);
	if (p->paused)
		pa_text_puts(&line, "  PAUSED");
	if (p->suspended)
		pa_text_puts(&line, "  [command suspended]");
	if (p->sealed_events > 0)
		pa_text_printf(&line, "  output sealed: %" PRIu64 " bytes not shown",
			       p->sealed_bytes);
	if (p->rows > p->disp_rows || p->cols > p->tty_cols)
		pa_text_printf(&line, "  screen %dx%d clipped", p->cols, p->rows);
	if (p->keyfd >= 0)
		pa_text_puts(&line, "  keys: space pause, . step, < > speed, q quit");
	/* one line, never wrapped: the last column is left alone (ASCII
	 * only, so a byte is a column) */
	if (line.len > (size_t)(p->tty_cols - 1))
		text_truncate(&line, (size_t)(p->tty_cols - 1));
	pa_text_printf(t, "\033[%d;1H", p->disp_rows + 1);
	if (line.err != PA_TEXT_OK)
		t->err = line.err;
	else
		pa_text_put(t, line.buf, line.len);
	pa_text_free(&line);
}

/* Redraws the whole screen in place, clipped to the auditor's terminal. */
static int draw_tty(struct player *p)
{
	pa_text *t = &p->frame;
	VTermPos cur;
	int disp_cols;

	p->dirty = 0;
	tty_size(p);
	p->disp_rows = p->tty_rows > 1 ? p->tty_rows - 1 : 1;
	if (p->rows < p->disp_rows)
		p->disp_rows = p->rows;
	disp_cols = p->cols < p->tty_cols ? p->cols : p->tty_cols;
	pa_text_reset(t);
	pa_text_puts(t, "\033[?25l");
	if (p->need_clear)
		pa_text_puts(t, "\033[0m\033[H\033[2J");
	for (int r = 0; r < p->disp_rows; r++)
		draw_row(p, t, r, disp_cols);
	if (p->disp_rows < p->tty_rows)
		draw_status(p, t);
	pa_text_puts(t, "\033[J");
	vterm_state_get_cursorpos(vterm_obtain_state(p->vt), &cur);
	if (p->cursor_visible && cur.row >= 0 && cur.row < p->disp_rows && cur.col >= 0 &&
	    cur.col < disp_cols)
		pa_text_printf(t, "\033[%d;%dH\033[?25h", cur.row + 1, cur.col + 1);
	if (emit_text(p, t) < 0 || fflush(p->out) != 0)
		return -1;
	p->need_clear = 0;
	p->drawn = 1;
	return 0;
}

/* Leaves the auditor's terminal as it was, below the last frame. */
static int tty_leave(struct player *p)
{
	pa_text t;
	int rc, last;

	if (!p->drawn)
		return 0;
	last = p->disp_rows < p->tty_rows ? p->disp_rows + 1 : p->disp_rows;
	pa_text_init(&t, 0);
	pa_text_printf(&t, "\033[0m\033[%d;1H\r\n\033[?25h", last);
	rc = emit_text(p, &t);
	pa_text_free(&t);
	if (fflush(p->out) != 0)
		rc = -1;
	p->drawn = 0;
	p->need_clear = 1;
	return rc;
}

static int frame(struct player *p)
{
	return p->on_tty ? draw_tty(p) : print_frame(p);
}

/* --------------------------------------------------- keys and signals */

static void signals_catch(struct player *p)
{
	sigset_t block;

	sig_term = sig_tstp = sig_cont = sig_winch = 0;
	sigemptyset(&block);
	for (size_t i = 0; i < NCAUGHT; i++) {
		struct sigaction sa;

		if (sigaction(caught[i], NULL, &p->oldact[i]) < 0)
			continue;
		/* what the caller chose to ignore (nohup) stays ignored */
		if (p->oldact[i].sa_handler == SIG_IGN && caught[i] != SIGCONT &&
		    caught[i] != SIGWINCH)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		if (sigaction(caught[i], &sa, NULL) < 0)
			continue;
		p->installed[i] = 1;
		sigaddset(&block, caught[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &p->oldmask);
	p->sigs = 1;
}

static void signals_restore(struct player *p)
{
	if (!p->sigs)
		return;
	for (size_t i = 0; i < NCAUGHT; i++)
		if (p->installed[i]) {
			sigaction(caught[i], &p->oldact[i], NULL);
			p->installed[i] = 0;
		}
	sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
	p->sigs = 0;
}

static int set_tio(int fd, const struct termios *tio)
{
	int rc;

	while ((rc = tcsetattr(fd, TCSADRAIN, tio)) < 0 && errno == EINTR)
		;
	return rc;
}

/* Keys without Enter and without echo; ^C and ^Z still signal (ISIG). */
static int keys_cbreak(struct player *p)
{
	struct termios t = p->saved_tio;

	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return set_tio(p->keyfd, &t);
}

static void keys_open(struct player *p)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	/* in the background, changing the terminal would stop us (SIGTTOU) */
	if (tcgetpgrp(fd) != getpgrp() || tcgetattr(fd, &p->saved_tio) < 0) {
		close(fd);
		return;
	}
	p->keyfd = fd;
	if (keys_cbreak(p) < 0) {
		close(fd);
		p->keyfd = -1;
		return;
	}
	p->keys_live = 1;
}

static void keys_close(struct player *p)
{
	if (p->keyfd < 0)
		return;
	set_tio(p->keyfd, &p->saved_tio);
	close(p->keyfd);
	p->keyfd = -1;
	p->keys_live = 0;
}

/* Our state of the terminal off (before a stop), and back on. */
static int term_off(struct player *p)
{
	int rc = 0;

	if (p->on_tty)
		rc = tty_leave(p);
	if (p->keyfd >= 0)
		set_tio(p->keyfd, &p->saved_tio);
	return rc;
}

static void term_on(struct player *p)
{
	if (p->keyfd >= 0)
		keys_cbreak(p);
	p->need_clear = 1;
}

/* ^Z: the terminal as the shell expects it, then the stop itself. */
static int suspend_self(struct player *p)
{
	struct sigaction dfl, mine;
	sigset_t s;
	int rc = term_off(p);

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGTSTP, &dfl, &mine);
	sigemptyset(&s);
	sigaddset(&s, SIGTSTP);
	raise(SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &s, NULL);   /* stopped here until SIGCONT */
	sigprocmask(SIG_BLOCK, &s, NULL);
	sigaction(SIGTSTP, &mine, NULL);
	sig_cont = 0;
	term_on(p);
	return rc;
}

static int handle_signals(struct player *p)
{
	int redraw = 0;

	if (sig_term != 0) {
		p->term_signo = sig_term;
		p->quit = 1;
		return 0;
	}
	if (sig_tstp) {
		sig_tstp = 0;
		if (suspend_self(p) < 0)
			return -1;
		redraw = 1;
	}
	if (sig_cont) {
		/* stopped by SIGSTOP, which cannot be caught */
		sig_cont = 0;
		term_on(p);
		redraw = 1;
	}
	if (sig_winch) {
		sig_winch = 0;
		redraw = 1;
	}
	if (redraw && p->on_tty)
		return draw_tty(p);
	return 0;
}

static double clamp_speed(double s)
{
	return s < MIN_SPEED ? MIN_SPEED : s > MAX_SPEED ? MAX_SPEED : s;
}

static int read_keys(struct player *p)
{
	unsigned char buf[64];
	ssize_t n = read(p->keyfd, buf, sizeof(buf));
	int was_paused = p->paused;
	double speed = p->speed;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			p->keys_live = 0;   /* hung up: play on without keys */
		return 0;
	}
	/* A terminal's answer to a query (with --raw, the recording can ask
	 * one) comes as a sequence in one burst; its bytes are no keys, nor
	 * are a function key's. */
	if (memchr(buf, 0x1b, (size_t)n) != NULL || memchr(buf, 0x9b, (size_t)n) != NULL ||
	    memchr(buf, 0x90, (size_t)n) != NULL)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		switch (buf[i]) {
		case ' ':
			p->paused = !p->paused;
			p->stepping = 0;
			break;
		case '.':
			if (p->paused)
				p->stepping = 1;
			break;
		case '<':
			if (p->speed > 0)
				p->speed = clamp_speed(p->speed / 2);
			break;
		case '>':
			if (p->speed > 0)
				p->speed = clamp_speed(p->speed * 2);
			break;
		case 'q':
		case 'Q':
			p->quit = 1;
			break;
		default:
			break;
		}
	}
	/* the status line says paused and the speed at once */
	if (p->on_tty && !p->quit && (p->paused != was_paused || p->speed != speed))
		return draw_tty(p);
	return 0;
}

/* Keys and signals that came meanwhile, waiting up to timeout (NULL:
 * until one comes). */
static int poll_input(struct player *p, const struct timespec *timeout)
{
	struct pollfd pfd = {.fd = p->keyfd, .events = POLLIN};
	int n = p->keys_live ? 1 : 0;
	int r = ppoll(n ? &pfd : NULL, (nfds_t)n, timeout, p->sigs ? &p->oldmask : NULL);

	p->last_poll = now_us();
	if (r > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) && read_keys(p) < 0)
		return -1;
	return handle_signals(p);
}

/* Keys and signals, now and then while playing without waiting. */
static int poll_now(struct player *p)
{
	static const struct timespec zero = {0, 0};

	if (!p->sigs && !p->keys_live)
		return 0;
	if (now_us() - p->last_poll < FRAME_US)
		return 0;
	return poll_input(p, &zero);
}

/* How long rec_us of recording takes to play, in seconds. */
static double played(const struct player *p, uint64_t rec_us)
{
	double s;

	if (!(p->speed > 0))
		return 0;
	s = (double)rec_us / 1e6 / p->speed;
	if (p->opts->max_wait > 0 && s > p->opts->max_wait)
		s = p->opts->max_wait;
	return s < LONGEST_WAIT ? s : LONGEST_WAIT;
}

/* Plays a pause of rec_us of recording: at the current speed, capped at
 * max_wait, for as long as the auditor keeps it paused; a step skips it.
 * A change of speed rescales what is left of it. */
static int wait_rec(struct player *p, uint64_t rec_us)
{
	double total = played(p, rec_us), done = 0;

	for (;;) {
		struct timespec ts;
		double speed = p->speed;
		int was_paused;
		uint64_t t0;

		if (!p->keys_live)
			p->paused = 0;   /* no key could end the pause any more */
		if (p->quit || p->stepping || (!p->paused && done >= total))
			return 0;
		was_paused = p->paused;
		if (!was_paused) {
			ts.tv_sec = (time_t)(total - done);
			ts.tv_nsec = (long)((total - done - (double)ts.tv_sec) * 1e9);
		}
		t0 = now_us();
		if (poll_input(p, was_paused ? NULL : &ts) < 0)
			return -1;
		if (!was_paused)
			done += (double)(now_us() - t0) / 1e6;
		if (p->speed != speed) {
			double t2 = played(p, rec_us);

			done = total > 0 ? done * t2 / total : 0;
			total = t2;
		}
	}
}

static uint64_t delta_us(const struct pa_io_event *prev, const struct pa_io_event *e)
{
	return e->t_us > prev->t_us ? e->t_us - prev->t_us : 0;
}

/* ------------------------------------------------------------ the modes */

static int play_screen(struct player *p)
{
	for (size_t i = 0; i < p->log->n; i++)
		screen_apply(p, &p->log->ev[i]);
	pa_text_reset(&p->frame);
	render_plain(p, &p->frame);
	return emit_text(p, &p->frame);
}

/* Whether the frame shown by now must be drawn before the pause of rec_us
 * that comes next (see FRAME_US). */
static int frame_due(const struct player *p, uint64_t rec_us)
{
	uint64_t next;

	if (p->on_tty) {
		if (p->paused)
			return 1;
		next = now_us() + (uint64_t)(played(p, rec_us) * 1e6);
	} else {
		next = p->rec_us + rec_us;
	}
	return next - p->dirty_since >= FRAME_US;
}

static int play_frames(struct player *p)
{
	const struct pa_io_log *log = p->log;

	if (!p->on_tty && p->sealed_events > 0 &&
	    fprintf(p->out, "--- output sealed: %" PRIu64 " bytes not shown ---\n",
		    p->sealed_bytes) < 0)
		return -1;
	for (size_t i = 0; i < log->n && !p->quit; i++) {
		const struct pa_io_event *e = &log->ev[i];
		uint64_t rec = i > 0 ? delta_us(&log->ev[i - 1], e) : 0;

		if (p->dirty && !p->stepping && frame_due(p, rec) && frame(p) < 0)
			return -1;
		if (p->on_tty && (i > 0 || p->paused) && wait_rec(p, rec) < 0)
			return -1;
		if (p->quit)
			break;
		if (e->type == PA_IO_SUSPEND && !p->on_tty) {
			/* the screen as it was when the command stopped */
			if (p->dirty && print_frame(p) < 0)
				return -1;
			screen_apply(p, e);
			if (print_note(p, e) < 0)
				return -1;
			continue;
		}
		screen_apply(p, e);
		if (p->on_tty && p->dirty &&
		    (p->stepping || now_us() - p->dirty_since >= FRAME_US)) {
			p->stepping = 0;
			if (draw_tty(p) < 0)
				return -1;
		}
		if (poll_now(p) < 0)
			return -1;
	}
	/* the last screen, also when the auditor quit (q) */
	if (p->dirty && p->term_signo == 0 && frame(p) < 0)
		return -1;
	return 0;
}

static int play_raw(struct player *p)
{
	const struct pa_io_log *log = p->log;
	int timed = p->speed > 0 || p->keyfd >= 0;

	for (size_t i = 0; i < log->n && !p->quit; i++) {
		const struct pa_io_event *e = &log->ev[i];

		if ((i > 0 || p->paused) &&
		    wait_rec(p, i > 0 ? delta_us(&log->ev[i - 1], e) : 0) < 0)
			return -1;
		if (p->quit)
			break;
		p->rec_us = e->t_us;
		if (!is_output(e->type) || e->data == NULL || e->len == 0)
			continue;
		if (emit(p, e->data, e->len) < 0 || (timed && fflush(p->out) != 0))
			return -1;
		p->stepping = 0;
		if (poll_now(p) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the entry */

static void player_init(struct player *p, const struct pa_io_log *log,
			const struct pa_tty_opts *opts, FILE *out)
{
	memset(p, 0, sizeof(*p));
	p->log = log;
	p->opts = opts;
	p->out = out;
	p->keyfd = -1;
	p->speed = opts->speed > 0 ? opts->speed : 0;
	pa_text_init(&p->frame, 0);
	pa_text_init(&p->prev, 0);
	for (size_t i = 0; i < log->n; i++)
		if (is_output(log->ev[i].type) && log->ev[i].data == NULL) {
			p->sealed_events++;
			p->sealed_bytes += log->ev[i].len;
		}
}

static void player_free(struct player *p)
{
	keys_close(p);
	signals_restore(p);
	if (p->vt != NULL)
		vterm_free(p->vt);
	p->vt = NULL;
	pa_text_free(&p->frame);
	pa_text_free(&p->prev);
}

int pa_tty_play(const struct pa_io_log *log, const struct pa_tty_opts *opts, FILE *out)
{
	struct player p;
	int rc = -1, err = 0, fd, want_keys;

	if (log == NULL || opts == NULL || out == NULL || (log->n > 0 && log->ev == NULL) ||
	    (opts->mode != PA_TTY_FRAMES && opts->mode != PA_TTY_SCREEN &&
	     opts->mode != PA_TTY_RAW)) {
		errno = EINVAL;
		return -1;
	}
	player_init(&p, log, opts, out);
	fd = fileno(out);
	if (opts->mode == PA_TTY_FRAMES)
		p.on_tty = fd >= 0 && isatty(fd);
	/* Keys are read only while something is timed: frames on a
	 * terminal, or the raw bytes. */
	want_keys = opts->interactive && (p.on_tty || opts->mode == PA_TTY_RAW);
	/* On the auditor's terminal, or reading its keys: signals are
	 * caught first, so that no moment leaves it in our state. */
	if (p.on_tty || want_keys)
		signals_catch(&p);
	if (want_keys)
		keys_open(&p);
	p.last_poll = now_us();
	if (opts->mode != PA_TTY_RAW && screen_open(&p) < 0)
		goto out;
	switch (opts->mode) {
	case PA_TTY_RAW:
		rc = play_raw(&p);
		break;
	case PA_TTY_SCREEN:
		rc = play_screen(&p);
		break;
	case PA_TTY_FRAMES:
	default:
		rc = play_frames(&p);
		break;
	}
out:
	if (rc < 0)
		err = errno;
	if (p.on_tty && tty_leave(&p) < 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	if (fflush(out) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	player_free(&p);
	if (p.term_signo != 0) {
		/* the terminal is ours again: let the signal do what it was
		 * sent to do, as if it had come while nothing was playing */
		raise(p.term_signo);
		if (rc == 0) {
			rc = -1;
			err = EINTR;
		}
	}
	if (rc < 0)
		errno = err != 0 ? err : EIO;
	return rc;
}
