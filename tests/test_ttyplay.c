/* SPDX-License-Identifier: ISC */
/* test_ttyplay.c: unit tests of replay --tty's player (cli/ttyplay.c):
 * the screens libvterm makes of recorded output, frames and their times,
 * raw bytes, and that no escape sequence of a recording reaches the
 * auditor's terminal, off a terminal and on a real pty. */
#include "config.h"

#include "testutil.h"

#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <vterm.h>

#include "ttyplay.h"

#define EV(t, ty, s) \
	{.t_us = (t), .type = (ty), .data = (const unsigned char *)(s), .len = sizeof(s) - 1}
#define OUT(t, s) EV(t, PA_IO_TTYOUT, s)
#define NEV(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000u
#define SEC 1000000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What pa_tty_play() writes to a file that is not a terminal. */
static char *play_opts(const struct pa_io_event *ev, size_t n, unsigned rows, unsigned cols,
		       const struct pa_tty_opts *o, size_t *lenp)
{
	struct pa_io_log log = {.rows = rows, .cols = cols, .ev = ev, .n = n};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(pa_tty_play(&log, o, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static char *play(const struct pa_io_event *ev, size_t n, unsigned rows, unsigned cols,
		  enum pa_tty_mode mode, int color, size_t *lenp)
{
	struct pa_tty_opts o = {.mode = mode, .speed = 1, .max_wait = 0, .color = color};

	return play_opts(ev, n, rows, cols, &o, lenp);
}

static void expect_screen(const struct pa_io_event *ev, size_t n, unsigned rows, unsigned cols,
			  const char *want)
{
	char *got = play(ev, n, rows, cols, PA_TTY_SCREEN, 0, NULL);

	assert_string_equal(got, want);
	free(got);
}

static size_t count(const char *hay, const char *needle)
{
	size_t k = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		k++;
	return k;
}

static void test_text(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "hello\r\n"),
		OUT(10 * MS, "world   \r\n"),
		OUT(20 * MS, "\xe4\xb8\xad\xe6\x96\x87 wide, caf\xc3\xa9\r\n"),
	};

	(void)state;
	expect_screen(ev, NEV(ev), 24, 80,
		      "hello\nworld\n\xe4\xb8\xad\xe6\x96\x87 wide, caf\xc3\xa9\n");
	/* the size was not known: 80 columns, so the 81st character wraps */
	{
		static const struct pa_io_event wrap[] = {
			OUT(0, "0123456789012345678901234567890123456789"
			       "0123456789012345678901234567890123456789X"),
		};

		expect_screen(wrap, NEV(wrap), 0, 0,
			      "0123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789\nX\n");
	}
}

/* stdout and stderr were pipes: their LF is a new line as the terminal
 * that showed them made it. */
static void test_stdout_lines(void **state)
{
	static const struct pa_io_event ev[] = {
		EV(0, PA_IO_STDOUT, "one\ntwo\n"),
		EV(1, PA_IO_STDERR, "err\n"),
		OUT(2, "tty\r\n"),
	};

	(void)state;
	expect_screen(ev, NEV(ev), 24, 80, "one\ntwo\nerr\ntty\n");
}

/* CR, backspace, cursor addressing and erasing, as shells and editors use
 * them. */
static const struct pa_io_event editing[] = {
	OUT(0, "line1\r\nline2\r\nline3\r\nline4\r\nline5\r\nline6"),
	OUT(1 * MS, "\033[2;3HXY"),             /* overwrite in row 2 */
	OUT(2 * MS, "\033[4;1H\033[K"),         /* erase row 4 */
	OUT(3 * MS, "\033[5;1H\033[J"),         /* erase rows 5 and below */
	OUT(4 * MS, "\033[7;2Hend"),
	OUT(5 * MS, "\033[8;1H12345\rab"),      /* CR: back to column 1 */
	OUT(6 * MS, "\r\nxy\bz"),               /* backspace, overwrite */
	OUT(7 * MS, "\033[3;6H\033[1K"),        /* erase to the cursor */
};

static void test_cursor_editing(void **state)
{
	(void)state;
	expect_screen(editing, NEV(editing), 12, 40,
		      "line1\nliXY2\n\n\n\n\n end\nab345\nxz\n");
}

/* Sequences libvterm 0.1 mishandles are done or dropped before it: REP
 * repeats the last character (ncurses writes it for runs of one), and
 * hangs nothing when there is none; ESC ( 0 and ESC ( B still switch the
 * character set; ESC + P, a control string to libvterm, is dropped with
 * the string. */
static const struct pa_io_event rep[] = {
	OUT(0, "\033[3bx\033[3b|\r\n"),
	OUT(1 * MS, "\303\251\033[2b|\033[b|\r\n"),
	OUT(2 * MS, "\033(0q\033(Bq\033+P$qc\033\\.\r\n"),
};

static void test_rep_and_charsets(void **state)
{
	(void)state;
	expect_screen(rep, NEV(rep), 4, 20, "xxxx|\n\303\251\303\251\303\251|||\n\342\224\200q.\n");
}

/* A full-screen program (top -b repaints, vi on the alternate screen). */
static const struct pa_io_event top[] = {
	OUT(0, "$ top\r\nold junk that the clear removes\r\n"),
	OUT(1 * MS, "\033[H\033[2Jtop - 10:00:00 up 1 day\r\nTasks:   1 total\r\n\r\n"
		    "  PID USER\r\n    1 root"),
	OUT(2 * MS, "\033[2;10H2"),
};
static const struct pa_io_event vi[] = {
	OUT(0, "$ vi f\r\n"),
	OUT(1 * MS, "\033[?1049h\033[H\033[2J~\r\n~\r\n~\033[24;1H\"f\" 3L"),
	EV(2 * MS, PA_IO_TTYIN, ":q\r"),
	OUT(3 * MS, "\033[?1049l"),
	OUT(4 * MS, "$ done"),
};

static void test_fullscreen(void **state)
{
	(void)state;
	expect_screen(top, NEV(top), 24, 80,
		      "top - 10:00:00 up 1 day\nTasks:   2 total\n\n  PID USER\n    1 root\n");
	/* back on the normal screen, as a terminal shows it after vi */
	expect_screen(vi, NEV(vi), 24, 80, "$ vi f\n$ done\n");
}

static void test_color_is_plain(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "\033[1;31mred\033[0m \033[38;5;200mpink\033[48;2;10;20;30mbg\033[m "
		       "\033[4;7;9munder\033[0m\r\n"),
	};

	(void)state;
	for (int color = 0; color <= 1; color++) {
		char *got = play(ev, NEV(ev), 24, 80, PA_TTY_SCREEN, color, NULL);

		assert_string_equal(got, "red pinkbg under\n");
		free(got);
	}
}

