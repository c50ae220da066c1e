"""Command line: `python -m xstilts <command>`.

  train       the training entry point (see xstilts.train)
  demo-data   build the embedded demo's raw-file mirror and tiny model (see xstilts.demo)
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
    parser = argparse.ArgumentParser(prog="xstilts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo-data", help="build the demo's raw-file mirror and tiny model")
    demo.add_argument("out", type=Path)
    commands.add_parser("train", help="train a model (python -m xstilts train --help)")
    args = parser.parse_args(argv)
    if args.command == "demo-data":
        from .demo import build_demo

        build_demo(args.out)
        print(f"demo data and tiny model in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
