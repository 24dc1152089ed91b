"""Turns the JSON lines of Benchmarks/compare_training.sh into Markdown side-by-side tables.

Each (side, shape, method) may have run in several rounds: the table takes the round with the
fastest median step (a burst of load from another process only ever slows a run) and the largest
peak RSS of all rounds. "Other load" is the number of cores other processes kept busy during the
run (the script repeats a run when it exceeds 0.1). MFU is against the best 2048^3 sgemm that side's BLAS reached in any run.
Methods without a PyTorch peer (bottleneck adapters; the frozen base, the yardstick of LoRA's own cost) show their Swift columns and "—" for PyTorch.
If the Swift lines carry a "profile" object (op kind -> seconds per step), a third table splits the
Swift step by op kind.
"""

import json
import sys

SHAPES = ["gpt2-tiny", "gpt2-small", "t5-small", "llama-small"]
METHODS = ["lora", "dora", "ia3", "prompt", "prefix", "adapters", "full", "frozen"]
LABELS = {
    "lora": "LoRA r=8",
    "dora": "DoRA r=8",
    "ia3": "IA3",
    "prompt": "prompt tuning (20)",
    "prefix": "prefix tuning (20)",
    "adapters": "bottleneck adapters",
    "frozen": "frozen base, first norm trains",
    "full": "full FT",
}
SWIFT_ONLY = {"adapters", "frozen"}
DASH = "—"


def label(method):
    text = LABELS.get(method, method)
    return f"{text} (Swift only)" if method in SWIFT_ONLY else text


def main(path):
    runs = {}
    profile_kinds = []  # op kinds of the Swift profiles, in the order first seen
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            run = json.loads(line)
            runs.setdefault((run["side"], run["shape"], run["method"]), []).append(run)
            for kind in (run.get("profile") or {}) if run["side"] == "swift" else ():
                if kind not in profile_kinds:
                    profile_kinds.append(kind)
    best_sgemm = {side: max((r["sgemm_gflops"] for (s, _, _), rs in runs.items() if s == side for r in rs),
                            default=float("nan"))
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

    def rows():
        """(shape, method, swift, pytorch) of every configuration with a Swift run and either a PyTorch run
        or no PyTorch peer."""
        for shape in SHAPES:
            for method in METHODS:
                swift, torch = pick("swift", shape, method), pick("pytorch", shape, method)
                if swift is not None and (torch is not None or method in SWIFT_ONLY):
                    yield shape, method, swift, torch

    def cell(run, key, spec):
        return DASH if run is None else format(run[key], spec)

    def ratio(swift, torch, key):
        return DASH if torch is None else f"**{swift[key] / torch[key]:.2f}x**"

    def mfu(run):
        return DASH if run is None else f"{run['mfu']:.0%}"

    print("| shape | method | trainable params | tokens/s Swift | tokens/s PyTorch | **Swift/PyTorch tokens/s** "
          "| s/step Swift | s/step PyTorch | peak RSS Swift (MiB) | peak RSS PyTorch (MiB) "
          "| **Swift/PyTorch RSS** | MFU Swift | MFU PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape, method, swift, torch in rows():
        print(f"| {shape} | {label(method)} "
              f"| {swift['trainable_parameters']:,} "
              f"| {swift['tokens_per_second']:.0f} | {cell(torch, 'tokens_per_second', '.0f')} "
              f"| {ratio(swift, torch, 'tokens_per_second')} "
              f"| {swift['seconds_per_step']:.3f} | {cell(torch, 'seconds_per_step', '.3f')} "
              f"| {swift['peak_rss_mb']:.0f} | {cell(torch, 'peak_rss_mb', '.0f')} "
              f"| {ratio(swift, torch, 'peak_rss_mb')} "
              f"| {mfu(swift)} | {mfu(torch)} |")
    print()
    print("Per-phase medians (seconds per step) and FLOPs:")
    print()
    print("| shape | method | GFLOP/step | forward Swift | forward PyTorch | backward Swift | backward PyTorch "
          "| optimizer Swift | optimizer PyTorch | startup RSS Swift (MiB) | startup RSS PyTorch (MiB) "
          "| other load Swift | other load PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def load(run):
        return DASH if run is None else f"{run.get('other_cpu', float('nan')):.2f}"

    for shape, method, swift, torch in rows():
        print(f"| {shape} | {method} | {swift['step_gflop']:.1f} "
              f"| {swift['forward_seconds']:.3f} | {cell(torch, 'forward_seconds', '.3f')} "
              f"| {swift['backward_seconds']:.3f} | {cell(torch, 'backward_seconds', '.3f')} "
              f"| {swift['optimizer_seconds']:.4f} | {cell(torch, 'optimizer_seconds', '.4f')} "
              f"| {swift['baseline_rss_mb']:.0f} | {cell(torch, 'baseline_rss_mb', '.0f')} "
              f"| {load(swift)} | {load(torch)} |")
    print()
    if profile_kinds:
        print("Swift time per step by op kind (seconds, share of the step):")
        print()
        print("| shape | method | s/step | " + " | ".join(profile_kinds) + " | profiled total |")
        print("|---|---|---:|" + "---:|" * (len(profile_kinds) + 1))
        for shape in SHAPES:
            for method in METHODS:
                swift = pick("swift", shape, method)
                if swift is None or not swift.get("profile"):
                    continue
                step, profile = swift["seconds_per_step"], swift["profile"]
                cells = [DASH if kind not in profile else f"{profile[kind]:.3f} ({profile[kind] / step:.0%})"
                         for kind in profile_kinds]
                total = sum(profile.values())
                print(f"| {shape} | {method} | {step:.3f} | " + " | ".join(cells)
                      + f" | {total:.3f} ({total / step:.0%}) |")
        print()
    any_torch = next((r for (s, _, _), rs in runs.items() if s == "pytorch" for r in rs), None)
    any_swift = next((r for (s, _, _), rs in runs.items() if s == "swift" for r in rs), None)
    if any_swift is None or any_torch is None:
        print("(no " + ("Swift" if any_swift is None else "PyTorch") + " runs in " + path + ")")
        return
    print(f"sgemm 2048^3 fp32, best of all runs: Swift/{any_swift['blas']} {best_sgemm['swift']:.0f} GFLOP/s, "
          f"PyTorch/{any_torch['blas']} {best_sgemm['pytorch']:.0f} GFLOP/s. "
          f"Threads: Swift {any_swift['threads']}, PyTorch {any_torch['threads']}. "
          f"PyTorch {any_torch['torch']}, attention: {any_torch['attention_implementation']}. "
          f"Timed steps {any_swift['timed_steps']} after {any_swift['warmup_steps']} warm-up; each cell is the "
          f"fastest of up to {max(len(rs) for rs in runs.values())} process run(s). "
          f"Prompt and prefix tuning use 20 virtual tokens; tokens/s counts the real tokens only.")


if __name__ == "__main__":
    main(sys.argv[1])