/* What a recorded program could print to act on the terminal that replays
 * it: title, clipboard, DCS, private modes, the alternate screen, device
 * status requests, 8-bit and UTF-8 C1 CSI, BEL, a bidi override, a
 * hyperlink, charset and keypad switches. */
static const char hostile[] =
	"A\033]0;evil title\007"
	"B\033]52;c;ZXZpbA==\007"
	"C\033P1$qm\033\\"
	"D\033[?1049hALTSCREEN\033[?1049l"
	"E\033[6n\033[c\033[>c"
	"F\033[?1000h\033[?2004h\033[?25l"
	"G\x9b" "31m"
	"H\xc2\x9b" "4m"
	"I\xe2\x80\xae" "J"
	"\033]8;;http://evil/\033\\link\033]8;;\033\\"
	"\033=\033[31mK\007\033[0m"
	"\x90qq\x9c\x9d" "0;t\x07"
	"\033(0qq\033(B"
	"\r\n\x01\x02\x7f\x1b";

static void assert_inert(const char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == 0x1b || c == 0x9b || c == 0x07 || (c < 0x20 && c != '\n') || c == 0x7f)
			fail_msg("byte 0x%02x at %zu of output", c, i);
		/* a C1 control written as UTF-8 */
		if (c == 0xc2 && i + 1 < len && (unsigned char)out[i + 1] >= 0x80 &&
		    (unsigned char)out[i + 1] < 0xa0)
			fail_msg("C1 U+00%02x at %zu of output", (unsigned char)out[i + 1], i);
	}
	assert_null(strstr(out, "\xe2\x80\xae"));   /* RLO */
	assert_null(strstr(out, "evil"));
	assert_null(strstr(out, "ZXZpbA"));
	assert_null(strstr(out, "ALTSCREEN"));
	assert_null(strstr(out, "1049"));
}

static void test_hostile_plain(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "safe\r\n"),
		{.t_us = 100 * MS, .type = PA_IO_TTYOUT, .data = (const unsigned char *)hostile,
		 .len = sizeof(hostile) - 1},
		OUT(200 * MS, "Zafter"),   /* ESC Z: identify yourself */
	};

	(void)state;
	for (int mode = 0; mode < 2; mode++)
		for (int color = 0; color <= 1; color++) {
			size_t len;
			char *got = play(ev, NEV(ev), 24, 80,
					 mode == 0 ? PA_TTY_SCREEN : PA_TTY_FRAMES, color, &len);

			assert_int_equal(strlen(got), len);
			assert_inert(got, len);
			/* the text between the sequences is on the screen, in
			 * order: a stray 8-bit C1 byte is no UTF-8 character
			 * and no control (left out), the bidi override is left
			 * out (frames put "| " before each row) */
			assert_non_null(strstr(got, mode == 0 ? "safe\nABCDEFG" "31m"
							      : "safe\n| ABCDEFG" "31m"));
			assert_non_null(strstr(got, "IJlinkK"));
			assert_non_null(strstr(got, mode == 0 ? "\nafter\n" : "\n| after\n"));
			free(got);
		}
}

