/* SPDX-License-Identifier: ISC */
/* translate.h: audit events (stream.h) turned into privaudit records
 * (command, tty_input, config_change, audit_event, gap), and loss found in
 * the stream itself (serial jumps per node, serials.h; auditd's own loss
 * reports). */
#ifndef PA_TRANSLATE_H
#define PA_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "privaudit.h"
#include "serials.h"
#include "stream.h"

#define PA_UNSET_ID 4294967295u

/* Called for every record built; returns the append status.  The event is
 * freed by the caller afterwards. */
typedef privaudit_status (*pa_append_fn)(void *arg, const privaudit_event *ev);

struct pa_select {
	char *drop_types;      /* comma list: events whose first record has such a type */
	char *only_keys;       /* comma list: syscall events kept only with such a key */
};

/* The command record's fields, found once (privaudit_event_field): the
 * plugin fills one per execve. */
enum {
	PA_CMD_AUID, PA_CMD_SES, PA_CMD_UID, PA_CMD_EUID, PA_CMD_PID, PA_CMD_PPID, PA_CMD_EXE,
	PA_CMD_TTY, PA_CMD_SUCCESS, PA_CMD_EXIT, PA_CMD_ARGV, PA_CMD_CWD, PA_CMD_SOURCE,
	PA_CMD_SERIAL, PA_CMD_RAW, PA_CMD_SESSION_KEY, PA_CMD_ARGV_CUT,
	PA_CMD_AUDIT_TIME, PA_CMD_ARGV_TRUNC, PA_CMD_RAW_TRUNC, PA_CMD_FIELDS
};

struct pa_translate {
	char boot_id[64];      /* "" when unknown: no session keys then */
	privaudit_field_id cmd[PA_CMD_FIELDS];   /* 0: not found, set by name */
	struct pa_select sel;
	pa_append_fn append;
	void *arg;
	struct pa_nodes nodes;  /* serials seen, per node */
	struct pa_caps *caps;  /* non-root users' argv and raw text, NULL: kept whole */
	uint64_t last_lost;    /* auditd's lost counter as last reported */
	/* counters */
	uint64_t events, records, skipped, failed, session_ends, last_serial;
};

void pa_translate_init(struct pa_translate *t, pa_append_fn append, void *arg);
void pa_translate_free(struct pa_translate *t);
/* Selection lists, copied; NULL or "" clears. */
int pa_translate_select(struct pa_translate *t, const char *drop_types, const char *only_keys);

/* Append the records for one event.  Returns the first failing append
 * status (PRIVAUDIT_OK when all went in or the event was not selected). */
privaudit_status pa_translate_event(struct pa_translate *t, const struct pa_event *ev);

/* Append a gap record. */
privaudit_status pa_translate_gap(struct pa_translate *t, uint64_t count, const char *reason,
				  uint64_t first_serial, uint64_t last_serial);

/* Judge every serial up to the highest seen: missing ones become a gap
 * record per node (serial-jump, or plugin-restart for those lost across a
 * restart).  Called when the stream has been idle. */
privaudit_status pa_translate_settle(struct pa_translate *t);
/* Forget the serial history (after the plugin itself dropped events). */
void pa_translate_serials_reset(struct pa_translate *t);
/* The serials handled so far, saved in / taken up from dir's state file
 * (serials.h) for this boot: a run started after another one counts in a
 * plugin-restart gap record what that run never got.  restore returns the
 * nodes taken up, or -1 with errno set; save 0 or -1 with errno set. */
int pa_translate_restore(struct pa_translate *t, const char *dir);
int pa_translate_save(const struct pa_translate *t, const char *dir);

#endif /* PA_TRANSLATE_H */
