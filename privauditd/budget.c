/* SPDX-License-Identifier: ISC */
/* budget.c: max_log_bytes.  Every few seconds the live log is measured;
 * over its budget, a child process archives the oldest segments
 * (privaudit_archive(), down to three quarters of the budget, so that it
 * does not run again at once) while the daemon goes on answering PAM.
 * What cannot be archived (no archive_dir, records the collector has not
 * acknowledged, a segment written before archiving existed) leaves the log
 * over its budget: an alert goes to syslog (LOG_ALERT, every 10 minutes),
 * and budget_policy says whether records are still taken (warn) or refused
 * (refuse, so PAM's failmode decides). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "budget.h"
#include "privaudit.h"

#define CHECK_MS 5000
#define RETRY_MS 60000
#define ALERT_MS 600000

/* Child exit codes. */
enum { ARCHIVED = 0, FAILED = 1, NOTHING = 2 };

uint64_t pad_live_bytes(const char *dir)
{
	uint64_t total = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strncmp(de->d_name, "seg-", 4) != 0 || strlen(de->d_name) != 20)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			total += (uint64_t)sb.st_size;
	}
	closedir(d);
	return total;
}

/* In the child: archive, say what happened, exit. */
static void archive_child(const struct pad_config *c, pad_log_fn log)
{
	privaudit_archive_opts o;
	privaudit_archive_report rep;
	privaudit_status st;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);   /* the daemon's signalfd mask */
	memset(&o, 0, sizeof(o));
	o.older_than_s = -1;
	o.max_live_bytes = (uint64_t)c->max_log_bytes / 4 * 3;
	if (c->archive_unshipped)
		o.flags |= PRIVAUDIT_ARCHIVE_FORCE;
	st = privaudit_archive(c->dir, c->archive_dir, &o, &rep);
	if (st != PRIVAUDIT_OK) {
		log(LOG_ERR, "disk budget: archiving to %s failed: %s: %s", c->archive_dir,
		    privaudit_strerror(st), rep.detail);
		_exit(FAILED);
	}
	if (rep.segments == 0) {
		log(LOG_WARNING, "disk budget: %s", rep.detail);
		_exit(NOTHING);
	}
	log(LOG_NOTICE,
	    "disk budget: archived %llu segments (%llu bytes, %llu compressed) to %s; the live log "
	    "starts at record %llu and takes %llu bytes",
	    (unsigned long long)rep.segments, (unsigned long long)rep.bytes_in,
	    (unsigned long long)rep.bytes_out, c->archive_dir, (unsigned long long)rep.first_index,
	    (unsigned long long)rep.live_bytes);
	_exit(rep.unshipped || rep.no_anchor ? NOTHING : ARCHIVED);
}

static void alert(struct pad_budget *b, const struct pad_config *c, long long now, pad_log_fn log,
		  const char *why)
{
	if (b->last_alert != 0 && now - b->last_alert < ALERT_MS)
		return;
	b->last_alert = now;
	log(LOG_ALERT,
	    "disk budget: the log takes %llu bytes, over max_log_bytes %ld, and %s; %s",
	    (unsigned long long)b->live_bytes, c->max_log_bytes, why,
	    c->budget_refuse ? "records are refused (budget_policy = refuse): PAM's failmode decides"
			     : "recording goes on (budget_policy = warn) into the disk's free space");
}

long long pad_budget_tick(struct pad_budget *b, const struct pad_config *c, long long now,
			  pad_log_fn log)
{
	if (c->max_log_bytes <= 0) {
		b->over = 0;
		return now + 3600 * 1000LL;
	}
	if (b->child > 0) {
		int status;
		pid_t p = waitpid(b->child, &status, WNOHANG);

		if (p == 0)
			return now + 1000;   /* still archiving */
		b->child = 0;
		if (p < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != ARCHIVED)
			b->next_archive = now + RETRY_MS;
	}
	if (now < b->next_check)
		return b->next_check;
	b->next_check = now + CHECK_MS;
	b->live_bytes = pad_live_bytes(c->dir);
	if (b->live_bytes <= (uint64_t)c->max_log_bytes) {
		if (b->over)
			log(LOG_NOTICE, "disk budget: the log is back under max_log_bytes (%llu bytes)",
			    (unsigned long long)b->live_bytes);
		b->over = 0;
		b->last_alert = 0;
		return b->next_check;
	}
	if (c->archive_dir == NULL) {
		b->over = 1;
		alert(b, c, now, log, "no archive_dir is set to archive into");
		return b->next_check;
	}
	if (now < b->next_archive) {
		/* the last attempt moved nothing: what is left cannot go yet */
		b->over = 1;
		alert(b, c, now, log,
		      "archiving cannot bring it under (see the last disk budget message)");
		return b->next_check;
	}
	b->child = fork();
	if (b->child < 0) {
		b->child = 0;
		b->next_archive = now + RETRY_MS;
		log(LOG_ERR, "disk budget: fork: %s", strerror(errno));
		return b->next_check;
	}
	if (b->child == 0)
		archive_child(c, log);
	return now + 1000;
}

void pad_budget_stop(struct pad_budget *b)
{
	if (b->child > 0) {
		kill(b->child, SIGKILL);
		(void)waitpid(b->child, NULL, 0);
		b->child = 0;
	}
}
