"""Benchmark: scoring a full XTREME prediction set, ours against the official evaluate.py.

Builds (once, cached) a synthetic prediction set for all nine XTREME tasks and every official language at
the real test-set sizes, in the official layout `<root>/{pred,gold}/<task>/test-<lang>.{tsv,json}`, then
times

  ours      xstilts.predfiles.read_for_scoring + xstilts.metrics.METRICS per language, summarize_task per
            task and summarize_groups over the tasks (what xstilts.score does, without writing JSON);
  official  google-research/xtreme evaluate.py `evaluate()` on the same folders (with --official DIR),

and, with --official, asserts that every per-language number, every average and every group score agree
to --tolerance (default 1e-9), printing the largest absolute difference. Times are best of --repeats.

    python bench/score_xtreme.py --official /tmp/xtreme           # full size, best of 3
    python bench/score_xtreme.py --scale 0.05 --repeats 1          # quick look, ours only

The official checkout needs evaluate.py and third_party/{__init__,evaluate_squad,evaluate_mlqa,
utils_mewslix}.py (keep it outside this repository; see bench/README.md), and seqeval installed.

Sizes (sentences, questions, examples or gold pairs per language; sources in SIZES below) are those of
the real test sets; the content is synthetic: multilingual text in each language's script (Chinese and
Thai without spaces, Arabic with the article "al", English/Spanish/German/Vietnamese articles), mostly
correct predictions with noise that varies by language (QA spans that are exact, shifted, wrong, empty or
missing; IOB2 NER entities that are missed, retyped or mis-bounded; UPOS tags flipped), generated
deterministically from --seed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import math
import os
import platform
import random
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# --- the benchmark's view of XTREME ---------------------------------------------------------------------

# Official language order (evaluate.py XTREME_TASK2LANGS; averages sum in this order) and task order.
TASK2LANGS: dict[str, list[str]] = {
    "pawsx": "de en es fr ja ko zh".split(),
    "xnli": "ar bg de el en es fr hi ru sw th tr ur vi zh".split(),
    "panx": (
        "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my "
        "zh kk tr et fi hu"
    ).split(),
    "udpos": (
        "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh"
    ).split(),
    "bucc2018": "de fr ru zh".split(),
    "tatoeba": (
        "ar he vi id jv tl eu ml ta te af nl de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw zh kk tr et "
        "fi hu"
    ).split(),
    "xquad": "en es de el ru tr ar vi th zh hi".split(),
    "mlqa": "en es de ar hi vi zh".split(),
    "tydiqa": "en ar bn fi id ko ru sw te".split(),
}
GROUPS: dict[str, list[str]] = {
    "classification": ["pawsx", "xnli"],
    "tagging": ["udpos", "panx"],
    "qa": ["xquad", "mlqa", "tydiqa"],
    "retrieval": ["bucc2018", "tatoeba"],
}


@dataclass(frozen=True)
class Spec:
    kind: str  # xstilts.predfiles file kind
    metric: str  # key of xstilts.metrics.METRICS
    group: str

    @property
    def suffix(self) -> str:
        return "json" if self.kind == "qa" else "tsv"


SPECS: dict[str, Spec] = {
    "pawsx": Spec("labels", "accuracy", "classification"),
    "xnli": Spec("labels", "accuracy", "classification"),
    "panx": Spec("tags", "tagging_f1", "tagging"),
    "udpos": Spec("tags", "tagging_f1", "tagging"),
    "bucc2018": Spec("pairs", "bucc_f1", "retrieval"),
    "tatoeba": Spec("labels", "accuracy", "retrieval"),
    "xquad": Spec("qa", "squad_em_f1", "qa"),
    "mlqa": Spec("qa", "mlqa_em_f1", "qa"),
    "tydiqa": Spec("qa", "squad_em_f1", "qa"),
}

# Test-set sizes per language. Where not stated otherwise the counts are the split sizes recorded in the
# Hugging Face `xtreme` loader, huggingface/datasets@d7dfbc83d68e:datasets/xtreme/dataset_infos.json
# (the last commit with the script; 2022-10).
SIZES: dict[str, dict[str, int]] = {
    # XNLI: 5,010 test pairs per language (XTREME paper Table 1; HF XNLI test = 75,150 = 15 x 5,010).
    "xnli": dict.fromkeys(TASK2LANGS["xnli"], 5010),
    # PAWS-X test_2k.tsv; the Korean file has 1,999 pairs (HF PAWS-X.<lang> test).
    "pawsx": {"de": 2000, "en": 2000, "es": 2000, "fr": 2000, "ja": 2000, "ko": 1999, "zh": 2000},
    # UD v2.5, all treebanks of a language merged (HF udpos.<Language> test, in sentences). The XTREME
    # paper gives 47-20,436; these differ slightly for German (all of UD v2.5's German test treebanks).
    "udpos": {
        "af": 425, "ar": 1680, "bg": 1116, "de": 22458, "el": 2809, "en": 5440, "es": 3147, "et": 3760,
        "eu": 1799, "fa": 600, "fi": 4422, "fr": 9465, "he": 491, "hi": 2684, "hu": 449, "id": 1557,
        "it": 3518, "ja": 2372, "kk": 1047, "ko": 4276, "mr": 47, "nl": 1471, "pt": 2681, "ru": 11336,
        "ta": 120, "te": 146, "th": 1000, "tl": 55, "tr": 4785, "ur": 535, "vi": 800, "yo": 100, "zh": 5528,
    },
    # PAN-X / WikiANN (XTREME split), HF PAN-X.<lang> test.
    "panx": {
        **dict.fromkeys(
            "ar bg de el en es et eu fa fi fr he hu id it ja ka ko nl pt ru th tr vi zh".split(), 10000
        ),
        **dict.fromkeys("af bn hi kk ml mr ms sw ta te tl ur".split(), 1000),
        **dict.fromkeys("jv my yo".split(), 100),
    },
    # BUCC 2018 "training" gold pairs, XTREME's test set (HF bucc18.<lang> test).
    "bucc2018": {"de": 9580, "fr": 9086, "ru": 14435, "zh": 1899},
    # Tatoeba (LASER data/tatoeba/v1) sentence pairs: 1,000 except where the corpus has fewer
    # (HF tatoeba.<code> validation).
    "tatoeba": {
        **dict.fromkeys(TASK2LANGS["tatoeba"], 1000),
        "jv": 205, "ka": 746, "kk": 575, "ml": 687, "sw": 390, "ta": 307, "te": 234, "th": 548,
    },
    # XQuAD: 1,190 questions in every language.
    "xquad": dict.fromkeys(TASK2LANGS["xquad"], 1190),
    # MLQA test, context and question in the same language (HF MLQA.<lang>.<lang> test; MLQA paper Table).
    "mlqa": {"en": 11590, "es": 5253, "de": 4517, "ar": 5335, "hi": 4918, "vi": 5495, "zh": 5137},
    # TyDiQA-GoldP v1.1 dev per language (XTREME's test set); they sum to 5,077 = HF tydiqa validation.
    "tydiqa": {"en": 440, "ar": 921, "bn": 113, "fi": 782, "id": 565, "ko": 276, "ru": 812, "sw": 499, "te": 669},
}

# Mean tokens per sentence (an approximation of the real treebanks/WikiANN, not measured): UD-POS around
# 17 tokens with language-specific means, PAN-X (WikiANN sentences are short) around 8.
UD_MEAN_LEN = {
    "af": 23, "ar": 31, "bg": 14, "de": 17, "el": 24, "en": 15, "es": 28, "et": 13, "eu": 13, "fa": 25,
    "fi": 13, "fr": 24, "he": 21, "hi": 21, "hu": 21, "id": 21, "it": 20, "ja": 22, "kk": 10, "ko": 11,
    "mr": 7, "nl": 15, "pt": 22, "ru": 17, "ta": 17, "te": 7, "th": 22, "tl": 5, "tr": 11, "ur": 25,
    "vi": 15, "yo": 24, "zh": 20,
}
PANX_MEAN_LEN = 8

# --- synthetic text ---------------------------------------------------------------------------------------


def _chars(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


LATIN_EXTRA = {
    "de": "äöüß", "es": "áéíóúñ", "fr": "àâçéèêëîïôûù", "tr": "çğıöşü", "fi": "äö", "id": "", "sw": "", "en": "",
    "vi": "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    "tr": "çğıöşü", "fi": "äö", "id": "", "sw": "", "en": "",
}
SCRIPTS = {
    "ar": _chars(0x0628, 0x063A) + _chars(0x0641, 0x064A),
    "ru": _chars(0x0430, 0x044F),
    "el": _chars(0x03B1, 0x03C9),
    "hi": _chars(0x0915, 0x0939) + "ािीुूेैोौं",
    "bn": _chars(0x0995, 0x09B9) + "ািীুূেৈোৌং",
    "te": _chars(0x0C15, 0x0C39) + "ాిీుూెేైొోౌం",
    "th": _chars(0x0E01, 0x0E2E) + "ะาิีึืุูเแโใไ",
    "ko": "".join(chr(0xAC00 + 28 * k) for k in range(0, 11172 // 28, 7)),
    "zh": "".join(chr(c) for c in range(0x4E00, 0x9FA6, 37)),
}
# Function words that the official normalisers treat specially (articles, vi words, Arabic "al").
FUNCTION_WORDS = {
    "en": ["the", "a", "an", "of", "in", "and"],
    "es": ["el", "la", "los", "las", "un", "una", "de", "y"],
    "de": ["der", "die", "das", "ein", "eine", "dem", "und"],
    "vi": ["của", "là", "những", "cái", "và"],
    "ar": ["في", "من", "على"],
}
PUNCT = {
    "zh": ["，", "。", "、", "《", "》", "“", "”", "（", "）"],
    "ar": ["،", ".", "؛", "«", "»"],
    "default": [",", ".", ";", ":", "(", ")", "\"", "'", "-", "«", "»", "“", "”"],
}
QUESTION_MARK = {"zh": "？", "ar": "؟"}


class Text:
    """Words and sentences in one language's script."""

    def __init__(self, lang: str, rng: random.Random) -> None:
        self.lang = lang
        self.rng = rng
        if lang in SCRIPTS:
            self.alphabet = SCRIPTS[lang]
        else:
            self.alphabet = string.ascii_lowercase + LATIN_EXTRA.get(lang, "")
        self.spaced = lang not in ("zh", "th")
        self.lexicon = [self._new_word() for _ in range(3000)]
        self.punct = PUNCT.get(lang, PUNCT["default"])

    def _new_word(self) -> str:
        rng = self.rng
        n = rng.randint(1, 3) if self.lang == "zh" else rng.randint(2, 9)
        word = "".join(rng.choice(self.alphabet) for _ in range(n))
        if self.lang == "ar" and rng.random() < 0.3:
            word = "ال" + word
        elif self.alphabet[0] == "a" and rng.random() < 0.15:
            word = word.capitalize()
        return word

    def word(self) -> str:
        rng = self.rng
        if self.lang in FUNCTION_WORDS and rng.random() < 0.15:
            return rng.choice(FUNCTION_WORDS[self.lang])
        if rng.random() < 0.03:
            return str(rng.randint(1, 2024))
        return rng.choice(self.lexicon)

    def tokens(self, n: int) -> list[str]:
        """n tokens, some of them punctuation."""
        out = []
        for _ in range(n):
            out.append(self.rng.choice(self.punct) if self.rng.random() < 0.08 else self.word())
        return out

    def join(self, tokens: list[str]) -> str:
        return ("" if not self.spaced else " ").join(tokens)


