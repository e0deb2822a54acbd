/*
 * stats: the reader side (meshd, meshctl).  Maps a sidecar's stats file
 * read-only, validates the header (include/mesh/stats.h) and copies the
 * counters with atomic loads.  The file never shrinks while its writer
 * lives (a new sidecar renames a new file over it), so checking the size
 * once with fstat keeps every load inside the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/stats.h"

int
stats_path(char *buf, size_t size, const char *state_dir, const char *id)
{
	int n = snprintf(buf, size, "%s/run/stats/%s.stats", state_dir, id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static uint32_t
stats_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
stats_get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Validate a header of `fsize` available bytes; STATS_OK or an error. */
static int
stats_check(const unsigned char *h, size_t fsize)
{
	uint32_t size, hsize, n;

	if (fsize < STATS_HDR_SIZE)
		return STATS_ERR_SHORT;
	if (memcmp(h, STATS_MAGIC, STATS_MAGIC_LEN) != 0)
		return STATS_ERR_MAGIC;
	if (stats_get32(h + 8) != STATS_VERSION)
		return STATS_ERR_VERSION;
	size = stats_get32(h + 12);
	n = stats_get32(h + 32);
	hsize = stats_get32(h + 36);
	if (hsize < STATS_HDR_SIZE || hsize % 8 != 0 || n > STATS_MAX_COUNTERS ||
	    (uint64_t)hsize + (uint64_t)n * 8 > size)
		return STATS_ERR_LAYOUT;
	if (size > fsize)
		return STATS_ERR_SHORT;
	return STATS_OK;
}

int
stats_read(const char *path, struct stats_snapshot *snap)
{
	const unsigned char *h;
	const uint64_t *ctr;
	struct stat st;
	void *p;
	uint32_t i, n;
	int fd, rc, saved;

	memset(snap, 0, sizeof(*snap));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return STATS_ERR_OPEN;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return STATS_ERR_OPEN;
	}
	if (st.st_size < (off_t)STATS_HDR_SIZE) {
		close(fd);
		return STATS_ERR_SHORT;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = saved;
		return STATS_ERR_OPEN;
	}
	h = p;
	if ((rc = stats_check(h, (size_t)st.st_size)) == STATS_OK) {
		snap->version = stats_get32(h + 8);
		snap->ncounters = n = stats_get32(h + 32);
		snap->pid = stats_get64(h + 16);
		snap->start_time_ns = stats_get64(h + 24);
		ctr = (const uint64_t *)(const void *)(h + stats_get32(h + 36));
		for (i = 0; i < n && i < STAT__COUNT; i++)
			snap->v[i] = __atomic_load_n(&ctr[i], __ATOMIC_RELAXED);
	}
	munmap(p, (size_t)st.st_size);
	return rc;
}

const char *
stats_strerror(int err)
{
	switch (err) {
	case STATS_OK:          return "ok";
	case STATS_ERR_OPEN:    return strerror(errno);
	case STATS_ERR_SHORT:   return "truncated stats file";
	case STATS_ERR_MAGIC:   return "not a stats file (bad magic)";
	case STATS_ERR_VERSION: return "stats file version not supported";
	case STATS_ERR_LAYOUT:  return "inconsistent stats header";
	}
	return "unknown stats error";
}
