#!/bin/bash
# SPDX-License-Identifier: ISC
# Run every test and end with one line "N passed, N failed".
#   unit:   each $BUILD/tests/test_* (cmocka); every test case counts
#   config: each tests/config/NAME.ini against NAME.err (golden stderr of
#           `meshctl check`), one test each
#   integ:  each tests/integ/NAME.sh prints TAP-like lines "ok - ..." or
#           "not ok - ..."; a script that exits non-zero without printing a
#           "not ok" counts one failure more.
# TESTS=pattern runs only the matching files.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export MESH_BIN="$PWD/$BUILD/bin" MESH_APPS="$PWD/$BUILD/apps"
pat=${TESTS:-}
pass=0 fail=0
log=$BUILD/test-logs
mkdir -p "$log"


for t in "$BUILD"/tests/*/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$(dirname "$t")")/$(basename "$t")
	lf=$log/unit-${n//\//-}.log
	[ -n "$pat" ] && [[ "$n" != *$pat* ]] && continue
	CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$lf" 2>&1
	rc=$?
	# cmocka repeats failed names in its summary: count run minus OK
	p=$(grep -aEc '^\[       OK \]' "$lf")
	total=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' "$lf" | tail -1)
	f=$(( ${total:-0} - p ))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	printf '%-40s %3d passed %3d failed\n' "unit/$n" "$p" "$f"
	[ "$f" -ne 0 ] && sed 's/^/    /' "$lf" | grep -E 'FAIL|Error|error' | head -20
done

for ini in tests/config/*.ini; do
	[ -f "$ini" ] || continue
	n=$(basename "$ini" .ini)
	[ -n "$pat" ] && [[ "$n" != *$pat* ]] && continue
	exp=${ini%.ini}.err
	(cd tests/config && "$MESH_BIN/meshctl" check -f "$n.ini" >/dev/null 2>"$OLDPWD/$log/config-$n.err")
	if diff -u "$exp" "$log/config-$n.err" >"$log/config-$n.diff"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "config/$n: FAILED"; sed 's/^/    /' "$log/config-$n.diff" | head -20
	fi
done
echo "config golden files: done"

for s in tests/integ/*.sh; do
	[ -f "$s" ] || continue
	n=$(basename "$s" .sh)
	[[ "$n" == lib ]] && continue
	[ -n "$pat" ] && [[ "$n" != *$pat* ]] && continue
	timeout -k 10 600 bash "$s" >"$log/integ-$n.log" 2>&1
	rc=$?
	p=$(grep -Ec '^ok ' "$log/integ-$n.log")
	f=$(grep -Ec '^not ok ' "$log/integ-$n.log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	printf '%-40s %3d passed %3d failed\n' "integ/$n" "$p" "$f"
	[ "$f" -ne 0 ] && grep -E '^not ok|^#' "$log/integ-$n.log" | head -30 | sed 's/^/    /'
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
