"""provenance.json: its contents, checksums of files, directories and directories with manifests, git state."""

import hashlib
import json
import os
import subprocess
import sys
import types
from datetime import datetime
from pathlib import Path

import pytest

from xstilts import provenance
from xstilts.provenance import (FILENAME, Recorder, checksum, git_state, manifest, manifest_digest,
                                read_provenance, write_provenance)

REPO = Path(__file__).resolve().parents[2]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def expected_digest(files: dict[str, bytes]) -> str:
    lines = "".join(f"{rel}\0{sha(files[rel])}\n" for rel in sorted(files))
    return sha(lines.encode())


@pytest.fixture
def hashed(monkeypatch):
    """The relative paths of the files actually read for a checksum."""
    paths = []
    real = provenance.file_sha256

    def counting(path):
        paths.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(provenance, "file_sha256", counting)
    return paths


def test_record_holds_config_seed_packages_git_inputs_times_hardware_and_outputs(tmp_path):
    data = make_tree(tmp_path / "in", {"train.jsonl": b'{"a": 1}\n'})
    model = make_tree(tmp_path / "model", {"w.bin": b"weights", "sub/config.json": b"{}"})
    recorder = Recorder({"lr": 1e-3, "tasks": {"mnli": {"max_length": 64}}, "path": tmp_path},
                        seed=7, inputs={"data": data / "train.jsonl", "init": model}, rule="finetune")
    out = make_tree(tmp_path / "out", {"model.safetensors": b"trained", "heads/heads.json": b"[]"})
    written = recorder.write(out)

    record = json.loads((out / FILENAME).read_text())
    assert record == written  # JSON round-trips
    assert record["format"] == provenance.FORMAT
    assert record["config"] == {"lr": 1e-3, "tasks": {"mnli": {"max_length": 64}}, "path": str(tmp_path)}
    assert record["seed"] == 7 and record["rule"] == "finetune"
    assert record["command"]
    import numpy
    assert record["packages"]["numpy"] == numpy.__version__
    assert record["packages"]["xstilts"]
    assert record["git"]["root"] == str(REPO) and len(record["git"]["commit"]) == 40
    assert isinstance(record["git"]["dirty"], bool)
    assert record["inputs"] == {
        "data": {"path": str(data / "train.jsonl"), "sha256": sha(b'{"a": 1}\n')},
        "init": {"path": str(model), "sha256": expected_digest({"w.bin": b"weights", "sub/config.json": b"{}"})},
    }
    assert record["outputs"] == {"model.safetensors": sha(b"trained"), "heads/heads.json": sha(b"[]")}
    hardware = record["hardware"]
    assert hardware["hostname"] and hardware["cpu"] and hardware["cores"] == os.cpu_count()
    assert hardware["memory_bytes"] > 0
    started, finished = (datetime.fromisoformat(record[k]) for k in ("started", "finished"))
    assert started.utcoffset().total_seconds() == 0
    assert started <= finished


def test_writing_at_the_start_leaves_finished_and_outputs_out(tmp_path):
    record = Recorder({}).write(tmp_path / "run", outputs=False, finished=False)
    assert record["finished"] is None and "outputs" not in record
    assert read_provenance(tmp_path / "run") == record


def test_write_provenance_starts_when_the_process_started(tmp_path):
    record = write_provenance(tmp_path, {"languages": ["de"]}, inputs={"f": make_tree(tmp_path, {"f": b"x"}) / "f"})
    started, finished = (datetime.fromisoformat(record[k]) for k in ("started", "finished"))
    assert started < finished
    ps = subprocess.run(["ps", "-o", "etimes=", "-p", str(os.getpid())], capture_output=True, text=True)
    if ps.returncode == 0:  # the process's age agrees with `ps` (to a couple of seconds)
        assert abs((finished - started).total_seconds() - int(ps.stdout)) < 3
    assert record["outputs"] == {"f": sha(b"x")}


def test_file_checksum_is_the_sha256_of_its_bytes(tmp_path):
    (tmp_path / "f").write_bytes(b"\x00" * 5_000_000 + b"end")
    assert checksum(tmp_path / "f") == sha(b"\x00" * 5_000_000 + b"end")


def test_directory_checksum_covers_names_and_contents_but_not_snakemake_timestamps(tmp_path):
    files = {"a.txt": b"a", "b/c.txt": b"c", "b/d/e.bin": b"e"}
    tree = make_tree(tmp_path / "t", files)
    assert checksum(tree) == expected_digest(files)
    (tree / ".snakemake_timestamp").touch()
    assert checksum(tree) == expected_digest(files)
    (tree / "b/c.txt").write_bytes(b"C")
    assert checksum(tree) != expected_digest(files)
    (tree / "b/c.txt").write_bytes(b"c")
    (tree / "b/c.txt").rename(tree / "b/renamed.txt")
    assert checksum(tree) != expected_digest(files)


def test_missing_input_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Recorder({}, inputs={"model": tmp_path / "nowhere"}).write(tmp_path / "out")


def test_a_producers_manifest_stands_for_its_files(tmp_path, hashed, caplog):
    files = {"model.safetensors": b"w" * 1000, "config.json": b"{}", "tok/spm.model": b"s"}
    out = make_tree(tmp_path / "model", files)
    Recorder({"seed": 1}).write(out)
    assert sorted(hashed) == ["config.json", "model.safetensors", "spm.model"]  # the producer hashes once
    (out / ".snakemake_timestamp").touch()  # Snakemake adds it after the job

    hashed.clear()
    assert checksum(out) == expected_digest(files)  # the same number as hashing the files
    assert hashed == []  # ...without reading them

    # a manifest that no longer names exactly the files present is not trusted
    (out / "extra.txt").write_bytes(b"x")
    assert checksum(out) == expected_digest({**files, "extra.txt": b"x"})
    assert sorted(hashed) == ["config.json", "extra.txt", "model.safetensors", "spm.model"]
    assert f"{out / FILENAME}: its outputs manifest does not match the files present" in caplog.text


