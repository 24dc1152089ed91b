"""Training-step throughput of PyTorch + Hugging Face PEFT, the peer of the Swift TrainingBenchmarks.

Same shapes, methods, FLOP count and JSON fields as the Swift side; one configuration per process so
the peak resident set is its own:

    .venv/bin/python Benchmarks/Peers/pytorch_peft.py <gpt2-tiny|gpt2-small|t5-small|llama-small> <lora|full> [steps] [warm-up]
"""

import json
import os
import statistics
import sys
import time

import torch


def process_memory(field):
    """A field of /proc/self/status in MiB: VmHWM is the peak resident set, VmRSS the current one."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


SHAPES = {
    "gpt2-tiny": dict(family="gpt2", batch=8, length=128, vocab=8192, width=256, layers=4, heads=4),
    "gpt2-small": dict(family="gpt2", batch=4, length=128, vocab=50257, width=768, layers=12, heads=12),
    "t5-small": dict(family="t5", batch=8, length=64, vocab=32128, width=512, inner=512, ff=2048,
                     layers=6, heads=8),
    # SmolLM2-135M's shape (issue 12), random weights.
    "llama-small": dict(family="llama", batch=4, length=128, vocab=49152, width=576, ff=1536, layers=30,
                        heads=9, kv_heads=3, rope_theta=100000.0, rms_norm_eps=1e-5, max_positions=8192),
}


def step_flops(shape, method, rank=8):
    """Model FLOPs of one step, as TrainingBenchmarks/Workload.swift counts them (see the doc there)."""
    s = SHAPES[shape]
    base_factor = 6.0 if method == "full" else 4.0
    tokens = s["batch"] * s["length"]

    def product(fan_in, fan_out, adapted=False):
        flops = base_factor * fan_in * fan_out * tokens
        if adapted and method == "lora":
            flops += 6 * rank * (fan_in + fan_out) * tokens
        return flops

    def attention_products(width):
        return 3 * 4 * s["batch"] * s["length"] * s["length"] * width

    weights = attention = 0.0
    c = s["width"]
    if s["family"] == "gpt2":
        for _ in range(s["layers"]):
            weights += product(c, 3 * c, adapted=True) + product(c, c)
            weights += product(c, 4 * c) + product(4 * c, c)
            attention += attention_products(c)
    elif s["family"] == "llama":
        head = c // s["heads"]
        queries, keys_values, ff = s["heads"] * head, s["kv_heads"] * head, s["ff"]
        for _ in range(s["layers"]):
            weights += product(c, queries, True) + product(c, keys_values)  # q_proj, k_proj
            weights += product(c, keys_values, True) + product(queries, c)  # v_proj, o_proj
            weights += 2 * product(c, ff) + product(ff, c)  # gate_proj, up_proj, down_proj
            attention += attention_products(queries)
    else:
        inner, ff = s["inner"], s["ff"]
        block = product(c, inner, True) + product(c, inner) + product(c, inner, True) + product(inner, c)
        feed_forward = product(c, ff) + product(ff, c)
        for _ in range(s["layers"]):
            weights += block + feed_forward
            attention += attention_products(inner)
        for _ in range(s["layers"]):
            weights += 2 * block + feed_forward
            attention += 2 * attention_products(inner)
    weights += product(c, s["vocab"])
    return weights + attention, attention


def measure_sgemm(size=2048, repetitions=5):
    """GFLOP/s of a size^3 fp32 matmul through torch's BLAS, the best of `repetitions` after a warm-up."""
    generator = torch.Generator().manual_seed(3)
    a = torch.rand(size, size, generator=generator)
    b = torch.rand(size, size, generator=generator)
    c = torch.empty(size, size)
    best = float("inf")
    for repetition in range(repetitions + 1):
        start = time.perf_counter()
        torch.mm(a, b, out=c)
        seconds = time.perf_counter() - start
        if repetition > 0:
            best = min(best, seconds)
    return 2 * size**3 / best / 1e9


