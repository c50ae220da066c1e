"""Machine translation of training data with the tiny offline M2M100 (xstilts.tiny_mt): shard jobs, resuming
after an interruption, the quality report and its thresholds, the record handling of every family, and the
command lines the rules run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xstilts.jsonl import read_jsonl, write_jsonl
from xstilts.tasks import get_task
from xstilts.translation import engine
from xstilts.translation.engine import TranslationModelError, Translator, read_progress
from xstilts.translation.records import UNTRANSLATED, UntranslatableError, assemble, plan_record
from xstilts.translation.shard import QualityError, check_quality, select_shard, shard_order, translate_shard

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model runs fastest on one thread; more threads spin-wait on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_mt(tmp_path_factory):
    from xstilts.tiny_mt import build_tiny_mt

    return build_tiny_mt(tmp_path_factory.mktemp("tiny-mt"))


@pytest.fixture(scope="session")
def converted(tiny_mt, tmp_path_factory):
    """The tiny model converted to CTranslate2 (the ctranslate2 backend's input)."""
    from xstilts.translation.convert import convert_model

    return convert_model(tiny_mt, tmp_path_factory.mktemp("ctranslate2") / "tiny-mt", "m2m100")[0]


@pytest.fixture(params=["ctranslate2", "transformers"])
def settings(request, tiny_mt):
    """The tiny model's settings, once per backend (a test passes `converted`, which transformers ignores)."""
    return {"model": "tiny", "family": "m2m100", "path": str(tiny_mt), "shard_size": 24, "num_beams": 1,
            "max_length": 64, "backend": request.param}


def run_shard(records, task, settings, out, converted, shard=0, batch_size=8):
    stats = translate_shard(records, task, "de", shard, settings, out / f"shard{shard}.jsonl",
                            out / f"shard{shard}.stats.json", out / "checkpoints" / f"shard{shard}",
                            converted_dir=converted, batch_size=batch_size)
    return list(read_jsonl(out / f"shard{shard}.jsonl")), stats


# --- the tiny model ---------------------------------------------------------------------------------------------

def test_tiny_model_translates_word_by_word_and_keeps_markers(settings, converted):
    translator = Translator({**settings, "num_beams": 2}, "en", "de", converted_dir=converted, batch_size=4)
    out = translator.translate(["the house sees the river .", "the small city walks [1987] quickly ."])
    assert out["the house sees the river ."].split()[:3] == ["das", "haus", "sieht"]
    assert "[1987]" in out["the small city walks [1987] quickly ."]
    assert not any("__" in t for t in out.values())  # M2M100's language tokens are removed
    back = Translator(settings, "de", "en", converted_dir=converted, batch_size=4)
    back = back.translate(["das haus sieht den fluss ."])
    assert back["das haus sieht den fluss ."].startswith("the house")


def test_a_language_the_model_lacks_fails_at_load(settings, converted):
    with pytest.raises(TranslationModelError, match=r"translation model tiny \(.*\) has no language 'xx'"):
        Translator(settings, "en", "xx", converted_dir=converted)


def test_marian_needs_its_direction():
    with pytest.raises(TranslationModelError, match="has no language 'ru' .marian: no entry for 'ru' under models"):
        engine.model_location({"family": "marian", "models": {"de": "a"}, "back_models": {}}, "en", "ru")
    assert engine.model_location({"family": "marian", "models": {"de": "a"}}, "en", "de") == "a"


def tiny_random(family):
    """A random-weight model and a character-level tokenizer of `family`'s kind (no training, no download)."""
    import torch
    from transformers import (M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer, T5Config,
                              T5ForConditionalGeneration, T5Tokenizer)

    pieces = ["▁"] + [p for c in "abcdefghijklmnopqrstuvwxyz." for p in (c, "▁" + c)]
    torch.manual_seed(0)
    if family == "nllb":
        tokenizer = NllbTokenizer(vocab={"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3,
                                         **{p: 4 + i for i, p in enumerate(pieces)}}, merges=[])
        config = M2M100Config(vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
                              encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                              decoder_ffn_dim=32, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                              decoder_start_token_id=2)
        return M2M100ForConditionalGeneration(config), tokenizer
    tokenizer = T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(p, -1.0) for p in pieces],
                            extra_ids=0)
    tokenizer.add_tokens(["<2de>", "<2en>"], special_tokens=True)
    config = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    return T5ForConditionalGeneration(config), tokenizer


