"""Provenance: a `provenance.json` in every checkpoint run directory, model, prediction and score directory.

It records what produced the directory: the job's config slice and seed, the versions of the packages that
shape results, the git commit (and whether the working tree had uncommitted changes) of the checkout the
xstilts package runs from, checksums of the inputs, start and end time (ISO 8601, UTC), the hardware and the
command or Snakemake rule. The producer also records the sha256 of every file it wrote (`outputs`), once, so
a later job that reads the directory as an input checksums it from that manifest instead of re-reading
gigabytes of weights.

Checksums (sha256, hex):
- a file: of its bytes;
- a directory: of its sorted lines `<relative path>\\0<file sha256>\\n` over every file below it, leaving
  out our own provenance.json files and Snakemake's `.snakemake_timestamp`. A directory (or subdirectory)
  holding a provenance.json of ours supplies its files' checksums from its `outputs` when that manifest
  names exactly the files present; otherwise the files are hashed. Either way the result is the same
  number for the same content.

The file is written inside a rule's output directory, never as a param, so it does not take part in
Snakemake's rerun decisions. Standard library only: importing this module must stay cheap (it must not
import torch; GPUs are listed only when the process has imported torch already).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from .jsonl import write_json

log = logging.getLogger(__name__)

FILENAME = "provenance.json"
FORMAT = "xstilts-provenance/1"
# Snakemake's mtime carrier inside directory outputs, touched after the job: not part of the content
IGNORED_NAMES = frozenset({".snakemake_timestamp"})
PACKAGES = ("xstilts", "torch", "transformers", "accelerate", "deepspeed", "tokenizers", "safetensors",
            "datasets", "sentencepiece", "numpy", "snakemake", "sacrebleu", "ctranslate2", "faiss-cpu")
SLURM_VARIABLES = {"job_id": "SLURM_JOB_ID", "node_list": "SLURM_JOB_NODELIST", "partition": "SLURM_JOB_PARTITION",
                   "ntasks": "SLURM_NTASKS"}
GIT_TIMEOUT_S = 60

_IMPORTED = time.time()


def iso(timestamp: float | None) -> str | None:
    """A Unix time as ISO 8601 in UTC, to the millisecond."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_provenance(directory: Path) -> dict | None:
    """The provenance record in `directory`, or None when it holds none written by this module."""
    path = Path(directory) / FILENAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("format") == FORMAT else None


def _walk(root: Path) -> tuple[list[str], dict[str, dict]]:
    """Files below `root` as sorted POSIX relative paths, without our provenance files and Snakemake's
    timestamps; and the provenance records found, by the relative path of their directory ("" for root).
    Symbolic links are followed (a Hugging Face cache snapshot is made of them), except a link back to a
    directory above it."""
    files, records = [], {}
    stack = [(root, "", frozenset())]
    while stack:
        directory, prefix, above = stack.pop()
        real = os.path.realpath(directory)
        if real in above:
            continue
        record = read_provenance(directory)
        if record is not None:
            records[prefix] = record
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                if entry.is_dir():
                    stack.append((Path(entry.path), rel + "/", above | {real}))
                elif entry.name in IGNORED_NAMES or (entry.name == FILENAME and record is not None):
                    continue
                elif entry.is_file():
                    files.append(rel)
    return sorted(files), records


def manifest(directory: Path, reuse: bool = True) -> dict[str, str]:
    """sha256 of every file below `directory`, by POSIX relative path (our provenance files and Snakemake's
    timestamps left out). With `reuse`, the `outputs` of a provenance.json that names exactly the files of its
    directory stand for hashing them; a producer recording its own outputs passes reuse=False."""
    directory = Path(directory)
    files, records = _walk(directory)
    known: dict[str, str] = {}
    if reuse:
        # deepest first, so an enclosing manifest that is still exact has the last word
        for prefix in sorted(records, key=lambda p: p.count("/"), reverse=True):
            outputs = records[prefix].get("outputs")
            below = {f[len(prefix):] for f in files if f.startswith(prefix)}
            if isinstance(outputs, dict) and set(outputs) == below:
                known.update({prefix + name: sha for name, sha in outputs.items()})
            elif outputs is not None:
                log.warning("%s: its outputs manifest does not match the files present; hashing them",
                            directory / prefix / FILENAME)
    return {rel: known.get(rel) or file_sha256(directory / rel) for rel in files}


