"""The one training entry point: intermediate training (one or several tasks) and target fine-tuning.

    python -m xstilts train --init MODEL_DIR --data TASK=FILE [TASK=FILE ...] --output DIR \
        --checkpoints DIR --config JSON

Single process (the demo, one GPU): run it directly. Several GPUs or nodes: start one process per GPU with
`srun` (rules/train.smk does this); xstilts.launch maps the Slurm variables. The HF Trainer runs the loop
with the DeepSpeed JSON named by `config.deepspeed` (files in xstilts/deepspeed/).

Checkpoints go to `--checkpoints/<fingerprint>/`, outside the Snakemake outputs (Snakemake deletes outputs
before a job and after a failure), keyed by a fingerprint of everything that shapes training, so a rerun of
the same job resumes from its last checkpoint and a changed job never resumes a stale one. The final model is
written to `--output` in the layout of xstilts.model, then the checkpoints are removed.

Multi-task batches: every batch holds one task. The schedule (xstilts.schedule) lays task-homogeneous blocks
of one per-device batch end to end, so the Trainer's sequential batching, sharded across ranks, never mixes
tasks; all epochs are laid out in advance, so the Trainer runs one pass and resumes mid-schedule exactly.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import shutil
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import SequentialSampler
from transformers import Trainer, TrainerCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from .jsonl import read_jsonl
from .launch import setup_distributed_env
from .model import MultiTaskModel, load_encoder, load_tokenizer
from .provenance import Recorder
from .schedule import ScheduledDataset, build_schedule, collate
from .tasks import get_task

log = logging.getLogger("xstilts.train")

# Exit status of a run stopped at its time limit after saving a checkpoint (EX_TEMPFAIL): not a success, so
# Snakemake retries the job, and the retry resumes from that checkpoint.
STOPPED_AT_TIME_LIMIT = 75


def fingerprint(init: str, data: dict[str, list[str]], config: dict) -> str:
    blob = json.dumps({"init": init, "data": data, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def deepspeed_config(name: str | None) -> dict | None:
    if not name:
        return None
    return json.loads(resources.files("xstilts.deepspeed").joinpath(f"{name}.json").read_text())


class ScheduledTrainer(Trainer):
    """Keeps the precomputed schedule's order (the default sampler would shuffle blocks apart)."""

    def _get_train_sampler(self, train_dataset=None):
        return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)


