"""Turns the JSON lines of Benchmarks/compare_training.sh into a Markdown side-by-side table.

Each (side, shape, method) may have run in several rounds: the table takes the round with the
fastest median step (a burst of load from another process only ever slows a run) and the largest
peak RSS of all rounds. "Other load" is the number of cores other processes kept busy during the
run (the script repeats a run when it exceeds 0.1). MFU is against the best 2048^3 sgemm that side's BLAS reached in any run.
"""

import json
import sys

SHAPES = ["gpt2-tiny", "gpt2-small", "t5-small", "llama-small"]
METHODS = ["lora", "full"]


def main(path):
    runs = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            run = json.loads(line)
            runs.setdefault((run["side"], run["shape"], run["method"]), []).append(run)
    best_sgemm = {side: max(r["sgemm_gflops"] for (s, _, _), rs in runs.items() if s == side for r in rs)
                  for side in ("swift", "pytorch")}

    def pick(side, shape, method):
        rounds = runs.get((side, shape, method))
        if not rounds:
            return None
        fastest = dict(min(rounds, key=lambda r: r["seconds_per_step"]))
        fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
        fastest["mfu"] = fastest["achieved_gflops"] / best_sgemm[side]
        fastest["rounds"] = len(rounds)
        return fastest

    print("| shape | method | trainable params | tokens/s Swift | tokens/s PyTorch | **Swift/PyTorch tokens/s** "
          "| s/step Swift | s/step PyTorch | peak RSS Swift (MiB) | peak RSS PyTorch (MiB) "
          "| **Swift/PyTorch RSS** | MFU Swift | MFU PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in SHAPES:
        for method in METHODS:
            swift, torch = pick("swift", shape, method), pick("pytorch", shape, method)
            if swift is None or torch is None:
                continue
            print(f"| {shape} | {'LoRA r=8' if method == 'lora' else 'full FT'} "
                  f"| {swift['trainable_parameters']:,} "
                  f"| {swift['tokens_per_second']:.0f} | {torch['tokens_per_second']:.0f} "
                  f"| **{swift['tokens_per_second'] / torch['tokens_per_second']:.2f}x** "
                  f"| {swift['seconds_per_step']:.3f} | {torch['seconds_per_step']:.3f} "
                  f"| {swift['peak_rss_mb']:.0f} | {torch['peak_rss_mb']:.0f} "
                  f"| **{swift['peak_rss_mb'] / torch['peak_rss_mb']:.2f}x** "
                  f"| {swift['mfu']:.0%} | {torch['mfu']:.0%} |")
    print()
    print("Per-phase medians (seconds per step) and FLOPs:")
    print()
    print("| shape | method | GFLOP/step | forward Swift | forward PyTorch | backward Swift | backward PyTorch "
          "| optimizer Swift | optimizer PyTorch | startup RSS Swift (MiB) | startup RSS PyTorch (MiB) "
          "| other load Swift | other load PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in SHAPES:
        for method in METHODS:
            swift, torch = pick("swift", shape, method), pick("pytorch", shape, method)
            if swift is None or torch is None:
                continue
            print(f"| {shape} | {method} | {swift['step_gflop']:.1f} "
                  f"| {swift['forward_seconds']:.3f} | {torch['forward_seconds']:.3f} "
                  f"| {swift['backward_seconds']:.3f} | {torch['backward_seconds']:.3f} "
                  f"| {swift['optimizer_seconds']:.4f} | {torch['optimizer_seconds']:.4f} "
                  f"| {swift['baseline_rss_mb']:.0f} | {torch['baseline_rss_mb']:.0f} "
                  f"| {swift.get('other_cpu', float('nan')):.2f} | {torch.get('other_cpu', float('nan')):.2f} |")
    print()
    any_torch = next(r for (s, _, _), rs in runs.items() if s == "pytorch" for r in rs)
    any_swift = next(r for (s, _, _), rs in runs.items() if s == "swift" for r in rs)
    print(f"sgemm 2048^3 fp32, best of all runs: Swift/{any_swift['blas']} {best_sgemm['swift']:.0f} GFLOP/s, "
          f"PyTorch/{any_torch['blas']} {best_sgemm['pytorch']:.0f} GFLOP/s. "
          f"Threads: Swift {any_swift['threads']}, PyTorch {any_torch['threads']}. "
          f"PyTorch {any_torch['torch']}, attention: {any_torch['attention_implementation']}. "
          f"Timed steps {any_swift['timed_steps']} after {any_swift['warmup_steps']} warm-up; each cell is the "
          f"fastest of up to {max(len(rs) for rs in runs.values())} process run(s).")


if __name__ == "__main__":
    main(sys.argv[1])
