/* SPDX-License-Identifier: ISC */
/*
 * order_trace: which functions a program runs, natively (scripts/order.sh;
 * x86-64 Linux).  A one-shot breakpoint (int3) at the entry of each
 * function listed, so every function costs one trap the first time it runs
 * and nothing after; the program picks the same CPU-specific code as
 * without the tracer (a profiler's emulated CPU would not: valgrind has no
 * AVX-512 or ADX, and glibc's and wolfSSL's dispatch then take other
 * functions).
 *
 *   order_trace ADDRS OUT PROG [ARG...]
 *
 * ADDRS: one hex address per line, as in the program's symbol table (a
 * static-pie's: relative to where it is loaded).  PROG replaces the
 * tracer in its process (same pid: meshd checks its sidecar's pid on the
 * control socket); a grandchild traces it.  SIGUSR1 to PROG: the tracer
 * writes the addresses hit so far to OUT (hex, one a line), puts every
 * byte back, swallows the signal and lets PROG run on untraced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct bp {
	uint64_t addr;  /* as in the symbol table */
	unsigned char orig;
	int hit;
};

static struct bp *bps;
static size_t nbps;
static pid_t child;  /* the traced program */

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "order_trace: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int by_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct bp *)a)->addr, y = ((const struct bp *)b)->addr;
	return x < y ? -1 : x > y;
}

static void read_addrs(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[64];
	size_t cap = 0;

	if (f == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL) {
		if (nbps == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((bps = realloc(bps, cap * sizeof *bps)) == NULL)
				die("realloc");
		}
		bps[nbps++] = (struct bp){ .addr = strtoull(line, NULL, 16) };
	}
	fclose(f);
	qsort(bps, nbps, sizeof *bps, by_addr);
}

/* where the kernel put PROG: its mapping at file offset 0 */
static uint64_t load_base(const char *prog)
{
	char path[64], line[4096], exe[4096], want[4096];
	unsigned long lo, off;
	FILE *f;

	if (realpath(prog, want) == NULL)
		die(prog);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)child);
	if ((f = fopen(path, "r")) == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &lo, &off, exe) == 3 &&
		    off == 0 && strcmp(exe, want) == 0) {
			fclose(f);
			return lo;
		}
	errno = ENOENT;
	die("the program's mapping");
	return 0;
}

static void poke(int mem, uint64_t at, unsigned char *save, unsigned char put)
{
	if (save != NULL && pread(mem, save, 1, (off_t)at) != 1)
		die("read the child's text");
	if (pwrite(mem, &put, 1, (off_t)at) != 1)
		die("write the child's text");
}

static void dump(const char *out, int mem, uint64_t base)
{
	FILE *f = fopen(out, "w");
	size_t i;

	if (f == NULL)
		die(out);
	for (i = 0; i < nbps; i++) {
		if (bps[i].hit)
			fprintf(f, "%016llx\n", (unsigned long long)bps[i].addr);
		else
			poke(mem, base + bps[i].addr, NULL, bps[i].orig);
	}
	if (fclose(f) != 0)
		die(out);
}

/* the grandchild: attach to PROG, plant the breakpoints at its exec */
static int trace(const char *prog, const char *out, int ready)
{
	struct user_regs_struct regs;
	char path[64];
	uint64_t base = 0;
	int st, mem = -1, sig;
	size_t i;

	if (ptrace(PTRACE_SEIZE, child, NULL,
	    (void *)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) == -1)
		die("PTRACE_SEIZE");
	if (write(ready, "", 1) != 1)
		die("write");
	close(ready);
	for (;;) {
		if (waitpid(child, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			die("waitpid");
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return 1;  /* it ended before the dump */
		sig = WSTOPSIG(st);
		if (st >> 8 == (SIGTRAP | PTRACE_EVENT_EXEC << 8)) {
			base = load_base(prog);
			snprintf(path, sizeof path, "/proc/%d/mem", (int)child);
			if ((mem = open(path, O_RDWR)) == -1)
				die(path);
			for (i = 0; i < nbps; i++)
				poke(mem, base + bps[i].addr, &bps[i].orig, 0xcc);
			sig = 0;
		} else if (st >> 16 != 0) {
			sig = 0;  /* another event, or a group-stop */
		} else if (sig == SIGUSR1 && mem != -1) {
			dump(out, mem, base);
			ptrace(PTRACE_DETACH, child, NULL, NULL);
			return 0;
		} else if (sig == SIGTRAP && mem != -1) {
			struct bp key, *b;

			if (ptrace(PTRACE_GETREGS, child, NULL, &regs) == -1)
				die("PTRACE_GETREGS");
			key.addr = regs.rip - 1 - base;
			b = bsearch(&key, bps, nbps, sizeof *bps, by_addr);
			if (b != NULL && !b->hit) {
				b->hit = 1;
				poke(mem, regs.rip - 1, NULL, b->orig);
				regs.rip--;
				if (ptrace(PTRACE_SETREGS, child, NULL, &regs) == -1)
					die("PTRACE_SETREGS");
				sig = 0;
			}
		}
		ptrace(PTRACE_CONT, child, NULL, (void *)(uintptr_t)sig);
	}
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t mid;
	char c;

	if (argc < 4) {
		fprintf(stderr, "usage: order_trace ADDRS OUT PROG [ARG...]\n");
		return 2;
	}
	read_addrs(argv[1]);
	child = getpid();
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);  /* Yama, when it is on */
	if (pipe(ready) == -1 || (mid = fork()) == -1)
		die("fork");
	if (mid == 0) {
		close(ready[0]);
		/* a grandchild: init reaps it, not PROG */
		switch (fork()) {
		case -1: die("fork");
		case 0: _exit(trace(argv[3], argv[2], ready[1]));
		default: _exit(0);
		}
	}
	close(ready[1]);
	waitpid(mid, NULL, 0);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "order_trace: the tracer did not start\n");
		return 1;
	}
	close(ready[0]);
	execv(argv[3], argv + 3);
	fprintf(stderr, "order_trace: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
