/* SPDX-License-Identifier: ISC */
/*
 * Fixtures shared by the socket-level proxy tests (test_relay,
 * test_upstream): non-blocking socketpairs and loopback TCP pairs, a
 * listener on an ephemeral port, a byte pattern, draining a socket, and
 * running a libev loop until a condition holds or a deadline passes.
 * Static functions only: include once per test.
 */
#ifndef TEST_SOCK_UTIL_H
#define TEST_SOCK_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

/* every test uses a different subset of these */
#define SOCKU static __attribute__((unused))

SOCKU void
sock_nonblock(int fd)
{
	assert_int_not_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), -1);
}

/* A connected AF_UNIX stream pair, both ends non-blocking. */
SOCKU void
sock_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* A non-blocking TCP listener on 127.0.0.1; *port: the one it got. */
SOCKU int
sock_listen(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_int_not_equal(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 128), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* The next pending connection on a listener, non-blocking; -1 if none. */
SOCKU int
sock_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* A connected loopback TCP pair (sv[0] connected, sv[1] accepted). */
SOCKU void
sock_tcp_pair(int sv[2])
{
	struct sockaddr_in sin;
	uint16_t port;
	int lfd = sock_listen(&port);

	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(sv[0], -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(sv[0], (struct sockaddr *)&sin, sizeof(sin)), 0);
	sock_nonblock(sv[0]);
	sv[1] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_int_not_equal(sv[1], -1);
	close(lfd);
}

/* Bytes a read on fd would return now. */
SOCKU size_t
sock_unread(int fd)
{
	int n = 0;

	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return (size_t)n;
}

/* A pattern that shows both a lost and a reordered byte. */
SOCKU void
sock_pattern(char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)((i * 131 + i / 251 + seed) & 0xff);
}

/* Read what fd has now into out[*got..max); 1 at end of stream, 0 at
 * EAGAIN (or when out is full), -1 with errno on error. */
SOCKU int
sock_drain(int fd, char *out, size_t max, size_t *got)
{
	for (;;) {
		ssize_t n;

		if (*got == max)
			return 0;
		n = read(fd, out + *got, max - *got);
		if (n > 0)
			*got += (size_t)n;
		else if (n == 0)
			return 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno != EINTR)
			return -1;
	}
}

SOCKU void
loop_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)w; (void)revents;
}

/* Run the loop until done(arg) or `secs` pass; returns done(arg). */
SOCKU int
loop_until(struct ev_loop *loop, int (*done)(void *), void *arg, double secs)
{
	ev_timer tick;
	ev_tstamp end;
	int r;

	ev_now_update(loop);
	end = ev_now(loop) + secs;
	ev_timer_init(&tick, loop_tick_cb, 0.005, 0.005);
	ev_timer_start(loop, &tick);
	while (!(r = done(arg)) && ev_now(loop) < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
	return r;
}

SOCKU int
loop_never(void *arg)
{
	(void)arg;
	return 0;
}

/* Run the loop for `secs`: every event that can fire does. */
SOCKU void
loop_settle(struct ev_loop *loop, double secs)
{
	loop_until(loop, loop_never, NULL, secs);
}

#endif
