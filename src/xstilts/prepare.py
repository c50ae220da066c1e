"""Raw sources -> normalized records of one (task, language, split), validated by the task's family."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from .jsonl import write_jsonl
from .tasks import get_task

log = logging.getLogger(__name__)


def prepare(task_name: str, lang: str, split: str, raw: Mapping[str, Path], out: Path) -> int:
    task = get_task(task_name)
    if lang not in task.languages:
        raise ValueError(f"{task_name} has no language {lang!r}; it has {', '.join(task.languages)}")
    if split not in task.splits:
        raise ValueError(f"{task_name} has no split {split!r}; it has {', '.join(task.splits)}")
    seen: set[str] = set()

    def checked():
        for number, record in enumerate(task.read({k: Path(v) for k, v in raw.items()}, lang, split), start=1):
            where = f"{task_name} {lang}/{split} record {number} (id {record.get('id')!r})"
            task.family.check_record(record, where)
            if record["id"] in seen:
                raise ValueError(f"{where}: duplicate id")
            seen.add(record["id"])
            yield record

    count = write_jsonl(out, checked())
    if count == 0:
        Path(out).unlink()
        raise ValueError(f"{task_name} {lang}/{split}: the raw data holds no records")
    log.info("%s %s/%s: %d records -> %s", task_name, lang, split, count, out)
    return count
