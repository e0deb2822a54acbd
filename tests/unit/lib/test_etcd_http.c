/* SPDX-License-Identifier: ISC */
/*
 * etcd_http: one exchange on a libev loop against a scripted server (a
 * forked child on 127.0.0.1): a chunked stream whose head and objects
 * arrive in pieces; a Content-Length answer and the kept connection
 * reused for the next request; a close without a response, a malformed
 * head and a refused connection, each reported with the URL and path.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "etcd_int.h"

struct run {
	char   msgs[2048];
	int    nmsg, status, done;
	char   err[512];
};

static struct run R;

static void
on_msg(struct etcd_http *h, int status, const char *json, size_t len)
{
	(void)h;
	R.status = status;
	R.nmsg++;
	strncat(R.msgs, json, len);
	strcat(R.msgs, "|");
}

static void
on_done(struct etcd_http *h, const char *err)
{
	R.done++;
	snprintf(R.err, sizeof(R.err), "%s", err != NULL ? err : "");
	ev_break(h->loop, EVBREAK_ALL);
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int
listener(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Read one request (head + Content-Length body) from c. */
static void
read_request(int c)
{
	char buf[4096];
	size_t n = 0;
	char *end, *cl;
	ssize_t r;

	for (;;) {
		r = read(c, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			_exit(3);
		n += (size_t)r;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL && (cl = strstr(buf, "Content-Length: ")) != NULL &&
		    n >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
			return;
	}
}

/* The child: for each of `conns` connections, answer `reqs` requests
 * with the pieces (NULL ends a response; "" closes), 20 ms apart. */
static pid_t
server(int lfd, int conns, const char *const *pieces)
{
	pid_t pid = fork();
	int c, i;
	size_t k = 0;

	assert_true(pid >= 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	for (i = 0; i < conns; i++) {
		if ((c = accept(lfd, NULL, NULL)) == -1)
			_exit(2);
		for (;;) {
			if (pieces[k] == NULL)
				_exit(0);
			read_request(c);
			for (; pieces[k] != NULL && pieces[k][0] != '\0'; k++) {
				if (write(c, pieces[k], strlen(pieces[k])) < 0)
					_exit(4);
				usleep(20000);
			}
			if (pieces[k] == NULL)
				break;
			k++;    /* "" : the next response on this connection */
			if (pieces[k] != NULL && strcmp(pieces[k], "CLOSE") == 0) {
				k++;
				break;
			}
		}
		close(c);
	}
	usleep(300000);
	_exit(0);
}

static void
exchange(struct etcd_http *h, const struct etcd_ep *ep, int stream)
{
	memset(&R, 0, sizeof(R));
	h->msg = on_msg;
	h->done = on_done;
	assert_int_equal(etcd_http_post(h, ep, "/v3/watch", "{}", 2, stream), 0);
	ev_run(h->loop, 0);
}

static void
endpoint(struct etcd_ep *ep, unsigned port)
{
	char url[64], err[256];
	size_t n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	assert_int_equal(etcd_url_parse(url, ep, 1, &n, err, sizeof(err)), 0);
	assert_int_equal(etcd_url_resolve(ep, err, sizeof(err)), 0);
}

static void
test_stream(void **state)
{
	static const char *const pieces[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: appl", "ication/json\r\nTransfer-Encoding: chunked\r\n",
		"\r\n1b\r\n{\"result\":{\"created\":true}}\r\n",
		"e\r\n{\"result\":{\"ev", "\r\n", "9\r\nents\":[]}\r\n6\r\n}\n{\"a\"\r\n4\r\n:1}\n\r\n",
		"0\r\n\r\n", NULL,
	};
	struct ev_loop *loop = ev_loop_new(0);
	struct etcd_http h;
	struct etcd_ep ep;
	unsigned port;
	int status;
	pid_t pid;

	(void)state;
	pid = server(listener(&port), 1, pieces);
	endpoint(&ep, port);
	etcd_http_init(&h, loop);
	exchange(&h, &ep, 1);
	assert_string_equal(R.err, "");
	assert_int_equal(R.status, 200);
	assert_int_equal(R.nmsg, 3);
	assert_string_equal(R.msgs, "{\"result\":{\"created\":true}}|{\"result\":{\"events\":[]}}|{\"a\":1}|");
	etcd_http_free(&h);
	ev_loop_destroy(loop);
	waitpid(pid, &status, 0);
}

static void
test_keepalive_reuse(void **state)
{
	static const char *const pieces[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"n\":1}", "\n", "",
		"HTTP/1.1 404 Not Found\r\nContent-Length: 25\r\n\r\n{\"error\":\"x\",\"code\":5}   ", "",
		"CLOSE", NULL,
	};
	struct ev_loop *loop = ev_loop_new(0);
	struct etcd_http h;
	struct etcd_ep ep;
	unsigned port;
	int status;
	pid_t pid;

	(void)state;
	/* one connection only: a second connect would hang, and fail */
	pid = server(listener(&port), 1, pieces);
	endpoint(&ep, port);
	etcd_http_init(&h, loop);
	exchange(&h, &ep, 0);
	assert_string_equal(R.err, "");
	assert_string_equal(R.msgs, "{\"n\":1}|");
	assert_int_equal(h.state, ETCD_HTTP_KEPT);
	exchange(&h, &ep, 0);
	assert_string_equal(R.err, "");
	assert_int_equal(R.status, 404);
	assert_string_equal(R.msgs, "{\"error\":\"x\",\"code\":5}|");
	etcd_http_free(&h);
	ev_loop_destroy(loop);
	waitpid(pid, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
failing(const char *const *pieces, const char *want)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct etcd_http h;
	struct etcd_ep ep;
	char msg[256];
	unsigned port;
	int status;
	pid_t pid;

	pid = server(listener(&port), 1, pieces);
	endpoint(&ep, port);
	etcd_http_init(&h, loop);
	exchange(&h, &ep, 0);
	snprintf(msg, sizeof(msg), "http://127.0.0.1:%u: POST /v3/watch: %s", port, want);
	assert_string_equal(R.err, msg);
	assert_int_equal(R.done, 1);
	assert_int_equal(h.state, ETCD_HTTP_IDLE);
	etcd_http_free(&h);
	ev_loop_destroy(loop);
	waitpid(pid, &status, 0);
}

static void
test_failures(void **state)
{
	static const char *const closed[] = { "", "CLOSE", NULL };
	static const char *const half[] = { "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"a\":", "",
		"CLOSE", NULL };
	static const char *const bad[] = { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
		"", "CLOSE", NULL };
	static const char *const eof[] = { "HTTP/1.1 200 OK\r\n\r\n{}", "", "CLOSE", NULL };
	static const char *const junk[] = { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n[1,2]", "",
		"CLOSE", NULL };

	(void)state;
	failing(closed, "closed without a response");
	failing(half, "closed in the middle of the response");
	failing(bad, "bad response: duplicate content-length");
	failing(eof, "bad response: no length");
	failing(junk, "junk between JSON objects");
}

static void
test_refused(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct etcd_http h;
	struct etcd_ep ep;
	char msg[256];
	unsigned port;
	int fd = listener(&port);

	(void)state;
	close(fd);    /* nothing listens there now */
	endpoint(&ep, port);
	etcd_http_init(&h, loop);
	exchange(&h, &ep, 0);
	snprintf(msg, sizeof(msg), "http://127.0.0.1:%u: POST /v3/watch: connect: Connection refused",
	    port);
	assert_string_equal(R.err, msg);
	etcd_http_free(&h);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_keepalive_reuse),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
