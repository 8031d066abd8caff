/* SPDX-License-Identifier: ISC */
/* common.c: what every privaudit verb shares: exit statuses, numbers and
 * times on the command line, progress on a terminal, reading small files. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"

const char *progname = "privaudit";

int status_exit(privaudit_status st)
{
	switch (st) {
	case PRIVAUDIT_OK:
		return EXIT_VERIFIED;
	case PRIVAUDIT_E_FORMAT:
	case PRIVAUDIT_E_FOREIGN:
		return EXIT_CORRUPT;
	case PRIVAUDIT_E_SEQUENCE:
	case PRIVAUDIT_E_ROOT:
		return EXIT_TAMPERED;
	case PRIVAUDIT_E_SIGNATURE:
	case PRIVAUDIT_E_CHAIN:
	case PRIVAUDIT_E_PINNED_KEY:
	case PRIVAUDIT_E_NOTE:
		return EXIT_SIGNATURE;
	case PRIVAUDIT_E_TRUNCATED:
		return EXIT_TRUNCATED;
	case PRIVAUDIT_E_TRUSTED:
		return EXIT_NOT_EXTENDED;
	case PRIVAUDIT_E_STALE:
		return EXIT_STALE;
	case PRIVAUDIT_E_PROOF:
	case PRIVAUDIT_E_FORK:
		return EXIT_TAMPERED;
	case PRIVAUDIT_E_WITNESS:
		return EXIT_WITNESS;
	case PRIVAUDIT_E_BACKDATED:
		return EXIT_BACKDATED;
	case PRIVAUDIT_E_NOTFOUND:
	case PRIVAUDIT_E_AMBIGUOUS:
		return EXIT_NOT_FOUND;
	case PRIVAUDIT_E_INVAL:
	case PRIVAUDIT_E_NOMEM:
	case PRIVAUDIT_E_IO:
	case PRIVAUDIT_E_EXISTS:
	case PRIVAUDIT_E_NOLOG:
	case PRIVAUDIT_E_LOCK_TIMEOUT:
	case PRIVAUDIT_E_CRYPTO:
	case PRIVAUDIT_E_KEY:
	case PRIVAUDIT_E_TOOBIG:
	case PRIVAUDIT_E_END:
	case PRIVAUDIT_E_STATE:
	case PRIVAUDIT_E_NOSPACE:
		break;
	}
	return EXIT_CANNOT_READ;
}

const char *status_class(privaudit_status st)
{
	switch (status_exit(st)) {
	case EXIT_VERIFIED: return "ok";
	case EXIT_CORRUPT: return "corrupt";
	case EXIT_TAMPERED: return "tampered";
	case EXIT_SIGNATURE: return "signature";
	case EXIT_TRUNCATED: return "truncated";
	case EXIT_NOT_EXTENDED: return "not-extended";
	case EXIT_STALE: return "stale";
	case EXIT_NOT_FOUND: return "not-found";
	case EXIT_WITNESS: return "witness";
	case EXIT_BACKDATED: return "backdated";
	default: return "unreadable";
	}
}

/* Parse a non-negative decimal number. */
int parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

void progress_init(struct progress *p, const char *label)
{
	p->start = time(NULL);
	p->shown = 0;
	p->enabled = isatty(STDERR_FILENO);
	p->label = label;
}

void show_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int pct, bar;

	if (!p->enabled || total == 0 || time(NULL) - p->start < 1)
		return;
	pct = (int)(done * 100 / total);
	if (pct > 100)
		pct = 100;
	bar = pct * 40 / 100;
	fprintf(stderr, "\r%s [%-40.*s] %3d%%", p->label, bar,
		"########################################", pct);
	p->shown = 1;
}

void progress_done(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int err = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t r;

		if (n + 65536 + 1 > cap) {
			size_t want = cap ? cap * 2 : 8192 + 65536;
			char *nb;

			if (want > max + 65536 + 1)
				want = max + 65536 + 1;   /* room for one read past max */
			if (want < n + 65536 + 1) {
				err = EFBIG;
				break;
			}
			nb = realloc(buf, want);
			if (nb == NULL) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap = want;
		}
		r = fread(buf + n, 1, 65536, f);
		n += r;
		if (r < 65536)
			break;
	}
	if (err == 0 && ferror(f))
		err = EIO;
	if (err == 0 && n > max)
		err = EFBIG;
	if (f != stdin)
		fclose(f);
	if (err != 0) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

char *read_text_file(const char *path, size_t *len)
{
	return read_file(path, 1u << 20, len);
}

void print_time(FILE *f, int64_t t)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		fputs("unknown", f);
	else
		fputs(buf, f);
}


void print_time_ns(FILE *f, uint64_t ns)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)(ns / 1000000000u);

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		fputs("unknown", f);
	else
		fprintf(f, "%s.%03uZ", buf, (unsigned)(ns % 1000000000u / 1000000u));
}

void print_duration(FILE *f, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	if (s >= 86400)
		fprintf(f, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		fprintf(f, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		fprintf(f, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		fprintf(f, "%" PRIu64 ".%03" PRIu64 "s", s, ns / 1000000u % 1000);
}

/* Digits of exactly n characters at s. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_date(const char *s, uint64_t *out_ns)
{
	struct tm tm;
	int utc = 0, y, mo, d, h = 0, mi = 0, sec = 0;
	size_t n = strlen(s);
	time_t t;

	if (n > 0 && s[n - 1] == 'Z') {
		utc = 1;
		n--;
	}
	if ((n != 10 && n != 16 && n != 19) || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0)
		return -1;
	if (n >= 16 && ((s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) < 0 ||
			s[13] != ':' || digits(s + 14, 2, &mi) < 0))
		return -1;
	if (n == 19 && (s[16] != ':' || digits(s + 17, 2, &sec) < 0))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	/* 2024-02-31 would roll over into March: refuse it */
	if (t == (time_t)-1 || t < 0 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out_ns = (uint64_t)t * 1000000000u;
	return 0;
}

int parse_time(const char *s, uint64_t *out_ns)
{
	uint64_t v, now = (uint64_t)time(NULL);

	if (strcmp(s, "now") == 0) {
		*out_ns = now * 1000000000u;
		return 0;
	}
	if (s[0] == '@')
		return parse_num(s + 1, &v) < 0 || v > UINT64_MAX / 1000000000u
			       ? -1
			       : (*out_ns = v * 1000000000u, 0);
	if (s[0] == '-') {
		size_t n = strlen(s);
		uint64_t mult;
		char num[32];

		if (n < 3 || n - 2 >= sizeof(num))
			return -1;
		switch (s[n - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
		memcpy(num, s + 1, n - 2);
		num[n - 2] = '\0';
		if (parse_num(num, &v) < 0 || v > now / mult)
			return -1;
		*out_ns = (now - v * mult) * 1000000000u;
		return 0;
	}
	return parse_date(s, out_ns);
}

void err_reader(const char *verb, const char *dir, privaudit_status st, const privaudit_reader *r)
{
	fprintf(stderr, "%s %s: ", progname, verb);
	pa_print_escaped(stderr, dir, strlen(dir));
	fprintf(stderr, ": %s", privaudit_strerror(st));
	if (r != NULL && strcmp(privaudit_reader_error(r), "no error") != 0) {
		const char *d = privaudit_reader_error(r);

		fputs(" (", stderr);
		pa_print_escaped(stderr, d, strlen(d));
		fputs(")", stderr);
	}
	fputc('\n', stderr);
}

char *read_key_line(const char *path)
{
	size_t len = 0;

	return read_text_file(path, &len);
}
