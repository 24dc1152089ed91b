"""Turns the JSON lines of Benchmarks/compare_decoding.sh into a Markdown table.

One row per (shape, side, base dtype); a configuration that ran more than once shows its fastest run
(the largest peak RSS of its runs). The ratio is against Transformers fp32 on the same shape. The bound
is that run's memory bandwidth over the bytes of its weights (each decoded token reads every weight
once); "of bound" is the share of it reached. Tokens/s time whole generate calls, prompt prefill included.
"""

import json
import sys

SHAPES = ["gpt2-small", "llama-small"]
SIDES = ["swift", "transformers"]
DASH = "—"


def main(path):
    runs = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            run = json.loads(line)
            key = (run["shape"], run["side"], run.get("base_dtype") or "fp32")
            runs.setdefault(key, []).append(run)

    def pick(key):
        fastest = dict(max(runs[key], key=lambda r: r["tokens_per_second"]))
        fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs[key])
        return fastest

    shapes = SHAPES + sorted({shape for shape, _, _ in runs} - set(SHAPES))
    print("| shape | side / base dtype | tokens/s | **ratio to Transformers fp32** | weight MB | bandwidth GB/s "
          "| bound tokens/s | of bound | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for shape in shapes:
        reference = runs.get((shape, "transformers", "fp32"))
        reference = pick((shape, "transformers", "fp32")) if reference else None
        # Swift first, each side's dtypes in the order they ran.
        keys = sorted((k for k in runs if k[0] == shape),
                      key=lambda k: (SIDES.index(k[1]) if k[1] in SIDES else len(SIDES), k[1]))
        for key in keys:
            run = pick(key)
            ratio = DASH if reference is None else f"**{run['tokens_per_second'] / reference['tokens_per_second']:.2f}x**"
            bound = run.get("bound_tokens_per_second") or run["bandwidth_gbs"] * 1e9 / run["weight_bytes"]
            print(f"| {shape} | {key[1]} {key[2]} | {run['tokens_per_second']:.1f} | {ratio} "
                  f"| {run['weight_bytes'] / 1e6:.0f} | {run['bandwidth_gbs']:.1f} | {bound:.1f} "
                  f"| {run['tokens_per_second'] / bound:.0%} | {run['peak_rss_mb']:.0f} |")
    print()
    any_run = next(iter(runs.values()))[0] if runs else None
    if any_run is None:
        print(f"(no runs in {path})")
        return
    torch_run = next((r for (_, side, _), rs in runs.items() if side == "transformers" for r in rs), None)
    versions = (f" Transformers {torch_run['transformers']}, PyTorch {torch_run['torch']}, attention: "
                f"{torch_run['attention_implementation']}, {torch_run['threads']} threads."
                if torch_run else "")
    print(f"Greedy decoding of {any_run['new_tokens']} new tokens after a {any_run['prompt_tokens']}-token "
          f"random prompt, batch 1, KV cache; median of {any_run.get('repeats', '?')} timed generate calls after "
          f"one warm-up, prompt prefill included. Bandwidth: best of 5 sums of a 512 MiB fp32 tensor."
          + versions)


if __name__ == "__main__":
    main(sys.argv[1])
