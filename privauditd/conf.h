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
	long seal_delay_ms;       /* ...this long after the close */
	int seal_on_close;        /* seal after a session closes */
	long client_timeout_ms;   /* a client has this long to send its request */
	long max_clients;         /* connections served at once */
	long lock_timeout_ms;     /* wait for the log lock (plugin, CLI) per try */
	long disk_reserve;        /* free bytes kept for the log's own records */
	/* the disk budget (budget.c): off while max_log_bytes is 0 */
	long max_log_bytes;       /* the live segments' bytes at most */
	char *archive_dir;        /* where the oldest segments go when over it */
	int archive_unshipped;    /* ...also those the collector has not acknowledged */
	int budget_refuse;        /* over it and archiving cannot help: refuse records */
	/* shipping (ship.c): off while ship_to is NULL */
	char *ship_to;            /* HOST:PORT of the RELP server */
	char *ship_tls_ca;        /* TLS: all three, or none (plain RELP) */
	char *ship_tls_cert;
	char *ship_tls_key;
	char *ship_tls_peer;      /* the server's name in its certificate (default: HOST) */
	long ship_window;         /* RELP messages sent and not yet acknowledged */
};

void pad_config_defaults(struct pad_config *c);
void pad_config_free(struct pad_config *c);
/* The shipping settings hang together (TLS files all or none): 0, or -1
 * with why in *why. */
int pad_config_check_ship(const struct pad_config *c, const char **why);
/* 1 when a and b ship the same way (a restart of the shipper is not needed). */
int pad_config_same_ship(const struct pad_config *a, const struct pad_config *b);
/* HOST:PORT, [V6ADDR]:PORT: host and port in malloc'd strings; -1 when malformed. */
int pad_split_target(const char *target, char **host, char **port);
/* One "key = value" setting: 0, or -1 for an unknown key or a bad value. */
int pad_config_set(struct pad_config *c, const char *key, const char *value);
/* Read a file over c; bad lines are reported through log and skipped.
 * -1 when the file cannot be read. */
int pad_config_load(struct pad_config *c, const char *path,
		    void (*log)(int level, const char *fmt, ...));

#endif
