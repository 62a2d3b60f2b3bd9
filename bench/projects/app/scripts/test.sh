#!/bin/sh
# "Test": run each test/*.t case ("args|expected output") against the app.
set -eu
app=$1 dir=$2
pass=0 fail=0
# shellcheck disable=SC2094 # the loop reports on stdout, it never writes $t
for t in "$dir"/*.t; do
	while IFS='|' read -r args expected; do
		[ -n "$args" ] || continue
		# shellcheck disable=SC2086
		got=$($app $args 2>&1 || true)
		if [ "$got" = "$expected" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL $(basename "$t"): app $args: got '$got', want '$expected'"
		fi
	done < "$t"
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