def recorded_generate(model):
    calls = []
    original = model.generate

    def generate(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    model.generate = generate
    return calls


def test_nllb_forces_the_flores_code_and_removes_language_tokens():
    model, tokenizer = tiny_random("nllb")
    settings = {"family": "nllb", "hf_id": "tiny/nllb", "num_beams": 1, "max_length": 8}
    translator = Translator(settings, "en", "de", model=model, tokenizer=tokenizer)
    calls = recorded_generate(model)
    out = translator.translate(["the house .", "a cat ."])
    deu, eng = tokenizer.convert_tokens_to_ids("deu_Latn"), tokenizer.convert_tokens_to_ids("eng_Latn")
    assert calls[0]["forced_bos_token_id"] == deu
    assert calls[0]["input_ids"][:, 0].tolist() == [eng, eng]  # NLLB's source language prefix
    assert not any(code in text for text in out.values() for code in ("deu_Latn", "eng_Latn"))
    with pytest.raises(TranslationModelError, match=r"translation model tiny/nllb has no language 'qu'"):
        Translator(settings, "en", "qu", model=model, tokenizer=tokenizer)


def test_madlad_prefixes_the_target_language_and_checks_its_token():
    model, tokenizer = tiny_random("madlad")
    settings = {"family": "madlad", "hf_id": "tiny/madlad", "num_beams": 2, "max_length": 8}
    translator = Translator(settings, "en", "de", model=model, tokenizer=tokenizer)
    calls = recorded_generate(model)
    translator.translate(["the house ."])
    assert calls[0]["input_ids"][0, 0].item() == tokenizer.convert_tokens_to_ids("<2de>")
    assert "forced_bos_token_id" not in calls[0]
    with pytest.raises(TranslationModelError, match=r"has no language 'fr': its tokenizer lacks the token <2fr>"):
        Translator(settings, "en", "fr", model=model, tokenizer=tokenizer)


# --- the ctranslate2 backend: the same translations as generate ----------------------------------------------------

def test_ctranslate2_translates_as_generate_does(settings, converted):
    from xstilts.tiny_mt import parallel_sentences

    texts = [pair["en"] for pair in parallel_sentences(7, 120)]
    for beams in (1, 4):
        exact = {**settings, "num_beams": beams, "compute_type": "float32"}
        generate = Translator({**exact, "backend": "transformers"}, "en", "ru", batch_size=32).translate(texts)
        ctranslate2 = Translator({**exact, "backend": "ctranslate2"}, "en", "ru", converted_dir=converted,
                                 batch_size=32)
        assert ctranslate2.translate(texts) == generate
        assert ctranslate2.generate_calls == 4 and not ctranslate2.incomplete
    with pytest.raises(TranslationModelError, match="backend ctranslate2 needs the model converted"):
        Translator({**settings, "backend": "ctranslate2"}, "en", "de")
    with pytest.raises(TranslationModelError, match="compute_type int8 needs backend ctranslate2"):
        Translator({**settings, "backend": "transformers", "compute_type": "int8"}, "en", "de")


def test_a_gpu_ctranslate2_cannot_use_fails_instead_of_translating_on_the_cpu(settings, converted, monkeypatch):
    import ctranslate2
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    with pytest.raises(TranslationModelError, match="this job has a GPU, but CTranslate2 finds no usable CUDA"):
        Translator({**settings, "backend": "ctranslate2"}, "en", "de", converted_dir=converted)


def save_tiny_random(family, directory):
    model, tokenizer = tiny_random(family)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_marian(directory):
    """A random-weight Marian model per direction (en-de/, de-en/) with the tiny model's SentencePiece, as
    OPUS-MT models come: vocabulary </s>, <unk>, the pieces, <pad> last; a zero <pad> embedding (decoding
    starts from it); <pad> never generated."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    from xstilts.tiny_mt import build_tiny_tokenizer, parallel_sentences

    build_tiny_tokenizer(directory / "spm", parallel_sentences(0, 300))
    piece_model = directory / "spm" / "sentencepiece.bpe.model"
    sp = spm.SentencePieceProcessor(model_file=str(piece_model))
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i)):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = pad = len(vocab)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    torch.manual_seed(0)
    for src, tgt in (("en", "de"), ("de", "en")):
        tokenizer = MarianTokenizer(source_spm=str(piece_model), target_spm=str(piece_model),
                                    vocab=str(directory / "vocab.json"), source_lang=src, target_lang=tgt)
        config = MarianConfig(vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
                              encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                              decoder_ffn_dim=64, max_position_embeddings=128, pad_token_id=pad, eos_token_id=0,
                              decoder_start_token_id=pad, forced_eos_token_id=0,
                              share_encoder_decoder_embeddings=True)
        model = MarianMTModel(config)
        with torch.no_grad():
            model.get_input_embeddings().weight[pad].zero_()
        model.generation_config.bad_words_ids = [[pad]]
        model.save_pretrained(directory / "marian" / f"{src}-{tgt}")
        tokenizer.save_pretrained(directory / "marian" / f"{src}-{tgt}")
    return directory / "marian"


def log_probs(translator, source: str, target: str) -> list[float]:
    """The log-probability of each token of `target` (after the forced language token, if any, and with the end
    token) given `source`, under the translator's model, either backend."""
    import torch

    tokenizer = translator.tokenizer
    source_ids = translator.encode([source])[0][0]
    target_ids = ([] if translator.forced_bos is None else [translator.forced_bos]) + \
        tokenizer(text_target=target, add_special_tokens=False)["input_ids"]
    if translator.backend == "ctranslate2":
        (result,) = translator.model.score_batch([tokenizer.convert_ids_to_tokens(source_ids)],
                                                 [tokenizer.convert_ids_to_tokens(target_ids)])
        return result.log_probs
    start = translator.model.config.decoder_start_token_id
    with torch.no_grad():
        logits = translator.model(input_ids=torch.tensor([source_ids]),
                                  decoder_input_ids=torch.tensor([[start] + target_ids])).logits[0]
    for (banned,) in translator.model.generation_config.bad_words_ids or []:  # Marian's <pad>, never generated
        logits[:, banned] = float("-inf")
    expected = target_ids + [tokenizer.eos_token_id]
    return [row[token].item() for row, token in zip(torch.log_softmax(logits, -1), expected)]


@pytest.mark.parametrize("family", ["nllb", "madlad", "marian"])
def test_every_family_converts_to_the_same_model(family, tmp_path):
    from xstilts.translation.convert import convert_model

    source = tiny_marian(tmp_path) if family == "marian" else save_tiny_random(family, tmp_path / "hf")
    converted = convert_model(source, tmp_path / "ctranslate2", family)
    if family == "marian":  # one model per direction, converted side by side
        assert sorted(p.name for p in converted) == ["de-en", "en-de"]
    assert not (tmp_path / "ctranslate2.partial").exists()
    settings = {"family": family, "hf_id": f"tiny/{family}", "num_beams": 2, "max_length": 12,
                "compute_type": "float32"}
    texts = ["the house .", "a cat sat on the mat .", "the small river sees the old city ."]
    for src, tgt in (("en", "de"), ("de", "en")):
        # random weights never end a sentence on purpose: every output is made as long as the limit
        generate = Translator({**settings, "backend": "transformers"}, src, tgt, model_dir=source,
                              fixed_length=True)
        ctranslate2 = Translator({**settings, "backend": "ctranslate2"}, src, tgt, model_dir=source,
                                 converted_dir=tmp_path / "ctranslate2", fixed_length=True)
        # weights, vocabulary, positions and the language token carried over: the same probabilities
        expected = log_probs(generate, "the small house .", "das kleine haus .")
        assert log_probs(ctranslate2, "the small house .", "das kleine haus .") == pytest.approx(expected, abs=1e-4)
        assert ctranslate2.translate(texts) == generate.translate(texts)  # and the same beam search


def test_batches_are_length_sorted_within_the_limits(settings, converted):
    translator = Translator(settings, "en", "de", converted_dir=converted, batch_size=3, batch_tokens=40)
    lengths = [5, 30, 7, 12, 12, 3, 9]
    batches = translator.batches(lengths)
    assert [[lengths[i] for i in b] for b in batches] == [[30], [12, 12, 9], [7, 5, 3]]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))


