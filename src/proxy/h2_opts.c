/* SPDX-License-Identifier: ISC */
/*
 * h2_opts: the limits nghttp2 enforces on every session of the sidecar
 * (h2_int.h has the values): windows given back only as the other leg
 * takes the bytes, the HPACK table a peer may make us keep, how many
 * acknowledgements (PING, SETTINGS) we may owe, the largest header block
 * we send, and the entries of one SETTINGS frame.  Apart from h2_io.c so
 * the frame-path fuzz target (tests/fuzz/fuzz_h2_frames.c) runs with the
 * very same session options, without libev.
 */
#include "h2_int.h"

nghttp2_option *
h2io_options(void)
{
	static nghttp2_option *opt;

	if (opt == NULL && nghttp2_option_new(&opt) == 0) {
		/* windows go back only as the other leg takes the bytes */
		nghttp2_option_set_no_auto_window_update(opt, 1);
		nghttp2_option_set_max_deflate_dynamic_table_size(opt, H2_HPACK_TABLE);
		nghttp2_option_set_max_outbound_ack(opt, 100);
		nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
		nghttp2_option_set_max_settings(opt, 32);
	}
	return opt;
}