def test_a_record_without_outputs_leaves_the_files_to_be_hashed(tmp_path, caplog):
    files = {"checkpoint-10/optimizer.pt": b"o"}
    run_dir = make_tree(tmp_path / "run", files)
    Recorder({}).write(run_dir, outputs=False, finished=False)
    assert checksum(run_dir) == expected_digest(files)
    assert "manifest" not in caplog.text


def test_nested_manifests_are_used_for_their_subdirectories(tmp_path, hashed):
    seed_dir = tmp_path / "seed1"
    for task in ("xnli", "panx"):
        make_tree(seed_dir / task, {"test-en.tsv": task.encode(), "test-de.tsv": b"de"})
        write_provenance(seed_dir / task, {})
    make_tree(seed_dir, {"notes.txt": b"n"})
    hashed.clear()
    files = {f"{task}/test-{lang}.tsv": (task.encode() if lang == "en" else b"de")
             for task in ("xnli", "panx") for lang in ("en", "de")}
    assert checksum(seed_dir) == expected_digest({**files, "notes.txt": b"n"})
    assert hashed == ["notes.txt"]
    assert manifest(seed_dir) == manifest(seed_dir, reuse=False)


def test_a_provenance_json_not_written_by_us_is_an_ordinary_file(tmp_path):
    files = {FILENAME: b'{"outputs": {}}', "a": b"a"}
    assert checksum(make_tree(tmp_path, files)) == expected_digest(files)


def test_symlinks_are_followed_but_a_loop_is_not(tmp_path):
    make_tree(tmp_path / "blobs", {"x": b"x"})
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "model.bin").symlink_to(tmp_path / "blobs" / "x")
    (snapshot / "loop").symlink_to(snapshot)
    assert manifest(snapshot) == {"model.bin": sha(b"x")}


def test_manifest_digest_does_not_depend_on_order():
    assert manifest_digest({"a": "1", "b": "2"}) == manifest_digest({"b": "2", "a": "1"})


def test_config_that_json_cannot_hold_is_refused_naming_the_key():
    with pytest.raises(TypeError, match=r"config\.tasks\.mnli\.bad is a set"):
        Recorder({"tasks": {"mnli": {"bad": {1}}}})


def test_resumed_work_keeps_the_earlier_attempts(tmp_path):
    run_dir = tmp_path / "run"
    first = Recorder({"seed": 1}, seed=1)
    first.write(run_dir, outputs=False, finished=False)
    second = Recorder({"seed": 1}, seed=1)
    second.continue_from(run_dir)
    second.write(run_dir, outputs=False, finished=False)
    third = Recorder({"seed": 1}, seed=1)
    third.continue_from(run_dir)
    final = third.write(tmp_path / "model")
    assert [a["started"] for a in final["earlier_attempts"]] == [first.record(None)["started"],
                                                                 second.record(None)["started"]]
    assert all("earlier_attempts" not in a for a in final["earlier_attempts"])
    fresh = Recorder({})
    fresh.continue_from(tmp_path / "nothing-here")
    assert "earlier_attempts" not in fresh.write(tmp_path / "fresh")


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_git_state_reports_commit_and_dirty_tracked_files_only(tmp_path):
    repo = tmp_path / "repo"
    make_tree(repo, {"src/pkg/__init__.py": b"x = 1\n"})
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    start = repo / "src" / "pkg"
    assert git_state(start) == {"root": str(repo.resolve()), "commit": head, "dirty": False}
    (repo / "untracked.txt").write_text("new")
    assert git_state(start)["dirty"] is False
    (start / "__init__.py").write_text("x = 2\n")
    assert git_state(start) == {"root": str(repo.resolve()), "commit": head, "dirty": True}


def test_git_state_is_null_outside_a_checkout_and_for_an_installed_copy(tmp_path):
    assert git_state(make_tree(tmp_path / "plain", {"a": b""})) is None
    inside = make_tree(tmp_path / "repo", {".git/HEAD": b"", "venv/lib/site-packages/xstilts/__init__.py": b""})
    assert git_state(inside / "venv/lib/site-packages/xstilts") is None


def test_git_failure_is_recorded_not_raised(tmp_path):
    broken = make_tree(tmp_path / "broken", {".git/not-a-repo": b""})
    state = git_state(broken)
    assert state["commit"] is None and state["dirty"] is None and "git rev-parse HEAD exited" in state["error"]


def test_gpus_are_listed_only_when_torch_is_already_imported(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert provenance.hardware()["gpus"] is None
    cuda = types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 2,
                                 get_device_name=lambda i: f"NVIDIA H100 #{i}")
    fake_torch = types.SimpleNamespace(cuda=cuda, version=types.SimpleNamespace(cuda="12.8"))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[01-02]")
    info = provenance.hardware()
    assert info["gpus"] == {"count": 2, "names": ["NVIDIA H100 #0", "NVIDIA H100 #1"], "cuda": "12.8",
                            "visible_devices": "0,1"}
    assert info["slurm"]["job_id"] == "4242" and info["slurm"]["node_list"] == "gpu[01-02]"


def test_importing_provenance_does_not_import_torch():
    code = "import sys, xstilts.provenance; print('torch' in sys.modules, 'transformers' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert done.stdout.split() == ["False", "False"]