static void test_raw_exact(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "\033]0;title\007raw\r\n"),
		EV(1 * MS, PA_IO_TTYIN, "typed-secret"),
		EV(2 * MS, PA_IO_STDOUT, "out\n"),
		{.t_us = 3 * MS, .type = PA_IO_TTYOUT, .data = NULL, .len = 99},
		{.t_us = 4 * MS, .type = PA_IO_WINSIZE, .rows = 50, .cols = 132},
		EV(5 * MS, PA_IO_STDERR, "err\x9b\n"),
		EV(6 * MS, PA_IO_STDIN, "stdin-secret"),
		{.t_us = 7 * MS, .type = PA_IO_TTYOUT, .data = (const unsigned char *)hostile,
		 .len = sizeof(hostile) - 1},
	};
	char want[512];
	size_t len, wlen;
	char *got;

	(void)state;
	wlen = (size_t)snprintf(want, sizeof(want), "%s%s%s", "\033]0;title\007raw\r\n", "out\n",
				"err\x9b\n");
	memcpy(want + wlen, hostile, sizeof(hostile) - 1);
	wlen += sizeof(hostile) - 1;
	got = play(ev, NEV(ev), 24, 80, PA_TTY_RAW, 0, &len);
	/* speed 1 above; now without waiting */
	assert_int_equal(len, wlen);
	assert_memory_equal(got, want, wlen);
	free(got);
}

static void test_raw_timing(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "a"),
		OUT(300 * MS, "b"),
	};
	static const struct pa_io_event longgap[] = {
		OUT(0, "a"),
		OUT(20 * SEC, "b"),
	};
	struct pa_tty_opts o = {.mode = PA_TTY_RAW, .speed = 1};
	double t0, dt;
	char *got;

	(void)state;
	t0 = now_s();
	got = play_opts(ev, NEV(ev), 24, 80, &o, NULL);
	dt = now_s() - t0;
	assert_string_equal(got, "ab");
	free(got);
	assert_true(dt >= 0.29);
	/* twice as fast */
	o.speed = 2;
	t0 = now_s();
	free(play_opts(ev, NEV(ev), 24, 80, &o, NULL));
	dt = now_s() - t0;
	assert_true(dt >= 0.14 && dt < 0.29);
	/* a long pause capped */
	o.speed = 1;
	o.max_wait = 0.05;
	t0 = now_s();
	free(play_opts(longgap, NEV(longgap), 24, 80, &o, NULL));
	dt = now_s() - t0;
	assert_true(dt >= 0.049 && dt < 2);
	/* speed 0: no waiting at all */
	o.speed = 0;
	o.max_wait = 0;
	t0 = now_s();
	free(play_opts(longgap, NEV(longgap), 24, 80, &o, NULL));
	assert_true(now_s() - t0 < 2);
}

static void test_winsize(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "top\r\n"),
		{.t_us = 1 * MS, .type = PA_IO_WINSIZE, .rows = 30, .cols = 120},
		OUT(2 * MS, "\033[2;101Hfar"),
		OUT(3 * MS, "\033[30;1Hbottom"),
	};
	static const struct pa_io_event noresize[] = {
		OUT(0, "top\r\n"),
		OUT(2 * MS, "\033[2;101Hfar"),
	};
	/* absurd sizes are bounded, zero is ignored */
	static const struct pa_io_event huge[] = {
		{.t_us = 0, .type = PA_IO_WINSIZE, .rows = 65535, .cols = 65535},
		{.t_us = 1, .type = PA_IO_WINSIZE, .rows = 0, .cols = 0},
		OUT(2, "ok"),
	};
	char want[256];
	char *got;

	(void)state;
	snprintf(want, sizeof(want), "top\n%*sfar\n%s", 100, "", "");
	for (int i = 0; i < 27; i++)
		strcat(want, "\n");
	strcat(want, "bottom\n");
	expect_screen(ev, NEV(ev), 24, 80, want);
	/* without the resize the column is clamped to the 80th, and the
	 * text wraps */
	snprintf(want, sizeof(want), "top\n%*sf\nar\n", 79, "");
	expect_screen(noresize, NEV(noresize), 24, 80, want);
	got = play(huge, NEV(huge), 24, 80, PA_TTY_SCREEN, 0, NULL);
	assert_string_equal(got, "ok\n");
	free(got);
}

/* Frames off a terminal: a header with the time, then the rows; events
 * within 1/30 s of a batch's first change are one frame; a frame equal
 * to the last is not printed; input does not show; nothing waits. */
static void test_frames(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "one\r\n"),
		OUT(1500 * MS, "two\r\n"),
		OUT(1510 * MS, "three"),
		EV(3 * SEC, PA_IO_TTYIN, "typed"),
		OUT(4250 * MS, "\033[2J\033[Hclear"),
		OUT(5 * SEC, "\rclear"),                 /* the same screen again */
		OUT(6 * SEC, "\033[6n"),                 /* no change at all */
		{.t_us = 7 * SEC, .type = PA_IO_SUSPEND, .signo = SIGTSTP},
		{.t_us = 9 * SEC, .type = PA_IO_SUSPEND, .signo = SIGCONT},
		OUT(9 * SEC + 1, "!"),
	};
	double t0 = now_s();
	char *got = play(ev, NEV(ev), 24, 80, PA_TTY_FRAMES, 1, NULL);

	(void)state;
	assert_true(now_s() - t0 < 1.0);
	assert_string_equal(got,
			    "--- +0.000s ---\n"
			    "| one\n"
			    "--- +1.510s ---\n"
			    "| one\n"
			    "| two\n"
			    "| three\n"
			    "--- +4.250s ---\n"
			    "| clear\n"
			    "--- +7.000s suspended (SIGTSTP) ---\n"
			    "--- +9.000s resumed ---\n"
			    "--- +9.000s ---\n"
			    "| clear!\n");
	free(got);
}

