#!/usr/bin/env bash
# Data-parallel training on one machine: 2 ranks x 1 thread against 1 process x 2 threads, on the
# gpt2-small shape (peft train --config small: 768 wide, 12 layers, byte vocabulary) with LoRA r=8,
# and the floats each step all-reduces for LoRA, IA3 and full fine-tuning. Release build; needs
# openmpi-bin. Usage: Benchmarks/data_parallel.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-12}
swift build -c release --product peft >/dev/null
peft=.build/release/peft
out=$(mktemp -d)
mpirun=(mpirun -np 2 --bind-to core --allow-run-as-root -x OPENBLAS_NUM_THREADS=1
    -x OMPI_MCA_btl_vader_single_copy_mechanism=none)
common=(train --config small --task copy --batch-size 8 --max-length 128 --eval-examples 2 --seed 0 --json)

# The tokens/s of the last progress line (the mean since the line before it) and the summary.
run() {
    local label=$1
    shift
    "$@" >"$out/$label.json" 2>"$out/$label.log"
    local speed
    speed=$(grep -o '[0-9]* tok/s' "$out/$label.log" | tail -1)
    python3 - "$label" "$out/$label.json" "$speed" <<'PY'
import json, sys
label, path, speed = sys.argv[1:]
summary = json.load(open(path))
print(f"{label:34s} {speed:>12s}  s/step {summary['seconds_per_step']:.3f}  world {summary['world_size']}"
      f"  all-reduced floats/step {summary['all_reduced_floats_per_step']:,}"
      f" ({summary['all_reduced_floats_per_step'] * 4 / 1e6:.2f} MB)  trainable {summary['trainable_parameters']:,}")
PY
}

run "lora 1 process x 2 threads" "$peft" "${common[@]}" --method lora --steps "$steps" --out "$out/one"
run "lora 2 ranks x 1 thread" "${mpirun[@]}" "$peft" "${common[@]}" --method lora --steps "$steps" --out "$out/two"
run "ia3 2 ranks (traffic)" "${mpirun[@]}" "$peft" "${common[@]}" --method ia3 --steps 2 --out "$out/ia3"
run "full 2 ranks (traffic)" "${mpirun[@]}" "$peft" "${common[@]}" --method full --steps 2 --out "$out/full"
rm -rf "$out"
