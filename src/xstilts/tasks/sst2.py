"""SST-2 (GLUE; Socher et al. 2013), English: binary sentiment classification of single sentences, an X-STILTs
intermediate task (jiant calls it "sst").

Read from GLUE's SST-2.zip (SST-2/{train,dev}.tsv: "sentence<TAB>label" with a header line; labels "0"
negative, "1" positive), the file HF datasets' glue/sst2 reads. Records have no second text (text_b null).
"""

from ..families import Classification
from ..formats import RawFormatError, tsv_rows
from . import Source, Task, register

SST2_LABELS = ("0", "1")

SST2 = Source(
    name="glue_sst2",
    filename="SST-2.zip",
    url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
    sha256="d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
)


def read(paths, lang, split):
    for where, fields in tsv_rows(paths["glue_sst2"], f"SST-2/{split}.tsv", columns=2, header=True):
        if len(fields) != 2:
            raise RawFormatError(f"{where}: expected 2 tab-separated fields, found {len(fields)}")
        sentence, label = fields
        if label not in SST2_LABELS:
            raise RawFormatError(f"{where}: label {label!r} is not 0 or 1")
        yield {"id": f"sst-{where.rsplit(':', 1)[1]}", "text_a": sentence, "text_b": None, "label": label}


register(
    Task(
        name="sst2",
        family=Classification(labels=SST2_LABELS, pair=False),
        languages=("en",),
        splits=("train", "dev"),
        raw=(SST2,),
        read=read,
        metric="accuracy",
        display="SST-2",
        train_examples=67349,
        citation="Socher et al. 2013, Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank",
    )
)
