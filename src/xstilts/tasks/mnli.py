"""MultiNLI (Williams et al. 2018): an intermediate task and XNLI's training set, in English and as XNLI-MT.

Everything is read from XNLI-MT-1.0.zip, `XNLI-MT-1.0/multinli/multinli.train.<lang>.tsv`:
- en: MNLI's training set, the file XTREME trains XNLI on (utils_preprocess.py `xnli_preprocess`);
- the 14 other XNLI languages: the same 392,702 pairs machine-translated by the XNLI authors (Conneau et al.
  2018, the TRANSLATE-TRAIN baseline), existing data, not ours. The files are line-parallel to the English one
  (HF datasets' xnli loader zips them row by row for its all_languages config and gives every language
  392,702 training examples), so a record's id, `mnli-<line>`, names the same pair in every language.
Every file has a `premise<TAB>hypo<TAB>label` header and spells contradiction "contradictory". Fields are split
on tabs only: quotes are text (the loaders read with csv.QUOTE_NONE), and the translations carry stray ones
that are not in the English line (a German premise opens '"Du weißt , während der Saison' where the English
one has no quote; HF's dataset card shows it). Text is tokenized, a space before punctuation, in every
language, English included. A translated pair whose premise or hypothesis is empty (a failed translation;
PaddleNLP's XNLI loader drops such rows) cannot be a sentence pair: it is skipped and counted in the log. In the
English original, which no translation can have failed, such a row stays an error (the family check names it).
"""

import logging

from ..families import Classification
from ..formats import tsv_rows
from . import Source, Task, register
from .xnli import NLI_LABELS, nli_label

log = logging.getLogger(__name__)

XNLI_MT = Source(
    name="xnli_mt",
    filename="XNLI-MT-1.0.zip",
    url="https://dl.fbaipublicfiles.com/XNLI/XNLI-MT-1.0.zip",
    sha256="f732517ba2fb1d550e9f3c2aabaef6017c91ee2dcec90e878f138764d224db05",
)
# the XNLI languages other than English (XNLI's evaluation languages, xnli.py)
TRANSLATED = tuple("ar bg de el es fr hi ru sw th tr ur vi zh".split())


def read(paths, lang, split):
    skipped = 0
    for where, fields in tsv_rows(paths["xnli_mt"], f"multinli/multinli.{split}.{lang}.tsv", columns=3, header=True):
        label = nli_label(fields[2], where)
        if lang != "en" and (not fields[0].strip() or not fields[1].strip()):
            skipped += 1
            continue
        yield {"id": f"mnli-{where.rsplit(':', 1)[1]}", "text_a": fields[0], "text_b": fields[1], "label": label}
    if skipped:
        log.warning("mnli %s/%s: skipped %d pairs with an empty premise or hypothesis", lang, split, skipped)


register(
    Task(
        name="mnli",
        family=Classification(labels=NLI_LABELS),
        languages=("en", *TRANSLATED),
        splits=("train",),
        raw=(XNLI_MT,),
        read=read,
        metric="accuracy",
        display="MNLI",
        train_examples=392702,
        citation="Williams et al. 2018, A Broad-Coverage Challenge Corpus for Sentence Understanding through Inference",
        translate_train="XNLI-MT 1.0: MNLI's training set machine-translated by the XNLI authors (Conneau et al. "
                        "2018, XNLI: Evaluating Cross-lingual Sentence Representations), 392,702 pairs per language",
    )
)
