/* SPDX-License-Identifier: ISC */
/* common.c: what every privaudit verb shares: exit statuses, numbers and
 * times on the command line, progress on a terminal, reading small files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"

const char *progname = "privaudit";
enum time_zone time_zone = ZONE_DEFAULT;

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
	char buf[64], off[16];
	struct tm tm;
	time_t tt = (time_t)(ns / 1000000000u);
	int local = time_zone == ZONE_LOCAL;

	if ((local ? localtime_r(&tt, &tm) : gmtime_r(&tt, &tm)) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(off, sizeof(off), "%z", &tm) != 5) {
		fputs("unknown", f);
		return;
	}
	fprintf(f, "%s.%03u", buf, (unsigned)(ns % 1000000000u / 1000000u));
	/* ISO 8601's +01:00, not strftime's +0100 */
	if (local)
		fprintf(f, "%.3s:%s", off, off + 3);
	else
		fputc('Z', f);
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
	t = utc || time_zone == ZONE_UTC ? timegm(&tm) : mktime(&tm);
	/* 2024-02-31 would roll over into March: refuse it */
	if (t == (time_t)-1 || t < 0 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out_ns = (uint64_t)t * 1000000000u;
	return 0;
}

/* Seconds in a unit of "-2h" or "2 hours ago"; 0 when it is none. */
static uint64_t unit_seconds(const char *u, size_t len)
{
	static const struct {
		const char *name;
		uint64_t secs;
	} units[] = {
		{"s", 1}, {"sec", 1}, {"secs", 1}, {"second", 1}, {"seconds", 1},
		{"m", 60}, {"min", 60}, {"mins", 60}, {"minute", 60}, {"minutes", 60},
		{"h", 3600}, {"hour", 3600}, {"hours", 3600},
		{"d", 86400}, {"day", 86400}, {"days", 86400},
		{"w", 604800}, {"week", 604800}, {"weeks", 604800},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && strncasecmp(u, units[i].name, len) == 0)
			return units[i].secs;
	return 0;
}

/* "N UNIT" (spaces optional between them) at s, up to end: that long
 * before now. */
static int parse_ago(const char *s, const char *end, uint64_t now, uint64_t *out_ns)
{
	uint64_t v = 0, mult;
	const char *p = s;

	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	while (p < end && *p == ' ')
		p++;
	mult = unit_seconds(p, (size_t)(end - p));
	if (mult == 0 || v > now / mult)
		return -1;
	*out_ns = (now - v * mult) * 1000000000u;
	return 0;
}

/* Midnight days before today, in the zone dates are read in. */
static int midnight(uint64_t now, int days, uint64_t *out_ns)
{
	time_t tt = (time_t)now, t;
	struct tm tm;

	if (time_zone == ZONE_UTC) {
		*out_ns = (now - now % 86400 - (uint64_t)days * 86400) * 1000000000u;
		return 0;
	}
	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days;           /* mktime normalises across months */
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1 || t < 0)
		return -1;
	*out_ns = (uint64_t)t * 1000000000u;
	return 0;
}

int parse_time(const char *s, uint64_t *out_ns)
{
	uint64_t v, now = (uint64_t)time(NULL);
	size_t n = strlen(s);

	if (strcasecmp(s, "now") == 0) {
		*out_ns = now * 1000000000u;
		return 0;
	}
	if (strcasecmp(s, "today") == 0)
		return midnight(now, 0, out_ns);
	if (strcasecmp(s, "yesterday") == 0)
		return midnight(now, 1, out_ns);
	if (s[0] == '@')
		return parse_num(s + 1, &v) < 0 || v > UINT64_MAX / 1000000000u
			       ? -1
			       : (*out_ns = v * 1000000000u, 0);
	if (s[0] == '-')
		return parse_ago(s + 1, s + n, now, out_ns);
	if (n > 4 && strcasecmp(s + n - 4, " ago") == 0)
		return parse_ago(s, s + n - 4, now, out_ns);
	return parse_date(s, out_ns);
}

int bad_time(const char *verb, const char *opt, const char *arg)
{
	fprintf(stderr, "%s %s: bad time for %s: '", progname, verb, opt);
	pa_print_escaped(stderr, arg, strlen(arg));
	fprintf(stderr, "'\n"
			"  times: @UNIXSECONDS, YYYY-MM-DD[THH:MM[:SS]][Z] (local time, UTC with Z\n"
			"  or --utc), now, today, yesterday, -30m, -2h, -1d, -1w, \"2 hours ago\"\n");
	return EXIT_USAGE;
}

