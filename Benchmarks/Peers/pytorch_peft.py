"""Training-step throughput of PyTorch + Hugging Face PEFT, the peer of the Swift TrainingBenchmarks.

Same shapes, methods, FLOP count and JSON fields as the Swift side; one configuration per process so
the peak resident set is its own:

    .venv/bin/python Benchmarks/Peers/pytorch_peft.py <gpt2-tiny|gpt2-small|t5-small|llama-small> \
        <lora|dora|ia3|prompt|prefix|full> [steps] [warm-up]

Methods (dropout 0, otherwise PEFT's defaults): LoRA r=8 alpha=16 and DoRA (the same with use_dora) on
PEFT's default LoRA targets; IA3 on PEFT's default IA3 targets and feed-forward modules; prompt tuning and
prefix tuning (no projection) with 20 virtual tokens; full fine-tuning. `tokens_per_step` counts the real
tokens only, never the virtual ones.
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


METHODS = ("lora", "dora", "ia3", "prompt", "prefix", "full")
# Virtual tokens of prompt and prefix tuning.
VIRTUAL_TOKENS = 20


def step_flops(shape, method, rank=8, virtual_tokens=VIRTUAL_TOKENS):
    """Model FLOPs of one step, as TrainingBenchmarks/Workload.swift counts them (see the doc there).

    A weight matrix of P entries applied to n tokens costs 4·P·n frozen (forward + input gradient) and
    6·P·n trained (full FT); LoRA and DoRA add 6·r·(in + out)·n on each adapted matrix (DoRA's weight-norm
    work is not counted); IA3 is frozen everywhere (its vectors are not counted). Attention costs
    3·4·batch·queries·keys·width per attention layer (forward + backward, the full score matrix).

    Prompt tuning puts the virtual tokens into the sequence: decoder-only models run every weight (the
    LM head included: PEFT computes the virtual positions' logits too) on batch·(length + 20) tokens and
    attend with queries = keys = length + 20. T5 puts them into the ENCODER only: encoder weights on
    batch·(length + 20) tokens, encoder self-attention (length + 20)², the decoder's cross-attention k and v
    on the batch·(length + 20) encoder outputs with keys = length + 20; the decoder's self-attention, its
    other weights and the LM head are unchanged.

    Prefix tuning runs the weights on the real tokens only; its 20 virtual keys/values join the keys of
    attention layers: every self-attention of a decoder-only model (keys = length + 20). For T5, PEFT's
    prefix reaches only the DECODER's self-attention: PeftModelForSeq2SeqLM.get_prompt builds an
    EncoderDecoderCache whose self-attention cache holds the prefix but whose cross-attention cache it
    replaces with an empty DynamicCache (cross-attention keys stay the length encoder outputs), and
    T5Stack drops the cache in the encoder (encoder self-attention keys stay length). So T5 counts
    decoder self-attention keys = length + 20, everything else as without prefix.

    For ia3, prompt and prefix the forward share of this count (weights / 2, attention / 3) equals what
    torch.utils.flop_counter.FlopCounterMode measures with ATTENTION=eager on gpt2-tiny, t5-small and
    llama-small, which checks the token and key counts above against what PEFT actually runs.
    """
    s = SHAPES[shape]
    base_factor = 6.0 if method == "full" else 4.0
    batch, length = s["batch"], s["length"]
    prompt = virtual_tokens if method == "prompt" else 0  # virtual tokens in the (encoder) sequence
    prefix = virtual_tokens if method == "prefix" else 0  # virtual keys of the (decoder) self-attention

    def product(fan_in, fan_out, tokens, adapted=False):
        flops = base_factor * fan_in * fan_out * tokens
        if adapted and method in ("lora", "dora"):
            flops += 6 * rank * (fan_in + fan_out) * tokens
        return flops

    def attention_products(queries, keys, width):
        return 3 * 4 * batch * queries * keys * width

    weights = attention = 0.0
    c = s["width"]
    if s["family"] in ("gpt2", "llama"):
        positions = length + prompt  # the sequence every weight sees
        tokens = batch * positions
        keys = positions + prefix
        if s["family"] == "gpt2":
            for _ in range(s["layers"]):
                weights += product(c, 3 * c, tokens, adapted=True) + product(c, c, tokens)  # c_attn, c_proj
                weights += product(c, 4 * c, tokens) + product(4 * c, c, tokens)  # mlp c_fc, c_proj
                attention += attention_products(positions, keys, c)
        else:
            head = c // s["heads"]
            queries, keys_values, ff = s["heads"] * head, s["kv_heads"] * head, s["ff"]
            for _ in range(s["layers"]):
                weights += product(c, queries, tokens, True) + product(c, keys_values, tokens)  # q_proj, k_proj
                weights += product(c, keys_values, tokens, True) + product(queries, c, tokens)  # v_proj, o_proj
                weights += 2 * product(c, ff, tokens) + product(ff, c, tokens)  # gate_proj, up_proj, down_proj
                # Every query head attends: the shared key/value heads cost no fewer products.
                attention += attention_products(positions, keys, queries)
        weights += product(c, s["vocab"], tokens)  # LM head (tied for GPT-2 and Llama)
    else:
        inner, ff = s["inner"], s["ff"]
        encoder_positions = length + prompt
        encoder_tokens, decoder_tokens = batch * encoder_positions, batch * length

        def block(query_tokens, key_tokens):  # q, k, v, o
            return (product(c, inner, query_tokens, True) + product(c, inner, key_tokens)
                    + product(c, inner, key_tokens, True) + product(inner, c, query_tokens))

        def feed_forward(tokens):
            return product(c, ff, tokens) + product(ff, c, tokens)

        for _ in range(s["layers"]):
            weights += block(encoder_tokens, encoder_tokens) + feed_forward(encoder_tokens)
            attention += attention_products(encoder_positions, encoder_positions, inner)
        for _ in range(s["layers"]):
            weights += block(decoder_tokens, decoder_tokens)  # self-attention
            weights += block(decoder_tokens, encoder_tokens)  # cross-attention: k, v on the encoder outputs
            weights += feed_forward(decoder_tokens)
            attention += attention_products(length, length + prefix, inner)  # self-attention
            attention += attention_products(length, encoder_positions, inner)  # cross-attention
        weights += product(c, s["vocab"], decoder_tokens)
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


def base_model(shape):
    """The shape's randomly initialised fp32 Transformers model (seeded) and PEFT's default LoRA targets for it.

    Shared with transformers_generate.py. Transformers' default attention (sdpa for all three families);
    ATTENTION=eager overrides it for comparison.
    """
    from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, T5Config,
                              T5ForConditionalGeneration)

    s = SHAPES[shape]
    torch.manual_seed(1)
    options = {"attn_implementation": os.environ["ATTENTION"]} if "ATTENTION" in os.environ else {}
    if s["family"] == "gpt2":
        config = GPT2Config(vocab_size=s["vocab"], n_embd=s["width"], n_layer=s["layers"], n_head=s["heads"],
                            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **options)
        return GPT2LMHeadModel(config), ["c_attn"]
    if s["family"] == "llama":
        config = LlamaConfig(vocab_size=s["vocab"], hidden_size=s["width"], intermediate_size=s["ff"],
                             num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                             num_key_value_heads=s["kv_heads"], max_position_embeddings=s["max_positions"],
                             rms_norm_eps=s["rms_norm_eps"],
                             rope_parameters={"rope_type": "default", "rope_theta": s["rope_theta"]},
                             tie_word_embeddings=True, attention_dropout=0.0, **options)
        return LlamaForCausalLM(config), ["q_proj", "v_proj"]
    config = T5Config(vocab_size=s["vocab"], d_model=s["width"], d_kv=s["inner"] // s["heads"], d_ff=s["ff"],
                      num_layers=s["layers"], num_decoder_layers=s["layers"], num_heads=s["heads"],
                      dropout_rate=0.0, **options)
    return T5ForConditionalGeneration(config), ["q", "v"]


def apply_method(model, shape, method, targets):
    """Wraps `model` for `method` with PEFT; returns the model and the modules PEFT adapted (None if none)."""
    if method == "full":
        return model, None
    from peft import (IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType,
                      get_peft_model)

    task = TaskType.SEQ_2_SEQ_LM if SHAPES[shape]["family"] == "t5" else TaskType.CAUSAL_LM
    if method in ("lora", "dora"):
        # As before this change: no task type, so get_peft_model returns the plain PeftModel wrapper.
        config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets,
                            use_dora=method == "dora")
    elif method == "ia3":
        # target_modules/feedforward_modules None: PEFT resolves its defaults for the model type.
        config = IA3Config(task_type=task)
    elif method == "prompt":
        config = PromptTuningConfig(task_type=task, num_virtual_tokens=VIRTUAL_TOKENS)  # random init
    elif method == "prefix":
        config = PrefixTuningConfig(task_type=task, num_virtual_tokens=VIRTUAL_TOKENS)  # no projection
    else:
        raise ValueError(method)
    try:
        model = get_peft_model(model, config)
    except Exception as error:  # name the configuration PEFT refused
        sys.exit(f"{method} on {shape}: HF PEFT cannot build it: {type(error).__name__}: {error}")
    resolved = model.peft_config["default"]
    adapted = getattr(resolved, "target_modules", None)
    feedforward = getattr(resolved, "feedforward_modules", None)

    def listed(modules):
        return None if modules is None else (modules if isinstance(modules, str) else sorted(modules))

    return model, {"targets": listed(adapted), "feedforward": listed(feedforward)}


def build(shape, method):
    """The model, a function computing the loss of a batch, the batch maker, the attention implementation
    and the modules PEFT adapted."""
    s = SHAPES[shape]
    model, targets = base_model(shape)
    generator = torch.Generator().manual_seed(1234)

    def random_tokens():
        return torch.randint(0, s["vocab"], (s["batch"], s["length"]), generator=generator)

    if s["family"] == "t5":
        def loss_of(batch):
            inputs, decoder_inputs, labels = batch
            return model(input_ids=inputs, decoder_input_ids=decoder_inputs, labels=labels).loss

        def make_batch():
            return random_tokens(), random_tokens(), random_tokens()
    else:
        def loss_of(batch):
            return model(input_ids=batch, labels=batch).loss

        make_batch = random_tokens

    attention = model.config._attn_implementation
    model, adapted = apply_method(model, shape, method, targets)
    return model, loss_of, make_batch, attention, adapted


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SHAPES or sys.argv[2] not in METHODS:
        sys.exit(f"usage: {sys.argv[0]} <{'|'.join(SHAPES)}> <{'|'.join(METHODS)}> [steps] [warm-up]")
    shape, method = sys.argv[1], sys.argv[2]
    timed_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    warm_up_steps = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(2)
    baseline_memory = process_memory("VmRSS")

    model, loss_of, make_batch, attention, adapted = build(shape, method)
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
    try:
        from peft import __version__ as peft_version
    except ImportError:
        peft_version = None
    blas = "MKL" if "BLAS_INFO=mkl" in config else ("OpenBLAS" if "open" in config.lower() else "other")
    print(json.dumps({
        "side": "pytorch",
        "shape": shape,
        "method": method,
        "batch": s["batch"],
        "sequence_length": s["length"],
        "tokens_per_step": tokens,
        "virtual_tokens": VIRTUAL_TOKENS if method in ("prompt", "prefix") else 0,
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
        "peft": peft_version,
        "targets": adapted and adapted["targets"],
        **({"feedforward_targets": adapted["feedforward"]} if method == "ia3" else {}),
    }))


if __name__ == "__main__":
    main()
