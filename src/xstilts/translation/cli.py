"""The translation jobs' command lines (rules/translate.smk):

    python -m xstilts translate --task T --lang L --shard K --input EN_TRAIN.jsonl --model MODEL_DIR \
        --settings JSON --output SHARD.jsonl --stats SHARD.stats.json --checkpoints DIR [--batch-size N]
    python -m xstilts translation-quality --task T --lang L --shards S0.jsonl ... --stats S0.stats.json ... \
        --model MODEL_DIR --settings JSON --quality JSON --report quality.json [--batch-size N]
    python -m xstilts convert-mt --model MODEL_DIR --family F --output CONVERTED_DIR

The first two take --converted CONVERTED_DIR, the model as convert-mt wrote it, for the ctranslate2 backend
(the default; the tokenizer still comes from --model).

--settings is the model's config entry plus decoding and sharding settings (Grid.translation_settings), as
JSON; --quality the thresholds (translation.quality). Batch size only changes speed. Errors a user can fix
(a language the model lacks, an untranslatable task, a missed quality threshold) exit 1 with one message.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True)
    parser.add_argument("--lang", required=True, help="target language (XTREME's ISO code)")
    parser.add_argument("--model", type=Path, default=None,
                        help="local copy of the MT model (default: the settings' path or hf_id)")
    parser.add_argument("--converted", type=Path, default=None,
                        help="the model converted to CTranslate2 (convert-mt), for the ctranslate2 backend")
    parser.add_argument("--settings", type=json.loads, required=True, help="model entry and decoding settings (JSON)")
    parser.add_argument("--batch-size", type=int, default=64, help="segments per generate call")
    parser.add_argument("--batch-tokens", type=int, default=None, help="at most this many padded subwords per batch")


def _run(function, **kwargs) -> int:
    from .engine import TranslationModelError
    from .records import UntranslatableError
    from .shard import QualityError

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        function(**kwargs)
    except (QualityError, UntranslatableError, TranslationModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def translate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xstilts translate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser)
    parser.add_argument("--shard", type=int, required=True, help="shard index (from 0)")
    parser.add_argument("--input", type=Path, required=True, help="the task's English training records (JSONL)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True, help="this job's own progress directory")
    args = parser.parse_args(argv)
    from .shard import translate_shard

    return _run(translate_shard, records_path=args.input, task=args.task, lang=args.lang, shard=args.shard,
                settings=args.settings, output=args.output, stats_output=args.stats, checkpoints=args.checkpoints,
                model_dir=args.model, converted_dir=args.converted, batch_size=args.batch_size,
                batch_tokens=args.batch_tokens)


def quality_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xstilts translation-quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser)
    parser.add_argument("--shards", type=Path, nargs="+", required=True, help="the translated shard files")
    parser.add_argument("--stats", type=Path, nargs="+", required=True, help="their statistics, in the same order")
    parser.add_argument("--quality", type=json.loads, default={}, help="thresholds and sample size (JSON)")
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    from .shard import check_quality

    return _run(check_quality, shard_outputs=args.shards, stats_files=args.stats, task=args.task, lang=args.lang,
                settings=args.settings, quality=args.quality, report=args.report, model_dir=args.model,
                converted_dir=args.converted, batch_size=args.batch_size, batch_tokens=args.batch_tokens)


def convert_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="xstilts convert-mt", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True,
                        help="local copy of the transformers model (marian: the folder of <src>-<tgt>/ models)")
    parser.add_argument("--family", required=True, help="the model's family (nllb, m2m100, madlad, marian)")
    parser.add_argument("--output", type=Path, required=True, help="where the CTranslate2 model goes")
    args = parser.parse_args(argv)
    from .convert import convert_model

    return _run(convert_model, model_dir=args.model, output_dir=args.output, family=args.family)
