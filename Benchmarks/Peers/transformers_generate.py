"""Greedy decoding throughput of Hugging Face Transformers, the peer of the Swift DecodingBenchmarks.

The training benchmark's shapes (pytorch_peft.SHAPES, random weights seeded as there), fp32, eval mode,
two threads, under torch.inference_mode(). The prompt is 16 seeded random token ids; each timed run is one
whole `generate` call of exactly `new_tokens` tokens (min_new_tokens = max_new_tokens, so EOS cannot stop
it early), KV cache on, INCLUDING the prompt's prefill: tokens/s = new_tokens / seconds of the call. One
warm-up call, then `repeats` timed calls; the median is reported. Prints one JSON line:

    .venv/bin/python Benchmarks/Peers/transformers_generate.py <gpt2-small|llama-small> [new_tokens=64] [repeats=5]

Beside the speed: the bytes of the weights (tied weights once), a memory-bandwidth probe (best of 5 sums
of a 512 MiB fp32 tensor) and the bound they give, bandwidth / weight bytes tokens/s: every decoded token
reads every weight once. The peak RSS is read before the probe allocates its tensor.
"""

import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_peft import SHAPES, base_model, process_memory  # noqa: E402

DECODING_SHAPES = ("gpt2-small", "llama-small")
PROMPT_TOKENS = 16


def weight_bytes(model):
    """Bytes of the parameters; `parameters()` yields a tied tensor once."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def measure_bandwidth(mebibytes=512, repetitions=5):
    """Bytes/s of reading a `mebibytes` fp32 tensor with `sum`, the best of `repetitions` after a warm-up."""
    t = torch.ones(mebibytes * 2**20 // 4, dtype=torch.float32)  # touches every page
    best = float("inf")
    for repetition in range(repetitions + 1):
        start = time.perf_counter()
        t.sum()
        seconds = time.perf_counter() - start
        if repetition > 0:
            best = min(best, seconds)
    return t.numel() * t.element_size() / best


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in DECODING_SHAPES:
        sys.exit(f"usage: {sys.argv[0]} <{'|'.join(DECODING_SHAPES)}> [new_tokens=64] [repeats=5]")
    shape = sys.argv[1]
    new_tokens = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    torch.set_num_threads(2)
    baseline_memory = process_memory("VmRSS")

    import transformers

    model, _ = base_model(shape)
    model = model.float().eval()
    generator = torch.Generator().manual_seed(4321)
    input_ids = torch.randint(0, SHAPES[shape]["vocab"], (1, PROMPT_TOKENS), generator=generator)
    attention_mask = torch.ones_like(input_ids)

    def generate():
        return model.generate(input_ids, attention_mask=attention_mask, max_new_tokens=new_tokens,
                              min_new_tokens=new_tokens, do_sample=False, use_cache=True, pad_token_id=0)

    times = []
    with torch.inference_mode():
        for run in range(repeats + 1):
            start = time.perf_counter()
            output = generate()
            seconds = time.perf_counter() - start
            generated = output.shape[1] - PROMPT_TOKENS
            if generated != new_tokens:
                sys.exit(f"generate produced {generated} tokens, not {new_tokens}")
            if run > 0:  # the first call is the warm-up
                times.append(seconds)
    peak_memory = process_memory("VmHWM")
    bandwidth = measure_bandwidth()

    seconds = statistics.median(times)
    weights = weight_bytes(model)
    print(json.dumps({
        "side": "transformers",
        "shape": shape,
        "base_dtype": "fp32",
        "new_tokens": new_tokens,
        "prompt_tokens": PROMPT_TOKENS,
        "repeats": repeats,
        "timing": "median whole generate call, prompt prefill included",
        "seconds": seconds,
        "seconds_min": min(times),
        "tokens_per_second": new_tokens / seconds,
        "parameters": sum(p.numel() for p in model.parameters()),
        "weight_bytes": weights,
        "bandwidth_gbs": bandwidth / 1e9,
        "bound_tokens_per_second": bandwidth / weights,
        "peak_rss_mb": peak_memory,
        "baseline_rss_mb": baseline_memory,
        "threads": torch.get_num_threads(),
        "attention_implementation": model.config._attn_implementation,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }))


if __name__ == "__main__":
    main()
