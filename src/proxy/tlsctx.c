/* SPDX-License-Identifier: ISC */
/*
 * tlsctx: wolfSSL contexts for mTLS between sidecars, identity rotation
 * and the client session cache.  Policy in include/mesh/tlsctx.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif

#include <sys/socket.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "mesh/clock.h"
#include "mesh/pki.h"
#include "mesh/tlsctx.h"

#define TLSCTX_ALLOW_MAX 256

/*
 * After a callee refused a resumed connection, no resumption to it for
 * this long: its session cache is being churned (a burst of handshakes),
 * and the ticket saved a moment ago may be gone as well; the retry of the
 * refused request must not meet the same fate.
 */
#define TLSCTX_RESUME_PAUSE_NS 2000000000u

struct tlsctx_sess {
	char             endpoint[TLSCTX_ENDPOINT_MAX];   /* "": never used */
	WOLFSSL_SESSION *sess;      /* the ticket to offer, if any */
	uint64_t         paused;    /* CLOCK_MONOTONIC ns: no resumption before */
	unsigned long    used;      /* LRU stamp */
};

struct tlsctx {
	char               td[SPIFFE_TD_MAX + 1];
	const char        *ciphers;
	WOLFSSL_CTX       *server;   /* current identity; NULL before the first */
	WOLFSSL_CTX       *client;
	char             **allow;
	size_t             nallow;
	struct tlsctx_sess sess[TLSCTX_SESSIONS];
	unsigned long      clock;    /* LRU counter */
	struct pki_bundle  trust;    /* n == 0: the identity's CA */
};

/* Server order decides; the TLS 1.2 suites are there only for a peer
 * that cannot do 1.3 (none of ours), and are ECDHE-ECDSA AEADs too. */
static const char tlsctx_ciphers_aes[] =
    "TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
static const char tlsctx_ciphers_chacha[] =
    "TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";

static int
tlsctx_cpu_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & bit_AES) != 0;
#elif defined(__aarch64__) && defined(HWCAP_AES)
	return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#elif defined(__arm__) && defined(HWCAP2_AES)
	return (getauxval(AT_HWCAP2) & HWCAP2_AES) != 0;
#else
	return 0;
#endif
}

int
tlsctx_aes_fast(void)
{
#if defined(WOLFSSL_AESNI) || defined(WOLFSSL_ARMASM)
	return tlsctx_cpu_aes();
#else
	/* The instructions may be there, but this wolfSSL does not use them. */
	(void)tlsctx_cpu_aes;
	return 0;
#endif
}

const char *
tlsctx_cipher_list(enum tlsctx_prefer p)
{
	if (p == TLSCTX_PREFER_AUTO)
		p = tlsctx_aes_fast() ? TLSCTX_PREFER_AES : TLSCTX_PREFER_CHACHA;
	return p == TLSCTX_PREFER_AES ? tlsctx_ciphers_aes : tlsctx_ciphers_chacha;
}

