/* SPDX-License-Identifier: ISC */
/* lock.h: the log directory's writer lock (an open file description lock). */
#ifndef PA_LOCK_H
#define PA_LOCK_H

#define PA_LOCK_FILE "lock"

/* Take the lock on fd (write: exclusive, else shared), waiting at most
 * timeout_ms (-1: forever).  0, or -1 with errno (ETIMEDOUT on timeout). */
int pa_lock(int fd, int write, int timeout_ms);
void pa_unlock(int fd);

#endif
