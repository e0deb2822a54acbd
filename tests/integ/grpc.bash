# SPDX-License-Identifier: ISC
# Helpers for the gRPC scenarios (tests/integ/grpc_mesh.sh, grpc_policy.sh).
# Not a test itself (run.sh only runs *.sh).  Sources lib.sh.
#   $GRPC_PY     Debian's python3 (the one with python3-grpcio)
#   $T/grpc_app.py  the app and its clients, copied so that every app the
#                mesh starts has $T in its command line (lib.sh's leftovers)
#   grpc MODE ARGS...     run a client mode of grpc_app.py, bounded in time
#   jget FILE KEY         KEY of the JSON document in FILE, "-" when absent
#   until_ok SECS CMD...  wait_for bounded by the clock, for commands that
#                         take a while themselves (a python client starting)
#   inst_field SVC VERSION INDEX FIELD   a field of one instance in
#                         `meshctl status --json` ($T/mesh.ini)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GRPC_PY=${GRPC_PY:-/usr/bin/python3}
cp "$(dirname "${BASH_SOURCE[0]}")/grpc_app.py" "$T/grpc_app.py"
if ! "$GRPC_PY" -c 'import grpc' 2>/dev/null; then
	not_ok "$GRPC_PY has grpc (python3-grpcio; scripts/deps.sh test)"
	exit 1
fi

until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

grpc() { timeout 150 "$GRPC_PY" "$T/grpc_app.py" "$@"; }

jget() {
	python3 -c '
import json, sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2], "-")
except Exception:
    v = "-"
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1" "$2"
}

inst_field() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
svc, ver, idx, field = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = json.load(sys.stdin)
for s in d["services"]:
    if s["name"] == svc and s["version"] == ver:
        for i in s["instances"]:
            if i["index"] == idx:
                print(i.get(field))' "$@" 2>/dev/null
}

# grpc_answers TARGET N [client args]: N unary calls reach N distinct
# instances (so every endpoint is known to the caller's sidecar)
grpc_answers() {
	local target=$1 n=$2; shift 2
	grpc unary --target "$target" --count $((n * 4)) --deadline-ms 2000 --max-seconds 3 "$@" \
		>"$T/answers.json" 2>/dev/null || return 1
	python3 -c '
import json, sys
sys.exit(0 if len(json.load(open(sys.argv[1]))["by"]) >= int(sys.argv[2]) else 1)' \
		"$T/answers.json" "$n"
}
