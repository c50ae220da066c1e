"""Tests for xstilts.download: mirror downloads verified against SHA256SUMS, checksum failures that name the file
and both hashes and leave nothing behind, manual sources, and HTTP resume with Range requests (served by a local
http.server thread), including servers that ignore Range; prefix downloads of xz files (CC-100), verified by
decoding."""

import hashlib
import http.server
import lzma
import threading
from pathlib import Path

import pytest

from xstilts.download import (ChecksumError, CorruptPrefix, ManualDownloadRequired, XzPrefix, fetch, mirror_checksums,
                              sha256sum)
from xstilts.tasks import SOURCES, Source

PAYLOAD = bytes(range(256)) * 4099  # ~1 MiB, more than one copy chunk
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def write_mirror(root: Path, source: Source, data: bytes, digest: str | None = None):
    (root / source.name).mkdir(parents=True, exist_ok=True)
    (root / source.name / source.filename).write_bytes(data)
    digest = digest or hashlib.sha256(data).hexdigest()
    (root / "SHA256SUMS").write_text(f"{'0' * 64}  other/file.txt\n{digest}  {source.name}/{source.filename}\n")
    return root


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------- mirror ---


def test_sha256sum(tmp_path):
    (tmp_path / "f").write_bytes(PAYLOAD)
    assert sha256sum(tmp_path / "f") == DIGEST


def test_mirror_checksums_parses_sha256sum_output(tmp_path):
    (tmp_path / "SHA256SUMS").write_text(f"{DIGEST}  a/b.zip\n{'1' * 64} *c/d.json\n\n")
    assert mirror_checksums(tmp_path) == {"a/b.zip": DIGEST, "c/d.json": "1" * 64}


def test_fetch_from_mirror(tmp_path):
    source = SOURCES["xnli"]
    mirror = write_mirror(tmp_path / "mirror", source, PAYLOAD)
    dest = tmp_path / "raw" / "xnli" / "XNLI-1.0.zip"
    assert fetch(source, dest, mirror) == DIGEST
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["XNLI-1.0.zip"]


def test_fetch_from_mirror_overwrites_stale_part(tmp_path):
    source = SOURCES["xnli"]
    mirror = write_mirror(tmp_path / "mirror", source, PAYLOAD)
    dest = tmp_path / "XNLI-1.0.zip"
    (tmp_path / "XNLI-1.0.zip.part").write_bytes(b"stale bytes from an earlier attempt")
    assert fetch(source, dest, mirror) == DIGEST
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "XNLI-1.0.zip.part").exists()


def test_fetch_checksum_mismatch_names_file_and_hashes(tmp_path):
    source = SOURCES["xnli"]
    wrong = "ab" * 32
    mirror = write_mirror(tmp_path / "mirror", source, PAYLOAD, digest=wrong)
    dest = tmp_path / "raw" / "XNLI-1.0.zip"
    with pytest.raises(ChecksumError) as e:
        fetch(source, dest, mirror)
    message = str(e.value)
    assert str(dest) in message and wrong in message and DIGEST in message
    assert message.index(wrong) < message.index(DIGEST)  # expected first, then actual
    assert leftovers(dest.parent) == []  # neither <dest> nor <dest>.part


def test_fetch_mirror_without_entry(tmp_path):
    mirror = write_mirror(tmp_path / "mirror", SOURCES["xnli"], PAYLOAD)
    with pytest.raises(ChecksumError, match="has no SHA256SUMS entry for tatoeba_deu/tatoeba.deu-eng.deu"):
        fetch(SOURCES["tatoeba_deu"], tmp_path / "raw" / "tatoeba.deu-eng.deu", mirror)
    assert leftovers(tmp_path / "raw") == []


def test_fetch_manual_source_names_destination(tmp_path):
    dest = tmp_path / "raw" / "panx" / "AmazonPhotos.zip"
    with pytest.raises(ManualDownloadRequired) as e:
        fetch(SOURCES["panx"], dest)
    assert str(dest.resolve()) in str(e.value)
    assert "xtreme #101" in str(e.value)
    assert not dest.exists()


def test_fetch_manual_source_from_mirror(tmp_path):
    mirror = write_mirror(tmp_path / "mirror", SOURCES["panx"], PAYLOAD)
    assert fetch(SOURCES["panx"], tmp_path / "AmazonPhotos.zip", mirror) == DIGEST


def test_source_needs_url_or_manual():
    with pytest.raises(ValueError, match="source x: needs a url or manual instructions"):
        Source(name="x", filename="x", url=None, sha256=None)


# ---------------------------------------------------------------------------------- HTTP ---


