"""A tiny random-weight XLM-R built offline: SentencePiece trained on local text, then an XLM-R config with
hidden size 32 and 2 layers. It stands in for the real checkpoints in the demo and the tests, with the real
architecture, tokenizer type and file layout. The pieces are learned with SentencePiece's BPE trainer (on a
few hundred sentences its unigram trainer keeps little more than characters) and loaded, with their scores,
into XLM-R's unigram tokenizer, as for the real model.

Traps handled (see shared notes, stack.md §3): XLMRobertaTokenizer(vocab_file=...) silently gives a 5-token
vocabulary in transformers 5, so the vocabulary is passed as (piece, score) pairs in XLM-R's layout
(<s>=0, <pad>=1, </s>=2, <unk>=3, pieces, <mask> last).
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def build_tiny_xlmr(corpus: Path, out: Path, vocab_size: int = 400, hidden: int = 32, layers: int = 2,
                    max_positions: int = 130, seed: int = 0) -> Path:
    import sentencepiece as spm
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaTokenizer

    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "spm")
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=prefix, vocab_size=vocab_size,
                                       model_type="bpe", character_coverage=1.0, num_threads=1,
                                       minloglevel=2, hard_vocab_limit=False)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())
                  if not (sp.is_control(i) or sp.is_unknown(i))]
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces + [("<mask>", 0.0)]
    tokenizer = XLMRobertaTokenizer(vocab=vocab)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, type_vocab_size=1,
    )
    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    XLMRobertaForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
