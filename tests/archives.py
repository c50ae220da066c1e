"""Fixture archives in the real layouts, for reader tests (the same deterministic builders as the demo's)."""

from xstilts.demo import targz_archive, zip_archive


def make_zip(path, entries):
    path.write_bytes(zip_archive(entries))
    return path


def make_targz(path, entries):
    path.write_bytes(targz_archive(entries))
    return path
