"""Base models from the Hugging Face hub, downloaded once into models/base/<name> (on the login node: compute
nodes often have no internet)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def download_model(hf_id: str, out: str, revision: str | None = None) -> None:
    from huggingface_hub import snapshot_download

    # weights as safetensors only (the hub repos of XLM-R also hold pytorch_model.bin and TF/Flax copies)
    path = snapshot_download(hf_id, revision=revision, local_dir=out,
                             allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt"])
    log.info("%s@%s -> %s", hf_id, revision or "main", path)
