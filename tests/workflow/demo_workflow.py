"""The embedded demo through Snakemake, run once per test session and shared by the workflow tests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def snakemake(workdir, *args):
    """`snakemake --profile profiles/demo` in `workdir`; fails the test with the end of its log."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "--profile", "profiles/demo", "--directory",
                             str(workdir), *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=1800)
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} exited {result.returncode}:\n{result.stderr[-6000:]}")
    return result


@pytest.fixture(scope="session")
def demo_run(demo_dir):
    snakemake(demo_dir)
    return demo_dir
