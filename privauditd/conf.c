/* SPDX-License-Identifier: ISC */
/* conf.c: privauditd.conf, one "key = value" a line, '#' comments. */
#include "config.h"
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "privaudit.h"

void pad_config_defaults(struct pad_config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_s = 60;
	c->seal_min_ms = 1000;
	c->seal_delay_ms = 2000;
	c->seal_on_close = 1;
	c->client_timeout_ms = 5000;
	c->max_clients = 1024;
	c->lock_timeout_ms = 1000;
	c->disk_reserve = (long)PRIVAUDIT_RESERVE_DEFAULT;
	c->ship_window = 16;
}

void pad_config_free(struct pad_config *c)
{
	free(c->dir);
	free(c->socket_path);
	free(c->ship_to);
	free(c->archive_dir);
	free(c->ship_tls_ca);
	free(c->ship_tls_cert);
	free(c->ship_tls_key);
	free(c->ship_tls_peer);
	memset(c, 0, sizeof(*c));
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Bytes: a number, or with K, M, G or T (powers of 1024); 0 is off. */
static int parse_size(const char *s, long *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > ((unsigned long long)LONG_MAX >> shift))
		return -1;
	*out = (long)(v << shift);
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int replace(char **dst, const char *v)
{
	char *d;

	if (v[0] != '/')
		return -1;   /* paths are absolute: the daemon runs from / */
	d = strdup(v);
	if (d == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

int pad_split_target(const char *target, char **host, char **port)
{
	const char *colon, *h = target, *end;
	size_t hl;
	long p;

	*host = *port = NULL;
	if (target[0] == '[') {
		end = strchr(target, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		h = target + 1;
		colon = end + 1;
	} else {
		colon = strrchr(target, ':');
		if (colon == NULL)
			return -1;
		end = colon;
		if (memchr(target, ':', (size_t)(colon - target)) != NULL)
			return -1;   /* an IPv6 address goes in brackets */
	}
	hl = (size_t)(end - h);
	if (hl == 0 || colon[1] < '0' || colon[1] > '9' || parse_long(colon + 1, 1, 65535, &p) < 0)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
			return -1;
	*host = strndup(h, hl);
	*port = strdup(colon + 1);
	if (*host == NULL || *port == NULL) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		return -1;
	}
	return 0;
}

/* A setting that may be emptied ("key =" turns it off). */
static int replace_opt(char **dst, const char *v, int path)
{
	char *d;

	if (v[0] == '\0') {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (path)
		return replace(dst, v);
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	d = strdup(v);
	if (d == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

static int set_target(struct pad_config *c, const char *v)
{
	char *host, *port;

	if (v[0] != '\0') {
		if (pad_split_target(v, &host, &port) < 0)
			return -1;
		free(host);
		free(port);
	}
	return replace_opt(&c->ship_to, v, 0);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int pad_config_same_ship(const struct pad_config *a, const struct pad_config *b)
{
	return same_str(a->ship_to, b->ship_to) && same_str(a->ship_tls_ca, b->ship_tls_ca) &&
	       same_str(a->ship_tls_cert, b->ship_tls_cert) &&
	       same_str(a->ship_tls_key, b->ship_tls_key) &&
	       same_str(a->ship_tls_peer, b->ship_tls_peer) && a->ship_window == b->ship_window;
}

int pad_config_check_ship(const struct pad_config *c, const char **why)
{
	int files = (c->ship_tls_ca != NULL) + (c->ship_tls_cert != NULL) + (c->ship_tls_key != NULL);

	*why = NULL;
	if (files != 0 && files != 3)
		*why = "TLS needs all three of ship_tls_ca, ship_tls_cert and ship_tls_key "
		       "(--ship-tls-ca, --ship-tls-cert, --ship-tls-key)";
	else if (c->ship_tls_peer != NULL && files == 0)
		*why = "ship_tls_peer (--ship-tls-peer) is for TLS only";
	else if (c->ship_to == NULL && (files != 0 || c->ship_tls_peer != NULL))
		*why = "TLS settings without ship_to (--ship-to)";
	return *why != NULL ? -1 : 0;
}

int pad_config_set(struct pad_config *c, const char *k, const char *v)
{
	if (strcmp(k, "dir") == 0)
		return replace(&c->dir, v);
	if (strcmp(k, "socket") == 0)
		return replace(&c->socket_path, v);
	if (strcmp(k, "heartbeat") == 0)
		return parse_long(v, 1, 86400, &c->heartbeat_s);
	if (strcmp(k, "seal_min_interval_ms") == 0)
		return parse_long(v, 0, 3600000, &c->seal_min_ms);
	if (strcmp(k, "seal_delay_ms") == 0)
		return parse_long(v, 0, 60000, &c->seal_delay_ms);
	if (strcmp(k, "seal_on_session_close") == 0)
		return parse_bool(v, &c->seal_on_close);
	if (strcmp(k, "client_timeout_ms") == 0)
		return parse_long(v, 10, 600000, &c->client_timeout_ms);
	if (strcmp(k, "max_clients") == 0)
		return parse_long(v, 1, 65536, &c->max_clients);
	if (strcmp(k, "lock_timeout_ms") == 0)
		return parse_long(v, 0, 600000, &c->lock_timeout_ms);
	if (strcmp(k, "disk_reserve") == 0)
		return parse_long(v, 0, 1L << 30, &c->disk_reserve);
	if (strcmp(k, "max_log_bytes") == 0)
		return parse_size(v, &c->max_log_bytes);
	if (strcmp(k, "archive_dir") == 0)
		return replace_opt(&c->archive_dir, v, 1);
	if (strcmp(k, "archive_unshipped") == 0)
		return parse_bool(v, &c->archive_unshipped);
	if (strcmp(k, "budget_policy") == 0) {
		if (strcmp(v, "warn") == 0 || strcmp(v, "refuse") == 0) {
			c->budget_refuse = strcmp(v, "refuse") == 0;
			return 0;
		}
		return -1;
	}
	if (strcmp(k, "ship_to") == 0)
		return set_target(c, v);
	if (strcmp(k, "ship_tls_ca") == 0)
		return replace_opt(&c->ship_tls_ca, v, 1);
	if (strcmp(k, "ship_tls_cert") == 0)
		return replace_opt(&c->ship_tls_cert, v, 1);
	if (strcmp(k, "ship_tls_key") == 0)
		return replace_opt(&c->ship_tls_key, v, 1);
	if (strcmp(k, "ship_tls_peer") == 0)
		return replace_opt(&c->ship_tls_peer, v, 0);
	if (strcmp(k, "ship_window") == 0)
		return parse_long(v, 2, 1024, &c->ship_window);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int pad_config_load(struct pad_config *c, const char *path,
		    void (*log)(int level, const char *fmt, ...))
{
	char line[4096];
	int lineno = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		log(LOG_ERR, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			log(LOG_WARNING, "%s:%d: no '=': ignored", path, lineno);
			continue;
		}
		*eq = '\0';
		if (pad_config_set(c, trim(s), trim(eq + 1)) < 0)
			log(LOG_WARNING, "%s:%d: bad setting '%s': ignored", path, lineno, trim(s));
	}
	fclose(f);
	return 0;
}
