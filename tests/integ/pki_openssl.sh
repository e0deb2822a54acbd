#!/bin/bash
# SPDX-License-Identifier: ISC
# The CA and the leaves our pki/csr code makes, as openssl sees them:
# every extension exactly as docs/trust.md says, the files'
# modes, the refusal of a readable key, and CSR names ignored.
. "$(dirname "$0")/lib.sh"

PKI=$MESH_APPS/pkitool
CA=$T/state/ca
mkdir -m 0700 "$T/state"

txt() { openssl x509 -in "$1" -noout -text; }
# the line after an extension's header line, trimmed
ext() { txt "$1" | grep -A1 -- "$2" | tail -1 | sed 's/^ *//; s/ *$//'; }
hdr() { txt "$1" | grep -- "$2" | sed 's/^ *//; s/ *$//'; }
epoch() { date -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s; }

# --- the root -----------------------------------------------------------
is "first start creates the CA" "$("$PKI" ca "$CA" shop)" "created"
is "CA dir is 0700" "$(stat -c %a "$CA")" "700"
is "CA key is 0600" "$(stat -c %a "$CA/ca.key")" "600"
is "CA cert is 0644" "$(stat -c %a "$CA/ca.crt")" "644"
cp "$CA/ca.crt" "$T/first.crt"
is "second start reuses it" "$("$PKI" ca "$CA" shop)" "loaded"
check "root unchanged on reuse" cmp "$CA/ca.crt" "$T/first.crt"

check "root key is EC P-256" sh -c "openssl x509 -in '$CA/ca.crt' -noout -text | grep -q 'ASN1 OID: prime256v1'"
check "root signature is ecdsa-with-SHA256" sh -c "openssl x509 -in '$CA/ca.crt' -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA256'"
is "root basicConstraints critical" "$(hdr "$CA/ca.crt" 'Basic Constraints')" "X509v3 Basic Constraints: critical"
is "root CA:TRUE pathlen 1" "$(ext "$CA/ca.crt" 'Basic Constraints')" "CA:TRUE, pathlen:1"
is "root keyUsage critical" "$(hdr "$CA/ca.crt" 'X509v3 Key Usage')" "X509v3 Key Usage: critical"
is "root keyUsage keyCertSign only" "$(ext "$CA/ca.crt" 'X509v3 Key Usage')" "Certificate Sign"
is "root lifetime 10 years (+5 min backdate)" \
	"$(( $(epoch "$CA/ca.crt" enddate) - $(epoch "$CA/ca.crt" startdate) ))" "$((3650 * 86400 + 300))"
check "root verifies as self-signed" openssl verify -CAfile "$CA/ca.crt" "$CA/ca.crt"
is "CA key matches the root" "$(openssl ec -in "$CA/ca.key" -pubout 2>/dev/null)" \
	"$(openssl x509 -in "$CA/ca.crt" -noout -pubkey)"
check "CA key is a valid EC key" openssl ec -in "$CA/ca.key" -check -noout

# --- a leaf from our own in-memory key and CSR --------------------------
t0=$(date +%s)
check "issue a leaf for web" "$PKI" issue "$CA" mesh.local web 3600 "$T/web.pem"
t1=$(date +%s)
L=$T/web.pem
check "leaf verifies against the root" openssl verify -CAfile "$CA/ca.crt" "$L"
check "leaf good for TLS servers" openssl verify -purpose sslserver -CAfile "$CA/ca.crt" "$L"
check "leaf good for TLS clients" openssl verify -purpose sslclient -CAfile "$CA/ca.crt" "$L"
is "leaf subject" "$(openssl x509 -in "$L" -noout -subject)" "subject=CN = web"
is "exactly one URI SAN" "$(ext "$L" 'Subject Alternative Name')" "URI:spiffe://mesh.local/svc/web"
is "leaf basicConstraints critical" "$(hdr "$L" 'Basic Constraints')" "X509v3 Basic Constraints: critical"
is "leaf CA:FALSE" "$(ext "$L" 'Basic Constraints')" "CA:FALSE"
is "leaf keyUsage critical" "$(hdr "$L" 'X509v3 Key Usage')" "X509v3 Key Usage: critical"
is "leaf keyUsage digitalSignature only" "$(ext "$L" 'X509v3 Key Usage')" "Digital Signature"
is "leaf EKU serverAuth+clientAuth" "$(ext "$L" 'Extended Key Usage')" \
	"TLS Web Server Authentication, TLS Web Client Authentication"
