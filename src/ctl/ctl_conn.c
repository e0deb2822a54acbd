/* SPDX-License-Identifier: ISC */
/*
 * ctl_conn: meshctl's side of the control socket.
 *
 * One connection carries one command: IPC_CMD out, then IPC_REPLY and
 * IPC_LOGLINE frames in, until IPC_DONE "<exit code>".  Reads go through
 * poll() against one deadline so that no command can hang meshctl, even
 * when meshd stops answering half-way.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/ipc.h"

int
ctl_conn_open(const struct ctl_mesh *m, int *fd)
{
	struct sockaddr_un sun;
	size_t n = strlen(m->sock_path);
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (n >= sizeof(sun.sun_path)) {
		ctl_errx("control socket path too long (%zu bytes, at most %zu): %s",
		    n, sizeof(sun.sun_path) - 1, m->sock_path);
		return CTL_FAIL;
	}
	memcpy(sun.sun_path, m->sock_path, n + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ctl_err("socket");
		return CTL_FAIL;
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		close(s);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			return CTL_NOT_RUNNING;
		errno = e;
		ctl_err("cannot connect to %s", m->sock_path);
		return CTL_FAIL;
	}
	*fd = s;
	return CTL_OK;
}

static int
ctl_conn_done_code(const char *payload)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(payload, &end, 10);
	if (errno != 0 || end == payload || *end != '\0' || v < 0 || v > 255)
		return -1;
	return (int)v;
}

int
ctl_conn_command(int fd, const char *cmd, int timeout_ms, ctl_conn_fn *fn,
    void *arg)
{
	struct ipc_reader rd;
	unsigned char buf[16384];
	int64_t deadline = ctl_proc_now_ms() + timeout_ms;
	int rc = -1;

	if (ipc_send(fd, IPC_CMD, cmd, strlen(cmd)) == -1) {
		ctl_err("sending '%s' to meshd", cmd);
		return -1;
	}
	ipc_reader_init(&rd);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint16_t type;
		char *payload;
		size_t len;
		const char *perr;
		ssize_t got;
		int wait_ms = -1, r;

		/* Drain whole frames before reading more. */
		while ((r = ipc_reader_next(&rd, &type, &payload, &len, &perr)) == 1) {
			if (type == IPC_DONE) {
				if ((rc = ctl_conn_done_code(payload)) == -1) {
					ctl_errx("meshd: '%s': bad exit code '%.32s'", cmd, payload);
					errno = EPROTO;
				}
				goto out;
			}
			if (type == IPC_REPLY || type == IPC_LOGLINE)
				fn(arg, type, payload, len);
			else {
				ctl_errx("meshd: '%s': unexpected message type %u", cmd,
				    (unsigned)type);
				errno = EPROTO;
				goto out;
			}
		}
		if (r == -1) {
			ctl_errx("meshd: '%s': protocol error: %s", cmd, perr);
			errno = EPROTO;
			goto out;
		}
		if (timeout_ms > 0) {
			int64_t left = deadline - ctl_proc_now_ms();

			if (left <= 0) {
				errno = ETIMEDOUT;
				goto out;
			}
			wait_ms = left > 1000 ? 1000 : (int)left;
		}
		r = poll(&pfd, 1, wait_ms);
		if (r == -1 && errno != EINTR) {
			ctl_err("poll");
			goto out;
		}
		if (r <= 0)
			continue;
		got = read(fd, buf, sizeof(buf));
		if (got == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got == -1 && errno != ECONNRESET) {
			ctl_err("reading meshd's reply to '%s'", cmd);
			goto out;
		}
		if (got <= 0) {
			/* The caller says what that means: an error for most
			 * commands, the expected end for `down`. */
			errno = ECONNRESET;
			goto out;
		}
		if (ipc_reader_feed(&rd, buf, (size_t)got) == -1) {
			ctl_errx("meshd: '%s': oversize reply", cmd);
			errno = EPROTO;
			goto out;
		}
	}
out:
	ipc_reader_free(&rd);
	return rc;
}

void
ctl_conn_print(void *arg, uint16_t type, const char *payload, size_t len)
{
	FILE *out = arg;

	ctl_term_line(out, payload, len);
	if (len == 0 || payload[len - 1] != '\n')
		fputc('\n', out);
	fflush(out);
}

void
ctl_conn_print_raw(void *arg, uint16_t type, const char *payload, size_t len)
{
	FILE *out = arg;

	fwrite(payload, 1, len, out);
	if (len == 0 || payload[len - 1] != '\n')
		fputc('\n', out);
	fflush(out);
}

void
ctl_conn_lost(const struct ctl_mesh *m, const char *cmd, int timeout_ms)
{
	if (errno == ETIMEDOUT)
		ctl_errx("meshd of mesh '%s' did not finish '%s' within %d s",
		    m->name, cmd, timeout_ms / 1000);
	else if (errno == ECONNRESET)
		ctl_errx("meshd of mesh '%s' closed the connection before finishing '%s'",
		    m->name, cmd);
}

int
ctl_conn_run(const struct ctl_mesh *m, const char *cmd, int timeout_ms,
    ctl_conn_fn *fn, void *arg)
{
	int fd, rc;

	if ((rc = ctl_conn_open(m, &fd)) != CTL_OK)
		return rc;
	rc = ctl_conn_command(fd, cmd, timeout_ms, fn, arg);
	close(fd);
	if (rc == -1) {
		ctl_conn_lost(m, cmd, timeout_ms);
		return CTL_FAIL;
	}
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

int
ctl_conn_reply(const struct ctl_mesh *m, const char *cmd, int timeout_ms)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int fd, rc;

	if ((rc = ctl_conn_open(m, &fd)) != CTL_OK)
		return rc;
	if ((f = open_memstream(&text, &len)) == NULL) {
		ctl_err("%s", cmd);
		close(fd);
		return CTL_FAIL;
	}
	rc = ctl_conn_command(fd, cmd, timeout_ms, ctl_conn_print_raw, f);
	close(fd);
	fclose(f);
	if (rc == -1) {
		ctl_conn_lost(m, cmd, timeout_ms);
		rc = CTL_FAIL;
	} else {
		fputs(text != NULL ? text : "", rc == 0 ? stdout : stderr);
		rc = rc == 0 ? CTL_OK : rc == CTL_USAGE ? CTL_USAGE : CTL_FAIL;
	}
	free(text);
	return rc;
}
