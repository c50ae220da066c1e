"""Translation jobs: one shard of a task's English training set into one language (`translate_shard`), and the
quality report over all shards of a (task, language) that gates training on them (`check_quality`).

Shards are fixed-size slices of one seeded order of the English training set, so raising a size cap anywhere
only adds shards and a finished shard is never translated again. The order shuffles groups of records that
share their main text (a SQuAD context and its questions, an MNLI premise and its hypotheses; see
records.group_key), so the shared sentences are translated once, in one job. Within a job, translations are
checkpointed after every batch under `checkpoints/` (outside the job's outputs, which Snakemake deletes when a job
fails), so a job killed at its time limit resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import sys
import time
from pathlib import Path

from ..jsonl import read_jsonl, write_json, write_jsonl
from ..tasks import get_task
from .engine import DEFAULT_BATCH_SIZE, Translator
from .project import DEFAULT_THRESHOLD, strip_markers
from .records import NO_SPAN, UntranslatableError, assemble, check_translatable, group_key, plan_record

log = logging.getLogger(__name__)

# keys of a translation's settings: the config's model entry (xstilts.translation.languages) plus what shapes
# the output (Grid.translation_settings); optional ones have defaults below
MODEL_KEYS = {"model", "family", "hf_id", "path", "revision", "models", "back_models", "languages"}
OUTPUT_KEYS = {"shard_size", "backend", "compute_type", "num_beams", "max_length", "seed", "max_segment_chars",
               "fuzzy_threshold", "length_ratio", "length_margin"}
QUALITY_KEYS = {"sample", "min_kept_fraction", "min_projection_rate", "min_chrf", "seed"}
DEFAULT_SEED = 0
STATS_SAMPLE = 500  # (English, translation) segment pairs kept per shard for the round-trip check
DEFAULT_QUALITY_SAMPLE = 200


class QualityError(RuntimeError):
    """A translated (task, language) misses a quality threshold."""


def check_settings(settings: dict, allowed: set[str], what: str) -> None:
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def shard_order(family, records: list[dict], seed: int = DEFAULT_SEED) -> list[int]:
    """Record indices in the seeded order shards slice: groups of records sharing their main text, in a seeded
    random order, each group's records in file order."""
    groups: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        groups.setdefault(group_key(family, record), []).append(i)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    return [i for key in keys for i in groups[key]]


def select_shard(family, records: list[dict], shard: int, shard_size: int, seed: int = DEFAULT_SEED) -> list[dict]:
    """Shard `shard` (from 0): records [shard * shard_size, (shard + 1) * shard_size) of `shard_order`."""
    if shard < 0 or shard_size < 1:
        raise ValueError(f"shard {shard} of size {shard_size}: need shard >= 0 and shard_size >= 1")
    order = shard_order(family, records, seed)
    return [records[i] for i in order[shard * shard_size : (shard + 1) * shard_size]]


def _read_records(path: Path, family) -> list[dict]:
    records = []
    for number, record in enumerate(read_jsonl(path), start=1):
        family.check_record(record, f"{path}:{number}")
        records.append(record)
    return records


