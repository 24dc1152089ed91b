#!/usr/bin/env bash
# Greedy decoding speed of swift-peft beside Hugging Face Transformers: for each shape, the Swift
# DecodingBenchmarks (once per base dtype) then Transformers fp32, each in its own process, then a
# Markdown table with each run's memory-bandwidth bound (bandwidth / weight bytes tokens/s).
#
#     Benchmarks/compare_decoding.sh            # from the repository root, a few minutes
#
# Environment: NEW_TOKENS (tokens generated per call, default 64), REPEATS (timed calls, default 5),
# BASE_DTYPES (space-separated base weight dtypes for the Swift side, passed as BASE_DTYPE; default
# "fp32"), SHAPES (default "gpt2-small llama-small"), PYTHON (default .venv/bin/python), RESULTS (the
# JSON-lines file, default Benchmarks/.build/decoding-results.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."

new_tokens=${NEW_TOKENS:-64}
repeats=${REPEATS:-5}
base_dtypes=${BASE_DTYPES:-fp32}
shapes=${SHAPES:-gpt2-small llama-small}
python=${PYTHON:-.venv/bin/python}
results=${RESULTS:-Benchmarks/.build/decoding-results.jsonl}

swift build -c release --package-path Benchmarks --product DecodingBenchmarks >&2
binary="$(swift build -c release --package-path Benchmarks --show-bin-path)/DecodingBenchmarks"
mkdir -p "$(dirname "$results")"
: >"$results"

# Waits (up to five minutes) until the machine's CPUs have been idle for a second, so another job's
# burst does not land inside a measurement (as in compare_training.sh).
wait_for_quiet() {
    local said=""
    for _ in $(seq 100); do
        read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
        sleep 1
        read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
        local busy=$(((u2 + n2 + s2 + q2 + sq2 + st2) - (u1 + n1 + s1 + q1 + sq1 + st1)))
        local total=$((busy + (i2 + w2) - (i1 + w1)))
        if ((total > 0 && busy * 100 / total < 10)); then return; fi
        [[ -n $said ]] || echo "  (machine busy: ${busy}/${total} jiffies; waiting for quiet)" >&2
        said=yes
        sleep 2
    done
}

# Runs one configuration and appends its JSON line, with "base_dtype" set to $1 if the line lacks it.
run_one() {
    local dtype=$1
    shift
    wait_for_quiet
    local line
    line=$("$@" | grep '^{')
    "$python" -c 'import json, sys; r = json.loads(sys.argv[1]); r.setdefault("base_dtype", sys.argv[2]); print(json.dumps(r))' \
        "$line" "$dtype" | tee -a "$results" >&2
}

for shape in $shapes; do
    for dtype in $base_dtypes; do
        echo "$shape: Swift, base $dtype" >&2
        run_one "$dtype" env BASE_DTYPE="$dtype" "$binary" "$shape" "$new_tokens" "$repeats"
    done
    echo "$shape: Transformers fp32" >&2
    run_one fp32 "$python" Benchmarks/Peers/transformers_generate.py "$shape" "$new_tokens" "$repeats"
done

echo "Raw results: $results" >&2
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs" \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo
"$python" Benchmarks/Peers/decoding_table.py "$results"
