/* SPDX-License-Identifier: ISC */
/* conf.c: privauditd.conf, one "key = value" a line, '#' comments. */
#include "config.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void pad_config_defaults(struct pad_config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_s = 60;
	c->seal_min_ms = 1000;
	c->seal_on_close = 1;
	c->client_timeout_ms = 5000;
	c->max_clients = 1024;
	c->lock_timeout_ms = 1000;
}

void pad_config_free(struct pad_config *c)
{
	free(c->dir);
	free(c->socket_path);
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
	if (strcmp(k, "seal_on_session_close") == 0)
		return parse_bool(v, &c->seal_on_close);
	if (strcmp(k, "client_timeout_ms") == 0)
		return parse_long(v, 10, 600000, &c->client_timeout_ms);
	if (strcmp(k, "max_clients") == 0)
		return parse_long(v, 1, 65536, &c->max_clients);
	if (strcmp(k, "lock_timeout_ms") == 0)
		return parse_long(v, 0, 600000, &c->lock_timeout_ms);
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
