"""An encoder with one head per task (our own heads, so XLM-R, XLM-R XL/XXL and the mT5 encoder are treated
alike), plus the on-disk model layout every stage reads and writes:

    <dir>/config.json, model.safetensors   the encoder, loadable with transformers' AutoModel
    <dir>/tokenizer.json, ...              its tokenizer
    <dir>/heads.json, heads.safetensors    the task heads (absent for a base or intermediate-only encoder)

A later stage loads the encoder and creates fresh heads for its own tasks (the X-STILTs recipe: intermediate
heads are dropped before target fine-tuning).

The "mlm" head's output layer is the encoder's input embedding matrix (tied, as in XLM-R's RobertaLMHead). The
head does not register that matrix as a parameter of its own: it reads it from the encoder at every forward,
so state dicts, checkpoints and heads.safetensors never hold a second copy of it, and the encoder saved in
<dir>/model.safetensors is exactly the encoder. Under DeepSpeed ZeRO-3 the matrix is partitioned with the
encoder and registered as an external parameter of the head, so it is gathered for the head's forward and
backward too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

log = logging.getLogger(__name__)

# model types whose AutoModel is an encoder-decoder: use the encoder half only
ENCODER_CLASSES = {"mt5": "MT5EncoderModel", "t5": "T5EncoderModel", "umt5": "UMT5EncoderModel"}


def load_encoder(path: Path, dtype: torch.dtype | None = None) -> nn.Module:
    config = AutoConfig.from_pretrained(path)
    kwargs = {"dtype": dtype} if dtype is not None else {}
    if config.model_type in ENCODER_CLASSES:
        import transformers

        return getattr(transformers, ENCODER_CLASSES[config.model_type]).from_pretrained(path, **kwargs)
    return AutoModel.from_pretrained(path, add_pooling_layer=False, **kwargs)


def load_tokenizer(path: Path):
    return AutoTokenizer.from_pretrained(path)


class SequenceHead(nn.Module):
    """Classification from the first token (<s>), as XLM-R's RobertaClassificationHead."""

    def __init__(self, hidden: int, outputs: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, outputs)

    def forward(self, states):
        x = self.dropout(states[:, 0])
        return self.out(self.dropout(torch.tanh(self.dense(x))))


class TokenHead(nn.Module):
    """Per-token logits (tagging: one per tag; span QA: start and end)."""

    def __init__(self, hidden: int, outputs: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, outputs)

    def forward(self, states):
        return self.out(self.dropout(states))


class ChoiceHead(SequenceHead):
    """Multiple choice: one score per choice sequence from its first token (<s>), as jiant's MultipleChoiceModel
    scores each choice with a one-output RobertaClassificationHead-style head (dense, tanh, linear). `outputs`
    (the number of choices) does not shape the parameters: the same head scores any number of choices."""

    def __init__(self, hidden: int, outputs: int, dropout: float):
        super().__init__(hidden, 1, dropout)

    def forward(self, states):
        return super().forward(states).squeeze(-1)


class MaskedLMHead(nn.Module):
    """XLM-R's RobertaLMHead: dense -> gelu -> layer norm -> decoder tied to the encoder's input embeddings,
    plus a bias. The embedding module is held outside the module tree (see the module docstring)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        config = encoder.config
        embeddings = encoder.get_input_embeddings()
        hidden = config.hidden_size
        self.tied = (embeddings,)  # a tuple: not registered as a submodule, so its weight is not ours to save
        self.dense = nn.Linear(hidden, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=getattr(config, "layer_norm_eps", 1e-5))
        self.bias = nn.Parameter(torch.zeros(embeddings.num_embeddings))
        std = getattr(config, "initializer_range", 0.02)
        nn.init.normal_(self.dense.weight, std=std)
        nn.init.zeros_(self.dense.bias)
        if hasattr(embeddings.weight, "ds_id"):  # partitioned by ZeRO-3's zero.Init: gather it for this head too
            from deepspeed.runtime.zero import register_external_parameter

            register_external_parameter(self, embeddings.weight)

    @property
    def vocabulary(self) -> int:
        return self.bias.shape[0]

    def forward(self, states):
        x = self.layer_norm(nn.functional.gelu(self.dense(states)))
        return nn.functional.linear(x, self.tied[0].weight) + self.bias

    def load_pretrained(self, directory: Path) -> bool:
        """Take dense, layer norm and bias from the `lm_head.*` tensors of the checkpoint in `directory` (XLM-R
        hub checkpoints are saved as XLMRobertaForMaskedLM and keep them); False when it has none."""
        tensors = _checkpoint_tensors(Path(directory), "lm_head.")
        if not tensors:
            return False
        if "lm_head.bias" not in tensors and "lm_head.decoder.bias" in tensors:
            tensors["lm_head.bias"] = tensors["lm_head.decoder.bias"]
        wanted = {name: f"lm_head.{name}" for name in self.state_dict()}
        missing = sorted(key for key in wanted.values() if key not in tensors)
        if missing:
            raise ValueError(f"{directory}: the checkpoint's masked-LM head lacks {', '.join(missing)}")
        state = {name: tensors[key] for name, key in wanted.items()}
        if state["bias"].shape[0] != self.vocabulary:
            raise ValueError(f"{directory}: lm_head.bias has {state['bias'].shape[0]} entries but the encoder's "
                             f"vocabulary has {self.vocabulary}")
        self.load_state_dict(state)
        return True


def _checkpoint_tensors(directory: Path, prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with `prefix` in a safetensors checkpoint (single file or sharded), read
    without loading the rest of it."""
    index = directory / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        files = sorted({file for key, file in weight_map.items() if key.startswith(prefix)})
    else:
        files = ["model.safetensors"] if (directory / "model.safetensors").exists() else []
    tensors = {}
    for file in files:
        with safe_open(directory / file, framework="pt") as f:
            tensors.update({key: f.get_tensor(key) for key in f.keys() if key.startswith(prefix)})
    return tensors


