"""The task registry: every module in this package registers its task(s) with `register`.

Adding a task is one small file here: a `Task` naming its family, languages, raw sources and reader.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Record, Source, Task

TASKS: dict[str, Task] = {}
SOURCES: dict[str, Source] = {}


def register(task: Task) -> Task:
    if task.name in TASKS:
        raise ValueError(f"task {task.name} registered twice")
    for source in task.raw:
        known = SOURCES.setdefault(source.name, source)
        if known != source:
            raise ValueError(f"source {source.name} is defined differently by two tasks")
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None


def target_tasks() -> list[str]:
    return sorted(name for name, task in TASKS.items() if task.is_target)


def intermediate_tasks() -> list[str]:
    return sorted(name for name, task in TASKS.items() if not task.is_target)


for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TASKS", "SOURCES", "Record", "Source", "Task", "register", "get_task", "target_tasks",
           "intermediate_tasks"]
