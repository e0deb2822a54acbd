#!/bin/bash
# SPDX-License-Identifier: ISC
# sec_tls_scan: testssl.sh against a sidecar's inbound port, holding a
# client certificate from the mesh's CA, and its findings asserted one by
# one from its JSON (docs/security.md, "TLS scan", lists them):
#
#   TLS 1.3 and 1.2 only; exactly four suites, all AEAD with ECDHE (no
#   CBC, no static RSA: ROBOT finds no RSA key transport); forward
#   secrecy on every suite, ECDHE on X25519 and P-256 only; RFC 5746
#   renegotiation_info but no client-initiated renegotiation; no TLS
#   compression; heartbleed, CCS injection, fallback, POODLE, BEAST,
#   DROWN not applicable; no finding above INFO.
#
# testssl.sh 3.0 (Debian 12) has no option for a client certificate: it is
# given an openssl wrapper that adds ours to every `s_client`, so its
# openssl-driven checks (service detection, renegotiation, CRIME) complete
# the handshake the mesh demands; its raw-socket ClientHellos need only
# the ServerHello.  The sidecar counting completed handshakes proves the
# certificate was used.  No DNS: the target is an IP, --nodns none,
# NXCONNECT points openssl's option probes at 127.0.0.1:0 instead of
# "invalid.", and PATH shims for dig/host/drill/nslookup/avahi-resolve
# record any call (asserted empty), as the wrapper records every address
# openssl connected to (asserted all 127.0.0.1).
# Checks run: -p -e -f -R -C -H -I -BB -Z -O -A -D (not -U: the rest of the
# vulnerabilities are about ciphers -e already shows absent).
# Ports: 26300-26399.
. "$(dirname "$0")/lib.sh"

TESTSSL=$(command -v testssl || command -v testssl.sh)
if [ -z "$TESTSSL" ]; then
	not_ok "testssl.sh is installed" "scripts/deps.sh test installs it (Debian package testssl.sh)"
	exit 1
fi
OPENSSL=$(command -v openssl)

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = tls-scan
port_base = 26350
state_dir = $T/state

[service.api]
command = $T/testapp --port \$PORT
port = 26320
EOF
mesh_up_or_stop "$T/mesh.ini"

inst() {  # FIELD of api's instance, from status --json
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
i = json.load(sys.stdin)["services"][0]["instances"][0]
v = i
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else v)' "$1"
}
IN=$(inst inbound_port)
check "api inbound port known ($IN)" grep -Eqx '26[0-9]{3}' <<<"$IN"
check "api inbound accepts" wait_port "$IN" 10

# ---- a client certificate from the mesh CA, as meshd signs one ----------
"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/scanner.key" -subj "/CN=scanner" -out "$T/scanner.csr" 2>/dev/null
check "the mesh CA signs the scanner's CSR" \
	"$MESH_APPS/pkitool" sign "$T/state/ca" mesh.local scanner 3600 "$T/scanner.csr" "$T/scanner.crt"
check "scanner certificate verifies against the mesh CA as a TLS client" \
	"$OPENSSL" verify -purpose sslclient -CAfile "$T/state/ca/ca.crt" "$T/scanner.crt"

# ---- the wrapper and the DNS shims ------------------------------------
mkdir -p "$T/bin"
cat >"$T/bin/openssl" <<EOF
#!/bin/sh
# every s_client presents the scanner's certificate; openssl's default
# target (localhost:4433) is a name, so an option probe without -connect
# gets 127.0.0.1:0; each target is recorded
if [ "\$1" = s_client ]; then
	shift
	to=
	prev=
	for a in "\$@"; do
		[ "\$prev" = -connect ] && to=\$a
		prev=\$a
	done
	if [ -z "\$to" ]; then
		set -- -connect 127.0.0.1:0 "\$@"
		to=127.0.0.1:0
	fi
	echo "\$to" >>"$T/connects.log"
	exec "$OPENSSL" s_client -cert "$T/scanner.crt" -key "$T/scanner.key" "\$@"
fi
exec "$OPENSSL" "\$@"
EOF
for tool in dig host drill nslookup avahi-resolve; do
	cat >"$T/bin/$tool" <<EOF