HEAD_TYPES = {"sequence": SequenceHead, "token": TokenHead, "span": TokenHead, "choice": ChoiceHead}


class MultiTaskModel(nn.Module):
    """`heads` maps a head name to (head type, number of outputs); `task_heads` maps each task to its head, so
    several tasks can share one (ANLI+ trains SNLI, MNLI and ANLI rounds through one NLI head).

    An "mlm" head's number of outputs is the encoder's vocabulary (None: take it from the encoder). With
    `pretrained_lm_head`, it starts from the `lm_head.*` weights of the checkpoint the encoder was loaded from
    when that checkpoint has them, else it is freshly initialised; the log says which."""

    def __init__(self, encoder: nn.Module, heads: dict[str, tuple[str, int | None]], task_heads: dict[str, str],
                 dropout: float = 0.1, pretrained_lm_head: bool = True):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config  # the HF DeepSpeed integration sizes its "auto" buckets from config.hidden_size
        hidden = encoder.config.hidden_size  # T5 configs map hidden_size to d_model
        self.task_heads = dict(task_heads)
        self.heads = nn.ModuleDict()
        self.head_specs = {}
        for name, (kind, n) in heads.items():
            if kind == "mlm":
                head = MaskedLMHead(encoder)
                if n is not None and n != head.vocabulary:
                    raise ValueError(f"head {name}: {n} outputs, but the encoder's vocabulary has {head.vocabulary}")
                if pretrained_lm_head:
                    source = getattr(encoder, "name_or_path", "")  # the directory from_pretrained loaded
                    if source and Path(source).is_dir() and head.load_pretrained(Path(source)):
                        log.info("mlm head %s: initialised from the lm_head.* weights of %s", name, source)
                    else:
                        log.info("mlm head %s: freshly initialised (no lm_head.* weights in %r)", name, source)
                n = head.vocabulary
            else:
                head = HEAD_TYPES[kind](hidden, n, dropout)
            self.heads[name] = head
            self.head_specs[name] = (kind, n)

    def forward(self, task, input_ids, attention_mask, labels=None, start_positions=None, end_positions=None):
        name = self.task_heads[task]
        kind = self.head_specs[name][0]
        if kind == "mlm":
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if labels is None:
                return {"logits": self.heads[name](states)}
            # vocabulary-sized logits only where a token is predicted (about 15% of them)
            predicted = labels != -100
            logits = self.heads[name](states[predicted])
            return {"logits": logits, "loss": nn.functional.cross_entropy(logits.float(), labels[predicted])}
        if kind == "choice":  # [batch, choices, length]: encode every choice as its own sequence
            batch, choices = input_ids.shape[:2]
            input_ids, attention_mask = input_ids.flatten(0, 1), attention_mask.flatten(0, 1)
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.heads[name](states)
        if kind == "choice":
            logits = logits.view(batch, choices)  # one score per choice; the loss below is over the choices
        if kind == "span":
            start, end = logits.float().unbind(dim=-1)
            padding = attention_mask == 0
            out = {"start_logits": start.masked_fill(padding, -1e4), "end_logits": end.masked_fill(padding, -1e4)}
            if start_positions is not None:
                out["loss"] = (nn.functional.cross_entropy(out["start_logits"], start_positions)
                               + nn.functional.cross_entropy(out["end_logits"], end_positions)) / 2
            return out
        out = {"logits": logits}
        if labels is not None:
            flat = logits.float().reshape(-1, logits.shape[-1])
            out["loss"] = nn.functional.cross_entropy(flat, labels.reshape(-1), ignore_index=-100)
        return out

    def save(self, directory: Path, state_dict: dict[str, torch.Tensor] | None = None, tokenizer=None) -> None:
        """Write the layout described in the module docstring. `state_dict` is the full (gathered) state dict
        when training was sharded (ZeRO-3); by default the module's own."""
        directory = Path(directory)
        state = state_dict if state_dict is not None else self.state_dict()
        encoder_state = {k.removeprefix("encoder."): v.contiguous() for k, v in state.items() if k.startswith("encoder.")}
        head_state = {k.removeprefix("heads."): v.contiguous() for k, v in state.items() if k.startswith("heads.")}
        self.encoder.save_pretrained(directory, state_dict=encoder_state)
        if tokenizer is not None:
            tokenizer.save_pretrained(directory)
        if head_state:
            save_file(head_state, directory / "heads.safetensors", metadata={"format": "pt"})
            (directory / "heads.json").write_text(json.dumps(
                {"heads": {k: list(v) for k, v in self.head_specs.items()}, "task_heads": self.task_heads},
                indent=1, sort_keys=True) + "\n")


def load_model(directory: Path, dtype: torch.dtype | None = None) -> MultiTaskModel:
    """Encoder and trained heads, as written by `MultiTaskModel.save`."""
    directory = Path(directory)
    spec = json.loads((directory / "heads.json").read_text()) if (directory / "heads.json").exists() else \
        {"heads": {}, "task_heads": {}}
    model = MultiTaskModel(load_encoder(directory, dtype), {k: tuple(v) for k, v in spec["heads"].items()},
                           spec["task_heads"], pretrained_lm_head=False)
    if spec["heads"]:
        model.heads.load_state_dict(load_file(directory / "heads.safetensors"))
    if dtype is not None:
        model.to(dtype)
    return model
