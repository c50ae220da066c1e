"""Logging for pipeline jobs: everything a job prints goes to its rule's log file."""

from __future__ import annotations

import logging
import sys


def log_to(path: str) -> None:
    """Send stderr and the logging module to `path` (a rule's `log:` file)."""
    sys.stderr = open(path, "w", buffering=1)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
