#!/bin/bash
# SPDX-License-Identifier: ISC
# sec_control: meshd's control socket and the stats-file readers against
# malformed, truncated, oversized and hostile input, on a running mesh
# (gateway 127.0.0.1:26501 -> web; metrics on 127.0.0.1:26502):
#   frames     an unknown type, nonzero flags, a length past 1 MiB, bytes
#              that are no frame, a reply type from a client, a HELLO for no
#              instance: each connection closed, meshd answers the next
#              client; a 1 MiB command (the largest frame), an empty one and
#              one with a NUL: answered "unknown command"
#   truncated  a peer that sends nothing, a header alone, half a payload,
#              and 200 silent connections: closed after 10 s
#              (CONTROL_FRAME_S), slots and buffers back; a `logs` client,
#              idle by design, stays
#   uid        (as root) another uid cannot connect to the 0600 socket in
#              its 0700 directory, and with both opened up, meshd refuses it
#              by SO_PEERCRED
#   EMFILE     meshd at its descriptor limit with peers knocking: accepting
#              pauses (no CPU spin), then serves again
#   stats      a sidecar's stats file replaced by a FIFO, a directory, a
#              symlink to /dev/zero, a truncated copy, a 5 GiB sparse file,
#              a header whose sections point outside: status, /metrics and
#              traces answer promptly, web's numbers intact, meshd alive
# Ports: 26500-26549.
. "$(dirname "$0")/sec.bash"

sec_mesh 26501 26510 26520 "metrics = 127.0.0.1:26502"
SOCK=$T/.mesh/run/meshd.sock
LOG=$T/.mesh/run/meshd.log
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# ctl.py SOCK CASE...: one connection per case, prints "CASE OUTCOME" with
# OUTCOME closed | reply:<text of the first REPLY> | open
cat >"$T/ctl.py" <<'PY'
import socket, struct, sys
H = lambda l, t, f=0: struct.pack("!IHH", l, t, f)
CASES = {
    "unknown-type": H(0, 999),
    "flags": H(4, 20, 1) + b"ping",
    "oversize": H((1 << 20) + 1, 20) + b"x" * 100,
    "garbage": b"GET / HTTP/1.1\r\nHost: meshd\r\n\r\n",
    "reply-type": H(2, 21) + b"hi",
    "hello-nobody": H(17, 1) + b"proxy nobody@v1.0",
    "max-cmd": H(1 << 20, 20) + b"x" * (1 << 20),
    "empty-cmd": H(0, 20),
    "nul-cmd": H(9, 20) + b"sta\0tus!!",
    "ping": H(4, 20) + b"ping",
}
def run(path, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(CASES[name])
        d = b""
        while len(d) < 8 or len(d) < 8 + struct.unpack("!I", d[:4])[0]:
            b = s.recv(65536)
            if not b:
                return "closed" if not d else "partial"
            d += b
        typ = struct.unpack("!IHH", d[:8])[1]
        text = d[8:8 + struct.unpack("!I", d[:4])[0]].decode("latin-1")
        return "reply:%d:%s" % (typ, text[:40].replace(" ", "_"))
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    except socket.timeout:
        return "open"
    except OSError as e:
        return "error:%s" % e.strerror.replace(" ", "_")
for name in sys.argv[2:]:
    print(name, run(sys.argv[1], name), flush=True)
PY

# --- malformed frames ------------------------------------------------------
$PY "$T/ctl.py" "$SOCK" unknown-type flags oversize garbage reply-type hello-nobody \
	max-cmd empty-cmd nul-cmd ping >"$T/frames.out" 2>&1
sed 's/^/# frames: /' "$T/frames.out"
for c in unknown-type flags oversize garbage reply-type hello-nobody; do
	is "frame $c: connection closed, nothing answered" "$(awk -v c=$c '$1 == c {print $2}' "$T/frames.out")" closed
done
for c in max-cmd empty-cmd nul-cmd; do
	check "frame $c: answered 'unknown command'" grep -q "^$c reply:21:unknown_command" "$T/frames.out"
done
is "a ping after them: DONE 0" "$(awk '$1 == "ping" {print $2}' "$T/frames.out")" "reply:22:0"
for w in "unknown message type" "nonzero flags" "frame longer than IPC_MAX_PAYLOAD" \
	"unexpected message type 21" "names no instance"; do
	check "meshd logged '$w'" grep -q "control: .*$w" "$LOG"
done

# --- truncated and silent peers ----------------------------------------------
cat >"$T/hold.py" <<'PY'
import socket, struct, sys, time
path, n = sys.argv[1], int(sys.argv[2])
H = lambda l, t: struct.pack("!IHH", l, t, 0)
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5); s.connect(path); return s
held = {"silent": conn(), "header": conn(), "half": conn(), "logs": conn()}
held["header"].sendall(H(100, 20))
held["half"].sendall(H(1 << 20, 20) + b"y" * (1 << 19))
held["logs"].sendall(H(4, 20) + b"logs")
crowd = []
for i in range(n):
    try:
        crowd.append(conn())
    except OSError:
        time.sleep(0.05)
print("crowd", len(crowd), flush=True)
time.sleep(float(sys.argv[3]))
def gone(s):
    s.settimeout(0.2)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True
for k, s in held.items():
    print(k, "closed" if gone(s) else "open", flush=True)
