/*
 * transport: which transport the legs between sidecars use.
 *
 * This is the one place mTLS changes: return the TLS transport here.
 */
#include "mesh/transport.h"

const struct transport *
transport_mesh(void)
{
	return &transport_plain;
}
