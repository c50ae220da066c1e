"""Checksummed, resumable, atomic downloads of raw sources.

A download goes to `<dest>.part` (resumed with an HTTP Range request when a previous attempt left one), is
checked against its pinned sha256, and only then renamed to `<dest>`: a partial or corrupt file is never
taken as done. A mirror directory (`<mirror>/<source>/<filename>` plus a `SHA256SUMS` file) stands in for the
real URLs where they cannot be reached (the embedded demo, air-gapped clusters).

Prefix sources (`Source.max_bytes`, CC-100's per-language files of up to 82 GB) fetch only their first
`max_bytes` bytes: a `Range: bytes=<have>-<max_bytes - 1>` request, and a server that ignores Range (200, the
whole file) is read only up to `max_bytes`. A prefix has no published checksum: it is verified by decoding it
as xz (a stream cut short decodes up to the cut; anything else is a format error naming the file), and its
sha256 is logged and returned. A mirror holds the prefix itself, pinned by its SHA256SUMS like any file.
"""

from __future__ import annotations

import hashlib
import logging
import lzma
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: the task registry's readers use XzPrefix from this module
    from .tasks import Source

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    pass


class ManualDownloadRequired(RuntimeError):
    pass


class CorruptPrefix(ChecksumError):
    """A prefix download that does not decode as the start of an xz file."""


class XzPrefix:
    """The decompressed bytes of an xz file, or of a prefix of one, in blocks. A prefix ends inside the stream:
    decoding stops where its bytes end, and `complete` stays False (True once the last stream's end marker
    was decoded). Concatenated streams (and the zero padding xz allows between them) are followed; data that
    is not xz raises lzma.LZMAError."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        with open(self.path, "rb") as f:
            while block := f.read(CHUNK):
                while block:
                    if decompressor.eof:  # another stream follows the one that ended
                        block = block.lstrip(b"\0")
                        if not block:
                            break
                        decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
                    data = decompressor.decompress(block)
                    block = decompressor.unused_data if decompressor.eof else b""
                    if data:
                        yield data
        self.complete = decompressor.eof


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
    limit = None
    if mirror is not None:
        key = f"{source.name}/{source.filename}"
        expected = mirror_checksums(Path(mirror)).get(key)
        if expected is None:
            raise ChecksumError(f"mirror {mirror} has no SHA256SUMS entry for {key}")
        url = (Path(mirror) / key).resolve().as_uri()
    elif source.url is None:
        raise ManualDownloadRequired(source.manual.format(path=dest.resolve()))
    else:
        url, expected, limit = source.url, source.sha256, source.max_bytes
    part = dest.with_name(dest.name + ".part")
    _download(url, part, limit)
    actual = sha256sum(part)
    if expected is not None and actual != expected:
        part.unlink()
        raise ChecksumError(
            f"{dest}: sha256 mismatch for {url}: expected {expected}, got {actual}; the partial file was removed, "
            f"rerun to download it again"
        )
    if source.max_bytes is not None:
        decoded, complete = _check_xz_prefix(part, dest, url)
        log.info("%s: %d bytes (%s) of %s decode to %d bytes; sha256 %s", source.name, part.stat().st_size,
                 "the whole file" if complete else "a prefix", url, decoded, actual)
    elif expected is None:
        log.warning("%s: no pinned sha256; downloaded file has sha256 %s", source.name, actual)
    os.replace(part, dest)
    return actual


def _check_xz_prefix(part: Path, dest: Path, url: str) -> tuple[int, bool]:
    """Decode the downloaded prefix; (decompressed bytes, whether it is the whole file). A format error removes
    the partial file and names it, the URL and the reason."""
    prefix = XzPrefix(part)
    try:
        decoded = sum(len(block) for block in prefix)
    except lzma.LZMAError as e:
        size = part.stat().st_size
        part.unlink()
        raise CorruptPrefix(f"{dest}: the {size} bytes downloaded from {url} do not decode as xz ({e}); the partial "
                            f"file was removed, rerun to download it again") from None
    if decoded == 0:
        part.unlink()
        raise CorruptPrefix(f"{dest}: the download from {url} decodes to no data; the partial file was removed")
    return decoded, prefix.complete


def _download(url: str, part: Path, limit: int | None = None) -> None:
    """Stream `url` into `part`, resuming after the bytes already there when the server allows it; with
    `limit`, only the file's first `limit` bytes."""
    have = part.stat().st_size if part.exists() else 0
    if limit is not None and have >= limit:  # an earlier run got the whole prefix but died before the rename
        os.truncate(part, limit)
        return
    request = urllib.request.Request(url, headers={"User-Agent": "xstilts"})
    if limit is not None:
        request.add_header("Range", f"bytes={have}-{limit - 1}")
    elif have and not url.startswith("file:"):
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not have:
            raise
        # nothing after the bytes we have (an earlier run got all of it, or the file changed): start over
        log.info("%s: server refused to resume at byte %d; downloading again", url, have)
        part.unlink()
        return _download(url, part, limit)
    with response:
        resumed = getattr(response, "status", 200) == 206
        if have and resumed:
            log.info("resuming %s at byte %d", url, have)
        elif limit is not None and not resumed:
            log.info("%s: the server ignored the Range request; reading only its first %d bytes", url, limit)
        with open(part, "ab" if resumed else "wb") as out:
            _copy(response, out, None if limit is None else limit - (have if resumed else 0))


def _copy(response, out, limit: int | None) -> None:
    """Copy the response body into `out`, at most `limit` bytes (then stop reading: the rest is never fetched)."""
    while limit is None or limit > 0:
        block = response.read(CHUNK if limit is None else min(CHUNK, limit))
        if not block:
            return
        out.write(block)
        if limit is not None:
            limit -= len(block)
