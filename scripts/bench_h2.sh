# SPDX-License-Identifier: ISC
# Sourced by scripts/bench.sh (BENCH_ONLY unset or h2): HTTP/2 on every leg,
# h2load through the mesh pair and through an HAProxy pair, one nghttpd
# behind both.
#
#   h2load -> haproxy A2 (h2c in) --h2, mTLS 1.3--> haproxy B2 --h2c--> nghttpd
#   h2load -> client sidecar --h2, mTLS 1.3--> web sidecar --h2c--> nghttpd
#   h2load -> nghttpd                                       (direct)
#
# Uses bench.sh's helpers, temp dir ($T), certificates ($K), ha_common and
# ports P2_*; defines h2_row and h2_details for bench.sh's table.
# shellcheck shell=bash disable=SC2154,SC2034  # bench.sh sets P2_*, T, K, BIN, reads the figures

# --- nghttpd: one worker, h2c only, the same small body as nginx's ---------------
N2=$T/nghttpd
mkdir -p "$N2/www"
chmod 0755 "$T" "$N2" "$N2/www"
printf 'hello from nghttpd, a small response body for the benchmark.\n' >"$N2/www/small"
chmod 0644 "$N2/www/small"
nghttpd --no-tls -a 127.0.0.1 -n 1 -d "$N2/www" "$P2_APP" >"$N2/log" 2>&1 &
PIDS+=($!)
wait_port "$P2_APP" "nghttpd: $(tail -2 "$N2/log")"

# --- the HAProxy pair, HTTP/2 on both sides of it and between -------------------
H2=$T/haproxy2
mkdir -p "$H2"
{
	ha_common
	cat <<EOF
frontend a2_in
	bind 127.0.0.1:$P2_HA_A proto h2
	default_backend a2_out
backend a2_out
	server b 127.0.0.1:$P2_HA_B ssl alpn h2 crt $K/ha-a.pem ca-file $K/ca.crt verify required verifyhost ha-b
EOF
} >"$H2/a.cfg"
{
	ha_common
	cat <<EOF
frontend b2_in
	bind 127.0.0.1:$P2_HA_B ssl alpn h2 crt $K/ha-b.pem ca-file $K/ca.crt verify required
	default_backend b2_out
backend b2_out
	server app 127.0.0.1:$P2_APP proto h2
EOF
} >"$H2/b.cfg"
ha_pair "$H2" 2 "$P2_HA_A" "$P2_HA_B"
HA2_A=$HA_PAIR_A HA2_B=$HA_PAIR_B

# --- a second mesh: a pure client in front, web = nghttpd ---------------------------
# Its own meshd: web is an HTTP/2 service (protocol = http2).
M2=$T/mesh2
mkdir -p "$M2"
# h2_ini LINE: the mesh.ini, LINE under [service.web]
h2_ini() {
	cat >"$M2/mesh.ini" <<EOF
[mesh]
name = bench2
port_base = $P2_BASE

[service.client]
upstreams = web:$P2_FRONT

[service.web]
port = $P2_APP
$1
EOF
}
h2_ini "protocol = http2"
"$BIN/meshctl" check -f "$M2/mesh.ini" >"$M2/check.log" 2>&1 ||
	die "meshctl check $M2/mesh.ini: $(cat "$M2/check.log")"
MESH2_UP=1
timeout 60 "$BIN/meshctl" up -d -f "$M2/mesh.ini" >"$M2/up.log" 2>&1 \
	|| die "meshctl up (HTTP/2 mesh) failed: $(tail -5 "$M2/up.log")"
"$BIN/meshctl" status --json -f "$M2/mesh.ini" >"$M2/status.json" 2>/dev/null
MP2_C=$(status_field "$M2/status.json" client.0 proxy_pid)
MP2_W=$(status_field "$M2/status.json" web.0 proxy_pid)
if [ -z "$MP2_C" ] || [ -z "$MP2_W" ]; then
	die "no sidecar pids in meshctl status --json ($M2/mesh.ini)"
fi
wait_port "$P2_FRONT" "HTTP/2 mesh front door"

D2=http://127.0.0.1:$P2_APP
HA2=http://127.0.0.1:$P2_HA_A
MESH2=http://127.0.0.1:$P2_FRONT

