"""Per-language predictions in the official XTREME layout, <out>/test-<lang>.{tsv,json}, and the gold files in
the same layout for local scoring.

Fine-tuned tasks run the encoder plus the task's head; retrieval tasks (BUCC, Tatoeba) pool the hidden states
of one encoder layer (mean over real tokens, XTREME's default) and compare sentences by cosine similarity.
Features are batched in order of length, so padding stays small. Each directory gets a provenance.json
(xstilts.provenance) when its files are complete.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from .families import pad_features
from .jsonl import read_jsonl
from .model import load_encoder, load_model, load_tokenizer
from .provenance import Recorder
from .tasks import get_task

log = logging.getLogger(__name__)


def _batches(features: list[dict], batch_size: int):
    def length(f):  # a multiple-choice feature holds one row per choice: its longest choice counts
        return max(f["choice_lengths"]) if "choice_lengths" in f else len(f["input_ids"])

    order = sorted(range(len(features)), key=lambda i: length(features[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@torch.inference_mode()
def model_outputs(model, head_kind: str | None, task_name: str, features: list[dict], pad_token_id: int,
                  batch_size: int, device: torch.device, layer: int | None = None, pooling: str = "mean"):
    """Raw outputs per feature, in feature order: logits [n, k] (sequence), one score per choice [n, choices]
    (choice: the model flattens [batch, choices, length] inputs and returns [batch, choices]), a list of
    [len_i, k] arrays (token), a (start, end) pair of [n, max_len] arrays (span), or embeddings [n, hidden]
    (retrieval: hidden states of `layer`, mean-pooled over real tokens, or the first token's with "cls")."""
    per_feature: list = [None] * len(features)
    for indices in _batches(features, batch_size):
        batch = {k: torch.from_numpy(v).to(device) for k, v in
                 pad_features([features[i] for i in indices], pad_token_id).items()}
        if head_kind is None:
            states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           output_hidden_states=True).hidden_states[layer]
            if pooling == "cls":
                pooled = states[:, 0]
            else:
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1)
            values = pooled.float().cpu().numpy()
        else:
            out = model(task_name, batch["input_ids"], batch["attention_mask"])
            if head_kind == "span":
                values = torch.stack([out["start_logits"], out["end_logits"]], dim=-1).float().cpu().numpy()
            else:
                values = out["logits"].float().cpu().numpy()
        for row, i in enumerate(indices):
            n = len(features[i]["input_ids"])
            per_feature[i] = values[row, :n] if head_kind in ("token", "span") else values[row]
    if head_kind == "span":
        width = max(len(v) for v in per_feature)
        start = np.full((len(features), width), -1e4, dtype=np.float32)
        end = start.copy()
        for i, v in enumerate(per_feature):
            start[i, : len(v)], end[i, : len(v)] = v[:, 0], v[:, 1]
        return start, end
    if head_kind == "token":
        return per_feature
    return np.stack(per_feature)


def predict(model_dir: Path, task_name: str, inputs: dict[str, Path], out_dir: Path, settings: dict,
            rule: str | None = None) -> None:
    """Predictions of the model in `model_dir` on each language's test file (`inputs`: language -> prepared
    JSONL) into `out_dir`. `rule`: the Snakemake rule running it, for the provenance record."""
    recorder = Recorder(settings, inputs={"model": model_dir, **inputs}, rule=rule)
    task = get_task(task_name)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" and settings.get("bf16", True) else None
    tokenizer = load_tokenizer(model_dir)
    head_kind = task.family.head
    if head_kind is None:
        model = load_encoder(model_dir, dtype)
    else:
        model = load_model(model_dir, dtype)
    model.to(device).eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for lang, path in sorted(inputs.items()):
        records = task.family.without_gold(list(read_jsonl(path)))
        features = task.family.featurize(records, tokenizer, settings, train=False)
        # a fine-tuned model's head is named after the task it was trained on (XNLI predicts with the MNLI head)
        outputs = model_outputs(model, head_kind, task.train_task, features, tokenizer.pad_token_id,
                                settings.get("batch_size", 32), device, settings.get("layer"),
                                settings.get("pooling", "mean"))
        target = out_dir / f"test-{lang}.{task.prediction_suffix}"
        task.family.write(target, task.family.decode(records, features, outputs))
        log.info("%s %s: %d records -> %s", task_name, lang, len(records), target)
    recorder.write(out_dir)


def write_gold(task_name: str, inputs: dict[str, Path], out_dir: Path, rule: str | None = None) -> None:
    recorder = Recorder({"task": task_name, "languages": sorted(inputs)}, inputs=inputs, rule=rule)
    task = get_task(task_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for lang, path in sorted(inputs.items()):
        task.family.write(out_dir / f"test-{lang}.{task.prediction_suffix}", task.family.gold(list(read_jsonl(path))))
    recorder.write(out_dir)
