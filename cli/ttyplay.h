/* SPDX-License-Identifier: ISC */
/* ttyplay.h: playing back what a sudo command's terminal showed, from the
 * I/O records of sudo_privaudit.so (sudo_privaudit(8)).  The recording is
 * rendered through a terminal emulator (libvterm) into a screen of cells,
 * and only that screen is drawn on the auditor's terminal with escape
 * sequences of our own: nothing the recorded program printed (OSC, CSI,
 * DCS, title changes, mode switches) ever reaches the auditor's terminal,
 * unless --raw asks for the bytes as they were. */
#ifndef PA_TTYPLAY_H
#define PA_TTYPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What an I/O event is: the five streams of sudo's I/O plugin API, a
 * window size change and a suspend or resume (the stream values are those
 * of the records, doc/format.md "Terminal I/O"). */
enum pa_io_type {
	PA_IO_TTYIN = 0,
	PA_IO_TTYOUT = 1,
	PA_IO_STDIN = 2,
	PA_IO_STDOUT = 3,
	PA_IO_STDERR = 4,
	PA_IO_WINSIZE = 5,      /* rows, cols */
	PA_IO_SUSPEND = 6,      /* signo: SIGTSTP/SIGSTOP..., SIGCONT when resumed */
	PA_IO_NTYPES = 7
};

struct pa_io_event {
	uint64_t t_us;                  /* since the command started */
	enum pa_io_type type;
	const unsigned char *data;      /* streams: the bytes (NULL when sealed and not opened) */
	size_t len;                     /* streams: how many bytes */
	unsigned rows, cols;            /* PA_IO_WINSIZE */
	int signo;                      /* PA_IO_SUSPEND */
};

/* One sudo command's recording, in the order it happened. */
struct pa_io_log {
	unsigned rows, cols;            /* the terminal's size when it started (0: not known) */
	const struct pa_io_event *ev;
	size_t n;
};

enum pa_tty_mode {
	PA_TTY_FRAMES,   /* play it: screens with their timing */
	PA_TTY_SCREEN,   /* only the last screen, as text */
	PA_TTY_RAW,      /* the output bytes as recorded, with their timing */
};

struct pa_tty_opts {
	enum pa_tty_mode mode;
	double speed;           /* >0: 2 plays twice as fast; 0: no waiting at all */
	double max_wait;        /* longest pause in seconds (0: no limit) */
	int interactive;        /* keys from the terminal: space pause, '.' one step
				   while paused, '<' '>' slower and faster, 'q' quit */
	int color;              /* draw colours and attributes (SGR of our own) */
};

/* Play log to out.  Output is the ttyout, stdout and stderr streams; input
 * is not drawn (the terminal echoes what was typed).  In PA_TTY_FRAMES on
 * a terminal, each change redraws the screen in place; when out is not a
 * terminal, each frame is printed as a header line ("--- +S.SSSs ---")
 * and the screen's rows as plain text.  PA_TTY_SCREEN prints the final
 * screen's rows, trailing blanks trimmed and trailing empty rows dropped.
 * Returns 0, or -1 with errno (a write error, no memory). */
int pa_tty_play(const struct pa_io_log *log, const struct pa_tty_opts *opts, FILE *out);

#endif
