"""What CTranslate2's int8 weights (compute_type auto on a CPU) cost in translation quality, on the tiny trained
MT model (xstilts.tiny_mt, built here in about 20 s): chrF against the reference translations and how many
translations are identical to fp32 `generate`, for transformers fp32, CTranslate2 int8 and CTranslate2 fp32.

    .venv/bin/python bench/translate_int8_quality.py            # 500 sentences into de and ru, 4 beams
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

SIDES = {"transformers fp32": {"backend": "transformers", "compute_type": "float32"},
         "ctranslate2 int8": {"backend": "ctranslate2", "compute_type": "int8"},
         "ctranslate2 fp32": {"backend": "ctranslate2", "compute_type": "float32"}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="sentences per language")
    parser.add_argument("--num-beams", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11, help="seed of the sentences (the model is built with 0)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import sacrebleu
    import torch

    from xstilts.tiny_mt import build_tiny_mt, parallel_sentences
    from xstilts.translation.convert import convert_model
    from xstilts.translation.engine import Translator

    torch.set_num_threads(1)
    pairs = parallel_sentences(args.seed, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_mt(Path(tmp) / "tiny-mt")
        (converted,) = convert_model(model, Path(tmp) / "ctranslate2", "m2m100")
        print(f"tiny MT model, {args.n} sentences, {args.num_beams} beams, CPU, 1 thread")
        print(f"{'into':5s} {'side':18s} {'chrF':>6s} {'identical to fp32 generate':>27s}")
        for tgt in ("de", "ru"):
            texts, references = [p["en"] for p in pairs], [p[tgt] for p in pairs]
            outputs = {}
            for side, backend in SIDES.items():
                settings = {"family": "m2m100", "path": str(model), "num_beams": args.num_beams, "max_length": 64,
                            **backend}
                done = Translator(settings, "en", tgt, converted_dir=converted).translate(texts)
                outputs[side] = [done[t] for t in texts]
                same = sum(a == b for a, b in zip(outputs["transformers fp32"], outputs[side]))
                chrf = sacrebleu.corpus_chrf(outputs[side], [references]).score
                print(f"{tgt:5s} {side:18s} {chrf:6.2f} {same:>21d}/{len(texts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
