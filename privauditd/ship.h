/* SPDX-License-Identifier: ISC */
/* ship.h: privauditd's shipper, a thread that sends every record of the
 * log to a RELP server (doc/format.md, "Shipping"; privauditd(8)). */
#ifndef PA_DAEMON_SHIP_H
#define PA_DAEMON_SHIP_H

#include "conf.h"

struct pad_ship;
typedef void (*pad_log_fn)(int level, const char *fmt, ...);

/* Start shipping the log in c->dir to c->ship_to with c's ship_* settings
 * (checked with pad_config_check_ship()).  Called from the main thread:
 * it blocks the signal that interrupts the shipper's waits (SIGUSR1) there.
 * 0, or -1 (said through log). */
int pad_ship_start(struct pad_ship **out, const struct pad_config *c, pad_log_fn log);
/* The log has grown: look now.  Never blocks; NULL-safe. */
void pad_ship_poke(struct pad_ship *s);
/* Stop and free.  For up to drain_ms the shipper still sends what the log
 * holds and waits for its acknowledgment (so that a clean stop leaves
 * nothing unshipped when the server is up); then it is interrupted and
 * joined within wait_ms.  It writes its state before it ends.  0 when it
 * ended; -1 when it did not in time: it is left to end on its own (s is
 * no longer the caller's).  NULL-safe. */
int pad_ship_stop(struct pad_ship *s, int drain_ms, int wait_ms);

#endif