struct tlsctx *
tlsctx_new(const char *td, enum tlsctx_prefer p, char *err, size_t errlen)
{
	struct tlsctx *t;

	if (!spiffe_valid_trust_domain(td, strlen(td))) {
		snprintf(err, errlen, "trust domain \"%s\" is not valid", td);
		return NULL;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot initialise wolfSSL");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		wolfSSL_Cleanup();
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(t->td, sizeof(t->td), "%s", td);
	t->ciphers = tlsctx_cipher_list(p);
	return t;
}

static void
tlsctx_allow_clear(struct tlsctx *t)
{
	size_t i;

	for (i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	t->allow = NULL;
	t->nallow = 0;
}

void
tlsctx_free(struct tlsctx *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < TLSCTX_SESSIONS; i++)
		if (t->sess[i].sess != NULL)
			wolfSSL_SESSION_free(t->sess[i].sess);
	/* a WOLFSSL still open keeps its context alive past this */
	wolfSSL_CTX_free(t->server);
	wolfSSL_CTX_free(t->client);
	tlsctx_allow_clear(t);
	free(t);
	wolfSSL_Cleanup();
}

/* Joined mode: present the leaf, then the intermediate that signed it
 * (wolfSSL takes a chain as PEM).  0 or -1. */
static int
tlsctx_use_chain(WOLFSSL_CTX *c, const struct tlsctx_ident *id)
{
	char pem[2 * PKI_PEM_MAX];
	int a, b;

	if ((a = pki_der_to_pem(id->leaf, id->leaflen, pem, sizeof(pem))) < 0 ||
	    (b = pki_der_to_pem(id->inter, id->interlen, pem + a, sizeof(pem) - (size_t)a)) < 0)
		return -1;
	return wolfSSL_CTX_use_certificate_chain_buffer(c, (const unsigned char *)pem,
	    (long)(a + b)) == WOLFSSL_SUCCESS ? 0 : -1;
}

/* One side's context for an identity.  NULL with a reason in err. */
static WOLFSSL_CTX *
tlsctx_build(struct tlsctx *t, const struct tlsctx_ident *id, int server,
    char *err, size_t errlen)
{
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };
	const char *what;
	WOLFSSL_CTX *c;
	size_t i;

	c = wolfSSL_CTX_new(server ? wolfSSLv23_server_method() : wolfSSLv23_client_method());
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	what = "minimum version TLS 1.2";
	if (wolfSSL_CTX_SetMinVersion(c, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
		goto fail;
	what = "cipher list";
	if (wolfSSL_CTX_set_cipher_list(c, t->ciphers) != WOLFSSL_SUCCESS)
		goto fail;
	what = "key exchange groups";
	if (wolfSSL_CTX_set_groups(c, groups, 2) != WOLFSSL_SUCCESS)
		goto fail;
	/* set_groups rules TLS 1.3 only: without this a TLS 1.2 server does
	 * ECDHE on whatever curve the client names first (secp256k1,
	 * brainpool, P-521...), and a 1.2 client offers them all.  The
	 * trimmed static wolfSSL (scripts/wolfssl.sh) has no OpenSSL layer:
	 * built with ECC_USER_CURVES and P-256 alone, it knows no other
	 * curve to pick or offer. */
#if defined(OPENSSL_EXTRA)
	if (wolfSSL_CTX_set1_curves_list(c, "X25519:P-256") != WOLFSSL_SUCCESS)
		goto fail;
#elif !defined(ECC_USER_CURVES) || defined(HAVE_ECC192) || defined(HAVE_ECC224) || \
    defined(HAVE_ECC384) || defined(HAVE_ECC521) || defined(HAVE_ECC_BRAINPOOL) || \
    defined(HAVE_ECC_KOBLITZ) || defined(HAVE_CURVE448)
#error "wolfSSL without OPENSSL_EXTRA must be built with ECC_USER_CURVES and P-256 only"
#endif
	what = "CA certificate";
	if (t->trust.n == 0 && wolfSSL_CTX_load_verify_buffer(c, id->ca, (long)id->calen,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		goto fail;
	for (i = 0; i < t->trust.n; i++)
		if (wolfSSL_CTX_load_verify_buffer(c, t->trust.root[i].der,
		    (long)t->trust.root[i].len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			goto fail;
	what = "leaf certificate";
	if (id->inter != NULL ? tlsctx_use_chain(c, id) != 0 :
	    wolfSSL_CTX_use_certificate_buffer(c, id->leaf, (long)id->leaflen,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		goto fail;
	what = "private key";
	if (wolfSSL_CTX_use_PrivateKey_buffer(c, id->key, (long)id->keylen,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		goto fail;
	what = "private key does not match the leaf";
	if (wolfSSL_CTX_check_private_key(c) != WOLFSSL_SUCCESS)
		goto fail;
	wolfSSL_CTX_set_verify(c, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* TLS 1.2 tickets too (1.3 always uses them). */
	if (!server && wolfSSL_CTX_UseSessionTicket(c) != WOLFSSL_SUCCESS) {
		what = "session tickets";
		goto fail;
	}
	return c;
fail:
	snprintf(err, errlen, "TLS %s context: cannot set the %s", server ? "server" : "client", what);
	wolfSSL_CTX_free(c);
	return NULL;
}

int
tlsctx_set_identity(struct tlsctx *t, const struct tlsctx_ident *id, char *err, size_t errlen)
{
	WOLFSSL_CTX *s, *c;
	size_t i;

	if ((s = tlsctx_build(t, id, 1, err, errlen)) == NULL)
		return -1;
	if ((c = tlsctx_build(t, id, 0, err, errlen)) == NULL) {
		wolfSSL_CTX_free(s);
		return -1;
	}
	/* Drop our reference only: connections made from the old contexts
	 * hold theirs until they close. */
	wolfSSL_CTX_free(t->server);
	wolfSSL_CTX_free(t->client);
	t->server = s;
	t->client = c;
	/* A resumed session would present the leaf it was made with: after
	 * a rotation every new connection presents the new one. */
	for (i = 0; i < TLSCTX_SESSIONS; i++) {
		if (t->sess[i].sess != NULL)
			wolfSSL_SESSION_free(t->sess[i].sess);
		t->sess[i].sess = NULL;
	}
	return 0;
}

void
tlsctx_set_trust(struct tlsctx *t, const struct pki_bundle *b)
{
	if (b == NULL)
		t->trust.n = 0;
	else
		memcpy(&t->trust, b, sizeof(*b));
}

int
tlsctx_set_allow(struct tlsctx *t, const char *const *allow, size_t n)
{
	char **a = NULL;
	size_t i;

	if (n > TLSCTX_ALLOW_MAX)
		return -1;
	if (n > 0 && (a = calloc(n, sizeof(*a))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (!spiffe_valid_service(allow[i], strlen(allow[i])) ||
		    (a[i] = strdup(allow[i])) == NULL) {
			while (i-- > 0)
				free(a[i]);
			free(a);
			return -1;
		}
	}
	tlsctx_allow_clear(t);
	t->allow = a;
	t->nallow = n;
	return 0;
}

int
tlsctx_ready(const struct tlsctx *t)
{
	return t->server != NULL;
}

/* endpoint's slot (holding a ticket, a pause or both), or NULL */
static struct tlsctx_sess *
tlsctx_sess_find(struct tlsctx *t, const char *endpoint)
{
	size_t i;

	for (i = 0; i < TLSCTX_SESSIONS; i++)
		if (t->sess[i].endpoint[0] != '\0' && strcmp(t->sess[i].endpoint, endpoint) == 0)
			return &t->sess[i];
	return NULL;
}

/* endpoint's slot, made if need be: an idle one (no ticket, no pause),
 * else the least recently used.  NULL for a name too long to keep. */
static struct tlsctx_sess *
tlsctx_sess_slot(struct tlsctx *t, const char *endpoint, uint64_t now)
{
	struct tlsctx_sess *e;
	size_t i;

	if (endpoint == NULL || strlen(endpoint) >= TLSCTX_ENDPOINT_MAX)
		return NULL;
	if ((e = tlsctx_sess_find(t, endpoint)) != NULL)
		return e;
	e = &t->sess[0];
	for (i = 0; i < TLSCTX_SESSIONS; i++) {
		if (t->sess[i].sess == NULL && t->sess[i].paused <= now) {
			e = &t->sess[i];
			break;
		}
		if (t->sess[i].used < e->used)
			e = &t->sess[i];
	}
	if (e->sess != NULL)
		wolfSSL_SESSION_free(e->sess);
	e->sess = NULL;
	e->paused = 0;
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	return e;
}

WOLFSSL *
tlsctx_ssl_new(struct tlsctx *t, int fd, int server, const char *endpoint)
{
	WOLFSSL *ssl;

	if (t->server == NULL)
		return NULL;
	if ((ssl = wolfSSL_new(server ? t->server : t->client)) == NULL)
		return NULL;
	if (wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS) {
		wolfSSL_free(ssl);
		return NULL;
	}
	/* a peer that went away is an error to report, not a SIGPIPE */
	wolfSSL_SetIOWriteFlags(ssl, MSG_NOSIGNAL);
	if (!server && endpoint != NULL)
		(void)tlsctx_session_resume(t, ssl, endpoint);
	return ssl;
}

int
tlsctx_session_resume(struct tlsctx *t, WOLFSSL *ssl, const char *endpoint)
{
	struct tlsctx_sess *e;

	if ((e = tlsctx_sess_find(t, endpoint)) == NULL || e->sess == NULL ||
	    e->paused > clock_ns(CLOCK_MONOTONIC))
		return 0;
	/* A refused session is no error: a full handshake follows. */
	if (wolfSSL_set_session(ssl, e->sess) != WOLFSSL_SUCCESS)
		return 0;
	/* Single use (RFC 8446, C.4): ssl holds its own copy, and the slot
	 * waits for the ticket this connection brings back.  Offered to a
	 * burst of connects at once, one ticket was resumed by every one of
	 * them while the callee's small session cache filled with the burst's
	 * new sessions: past about 33 handshakes its chain was gone, and the
	 * callee refused the rest (1,000 connections opened at once: 502s
	 * from the 35th on).  Now the first connect resumes and the others
	 * make full handshakes. */
	wolfSSL_SESSION_free(e->sess);
	e->sess = NULL;
	e->used = ++t->clock;
	return 1;
}

void
tlsctx_session_save(struct tlsctx *t, WOLFSSL *ssl, const char *endpoint)
{
	struct tlsctx_sess *e;
	WOLFSSL_SESSION *s;

	if ((s = wolfSSL_get1_session(ssl)) == NULL)
		return;
	if ((e = tlsctx_sess_slot(t, endpoint, clock_ns(CLOCK_MONOTONIC))) == NULL) {
		wolfSSL_SESSION_free(s);
		return;
	}
	if (e->sess != NULL)
		wolfSSL_SESSION_free(e->sess);
	e->sess = s;
	e->used = ++t->clock;
}

void
tlsctx_session_forget(struct tlsctx *t, const char *endpoint)
{
	struct tlsctx_sess *e;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if ((e = tlsctx_sess_slot(t, endpoint, now)) == NULL)
		return;
	if (e->sess != NULL)
		wolfSSL_SESSION_free(e->sess);
	e->sess = NULL;
	e->paused = now + TLSCTX_RESUME_PAUSE_NS;
	e->used = ++t->clock;
}

/* A resumed session's peer chain against the current roots: the leaf
 * der, and the intermediate after it if the peer sent one. */
static int
tlsctx_chain_check(struct tlsctx *t, WOLFSSL_X509_CHAIN *chain, const unsigned char *der,
    int len)
{
	const unsigned char *inter = NULL;
	int ilen = 0;

	if (wolfSSL_get_chain_count(chain) >= 2) {
		inter = wolfSSL_get_chain_cert(chain, 1);
		ilen = wolfSSL_get_chain_length(chain, 1);
		if (inter == NULL || ilen <= 0)
			return -1;
	}
	return pki_chain_verify(&t->trust, der, (size_t)len, inter, (size_t)ilen);
}

int
tlsctx_verify_peer(struct tlsctx *t, WOLFSSL *ssl, const char *expect, struct spiffe_id *peer)
{
	WOLFSSL_X509_CHAIN *chain;
	const unsigned char *der;
	struct spiffe_id id;
	int len, rc;

	/* The session's chain: filled by a full handshake and restored with a
	 * resumed session, so a resumption is checked like a new one. */
	chain = wolfSSL_get_peer_chain(ssl);
	if (chain == NULL || wolfSSL_get_chain_count(chain) < 1)
		return TLSCTX_E_NO_CERT;
	der = wolfSSL_get_chain_cert(chain, 0);
	len = wolfSSL_get_chain_length(chain, 0);
	if (der == NULL || len <= 0)
		return TLSCTX_E_NO_CERT;
	if ((rc = spiffe_check_der(der, (size_t)len, t->td, &id)) != SPIFFE_OK)
		return rc;
	/* A full handshake checked the dates; a resumption did not, and a
	 * ticket may outlive the leaf it was issued to. */
	if (wolfSSL_session_reused(ssl)) {
		struct pki_certinfo ci;

		if (pki_cert_info(der, (size_t)len, &ci) != 0 || ci.not_after <= time(NULL))
			return TLSCTX_E_EXPIRED;
		/* a ticket outlives a root rollover too; a joined host's peer
		 * chains through the intermediate it sent after its leaf */
		if (t->trust.n > 0 && tlsctx_chain_check(t, chain, der, len) != 0)
			return TLSCTX_E_UNTRUSTED;
	}
	if (expect == NULL &&
	    !spiffe_allowed(id.svc, (const char *const *)t->allow, t->nallow))
		return TLSCTX_E_DENIED;
	if (expect != NULL && strcmp(expect, id.svc) != 0)
		return TLSCTX_E_WRONG_PEER;
	if (peer != NULL)
		*peer = id;
	return 0;
}

const char *
tlsctx_strerror(int err)
{
	switch (err) {
	case TLSCTX_E_NO_CERT:    return "peer presented no certificate";
	case TLSCTX_E_DENIED:     return "caller not allowed";
	case TLSCTX_E_WRONG_PEER: return "peer is not the service we called";
	case TLSCTX_E_EXPIRED:    return "resumed session of an expired certificate";
	case TLSCTX_E_UNTRUSTED:  return "resumed session of a certificate from a retired root";
	}
	return spiffe_strerror(err);
}
