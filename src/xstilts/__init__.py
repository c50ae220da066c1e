"""xstilts: intermediate-task training for zero-shot cross-lingual transfer (X-STILTs) on XTREME."""

__version__ = "0.1.0"