print("crowd_closed", sum(gone(s) for s in crowd), flush=True)
PY
$PY "$T/hold.py" "$SOCK" 200 12 >"$T/hold.out" 2>&1 &
hp=$!
sleep 3
rss_held=$(rss "$MESHD_PID")
wait $hp
sed 's/^/# truncated: /' "$T/hold.out"
echo "# meshd VmRSS with those held: $rss_held kB"
for c in silent header half; do
	is "a peer with $c: closed by meshd within 12 s" "$(awk -v c=$c '$1 == c {print $2}' "$T/hold.out")" closed
done
is "a 'logs' client, idle by design, stays" "$(awk '$1 == "logs" {print $2}' "$T/hold.out")" open
is "200 silent connections: all closed" "$(awk '$1 == "crowd_closed" {print $2}' "$T/hold.out")" \
	"$(awk '$1 == "crowd" {print $2}' "$T/hold.out")"
check "meshd logged the silent peers" grep -q "control: a peer (pid [0-9]*) sent no message within 10 s" "$LOG"
check "meshd logged the unfinished frames" grep -q "control: a .* sent no whole frame within 10 s" "$LOG"
check "meshctl status answers after them" timeout 10 meshctl status -f "$T/mesh.ini"

# --- another uid ----------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# the script comes on stdin: $T is 0700, nobody cannot open it
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" - "$SOCK" ping <"$T/ctl.py"; }
	asnobody >"$T/uid1.out" 2>&1
	check "uid 65534: the 0600 socket in its 0700 directory refuses it (permission denied)" \
		grep -q "ping error:Permission_denied" "$T/uid1.out"
	chmod 0711 "$T" "$T/.mesh" "$T/.mesh/run"
	chmod 0666 "$SOCK"
	asnobody >"$T/uid2.out" 2>&1
	chmod 0700 "$T" "$T/.mesh" "$T/.mesh/run"
	chmod 0600 "$SOCK"
	sed 's/^/# uid 65534 with the modes opened: /' "$T/uid2.out"
	is "uid 65534, modes opened: meshd closes it unanswered (SO_PEERCRED)" "$(cat "$T/uid2.out")" "ping closed"
	check "meshd logged the refused uid" grep -q "control: connection from uid 65534 .*refused" "$LOG"
else
	ok "another uid: # SKIP needs root and setpriv"
fi

# --- meshd out of descriptors ------------------------------------------------------
soft=$(awk '/Max open files/ {print $4}' "/proc/$MESHD_PID/limits")
n=$(nfds "$MESHD_PID")
prlimit --pid "$MESHD_PID" --nofile=$((n + 2)):
cat >"$T/knock.py" <<'PY'
import socket, sys, time
held = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1]); held.append(s)
time.sleep(float(sys.argv[2]))
PY
$PY "$T/knock.py" "$SOCK" 3 &
kp=$!
sleep 0.5
c0=$(cpu "$MESHD_PID"); sleep 2; c1=$(cpu "$MESHD_PID")
wait $kp
prlimit --pid "$MESHD_PID" --nofile="$soft":
echo "# meshd CPU at its descriptor limit: $((c1 - c0)) ticks in 2 s"
check "meshd at EMFILE: accepting pauses, no spin (< 0.2 s CPU in 2 s)" test $((c1 - c0)) -lt 20
check "meshd logged the pause" grep -q "control: accept on .* (pausing 100 ms at a time)" "$LOG"
check "meshctl status answers once descriptors are back" timeout 10 meshctl status -f "$T/mesh.ini"

# --- hostile stats files -------------------------------------------------------------
S=$T/.mesh/run/stats
f=$S/gateway@v1.0.stats
mv "$f" "$f.orig"
stats_case() {
	local name=$1 rc
	timeout 10 meshctl status -f "$T/mesh.ini" --json >"$T/st.json" 2>"$T/st.err"
	rc=$?
	is "stats file $name: status --json exits 0 promptly" "$rc" 0
	check "stats file $name: gateway's numbers absent, web's intact" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
st = {i["name"]: i.get("stats") for s in d["services"] for i in s["instances"]}
sys.exit(not (st["gateway.0"] is None and st["web.0"] and st["web.0"]["pid"] > 0))' "$T/st.json"
	check "stats file $name: /metrics answers 200" \
		curl -sS -m 10 -o /dev/null -f http://127.0.0.1:26502/metrics
	timeout 10 meshctl traces -f "$T/mesh.ini" >/dev/null 2>&1
	check "stats file $name: meshctl traces does not hang" test $? -ne 124
}
mkfifo "$f"; stats_case FIFO; rm -f "$f"
mkdir "$f"; stats_case directory; rmdir "$f"
ln -s /dev/zero "$f"; stats_case "symlink to /dev/zero"; rm -f "$f"
head -c 100 "$f.orig" >"$f"; stats_case "truncated to 100 bytes"; rm -f "$f"
truncate -s 5G "$f"; stats_case "5 GiB, sparse"; rm -f "$f"
python3 - "$f.orig" "$f" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[40:44] = (0xfffffff0).to_bytes(4, "little")   # the peer table far past the end
open(sys.argv[2], "wb").write(d)
PY
stats_case "peer table past its end"; rm -f "$f"
mv "$f.orig" "$f"
timeout 10 meshctl status -f "$T/mesh.ini" --json >"$T/st.json" 2>&1
check "stats file restored: gateway's numbers back" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
st = {i["name"]: i.get("stats") for s in d["services"] for i in s["instances"]}
sys.exit(not st["gateway.0"])' "$T/st.json"

alive_all "after every hostile input"
good "at the end"
mesh_down_checked "$T/mesh.ini"
exit 0