# --- gold and prediction generators ------------------------------------------------------------------------


def _length(rng: random.Random, mean: float) -> int:
    # roughly gamma-shaped sentence lengths, at least 1 token
    return max(1, round(rng.gammavariate(2.0, mean / 2.0)))


def _quality(rng: random.Random, lo: float, hi: float) -> float:
    return rng.uniform(lo, hi)


def gen_labels(rng: random.Random, task: str, lang: str, n: int) -> tuple[list[str], list[str]]:
    if task == "xnli":
        labels = ["entailment", "neutral", "contradiction"]
        gold = [rng.choice(labels) for _ in range(n)]
        acc = _quality(rng, 0.65, 0.9)
        pred = [g if rng.random() < acc else rng.choice(labels) for g in gold]
    elif task == "pawsx":
        gold = [rng.choice("01") for _ in range(n)]
        acc = _quality(rng, 0.75, 0.92)
        pred = [g if rng.random() < acc else ("1" if g == "0" else "0") for g in gold]
    else:  # tatoeba: gold is the index of the aligned English sentence
        gold = [str(i) for i in range(n)]
        acc = _quality(rng, 0.3, 0.95)
        pred = [g if rng.random() < acc else str(rng.randrange(n)) for g in gold]
    return gold, pred


UPOS = "NOUN PUNCT VERB ADP DET ADJ PRON ADV AUX PROPN CCONJ NUM PART SCONJ X SYM INTJ".split()
UPOS_WEIGHTS = [20, 12, 11, 10, 8, 7, 6, 5, 5, 5, 3, 2, 2, 2, 0.5, 0.5, 0.2]