class Server:
    """A local HTTP server for one file; `honour_range` decides whether Range requests get 206 answers."""

    def __init__(self, data: bytes, honour_range: bool):
        self.data, self.honour_range, self.ranges = data, honour_range, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                header = self.headers.get("Range")
                server.ranges.append(header)
                body, status, extra = server.data, 200, {}
                if header and server.honour_range:
                    start = int(header.removeprefix("bytes=").rstrip("-"))
                    if start >= len(server.data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(server.data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body, status = server.data[start:], 206
                    extra["Content-Range"] = f"bytes {start}-{len(server.data) - 1}/{len(server.data)}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/file.zip"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def http_source(url, sha256=DIGEST):
    return Source(name="test_http", filename="file.zip", url=url, sha256=sha256)


def test_http_download(tmp_path):
    with Server(PAYLOAD, honour_range=True) as server:
        dest = tmp_path / "file.zip"
        assert fetch(http_source(server.url), dest) == DIGEST
    assert dest.read_bytes() == PAYLOAD and server.ranges == [None]
    assert leftovers(tmp_path) == ["file.zip"]


def test_http_resume_with_range(tmp_path):
    half = len(PAYLOAD) // 2
    dest = tmp_path / "file.zip"
    (tmp_path / "file.zip.part").write_bytes(PAYLOAD[:half])
    with Server(PAYLOAD, honour_range=True) as server:
        assert fetch(http_source(server.url), dest) == DIGEST
    assert server.ranges == [f"bytes={half}-"]
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["file.zip"]


def test_http_server_ignoring_range_restarts_from_scratch(tmp_path):
    half = len(PAYLOAD) // 2
    dest = tmp_path / "file.zip"
    (tmp_path / "file.zip.part").write_bytes(PAYLOAD[:half])
    with Server(PAYLOAD, honour_range=False) as server:
        assert fetch(http_source(server.url), dest) == DIGEST
    assert server.ranges == [f"bytes={half}-"]
    assert dest.read_bytes() == PAYLOAD


def test_http_complete_part_left_by_an_interrupted_run(tmp_path):
    # a previous run downloaded everything but died before the rename: the server answers 416 to the Range
    dest = tmp_path / "file.zip"
    (tmp_path / "file.zip.part").write_bytes(PAYLOAD)
    with Server(PAYLOAD, honour_range=True) as server:
        assert fetch(http_source(server.url), dest) == DIGEST
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["file.zip"]


def test_http_corrupt_part_is_caught_by_the_checksum(tmp_path):
    half = len(PAYLOAD) // 2
    dest = tmp_path / "file.zip"
    (tmp_path / "file.zip.part").write_bytes(b"\0" * half)  # wrong bytes before the resume point
    with Server(PAYLOAD, honour_range=True) as server:
        with pytest.raises(ChecksumError) as e:
            fetch(http_source(server.url), dest)
    assert DIGEST in str(e.value) and str(dest) in str(e.value)
    assert leftovers(tmp_path) == []
    # the rerun starts from scratch and succeeds
    with Server(PAYLOAD, honour_range=True) as server:
        assert fetch(http_source(server.url), dest) == DIGEST
    assert server.ranges == [None]


def test_http_unpinned_source_is_kept_with_a_warning(tmp_path, caplog):
    with Server(PAYLOAD, honour_range=True) as server:
        with caplog.at_level("WARNING"):
            assert fetch(http_source(server.url, sha256=None), tmp_path / "file.zip") == DIGEST
    assert "no pinned sha256" in caplog.text and DIGEST in caplog.text


# ------------------------------------------------------------------------------- prefixes ---
# CC-100-style sources (`Source.max_bytes`): only the first bytes of a huge xz file, verified by decoding them.


def xz_payload() -> bytes:
    """~1.4 MB of xz (hex words compress about 2:1), so a 512 KiB prefix is a real truncation."""
    import random

    rng = random.Random(0)
    lines = [" ".join(f"{rng.getrandbits(32):08x}" for _ in range(10)) for _ in range(30000)]
    return lzma.compress("\n".join(lines).encode() + b"\n", format=lzma.FORMAT_XZ, preset=1)


XZ = xz_payload()
LIMIT = 512 * 1024


class PrefixServer(Server):
    """Serves `data` with `Range: bytes=a-b` support (or ignoring Range), streaming the body in chunks and
    repeating it `repeat` times for a server-side "huge file"; records the Range headers and how many body bytes
    it got to send before the client hung up."""

    def __init__(self, data: bytes, honour_range: bool, repeat: int = 1):
        self.data, self.honour_range, self.repeat = data, honour_range, repeat
        self.ranges, self.sent = [], 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                header = self.headers.get("Range")
                server.ranges.append(header)
                body, total = server.data * server.repeat, len(server.data) * server.repeat
                if header and server.honour_range:
                    first, _, last = header.removeprefix("bytes=").partition("-")
                    start, stop = int(first), min(int(last) + 1 if last else total, total)
                    if start >= total:
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{total}")
                    body = body[start:stop]
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(0, len(body), 65536):
                        self.wfile.write(body[i : i + 65536])
                        server.sent += len(body[i : i + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a prefix download does

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)


def prefix_source(url, max_bytes=LIMIT):
    return Source(name="test_prefix", filename="xx.txt.xz", url=url, sha256=None, max_bytes=max_bytes)


def test_prefix_download_asks_for_a_byte_range(tmp_path, caplog):
    dest = tmp_path / "xx.txt.xz"
    with PrefixServer(XZ, honour_range=True) as server:
        with caplog.at_level("INFO", logger="xstilts.download"):
            digest = fetch(prefix_source(server.url), dest)
    assert server.ranges == [f"bytes=0-{LIMIT - 1}"]
    assert dest.read_bytes() == XZ[:LIMIT] and digest == hashlib.sha256(XZ[:LIMIT]).hexdigest()
    assert digest in caplog.text and "a prefix" in caplog.text and "no pinned sha256" not in caplog.text
    assert leftovers(tmp_path) == ["xx.txt.xz"]


def test_prefix_download_from_a_server_ignoring_range_stops_after_max_bytes(tmp_path):
    dest = tmp_path / "xx.txt.xz"
    with PrefixServer(XZ, honour_range=False, repeat=64) as server:  # a ~90 MB "file"
        fetch(prefix_source(server.url), dest)
    assert dest.read_bytes() == XZ[:LIMIT]
    assert server.sent < 64 * len(XZ) // 2, f"the client kept reading: the server sent {server.sent} bytes"


def test_prefix_download_resumes_within_the_prefix(tmp_path):
    dest = tmp_path / "xx.txt.xz"
    (tmp_path / "xx.txt.xz.part").write_bytes(XZ[:1000])
    with PrefixServer(XZ, honour_range=True) as server:
        fetch(prefix_source(server.url), dest)
    assert server.ranges == [f"bytes=1000-{LIMIT - 1}"]
    assert dest.read_bytes() == XZ[:LIMIT]


def test_prefix_download_left_complete_by_an_interrupted_run_needs_no_request(tmp_path):
    dest = tmp_path / "xx.txt.xz"
    (tmp_path / "xx.txt.xz.part").write_bytes(XZ[: LIMIT + 100])
    with PrefixServer(XZ, honour_range=True) as server:
        fetch(prefix_source(server.url), dest)
    assert server.ranges == [] and dest.read_bytes() == XZ[:LIMIT]


def test_file_shorter_than_the_prefix_downloads_whole(tmp_path, caplog):
    dest = tmp_path / "xx.txt.xz"
    with PrefixServer(XZ, honour_range=True) as server:
        with caplog.at_level("INFO", logger="xstilts.download"):
            fetch(prefix_source(server.url, max_bytes=10 * len(XZ)), dest)
    assert dest.read_bytes() == XZ and "the whole file" in caplog.text


def test_prefix_that_is_not_xz_is_rejected_and_removed(tmp_path):
    dest = tmp_path / "xx.txt.xz"
    with PrefixServer(b"<html>rate limited</html>" * 40000, honour_range=True) as server:
        with pytest.raises(CorruptPrefix) as e:
            fetch(prefix_source(server.url), dest)
    assert str(dest) in str(e.value) and "do not decode as xz" in str(e.value) and server.url in str(e.value)
    assert leftovers(tmp_path) == []


def test_prefix_source_from_a_mirror_is_the_mirrored_prefix_checked_twice(tmp_path):
    source = prefix_source("https://example.org/xx.txt.xz")
    mirror = write_mirror(tmp_path / "mirror", source, XZ[:LIMIT])
    dest = tmp_path / "raw" / "xx.txt.xz"
    assert fetch(source, dest, mirror) == hashlib.sha256(XZ[:LIMIT]).hexdigest()
    bad = write_mirror(tmp_path / "bad", source, b"not xz at all")
    with pytest.raises(CorruptPrefix, match="do not decode as xz"):
        fetch(source, tmp_path / "raw2" / "xx.txt.xz", bad)


def test_xz_prefix_decodes_up_to_the_cut(tmp_path):
    full = lzma.decompress(XZ)
    for data, complete in ((XZ[:LIMIT], False), (XZ, True)):
        (tmp_path / "x.xz").write_bytes(data)
        prefix = XzPrefix(tmp_path / "x.xz")
        decoded = b"".join(prefix)
        assert prefix.complete is complete and decoded and full.startswith(decoded)
        assert (decoded == full) is complete
