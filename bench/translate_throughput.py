"""Translation throughput: our engine (length-sorted batches) vs a naive loop (one sentence per `generate`).

Both sides translate the same N English sentences with the same model on the same device, with the same beam
search, and produce the same number of output subwords per sentence: the model has random weights, which
never end a sentence, so every output is forced to a fixed length (min_new_tokens = max_new_tokens =
ceil(--length-ratio x source length); for the engine, x the longest source of its batch, which only makes its
side do more work). Tokenization and decoding are timed on both sides.

Model (default): the architecture of facebook/nllb-200-distilled-600M (M2M100: 12 + 12 layers, d_model 1024,
FFN 4096, 16 heads, vocabulary 256,206), written out here, with random weights and no download; the tokenizer is
a stand-in (a SentencePiece trained on the demo's word lists, xstilts.tiny_mt), since throughput depends on
sequence lengths and batching, not on the pieces. `--tiny` is a small model for CPUs (d_model 256, 2 + 2
layers, vocabulary 32,000). GPU (bf16, or fp16 where bf16 is unsupported) when there is one, else CPU (fp32).

Sentences: demo words, names and numbers, with word counts drawn from a log-normal around 18 words (3 to 90),
roughly the length of SQuAD context sentences and MNLI premises; the printout gives the subword lengths.

    .venv/bin/python bench/translate_throughput.py                        # GPU: NLLB-600M size, 160 sentences
    .venv/bin/python bench/translate_throughput.py --tiny                 # CPU: 96 sentences, batches of 16
    .venv/bin/python bench/translate_throughput.py --num-beams 1 --batch-size 128 --repeat 3

Goal: engine >= 5x naive. The default GPU run should take about 2 minutes (an estimate: not yet run on a GPU),
most of it the naive loop.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

NLLB_600M = {"d_model": 1024, "encoder_layers": 12, "decoder_layers": 12, "encoder_attention_heads": 16,
             "decoder_attention_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096, "vocab_size": 256206}
TINY = {"d_model": 256, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
        "decoder_attention_heads": 4, "encoder_ffn_dim": 1024, "decoder_ffn_dim": 1024, "vocab_size": 32000}


def sentences(n: int, seed: int) -> list[str]:
    from xstilts.tiny_mt import ALIGNED, NAMES

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = min(90, max(3, round(rng.lognormvariate(math.log(18), 0.55))))
        tokens = []
        for _ in range(words):
            draw = rng.random()
            tokens.append(rng.choice(NAMES) if draw < 0.05 else str(rng.randint(1, 2020)) if draw < 0.1
                          else rng.choice(ALIGNED)[0])
        out.append(" ".join(tokens) + " .")
    return out


def build(args, workdir: Path):
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    from xstilts.tiny_mt import build_tiny_tokenizer, parallel_sentences

    tokenizer, _, _ = build_tiny_tokenizer(workdir, parallel_sentences(args.seed, 2000))
    dims = TINY if args.tiny else NLLB_600M
    config = M2M100Config(**dims, max_position_embeddings=1024, scale_embedding=True, dropout=0.0,
                          attention_dropout=0.0, activation_dropout=0.0, pad_token_id=tokenizer.pad_token_id,
                          bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                          decoder_start_token_id=tokenizer.eos_token_id)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    torch.manual_seed(args.seed)
    with device:
        model = M2M100ForConditionalGeneration(config)
    model = model.to(dtype).eval()
    params = sum(p.numel() for p in model.parameters())
    return model, tokenizer, device, dtype, params


def naive(translator, texts: list[str]) -> list[str]:
    """One sentence per generate call: tokenize, generate, decode, as a simple translation loop does."""
    import torch

    model, tokenizer = translator.model, translator.tokenizer
    out = []
    for text in texts:
        encoded = tokenizer([text], return_tensors="pt").to(translator.device)
        length = translator.new_tokens(encoded["input_ids"].shape[1])
        with torch.inference_mode():
            generated = model.generate(**encoded, num_beams=translator.num_beams, max_new_tokens=length,
                                       min_new_tokens=length, forced_bos_token_id=translator.forced_bos)
        row = [t for t in generated[0].tolist() if t not in translator.language_ids]
        out.append(" ".join(tokenizer.decode(row, skip_special_tokens=True).split()))
    return out


def synchronize(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="a small model for CPUs instead of NLLB-600M's size")
    parser.add_argument("--n", type=int, default=None, help="sentences (default 160 on a GPU, 96 on a CPU)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="engine: segments per generate call (default 64 on a GPU, 16 on a CPU)")
    parser.add_argument("--batch-tokens", type=int, default=None, help="engine: padded source subwords per batch")
    parser.add_argument("--num-beams", type=int, default=4, help="beam size on both sides (config default: 4)")
    parser.add_argument("--length-ratio", type=float, default=1.1,
                        help="output subwords per source subword, forced on both sides")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default on a CPU: 1; on a shared machine more threads spin-wait "
                             "and make both sides erratic)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    from xstilts.translation.engine import Translator

    with tempfile.TemporaryDirectory() as tmp:
        model, tokenizer, device, dtype, params = build(args, Path(tmp))
        if args.threads or device.type == "cpu":
            torch.set_num_threads(args.threads or 1)
        n = args.n or (160 if device.type == "cuda" else 96)
        batch_size = args.batch_size or (64 if device.type == "cuda" else 16)
        texts = sentences(n, args.seed)
        settings = {"family": "m2m100", "path": "(random weights)", "num_beams": args.num_beams, "max_length": 1024,
                    "length_ratio": args.length_ratio, "length_margin": 0}
        translator = Translator(settings, "en", "de", batch_size=batch_size, batch_tokens=args.batch_tokens,
                                fixed_length=True, model=model, tokenizer=tokenizer)
        lengths = sorted(len(ids) for ids in tokenizer(texts)["input_ids"])
        outputs = sum(translator.new_tokens(length) for length in lengths)
        name = "tiny" if args.tiny else "NLLB-600M architecture"
        gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
        threads = f", {torch.get_num_threads()} CPU thread(s)" if device.type == "cpu" else ""
        print(f"model: {name}, random weights, {params / 1e6:.0f}M parameters, {device}{gpu}, {dtype}{threads}")
        print(f"{n} sentences: source subwords mean {sum(lengths) / n:.1f}, median {lengths[n // 2]}, "
              f"max {lengths[-1]}; {outputs} output subwords forced (naive side); beams {args.num_beams}, "
              f"engine batch size {batch_size}" + (f", {args.batch_tokens} tokens" if args.batch_tokens else ""))

        naive(translator, texts[:2])  # warm-up: CUDA context, kernels, allocator
        translator.translate(texts[:2])
        best = {}
        for run in range(args.repeat):
            for side in (("naive", "engine") if run % 2 == 0 else ("engine", "naive")):
                synchronize(device)
                started = time.perf_counter()
                if side == "naive":
                    result = naive(translator, texts)
                else:
                    translator.generate_calls = 0
                    done = translator.translate(texts)
                    result = [done[t] for t in texts]
                synchronize(device)
                seconds = time.perf_counter() - started
                calls = n if side == "naive" else translator.generate_calls
                print(f"  run {run + 1} {side:6s} {seconds:8.2f} s  {n / seconds:8.2f} sentences/s  "
                      f"({calls} generate calls)")
                if side not in best or seconds < best[side][0]:
                    best[side] = (seconds, result)
        print(f"{'side':8s} {'seconds':>9s} {'sentences/s':>12s} {'output subwords/s':>18s}")
        for side in ("naive", "engine"):
            seconds = best[side][0]
            print(f"{side:8s} {seconds:9.2f} {n / seconds:12.2f} {outputs / seconds:18.1f}")
        print(f"speed-up (engine / naive): {best['naive'][0] / best['engine'][0]:.1f}x")
        same = sum(a == b for a, b in zip(best["naive"][1], best["engine"][1]))
        print(f"identical outputs: {same}/{n} (padding changes the numerics of random weights, more so in bf16)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