class Deadline(TrainerCallback):
    """Stops training cleanly before a time limit: after the first optimizer step that ends past `deadline`,
    the Trainer saves a checkpoint and stops. All ranks take the same decision (rank 0's clock, broadcast), so
    no rank is left waiting in a collective."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.reached = False

    def on_step_end(self, args, state, control, **kwargs):
        past = torch.tensor([float(time.time() >= self.deadline)])
        if torch.distributed.is_initialized():
            if torch.distributed.get_backend() == "nccl":
                past = past.cuda()
            torch.distributed.broadcast(past, src=0)
        if past.item():
            self.reached = True
            control.should_save = True
            control.should_training_stop = True
        return control


def run(init: Path, data: dict[str, list[Path]], output: Path, checkpoints: Path, config: dict,
        deadline: float | None = None) -> dict | None:
    """Train and write the final model to `output`; return a summary, or None when `deadline` (a Unix time)
    stopped the run early (a checkpoint was saved and `output` is not written)."""
    started = time.time()
    recorder = Recorder(config, seed=config["seed"], started=started, inputs={
        "init": init, **{f"{name}[{i}]": f for name, files in data.items() for i, f in enumerate(files)}})
    set_seed(config["seed"])
    tokenizer = load_tokenizer(init)
    features, heads, task_heads = {}, {}, {}
    for name, files in data.items():
        # a dataset is one (task, language, source) of the mix; its task (default: its name) picks the family,
        # and all datasets of a task train one head (or the shared `head` the config names)
        settings = config["tasks"][name]
        task = get_task(settings.get("task", name))
        # only the capped prefix is parsed (a CC-100 language holds ~300k lines, an MLM arm may take 10k)
        records = list(itertools.islice((r for f in files for r in read_jsonl(f)), settings.get("max_examples")))
        feats = task.family.featurize(records, tokenizer, settings, train=True)
        for f in feats:  # int32 arrays: a quarter of the memory of Python int lists on MNLI/SQuAD-sized data
            f["input_ids"] = np.asarray(f["input_ids"], dtype=np.int32)
        features[name] = feats
        head = settings.get("head", task.name)
        heads[head] = (task.family.head, task.family.num_outputs())
        task_heads[name] = head
        log.info("%s: %d records -> %d features", name, len(records), len(feats))

    schedule = build_schedule({t: len(f) for t, f in features.items()}, block=config["batch_size"],
                              epochs=config["epochs"], seed=config["seed"], sampling=config.get("sampling"))
    dataset = ScheduledDataset(features, schedule)

    run_dir = Path(checkpoints) / fingerprint(str(init), {t: [str(f) for f in fs] for t, fs in data.items()}, config)
    args = TrainingArguments(
        output_dir=str(run_dir),
        per_device_train_batch_size=config["batch_size"],
        gradient_accumulation_steps=config.get("grad_accum", 1),
        learning_rate=config["lr"],
        weight_decay=config.get("weight_decay", 0.0),
        warmup_steps=config.get("warmup", 0.0),
        max_grad_norm=config.get("max_grad_norm", 1.0),
        num_train_epochs=1,  # the schedule already spans all epochs
        lr_scheduler_type="linear",
        seed=config["seed"],
        bf16=config.get("bf16", False),
        deepspeed=deepspeed_config(config.get("deepspeed")),
        use_cpu=not torch.cuda.is_available(),
        save_strategy="steps",
        save_steps=config.get("save_steps", 500),
        save_total_limit=1,
        logging_steps=config.get("logging_steps", 50),
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        average_tokens_across_devices=False,
        dataloader_drop_last=False,
    )
    # after TrainingArguments: with ZeRO-3 they activate deepspeed.zero.Init, so weights load partitioned
    encoder = load_encoder(init)
    if config.get("gradient_checkpointing"):
        encoder.gradient_checkpointing_enable()
    model = MultiTaskModel(encoder, heads, task_heads, dropout=config.get("dropout", 0.1))

    stopper = Deadline(deadline) if deadline is not None else None
    trainer = ScheduledTrainer(model=model, args=args, train_dataset=dataset,
                               data_collator=lambda batch: collate(batch, tokenizer.pad_token_id),
                               callbacks=[stopper] if stopper else None)
    last = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    if last:
        log.info("resuming from %s", last)
    if trainer.args.should_save:  # the checkpoints' provenance, with that of the attempts they resume
        if last:
            recorder.continue_from(run_dir)
        recorder.write(run_dir, outputs=False, finished=False)
    result = trainer.train(resume_from_checkpoint=last)
    if stopper is not None and stopper.reached and result.global_step < trainer.state.max_steps:
        log.warning("time limit reached at step %d of %d; checkpoint saved in %s, rerun to resume",
                    result.global_step, trainer.state.max_steps, run_dir)
        if trainer.args.should_save:
            recorder.write(run_dir, outputs=False)
        _finish_distributed()
        return None

    state = trainer.accelerator.get_state_dict(trainer.deepspeed) if trainer.is_deepspeed_enabled else None
    summary = {"train_loss": result.training_loss, "steps": result.global_step, "resumed_from": last,
               "examples": {t: len(f) for t, f in features.items()}, "seconds": time.time() - started,
               "deepspeed": config.get("deepspeed") if trainer.is_deepspeed_enabled else None,
               "world_size": trainer.args.world_size}
    writer = trainer.args.should_save
    if writer:
        output.mkdir(parents=True, exist_ok=True)
        model.save(output, state_dict=state, tokenizer=tokenizer)
        (output / "train_summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
        if not config.get("keep_checkpoints"):
            shutil.rmtree(run_dir, ignore_errors=True)
    _finish_distributed()
    if writer:  # after the other ranks have exited: checksumming the weights takes a while for large models
        recorder.write(output)
    return summary


def _finish_distributed() -> None:
    if torch.distributed.is_initialized():
        # a clean exit avoids a rare SIGABRT of non-zero ranks at interpreter shutdown
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xstilts train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--init", required=True, type=Path, help="model directory to start from")
    parser.add_argument("--data", required=True, nargs="+", metavar="NAME=FILE",
                        help="training files per dataset (a task, or a task's language and source: mnli-de-mt)")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--checkpoints", required=True, type=Path)
    parser.add_argument("--config", required=True, help="training settings (JSON)")
    parser.add_argument("--time-limit", type=float, metavar="MINUTES",
                        help="the job's time limit: stop with a checkpoint (exit status 75) a few minutes before it")
    parser.add_argument("--stop-margin", type=float, metavar="MINUTES",
                        help="how long before the time limit to stop (default: 5%% of it, between 1 and 10 minutes)")
    args = parser.parse_args(argv)
    data: dict[str, list[Path]] = {}
    for item in args.data:
        task, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--data takes NAME=FILE, not {item!r}")
        data.setdefault(task, []).append(Path(path))
    setup_distributed_env()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s rank{os.environ.get('RANK', '0')} %(name)s: %(message)s")
    deadline = None
    if args.time_limit is not None:
        # leave time to save the checkpoint and exit: by default 5% of the limit, between 1 and 10 minutes
        limit = 60 * args.time_limit
        margin = 60 * args.stop_margin if args.stop_margin is not None else min(600.0, max(60.0, 0.05 * limit))
        deadline = time.time() + limit - margin
    summary = run(args.init, data, args.output, args.checkpoints, json.loads(args.config), deadline)
    return 0 if summary is not None else STOPPED_AT_TIME_LIMIT
