#!/usr/bin/env bash
# Training-step throughput and peak memory of swift-peft beside PyTorch + Hugging Face PEFT: every
# (shape, method) on both sides, each in its own process, then a Markdown side-by-side table.
#
#     Benchmarks/compare_training.sh            # from the repository root; much longer than before
#
# 4 shapes x 8 methods (LoRA, DoRA, IA3, prompt and prefix tuning, bottleneck adapters, full FT, and
# the frozen base that LoRA's own cost is measured against): each
# configuration is ~3-4 process runs of 10-60 s (Swift and PyTorch, repeated when another process
# disturbs one; adapters and the frozen base run on the Swift side only), so expect roughly 30-90 minutes.
#
# Environment: STEPS (timed steps, default 5), WARMUP (default 3), ROUNDS (default 1; the table keeps
# each configuration's fastest round), PYTHON (default .venv/bin/python), RESULTS (the JSON-lines file),
# SHAPES and METHODS (space-separated subsets).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${STEPS:-5}
warmup=${WARMUP:-3}
rounds=${ROUNDS:-1}
python=${PYTHON:-.venv/bin/python}
results=${RESULTS:-Benchmarks/.build/training-results.jsonl}
shapes=${SHAPES:-gpt2-tiny gpt2-small t5-small llama-small}
methods=${METHODS:-lora dora ia3 prompt prefix adapters full frozen}

swift build -c release --package-path Benchmarks --product TrainingBenchmarks >&2
binary="$(swift build -c release --package-path Benchmarks --show-bin-path)/TrainingBenchmarks"
: >"$results"

# Waits (up to five minutes) until the machine's CPUs have been idle for a second, so another job's
# burst does not land inside a measurement; the two sides alternate, so what is left hits both alike.
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

# Runs one configuration and appends its JSON line with `other_cpu`: the cores other processes kept
# busy meanwhile (system busy time from /proc/stat minus this run's own user and system time). A run
# that shared the machine with more than a tenth of a core is repeated, up to three times, after
# waiting for quiet again; the least disturbed attempt is kept.
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
run_measured() {
    local best_line="" best_other=999
    for _ in 1 2 3; do
        wait_for_quiet
        local before after start end line own
        before=$(busy_jiffies)
        start=$(date +%s.%N)
        line=$(/usr/bin/time -f '%U %S' -o "$results.time" "$@" 2>/dev/null | grep '^{')
        end=$(date +%s.%N)
        after=$(busy_jiffies)
        own=$(awk '{print $1 + $2}' "$results.time")
        local other
        other=$(awk -v b="$before" -v a="$after" -v own="$own" -v s="$start" -v e="$end" \
            -v hz="$(getconf CLK_TCK)" 'BEGIN {o = ((a - b) / hz - own) / (e - s); printf "%.2f", o < 0 ? 0 : o}')
        if awk -v o="$other" -v b="$best_other" 'BEGIN {exit !(o < b)}'; then
            best_line=$line best_other=$other
        fi
        awk -v o="$other" 'BEGIN {exit !(o <= 0.1)}' && break
        echo "  (other processes used ${other} cores during the run; repeating)" >&2
    done
    "$python" -c 'import json, sys; r = json.loads(sys.argv[1]); r["other_cpu"] = float(sys.argv[2]); print(json.dumps(r))' \
        "$best_line" "$best_other" | tee -a "$results" >&2
}

for round in $(seq "$rounds"); do
    for shape in $shapes; do
        for method in $methods; do
            echo "round $round: $shape $method" >&2
            # PROFILE=1 adds the time per op kind (two clock reads per op, well under 1% of a step).
            run_measured env PROFILE=1 "$binary" "$shape" "$method" "$steps" "$warmup"
            # Bottleneck adapters have no PyTorch + PEFT peer, and the frozen base measures Swift's
            # LoRA overhead: Swift only.
            [[ $method == adapters || $method == frozen ]] ||
                run_measured "$python" Benchmarks/Peers/pytorch_peft.py "$shape" "$method" "$steps" "$warmup"
        done
    done
done

echo "Raw results: $results" >&2
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs" \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo
"$python" Benchmarks/Peers/training_table.py "$results"