# h2load ARGS... URL: prints "requests rps p50_us errors"; p50 from h2load's
# per-request log (h2load itself prints only min, max, mean and sd)
h2load_run() {
	local out=$T/h2load.out log=$T/h2load.log
	rm -f "$log"
	timeout $((DUR + 30)) h2load --log-file="$log" "$@" >"$out" 2>&1
	p50=$(awk -F'\t' '{ print $3 }' "$log" 2>/dev/null | sort -n |
		awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
	awk -v p50="$p50" '
	/^finished in/ { rps = $4 }
	/^requests:/ { done = $8; if ($10 + $12 + $14 > 0) err = 1 }
	/^status codes:/ { if ($5 + $7 + $9 > 0 || $3 == 0) err = 1 }
	END { if (rps == "") err = 1; printf "%d %.0f %.0f %d\n", done, rps, p50, err }' "$out"
}
H2LOAD=(-c4 -m32 -D "$DUR" --warm-up-time=1)

for u in "$D2" "$HA2" "$MESH2"; do
	n=50
	until read -r _ _ _ err < <(h2load_run -n1 -c1 "$u/small") && [ "$err" = 0 ]; do
		n=$((n - 1)); [ $n -gt 0 ] || die "$u/small never answered 200 over h2c: $(tail -3 "$T/h2load.out")"
		sleep 0.1
	done
done
echo "bench: nghttpd on $P2_APP, haproxy $P2_HA_A -> $P2_HA_B, mesh $P2_FRONT (HTTP/2); $RUNS interleaved runs of ${DUR}s" >&2

H2_D=(); H2_HA=(); H2_M=(); H2P_D=(); H2P_HA=(); H2P_M=()
H2REQ_HA=0; H2REQ_M=0; H2TK_HA=0; H2TK_M=0
for i in $(seq "$RUNS"); do
	read -r _ rps p50 err < <(h2load_run "${H2LOAD[@]}" "$D2/small")
	H2_D+=("$rps"); H2P_D+=("$p50"); warn_err "$err" "direct h2"
	t0=$(ticks "$HA2_A" "$HA2_B")
	read -r req rps p50 err < <(h2load_run "${H2LOAD[@]}" "$HA2/small")
	H2_HA+=("$rps"); H2P_HA+=("$p50"); warn_err "$err" "haproxy h2"
	H2TK_HA=$((H2TK_HA + $(ticks "$HA2_A" "$HA2_B") - t0)); H2REQ_HA=$((H2REQ_HA + req))
	t0=$(ticks "$MP2_C" "$MP2_W")
	read -r req rps p50 err < <(h2load_run "${H2LOAD[@]}" "$MESH2/small")
	H2_M+=("$rps"); H2P_M+=("$p50"); warn_err "$err" "mesh h2"
	H2TK_M=$((H2TK_M + $(ticks "$MP2_C" "$MP2_W") - t0)); H2REQ_M=$((H2REQ_M + req))
	echo "bench: h2 run $i: direct ${H2_D[-1]} haproxy ${H2_HA[-1]} mesh ${H2_M[-1]} rps; p50 ${H2P_D[-1]} / ${H2P_HA[-1]} / ${H2P_M[-1]} us" >&2
done
H2RSS_DETAIL="client $(rss_both "$MP2_C"), web $(rss_both "$MP2_W"); haproxy A2 $(rss_both "$HA2_A"), B2 $(rss_both "$HA2_B")"

h2_row() {
	local d ha m
	d=$(median "${H2_D[@]}"); ha=$(median "${H2_HA[@]}"); m=$(median "${H2_M[@]}")
	echo "| HTTP/2 small responses, \`h2load -c4 -m32 -D${DUR}\`, median of $RUNS interleaved runs (direct $d rps, p50 $(median "${H2P_D[@]}") us) | $m rps (p50 $(median "${H2P_M[@]}") us) | $ha rps (p50 $(median "${H2P_HA[@]}") us) | $(ratio "$m" "$ha")x | >= 1.5x |"
}
h2_details() {
	local ha m cm cha
	ha=$(median "${H2_HA[@]}"); m=$(median "${H2_M[@]}")
	cm=$(cpu_per_k "$H2TK_M" "$H2REQ_M"); cha=$(cpu_per_k "$H2TK_HA" "$H2REQ_HA")
	cat <<EOF
h2:   rps direct ${H2_D[*]} | haproxy ${H2_HA[*]} | mesh ${H2_M[*]}
      p50 us under load direct ${H2P_D[*]} | haproxy ${H2P_HA[*]} | mesh ${H2P_M[*]}
      CPU of both proxies per 1k requests: mesh $cm ms, haproxy $cha ms
      rss after the run: $H2RSS_DETAIL
goals met: h2 rps $(awk -v r="$(ratio "$m" "$ha")" 'BEGIN { print (r >= 1.5) ? "yes" : "no" }')
EOF
}
