#!/bin/bash
# SPDX-License-Identifier: ISC
# The release gate: what CI runs, plus what CI leaves out because it needs
# foreign-architecture packages from the Debian archive and qemu (about
# five minutes more on a fresh machine):
#   1. make check (plain) and the ASan/UBSan suite   (.ci/run)
#   2. make check-cross: the arm64 and armhf builds' unit tests and a short
#      mTLS scenario under qemu-user
#   3. make deb for amd64, arm64 and armhf (lintian, systemd-analyze verify)
#   4. make size
# Stops at the first failure.  Packages land in build/deb/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "=== release: $*"; }

step ".ci/run";        bash .ci/run
step "check-cross";    make --no-print-directory check-cross
for a in "" arm64 armhf; do
	step "deb ${a:-host}"; make --no-print-directory deb ARCH="$a"
done
step "size";           make --no-print-directory size
echo; echo "release: every gate passed; packages in build/deb/"