# --- shard jobs ---------------------------------------------------------------------------------------------------

def test_squad_shard(prepared, settings, converted, tmp_path):
    records, stats = run_shard(prepared("squad", "en", "train"), "squad", settings, tmp_path, converted)
    english = {r["id"]: r for r in read_jsonl(prepared("squad", "en", "train"))}
    assert stats["records"] == 24 and stats["kept"] == len(records)
    assert stats["kept"] + sum(stats["dropped"].values()) == 24
    projection = stats["projection"]
    assert projection["markers"] + projection["fuzzy"] == stats["kept"]
    assert projection["markers"] >= 12  # the markers survive the tiny model most of the time
    assert stats["segments"]["unique"] < stats["segments"]["total"]  # the question is translated once
    assert stats["segments"]["translated"] == stats["segments"]["unique"]
    same = 0
    for record in records:
        source = english[record["id"].removesuffix("-de")]
        answer = record["answers"][0]
        assert record["context"][answer["answer_start"]:][: len(answer["text"])] == answer["text"]
        assert "[" not in record["context"] and "]" not in record["context"]
        assert record["question"] == "Wann geschah es ?"
        same += answer["text"] == source["answers"][0]["text"]
    assert same >= 0.75 * len(records)  # the demo's answers are years, which the model mostly copies right
    assert not (tmp_path / "checkpoints" / "shard0").exists()


