"""Training-step throughput of our entry point against a bare HF Trainer, same model and batches, on CPU.

    .venv/bin/python bench/train_throughput.py                          # small model: overhead-sensitive
    .venv/bin/python bench/train_throughput.py --hidden 256 --layers 4  # compute-dominated
    .venv/bin/python bench/train_throughput.py --deepspeed zero2        # both under DeepSpeed ZeRO-2
    .venv/bin/python bench/train_throughput.py --profile ours           # cProfile of the timed steps

ours  xstilts.train.run() itself on a JSONL file: Classification.featurize (int32 ids), build_schedule,
      ScheduledDataset, collate, MultiTaskModel (encoder + our SequenceHead), ScheduledTrainer, with the
      TrainingArguments run() builds. The only change is a subclass of ScheduledTrainer put in its place that
      adds a step timer and counts the padded batch shapes.
bare  AutoModelForSequenceClassification from the same checkpoint, tokenizer(text_a, text_b, truncation,
      max_length), DataCollatorWithPadding, a plain transformers.Trainer with the same TrainingArguments values
      (checked: the two argument sets are printed if they differ beyond the output folder and sampler).

Both see the same examples in the same batches: the bare dataset is laid out in the order of our schedule
(same seed) and read with train_sampling_strategy="sequential", so every step pads to the same length on both
sides (checked: the sequence of padded batch shapes must be identical). Same random-weight XLM-R (built with
xstilts.tiny at --hidden/--layers from xstilts.demo.corpus_lines), same NLI pairs (xstilts.demo.nli_pairs),
per-device batch, max_length, fp32, seed and number of steps; dataloader in the main process on both sides.

Every measurement runs in a fresh process (no shared allocator, thread-pool or Accelerate state), ours and
bare alternating, the first side swapped on each repeat. The timer is a TrainerCallback: wall time from the
end of step --warmup to the end of the last step, so model loading, featurization, the first steps and the
final save are excluded. Reported: steps/s and samples/s per run, the best and the median of the repeats per
side, and ours/bare for both.

--launch-env: `none` (default without DeepSpeed): neither process sets RANK/WORLD_SIZE/MASTER_*, as a plain
`python train.py` would. `both` (forced with --deepspeed): both set them as xstilts.launch does.
`entry`: ours sets them as `python -m xstilts train` always does (main() calls setup_distributed_env), bare
does not: the real entry point against a plain script, which shows what the launch environment costs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULT = "RESULT "


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden", type=int, default=64, help="XLM-R hidden size (default 64)")
    p.add_argument("--layers", type=int, default=2, help="encoder layers (default 2)")
    p.add_argument("--batch-size", type=int, default=16, help="per-device batch (default 16)")
    p.add_argument("--max-length", type=int, default=128, help="tokenizer max_length (at most 128; default 128)")
    p.add_argument("--steps", type=int, default=200, help="optimizer steps per run (default 200)")
    p.add_argument("--warmup", type=int, default=10, help="steps left out of the timing (default 10)")
    p.add_argument("--repeat", type=int, default=5, help="runs per side, alternating (default 5)")
    p.add_argument("--deepspeed", choices=["zero2"], help="run both sides under this DeepSpeed config")
    p.add_argument("--launch-env", choices=["none", "both", "entry"], help="see the module docstring")
    p.add_argument("--threads", type=int, help="torch.set_num_threads in both (default: torch's default)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=600, help="seconds one measurement may take (default 600)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "xstilts-bench-train")
    p.add_argument("--profile", choices=["ours", "bare", "both"],
                   help="one extra cProfile'd run of that side over the timed steps; prints the top functions")
    p.add_argument("--worker", choices=["ours", "bare"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.max_length > 128:
        p.error("the tiny model has 130 positions: --max-length must be at most 128")
    if args.warmup >= args.steps - 1:
        p.error("--warmup must leave at least two timed steps")
    if args.deepspeed:
        if args.launch_env not in (None, "both"):
            p.error("--deepspeed needs the launch environment on both sides (--launch-env both)")
        args.launch_env = "both"
    args.launch_env = args.launch_env or "none"
    return args


# ---------------------------------------------------------------------------------------------------- setup


def model_dir(args) -> Path:
    return args.workdir / f"xlmr-h{args.hidden}-l{args.layers}-s{args.seed}"


def data_file(args) -> Path:
    return args.workdir / f"nli-{args.steps * args.batch_size}-s{args.seed}.jsonl"


def prepare(args) -> None:
    from xstilts.demo import corpus_lines, nli_pairs

    args.workdir.mkdir(parents=True, exist_ok=True)
    if not (model_dir(args) / "config.json").exists():
        from xstilts.tiny import build_tiny_xlmr

        corpus = args.workdir / "corpus.txt"
        corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
        build_tiny_xlmr(corpus, model_dir(args), hidden=args.hidden, layers=args.layers, seed=args.seed)
    if not data_file(args).exists():
        pairs = nli_pairs(random.Random(args.seed), "en", args.steps * args.batch_size)
        data_file(args).write_text("".join(
            json.dumps({"id": f"bench-{i}", "text_a": a, "text_b": b, "label": label}) + "\n"
            for i, (a, b, label) in enumerate(pairs)))


def train_config(args) -> dict:
    """Our run()'s config. No checkpoint inside the run and logging at the same steps on both sides."""
    return {"lr": 2e-5, "epochs": 1, "batch_size": args.batch_size, "warmup": 0, "weight_decay": 0.0,
            "max_grad_norm": 1.0, "save_steps": 10 * args.steps, "logging_steps": 50, "seed": args.seed,
            "deepspeed": args.deepspeed, "bf16": False, "dropout": 0.1,
            "tasks": {"mnli": {"max_length": args.max_length}}}


