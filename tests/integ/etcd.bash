# SPDX-License-Identifier: ISC
# Not a test itself (run.sh only runs *.sh).  Sourced by the registry
# tests after lib.sh: ETCD and ETCDCTL, the etcd
# 3.4 binaries that scripts/deps.sh test unpacks into build/etcd/ (or the
# system's); the test skips, and ends, when there are none.
ETCD='' ETCDCTL=''
for d in "$ROOT/build/etcd/usr/bin" /usr/bin; do
	if [ -x "$d/etcd" ] && [ -x "$d/etcdctl" ]; then
		ETCD=$d/etcd ETCDCTL=$d/etcdctl
		break
	fi
done
if [ -z "$ETCD" ]; then
	ok "# SKIP no etcd here (scripts/deps.sh test unpacks etcd-server and etcd-client into build/etcd/)"
	exit 0
fi
export ETCDCTL_API=3

# etcd_spawn NAME CLIENT_URL PEER_URL: a one-member etcd with its data in
# $T/etcd.data, started with lib.sh's spawn (pid in $T/etcd.pid)
etcd_spawn() {
	spawn etcd "$ETCD" --name "$1" --data-dir "$T/etcd.data" \
		--listen-client-urls "$2" --advertise-client-urls "$2" \
		--listen-peer-urls "$3" --initial-advertise-peer-urls "$3" \
		--initial-cluster "$1=$3"
}