def build(shape, method):
    """The model and a function computing the loss of batch `step`."""
    from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, T5Config,
                              T5ForConditionalGeneration)

    s = SHAPES[shape]
    torch.manual_seed(1)
    generator = torch.Generator().manual_seed(1234)

    def random_tokens():
        return torch.randint(0, s["vocab"], (s["batch"], s["length"]), generator=generator)

    # Transformers' default (sdpa for all three families); ATTENTION=eager overrides it for comparison.
    options = {"attn_implementation": os.environ["ATTENTION"]} if "ATTENTION" in os.environ else {}
    if s["family"] == "gpt2":
        config = GPT2Config(vocab_size=s["vocab"], n_embd=s["width"], n_layer=s["layers"], n_head=s["heads"],
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **options)
        model = GPT2LMHeadModel(config)
        targets = ["c_attn"]

        def loss_of(batch):
            return model(input_ids=batch, labels=batch).loss

        make_batch = random_tokens
    elif s["family"] == "llama":
        config = LlamaConfig(vocab_size=s["vocab"], hidden_size=s["width"], intermediate_size=s["ff"],
                             num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                             num_key_value_heads=s["kv_heads"], max_position_embeddings=s["max_positions"],
                             rms_norm_eps=s["rms_norm_eps"],
                             rope_parameters={"rope_type": "default", "rope_theta": s["rope_theta"]},
                             tie_word_embeddings=True, attention_dropout=0.0, **options)
        model = LlamaForCausalLM(config)
        targets = ["q_proj", "v_proj"]

        def loss_of(batch):
            return model(input_ids=batch, labels=batch).loss

        make_batch = random_tokens
    else:
        config = T5Config(vocab_size=s["vocab"], d_model=s["width"], d_kv=s["inner"] // s["heads"], d_ff=s["ff"],
                          num_layers=s["layers"], num_decoder_layers=s["layers"], num_heads=s["heads"],
                          dropout_rate=0.0, **options)
        model = T5ForConditionalGeneration(config)
        targets = ["q", "v"]

        def loss_of(batch):
            inputs, decoder_inputs, labels = batch
            return model(input_ids=inputs, decoder_input_ids=decoder_inputs, labels=labels).loss

        def make_batch():
            return random_tokens(), random_tokens(), random_tokens()

    attention = model.config._attn_implementation
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets))
    return model, loss_of, make_batch, attention


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SHAPES or sys.argv[2] not in ("lora", "full"):
        sys.exit(f"usage: {sys.argv[0]} <{'|'.join(SHAPES)}> <lora|full> [steps] [warm-up]")
    shape, method = sys.argv[1], sys.argv[2]
    timed_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    warm_up_steps = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(2)
    baseline_memory = process_memory("VmRSS")

    model, loss_of, make_batch, attention = build(shape, method)
    batches = [make_batch() for _ in range(warm_up_steps + timed_steps)]
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)

    forward_times, backward_times, optimizer_times, step_times = [], [], [], []
    last_loss = float("nan")
    for step, batch in enumerate(batches):
        start = time.perf_counter()
        loss = loss_of(batch)
        forward_done = time.perf_counter()
        loss.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        end = time.perf_counter()
        last_loss = loss.item()
        if step >= warm_up_steps:
            forward_times.append(forward_done - start)
            backward_times.append(backward_done - forward_done)
            optimizer_times.append(end - backward_done)
            step_times.append(end - start)
    # Read the peak before the GEMM probe, whose three 16 MiB matrices are not part of training.
    peak_memory = process_memory("VmHWM")
    sgemm = measure_sgemm()

    s = SHAPES[shape]
    tokens = s["batch"] * s["length"] * (2 if s["family"] == "t5" else 1)
    seconds = statistics.median_high(step_times)
    total_flops, attention_flops = step_flops(shape, method)
    config = torch.__config__.show()
    blas = "MKL" if "BLAS_INFO=mkl" in config else ("OpenBLAS" if "open" in config.lower() else "other")
    print(json.dumps({
        "side": "pytorch",
        "shape": shape,
        "method": method,
        "batch": s["batch"],
        "sequence_length": s["length"],
        "tokens_per_step": tokens,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in trainable),
        "warmup_steps": warm_up_steps,
        "timed_steps": timed_steps,
        "seconds_per_step": seconds,
        "seconds_per_step_min": min(step_times),
        "tokens_per_second": tokens / seconds,
        "forward_seconds": statistics.median_high(forward_times),
        "backward_seconds": statistics.median_high(backward_times),
        "optimizer_seconds": statistics.median_high(optimizer_times),
        "peak_rss_mb": peak_memory,
        "baseline_rss_mb": baseline_memory,
        "step_gflop": total_flops / 1e9,
        "attention_gflop": attention_flops / 1e9,
        "achieved_gflops": total_flops / seconds / 1e9,
        "sgemm_gflops": sgemm,
        "mfu": total_flops / seconds / 1e9 / sgemm,
        "final_loss": last_loss,
        "threads": torch.get_num_threads(),
        "blas": blas,
        "attention_implementation": attention,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
