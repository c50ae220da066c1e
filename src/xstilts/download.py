"""Checksummed, resumable, atomic downloads of raw sources.

A download goes to `<dest>.part` (resumed with an HTTP Range request when a previous attempt left one), is
checked against its pinned sha256, and only then renamed to `<dest>`: a partial or corrupt file is never
taken as done. A mirror directory (`<mirror>/<source>/<filename>` plus a `SHA256SUMS` file) stands in for the
real URLs where they cannot be reached (the embedded demo, air-gapped clusters).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from .tasks import Source

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    pass


class ManualDownloadRequired(RuntimeError):
    pass


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def mirror_checksums(mirror: Path) -> dict[str, str]:
    """`<source>/<filename>` -> sha256, from the mirror's SHA256SUMS (sha256sum's output format)."""
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, _, name = line.partition(" ")
            sums[name.strip().removeprefix("*")] = digest  # "*name" is sha256sum's binary-mode marker
    return sums


def fetch(source: Source, dest: Path, mirror: Path | None = None) -> str:
    """Put `source` at `dest`, verified; return its sha256."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if mirror is not None:
        key = f"{source.name}/{source.filename}"
        expected = mirror_checksums(Path(mirror)).get(key)
        if expected is None:
            raise ChecksumError(f"mirror {mirror} has no SHA256SUMS entry for {key}")
        url = (Path(mirror) / key).resolve().as_uri()
    elif source.url is None:
        raise ManualDownloadRequired(source.manual.format(path=dest.resolve()))
    else:
        url, expected = source.url, source.sha256
    part = dest.with_name(dest.name + ".part")
    _download(url, part)
    actual = sha256sum(part)
    if expected is not None and actual != expected:
        part.unlink()
        raise ChecksumError(
            f"{dest}: sha256 mismatch for {url}: expected {expected}, got {actual}; the partial file was removed, "
            f"rerun to download it again"
        )
    if expected is None:
        log.warning("%s: no pinned sha256; downloaded file has sha256 %s", source.name, actual)
    os.replace(part, dest)
    return actual


def _download(url: str, part: Path) -> None:
    """Stream `url` into `part`, resuming after the bytes already there when the server allows it."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "xstilts"})
    if have and not url.startswith("file:"):
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not have:
            raise
        # nothing after the bytes we have (an earlier run got all of it, or the file changed): start over
        log.info("%s: server refused to resume at byte %d; downloading again", url, have)
        part.unlink()
        return _download(url, part)
    with response:
        resumed = getattr(response, "status", 200) == 206
        if have and resumed:
            log.info("resuming %s at byte %d", url, have)
        with open(part, "ab" if resumed else "wb") as out:
            shutil.copyfileobj(response, out, CHUNK)