/* text with "| " before each line ("|" before an empty one), as frames
 * print rows off a terminal; a static buffer */
static const char *prefixed(const char *text)
{
	static char buf[65536];
	size_t o = 0;

	for (const char *p = text; *p != '\0' && o + 4 < sizeof(buf);) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		if (n > 1) {
			buf[o++] = '|';
			buf[o++] = ' ';
		} else {
			buf[o++] = '|';
		}
		if (o + n >= sizeof(buf))
			break;
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	buf[o] = '\0';
	return buf;
}

/* Output written every millisecond for 3 s: about 30 frames a recorded
 * second, not 3000, and the last is the final screen. */
static void test_frames_coalesce(void **state)
{
	enum { N = 3000 };
	struct pa_io_event *ev = calloc(N, sizeof(*ev));
	char *frames, *screen, *last;
	size_t k;

	(void)state;
	assert_non_null(ev);
	for (size_t i = 0; i < N; i++) {
		ev[i].t_us = i * MS;
		ev[i].type = PA_IO_TTYOUT;
		ev[i].data = (const unsigned char *)(i % 40 == 39 ? "x\r\n" : "x");
		ev[i].len = i % 40 == 39 ? 3 : 1;
	}
	frames = play(ev, N, 24, 80, PA_TTY_FRAMES, 0, NULL);
	screen = play(ev, N, 24, 80, PA_TTY_SCREEN, 0, NULL);
	k = count(frames, "--- +");
	assert_true(k >= 60 && k <= 3 * 30 + 2);
	assert_non_null(strstr(frames, "--- +2.999s ---\n"));
	last = strstr(frames, "--- +2.999s ---\n") + strlen("--- +2.999s ---\n");
	assert_string_equal(last, prefixed(screen));
	free(frames);
	free(screen);
	free(ev);
}

static void test_input_not_drawn(void **state)
{
	static const struct pa_io_event ev[] = {
		EV(0, PA_IO_TTYIN, "typed-password\r"),
		EV(1, PA_IO_STDIN, "piped-secret\n"),
		OUT(2, "shown\r\n"),
	};

	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		char *got = play(ev, NEV(ev), 24, 80, (enum pa_tty_mode)mode, 0, NULL);

		assert_non_null(strstr(got, "shown"));
		assert_null(strstr(got, "password"));
		assert_null(strstr(got, "secret"));
		free(got);
	}
}

/* Output sealed and not opened: nothing drawn for it, said once. */
static void test_sealed(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "before\r\n"),
		{.t_us = 1 * MS, .type = PA_IO_TTYOUT, .data = NULL, .len = 1000},
		{.t_us = 2 * MS, .type = PA_IO_STDOUT, .data = NULL, .len = 234},
		OUT(3 * MS, "after\r\n"),
	};
	char *got;

	(void)state;
	got = play(ev, NEV(ev), 24, 80, PA_TTY_FRAMES, 0, NULL);
	assert_string_equal(got,
			    "--- output sealed: 1234 bytes not shown ---\n"
			    "--- +0.003s ---\n"
			    "| before\n"
			    "| after\n");
	free(got);
	expect_screen(ev, NEV(ev), 24, 80, "before\nafter\n");
}

static void test_write_error(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "some output\r\n"),
	};
	struct pa_io_log log = {.rows = 24, .cols = 80, .ev = ev, .n = NEV(ev)};

	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		struct pa_tty_opts o = {.mode = (enum pa_tty_mode)mode, .speed = 0};
		FILE *f = fopen("/dev/full", "w");

		assert_non_null(f);
		errno = 0;
		assert_int_equal(pa_tty_play(&log, &o, f), -1);
		assert_int_equal(errno, ENOSPC);
		fclose(f);
	}
}

/* ------------------------------------------------------ on a real pty */

struct pty {
	int master, slave;   /* slave: the parent's handle, to read its modes */
	char name[128];
	char *buf;           /* all the player wrote */
	size_t len, cap;
};

static void pty_open(struct pty *t)
{
	memset(t, 0, sizeof(*t));
	t->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(t->master >= 0);
	assert_int_equal(grantpt(t->master), 0);
	assert_int_equal(unlockpt(t->master), 0);
	assert_int_equal(ptsname_r(t->master, t->name, sizeof(t->name)), 0);
	t->slave = open(t->name, O_RDWR | O_NOCTTY);
	assert_true(t->slave >= 0);
}

