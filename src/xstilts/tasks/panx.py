"""PAN-X / WikiANN NER (Pan et al. 2017) in 40 languages, IOB2 tags; fine-tuned on its own English train set."""

from ..families import Tagging
from ..formats import conll_sentences, member_lines
from . import Source, Task, register

PANX = Source(
    name="panx",
    filename="AmazonPhotos.zip",
    url=None,
    sha256=None,
    manual=(
        "PAN-X cannot be downloaded by a script: XTREME's AmazonPhotos.zip share link is dead (xtreme #101). "
        "Put AmazonPhotos.zip (the archive of per-language <lang>.tar.gz files) at {path}. The known "
        "alternative is the copy linked in xtreme #101, https://www.dropbox.com/s/dl/12h3qqog6q4bjve/panx_dataset.tar; "
        "save that tar under the same name ({path}): both layouts are read."
    ),
)


def read(paths, lang, split):
    for where, tokens, tags in conll_sentences(member_lines(paths["panx"], f"{lang}.tar.gz!{split}"), strip_prefix=True):
        yield {"id": f"{lang}-{split}-{where.rsplit(':', 1)[1]}", "tokens": tokens, "tags": tags}


register(
    Task(
        name="panx",
        family=Tagging(labels=("B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O")),
        languages=tuple(
            "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my "
            "zh kk tr et fi hu".split()
        ),
        splits=("train", "dev", "test"),
        raw=(PANX,),
        read=read,
        metric="tagging_f1",
        train_task="panx",
        group="tagging",
        display="NER",
        train_examples=20000,
        test_examples=7000,
        citation="Pan et al. 2017, Cross-lingual Name Tagging and Linking for 282 Languages",
    )
)
