import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# nothing may reach the network: models and data are built offline
for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(var, "1")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """The demo's raw-file mirror and tiny model, built once per test session."""
    from xstilts.demo import build_demo

    out = tmp_path_factory.mktemp("demo")
    build_demo(out)
    return out


@pytest.fixture(scope="session")
def tokenizer(demo_dir):
    """The tiny model's tokenizer (SentencePiece trained on the demo text)."""
    from xstilts.model import load_tokenizer

    return load_tokenizer(demo_dir / "tiny-xlmr")


@pytest.fixture(scope="session")
def prepared(demo_dir, tmp_path_factory):
    """prepared(task, lang, split) -> path of that split's JSONL, prepared from the demo mirror."""
    from xstilts.prepare import prepare
    from xstilts.tasks import get_task

    root = tmp_path_factory.mktemp("prepared")

    def path(task, lang, split):
        out = root / task / lang / f"{split}.jsonl"
        if not out.exists():
            raw = {s.name: demo_dir / "mirror" / s.name / s.filename for s in get_task(task).sources_for(lang, split)}
            prepare(task, lang, split, raw, out)
        return out

    return path


def run_train(*args, check=True):
    """`python -m xstilts train ...` in a fresh process, as the pipeline runs it."""
    result = subprocess.run([sys.executable, "-m", "xstilts", "train", *map(str, args)], capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    if check and result.returncode != 0:
        raise AssertionError(f"train exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result
