# SPDX-License-Identifier: ISC
# Not a test itself (run.sh only runs *.sh).  Sourced by the multi-host
# tests after lib.sh: three "hosts" a, b, c as network namespaces on a
# private bridge that the test creates, addresses only inside them.
#
#   mh_setup               namespaces mh<pid>{s,a,b,c}: s holds the bridge
#                          br0 and one veth end per host; each host has
#                          lo up and eth0 = MH_NET.<n>/24 (a=1, b=2, c=3)
#   mh_addr HOST           that host's address
#   mh_exec HOST CMD...    CMD inside HOST's namespace
#   mh_spawn HOST NAME CMD...  spawn (lib.sh) inside HOST's namespace; the
#                          pid (`ip netns exec` execs CMD: the same pid) is
#                          killed at exit
#   mh_up HOST FILE        `meshctl up -d -f FILE` inside HOST; its pids
#                          (status --json) are remembered, and the mesh is
#                          brought down at exit
#   mh_remember HOST FILE  remember the pids status --json reports now
#   mh_link HOST up|down   HOST's cable
#   mh_tcp_open HOST ADDR PORT  HOST reaches ADDR:PORT with TCP
#   mh_trust_from_root FROM HOST...  HOST joins FROM's trust (below)
#   mh_teardown            what the EXIT trap does, earlier (checkable)
#
# Teardown (mh_teardown, called by the test and again by the EXIT trap
# before lib.sh's own): `meshctl down` per mesh in its namespace, SIGKILL
# of every pid remembered (by pid, and only while it is still in one of
# our namespaces), then the namespaces by name (which takes their links
# with them).  The test skips, and ends, when `ip netns`
# cannot be used here (not root, no netns support).
MH_NET=10.213.77
MH_P=mh$$
MH_NS=()          # every namespace made, by name
MH_FILES=()       # HOST:FILE of every mesh started
MH_PIDS=()        # every pid learnt from status --json

_mh_ns()  { echo "$MH_P$1"; }
mh_addr() {
	case $1 in a) echo "$MH_NET.1" ;; b) echo "$MH_NET.2" ;; c) echo "$MH_NET.3" ;; esac
}
mh_exec() { local h=$1; shift; ip netns exec "$(_mh_ns "$h")" "$@"; }
mh_spawn() {
	local h=$1 name=$2; shift 2
	spawn "$name" ip netns exec "$(_mh_ns "$h")" "$@"
}

# 0 when PID runs in one of our namespaces (never kill anything else)
_mh_ours() {
	local ino ns
	ino=$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) || return 1
	for ns in "${MH_NS[@]}"; do
		[ "$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)" = "$ino" ] && return 0
	done
	return 1
}

mh_remember() {
	local p
	for p in $(mh_exec "$1" meshctl status -f "$2" --json 2>/dev/null | pids); do
		MH_PIDS+=("$p")
	done
}

mh_up() {
	MH_FILES+=("$1:$2")
	mh_exec "$1" meshctl up -d -f "$2" --timeout 30
	local rc=$?
	mh_remember "$1" "$2"
	return $rc
}

mh_link() { ip -n "$(_mh_ns s)" link set "v$1" "$2"; }

