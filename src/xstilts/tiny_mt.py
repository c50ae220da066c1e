"""A tiny M2M100 translation model built offline, for the tests and the embedded demo: a SentencePiece model
trained on fixture parallel text, an M2M100 of hidden size 64 (one encoder and one decoder layer), and a few
hundred training steps on CPU, so its translations are learned rather than random and mark-then-translate has
something to work on.

The parallel text comes from xstilts.demo's word lists, whose entries are translations of each other position by
position (WORDS["ru"] has no article, so it lines up with WORDS["en"][1:]: Russian drops "the"). A word-by-word
"translation" between en, de and ru is learnable by a small model in seconds. Names and numbers (the demo's QA
answers are years, its NLI labels are digits) are copied, and the demo's question is mapped as a whole. About a
third of the training sentences carry square brackets around a span of words, in the same place on both sides, so the
model learns to carry the markers of mark-then-translate (xstilts.translation.project) through, most of the time.

The model translates en -> de, en -> ru and back (de -> en, ru -> en, for the round-trip quality check), with
M2M100's language tokens (family "m2m100" in the translation config). Traps handled (shared notes, stack.md §4):
`len(tokenizer)` leaves out the 100 language tokens, so the model's vocabulary is counted as encoder size +
language tokens + made-up words; `batch_decode(skip_special_tokens=True)` keeps `__xx__` tokens in transformers
5 (xstilts.translation.engine removes them).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

from .demo import LOCATIONS, ORGANIZATIONS, PERSONS, QUESTION, WORDS

LANGS = ("en", "de", "ru")
HIDDEN = 64
DIRECTIONS = (("en", "de"), ("en", "ru"), ("de", "en"), ("ru", "en"))
NAMES = [" ".join(n) for n in PERSONS + LOCATIONS + ORGANIZATIONS]
# (en, de, ru) word triples; "" where Russian has no word (the article)
ALIGNED = list(zip(WORDS["en"], WORDS["de"], [""] * (len(WORDS["en"]) - len(WORDS["ru"])) + WORDS["ru"]))


def parallel_sentences(seed: int = 0, n: int = 3000) -> list[dict[str, str]]:
    """`n` aligned sentences {"en": ..., "de": ..., "ru": ...} of 1-16 slots: demo words, names and numbers
    (copied unchanged); one in ten ends with the demo's question and 45% with "."; in about a third a span of up
    to four slots is between square brackets on every side."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        slots: list[tuple[str, ...]] = []
        for _ in range(rng.randint(1, 16)):
            draw = rng.random()
            if draw < 0.08:
                slots.append((rng.choice(NAMES),) * len(LANGS))
            elif draw < 0.16:
                number = rng.choice([rng.randint(1, 3), rng.randint(10, 999), rng.randint(1000, 2020)])
                slots.append((str(number),) * len(LANGS))
            else:
                slots.append(rng.choice(ALIGNED))
        ending = rng.random()
        if ending < 0.1:
            slots.append(tuple(QUESTION[lang] for lang in LANGS))
        elif ending < 0.55:
            slots.append((".",) * len(LANGS))
        words = [list(slot) for slot in slots]
        markable = [i for i, slot in enumerate(words) if all(slot) and slot[0] not in (".", QUESTION["en"])]
        if markable and rng.random() < 0.35:
            start = rng.choice(markable)
            end = max(i for i in markable if i <= start + 3)
            words[start] = ["[" + w for w in words[start]]
            words[end] = [w + "]" for w in words[end]]
        out.append({lang: " ".join(slot[i] for slot in words if slot[i]) for i, lang in enumerate(LANGS)})
    return out


def build_tiny_tokenizer(out_dir: Path, pairs: list[dict[str, str]]):
    """An M2M100 tokenizer whose SentencePiece is trained on `pairs`, saved to `out_dir`; returns (tokenizer,
    SentencePiece processor, vocabulary)."""
    import sentencepiece as spm
    from transformers import M2M100Tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("".join(p[lang] + "\n" for p in pairs for lang in LANGS), encoding="utf-8")
        # whole words as pieces (vocabulary above the demo's word count), digits one by one (numbers are copied),
        # brackets always pieces of their own (so "[house" is "[" + "house")
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(Path(tmp) / "spm"), vocab_size=900,
                                       model_type="bpe", character_coverage=1.0, num_threads=1, minloglevel=2,
                                       hard_vocab_limit=False, split_digits=True, user_defined_symbols=["[", "]"])
        shutil.copy(Path(tmp) / "spm.model", out / "sentencepiece.bpe.model")
    sp = spm.SentencePieceProcessor(model_file=str(out / "sentencepiece.bpe.model"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}  # M2M100's layout
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i)):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(vocab_file=str(out / "vocab.json"), spm_file=str(out / "sentencepiece.bpe.model"),
                                src_lang="en", tgt_lang="de")
    return tokenizer, sp, vocab