static void pty_close(struct pty *t)
{
	close(t->master);
	close(t->slave);
	free(t->buf);
}

/* Reads what is there, waiting up to ms. */
static void pty_drain(struct pty *t, int ms)
{
	struct pollfd pfd = {.fd = t->master, .events = POLLIN};

	while (poll(&pfd, 1, ms) > 0) {
		char tmp[4096];
		ssize_t n = read(t->master, tmp, sizeof(tmp));

		if (n <= 0)
			break;
		if (t->len + (size_t)n + 1 > t->cap) {
			t->cap = (t->len + (size_t)n + 1) * 2;
			t->buf = realloc(t->buf, t->cap);
			assert_non_null(t->buf);
		}
		memcpy(t->buf + t->len, tmp, (size_t)n);
		t->len += (size_t)n;
		t->buf[t->len] = '\0';
		ms = 0;
	}
}

static int pty_has(const struct pty *t, const char *s)
{
	return t->buf != NULL && memmem(t->buf, t->len, s, strlen(s)) != NULL;
}

/* Drains the pty until the child exits (5 s at most). */
static int wait_child(struct pty *t, pid_t pid, int *st)
{
	for (int i = 0; i < 200; i++) {
		pty_drain(t, 25);
		if (waitpid(pid, st, WNOHANG) == pid)
			return 0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return -1;
}

/* Reads all that comes for ms. */
static void pty_drain_for(struct pty *t, int ms)
{
	double end = now_s() + ms / 1000.0;

	while (now_s() < end)
		pty_drain(t, 10);
}

/* Reads until s was written, 5 s at most; whether it was. */
static int pty_wait_for(struct pty *t, const char *s)
{
	double end = now_s() + 5;

	while (!pty_has(t, s) && now_s() < end)
		pty_drain(t, 10);
	return pty_has(t, s);
}

static int pty_ends_with(const struct pty *t, const char *s)
{
	size_t n = strlen(s);

	return t->len >= n && memcmp(t->buf + t->len - n, s, n) == 0;
}

/* Plays log to a fresh pty of rows x cols (not the controlling terminal
 * of the child that plays), and collects what it wrote. */
static void play_on_pty(struct pty *t, const struct pa_io_log *log, const struct pa_tty_opts *o,
			int rows, int cols)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	pid_t pid;
	int st;

	pty_open(t);
	assert_int_equal(ioctl(t->slave, TIOCSWINSZ, &ws), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fdopen(dup(t->slave), "w");

		alarm(30);   /* never outlive a failed test */
		_exit(f != NULL && pa_tty_play(log, o, f) == 0 && fclose(f) == 0 ? 0 : 1);
	}
	assert_int_equal(wait_child(t, pid, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The only sequences the player writes on a terminal: CSI with digits and
 * ';' ending in H, J, K or m, and CSI ?25h / ?25l. */
static void assert_only_ours(const struct pty *t)
{
	const unsigned char *p = (const unsigned char *)t->buf;

	for (size_t i = 0; i < t->len; i++) {
		size_t j;

		if (p[i] == 0x9b || p[i] == 0x07 || p[i] == 0x7f)
			fail_msg("byte 0x%02x at %zu", p[i], i);
		if (p[i] == 0xc2 && i + 1 < t->len && p[i + 1] >= 0x80 && p[i + 1] < 0xa0)
			fail_msg("C1 as UTF-8 at %zu", i);
		if (p[i] != 0x1b) {
			if (p[i] < 0x20 && p[i] != '\r' && p[i] != '\n')
				fail_msg("control 0x%02x at %zu", p[i], i);
			continue;
		}
		assert_true(i + 1 < t->len && p[i + 1] == '[');
		if (i + 5 < t->len && memcmp(p + i + 2, "?25", 3) == 0 &&
		    (p[i + 5] == 'h' || p[i + 5] == 'l')) {
			i += 5;
			continue;
		}
		for (j = i + 2; j < t->len && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';'); j++)
			;
		if (j >= t->len || strchr("HJKm", p[j]) == NULL || p[j] == 0)
			fail_msg("sequence not ours at %zu: %.12s", i, (const char *)p + i);
		i = j;
	}
}

/* Frames drawn in place on a terminal, with the hostile recording. */
static void test_tty_frames(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "safe\r\n"),
		{.t_us = 100 * MS, .type = PA_IO_TTYOUT, .data = (const unsigned char *)hostile,
		 .len = sizeof(hostile) - 1},
		{.t_us = 150 * MS, .type = PA_IO_TTYOUT, .data = NULL, .len = 77},
		OUT(200 * MS, "\033[1;32mafter\033[0m"),
	};
	struct pa_io_log log = {.rows = 24, .cols = 80, .ev = ev, .n = NEV(ev)};
	struct pty t;

	(void)state;
	for (int color = 0; color <= 1; color++) {
		struct pa_tty_opts o = {.mode = PA_TTY_FRAMES, .speed = 4, .color = color};

		play_on_pty(&t, &log, &o, 30, 100);
		assert_only_ours(&t);
		assert_false(pty_has(&t, "evil"));
		assert_false(pty_has(&t, "ALTSCREEN"));
		assert_false(pty_has(&t, "\xe2\x80\xae"));
		assert_true(pty_has(&t, "safe"));
		assert_true(pty_has(&t, "ABCDEF"));
		assert_true(pty_has(&t, "after"));
		assert_true(pty_has(&t, "output sealed: 77 bytes not shown"));
		/* colours of our own only when asked */
		assert_int_equal(pty_has(&t, "\033[0;32m") || pty_has(&t, "\033[0;1;32m"), color);
		/* left with the cursor shown, below the screen */
		assert_true(pty_ends_with(&t, "\r\n\033[?25h"));
		pty_close(&t);
	}
}

