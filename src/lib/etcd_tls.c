/* SPDX-License-Identifier: ISC */
/*
 * etcd_tls: wolfSSL for https:// etcd endpoints, non-blocking.  The
 * server's chain must verify against the configured CA and its
 * certificate must name the endpoint's host (a DNS name, or an IP address
 * written as the host); a client certificate is sent when configured.
 * TLS 1.2 at least.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "etcd_int.h"

struct etcd_tls {
	WOLFSSL_CTX *ctx;
};

struct etcd_tls *
etcd_tls_new(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	struct etcd_tls *t;

	if (ca == NULL) {
		snprintf(err, errlen, "an https:// etcd endpoint needs etcd_ca");
		return NULL;
	}
	if ((cert == NULL) != (key == NULL)) {
		snprintf(err, errlen, "etcd_cert and etcd_key go together");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || wolfSSL_Init() != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "TLS: out of memory");
		free(t);
		return NULL;
	}
	if ((t->ctx = wolfSSL_CTX_new(wolfSSLv23_client_method())) == NULL) {
		snprintf(err, errlen, "TLS: no context");
		goto fail;
	}
	(void)wolfSSL_CTX_SetMinVersion(t->ctx, WOLFSSL_TLSV1_2);
	if (wolfSSL_CTX_load_verify_locations(t->ctx, ca, NULL) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: cannot load the etcd CA (PEM)", ca);
		goto fail;
	}
	if (cert != NULL && wolfSSL_CTX_use_certificate_chain_file(t->ctx, cert) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: cannot load the etcd client certificate (PEM)", cert);
		goto fail;
	}
	if (key != NULL && wolfSSL_CTX_use_PrivateKey_file(t->ctx, key,
	    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: cannot load the etcd client key (PEM)", key);
		goto fail;
	}
	if (key != NULL && wolfSSL_CTX_check_private_key(t->ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: the key does not match %s", key, cert);
		goto fail;
	}
	wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
	return t;
fail:
	etcd_tls_free(t);
	return NULL;
}

void
etcd_tls_free(struct etcd_tls *t)
{
	if (t == NULL)
		return;
	if (t->ctx != NULL)
		wolfSSL_CTX_free(t->ctx);
	free(t);
	wolfSSL_Cleanup();
}

void *
etcd_tls_session(struct etcd_tls *t, int fd, const char *host)
{
	WOLFSSL *ssl = wolfSSL_new(t->ctx);
	unsigned char a[16];

	if (ssl == NULL)
		return NULL;
	if (wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_check_domain_name(ssl, host) != WOLFSSL_SUCCESS) {
		wolfSSL_free(ssl);
		return NULL;
	}
	/* etcd closing on us (a refused client certificate) is an error to
	 * report, not a SIGPIPE */
	wolfSSL_SetIOWriteFlags(ssl, MSG_NOSIGNAL);
	/* SNI for names only (RFC 6066: not for addresses) */
	if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
		(void)wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)strlen(host));
	return ssl;
}

void
etcd_tls_session_free(void *s)
{
	wolfSSL_free(s);
}

/* A failed call: -1 with errno EAGAIN and *events, or the reason in err. */
static long
etcd_tls_error(WOLFSSL *ssl, int ret, int *events, char *err, size_t errlen)
{
	char msg[WOLFSSL_MAX_ERROR_SZ];
	int e = wolfSSL_get_error(ssl, ret);

	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) {
		*events = e == WOLFSSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
		errno = EAGAIN;
		return -1;
	}
	if (e == WOLFSSL_ERROR_ZERO_RETURN)
		return 0;
	wolfSSL_ERR_error_string_n((unsigned long)e, msg, sizeof(msg));
	snprintf(err, errlen, "%s", msg);
	errno = EPROTO;
	return -1;
}

int
etcd_tls_handshake(void *s, int *events, char *err, size_t errlen)
{
	int r = wolfSSL_connect(s);
	long rc;

	if (r == WOLFSSL_SUCCESS)
		return 1;
	rc = etcd_tls_error(s, r, events, err, errlen);
	if (rc == -1 && errno == EAGAIN)
		return 0;
	if (rc == 0)
		snprintf(err, errlen, "closed during the handshake");
	return -1;
}

long
etcd_tls_read(void *s, void *buf, size_t n, int *events, char *err, size_t errlen)
{
	int r = wolfSSL_read(s, buf, n > 65536 ? 65536 : (int)n);

	return r > 0 ? r : etcd_tls_error(s, r, events, err, errlen);
}

long
etcd_tls_write(void *s, const void *buf, size_t n, int *events, char *err, size_t errlen)
{
	int r = wolfSSL_write(s, buf, n > 65536 ? 65536 : (int)n);

	return r > 0 ? r : etcd_tls_error(s, r, events, err, errlen);
}