def manifest_digest(files: Mapping[str, str]) -> str:
    """The checksum of a directory from its manifest (relative path -> file sha256)."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()


def checksum(path: Path) -> str:
    """sha256 of a file, or of a directory's manifest (see the module's docstring)."""
    path = Path(path)
    if path.is_dir():
        return manifest_digest(manifest(path))
    if path.is_file():
        return file_sha256(path)
    raise FileNotFoundError(f"provenance: input {path} does not exist")


def git_state(start: Path) -> dict | None:
    """The git checkout holding `start`: its root, commit and whether tracked files have uncommitted changes
    (untracked files do not count). None when `start` is not in a checkout, or is an installed copy of the
    package (under site-packages); `error` says why git could not answer."""
    start = Path(start).resolve()
    root = None
    for parent in [start, *start.parents]:
        if parent.name in ("site-packages", "dist-packages"):
            return None
        if (parent / ".git").exists():
            root = parent
            break
    if root is None:
        return None

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return {"root": str(root), "commit": None, "dirty": None, "error": str(e)}
    return {"root": str(root), "commit": commit, "dirty": dirty}


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of `names` (distribution names); packages that are not installed are left out."""
    import importlib.metadata  # here, not at the top: it takes longer to import than the rest of this module

    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _gpus() -> dict | None:
    """CUDA devices, only if this process has imported torch already (importing it here would cost seconds)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if not torch.cuda.is_available():
        return {"count": 0, "names": []}
    count = torch.cuda.device_count()
    return {"count": count, "names": [torch.cuda.get_device_name(i) for i in range(count)],
            "cuda": torch.version.cuda, "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}


def hardware() -> dict:
    info = {"hostname": socket.gethostname(), "platform": platform.platform(), "cpu": _cpu_model(),
            "cores": os.cpu_count(), "memory_bytes": _memory_bytes(), "gpus": _gpus()}
    if hasattr(os, "sched_getaffinity"):
        info["cores_available"] = len(os.sched_getaffinity(0))
    slurm = {key: os.environ[var] for key, var in SLURM_VARIABLES.items() if os.environ.get(var)}
    if slurm:
        info["slurm"] = slurm
    return info


def process_started() -> float:
    """When this process started (Linux: from /proc), else when this module was imported. A pipeline job is
    one process, so this is when the job started."""
    try:
        with open("/proc/self/stat", encoding="utf-8") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime, after "pid (comm)"
        with open("/proc/stat", encoding="utf-8") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _IMPORTED


def _plain(value, where: str):
    """`value` as JSON-ready data: paths become strings; anything else that JSON cannot hold is an error."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"provenance: {where} is a {type(value).__name__}, which JSON cannot hold")


class Recorder:
    """One job's provenance. Create it when the job starts (that time is `started`); `write(directory)` when
    its output is complete (that time is `finished`). Inputs are checksummed at the first write and kept, so
    only the process that writes pays for them.

        recorder = Recorder(config, seed=1, inputs={"model": model_dir, "en": test_file}, rule="predict")
        ...  # the job's work
        recorder.write(out_dir)
    """

    def __init__(self, config: Mapping, *, seed: int | None = None, inputs: Mapping[str, Path] | None = None,
                 rule: str | None = None, started: float | None = None):
        self.started = time.time() if started is None else started
        self.config = _plain(config, "config")
        self.seed = seed
        self.inputs = {name: Path(path) for name, path in (inputs or {}).items()}
        self.rule = rule
        self.earlier_attempts: list[dict] = []
        self._input_checksums: dict | None = None

    def input_checksums(self) -> dict[str, dict]:
        if self._input_checksums is None:
            self._input_checksums = {name: {"path": str(path), "sha256": checksum(path)}
                                     for name, path in self.inputs.items()}
        return self._input_checksums

    def continue_from(self, directory: Path) -> None:
        """This job resumes work begun by earlier attempts that recorded themselves in `directory`: keep their
        records (without their outputs) under `earlier_attempts`."""
        record = read_provenance(directory)
        if record is None:
            return
        earlier = record.pop("earlier_attempts", [])
        record.pop("outputs", None)
        self.earlier_attempts = [*earlier, record]

    def record(self, finished: float | None) -> dict:
        record = {
            "format": FORMAT,
            "config": self.config,
            "seed": self.seed,
            "rule": self.rule,
            "command": shlex.join(getattr(sys, "orig_argv", sys.argv)),
            "python": platform.python_version(),
            "packages": package_versions(),
            "git": git_state(Path(__file__).parent),
            "inputs": self.input_checksums(),
            "started": iso(self.started),
            "finished": iso(finished),
            "hardware": hardware(),
        }
        if self.earlier_attempts:
            record["earlier_attempts"] = self.earlier_attempts
        return record

    def write(self, directory: Path, outputs: bool = True, finished: bool = True) -> dict:
        """Write `directory`/provenance.json and return the record. `outputs`: checksum every file in
        `directory` into the record (the producer's manifest; leave it out for a directory still being
        written, such as a checkpoint run directory). `finished`: record now as the end time (leave it out
        when writing at the start of the work)."""
        directory = Path(directory)
        record = self.record(time.time() if finished else None)
        if outputs:
            record["outputs"] = manifest(directory, reuse=False) if directory.is_dir() else {}
        write_json(directory / FILENAME, record)
        return record


def write_provenance(directory: Path, config: Mapping, *, inputs: Mapping[str, Path] | None = None,
                     seed: int | None = None, rule: str | None = None, started: float | None = None) -> dict:
    """Record a finished job's provenance in `directory` in one call: `started` defaults to when this process
    started (a Snakemake `script:` job runs in a process of its own)."""
    recorder = Recorder(config, seed=seed, inputs=inputs, rule=rule,
                        started=process_started() if started is None else started)
    return recorder.write(directory)
