# SPDX-License-Identifier: ISC
# Helpers for the scenarios that drive `meshctl top` in tmux (top_dash.sh,
# console_top.sh).  Not a test itself (run.sh only runs *.sh).  Sources
# lib.sh; gives:
#   TM ARGS...   tmux on this scenario's own server socket (never the user's)
#   cap          the text of the pane of session "top"
# The server is killed at exit, before lib.sh's cleanup.  Without tmux the
# scenario fails at once, naming the package.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v tmux >/dev/null; then
	not_ok "tmux is installed (scripts/deps.sh test installs it)"
	exit 1
fi
TS="meshtop-$(basename "$0" .sh)-$$"
TM() { tmux -L "$TS" "$@"; }
cap() { TM capture-pane -p -t top 2>/dev/null; }
_tmux_cleanup() { tmux -L "$TS" kill-server >/dev/null 2>&1; _cleanup; }
trap _tmux_cleanup EXIT
