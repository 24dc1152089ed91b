#!/usr/bin/env bash
# peft train with and without --pack on 2,000 {"text"} lines of log-normal length (median 64 bytes,
# 10 to 279), on the random "tiny" GPT-2, batch 8, --max-length 256, 40 steps: seconds per step,
# real (non-padding) tokens per second, and how full the rows are.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product peft >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/varied.jsonl" <<'PY'
import json, random, sys
random.seed(0)
words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex bold jackdaws".split()
with open(sys.argv[1], "w") as f:
    for _ in range(2000):
        n = min(int(random.lognormvariate(2.3, 0.8)) + 2, 45)
        f.write(json.dumps({"text": " ".join(random.choice(words) for _ in range(n))}) + "\n")
PY
for mode in --no-pack --pack; do
    .build/release/peft train --random-model tiny --method lora --data "$work/varied.jsonl" \
        --steps 40 --batch-size 8 --max-length 256 --eval-examples 0 "$mode" \
        --out "$work/out$mode" --json 2>"$work/log$mode" >"$work/summary$mode.json"
    python3 - "$mode" "$work/summary$mode.json" "$work/log$mode" <<'PY'
import json, re, sys
mode, summary, log = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rates = [float(r) for r in re.findall(r"(\d+) tok/s", log)]
print(f"{mode:10} seconds/step {summary['seconds_per_step']:.3f}  real tokens/s {sum(rates) / len(rates):.0f} (mean of the steps)  "
      f"fill {summary.get('packed_fill') or 'n/a'}  rows {summary.get('packed_rows') or 'n/a'}  "
      f"final loss {summary['final_loss']:.4f}")
PY
done