is "leaf has no other extensions" \
	"$(txt "$L" | grep -o 'X509v3 [A-Z][A-Za-z ]*:' | sort | tr '\n' '|')" \
	"X509v3 Authority Key Identifier:|X509v3 Basic Constraints:|X509v3 Extended Key Usage:|X509v3 Key Usage:|X509v3 Subject Alternative Name:|X509v3 Subject Key Identifier:|"
is "leaf key is EC P-256" "$(txt "$L" | grep -c 'ASN1 OID: prime256v1')" "1"
nb=$(epoch "$L" startdate); na=$(epoch "$L" enddate)
if [ "$nb" -ge $((t0 - 300)) ] && [ "$nb" -le $((t1 - 300)) ]; then ok "notBefore backdated 5 minutes"; else not_ok "notBefore backdated 5 minutes" "nb=$nb t0=$t0"; fi
is "notAfter = issue time + cert_ttl" "$((na - nb))" "$((3600 + 300))"
info=$("$PKI" info "$L")
is "pki_cert_info serial = openssl's" "$(echo "$info" | sed 's/.*serial=\([0-9a-f]*\).*/\1/')" \
	"$(openssl x509 -in "$L" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')"
is "pki_cert_info dates = openssl's" "$(echo "$info" | sed 's/.*not_before=\([0-9]*\) not_after=\([0-9]*\).*/\1 \2/')" "$nb $na"

# --- our CSR is a valid PKCS#10 for openssl too -------------------------
check "CSR from csr.c verifies" sh -c "'$PKI' csr web '$T/web.csr' && openssl req -in '$T/web.csr' -noout -verify"

# --- names in a CSR are ignored ----------------------------------------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/greedy.key" \
	-subj "/CN=admin/O=evil" \
	-addext "subjectAltName=URI:spiffe://mesh.local/svc/admin,DNS:evil.example" \
	-addext "basicConstraints=critical,CA:TRUE" -out "$T/greedy.csr" 2>/dev/null
check "sign a greedy CSR" "$PKI" sign "$CA" mesh.local web 600 "$T/greedy.csr" "$T/greedy.pem"
is "greedy CSR: subject from meshd" "$(openssl x509 -in "$T/greedy.pem" -noout -subject)" "subject=CN = web"
is "greedy CSR: only meshd's URI" "$(ext "$T/greedy.pem" 'Subject Alternative Name')" "URI:spiffe://mesh.local/svc/web"
is "greedy CSR: still CA:FALSE" "$(ext "$T/greedy.pem" 'Basic Constraints')" "CA:FALSE"
is "greedy CSR: its public key kept" "$(openssl x509 -in "$T/greedy.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$T/greedy.key" -pubout)"

openssl req -new -newkey rsa:2048 -nodes -keyout "$T/rsa.key" -subj "/CN=web" -out "$T/rsa.csr" 2>/dev/null
if "$PKI" sign "$CA" mesh.local web 600 "$T/rsa.csr" "$T/rsa.pem" 2>"$T/rsa.err"; then
	not_ok "RSA CSR refused"
else
	is "RSA CSR refused" "$(grep -c 'not ECDSA P-256' "$T/rsa.err")" "1"
fi

# --- a key others can read stops the start ------------------------------
chmod 0644 "$CA/ca.key"
if "$PKI" ca "$CA" shop >"$T/perm.out" 2>&1; then
	not_ok "readable CA key refused"
else
	check "readable CA key refused, with the fix" grep -q "ca.key: CA key has mode 0644 and is readable by other users.*chmod 600" "$T/perm.out"
fi
chmod 0600 "$CA/ca.key"
is "fixed mode accepted again" "$("$PKI" ca "$CA" shop)" "loaded"