# mh_teardown: every mesh down (in its namespace), every pid remembered
# and spawned killed, the namespaces deleted; again at exit (a no-op then)
mh_teardown() {
	local e p ns
	for e in "${MH_FILES[@]}"; do
		timeout 20 ip netns exec "$(_mh_ns "${e%%:*}")" meshctl down -f "${e#*:}" >/dev/null 2>&1 || true
	done
	MH_FILES=()
	for p in "${MH_PIDS[@]}"; do
		_mh_ours "$p" && kill -9 "$p" 2>/dev/null
	done
	# what lib.sh spawned (etcd, request loops) goes first too, so that no
	# process of ours is left in a namespace being deleted
	for p in "${_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for ns in "${MH_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	MH_NS=()
}
_mh_cleanup() {
	mh_teardown
	_cleanup
}
trap _mh_cleanup EXIT

_mh_skip() {
	ok "# SKIP $1"
	exit 0
}

mh_setup() {
	local h n s ns
	command -v ip >/dev/null || _mh_skip "no ip(8) here"
	s=$(_mh_ns s)
	ip netns add "$s" 2>"$T/netns.err" || _mh_skip "ip netns add: $(head -c 200 "$T/netns.err")"
	MH_NS+=("$s")
	ip -n "$s" link add br0 type bridge && ip -n "$s" link set br0 up &&
	ip -n "$s" link set lo up || return 1
	n=0
	for h in a b c; do
		n=$((n + 1))
		ns=$(_mh_ns "$h")
		ip netns add "$ns" || return 1
		MH_NS+=("$ns")
		ip -n "$s" link add "v$h" type veth peer name eth0 netns "$ns" &&
		ip -n "$s" link set "v$h" master br0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$MH_NET.$n/24" dev eth0 &&
		ip -n "$ns" link set eth0 up || return 1
	done
}

# 0 when HOST reaches ADDR:PORT with TCP (inside HOST's namespace)
mh_tcp_open() {
	mh_exec "$1" bash -c "(exec 3<>/dev/tcp/$2/$3) 2>/dev/null"
}

# mh_trust_from_root FROM HOST...: each HOST gets, in its <state_dir>/ca/,
# what joined mode reads: host.key, host.crt (an intermediate CA signed by
# FROM's root) and root.crt, and no ca.key.  FROM's meshd runs (it made
# its root at its first `up`); each HOST's does not yet.  How, by
# MH_TRUST (default join):
#   join         `meshctl certs --join-token` on FROM, `meshctl join
#                --token` on HOST (inside HOST, through etcd)
#   openssl      made here with the openssl CLI from FROM's ca.key (CA:TRUE
#                pathlen:0, keyCertSign), as an operator could by hand;
#                needs a root with pathlen 1 (docs/trust.md)
#   shared-root  a copy of FROM's root key and certificate: checks the data
#                path between hosts without joined mode; no mesh should
#                do that
# Configs $T/<host>/mesh.ini, state dirs MH_STATE_<host> (set by the test).
mh_trust_how() { echo "${MH_TRUST:-join}"; }

mh_trust_from_root() {
	local from=$1 how h ca d tok; shift
	how=$(mh_trust_how)
	eval "ca=\$MH_STATE_$from/ca"
	for h in "$@"; do
		eval "d=\$MH_STATE_$h/ca"
		case $how in
		join)
			tok=$(mh_exec "$from" meshctl certs -f "$T/$from/mesh.ini" --join-token 2>"$T/token-$h.err" | head -1)
			mh_exec "$h" timeout 40 meshctl join -f "$T/$h/mesh.ini" --token "$tok" \
				>"$T/join-$h.out" 2>&1 || { cat "$T/token-$h.err" "$T/join-$h.out"; return 1; }
			;;
		shared-root)
			mkdir -p -m 0700 "$d" && cp -p "$ca/ca.key" "$ca/ca.crt" "$d/" || return 1
			;;
		*)
			mkdir -p -m 0700 "$d" || return 1
			_mh_intermediate "$ca" "$d" "$h" || return 1
			;;
		esac
	done
}

# CA_DIR DIR HOST: DIR/host.key, host.crt (signed by CA_DIR's root), root.crt
_mh_intermediate() {
	cat >"$T/int-$3.ext" <<-EOF
	basicConstraints = critical, CA:TRUE, pathlen:0
	keyUsage = critical, keyCertSign
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
	(umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$2/host.key") &&
	openssl req -new -key "$2/host.key" -subj "/CN=$3 intermediate" \
		-out "$T/int-$3.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/int-$3.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" \
		-set_serial "0x$(openssl rand -hex 16 | sed 's/^./7/')" -days 3650 \
		-extfile "$T/int-$3.ext" -out "$2/host.crt" 2>/dev/null &&
	cp "$1/ca.crt" "$2/root.crt" &&
	chmod 0600 "$2/host.key" && chmod 0644 "$2/host.crt" "$2/root.crt"
}