def build_tiny_mt(out_dir: Path, seed: int = 0, steps: int = 600, sentences: int = 3000) -> Path:
    """Train the tiny M2M100 and save it (model, tokenizer) to `out_dir`, loadable offline with
    AutoModelForSeq2SeqLM / AutoTokenizer. Deterministic for a given seed (and torch build); about 20 s of CPU."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    out = Path(out_dir)
    pairs = parallel_sentences(seed, sentences)
    tokenizer, sp, vocab = build_tiny_tokenizer(out, pairs)
    examples = encode_pairs(pairs, sp, vocab, tokenizer.lang_code_to_id, tokenizer.eos_token_id)

    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=tokenizer.encoder_size + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words,
        d_model=HIDDEN, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=4 * HIDDEN, decoder_ffn_dim=4 * HIDDEN, max_position_embeddings=256, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small trains fastest on one thread (and never spins on a busy machine)
    try:
        model = M2M100ForConditionalGeneration(config)
        _initialize_aligned(model)
        _train(model, examples, steps=steps, seed=seed, pad=tokenizer.pad_token_id, start=tokenizer.eos_token_id)
    finally:
        torch.set_num_threads(threads)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _initialize_aligned(model) -> None:
    """Cross-attention starts aligned: with identity query/key projections, decoder position t attends most to
    source position t through the sinusoidal positions both sides share (the target's language token sits where
    the source's does). Word-by-word alignment is then learned in hundreds of steps, not thousands."""
    import torch

    with torch.no_grad():
        for layer in model.model.decoder.layers:
            layer.encoder_attn.q_proj.weight.copy_(torch.eye(HIDDEN) * 3.0)
            layer.encoder_attn.k_proj.weight.copy_(torch.eye(HIDDEN))


def encode_pairs(pairs: list[dict[str, str]], sp, vocab: dict[str, int], lang_ids: dict[str, int],
                 eos: int) -> list[tuple[list[int], list[int]]]:
    """(source ids, label ids) for every direction of every pair, as M2M100Tokenizer encodes them
    (`[__src__] pieces </s>`, labels `[__tgt__] pieces </s>`), straight from SentencePiece (much faster than the
    Python tokenizer on thousands of sentences)."""
    unk = vocab["<unk>"]
    examples = []
    for pair in pairs:
        ids = {lang: [vocab.get(piece, unk) for piece in sp.encode(pair[lang], out_type=str)] for lang in LANGS}
        for src, tgt in DIRECTIONS:
            examples.append(([lang_ids[src]] + ids[src] + [eos], [lang_ids[tgt]] + ids[tgt] + [eos]))
    return examples


def _train(model, examples: list[tuple[list[int], list[int]]], steps: int, seed: int, pad: int, start: int,
           batch_size: int = 32, lr: float = 4e-3, warmup: int = 30) -> None:
    """Teacher-forced cross-entropy with AdamW on random batches, linear warm-up and decay."""
    import torch

    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.05, 1 - step / steps))
    model.train()
    for _ in range(steps):
        batch = rng.sample(examples, batch_size)
        source_length = max(len(s) for s, _ in batch)
        target_length = max(len(t) for _, t in batch)
        input_ids = torch.full((batch_size, source_length), pad)
        attention = torch.zeros((batch_size, source_length), dtype=torch.long)
        labels = torch.full((batch_size, target_length), -100)
        decoder_input = torch.full((batch_size, target_length), pad)
        for row, (source, target) in enumerate(batch):
            input_ids[row, : len(source)] = torch.tensor(source)
            attention[row, : len(source)] = 1
            labels[row, : len(target)] = torch.tensor(target)
            decoder_input[row, : len(target)] = torch.tensor([start] + target[:-1])
        loss = model(input_ids=input_ids, attention_mask=attention, decoder_input_ids=decoder_input,
                     labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    model.eval()
