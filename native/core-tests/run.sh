#!/usr/bin/env bash
# Builds and runs the C++ core tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (no N-API involved). The last line printed is
# always exactly "N passed, N failed"; the exit status is non-zero on any
# failure, including a build failure or a sanitizer report.
#   native/core-tests/run.sh [fuzz-cases]     (default 120000)
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/build"
mkdir -p "$out"
cxx="${CXX:-g++}"

if ! "$cxx" -std=c++17 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -Wno-unused-parameter -pthread \
  -o "$out/core-tests" "$here/core-tests.cc" 2>"$out/build.log"; then
  cat "$out/build.log"
  echo "0 passed, 1 failed"
  exit 1
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"$out/core-tests" "${1:-120000}" | tee "$out/last-run.log"
status=${PIPESTATUS[0]}
summary="$(tail -n 1 "$out/last-run.log")"
if [[ "$summary" =~ ^core-tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=${BASH_REMATCH[1]}
  failed=${BASH_REMATCH[2]}
else
  # Crashed or stopped by a sanitizer before printing its summary.
  passed=$(grep -c '^ok ' "$out/last-run.log" || true)
  failed=1
  echo "core-tests exited with status $status before finishing (sanitizer report above?)"
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
