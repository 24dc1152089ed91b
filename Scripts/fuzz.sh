#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers of outside input (libFuzzer, with AddressSanitizer).
#
#   Scripts/fuzz.sh TARGET SECONDS   TARGET: safetensors, adapter-config, model-config, tokenizer, jsonl,
#                                    chat-template
#   Scripts/fuzz.sh all SECONDS      every target at once, each for SECONDS (one process each)
#
# Builds the harnesses of Fuzz/ (a separate package, so the main build never needs the fuzzer runtime)
# in release mode with -sanitize=fuzzer,address, linked by lld (gold fails on the fuzzer runtime's
# debug information). Each target starts from its committed seed corpus Fuzz/Corpus/TARGET, which is
# never modified: new inputs go to .build-fuzz/corpus/TARGET, crashing inputs to
# .build-fuzz/findings/TARGET/, the log to .build-fuzz/logs/TARGET.log. Prints libFuzzer's final
# statistics per target: executions, coverage (cov: edges, ft: features), corpus size, findings.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A PRODUCTS=(
    [safetensors]=FuzzSafeTensors [adapter-config]=FuzzAdapterConfiguration
    [model-config]=FuzzModelConfiguration [tokenizer]=FuzzTokenizer [jsonl]=FuzzJSONLines
    [chat-template]=FuzzChatTemplate
)
TARGETS=(safetensors adapter-config model-config tokenizer jsonl chat-template)
target=${1:?usage: Scripts/fuzz.sh TARGET|all SECONDS}
seconds=${2:?usage: Scripts/fuzz.sh TARGET|all SECONDS}
scratch=.build-fuzz

if [[ $target != all && -z ${PRODUCTS[$target]:-} ]]; then
    echo "unknown target '$target' (${TARGETS[*]} or all)" >&2
    exit 2
fi
# SwiftPM keeps a path dependency's list of source files until a manifest changes: a file added to
# the library since the last fuzz build would be missing without this.
touch Fuzz/Package.swift Package.swift
swift build -c release --package-path Fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >&2

# Leaks inside the toolchain's Foundation are suppressed (Fuzz/lsan.supp says which and why); Swift's
# own crash handler is off, so a trap reaches libFuzzer's handler and its input is saved.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0"
export SWIFT_BACKTRACE="enable=no"

# Runs one target for the given time and writes its log.
fuzz() {
    local name=$1 corpus="$scratch/corpus/$1" findings="$scratch/findings/$1"
    mkdir -p "$corpus" "$findings" "$scratch/logs"
    # -rss_limit_mb: a reader that allocates by a size it read, unchecked, is a finding too.
    "$scratch/release/${PRODUCTS[$name]}" "$corpus" "Fuzz/Corpus/$name" \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$findings/" >"$scratch/logs/$name.log" 2>&1 || true
}

# The figures a report needs from a log: runs and seconds, the last coverage line (cov: edges,
# ft: features, corp: inputs/bytes), rate and memory, and any finding (slow units included).
summarize() {
    local name=$1 log="$scratch/logs/$1.log"
    local done_line coverage findings
    done_line=$(grep -E "^Done [0-9]+ runs" "$log" | tail -1 || true)
    coverage=$(grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" "$log" | tail -1 || true)
    findings=$(find "$scratch/findings/$name" -type f | wc -l)
    echo "$name: ${done_line:-no Done line (see $log)}; $coverage; findings: $findings"
    grep -E "^stat::(average_exec_per_sec|peak_rss_mb)" "$log" | sed "s/^/  /" || true
    grep -E "^SUMMARY|ERROR: libFuzzer|Slowest unit" "$log" | sed "s/^/  /" || true
}

if [[ $target == all ]]; then
    for name in "${TARGETS[@]}"; do fuzz "$name" & done
    wait
    for name in "${TARGETS[@]}"; do summarize "$name"; done
else
    fuzz "$target"
    summarize "$target"
fi