def translate_shard(records_path: Path, task: str, lang: str, shard: int, settings: dict, output: Path,
                    stats_output: Path, checkpoints: Path, model_dir: Path | None = None,
                    converted_dir: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                    batch_tokens: int | None = None) -> dict:
    """Translate shard `shard` of `task`'s English training records (`records_path`) into `lang`; write the
    translated records (same family schema, ids suffixed "-<lang>") to `output` and the job's statistics to
    `stats_output`, and return them. `settings`: the model entry and decoding settings (MODEL_KEYS,
    OUTPUT_KEYS); `model_dir`: a local copy of the model (default: the entry's path or hf_id); `converted_dir`:
    its CTranslate2 conversion (backend ctranslate2)."""
    started = time.perf_counter()
    check_settings(settings, MODEL_KEYS | OUTPUT_KEYS, "translation settings")
    family = get_task(task).family
    try:
        check_translatable(family)
    except UntranslatableError as e:
        raise UntranslatableError(f"task {task}: {e}") from None
    if lang == "en":
        raise ValueError(f"task {task}: translation is from English; 'en' is not a target language")
    seed = settings.get("seed", DEFAULT_SEED)
    max_chars = settings.get("max_segment_chars", 3 * settings.get("max_length", 200))
    threshold = settings.get("fuzzy_threshold", DEFAULT_THRESHOLD)
    records = select_shard(family, _read_records(Path(records_path), family), shard, settings["shard_size"], seed)
    plans = [plan_record(family, r, max_chars) for r in records]
    segments = [s for plan in plans for s in plan.segments()]
    unique = list(dict.fromkeys(segments))
    log.info("%s -> %s shard %d: %d records, %d segments (%d unique)", task, lang, shard, len(records),
             len(segments), len(unique))

    # keyed by everything that shapes a translation, so a changed setting never resumes stale translations
    fingerprint = hashlib.sha256(json.dumps([settings, str(model_dir), str(converted_dir)],
                                        sort_keys=True).encode()).hexdigest()[:16]
    progress = Path(checkpoints) / f"progress-{fingerprint}.jsonl"
    translator = None
    translations: dict[str, str] = {}
    loaded = translated = time.perf_counter()
    if unique:
        translator = Translator(settings, "en", lang, model_dir=model_dir, converted_dir=converted_dir,
                                batch_size=batch_size, batch_tokens=batch_tokens)
        loaded = time.perf_counter()
        translations = translator.translate(unique, progress)
        translated = time.perf_counter()
    incomplete = translator.incomplete if translator else set()

    kept, dropped = [], {}
    projection = {"markers": 0, "fuzzy": 0, "failed": 0}
    for plan in plans:
        record, reason, how = assemble(family, plan, translations, lang, incomplete, threshold)
        if plan.answer and (record is not None or reason == NO_SPAN):  # projection was tried
            projection[how or "failed"] += 1
        if record is None:
            dropped[reason] = dropped.get(reason, 0) + 1
        else:
            kept.append(record)
    write_jsonl(output, kept)

    # the round-trip sample: translated text without markers (a marked sentence counts with its markers
    # removed on both sides); not the answers translated on their own for the fuzzy fallback
    texts = dict.fromkeys(s for plan in plans for name, part in plan.parts.items() if name != "answer"
                          for s in part if s not in incomplete and translations[s].strip())
    candidates = sorted({(strip_markers(s), strip_markers(translations[s])) for s in texts})
    sample = random.Random(seed).sample(candidates, min(STATS_SAMPLE, len(candidates)))
    seconds = time.perf_counter() - started
    translated_now = translator.translated if translator else 0
    stats = {
        "task": task, "lang": lang, "shard": shard, "shard_size": settings["shard_size"],
        "model": settings.get("model"), "family": family.name,
        "records": len(records), "kept": len(kept), "dropped": dict(sorted(dropped.items())),
        "projection": projection if any(p.answer for p in plans) else None,
        "segments": {"total": len(segments), "unique": len(unique), "translated": translated_now,
                     "resumed": translator.resumed if translator else 0, "incomplete": len(incomplete)},
        "generate_calls": translator.generate_calls if translator else 0,
        "seconds": round(seconds, 3), "translate_seconds": round(translated - loaded, 3),
        "segments_per_second": round(translated_now / (translated - loaded), 3) if translated > loaded else None,
        "sample": [list(pair) for pair in sample],
    }
    write_json(stats_output, stats)
    # the outputs are final (Snakemake never reruns a finished shard): the checkpoint has served its purpose
    shutil.rmtree(checkpoints, ignore_errors=True)
    log.info("%s -> %s shard %d: kept %d of %d records (dropped %s), %.1f s", task, lang, shard, len(kept),
             len(records), stats["dropped"] or "none", seconds)
    return stats