def gen_udpos(rng: random.Random, lang: str, n: int) -> tuple[list[list[str]], list[list[str]]]:
    mean = UD_MEAN_LEN[lang]
    err = _quality(rng, 0.05, 0.35)
    gold, pred = [], []
    for _ in range(n):
        sentence = rng.choices(UPOS, UPOS_WEIGHTS, k=_length(rng, mean))
        gold.append(sentence)
        pred.append([rng.choice(UPOS) if rng.random() < err else t for t in sentence])
    return gold, pred


def gen_panx(rng: random.Random, lang: str, n: int) -> tuple[list[list[str]], list[list[str]]]:
    types = ("PER", "ORG", "LOC")
    miss = _quality(rng, 0.05, 0.3)  # language difficulty
    gold, pred = [], []
    for _ in range(n):
        length = _length(rng, PANX_MEAN_LEN)
        g: list[str] = []
        p: list[str] = []
        while len(g) < length:
            if rng.random() < 0.3:
                etype = rng.choice(types)
                span = min(rng.choice((1, 1, 2, 2, 3, 4)), length - len(g))
                ent = ["B-" + etype] + ["I-" + etype] * (span - 1)
                g += ent
                r = rng.random()
                if r < miss:  # missed
                    p += ["O"] * span
                elif r < miss + 0.06:  # wrong type
                    other = rng.choice([t for t in types if t != etype])
                    p += ["B-" + other] + ["I-" + other] * (span - 1)
                elif r < miss + 0.10 and span > 1:  # boundary: split or start with I-
                    p += ["I-" + etype] * span if rng.random() < 0.5 else ["B-" + etype] * span
                else:
                    p += ent
            else:
                g.append("O")
                r = rng.random()
                p.append("O" if r > miss / 6 else ("B-" if r < miss / 12 else "I-") + rng.choice(types))
        gold.append(g)
        pred.append(p)
    return gold, pred