int usage_error(const char *verb, const char *fmt, ...)
{
	if (fmt != NULL) {
		char buf[512];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		fprintf(stderr, "%s %s: ", progname, verb);
		pa_print_escaped(stderr, buf, strlen(buf));
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try '%s %s --help' for more information.\n", progname, verb);
	return EXIT_USAGE;
}

int check_operands(const char *verb, int argc, char **argv, const char *names)
{
	const char *p = names;
	int want = 0;

	for (p = names; *p != '\0'; p += strcspn(p, " "), p += strspn(p, " "))
		want++;
	if (argc - optind > want) {
		usage_error(verb, "unexpected argument '%s'", argv[optind + want]);
		return -1;
	}
	if (argc - optind < want) {
		/* the first name missing */
		p = names;
		for (int i = 0; i < argc - optind; i++) {
			p += strcspn(p, " ");
			p += strspn(p, " ");
		}
		usage_error(verb, "missing %.*s", (int)strcspn(p, " "), p);
		return -1;
	}
	return 0;
}

int err_open(const char *verb, const char *dir, privaudit_status st)
{
	int fd, err = 0;
	const char *why = NULL;

	/* The library says "not a log" or "I/O error"; the system knows
	 * whether the directory is missing or out of reach. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
	} else {
		int seg = openat(fd, "seg-0000000000000000", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (seg >= 0)
			close(seg);
		else if (errno == ENOENT)
			why = "not a privaudit log (no seg-0000000000000000 in it)";
		else
			err = errno;
		close(fd);
	}
	fprintf(stderr, "%s %s: ", progname, verb);
	pa_print_escaped(stderr, dir, strlen(dir));
	if (err != 0)
		fprintf(stderr, ": %s\n", strerror(err));
	else
		fprintf(stderr, ": %s\n", why != NULL ? why : privaudit_strerror(st));
	return err == 0 && why == NULL && status_exit(st) != EXIT_VERIFIED ? status_exit(st)
									   : EXIT_CANNOT_READ;
}

int stdout_failed(const char *verb)
{
	static int said;
	int err;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	err = errno;
	if (!said)
		fprintf(stderr, "%s %s: cannot write standard output: %s\n", progname, verb,
			err != 0 ? strerror(err) : "write error");
	said = 1;
	return 1;
}

static pid_t pager_pid = -1;

void pager_start(void)
{
	const char *pager = getenv("PAGER");
	int fds[2];
	pid_t pid;

	if (!isatty(STDOUT_FILENO))
		return;
	if (pager == NULL) {
		/* as git and journalctl do; none when less is not installed */
		if (access("/usr/bin/less", X_OK) != 0 && access("/bin/less", X_OK) != 0)
			return;
		pager = "less -FRX";
	}
	if (pager[0] == '\0' || strcmp(pager, "cat") == 0)
		return;
	fflush(stdout);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		setenv("LESS", "FRX", 0);
		execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (dup2(fds[1], STDOUT_FILENO) < 0) {
		close(fds[1]);
		return;
	}
	close(fds[1]);
	pager_pid = pid;
}

int pager_end(int rc)
{
	int status;

	if (pager_pid < 0)
		return rc;
	fflush(stdout);
	/* the pager sees the end of its input; the user reads on, then quits */
	close(STDOUT_FILENO);
	while (waitpid(pager_pid, &status, 0) < 0 && errno == EINTR)
		;
	pager_pid = -1;
	return rc;
}

void print_key_id(FILE *f, const char *vkey)
{
	size_t name = strcspn(vkey, "+\n"), id = 0;

	if (vkey[name] == '+')
		id = strcspn(vkey + name + 1, "+\n");
	pa_print_escaped(f, vkey, name);
	fputs(" (key id ", f);
	if (id > 0)
		pa_print_escaped(f, vkey + name + 1, id);
	else
		fputs("unknown", f);
	fputc(')', f);
}

void explain_key_mismatch(const char *verb, const char *dir, const char *keyfile)
{
	const privaudit_record *rec = NULL;
	privaudit_reader *r = NULL;
	char *pinned, own[512];
	const void *entry;
	size_t len;

	if (keyfile == NULL)
		return;
	pinned = read_key_line(keyfile);
	/* The log's own first key, as its genesis record (record 0) holds it:
	 * the library derives the key line; nothing here is crypto. */
	own[0] = '\0';
	if (privaudit_reader_open(&r, dir) == PRIVAUDIT_OK &&
	    privaudit_reader_get(r, 0, &rec) == PRIVAUDIT_OK) {
		privaudit_record_entry(rec, &entry, &len);
		if (privaudit_genesis_vkey(entry, len, own, sizeof(own)) != PRIVAUDIT_OK)
			own[0] = '\0';
	}
	privaudit_reader_free(r);
	fprintf(stderr, "%s %s: the log's first key:  ", progname, verb);
	if (own[0] != '\0')
		print_key_id(stderr, own);
	else
		fputs("unreadable", stderr);
	fprintf(stderr, "\n%s %s: the --key file's key: ", progname, verb);
	if (pinned != NULL)
		print_key_id(stderr, pinned);
	else
		fputs("unreadable", stderr);
	fputs(" (", stderr);
	pa_print_escaped(stderr, keyfile, strlen(keyfile));
	fputs(")\n", stderr);
	free(pinned);
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
