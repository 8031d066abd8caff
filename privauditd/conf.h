/* SPDX-License-Identifier: ISC */
/* conf.h: privauditd's settings, from privauditd.conf and the command
 * line (the command line wins). */
#ifndef PA_DAEMON_CONF_H
#define PA_DAEMON_CONF_H

struct pad_config {
	char *dir;                /* the log directory */
	char *socket_path;        /* where clients connect */
	long heartbeat_s;         /* seal at least this often */
	long seal_min_ms;         /* session-close seals at most this often */
	int seal_on_close;        /* seal after a session closes */
	long client_timeout_ms;   /* a client has this long to send its request */
	long max_clients;         /* connections served at once */
	long lock_timeout_ms;     /* wait for the log lock (plugin, CLI) per try */
};

void pad_config_defaults(struct pad_config *c);
void pad_config_free(struct pad_config *c);
/* One "key = value" setting: 0, or -1 for an unknown key or a bad value. */
int pad_config_set(struct pad_config *c, const char *key, const char *value);
/* Read a file over c; bad lines are reported through log and skipped.
 * -1 when the file cannot be read. */
int pad_config_load(struct pad_config *c, const char *path,
		    void (*log)(int level, const char *fmt, ...));

#endif