def gen_bucc(rng: random.Random, lang: str, n: int) -> tuple[list[str], list[str]]:
    src_ids = rng.sample(range(1, 400000), n)
    tgt_ids = rng.sample(range(1, 400000), n)
    gold = [f"{lang}-{s:09d}\ten-{t:09d}" for s, t in zip(src_ids, tgt_ids)]
    recall = _quality(rng, 0.6, 0.95)
    pred = [line for line in gold if rng.random() < recall]
    for _ in range(int(n * _quality(rng, 0.03, 0.2))):
        pred.append(f"{lang}-{rng.randrange(1, 400000):09d}\ten-{rng.randrange(1, 400000):09d}")
    rng.shuffle(pred)
    rng.shuffle(gold)
    return gold, pred


def gen_qa(rng: random.Random, task: str, lang: str, n: int) -> tuple[list[dict], dict[str, str]]:
    """A SQuAD-format article list with n questions, and {id: predicted answer}."""
    text = Text(lang, rng)
    sep = " " if text.spaced else ""
    qmark = QUESTION_MARK.get(lang, "?")
    exact = _quality(rng, 0.35, 0.75)
    data: list[dict] = []
    predictions: dict[str, str] = {}
    made = 0
    article = 0
    while made < n:
        paragraphs = []
        for _ in range(rng.randint(3, 8)):
            if made >= n:
                break
            tokens = text.tokens(rng.randint(60, 160))
            context = text.join(tokens)
            # character offset of each token, for answer_start
            starts, pos = [], 0
            for tok in tokens:
                starts.append(pos)
                pos += len(tok) + len(sep)
            qas = []
            for _ in range(min(rng.randint(2, 8), n - made)):
                qid = f"{task}-{lang}-{made:06d}-{rng.getrandbits(48):012x}"
                i = rng.randrange(len(tokens) - 6)
                k = rng.choice((1, 1, 2, 2, 3, 4, 5))
                answer = text.join(tokens[i : i + k])
                answers = [{"text": answer, "answer_start": starts[i]}]
                if rng.random() < 0.2:  # a second annotator's span
                    j = max(0, i - 1)
                    answers.append({"text": text.join(tokens[j : i + k + 1]), "answer_start": starts[j]})
                question = text.join(text.tokens(rng.randint(5, 12))) + qmark
                qas.append({"id": qid, "question": question, "answers": answers})
                r = rng.random()
                if r < 0.003:
                    pass  # no prediction: scores 0 for this question
                elif r < 0.013:
                    predictions[qid] = ""
                elif r < 0.013 + exact:
                    predictions[qid] = answer if rng.random() < 0.8 else answer.upper() + rng.choice(text.punct)
                elif r < 0.013 + exact + 0.25:  # overlapping span
                    a = max(0, i + rng.randint(-2, 1))
                    b = max(a + 1, i + k + rng.randint(-1, 3))
                    predictions[qid] = text.join(tokens[a:b])
                else:  # another span of the context
                    a = rng.randrange(len(tokens) - 4)
                    predictions[qid] = text.join(tokens[a : a + rng.randint(1, 4)])
                made += 1
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": f"{lang}_article_{article}", "paragraphs": paragraphs})
        article += 1
    return data, predictions