def bare_training_args(args, output_dir: str):
    """The TrainingArguments run() builds from train_config(), for the plain Trainer (sequential sampler: the
    bare dataset is already in the schedule's order)."""
    import torch
    from transformers import TrainingArguments

    from xstilts.train import deepspeed_config

    c = train_config(args)
    return TrainingArguments(
        output_dir=output_dir, per_device_train_batch_size=c["batch_size"], gradient_accumulation_steps=1,
        learning_rate=c["lr"], weight_decay=c["weight_decay"], warmup_steps=c["warmup"],
        max_grad_norm=c["max_grad_norm"], num_train_epochs=1, lr_scheduler_type="linear", seed=c["seed"],
        bf16=False, deepspeed=deepspeed_config(c["deepspeed"]), use_cpu=not torch.cuda.is_available(),
        save_strategy="steps", save_steps=c["save_steps"], save_total_limit=1, logging_steps=c["logging_steps"],
        report_to=[], disable_tqdm=True, remove_unused_columns=False, average_tokens_across_devices=False,
        dataloader_drop_last=False, train_sampling_strategy="sequential",
    )


# --------------------------------------------------------------------------------------------------- worker


def make_timer(args, profile: bool):
    import cProfile

    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall (perf_counter) and process CPU time at the end of every optimizer step; optionally cProfile
        over the timed steps only."""

        def __init__(self):
            self.ends: list[float] = []
            self.cpu: list[float] = []
            self.profiler = cProfile.Profile() if profile else None
            self.distributed = False

        def on_train_begin(self, targs, state, control, **kwargs):
            import torch

            self.distributed = torch.distributed.is_initialized()  # run() destroys the group before returning

        def on_step_end(self, targs, state, control, **kwargs):
            self.ends.append(time.perf_counter())
            self.cpu.append(time.process_time())
            if self.profiler is not None:
                if len(self.ends) == args.warmup + 1:
                    self.profiler.enable()
                elif len(self.ends) == args.steps:
                    self.profiler.disable()

    return StepTimer()


def counting(collator, shapes: list):
    def collate(batch):
        out = collator(batch)
        shapes.append(tuple(out["input_ids"].shape))
        return out

    return collate


def worker(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.launch_env == "both" or (args.launch_env == "entry" and args.worker == "ours"):
        from xstilts.launch import setup_distributed_env

        setup_distributed_env()
    profile = args.profile in (args.worker, "both")
    timer = make_timer(args, profile)
    shapes: list[tuple] = []
    captured = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if args.worker == "ours":
            from xstilts import train as xtrain

            class TimedScheduledTrainer(xtrain.ScheduledTrainer):
                def __init__(self, *a, **kw):
                    super().__init__(*a, **kw)
                    self.add_callback(timer)
                    self.data_collator = counting(self.data_collator, shapes)
                    captured["trainer"] = self

            xtrain.ScheduledTrainer = TimedScheduledTrainer
            xtrain.run(model_dir(args), {"mnli": [data_file(args)]}, Path(tmp) / "model", Path(tmp) / "ckpt",
                       train_config(args))
            trainer = captured["trainer"]
        else:
            from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                                      Trainer, set_seed)

            from xstilts.jsonl import read_jsonl
            from xstilts.schedule import build_schedule
            from xstilts.tasks import get_task

            set_seed(args.seed)
            labels = get_task("mnli").family.labels
            tokenizer = AutoTokenizer.from_pretrained(model_dir(args))
            records = list(read_jsonl(data_file(args)))
            encoded = tokenizer([r["text_a"] for r in records], [r["text_b"] for r in records], truncation=True,
                                max_length=args.max_length)
            items = [{"input_ids": ids, "attention_mask": mask, "labels": labels.index(r["label"])}
                     for ids, mask, r in zip(encoded["input_ids"], encoded["attention_mask"], records)]
            order = build_schedule({"mnli": len(items)}, block=args.batch_size, epochs=1, seed=args.seed)
            dataset = [items[i] for _, i in order]
            targs = bare_training_args(args, str(Path(tmp) / "out"))  # before the model, as run() does
            model = AutoModelForSequenceClassification.from_pretrained(model_dir(args), num_labels=len(labels))
            trainer = Trainer(model=model, args=targs, train_dataset=dataset,
                              data_collator=counting(DataCollatorWithPadding(tokenizer), shapes), callbacks=[timer])
            trainer.train()

        ends = timer.ends
        window = ends[-1] - ends[args.warmup]
        timed = len(ends) - 1 - args.warmup
        steps = [b - a for a, b in zip(ends[args.warmup:], ends[args.warmup + 1:])]
        skip = {"output_dir", "logging_dir", "train_sampling_strategy"}
        result = {
            "side": args.worker, "steps": len(ends), "timed_steps": timed, "window_s": window,
            "steps_per_s": timed / window, "median_step_ms": 1e3 * statistics.median(steps),
            "cpu_step_ms": 1e3 * (timer.cpu[-1] - timer.cpu[args.warmup]) / timed,
            "train_runtime_s": (trainer.state.log_history or [{}])[-1].get("train_runtime"),
            "shapes": shapes, "threads": torch.get_num_threads(),
            "model": type(trainer.model).__name__, "wrapped": type(trainer.model_wrapped).__name__,
            "encoder": type(getattr(trainer.model, "encoder", None) or trainer.model.base_model).__name__,
            "params": sum(p.numel() for p in trainer.model.parameters()),
            "deepspeed": trainer.is_deepspeed_enabled,
            "distributed": timer.distributed,
            "args": {k: v for k, v in trainer.args.to_dict().items() if k not in skip},
            "launch_env": {k: os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE") if k in os.environ},
        }
        if timer.profiler is not None:
            path = args.workdir / f"profile-{args.worker}.pstats"
            timer.profiler.dump_stats(path)
            result["profile"] = str(path)
    print(RESULT + json.dumps(result, default=str), flush=True)


# --------------------------------------------------------------------------------------------------- driver


def measure(args, side: str, profile: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--worker", side, "--hidden", str(args.hidden), "--layers", str(args.layers),
           "--batch-size", str(args.batch_size), "--max-length", str(args.max_length), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--seed", str(args.seed), "--workdir", str(args.workdir),
           "--launch-env", args.launch_env]
    if args.deepspeed:
        cmd += ["--deepspeed", args.deepspeed]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if profile:
        cmd += ["--profile", side]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR",
                                                             "MASTER_PORT", "LOCAL_WORLD_SIZE")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TRANSFORMERS_VERBOSITY="error",
               TOKENIZERS_PARALLELISM="false", PYTHONWARNINGS="ignore")
    if args.threads:  # also for libraries that set the thread count themselves when it is unset (Accelerate)
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        tail = (e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr or "")[-3000:]
        sys.exit(f"{side} run took over {args.timeout:.0f} s; its stderr ends with:\n{tail}\n(a DeepSpeed run that "
                 "hangs at start-up is often waiting on a stale lock of a torch extension build: see bench/README.md)")
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode != 0 or not lines:
        sys.exit(f"{side} run failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len(RESULT):])


def print_profile(path: str, side: str, timed_steps: int) -> None:
    import pstats

    print(f"\n--- cProfile of {side}, {timed_steps} timed steps (cumulative time, top 30) ---")
    pstats.Stats(path).sort_stats("cumulative").print_stats(30)
    print(f"--- {side}, by own time (top 20) ---")
    pstats.Stats(path).sort_stats("tottime").print_stats(20)
    stats = pstats.Stats(path).stats  # {(file, line, name): (calls, primitive calls, tottime, cumtime, callers)}
    for (file, _, name), (_, calls, _, cum, _) in stats.items():
        if name in ("collate", "training_step", "compute_loss") and (file == __file__ or "trainer.py" in file):
            label = "collator (incl. padding, tensors)" if name == "collate" else f"Trainer.{name}"
            print(f"  {side} {label}: {1e3 * cum / timed_steps:.2f} ms/step over {calls} calls")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    import platform

    import torch
    import transformers

    prepare(args)
    print("setup")
    print(f"  model        random-weight XLM-R, hidden {args.hidden}, {args.layers} layers, 2 heads, FFN "
          f"{2 * args.hidden}, vocab from xstilts.tiny ({model_dir(args)})")
    print(f"  data         {args.steps * args.batch_size} NLI pairs (xstilts.demo.nli_pairs, en, seed {args.seed}),"
          f" max_length {args.max_length}")
    print(f"  training     {args.steps} steps of {args.batch_size}, fp32, AdamW, "
          f"{'DeepSpeed ' + args.deepspeed if args.deepspeed else 'no DeepSpeed'}, launch env: {args.launch_env}; "
          f"timed: steps {args.warmup + 1}..{args.steps}")
    print(f"  machine      {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; Python {platform.python_version()}, torch {torch.__version__}, "
          f"transformers {transformers.__version__}")

    runs: dict[str, list[dict]] = {"ours": [], "bare": []}
    for rep in range(args.repeat):
        for side in (("ours", "bare") if rep % 2 == 0 else ("bare", "ours")):
            r = measure(args, side)
            runs[side].append(r)
            print(f"  run {rep + 1} {side:4}  {r['steps_per_s']:7.2f} steps/s  "
                  f"{r['steps_per_s'] * args.batch_size:8.1f} samples/s  median step {r['median_step_ms']:7.2f} ms  "
                  f"CPU {r['cpu_step_ms']:7.2f} ms/step",
                  flush=True)

    ours, bare = runs["ours"][0], runs["bare"][0]
    if ours["shapes"] != bare["shapes"]:
        print("WARNING: the two sides padded different batches; the comparison is not like for like")
    lengths = [s[-1] for s in ours["shapes"]]
    print(f"  batches      identical on both sides: {ours['shapes'] == bare['shapes']} "
          f"(padded length mean {statistics.mean(lengths):.1f}, min {min(lengths)}, max {max(lengths)})")
    for r in (ours, bare):
        print(f"  {r['side']:4}         {r['model']} (encoder {r['encoder']}), {r['params']:,} parameters, "
              f"wrapped as {r['wrapped']}, DeepSpeed {r['deepspeed']}, process group {r['distributed']}, "
              f"{r['threads']} threads, env {r['launch_env'] or '-'}")
    differ = {k: (ours["args"].get(k), bare["args"].get(k)) for k in sorted(set(ours["args"]) | set(bare["args"]))
              if ours["args"].get(k) != bare["args"].get(k)}
    print(f"  TrainingArguments differ in: {differ or 'nothing (beyond output_dir and the sampler)'}")

    print(f"\n{'':6}{'best steps/s':>14}{'samples/s':>11}{'median steps/s':>16}{'median step ms':>16}"
          f"{'CPU ms/step':>13}")
    best, median, step_ms, cpu_ms = {}, {}, {}, {}
    for side in ("ours", "bare"):
        rates = [r["steps_per_s"] for r in runs[side]]
        best[side], median[side] = max(rates), statistics.median(rates)
        step_ms[side] = statistics.median(r["median_step_ms"] for r in runs[side])
        cpu_ms[side] = statistics.median(r["cpu_step_ms"] for r in runs[side])
        print(f"{side:6}{best[side]:14.2f}{best[side] * args.batch_size:11.1f}{median[side]:16.2f}"
              f"{step_ms[side]:16.2f}{cpu_ms[side]:13.2f}")
    ratio = best["ours"] / best["bare"]
    # each repeat runs the two sides back to back: their ratio is the least affected by slow drifts in load
    paired = sorted(o["steps_per_s"] / b["steps_per_s"] for o, b in zip(runs["ours"], runs["bare"]))
    print(f"\nours/bare throughput: {ratio:.3f} (best run of {args.repeat} each), "
          f"{median['ours'] / median['bare']:.3f} (median run), {step_ms['bare'] / step_ms['ours']:.3f} (median step "
          f"time), {cpu_ms['bare'] / cpu_ms['ours']:.3f} (CPU time per step)")
    print(f"paired by repeat: median {statistics.median(paired):.3f}, range {paired[0]:.3f}..{paired[-1]:.3f}")
    print(f"goal ours/bare >= 0.97 (best-run figure): {'met' if ratio >= 0.97 else 'NOT met'}")

    if args.profile:
        for side in (("ours", "bare") if args.profile == "both" else (args.profile,)):
            r = measure(args, side, profile=True)
            print_profile(r["profile"], side, r["timed_steps"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
