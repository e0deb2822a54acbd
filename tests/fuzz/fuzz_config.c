/* SPDX-License-Identifier: ISC */
/*
 * fuzz_config: config_load() on arbitrary file contents.  The input goes
 * through a memfd so the real reader, inih and every parser see it.
 * ${VAR} expands from the fuzzer's environment: FUZZ_A is set, the rest
 * are unset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mesh/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_config cfg;
	char path[64];
	FILE *devnull;
	int fd;

	setenv("FUZZ_A", "alpha", 1);
	fd = memfd_create("mesh.ini", 0);
	if (fd == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	devnull = fopen("/dev/null", "w");
	if (devnull != NULL) {
		if (config_load(path, &cfg, devnull) == 0)
			config_free(&cfg);
		fclose(devnull);
	}
	close(fd);
	return 0;
}
