"""Translation throughput: our engine (length-sorted batches) vs a naive loop (one sentence per `generate`).

Sides (--sides, all by default):
  naive          one sentence per transformers `generate` call: tokenize, generate, decode, as a simple loop does
  transformers   our engine with the transformers backend: the same model, batched and length-sorted
  ctranslate2    our engine with its default backend: the model converted to CTranslate2 (converted here, not
                 timed), batched; `ctranslate2:float32` etc. pick a compute type, plain `ctranslate2` takes the
                 engine's default ("auto": int8 weights on a CPU, bf16 on a GPU)

Every side translates the same N English sentences with the same weights on the same device, with the same beam
search, and produces at least the same number of output subwords per sentence: the model has random weights,
which never end a sentence, so every output is forced to a fixed length (min = max new tokens = ceil(
--length-ratio x source length); for the engine, x the longest source of its batch, which only makes the
engine do more work). Tokenization and decoding are timed on every side.

Model (default): the architecture of facebook/nllb-200-distilled-600M (M2M100: 12 + 12 layers, d_model 1024,
FFN 4096, 16 heads, vocabulary 256,206), written out here, with random weights and no download; the tokenizer is
a stand-in (a SentencePiece trained on the demo's word lists, xstilts.tiny_mt), since throughput depends on
sequence lengths and batching, not on the pieces. `--tiny` is a small model (d_model 256, 2 + 2 layers,
vocabulary 32,000). GPU (bf16, or fp16 where bf16 is unsupported) when there is one, else CPU (fp32) for the
transformers sides.

Sentences: demo words, names and numbers, with word counts drawn from a log-normal around 18 words (3 to 90),
roughly the length of SQuAD context sentences and MNLI premises; the printout gives the subword lengths.

    .venv/bin/python bench/translate_throughput.py                        # GPU: NLLB-600M size, 160 sentences
    .venv/bin/python bench/translate_throughput.py --n 24 --batch-size 8 --threads 2   # CPU: ~6 minutes
    .venv/bin/python bench/translate_throughput.py --tiny --sides naive,ctranslate2,ctranslate2:float32

Goal: engine >= 5x naive (bench/README.md has the figures).
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


def convert(model, tokenizer, workdir: Path) -> Path:
    """The random model saved and converted to CTranslate2, as the pipeline's mt_model_ctranslate2 rule does."""
    from xstilts.translation.convert import convert_model

    model.save_pretrained(workdir / "hf")
    tokenizer.save_pretrained(workdir / "hf")
    return convert_model(workdir / "hf", workdir / "ctranslate2", "m2m100")[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="a small model instead of NLLB-600M's size")
    parser.add_argument("--sides", default="naive,transformers,ctranslate2",
                        help="comma-separated: naive, transformers, ctranslate2[:compute_type]")
    parser.add_argument("--n", type=int, default=None, help="sentences (default 160 on a GPU, 96 on a CPU)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="engine: segments per batch (default 64 on a GPU, 16 on a CPU)")
    parser.add_argument("--batch-tokens", type=int, default=None, help="engine: padded source subwords per batch")
    parser.add_argument("--num-beams", type=int, default=4, help="beam size on every side (config default: 4)")
    parser.add_argument("--length-ratio", type=float, default=1.1,
                        help="output subwords per source subword, forced on every side")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch and CTranslate2 (default on a CPU: 1; on a shared machine more "
                             "threads spin-wait and make every side erratic)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    from xstilts.translation.engine import Translator

    sides = args.sides.split(",")
    unknown = [side for side in sides if side.split(":")[0] not in ("naive", "transformers", "ctranslate2")]
    if unknown or "naive" not in sides:
        parser.error(f"--sides needs naive and knows naive, transformers, ctranslate2[:type]; got {args.sides}")
    with tempfile.TemporaryDirectory() as tmp:
        model, tokenizer, device, dtype, params = build(args, Path(tmp))
        if args.threads or device.type == "cpu":
            torch.set_num_threads(args.threads or 1)
        n = args.n or (160 if device.type == "cuda" else 96)
        batch_size = args.batch_size or (64 if device.type == "cuda" else 16)
        texts = sentences(n, args.seed)
        settings = {"family": "m2m100", "path": "(random weights)", "num_beams": args.num_beams, "max_length": 1024,
                    "length_ratio": args.length_ratio, "length_margin": 0}
        translators = {"naive": Translator(settings, "en", "de", fixed_length=True, model=model, tokenizer=tokenizer)}
        converted = convert(model, tokenizer, Path(tmp)) if any(s.startswith("ctranslate2") for s in sides) else None
        for side in sides:
            if side == "transformers":
                translators[side] = Translator(settings, "en", "de", batch_size=batch_size,
                                               batch_tokens=args.batch_tokens, fixed_length=True, model=model,
                                               tokenizer=tokenizer)
            elif side.startswith("ctranslate2"):
                compute_type = side.partition(":")[2] or "auto"
                translators[side] = Translator({**settings, "backend": "ctranslate2", "compute_type": compute_type},
                                               "en", "de", converted_dir=converted, batch_size=batch_size,
                                               batch_tokens=args.batch_tokens, device=device.type, fixed_length=True,
                                               tokenizer=tokenizer)
        naive_side = translators["naive"]
        lengths = sorted(len(ids) for ids in tokenizer(texts)["input_ids"])
        outputs = sum(naive_side.new_tokens(length) for length in lengths)
        name = "tiny" if args.tiny else "NLLB-600M architecture"
        gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
        threads = f", {torch.get_num_threads()} CPU thread(s)" if device.type == "cpu" else ""
        print(f"model: {name}, random weights, {params / 1e6:.0f}M parameters, {device}{gpu}, {dtype}{threads}")
        print(f"{n} sentences: source subwords mean {sum(lengths) / n:.1f}, median {lengths[n // 2]}, "
              f"max {lengths[-1]}; {outputs} output subwords forced (naive side); beams {args.num_beams}, "
              f"engine batch size {batch_size}" + (f", {args.batch_tokens} tokens" if args.batch_tokens else ""))
        for side in sides:
            if side.startswith("ctranslate2"):
                print(f"{side}: CTranslate2 compute type {translators[side].model.compute_type}")

        def run(side) -> int:
            """Translate every sentence on one side; the number of decoding calls it took."""
            if side == "naive":
                naive(naive_side, texts)
                return n
            translator = translators[side]
            translator.generate_calls = 0
            translator.translate(texts)
            return translator.generate_calls

        for side in sides:  # warm-up: CUDA context, kernels, allocator, lazily loaded weights
            if side == "naive":
                naive(naive_side, texts[:2])
            else:
                translators[side].translate(texts[:2])
        best = {}
        for repeat in range(args.repeat):
            for side in sides if repeat % 2 == 0 else reversed(sides):
                synchronize(device)
                started = time.perf_counter()
                calls = run(side)
                synchronize(device)
                seconds = time.perf_counter() - started
                print(f"  run {repeat + 1} {side:20s} {seconds:8.2f} s  {n / seconds:8.2f} sentences/s  "
                      f"({calls} decoding calls)", flush=True)
                best[side] = min(seconds, best.get(side, seconds))
        # no comparison of texts: the engine's outputs are forced to its batch's length, not the sentence's; on
        # trained models tests/test_translation.py checks that the backends translate alike
        print(f"{'side':20s} {'seconds':>9s} {'sentences/s':>12s} {'output subwords/s':>18s} {'vs naive':>9s}")
        for side in sides:
            seconds = best[side]
            print(f"{side:20s} {seconds:9.2f} {n / seconds:12.2f} {outputs / seconds:18.1f} "
                  f"{best['naive'] / seconds:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
