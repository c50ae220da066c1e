"""Conversion of a transformers MT model to CTranslate2, the engine's default decoding backend.

CTranslate2 runs the same weights with fused kernels and a batched beam search that has no per-step Python, so
on a CPU it translates several times faster than transformers' `generate` (bench/translate_throughput.py).
`convert_model(model_dir, output_dir, family)` converts a local copy of a model (for marian, every
`<src>-<tgt>/` direction folder in it) into `output_dir`, written under a temporary name and renamed when
complete, so a crash never leaves a directory that looks converted. Weights keep their stored precision; the
precision used for decoding is chosen when the model is loaded (engine: `compute_type`).

Trap (transformers 5 with ctranslate2 4.8): M2M100's and NLLB's tokenizers leave the language tokens or the
"madeup" padding words out of `get_vocab()`, so ctranslate2's own vocabulary is shorter than the embedding
matrix and the conversion fails ("Source vocabulary 0 has size 909 but the model expected ... 1009"). When
the sizes disagree we rebuild the vocabulary by token id, which is what the ids mean to the model.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .engine import TranslationModelError

log = logging.getLogger(__name__)



def vocabulary_by_id(tokenizer, size: int) -> list[str]:
    """The token of every id below `size`; ids the tokenizer has no token for (padding rows of the embedding
    matrix) get distinct filler names, as fairseq's "madeupword" entries."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(size)))
    vocabulary, filler = [], 0
    for token_id, token in enumerate(tokens):
        if token is None or (token == tokenizer.unk_token and token_id != tokenizer.unk_token_id):
            token = f"madeupword{filler:04d}"
            filler += 1
        vocabulary.append(token)
    if len(set(vocabulary)) != len(vocabulary):
        duplicated = sorted({t for t in vocabulary if vocabulary.count(t) > 1})[:5]
        raise ValueError(f"the tokenizer maps several ids to the same token ({', '.join(duplicated)})")
    return vocabulary


def _converter_class():
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):
        """ctranslate2's converter, with the vocabulary rebuilt by id where its own does not fit the model."""

        def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
            self.tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            return self.tokenizer

        def _load(self):
            spec = super()._load()
            for side, size in (("source", spec.get_source_vocabulary_size()),
                               ("target", spec.get_target_vocabulary_size())):
                sizes = size if isinstance(size, list) else [size]
                # ctranslate2 keeps registered vocabularies in this private mapping; the spec offers no setter
                registered = spec._vocabularies[side]
                for i, (tokens, expected) in enumerate(zip(registered, sizes)):
                    if len(tokens) != expected:
                        log.info("%s vocabulary: %d tokens from the tokenizer, %d rows in the model; rebuilt by id",
                                 side, len(tokens), expected)
                        registered[i] = vocabulary_by_id(self.tokenizer, expected)
            return spec

    return Converter


def model_folders(model_dir: Path, family: str) -> list[Path]:
    """The transformers model folders to convert: the model itself, or marian's direction folders."""
    model_dir = Path(model_dir)
    if family != "marian":
        return [model_dir]
    folders = sorted(p for p in model_dir.iterdir() if p.is_dir() and (p / "config.json").is_file()
                     and p.name.count("-") == 1)
    if not folders:
        raise TranslationModelError(f"{model_dir}: no marian direction folders (<src>-<tgt>/ holding config.json)")
    return folders


def convert_model(model_dir: Path, output_dir: Path, family: str) -> list[Path]:
    """Convert the transformers model in `model_dir` (marian: each direction folder) to CTranslate2 in
    `output_dir` (marian: the same folder names below it), with a provenance.json naming the source model's
    checksum. Returns the converted folders."""
    from ..provenance import write_provenance

    model_dir, output_dir = Path(model_dir), Path(output_dir)
    partial = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    converter = _converter_class()
    done = []
    for folder in model_folders(model_dir, family):
        target = partial if folder == model_dir else partial / folder.name
        log.info("converting %s to CTranslate2 in %s", folder, target)
        converter(str(folder)).convert(str(target), force=True)
        done.append(output_dir if folder == model_dir else output_dir / folder.name)
    write_provenance(partial, {"family": family, "converted_from": str(model_dir)}, inputs={"model": model_dir})
    shutil.rmtree(output_dir, ignore_errors=True)
    partial.rename(output_dir)
    return done