#!/bin/sh
# testssl.sh reads \`dig -h\` for its options; anything else is a lookup
[ "\$*" = -h ] && exit 0
echo "$tool \$*" >>"$T/dns.log"
exit 1
EOF
done
chmod 0755 "$T"/bin/*
: >"$T/dns.log"
: >"$T/connects.log"

has_stats() { grep -Eqx '[0-9]+' <<<"$(inst stats.tls_handshakes_ok)"; }
check "api's sidecar keeps stats" wait_for 10 has_stats
hs0=$(inst stats.tls_handshakes_ok)

# ---- the scan ------------------------------------------------------------
t0=$(date +%s)
PATH="$T/bin:$PATH" NXCONNECT=127.0.0.1:0 timeout -k 10 480 "$TESTSSL" \
	--quiet --color 0 --warnings batch --nodns none --openssl "$T/bin/openssl" \
	--openssl-timeout 10 --jsonfile "$T/scan.json" \
	-p -e -f -R -C -H -I -BB -Z -O -A -D \
	"127.0.0.1:$IN" </dev/null >"$T/scan.txt" 2>&1
rc=$?
echo "# testssl.sh exit $rc after $(( $(date +%s) - t0 )) s"
if ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/scan.json" 2>/dev/null; then
	not_ok "testssl.sh wrote its JSON findings" "exit $rc" "$(tail -20 "$T/scan.txt")"
	exit 1
fi
ok "testssl.sh wrote its JSON findings"

# ---- the findings, one assertion each --------------------------------------
python3 - "$T/scan.json" <<'PY'
import json, sys

findings = json.load(open(sys.argv[1]))
by_id = {}
for f in findings:
    by_id.setdefault(f["id"], f)

def report(name, good, *detail):
    print(("ok - " if good else "not ok - ") + name)
    if not good:
        for d in detail:
            print("#   " + str(d))

def finding(fid):
    f = by_id.get(fid)
    return (f["finding"], f["severity"]) if f else ("(no finding %s)" % fid, "")

def is_(fid, want, name=None):
    got, sev = finding(fid)
    report(name or "%s: %s" % (fid, want), got == want, "got: %s (%s)" % (got, sev))

def starts(fid, want, name=None):
    got, sev = finding(fid)
    report(name or "%s: %s" % (fid, want), got.startswith(want), "got: %s (%s)" % (got, sev))

# the handshake that needs our certificate: service detection sends a
# request over it and reads the answer
is_("service", "HTTP", "service detected as HTTP (a handshake with the client certificate completed)")

# protocols
for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    is_(p, "not offered")
is_("TLS1_2", "offered")
starts("TLS1_3", "offered")

# every suite the server accepts (-e): "xHEX  OSSL-NAME  KX BITS  ENC  BITS  IANA-NAME"
suites = {}
for f in findings:
    if f["id"].startswith("cipher_x"):
        suites[f["id"][len("cipher_"):]] = f["finding"].split()
want = {"x1301", "x1303", "xc02b", "xcca9"}
report("accepted suites are exactly TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, "
       "ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-CHACHA20-POLY1305",
       set(suites) == want, "got: %s" % " ".join(sorted(suites)), "want: %s" % " ".join(sorted(want)))
enc = {h: s[4] for h, s in suites.items() if len(s) > 4}
report("every accepted suite is AEAD (AES-GCM or ChaCha20-Poly1305): no CBC",
       len(enc) == len(suites) > 0 and all(e in ("AESGCM", "ChaCha20") for e in enc.values()),
       "got: %s" % enc)
kx = {h: s[2] for h, s in suites.items() if len(s) > 2}
report("every accepted suite has an ECDHE key exchange: no static RSA",
       len(kx) == len(suites) > 0 and all(k == "ECDH" for k in kx.values()), "got: %s" % kx)
starts("ROBOT", "not vulnerable, no RSA key transport", "ROBOT: no RSA key transport suite")

# forward secrecy
is_("PFS", "offered", "forward secrecy offered")
pfs = set(finding("PFS_ciphers")[0].split())
names = {h: s[1] for h, s in suites.items() if len(s) > 1}
report("forward secrecy on every accepted suite",
       len(names) == len(suites) > 0 and set(names.values()) <= pfs,
       "accepted: %s" % sorted(names.values()), "with FS: %s" % sorted(pfs))
curves = set(finding("PFS_ECDHE_curves")[0].split())
report("ECDHE curves: X25519 and prime256v1 only", curves == {"X25519", "prime256v1"},
       "got: %s" % " ".join(sorted(curves)))

# renegotiation, compression
is_("secure_renego", "supported", "secure renegotiation indication (RFC 5746) supported")
is_("secure_client_renego", "not vulnerable", "client-initiated renegotiation refused")
is_("CRIME_TLS", "not vulnerable", "no TLS compression (CRIME)")

# the quick vulnerability checks
starts("heartbleed", "not vulnerable")
is_("CCS", "not vulnerable")
is_("fallback_SCSV", "no protocol below TLS 1.2 offered", "fallback_SCSV: nothing below TLS 1.2 to fall back to")
starts("POODLE_SSL", "not vulnerable")
starts("BEAST", "not vulnerable")
starts("DROWN", "not vulnerable")

# nothing worse than INFO; a WARN is a check that could not run, except
# the note that this openssl has no GOST engine
bad = ["%s %s: %s" % (f["severity"], f["id"], f["finding"]) for f in findings
       if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
       or (f["severity"] == "WARN" and f["id"] != "engine_problem")]
report("no finding above INFO, no check that failed to run", not bad, *bad[:10])
print("# scanTime %s s" % finding("scanTime")[0])
PY

hs1=$(inst stats.tls_handshakes_ok)
if [ "$hs0" != null ] && [ "$hs1" != null ] && [ "$hs1" -gt "$hs0" ]; then
	ok "the sidecar completed handshakes with the scanner's certificate ($hs0 -> $hs1)"
else
	not_ok "the sidecar completed handshakes with the scanner's certificate" "tls_handshakes_ok $hs0 -> $hs1"
fi
check "testssl.sh ran no DNS lookup tool" test ! -s "$T/dns.log"
check "openssl connected to 127.0.0.1 only ($(sort -u "$T/connects.log" | wc -l) addresses)" \
	sh -c "test -s '$T/connects.log' && ! grep -qv '^127\.0\.0\.1:[0-9]*\$' '$T/connects.log'"
[ -s "$T/dns.log" ] && sed 's/^/#   /' "$T/dns.log" | head -5
grep -v '^127\.0\.0\.1:' "$T/connects.log" | sort -u | sed 's/^/#   /' | head -5

mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
exit 0