# --- data set on disk ---------------------------------------------------------------------------------------

STAMP = "bench-data.json"


def sizes_at(scale: float) -> dict[str, dict[str, int]]:
    return {task: {lang: max(1, math.ceil(n * scale)) for lang, n in by_lang.items()}
            for task, by_lang in SIZES.items()}


def generate(root: Path, seed: int, scale: float) -> dict:
    """Write gold and prediction files under root/{gold,pred}; returns a summary of what was written."""
    from xstilts import predfiles

    pred_root, gold_root = root / "pred", root / "gold"
    sizes = sizes_at(scale)
    summary: dict = {"seed": seed, "scale": scale, "tasks": {}}
    for task, langs in TASK2LANGS.items():
        spec = SPECS[task]
        items = tokens = 0
        for lang in langs:
            rng = random.Random(f"{seed}/{task}/{lang}")
            n = sizes[task][lang]
            name = f"test-{lang}.{spec.suffix}"
            pred_path, gold_path = pred_root / task / name, gold_root / task / name
            if spec.kind == "labels":
                gold, pred = gen_labels(rng, task, lang, n)
                predfiles.write_labels(gold_path, gold)
                predfiles.write_labels(pred_path, pred)
            elif spec.kind == "tags":
                gold, pred = (gen_udpos if task == "udpos" else gen_panx)(rng, lang, n)
                predfiles.write_tags(gold_path, gold)
                predfiles.write_tags(pred_path, pred)
                tokens += sum(map(len, gold))
            elif spec.kind == "pairs":
                gold, pred = gen_bucc(rng, lang, n)
                predfiles.write_labels(gold_path, gold)
                predfiles.write_labels(pred_path, pred)
            else:
                data, answers = gen_qa(rng, task, lang, n)
                predfiles.write_squad_gold(gold_path, data)
                predfiles.write_qa_predictions(pred_path, answers)
            items += n
        summary["tasks"][task] = {"languages": len(langs), "items": items, "tokens": tokens}
    (root / STAMP).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def ensure_data(root: Path, seed: int, scale: float, regenerate: bool) -> dict:
    stamp = root / STAMP
    if stamp.exists() and not regenerate:
        summary = json.loads(stamp.read_text())
        if summary.get("seed") == seed and summary.get("scale") == scale:
            return summary
    start = time.perf_counter()
    print(f"generating the synthetic prediction set in {root} (seed {seed}, scale {scale}) ...", flush=True)
    summary = generate(root, seed, scale)
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"  done in {time.perf_counter() - start:.1f} s, {size / 2**20:.0f} MiB", flush=True)
    return summary