def test_shards_slice_one_seeded_order_and_keep_groups_together():
    family = get_task("squad").family
    records = [{"id": f"q{i}", "context": f"context {i // 3}", "question": "q", "answers": []} for i in range(30)]
    order = shard_order(family, records)
    assert sorted(order) == list(range(30))
    assert order != list(range(30))
    contexts = [records[i]["context"] for i in order]
    assert all(len(set(contexts[k:k + 3])) == 1 for k in range(0, 30, 3))  # questions of a context stay together
    shards = [select_shard(family, records, k, 7) for k in range(5)]
    assert [r["id"] for s in shards for r in s] == [records[i]["id"] for i in order]
    assert select_shard(family, records, 1, 7) == shards[1]  # deterministic


def test_resume_after_an_interruption_translates_only_the_rest(prepared, settings, converted, tmp_path, monkeypatch):
    data = prepared("mnli", "en", "train")
    reference, stats = run_shard(data, "mnli", settings, tmp_path / "reference", converted)
    batches = stats["generate_calls"]
    assert batches == 6  # 48 unique segments, batches of 8

    calls = []
    original = Translator._generate_batch

    def interrupted(self, rows):
        if len(calls) == 2:
            raise KeyboardInterrupt("killed at the time limit")
        calls.append(len(rows))
        return original(self, rows)

    monkeypatch.setattr(Translator, "_generate_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_shard(data, "mnli", settings, tmp_path / "run", converted)
    (progress,) = (tmp_path / "run" / "checkpoints" / "shard0").glob("progress-*.jsonl")
    assert len(read_progress(progress)) == 16
    assert not (tmp_path / "run" / "shard0.jsonl").exists()

    monkeypatch.setattr(Translator, "_generate_batch", original)
    # a changed setting does not reuse the interrupted run's translations
    shutil.copytree(tmp_path / "run" / "checkpoints", tmp_path / "changed" / "checkpoints")
    _, changed = run_shard(data, "mnli", {**settings, "length_margin": 12}, tmp_path / "changed", converted)
    assert changed["segments"]["resumed"] == 0 and changed["generate_calls"] == batches

    records, resumed = run_shard(data, "mnli", settings, tmp_path / "run", converted)
    assert resumed["generate_calls"] == batches - 2
    assert resumed["segments"]["resumed"] == 16 and resumed["segments"]["translated"] == 32
    assert records == reference  # and the result is the same as in one go


def test_a_partly_written_progress_line_is_ignored(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_text('{"source": "a", "translation": "b", "complete": true}\n{"source": "c", "transl')
    assert list(read_progress(path)) == ["a"]
    engine.drop_partial_line(path)  # before a resumed run appends to it
    assert path.read_text() == '{"source": "a", "translation": "b", "complete": true}\n'
    path.write_text('{"source": "a", "tr\n{"source": "c", "translation": "d"}\n')
    with pytest.raises(ValueError, match="progress.jsonl:1: not a JSON object"):
        read_progress(path)


def test_quality_report_and_thresholds(prepared, settings, converted, tmp_path):
    data = prepared("mnli", "en", "train")
    shards, stats = [], []
    for k in (0, 1):
        run_shard(data, "mnli", settings, tmp_path, converted, shard=k)
        shards.append(tmp_path / f"shard{k}.jsonl")
        stats.append(tmp_path / f"shard{k}.stats.json")
    report = tmp_path / "quality.json"
    result = check_quality(shards, stats, "mnli", "de", settings,
                           {"sample": 40, "min_kept_fraction": 0.5, "min_chrf": 20}, report, converted_dir=converted)
    assert json.loads(report.read_text()) == result
    assert result["passed"] and result["records"] == 48 and result["shards"] == 2
    assert result["chrf_sample"] == 40 and 20 < result["chrf"] <= 100
    assert result["projection_rate"] is None  # no spans in MNLI

    with pytest.raises(QualityError, match=r"translation of mnli into de fails the quality check: round-trip chrF "
                                           r"[\d.]+ is below min_chrf 101"):
        check_quality(shards, stats, "mnli", "de", settings, {"sample": 10, "min_chrf": 101}, report,
                      converted_dir=converted)
    assert json.loads(report.read_text())["passed"] is False  # the report is written all the same

    with pytest.raises(ValueError, match="unknown keys min_bleu"):
        check_quality(shards, stats, "mnli", "de", settings, {"min_bleu": 3}, report)
    write_jsonl(shards[1], [])
    with pytest.raises(ValueError, match="shard1.jsonl: 0 records, but its statistics"):
        check_quality(shards, stats, "mnli", "de", settings, {}, report)


def test_squad_projection_threshold_fails_loudly(prepared, settings, converted, tmp_path):
    run_shard(prepared("squad", "en", "train"), "squad", {**settings, "shard_size": 8}, tmp_path, converted)
    with pytest.raises(QualityError, match=r"squad into de .*span projection rate [\d.]+ is below "
                                           r"min_projection_rate 1.01"):
        check_quality([tmp_path / "shard0.jsonl"], [tmp_path / "shard0.stats.json"], "squad", "de",
                      {**settings, "shard_size": 8}, {"sample": 5, "min_projection_rate": 1.01}, tmp_path / "q.json",
                      converted_dir=converted)


# --- record handling of every family (pure: a fake translation) ---------------------------------------------------

def fake(segments):
    """A stand-in translation that keeps markers where they are: upper case."""
    return {s: s.upper() for s in segments}


def translate_records(task, records, translate=fake, lang="de"):
    family = get_task(task).family
    plans = [plan_record(family, r, 200) for r in records]
    translations = translate([s for p in plans for s in p.segments()])
    return [assemble(family, p, translations, lang) for p in plans]


def test_classification_pairs_and_single_sentences_keep_the_label():
    (pair, _, _), = translate_records("mnli", [{"id": "1", "text_a": "The cat sat. It slept.", "text_b": "A cat.",
                                                "label": "entailment"}])
    assert pair == {"id": "1-de", "text_a": "THE CAT SAT. IT SLEPT.", "text_b": "A CAT.", "label": "entailment"}
    (single, _, _), = translate_records("sst2", [{"id": "2", "text_a": "great film", "text_b": None, "label": "1"}])
    assert single == {"id": "2-de", "text_a": "GREAT FILM", "text_b": None, "label": "1"}


def test_multiple_choice_translates_context_question_and_every_choice():
    record = {"id": "h", "context": "A man sits.", "question": "He", "choices": ["runs", "eats", "", "sleeps"],
              "label": 3}
    (out, _, _), = translate_records("hellaswag", [record])
    assert out == {"id": "h-de", "context": "A MAN SITS.", "question": "HE", "choices": ["RUNS", "EATS", "", "SLEEPS"],
                   "label": 3}
    csqa = {"id": "c", "context": "", "question": "Where?", "choices": ["a", "b", "c", "d", "e"], "label": 0}
    (out, _, _), = translate_records("commonsenseqa", [csqa])
    assert out["context"] == "" and out["choices"] == ["A", "B", "C", "D", "E"]


def test_span_qa_with_and_without_an_answer():
    context = "The tower [of Paris] was built in 1889. It is tall."
    records = [
        {"id": "a", "title": "t", "context": context, "question": "When?",
         "answers": [{"text": "1889", "answer_start": context.index("1889")}]},
        {"id": "b", "title": "t", "context": context, "question": "Who?", "answers": []},
    ]
    family = get_task("squad_v2").family
    plans = [plan_record(family, r, 200) for r in records]
    assert plans[0].parts["context"] == ["The tower (of Paris) was built in [1889].", "It is tall."]
    assert plans[0].parts["answer"] == ["1889"]
    assert plans[1].parts["context"] == ["The tower (of Paris) was built in 1889.", "It is tall."]
    assert len({s for p in plans for s in p.segments()}) == 6  # "It is tall." once
    (answered, _, how), (unanswerable, _, _) = translate_records("squad_v2", records)
    assert how == "markers"
    assert answered["context"] == "THE TOWER (OF PARIS) WAS BUILT IN 1889. IT IS TALL."
    assert answered["answers"] == [{"text": "1889", "answer_start": 34}]
    assert unanswerable["answers"] == []
    assert unanswerable["context"] == "THE TOWER (OF PARIS) WAS BUILT IN 1889. IT IS TALL."


def test_languages_without_spaces_join_sentences_directly():
    (out, _, _), = translate_records("mnli", [{"id": "1", "text_a": "One. Two.", "text_b": "x", "label": "neutral"}],
                                     lang="zh")
    assert out["text_a"] == "ONE.TWO."


def test_records_whose_text_comes_back_empty_are_dropped():
    record = {"id": "1", "text_a": "One.", "text_b": "Two.", "label": "neutral"}
    (out, reason, _), = translate_records("mnli", [record], translate=lambda segs: {s: "" for s in segs})
    assert out is None and reason == UNTRANSLATED


def test_tagging_is_not_translatable_and_says_why(tmp_path):
    family = get_task("ccg").family
    with pytest.raises(UntranslatableError, match="tagging data cannot be machine-translated: its labels are per "
                                                  "token"):
        plan_record(family, {"id": "1", "tokens": ["a"], "tags": ["0"]}, 200)
    path = tmp_path / "ccg.jsonl"
    write_jsonl(path, [{"id": "1", "tokens": ["a"], "tags": ["0"]}])
    settings = {"family": "m2m100", "path": str(tmp_path / "no-model"), "shard_size": 10}
    with pytest.raises(UntranslatableError, match="task ccg: tagging data cannot"):  # before any model is loaded
        translate_shard(path, "ccg", "de", 0, settings, tmp_path / "o.jsonl", tmp_path / "s.json", tmp_path / "c")


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="translation settings: unknown keys beams"):
        translate_shard(tmp_path / "x.jsonl", "mnli", "de", 0, {"family": "nllb", "beams": 4}, tmp_path / "o",
                        tmp_path / "s", tmp_path / "c")


# --- the command lines the rules run ------------------------------------------------------------------------------

def cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "xstilts", *map(str, args)], capture_output=True, text=True, env=env)


