"""Cost model for planning runs: parameter counts, training FLOPs, wall time and activation memory, from a
model's architecture block in config.yaml (pure arithmetic: cheap enough for Snakemake to use when it parses
the workflow, e.g. to size a job's runtime).

Parameter counts follow the transformers implementations (checked against meta-device models in the tests):
  XLM-R (post-LN) and XLM-R XL/XXL (pre-LN): embeddings V*h + P*h + h (token types, 1 type) + 2h (LayerNorm,
    XLM-R only); per layer 4h^2 + 4h (attention) + 2h (attention LayerNorm) + 2hf + f + h (FFN) + 2h (output
    LayerNorm); XL/XXL add one final LayerNorm (2h).
  mT5 encoder (T5 blocks, gated-GELU, no biases, RMS norms): V*d; per layer 4*d*H*dkv + 3*d*f + 2d; the first
    layer's relative attention bias (buckets * heads); a final norm d.
Training FLOPs per token: 6 * N_dense + 12 * L * h * s (Kaplan et al. 2020 / PaLM's accounting; embeddings
excluded from N_dense, attention scores counted separately).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    model_type: str
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int = 514
    head_dim: int | None = None  # T5: d_kv
    relative_buckets: int = 32

    @classmethod
    def from_config(cls, arch: dict) -> "Architecture":
        return cls(**arch)

    @property
    def is_t5(self) -> bool:
        return self.model_type in ("mt5", "t5", "umt5")

    def embedding_params(self) -> int:
        if self.is_t5:
            return self.vocab * self.hidden
        layer_norm = 0 if self.model_type == "xlm-roberta-xl" else 2 * self.hidden  # pre-LN XL/XXL: none here
        return self.vocab * self.hidden + self.positions * self.hidden + self.hidden + layer_norm

    def layer_params(self) -> int:
        h, f = self.hidden, self.ffn
        if self.is_t5:
            inner = self.heads * (self.head_dim or h // self.heads)
            return 4 * h * inner + 3 * h * f + 2 * h
        return (4 * h * h + 4 * h) + 2 * h + (2 * h * f + f + h) + 2 * h

    def dense_params(self) -> int:
        """Parameters outside the embeddings (what the matrix multiplications touch)."""
        extra = self.relative_buckets * self.heads + self.hidden if self.is_t5 else 0
        if self.model_type == "xlm-roberta-xl":
            extra = 2 * self.hidden  # final LayerNorm of the pre-LN stack
        return self.layers * self.layer_params() + extra

    def total_params(self) -> int:
        return self.embedding_params() + self.dense_params()

    def largest_layer_params(self) -> int:
        """The largest single module's parameters (ZeRO-3 gathers one at a time): the word embeddings."""
        return max(self.vocab * self.hidden, 4 * self.hidden * self.ffn)

    def train_flops_per_token(self, seq_len: int) -> float:
        return 6.0 * self.dense_params() + 12.0 * self.layers * self.hidden * seq_len

    def forward_flops_per_token(self, seq_len: int) -> float:
        return self.train_flops_per_token(seq_len) / 3.0

    def activation_bytes(self, micro_batch: int, seq_len: int, checkpointing: bool, bytes_per_value: int = 2) -> int:
        """Activation memory of one micro-batch (Korthikanti et al. 2022, no sequence/tensor parallelism):
        per layer s*b*h*(34 + 5*a*s/h) half-precision bytes; with full activation checkpointing, 2*s*b*h per
        layer (the saved layer inputs) plus one layer recomputed at a time."""
        s, b, h, a = seq_len, micro_batch, self.hidden, self.heads
        per_layer = s * b * h * (34 + 5 * a * s / h) * bytes_per_value / 2
        if checkpointing:
            return int(self.layers * 2 * s * b * h * bytes_per_value / 2 + per_layer)
        return int(self.layers * per_layer)


def train_hours(arch: Architecture, examples: int, epochs: float, seq_len: int, gpus: int, peak_tflops: float,
                mfu: float) -> float:
    """Wall hours of a training job that sees `examples * epochs` sequences of at most `seq_len` tokens (an upper
    bound: batches are padded only to their longest sequence)."""
    tokens = examples * epochs * seq_len
    return tokens * arch.train_flops_per_token(seq_len) / (gpus * peak_tflops * 1e12 * mfu) / 3600


def predict_hours(arch: Architecture, examples: int, seq_len: int, peak_tflops: float, mfu: float) -> float:
    tokens = examples * seq_len
    return tokens * arch.forward_flops_per_token(seq_len) / (peak_tflops * 1e12 * mfu) / 3600


def zero_model_state_bytes(arch: Architecture, stage: int, gpus_per_node: int, nodes: int,
                           offload: bool = False, buffer_factor: float = 1.5) -> tuple[int, int]:
    """(CPU bytes per node, GPU bytes per GPU) of model states (16-bit weights and gradients, fp32 master weights,
    Adam moments) under ZeRO `stage`, by the same formulas as DeepSpeed's
    estimate_zero2_model_states_mem_needs (stages 0-2; stage 0 and 1 are counted as 2, an upper bound for 1)
    and estimate_zero3_model_states_mem_needs (zero.Init, parameters offloaded with the optimizer when
    `offload`). Activations are not included (see Architecture.activation_bytes)."""
    n, gpus = arch.total_params(), nodes * gpus_per_node
    if stage < 3:
        if offload:
            return int(n * max(4 * gpus, 16) * buffer_factor), 2 * n
        # 2 bytes of 16-bit weights, plus 18 sharded: 16-bit and fp32 gradients, fp32 weights, two Adam moments
        shard = 18 * n / (gpus if stage == 2 else 1)
        return int(n * 4 * gpus_per_node * buffer_factor), int(2 * n + shard)
    largest = 4 * arch.largest_layer_params()
    if offload:
        return int(n * 18 / nodes * buffer_factor), largest
    return int(arch.largest_layer_params() * 4 * gpus_per_node * buffer_factor), int(largest + 18 * n / gpus)