# --- the two scorers ----------------------------------------------------------------------------------------


def ours_task(task: str, pred_root: Path, gold_root: Path) -> dict:
    """One task as xstilts.score.score_run_task scores it (read, metric per language, summarize_task)."""
    from xstilts.metrics import METRICS, summarize_task
    from xstilts.predfiles import read_for_scoring

    spec = SPECS[task]
    metric = METRICS[spec.metric]
    per_language = {}
    for lang in TASK2LANGS[task]:
        name = f"test-{lang}.{spec.suffix}"
        gold, predictions = read_for_scoring(spec.kind, pred_root / task / name, gold_root / task / name)
        per_language[lang] = metric(gold, predictions, language=lang)
    return summarize_task(per_language, qa=spec.group == "qa")


def ours_groups(detailed: dict[str, dict]) -> dict[str, float]:
    from xstilts.metrics import summarize_groups

    return summarize_groups({t: s["avg_metric"] for t, s in detailed.items()}, GROUPS, list(TASK2LANGS))


def load_official(directory: Path):
    """Import <directory>/evaluate.py as a module (its `third_party` package from the same directory)."""
    path = directory / "evaluate.py"
    if not path.is_file():
        sys.exit(f"--official {directory}: no evaluate.py there (see bench/README.md)")
    sys.path.insert(0, str(directory))
    spec = importlib.util.spec_from_file_location("xtreme_official_evaluate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task_views(root: Path) -> dict[str, tuple[Path, Path]]:
    """Per task, a pred/gold folder pair holding only that task (symlinks), so that the official
    `evaluate()` can be timed one task at a time exactly as it runs on the full folders."""
    views = {}
    for task in TASK2LANGS:
        base = root / "views" / task
        for side in ("pred", "gold"):
            link = base / side / task
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(root / side / task, target_is_directory=True)
        views[task] = (base / "pred", base / "gold")
    return views


# --- timing and comparison ----------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call; stderr (the official per-question 'Unanswered question' lines and
    our one warning per file with missing answers) goes to /dev/null for both scorers."""
    gc.collect()
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return seconds, result


def flatten(prefix: str, value, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            flatten(f"{prefix}/{key}", sub, out)
    else:
        out[prefix] = float(value)


def compare(ours: dict, official: dict) -> tuple[float, str, int]:
    """(max abs difference, where, how many numbers); fails if the two have different keys."""
    a: dict[str, float] = {}
    b: dict[str, float] = {}
    flatten("", ours, a)
    flatten("", official, b)
    if a.keys() != b.keys():
        only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise AssertionError(f"different numbers reported: only ours {only_a[:5]}, only official {only_b[:5]}")
    where, worst = max(((k, abs(a[k] - b[k])) for k in a), key=lambda kv: kv[1])
    return worst, where, len(a)


def check_registry() -> None:
    """Warn if the task registry disagrees with this benchmark's task table (official facts)."""
    try:
        from xstilts.tasks import TASKS
    except Exception as error:  # noqa: BLE001 - the registry is optional for this script
        print(f"note: xstilts.tasks not importable ({error}); task table not cross-checked")
        return
    for name, task in TASKS.items():
        if name not in SPECS:
            continue
        spec = SPECS[name]
        found = (list(task.languages), task.metric, task.family.file_kind, task.group)
        wanted = (TASK2LANGS[name], spec.metric, spec.kind, spec.group)
        if found != wanted:
            print(f"WARNING: registry task {name} = {found}, benchmark table = {wanted}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", type=Path, help="folder with XTREME's evaluate.py and third_party/")
    parser.add_argument("--data", type=Path, default=Path("/tmp/xstilts-bench-scoring"),
                        help="where the synthetic set is generated (and reused while seed and scale match)")
    parser.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real test-set sizes")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the synthetic set")
    parser.add_argument("--tolerance", type=float, default=1e-9, help="largest allowed |ours - official|")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import xstilts.metrics  # noqa: F401
    import xstilts.predfiles  # noqa: F401

    ours_import = time.perf_counter() - start
    root = args.data.resolve()
    summary = ensure_data(root, args.seed, args.scale, args.regenerate)
    pred_root, gold_root = root / "pred", root / "gold"
    check_registry()

    official = None
    if args.official:
        start = time.perf_counter()
        official = load_official(args.official.resolve())
        official_import = time.perf_counter() - start
        if official.XTREME_TASK2LANGS != TASK2LANGS or official.XTREME_GROUP2TASK != GROUPS:
            sys.exit("the official TASK2LANGS/GROUP2TASK differ from this benchmark's table; update it")
    views = task_views(root)

    tasks = list(TASK2LANGS)
    best_ours = dict.fromkeys(tasks, math.inf)
    best_official = dict.fromkeys(tasks, math.inf)
    best_total_ours = best_total_official = math.inf
    ours_detailed: dict[str, dict] = {}
    official_detailed: dict[str, dict] = {}
    for repeat in range(args.repeats):
        total_ours = total_official = 0.0
        for task in tasks:
            seconds, ours_detailed[task] = timed(lambda: ours_task(task, pred_root, gold_root))
            best_ours[task] = min(best_ours[task], seconds)
            total_ours += seconds
            if official:
                view_pred, view_gold = views[task]
                seconds, (_, detailed) = timed(lambda: official.evaluate(str(view_pred), str(view_gold), "xtreme"))
                official_detailed[task] = detailed[task]
                best_official[task] = min(best_official[task], seconds)
                total_official += seconds
        seconds, ours_overall = timed(lambda: ours_groups(ours_detailed))
        best_total_ours = min(best_total_ours, total_ours + seconds)
        best_total_official = min(best_total_official, total_official)
        print(f"  run {repeat + 1}/{args.repeats}: ours {total_ours:.2f} s"
              + (f", official {total_official:.2f} s" if official else ""), flush=True)

    print()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, best of {args.repeats}, "
          f"data {root} (seed {args.seed}, scale {args.scale})")
    print(f"import: ours {ours_import:.3f} s" + (f", official {official_import:.3f} s" if official else "")
          + " (not in the times below)")
    header = f"{'task':<10}{'langs':>6}{'items':>10}{'tokens':>11}{'score':>7}{'ours s':>10}"
    if official:
        header += f"{'official s':>12}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    for task in tasks:
        info = summary["tasks"][task]
        tokens_cell = f"{info['tokens']:,}" if info["tokens"] else ""
        line = f"{task:<10}{info['languages']:>6}{info['items']:>10,}{tokens_cell:>11}"
        line += f"{ours_detailed[task]['avg_metric']:>7.1f}{best_ours[task]:>10.3f}"
        if official:
            line += f"{best_official[task]:>12.3f}{best_official[task] / best_ours[task]:>9.1f}x"
        print(line)
    print("-" * len(header))
    items = sum(t["items"] for t in summary["tasks"].values())
    tokens = sum(t["tokens"] for t in summary["tasks"].values())
    languages = sum(map(len, TASK2LANGS.values()))
    line = (f"{'total':<10}{languages:>6}{items:>10,}{tokens:>11,}"
            f"{ours_overall['all_task']:>7.1f}{best_total_ours:>10.3f}")
    if official:
        line += f"{best_total_official:>12.3f}{best_total_official / best_total_ours:>9.1f}x"
    print(line)
    print("(score: avg_metric, all_task for the total; total time: best of the per-run sums over tasks,"
          " ours including summarize_groups)")

    if not official:
        return 0
    # One untimed official run over the full folders, for the group scores and as a whole-run check.
    seconds, (official_overall, official_full) = timed(
        lambda: official.evaluate(str(pred_root), str(gold_root), "xtreme"))
    print(f"official evaluate() over the full folders in one call: {seconds:.3f} s")
    worst, where, count = compare(
        {"detailed": ours_detailed, "groups": ours_overall},
        {"detailed": official_full, "groups": official_overall},
    )
    worst_view, _, _ = compare(ours_detailed, official_detailed)
    worst = max(worst, worst_view)
    print(f"compared {count} numbers (every per-language metric, average and group score): "
          f"max |ours - official| = {worst:.3g} (at {where})")
    if worst > args.tolerance:
        print(f"FAIL: difference above the tolerance {args.tolerance:g}")
        return 1
    print(f"OK: all within {args.tolerance:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
