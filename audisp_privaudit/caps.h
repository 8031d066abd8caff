/* SPDX-License-Identifier: ISC */
/* caps.h: how much of a non-root user's argv and raw event text the plugin
 * keeps: a cap per event, and a budget per user per minute of audit time
 * past which the caps fall to a floor.  The cut is counted in the record
 * (argv_truncated_bytes, raw_truncated_bytes); the event itself is always
 * recorded.  Root's events (login uid 0) are kept whole. */
#ifndef PA_CAPS_H
#define PA_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* What an event of a user over the budget keeps. */
#define PA_CAPS_FLOOR_ARGV 1024u
#define PA_CAPS_FLOOR_RAW 4096u
/* Users tracked at once: more in one minute share the budget of the one
 * that used the least, never get a fresh one. */
#define PA_CAPS_USERS 64u

struct pa_caps_use {
	uint32_t uid;
	uint64_t minute;       /* audit time / 60 */
	uint64_t bytes;        /* argv and raw text kept in that minute */
};

struct pa_caps {
	uint64_t argv_max;     /* per event, 0: no cap */
	uint64_t raw_max;
	uint64_t budget;       /* per user per minute, 0: no budget */
	struct pa_caps_use use[PA_CAPS_USERS];
	size_t last;           /* the slot used last: most events are of one user */
	uint64_t capped;       /* events whose argv or raw text was cut (counter) */
	uint64_t over_budget;  /* events cut to the floor (counter) */
};

/* The limits for one event. */
struct pa_caps_limit {
	size_t argv, raw;      /* SIZE_MAX: no limit */
	int capped;            /* a non-root user's event */
	int over;              /* its user is over the budget: the floor applies */
	uint32_t uid;          /* whom it is charged to */
	uint64_t minute;
};

void pa_caps_init(struct pa_caps *c, uint64_t argv_max, uint64_t raw_max, uint64_t budget);
/* The limits for an event of login uid auid (PA_UNSET_ID or have_auid 0:
 * of uid instead) at audit time sec.  Neither known: no limit (events the
 * kernel or auditd write about themselves). */
void pa_caps_limit(struct pa_caps *c, int have_auid, uint64_t auid, int have_uid, uint64_t uid,
		   uint64_t sec, struct pa_caps_limit *out);
/* The event kept bytes of argv and raw text, and cut was set when any was
 * cut: charged to its user. */
void pa_caps_charge(struct pa_caps *c, const struct pa_caps_limit *l, uint64_t bytes, int cut);

#endif /* PA_CAPS_H */