def check_quality(shard_outputs: list[Path], stats_files: list[Path], task: str, lang: str, settings: dict,
                  quality: dict, report: Path, model_dir: Path | None = None, converted_dir: Path | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE, batch_tokens: int | None = None) -> dict:
    """The quality report of a translated (task, language) over all its shards, written to `report`: kept and
    dropped counts, span-projection success, and round-trip chrF (sacrebleu) of a seeded sample of translated
    segments sent back to English with the same model. Raises QualityError, naming the task, language, measured
    value and threshold, when `quality` sets a threshold (min_kept_fraction, min_projection_rate, min_chrf) that
    is missed; the report is written first."""
    check_settings(settings, MODEL_KEYS | OUTPUT_KEYS, "translation settings")
    check_settings(quality, QUALITY_KEYS, "translation quality settings")
    if len(shard_outputs) != len(stats_files) or not stats_files:
        raise ValueError(f"{task} -> {lang}: {len(shard_outputs)} shard files but {len(stats_files)} stats files")
    shards, totals = [], {"records": 0, "kept": 0}
    dropped: dict[str, int] = {}
    projection = None
    pairs: list[list[str]] = []
    for output, path in zip(shard_outputs, stats_files):
        stats = json.loads(Path(path).read_text(encoding="utf-8"))
        if (stats["task"], stats["lang"]) != (task, lang):
            raise ValueError(f"{path}: statistics of {stats['task']} -> {stats['lang']}, not {task} -> {lang}")
        lines = sum(1 for _ in read_jsonl(output))
        if lines != stats["kept"]:
            raise ValueError(f"{output}: {lines} records, but its statistics ({path}) say {stats['kept']}")
        shards.append({k: stats[k] for k in ("shard", "records", "kept", "dropped", "projection", "seconds",
                                              "segments_per_second")})
        totals["records"] += stats["records"]
        totals["kept"] += stats["kept"]
        for reason, count in stats["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + count
        if stats["projection"] is not None:
            projection = projection or {"markers": 0, "fuzzy": 0, "failed": 0}
            for how, count in stats["projection"].items():
                projection[how] += count
        pairs.extend(stats["sample"])
    duplicated = sorted({s["shard"] for s in shards if [t["shard"] for t in shards].count(s["shard"]) > 1})
    if duplicated:
        raise ValueError(f"{task} -> {lang}: shard(s) {duplicated} given twice")
    if totals["records"] == 0:
        raise QualityError(f"{task} -> {lang}: no records were translated")

    kept_fraction = totals["kept"] / totals["records"]
    projection_rate = None
    if projection is not None and sum(projection.values()):
        projection_rate = (projection["markers"] + projection["fuzzy"]) / sum(projection.values())
    size = quality.get("sample", DEFAULT_QUALITY_SAMPLE)
    rng = random.Random(quality.get("seed", DEFAULT_SEED))
    unique_pairs = sorted({(s, t) for s, t in pairs})
    sample = rng.sample(unique_pairs, min(size, len(unique_pairs)))
    chrf, examples = None, []
    if sample:
        import sacrebleu

        back = Translator(settings, lang, "en", model_dir=model_dir, converted_dir=converted_dir,
                          batch_size=batch_size, batch_tokens=batch_tokens)
        translated = back.translate([t for _, t in sample])
        round_trip = [translated[t] for _, t in sample]
        chrf = sacrebleu.corpus_chrf(round_trip, [[s for s, _ in sample]]).score
        examples = [{"english": s, "translation": t, "back": b} for (s, t), b in zip(sample[:5], round_trip)]

    measured = {"min_kept_fraction": kept_fraction, "min_projection_rate": projection_rate, "min_chrf": chrf}
    names = {"min_kept_fraction": "kept fraction", "min_projection_rate": "span projection rate",
             "min_chrf": "round-trip chrF"}
    violations = []
    for key, value in measured.items():
        if key in quality and value is not None and value < quality[key]:
            violations.append(f"{names[key]} {value:.3f} is below {key} {quality[key]}")
    result = {
        "task": task, "lang": lang, "model": settings.get("model"), "shards": len(shards),
        "records": totals["records"], "kept": totals["kept"], "kept_fraction": round(kept_fraction, 4),
        "dropped": dict(sorted(dropped.items())), "projection": projection,
        "projection_rate": None if projection_rate is None else round(projection_rate, 4),
        "chrf": None if chrf is None else round(chrf, 2), "chrf_sample": len(sample),
        "thresholds": {k: quality[k] for k in names if k in quality},
        "passed": not violations, "violations": violations, "examples": examples, "per_shard": shards,
    }
    write_json(report, result)
    if violations:
        print(json.dumps(result, ensure_ascii=False, indent=1), file=sys.stderr)
        raise QualityError(f"translation of {task} into {lang} fails the quality check: " + "; ".join(violations)
                           + f" (report: {report})")
    return result
