/* SPDX-License-Identifier: ISC */
/*
 * transport: which transport the legs between sidecars use.
 *
 * mTLS once the sidecar runs under meshd (ident.h: the first config with
 * a trust domain turns it on); plain TCP in `mesh-proxy -c FILE`
 * debugging mode.  A TLS connection cannot open before the identity is
 * installed: no mesh traffic without a certificate.
 */
#include "mesh/ident.h"
#include "mesh/transport.h"
#include "mesh/transport_tls.h"

const struct transport *
transport_mesh(void)
{
	return ident_enabled() ? &transport_tls : &transport_plain;
}

const struct transport *
transport_mesh_h2(void)
{
	return ident_enabled() ? &transport_tls_h2 : &transport_plain;
}
