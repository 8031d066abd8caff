/* SPDX-License-Identifier: ISC */
/* caps.c: per-event caps and per-user budgets for the argv and raw text of
 * non-root users' events (caps.h), so that one user cannot fill the log's
 * disk with huge arguments to setuid programs. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "caps.h"

#define UNSET_UID 4294967295u

void pa_caps_init(struct pa_caps *c, uint64_t argv_max, uint64_t raw_max, uint64_t budget)
{
	memset(c, 0, sizeof(*c));
	c->argv_max = argv_max;
	c->raw_max = raw_max;
	c->budget = budget;
}

/* uid's use in this minute: its slot, a stale one, or (all in use this
 * minute) the one that used the least, whose count it takes over. */
static struct pa_caps_use *slot(struct pa_caps *c, uint32_t uid, uint64_t minute)
{
	struct pa_caps_use *free_slot = NULL, *least = &c->use[0];

	if (c->use[c->last].uid == uid && c->use[c->last].minute == minute &&
	    c->use[c->last].bytes > 0)
		return &c->use[c->last];
	for (size_t i = 0; i < PA_CAPS_USERS; i++) {
		struct pa_caps_use *u = &c->use[i];

		if (u->minute == minute && u->bytes > 0) {
			if (u->uid == uid) {
				c->last = i;
				return u;
			}
			if (u->bytes < least->bytes || least->minute != minute)
				least = u;
		} else if (free_slot == NULL) {
			free_slot = u;
		}
	}
	if (free_slot != NULL) {
		free_slot->uid = uid;
		free_slot->minute = minute;
		free_slot->bytes = 0;
		return free_slot;
	}
	least->uid = uid;
	return least;
}

static size_t clamp(uint64_t v)
{
	return v == 0 || v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

void pa_caps_limit(struct pa_caps *c, int have_auid, uint64_t auid, int have_uid, uint64_t uid,
		   uint64_t sec, struct pa_caps_limit *out)
{
	uint64_t who;

	memset(out, 0, sizeof(*out));
	out->argv = out->raw = SIZE_MAX;
	/* The login uid says who is behind the event (also behind sudo);
	 * without one (a daemon, not a login), the real uid does. */
	if (have_auid && auid != UNSET_UID)
		who = auid;
	else if (have_uid && uid != UNSET_UID)
		who = uid;
	else
		return;
	if (who == 0 || who > UINT32_MAX)
		return;
	out->capped = 1;
	out->uid = (uint32_t)who;
	out->minute = sec / 60;
	out->argv = clamp(c->argv_max);
	out->raw = clamp(c->raw_max);
	if (c->budget > 0 && slot(c, out->uid, out->minute)->bytes >= c->budget) {
		out->over = 1;
		if (out->argv > PA_CAPS_FLOOR_ARGV)
			out->argv = PA_CAPS_FLOOR_ARGV;
		if (out->raw > PA_CAPS_FLOOR_RAW)
			out->raw = PA_CAPS_FLOOR_RAW;
	}
}

void pa_caps_charge(struct pa_caps *c, const struct pa_caps_limit *l, uint64_t bytes, int cut)
{
	struct pa_caps_use *u;

	if (!l->capped)
		return;
	if (cut) {
		c->capped++;
		if (l->over)
			c->over_budget++;
	}
	if (c->budget == 0)
		return;
	u = slot(c, l->uid, l->minute);
	u->bytes = u->bytes + bytes < u->bytes ? UINT64_MAX : u->bytes + bytes;
}
