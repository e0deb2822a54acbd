/* SPDX-License-Identifier: ISC */
/*
 * pki_der: one surgical edit on a to-be-signed certificate.
 *
 * wolfSSL 5.5 writes basicConstraints without the critical flag, and
 * offers no switch for it.  RFC 5280 4.2.1.9 says a CA MUST mark it
 * critical, so before signing we insert "critical TRUE" into that one
 * extension and re-encode the lengths around it.  The input is the
 * TBSCertificate wolfSSL just made, but it is still walked with every
 * length checked, as if it came from outside.
 */
#include <string.h>

#include "pki_int.h"

#include <wolfssl/wolfcrypt/asn.h>

struct der {
	unsigned char tag;
	size_t        hdr;   /* tag + length bytes */
	size_t        len;   /* content length */
};

/* Read the header at p (at most n bytes).  0 or -1. */
static int
der_read(const unsigned char *p, size_t n, struct der *d)
{
	size_t i, k;

	if (n < 2)
		return -1;
	d->tag = p[0];
	if (p[1] < 0x80) {
		d->len = p[1];
		d->hdr = 2;
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return -1;
		d->len = 0;
		for (i = 0; i < k; i++)
			d->len = (d->len << 8) | p[2 + i];
		d->hdr = 2 + k;
	}
	return d->hdr + d->len <= n ? 0 : -1;
}

/* Write a header for tag/len at out; its size. */
size_t
pki_der_len(unsigned char *out, size_t n)
{
	if (n < 0x80) {
		out[0] = (unsigned char)n;
		return 1;
	}
	if (n < 0x100) {
		out[0] = 0x81;
		out[1] = (unsigned char)n;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (unsigned char)(n >> 8);
	out[2] = (unsigned char)n;
	return 3;
}

static size_t
der_hdr(unsigned char *out, unsigned char tag, size_t len)
{
	out[0] = tag;
	return 1 + pki_der_len(out + 1, len);
}

int
pki_der_bc_critical(unsigned char *tbs, size_t len, size_t cap)
{
	static const unsigned char bc_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x13 };
	static const unsigned char crit[] = { 0x01, 0x01, 0xff };
	unsigned char out[PKI_CERT_MAX], exts[1024], seqh[4], ctxh[4];
	struct der t, c, w, e;
	size_t off, eoff, xl = 0, pre, sl, cl, tl, body;
	int found = 0;

	if (der_read(tbs, len, &t) != 0 || t.tag != (ASN_SEQUENCE | ASN_CONSTRUCTED))
		return -1;
	/* find [3] EXPLICIT Extensions among the TBS fields */
	for (off = t.hdr; off < t.hdr + t.len; off += c.hdr + c.len) {
		if (der_read(tbs + off, t.hdr + t.len - off, &c) != 0)
			return -1;
		if (c.tag == (ASN_CONTEXT_SPECIFIC | ASN_CONSTRUCTED | 3))
			break;
	}
	if (off >= t.hdr + t.len || der_read(tbs + off + c.hdr, c.len, &w) != 0 ||
	    w.tag != (ASN_SEQUENCE | ASN_CONSTRUCTED) || w.hdr + w.len != c.len)
		return -1;
	pre = off;
	/* copy every extension, the basicConstraints one with the flag added */
	for (eoff = off + c.hdr + w.hdr; eoff < off + c.hdr + c.len; eoff += e.hdr + e.len) {
		if (der_read(tbs + eoff, off + c.hdr + c.len - eoff, &e) != 0)
			return -1;
		if (e.len > sizeof(bc_oid) && memcmp(tbs + eoff + e.hdr, bc_oid, sizeof(bc_oid)) == 0 &&
		    tbs[eoff + e.hdr + sizeof(bc_oid)] != 0x01) {
			if (xl + 4 + e.len + sizeof(crit) > sizeof(exts))
				return -1;
			xl += der_hdr(exts + xl, e.tag, e.len + sizeof(crit));
			memcpy(exts + xl, tbs + eoff + e.hdr, sizeof(bc_oid));
			xl += sizeof(bc_oid);
			memcpy(exts + xl, crit, sizeof(crit));
			xl += sizeof(crit);
			memcpy(exts + xl, tbs + eoff + e.hdr + sizeof(bc_oid), e.len - sizeof(bc_oid));
			xl += e.len - sizeof(bc_oid);
			found = 1;
		} else {
			if (xl + e.hdr + e.len > sizeof(exts))
				return -1;
			memcpy(exts + xl, tbs + eoff, e.hdr + e.len);
			xl += e.hdr + e.len;
		}
	}
	if (!found)
		return (int)len;     /* nothing to do */
	/* TBS content = the fields before [3], then [3] { SEQUENCE { exts } };
	 * wolfSSL puts nothing after the extensions */
	if (off + c.hdr + c.len != t.hdr + t.len)
		return -1;
	sl = der_hdr(seqh, ASN_SEQUENCE | ASN_CONSTRUCTED, xl);
	cl = der_hdr(ctxh, ASN_CONTEXT_SPECIFIC | ASN_CONSTRUCTED | 3, sl + xl);
	body = (pre - t.hdr) + cl + sl + xl;
	tl = der_hdr(out, ASN_SEQUENCE | ASN_CONSTRUCTED, body);
	if (tl + body > cap || tl + body > sizeof(out))
		return -1;
	off = tl;
	memcpy(out + off, tbs + t.hdr, pre - t.hdr);
	off += pre - t.hdr;
	memcpy(out + off, ctxh, cl);
	off += cl;
	memcpy(out + off, seqh, sl);
	off += sl;
	memcpy(out + off, exts, xl);
	off += xl;
	memcpy(tbs, out, off);
	return (int)off;
}
