/* SPDX-License-Identifier: ISC */
/* lock.c: OFD locks serialize writers from any process or thread; unlike
 * POSIX record locks, closing another fd on the file in the same process
 * does not drop them, which matters inside PAM's host process. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "lock.h"

static int setlk(int fd, int cmd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, cmd, &fl);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pa_lock(int fd, int write, int timeout_ms)
{
	short type = write ? F_WRLCK : F_RDLCK;
	long long deadline;
	long sleep_us = 50;

	if (timeout_ms < 0) {
		while (setlk(fd, F_OFD_SETLKW, type) < 0) {
			if (errno != EINTR)
				return -1;
		}
		return 0;
	}
	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct timespec ts;

		if (setlk(fd, F_OFD_SETLK, type) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = sleep_us * 1000;
		nanosleep(&ts, NULL);
		if (sleep_us < 5000)
			sleep_us *= 2;
	}
}

void pa_unlock(int fd)
{
	int saved = errno;

	(void)setlk(fd, F_OFD_SETLK, F_UNLCK);
	errno = saved;
}