def test_command_lines(prepared, settings, tiny_mt, tmp_path):
    entry = {k: v for k, v in settings.items() if k != "path"}  # the model comes from --model, as in the rules
    entry["hf_id"] = "tiny/never-downloaded"
    located = ["--model", tiny_mt]
    if settings["backend"] == "ctranslate2":
        conversion = cli("convert-mt", "--model", tiny_mt, "--family", "m2m100", "--output", tmp_path / "ct2")
        assert conversion.returncode == 0, conversion.stderr[-3000:]
        assert (tmp_path / "ct2" / "model.bin").is_file() and not (tmp_path / "ct2.partial").exists()
        assert "model" in json.loads((tmp_path / "ct2" / "provenance.json").read_text())["inputs"]
        located += ["--converted", tmp_path / "ct2"]
        not_marian = cli("convert-mt", "--model", tiny_mt, "--family", "marian", "--output", tmp_path / "m")
        assert not_marian.returncode == 1 and "no marian direction folders (<src>-<tgt>/" in not_marian.stderr
    done = cli("translate", "--task", "mnli", "--lang", "de", "--shard", 1, "--input", prepared("mnli", "en", "train"),
               *located, "--settings", json.dumps(entry), "--batch-size", 16, "--output",
               tmp_path / "s1.jsonl", "--stats", tmp_path / "s1.stats.json", "--checkpoints", tmp_path / "ck")
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(read_jsonl(tmp_path / "s1.jsonl"))) == json.loads((tmp_path / "s1.stats.json").read_text())["kept"]

    failed = cli("translation-quality", "--task", "mnli", "--lang", "de", "--shards", tmp_path / "s1.jsonl",
                 "--stats", tmp_path / "s1.stats.json", *located, "--settings", json.dumps(entry),
                 "--quality", json.dumps({"sample": 10, "min_kept_fraction": 1.5}), "--report", tmp_path / "q.json")
    assert failed.returncode == 1
    assert "error: translation of mnli into de fails the quality check: kept fraction 1.000 is below " \
           "min_kept_fraction 1.5" in failed.stderr

    wrong = cli("translate", "--task", "mnli", "--lang", "xx", "--shard", 0, "--input", prepared("mnli", "en", "train"),
                *located, "--settings", json.dumps(entry), "--output", tmp_path / "x.jsonl", "--stats",
                tmp_path / "x.json", "--checkpoints", tmp_path / "ckx")
    assert wrong.returncode == 1
    assert "error: translation model tiny (tiny/never-downloaded) has no language 'xx'" in wrong.stderr
