"""Batched, resumable translation of text segments with a seq2seq MT model.

`Translator(settings, src, tgt)` loads the model of a translation config entry (xstilts.translation.languages
names the families) and `translate(segments, progress)` translates the unique segments:
  - with one of two decoding backends (`backend` in the settings): "ctranslate2" (default), the model converted
    by xstilts.translation.convert and run by CTranslate2, several times faster than `generate` on a CPU
    (bench/translate_throughput.py), or "transformers", the model's own `generate`. On the GPU when there is
    one, else the CPU; `compute_type` "auto" is bf16 on a GPU that has it (else fp16) for both backends, and on
    a CPU int8 weights for ctranslate2 (its fast path) and fp32 for transformers; ctranslate2 also takes the
    other quantized types (int8_float16, ...);
  - length-sorted (longest first, so a batch that does not fit in memory fails at once), in batches of at most
    `batch_size` segments and, if given, `batch_tokens` padded source subwords;
  - beam search (`num_beams`), at most `max_length` subwords per segment (source and output); a longer source is
    cut and the segment reported in `incomplete`, as is an output that hit the limit without ending;
  - the target language forced as the first output token (nllb: deu_Latn, m2m100: __de__), or given as the
    source prefix "<2de> " (madlad); marian models are per direction. Language tokens are removed from the output
    (transformers 5 keeps M2M100's __xx__ tokens through skip_special_tokens);
  - resumable: after each batch its translations are appended (flushed and synced) to the `progress` JSONL file,
    and a restart translates only the segments not in it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path

from .languages import FAMILIES, NLLB_CODES, mt_language_code, spelled

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 64
# output length limit per batch: length_ratio x its longest source + length_margin subwords (and at most
# max_length): room for languages that need more subwords than English, without letting one degenerate
# repetition run every beam of a batch to max_length
DEFAULT_LENGTH_RATIO = 3.0
DEFAULT_LENGTH_MARGIN = 10
BACKENDS = ("ctranslate2", "transformers")
DEFAULT_BACKEND = "ctranslate2"


class TranslationModelError(ValueError):
    """The MT model cannot do what was asked (a language it lacks, a missing per-direction model)."""


def model_name(settings: dict) -> str:
    source = settings.get("hf_id") or settings.get("path") or settings.get("family")
    return f"{settings['model']} ({source})" if settings.get("model") else str(source)


def model_location(settings: dict, src: str, tgt: str, model_dir: str | Path | None = None) -> str:
    """Where the model for src -> tgt is: `model_dir` (a local copy of the entry's model; for marian, a folder
    holding one <src>-<tgt> subfolder per direction), else the entry's `path` or `hf_id`; marian's per-direction
    `models` (en -> xx) and `back_models` (xx -> en)."""
    family = settings["family"]
    if family == "marian":
        key, lang = ("models", tgt) if src == "en" else ("back_models", src)
        entry = (settings.get(key) or {}).get(lang)
        if model_dir is not None and (Path(model_dir) / f"{src}-{tgt}").is_dir():
            return str(Path(model_dir) / f"{src}-{tgt}")
        if not entry:
            raise TranslationModelError(f"translation model {model_name(settings)} has no language {lang!r} "
                                        f"(marian: no entry for {lang!r} under {key})")
        return str(entry)
    if model_dir is not None:
        return str(model_dir)
    return str(settings.get("path") or settings["hf_id"])


def converted_location(settings: dict, src: str, tgt: str, converted_dir: str | Path) -> str:
    """Where the CTranslate2 conversion (xstilts.translation.convert) of the model for src -> tgt is."""
    if settings["family"] != "marian":
        return str(converted_dir)
    folder = Path(converted_dir) / f"{src}-{tgt}"
    if not folder.is_dir():
        raise TranslationModelError(f"translation model {model_name(settings)} has no converted {src}-{tgt} model "
                                    f"in {converted_dir}")
    return str(folder)


def torch_dtype(compute_type: str, device):
    """The torch dtype of the transformers backend for a compute type ("auto": bf16, else fp16, on a GPU; fp32
    on a CPU)."""
    import torch

    if compute_type == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if compute_type not in ("float32", "float16", "bfloat16"):
        raise TranslationModelError(f"compute_type {compute_type} needs backend ctranslate2 (transformers runs "
                                    f"float32, float16 or bfloat16)")
    return getattr(torch, compute_type)


def ctranslate2_compute_type(compute_type: str, device: str) -> str:
    """CTranslate2's compute type, checked against what the device supports. "auto": bf16 (else fp16) on a
    GPU, as for transformers; int8 weights on a CPU, CTranslate2's fast path there (int8 matrix products with
    VNNI and a quarter of the memory traffic of fp32), where fp32 runs at a fraction of its speed."""
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types(device)
    if compute_type == "auto":
        if device == "cpu":
            compute_type = "int8" if "int8" in supported else "float32"
        else:
            compute_type = "bfloat16" if "bfloat16" in supported else "float16"
    if compute_type not in supported:
        raise TranslationModelError(f"compute_type {compute_type} is not supported on this {device} by CTranslate2 "
                                    f"(supported: {', '.join(sorted(supported))})")
    return compute_type


class Translator:
    def __init__(self, settings: dict, src: str, tgt: str, model_dir: str | Path | None = None,
                 converted_dir: str | Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 batch_tokens: int | None = None, device: str | None = None, fixed_length: bool = False,
                 model=None, tokenizer=None):
        """`settings`: the translation config entry ({family, hf_id | path, ...}) plus decoding settings
        (backend, compute_type, num_beams, max_length, length_ratio, length_margin). The tokenizer (and, with
        the transformers backend, the model) comes from `model_dir`, else the entry's path or hf_id; the
        ctranslate2 backend runs the conversion in `converted_dir`. `model` (a transformers model, on its device)
        and `tokenizer`, if given, are used as they are instead of being loaded; a given `model` means the
        transformers backend. `fixed_length` makes every output exactly as long as the length limit (min = max
        new tokens): only for throughput benchmarks of random-weight models, which never end a sentence."""
        import torch

        self.family = settings["family"]
        if self.family not in FAMILIES:
            raise TranslationModelError(f"unknown MT model family {self.family!r}; known: {', '.join(FAMILIES)}")
        self.backend = "transformers" if model is not None else settings.get("backend", DEFAULT_BACKEND)
        if self.backend not in BACKENDS:
            raise TranslationModelError(f"unknown translation backend {self.backend!r}; known: {', '.join(BACKENDS)}")
        self.name = model_name(settings)
        self.src, self.tgt = src, tgt
        self.num_beams = int(settings.get("num_beams", 4))
        self.max_length = int(settings.get("max_length", 200))
        self.length_ratio = float(settings.get("length_ratio", DEFAULT_LENGTH_RATIO))
        self.length_margin = int(settings.get("length_margin", DEFAULT_LENGTH_MARGIN))
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.fixed_length = fixed_length
        compute_type = settings.get("compute_type", "auto")
        needs_location = tokenizer is None or (model is None and self.backend == "transformers")
        location = model_location(settings, src, tgt, model_dir) if needs_location else None
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(location)
        self.tokenizer = tokenizer
        self._set_languages(settings.get("languages") or {})  # a language the model lacks fails before loading it
        if model is not None:
            self.model = model.eval()
            self.device = next(model.parameters()).device
        elif self.backend == "transformers":
            from transformers import AutoModelForSeq2SeqLM

            self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
            dtype = torch_dtype(compute_type, self.device)
            log.info("loading %s from %s (%s -> %s) on %s, %s", self.name, location, src, tgt, self.device, dtype)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(location, dtype=dtype).to(self.device).eval()
        else:
            import ctranslate2

            if converted_dir is None:
                raise TranslationModelError(f"translation model {self.name}: backend ctranslate2 needs the model "
                                            f"converted to CTranslate2 (python -m xstilts convert-mt)")
            cuda_devices = ctranslate2.get_cuda_device_count()
            if device is None and torch.cuda.is_available() and not cuda_devices:
                # the wheel loads CUDA 12 and cuDNN 9 at run time; rather fail than translate on the CPU for hours
                raise TranslationModelError("this job has a GPU, but CTranslate2 finds no usable CUDA device (it "
                                            "needs the CUDA 12 and cuDNN 9 libraries; see README, Install): install "
                                            "them, or set translation.backend: transformers")
            self.device = torch.device(device or ("cuda" if cuda_devices else "cpu"))
            kind = ctranslate2_compute_type(compute_type, self.device.type)
            converted = converted_location(settings, src, tgt, converted_dir)
            log.info("loading %s from %s (%s -> %s) on %s, CTranslate2 %s", self.name, converted, src, tgt,
                     self.device, kind)
            # CPU threads as torch uses them (OMP_NUM_THREADS, else the cores), so both backends compare
            threads = torch.get_num_threads() if self.device.type == "cpu" else 1
            self.model = ctranslate2.Translator(converted, device=self.device.type, compute_type=kind,
                                                intra_threads=threads)
        self.generate_calls = 0
        self.incomplete: set[str] = set()
        self.resumed = 0
        self.translated = 0

    def _token_id(self, token: str) -> int | None:
        token_id = self.tokenizer.convert_tokens_to_ids(token)
        return None if token_id is None or token_id == self.tokenizer.unk_token_id else token_id

    def _set_languages(self, extra: dict) -> None:
        self.prefix = ""
        self.forced_bos = None
        self.language_ids: set[int] = set()
        if self.family == "marian":
            return
        codes = {}
        for lang in (self.src, self.tgt):
            try:
                codes[lang] = mt_language_code(self.family, lang, extra)
            except ValueError as e:
                why = "" if str(e) == f"{self.family} has no language {lang!r}" else f" ({e})"
                raise TranslationModelError(f"translation model {self.name} has no language {lang!r}{why}") from None
            if self._token_id(spelled(self.family, codes[lang])) is None:
                raise TranslationModelError(f"translation model {self.name} has no language {lang!r}: its tokenizer "
                                            f"lacks the token {spelled(self.family, codes[lang])}")
        if self.family == "madlad":
            self.prefix = codes[self.tgt] + " "
            return
        self.tokenizer.src_lang = codes[self.src]
        self.forced_bos = self._token_id(spelled(self.family, codes[self.tgt]))
        if self.family == "m2m100":
            self.language_ids = set(getattr(self.tokenizer, "lang_token_to_id", {}).values())
        else:
            self.language_ids = {i for i in map(self._token_id, NLLB_CODES) if i is not None}
        self.language_ids.add(self.forced_bos)

    def new_tokens(self, source_length: int) -> int:
        """The output length limit for a batch whose longest source has `source_length` subwords."""
        return max(1, min(self.max_length, math.ceil(self.length_ratio * source_length) + self.length_margin))

    def encode(self, segments: list[str]) -> tuple[list[list[int]], set[int]]:
        """Subword ids of each segment (cut to max_length) and the indices of those that were cut."""
        texts = [self.prefix + s for s in segments]
        ids = list(self.tokenizer(texts)["input_ids"]) if texts else []
        cut = {i for i, row in enumerate(ids) if len(row) > self.max_length}
        if cut:
            shortened = self.tokenizer([texts[i] for i in sorted(cut)], truncation=True,
                                       max_length=self.max_length)["input_ids"]
            for i, row in zip(sorted(cut), shortened):
                ids[i] = row
        return ids, cut

    def batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices in batches: longest first, at most batch_size segments and batch_tokens padded subwords."""
        order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
        batches: list[list[int]] = []
        for i in order:
            if batches:
                batch = batches[-1]
                padded = lengths[batch[0]] * (len(batch) + 1)  # the first is the longest
                if len(batch) < self.batch_size and (self.batch_tokens is None or padded <= self.batch_tokens):
                    batch.append(i)
                    continue
            batches.append([i])
        return batches

    def _generate_batch(self, rows: list[list[int]]) -> tuple[list[str], list[bool]]:
        """Translations of one batch of encoded segments, and whether each ended before the length limit."""
        limit = self.new_tokens(max(len(r) for r in rows))
        generate = self._generate_ctranslate2 if self.backend == "ctranslate2" else self._generate_transformers
        outputs, finished = generate(rows, limit)
        self.generate_calls += 1
        cleaned = [[t for t in row if t not in self.language_ids] for row in outputs]
        texts = [" ".join(t.split()) for t in self.tokenizer.batch_decode(cleaned, skip_special_tokens=True)]
        return texts, finished

    def _generate_transformers(self, rows: list[list[int]], limit: int) -> tuple[list[list[int]], list[bool]]:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for k, row in enumerate(rows):
            input_ids[k, : len(row)] = torch.tensor(row)
            attention[k, : len(row)] = 1
        # no forced end token at the limit (Marian's configs force one): a cut output must look unfinished
        kwargs = {"num_beams": self.num_beams, "max_new_tokens": limit, "forced_eos_token_id": None}
        if self.fixed_length:
            kwargs["min_new_tokens"] = limit
        if self.forced_bos is not None:
            kwargs["forced_bos_token_id"] = self.forced_bos
        with torch.inference_mode():
            output = self.model.generate(input_ids=input_ids.to(self.device), attention_mask=attention.to(self.device),
                                         **kwargs)
        eos = self.model.generation_config.eos_token_id
        eos = set(eos) if isinstance(eos, list) else {eos}
        outputs = output.tolist()
        return outputs, [any(t in eos for t in row[1:]) for row in outputs]

    def _generate_ctranslate2(self, rows: list[list[int]], limit: int) -> tuple[list[list[int]], list[bool]]:
        # the decoding length counts the forced language token and the end token, as max_new_tokens does; no
        # minimum (as generate), and no cut of long sources (encode has cut them to max_length already)
        language = None if self.forced_bos is None else [self.tokenizer.convert_ids_to_tokens(self.forced_bos)]
        results = self.model.translate_batch(
            [self.tokenizer.convert_ids_to_tokens(row) for row in rows], [language] * len(rows),
            beam_size=self.num_beams, max_decoding_length=limit, min_decoding_length=limit if self.fixed_length else 0,
            return_end_token=True, max_input_length=0)
        eos = self.tokenizer.eos_token
        hypotheses = [result.hypotheses[0] for result in results]
        return ([self.tokenizer.convert_tokens_to_ids(tokens) for tokens in hypotheses],
                [bool(tokens) and tokens[-1] == eos for tokens in hypotheses])

    def translate(self, segments: Iterable[str], progress: Path | None = None) -> dict[str, str]:
        """Translations of the unique `segments` (segment -> translation). With `progress`, translations found
        there are reused and each new batch is appended to it."""
        unique = list(dict.fromkeys(segments))
        done = read_progress(progress) if progress is not None else {}
        result = {s: done[s]["translation"] for s in unique if s in done}
        self.incomplete |= {s for s in result if not done[s].get("complete", True)}
        todo = [s for s in unique if s not in result]
        self.resumed += len(result)
        if not todo:
            return result
        ids, cut = self.encode(todo)
        batches = self.batches([len(r) for r in ids])
        log.info("%s -> %s: %d segments to translate (%d resumed) in %d batches", self.src, self.tgt, len(todo),
                 len(result), len(batches))
        sink = None
        if progress is not None:
            Path(progress).parent.mkdir(parents=True, exist_ok=True)
            drop_partial_line(Path(progress))
            sink = open(progress, "a", encoding="utf-8")
        started = time.perf_counter()
        try:
            for number, batch in enumerate(batches, start=1):
                texts, finished = self._generate_batch([ids[i] for i in batch])
                lines = []
                for i, text, ended in zip(batch, texts, finished):
                    complete = (ended or self.fixed_length) and i not in cut
                    result[todo[i]] = text
                    if not complete:
                        self.incomplete.add(todo[i])
                    lines.append(json.dumps({"source": todo[i], "translation": text, "complete": complete},
                                            ensure_ascii=False) + "\n")
                self.translated += len(batch)
                if sink is not None:
                    sink.write("".join(lines))
                    sink.flush()
                    os.fsync(sink.fileno())
                if number % 20 == 0 or number == len(batches):
                    elapsed = time.perf_counter() - started
                    log.info("batch %d/%d: %d segments in %.1f s (%.1f segments/s)", number, len(batches),
                             self.translated, elapsed, self.translated / max(elapsed, 1e-9))
        finally:
            if sink is not None:
                sink.close()
        return result


def read_progress(path: Path) -> dict[str, dict]:
    """The translations a previous run finished (source -> its progress entry). A line cut short by a crash
    while it was written (only ever the last one) is ignored."""
    entries = {}
    path = Path(path)
    if not path.exists():
        return entries
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number >= len(lines) - 1:
                log.warning("%s:%d: ignoring a partly written last line", path, number)
                continue
            raise ValueError(f"{path}:{number}: not a JSON object; delete the file to translate from scratch") from None
        entries[entry["source"]] = entry
    return entries


def drop_partial_line(path: Path) -> None:
    """Cut a last line left unfinished by a crash, so that lines appended later stay whole."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)
