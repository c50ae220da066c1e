"""Command line: `python -m xstilts <command>`.

  train       the training entry point (see xstilts.train)
  plan        GPU memory per model and ZeRO stage, and the GPU-hours of the configured grid (see xstilts.plan)
  demo-data   build the embedded demo's raw-file mirror and tiny model (see xstilts.demo)
  translate            translate one shard of an English training set (see xstilts.translation.cli)
  translation-quality  the quality report of a translated training set (see xstilts.translation.cli)
  convert-mt           convert an MT model to CTranslate2, the translation backend (see xstilts.translation.cli)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "train":
        from .train import main as train_main

        return train_main(argv[1:])
    if argv and argv[0] in ("translate", "translation-quality", "convert-mt"):
        from .translation.cli import convert_main, quality_main, translate_main

        commands = {"translate": translate_main, "translation-quality": quality_main, "convert-mt": convert_main}
        return commands[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(prog="xstilts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo-data", help="build the demo's raw-file mirror and tiny model")
    demo.add_argument("out", type=Path)
    commands.add_parser("train", help="train a model (python -m xstilts train --help)")
    commands.add_parser("translate", help="translate one shard (python -m xstilts translate --help)")
    commands.add_parser("translation-quality",
                        help="check a translation (python -m xstilts translation-quality --help)")
    commands.add_parser("convert-mt", help="convert an MT model to CTranslate2 (python -m xstilts convert-mt --help)")
    plan = commands.add_parser("plan", help="memory and GPU-hours of the configured grid, before submitting")
    plan.add_argument("--config", type=Path, default=Path("config.yaml"))
    args = parser.parse_args(argv)
    if args.command == "plan":
        from .config import load_config
        from .plan import report

        print(report(load_config(args.config)))
    if args.command == "demo-data":
        from .demo import build_demo

        build_demo(args.out)
        print(f"demo data and tiny model in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