/* What the auditor's terminal shows after our bytes: a second emulator
 * fed with them, its top rows x cols as SCREEN mode prints a screen. */
static char *emulate(const char *buf, size_t len, int tty_rows, int tty_cols, int rows, int cols)
{
	VTerm *vt = vterm_new(tty_rows, tty_cols);
	VTermScreen *scr;
	char *text = calloc((size_t)rows, (size_t)cols * 8 + 2);
	size_t n = 0, keep = 0;

	assert_non_null(vt);
	assert_non_null(text);
	vterm_set_utf8(vt, 1);
	scr = vterm_obtain_screen(vt);
	vterm_screen_reset(scr, 1);
	vterm_input_write(vt, buf, len);
	for (int r = 0; r < rows; r++) {
		VTermRect rect = {.start_row = r, .end_row = r + 1, .end_col = cols};

		n += vterm_screen_get_text(scr, text + n, (size_t)cols * 8, rect);
		while (n > 0 && text[n - 1] == ' ')
			n--;
		text[n++] = '\n';
		if (n > 1 && text[n - 2] != '\n')
			keep = n;
	}
	text[keep] = '\0';
	vterm_free(vt);
	return text;
}

/* Each line of text cut to cols columns (ASCII text only). */
static void clip_cols(char *text, int cols)
{
	char *w = text;

	for (char *line = text; *line != '\0';) {
		char *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line);

		if (len > (size_t)cols)
			len = (size_t)cols;
		while (len > 0 && line[len - 1] == ' ')
			len--;
		memmove(w, line, len);
		w += len;
		*w++ = '\n';
		line = nl + 1;
	}
	*w = '\0';
}

/* Drawn in place, redrawn at each change, the auditor's terminal ends up
 * showing what SCREEN mode prints; clipped when it is smaller. */
static void test_tty_matches_screen(void **state)
{
	static const struct pa_io_event colors[] = {
		OUT(0, "\033[1;31mred\033[0m \033[38;5;200mpink\033[48;2;10;20;30mbg\033[m\r\n"),
		OUT(5 * MS, "\033[7mreverse\033[27m \033[44m  \033[m\r\n"),
		OUT(9 * MS, "\033[1;1H\033[4mRED\033[m"),
	};
	static const struct pa_io_event hostile_ev[] = {
		OUT(0, "safe\r\n"),
		{.t_us = 3 * MS, .type = PA_IO_TTYOUT, .data = (const unsigned char *)hostile,
		 .len = sizeof(hostile) - 1},
		OUT(6 * MS, "Zafter"),
	};
	static const struct {
		const struct pa_io_event *ev;
		size_t n;
		unsigned rows, cols;
		int tty_rows, tty_cols;
	} cases[] = {
		{editing, NEV(editing), 12, 40, 30, 100},
		{top, NEV(top), 24, 80, 30, 100},
		{vi, NEV(vi), 24, 80, 30, 100},
		{colors, NEV(colors), 24, 80, 30, 100},
		{hostile_ev, NEV(hostile_ev), 24, 80, 30, 100},
		{editing, NEV(editing), 12, 40, 8, 30},   /* clipped to 7 rows x 30 */
	};

	(void)state;
	for (size_t i = 0; i < NEV(cases); i++)
		for (int color = 0; color <= 1; color++) {
			struct pa_io_log log = {.rows = cases[i].rows, .cols = cases[i].cols,
						.ev = cases[i].ev, .n = cases[i].n};
			/* slowed down, every pause 50 ms: a frame per event */
			struct pa_tty_opts o = {.mode = PA_TTY_FRAMES, .speed = 0.01, .max_wait = 0.05,
						.color = color};
			int rows = cases[i].tty_rows - 1 < (int)cases[i].rows ?
				   cases[i].tty_rows - 1 : (int)cases[i].rows;
			int cols = cases[i].tty_cols < (int)cases[i].cols ?
				   cases[i].tty_cols : (int)cases[i].cols;
			char *want = play(cases[i].ev, cases[i].n, cases[i].rows, cases[i].cols,
					  PA_TTY_SCREEN, 0, NULL);
			char *shown;
			struct pty t;
			size_t outputs = 0;

			for (size_t k = 0; k < cases[i].n; k++)
				outputs += cases[i].ev[k].type == PA_IO_TTYOUT;
			play_on_pty(&t, &log, &o, cases[i].tty_rows, cases[i].tty_cols);
			assert_only_ours(&t);
			/* a frame per output event, each drawn from the top */
			assert_true(count(t.buf, "\033[1;1H") >= outputs);
			/* the last frame as shown, before the player's last line
			 * feed (which scrolls a full terminal) */
			assert_true(pty_ends_with(&t, "\r\n\033[?25h"));
			shown = emulate(t.buf, t.len - 8, cases[i].tty_rows, cases[i].tty_cols,
					rows, cols);
			if (cols < (int)cases[i].cols) {
				char *cut = strdup(want);
				int r = 0;

				assert_non_null(cut);
				/* only the rows that fit */
				for (char *p = cut; *p != '\0'; p++)
					if (*p == '\n' && ++r == rows) {
						p[1] = '\0';
						break;
					}
				clip_cols(cut, cols);
				free(want);
				want = cut;
			}
			assert_string_equal(shown, want);
			free(shown);
			free(want);
			pty_close(&t);
		}
}

