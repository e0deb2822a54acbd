/* SPDX-License-Identifier: ISC */
/*
 * check: `meshctl check` (see include/mesh/check.h).  Config errors come
 * from config_load(); this file adds what only the host can tell.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mesh/check.h"
#include "mesh/config.h"
#include "mesh/pki.h"
#include "mesh/ports.h"

/* "FILE:LINE: " (or "FILE: " without a line) and the message. */
static void
check_error(FILE *err, const struct mesh_config *cfg, int line,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
check_error(FILE *err, const struct mesh_config *cfg, int line,
            const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(err, "%s:%d: ", cfg->path, line);
	else
		fprintf(err, "%s: ", cfg->path);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

int
check_mesh_running(const struct mesh_config *cfg)
{
	struct sockaddr_un sun;
	int fd, n, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/run/meshd.sock",
	    cfg->mesh.state_dir);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

int
check_ports(const struct mesh_config *cfg, FILE *err)
{
	int taken = ports_check_fixed(cfg, err, NULL, NULL);

	if (cfg->mesh.metrics_port != 0 && !ports_is_free(cfg->mesh.metrics_port, NULL)) {
		check_error(err, cfg, cfg->mesh.metrics_line, "metrics: port %u is "
		    "already in use", cfg->mesh.metrics_port);
		taken++;
	}
	return taken;
}

int
check_state_dir(const struct mesh_config *cfg, FILE *err)
{
	const char *dir = cfg->mesh.state_dir;
	int line = cfg->mesh.state_dir_line;
	char parent[PATH_MAX], *slash;
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			check_error(err, cfg, line, "state_dir %s is not a directory", dir);
			return 1;
		}
		if (access(dir, W_OK | X_OK) == -1) {
			check_error(err, cfg, line, "state_dir %s is not writable: %s",
			    dir, strerror(errno));
			return 1;
		}
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		check_error(err, cfg, line, "state_dir %s: %s", dir, strerror(errno));
		return 1;
	}
	/* meshd creates it (and missing parents): the nearest that exists decides */
	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent)) {
		check_error(err, cfg, line, "state_dir %s: path too long", dir);
		return 1;
	}
	for (;;) {
		slash = strrchr(parent, '/');
		if (slash == NULL)
			return 0;   /* cannot happen: state_dir is absolute */
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(parent, &st) == 0)
			break;
		if (errno != ENOENT && errno != ENOTDIR) {
			check_error(err, cfg, line, "state_dir %s cannot be created: "
			    "%s: %s", dir, parent, strerror(errno));
			return 1;
		}
	}
	if (!S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK) == -1) {
		check_error(err, cfg, line, "state_dir %s cannot be created: %s is "
		    "not a writable directory", dir, parent);
		return 1;
	}
	return 0;
}

/* ca.crt's expiry: error when past, warning when close. */
static int
check_ca_cert(const struct mesh_config *cfg, const char *path, FILE *err)
{
	static char pem[PKI_PEM_MAX + 1];
	unsigned char der[PKI_CERT_MAX];
	struct pki_certinfo info;
	size_t n;
	FILE *f;
	int len;
	time_t now = time(NULL);

	if ((f = fopen(path, "r")) == NULL) {
		check_error(err, cfg, 0, "CA certificate %s: %s", path, strerror(errno));
		return 1;
	}
	n = fread(pem, 1, PKI_PEM_MAX, f);
	fclose(f);
	pem[n] = '\0';
	len = pki_pem_to_der(pem, n, der, sizeof(der));
	if (len == -1 || pki_cert_info(der, (size_t)len, &info) == -1) {
		check_error(err, cfg, 0, "CA certificate %s does not parse", path);
		return 1;
	}
	if (info.not_after <= now) {
		check_error(err, cfg, 0, "CA certificate %s has expired", path);
		return 1;
	}
	if (info.not_after - now < (time_t)CHECK_EXPIRY_WARN_DAYS * 86400)
		check_error(err, cfg, 0, "warning: CA certificate %s expires in %ld "
		    "days", path, (long)((info.not_after - now) / 86400));
	return 0;
}

/* Joined mode (pki.h): the checks meshd makes at start. */
static int
check_ca_joined(const struct mesh_config *cfg, const char *dir, FILE *err)
{
	char why[512];
	struct pki_ca *ca = pki_ca_open_joined(dir, why, sizeof(why));

	if (ca == NULL) {
		check_error(err, cfg, 0, "%s", why);
		return 1;
	}
	pki_ca_free(ca);
	return 0;
}

int
check_ca(const struct mesh_config *cfg, FILE *err)
{
	char dir[PATH_MAX], key[PATH_MAX + 8], crt[PATH_MAX + 8];
	struct stat st;
	int errors = 0;

	if (snprintf(dir, sizeof(dir), "%s/ca", cfg->mesh.state_dir) >= (int)sizeof(dir))
		return 0;
	if (stat(dir, &st) == -1)
		return 0;   /* meshd creates it on first start */
	if (!S_ISDIR(st.st_mode)) {
		check_error(err, cfg, 0, "%s is not a directory", dir);
		return 1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		check_error(err, cfg, 0, "%s is writable by group or others (mode "
		    "%04o): chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
		errors++;
	}
	if (pki_joined(dir))
		return errors + check_ca_joined(cfg, dir, err);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(crt, sizeof(crt), "%s/ca.crt", dir);
	if (lstat(key, &st) == -1) {
		if (errno != ENOENT || access(crt, F_OK) == 0) {
			check_error(err, cfg, 0, "CA key %s: %s", key, strerror(errno));
			errors++;
		}
		return errors;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		check_error(err, cfg, 0, "CA key %s is not a regular file owned by "
		    "uid %u", key, (unsigned)geteuid());
		return errors + 1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		check_error(err, cfg, 0, "CA key %s is accessible by group or others "
		    "(mode %04o): chmod 600 it", key, (unsigned)(st.st_mode & 07777));
		errors++;
	}
	if (access(key, R_OK) == -1) {
		check_error(err, cfg, 0, "CA key %s is not readable: %s", key,
		    strerror(errno));
		errors++;
	}
	return errors + check_ca_cert(cfg, crt, err);
}

int
check_run(const char *path, FILE *out, FILE *err)
{
	struct mesh_config cfg;
	size_t i, j, nsvc = 0;
	unsigned ninst = 0;
	int errors;

	if (config_load(path, &cfg, err) != 0)
		return 1;
	errors = check_state_dir(&cfg, err) + check_ca(&cfg, err);
	if (check_mesh_running(&cfg))
		fprintf(out, "%s: mesh %s is running: port checks skipped\n", path,
		    cfg.mesh.name);
	else
		errors += check_ports(&cfg, err);
	for (i = 0; i < cfg.nservices; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(cfg.services[j].name, cfg.services[i].name) == 0)
				break;
		nsvc += j == i;
		ninst += cfg.services[i].instances;
	}
	if (errors == 0)
		fprintf(out, "%s: ok: %zu service%s, %u instance%s\n", path, nsvc,
		    nsvc == 1 ? "" : "s", ninst, ninst == 1 ? "" : "s");
	config_free(&cfg);
	return errors != 0;
}
