#!/usr/bin/env bash
# Builds and runs the test suite under a sanitizer, in its own scratch folder so the plain debug
# build is left alone:
#
#   Scripts/sanitize.sh address|thread [extra `swift test` arguments, e.g. --filter GenerationTests]
#
# Tests that run `peft` or `gpt-finetuning` find the executable beside the test bundle, so they run
# the sanitized build from the same scratch folder. Any report fails the run (halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-}"
case "$kind" in
address) scratch=.build-asan ;;
thread) scratch=.build-tsan ;;
*)
    echo "usage: $0 address|thread [swift test arguments]" >&2
    exit 2
    ;;
esac
shift

here="$(pwd)"
# Children (the `peft` processes the command tests start) inherit these. Leak checking is off: this
# checks memory errors and data races; the Swift runtime's and Foundation's process-lifetime caches
# would be listed as leaks, and no leak run has been triaged yet.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:${ASAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/Scripts/sanitizers/thread.supp:${TSAN_OPTIONS:-}"

start=$(date +%s)
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
built=$(date +%s)
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "$@"
finished=$(date +%s)
echo "sanitize $kind: build $((built - start)) s, tests $((finished - built)) s"
