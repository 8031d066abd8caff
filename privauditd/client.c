/* SPDX-License-Identifier: ISC */
/* client.c: a local client's side of wire.h (see client.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 0 ready, -1 with errno
 * (ETIMEDOUT when the time is up). */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const unsigned char *p, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int recv_all(int fd, unsigned char *p, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0) {
			errno = ECONNRESET;   /* the daemon closed without answering */
			return -1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Connect within the deadline and check who answers. */
static int connect_by(const char *path, long long deadline, const char **stage)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd, saved;

	*stage = "connect";
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A full backlog (EAGAIN): a Unix socket leaves nothing in progress
	 * to wait on, so connect is tried again, a little later each time,
	 * as long as the deadline allows. */
	for (long pause_us = 1000; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0;) {
		struct timespec ts;

		if (errno != EAGAIN && errno != EINTR)
			goto fail;
		if (now_ms() + pause_us / 1000 >= deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = pause_us * 1000;
		nanosleep(&ts, NULL);
		if (pause_us < 20000)
			pause_us *= 2;
	}
	/* Only root's daemon (or, for tests, one run by this process's own
	 * user) may answer "recorded": a socket= path a user could replace
	 * must not let that user acknowledge records that were never made. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
		goto fail;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		errno = EPERM;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Read one answer within the deadline. */
static int answer_by(int fd, long long deadline, char *text, size_t text_len, const char **stage)
{
	unsigned char ans[PA_WIRE_ANSWER_MAX];
	uint32_t alen;

	if (text_len > 0)
		text[0] = '\0';
	*stage = "answer";
	if (recv_all(fd, ans, 4, deadline) < 0)
		return -1;
	alen = pa_wire_load32(ans);
	if (alen < 2 || alen > PA_WIRE_ANSWER_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (recv_all(fd, ans, alen, deadline) < 0)
		return -1;
	if (ans[0] != PA_WIRE_VERSION) {
		errno = EPROTO;
		return -1;
	}
	if (text_len > 0) {
		size_t tl = alen - 2 < text_len - 1 ? alen - 2 : text_len - 1;

		memcpy(text, ans + 2, tl);
		text[tl] = '\0';
	}
	return ans[1];
}

/* Send the request and read its answer within the deadline. */
static int exchange_by(int fd, const struct pa_wire_buf *req, long long deadline, char *text,
		       size_t text_len, const char **stage)
{
	if (text_len > 0)
		text[0] = '\0';
	*stage = "send";
	if (send_all(fd, req->data, req->len, deadline) < 0)
		return -1;
	return answer_by(fd, deadline, text, text_len, stage);
}

/* Below a floor no answer could ever arrive: 0 used to mean "one try at
 * the log lock", which now means one exchange with the daemon. */
static long long deadline_in(int timeout_ms)
{
	return now_ms() + (timeout_ms > PA_CLIENT_MIN_MS ? timeout_ms : PA_CLIENT_MIN_MS);
}

int pa_client_call(const char *path, const struct pa_wire_buf *req, int timeout_ms,
		   char *text, size_t text_len, const char **stage)
{
	long long deadline = deadline_in(timeout_ms);
	int fd, rc, saved;

	if (text_len > 0)
		text[0] = '\0';
	fd = connect_by(path, deadline, stage);
	if (fd < 0)
		return -1;
	rc = exchange_by(fd, req, deadline, text, text_len, stage);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int pa_client_connect(const char *path, int timeout_ms, const char **stage)
{
	return connect_by(path, deadline_in(timeout_ms), stage);
}

int pa_client_exchange(int fd, const struct pa_wire_buf *req, int timeout_ms, char *text,
		       size_t text_len, const char **stage)
{
	return exchange_by(fd, req, deadline_in(timeout_ms), text, text_len, stage);
}

int pa_client_send(int fd, const struct pa_wire_buf *req, int timeout_ms, const char **stage)
{
	*stage = "send";
	return send_all(fd, req->data, req->len, deadline_in(timeout_ms));
}

int pa_client_answer(int fd, int timeout_ms, char *text, size_t text_len, const char **stage)
{
	return answer_by(fd, deadline_in(timeout_ms), text, text_len, stage);
}