/* The player in the foreground job of a session whose controlling
 * terminal (its /dev/tty) is the pty, playing with keys.  The child leads
 * the session as a shell would, so that the player's process group is not
 * orphaned (the kernel does not stop those on ^Z); it exits with the
 * player's status, or 128 + the signal that killed it. */
static void play_in_job(const char *name, const struct pa_io_log *log, double speed)
{
	struct pa_tty_opts o = {.mode = PA_TTY_FRAMES, .speed = speed, .interactive = 1};
	struct termios tio;
	FILE *f;
	int fd, rc, st;
	pid_t job;

	alarm(60);   /* never outlive a failed test */
	setsid();
	fd = open(name, O_RDWR);   /* becomes the controlling terminal */
	if (fd < 0)
		_exit(2);
	job = fork();
	if (job < 0)
		_exit(2);
	if (job == 0) {
		alarm(60);
		setpgid(0, 0);
		while (tcgetpgrp(fd) != getpgrp())
			usleep(1000);
		f = fdopen(fd, "w");
		if (f == NULL)
			_exit(2);
		rc = pa_tty_play(log, &o, f);
		/* the terminal is back in line mode with echo */
		if (tcgetattr(fd, &tio) < 0 || (tio.c_lflag & (ICANON | ECHO)) != (ICANON | ECHO))
			_exit(3);
		_exit(rc == 0 ? 0 : 1);
	}
	setpgid(job, job);
	signal(SIGTTOU, SIG_IGN);
	tcsetpgrp(fd, job);
	while (waitpid(job, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 4);
}

static pid_t start_interactive(struct pty *t, const struct pa_io_log *log, double speed)
{
	pid_t pid;

	pty_open(t);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		play_in_job(t->name, log, speed);
	return pid;
}

/* The player's process group: the pty's foreground job. */
static pid_t player_pgrp(const struct pty *t, pid_t leader)
{
	pid_t pg = -1;

	for (int i = 0; i < 500; i++) {
		pg = tcgetpgrp(t->master);
		if (pg > 0 && pg != leader)
			break;
		usleep(2000);
	}
	assert_true(pg > 0 && pg != leader);
	return pg;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

static int in_cbreak(const struct pty *t)
{
	struct termios tio;

	return tcgetattr(t->slave, &tio) == 0 && !(tio.c_lflag & ECHO) && !(tio.c_lflag & ICANON);
}


static void wait_cbreak(struct pty *t)
{
	for (int i = 0; i < 400 && !in_cbreak(t); i++)
		pty_drain(t, 10);
	assert_true(in_cbreak(t));
}

static const struct pa_io_event slow[] = {
	OUT(0, "first-marker\r\n"),
	OUT(1 * SEC, "second-marker\r\n"),
	OUT(30 * SEC, "third-marker\r\n"),
};

/* space pauses, '.' steps, q quits: a 30 s recording over in seconds, the
 * terminal restored. */
static void test_tty_keys(void **state)
{
	struct pa_io_log log = {.rows = 10, .cols = 40, .ev = slow, .n = NEV(slow)};
	struct pty t;
	int st;
	pid_t pid;

	(void)state;
	pid = start_interactive(&t, &log, 1);
	wait_cbreak(&t);
	assert_int_equal(write(t.master, " ", 1), 1);
	assert_true(pty_wait_for(&t, "PAUSED"));
	assert_true(pty_has(&t, "first-marker"));
	assert_true(pty_has(&t, "speed 1x"));
	pty_drain_for(&t, 1500);
	assert_false(pty_has(&t, "second-marker"));   /* 1 s passed, paused */
	/* faster, then slower, each shown on the status line (t.len = 0:
	 * only what is drawn from now on) */
	t.len = 0;
	assert_int_equal(write(t.master, ">", 1), 1);
	assert_true(pty_wait_for(&t, "speed 2x  PAUSED"));
	t.len = 0;
	assert_int_equal(write(t.master, "<", 1), 1);
	assert_true(pty_wait_for(&t, "speed 1x  PAUSED"));
	t.len = 0;
	assert_int_equal(write(t.master, "<", 1), 1);
	assert_true(pty_wait_for(&t, "speed 0.5x  PAUSED"));
	assert_int_equal(write(t.master, ".", 1), 1);
	assert_true(pty_wait_for(&t, "second-marker"));
	assert_false(pty_has(&t, "third-marker"));
	assert_int_equal(write(t.master, "q", 1), 1);
	assert_int_equal(wait_child(&t, pid, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(pty_has(&t, "third-marker"));
	assert_false(in_cbreak(&t));
	pty_close(&t);
}

/* SIGTERM while playing: the terminal restored, then the signal acts. */
static void test_tty_signal(void **state)
{
	struct pa_io_log log = {.rows = 10, .cols = 40, .ev = slow, .n = NEV(slow)};
	struct pty t;
	int st;
	pid_t pid;

	(void)state;
	pid = start_interactive(&t, &log, 1);
	wait_cbreak(&t);
	pty_drain(&t, 200);
	assert_int_equal(kill(player_pgrp(&t, pid), SIGTERM), 0);
	assert_int_equal(wait_child(&t, pid, &st), 0);
	/* killed by it, as without the player */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
	assert_false(in_cbreak(&t));
	assert_true(pty_ends_with(&t, "\r\n\033[?25h"));
	pty_close(&t);
}

/* ^Z: the terminal as the shell wants it while stopped, the player's
 * state again when continued. */
static void test_tty_suspend(void **state)
{
	struct pa_io_log log = {.rows = 10, .cols = 40, .ev = slow, .n = NEV(slow)};
	struct pty t;
	int st;
	pid_t pid, pg;
	char c = '?';

	(void)state;
	pid = start_interactive(&t, &log, 1);
	wait_cbreak(&t);
	pg = player_pgrp(&t, pid);
	assert_int_equal(kill(-pg, SIGTSTP), 0);
	for (int i = 0; i < 200 && (c = proc_state(pg)) != 'T'; i++)
		pty_drain(&t, 10);
	assert_int_equal(c, 'T');
	pty_drain_for(&t, 100);   /* what it wrote before it stopped */
	assert_false(in_cbreak(&t));
	assert_true(pty_ends_with(&t, "\r\n\033[?25h"));
	t.len = 0;
	assert_int_equal(kill(-pg, SIGCONT), 0);
	wait_cbreak(&t);
	/* redrawn from a cleared screen */
	assert_true(pty_wait_for(&t, "first-marker"));
	assert_true(pty_has(&t, "\033[2J"));
	assert_int_equal(write(t.master, "q", 1), 1);
	assert_int_equal(wait_child(&t, pid, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(in_cbreak(&t));
	pty_close(&t);
}

/* A window made smaller: the rows it lost are cleared on the auditor's
 * terminal too. */
static void test_tty_shrink(void **state)
{
	static const struct pa_io_event ev[] = {
		OUT(0, "row 1\r\nrow 2\r\nrow 3\r\nrow 4\r\nrow 5\r\nrow 6\r\nrow 7\r\n"
		       "row 8\r\nrow 9\r\nrow 10\r\nrow 11\r\nrow 12\r\nrow 13\r\nrow 14"),
		{.t_us = 100 * MS, .type = PA_IO_WINSIZE, .rows = 5, .cols = 40},
		OUT(200 * MS, "\033[H\033[2Jsmall"),
	};
	struct pa_io_log log = {.rows = 20, .cols = 80, .ev = ev, .n = NEV(ev)};
	struct pa_tty_opts o = {.mode = PA_TTY_FRAMES, .speed = 1};
	struct pty t;
	char *shown;

	(void)state;
	play_on_pty(&t, &log, &o, 30, 100);
	assert_true(pty_has(&t, "row 14"));   /* it was drawn */
	assert_true(pty_ends_with(&t, "\r\n\033[?25h"));
	shown = emulate(t.buf, t.len - 8, 30, 100, 30, 100);
	/* 5 rows, the status line, nothing below */
	assert_string_equal(shown, "small\n\n\n\n\n+0.200s\n");
	free(shown);
	pty_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_stdout_lines),
		cmocka_unit_test(test_cursor_editing),
		cmocka_unit_test(test_rep_and_charsets),
		cmocka_unit_test(test_fullscreen),
		cmocka_unit_test(test_color_is_plain),
		cmocka_unit_test(test_hostile_plain),
		cmocka_unit_test(test_raw_exact),
		cmocka_unit_test(test_raw_timing),
		cmocka_unit_test(test_winsize),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_frames_coalesce),
		cmocka_unit_test(test_input_not_drawn),
		cmocka_unit_test(test_sealed),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_tty_frames),
		cmocka_unit_test(test_tty_matches_screen),
		cmocka_unit_test(test_tty_keys),
		cmocka_unit_test(test_tty_signal),
		cmocka_unit_test(test_tty_suspend),
		cmocka_unit_test(test_tty_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
