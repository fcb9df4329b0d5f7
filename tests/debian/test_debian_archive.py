"""Reading the served archive: snapshot redirects, by-hash, index hashes, faults."""

from __future__ import annotations

import hashlib
import socket
import threading
from pathlib import Path

import httpx
import pytest
from support.debian_archive import SNAP1, SNAP2, ArchiveServer

from pinlock.errors import InputError, IntegrityError
from pinlock.http import make_client
from pinlock.sources.debian import signature
from pinlock.sources.debian.archive import Archive, Location, check_index, security_template
from pinlock.sources.debian.deb822 import INDEX_CACHE_FORMAT, IndexFile
from pinlock.sources.debian.errors import ArchiveError, SignatureError
from pinlock.sources.debian.source import AptSourceConfig


def _archive(tmp: Path | None = None) -> Archive:
    return Archive(make_client(timeout=10), cache_dir=str(tmp) if tmp else None,
                   cache_key_file=str(tmp.parent / "config" / "cache-key") if tmp else None)


def _loc(srv: ArchiveServer) -> Location:
    return Location(srv.debian(), str(srv.archive.keyring))


def test_debian_reads_packages_via_by_hash(archive_server: ArchiveServer) -> None:
    a = _archive()
    rel = a.release(_loc(archive_server), "trixie", SNAP1)
    assert rel.release.acquire_by_hash
    recs = a.packages(_loc(archive_server), rel, "main", "amd64", SNAP1)
    assert {r.package for r in recs} >= {"app", "libfoo", "data-common", "native"}
    assert any("/by-hash/SHA256/" in p for p in archive_server.requests)
    native = next(r for r in recs if r.package == "native")
    assert native.version == "1.0-1+b1" and len(native.sha256) == 64


def test_debian_missing_by_hash_falls_back_to_the_plain_name(
    archive_server: ArchiveServer,
) -> None:
    archive_server.faults.add("no-by-hash")
    a = _archive()
    rel = a.release(_loc(archive_server), "trixie", SNAP1)
    recs = a.packages(_loc(archive_server), rel, "main", "arm64", SNAP1)
    assert any(r.package == "native" and r.version == "1.0-1" for r in recs)
    assert any(p.endswith("/binary-arm64/Packages.gz") for p in archive_server.requests)


@pytest.mark.parametrize(("compression", "fetched", "skipped"),
                         [("gz", ".gz", ".xz"), ("xz", ".xz", ".gz")])
def test_debian_index_form_follows_the_compression_order(
    archive_server: ArchiveServer, compression: str, fetched: str, skipped: str,
) -> None:
    # Both forms are listed; the one asked for first is fetched, the other never, and both
    # give the same verified records.
    archive_server.faults.add("no-by-hash")
    a = Archive(make_client(timeout=10), compression=compression)
    rel = a.release(_loc(archive_server), "trixie", SNAP1)
    recs = a.packages(_loc(archive_server), rel, "main", "arm64", SNAP1)
    asked = [p for p in archive_server.requests
             if "/binary-arm64/" in p and "/by-hash/" not in p]  # by-hash: 404 here
    assert asked == [p for p in asked if p.endswith(f"/Packages{fetched}")], asked
    assert asked and not any(p.endswith(f"/Packages{skipped}") for p in asked), asked
    other = Archive(make_client(timeout=10), compression="xz" if compression == "gz" else "gz")
    again = other.packages(_loc(archive_server), rel, "main", "arm64", SNAP1)
    assert [(r.package, r.version, r.sha256) for r in recs] == [
        (r.package, r.version, r.sha256) for r in again]


def test_debian_inrelease_verified_once_per_bytes(
    archive_server: ArchiveServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Read twice in one run, the same bytes are verified once; other bytes (a bad signature
    # served now) are verified on their own and refused.
    calls: list[str] = []
    real = signature.verify_clearsigned

    def counting(data: bytes, keyring: str, *, what: str) -> object:
        calls.append(what)
        return real(data, keyring, what=what)

    monkeypatch.setattr("pinlock.sources.debian.archive.verify_clearsigned", counting)
    a = _archive()
    first = a.release(_loc(archive_server), "trixie", SNAP1)
    again = a.release(_loc(archive_server), "trixie", SNAP1)
    assert again.sha256 == first.sha256 and len(calls) == 1
    assert len(archive_server.requests) == 2  # fetched both times: only the check is saved
    archive_server.faults.add("bad-signature")
    with pytest.raises(SignatureError):
        a.release(_loc(archive_server), "trixie", SNAP1)
    assert len(calls) == 2


def test_debian_index_compression_from_the_environment() -> None:
    assert AptSourceConfig.from_env({}).compression == "gz"
    env = {"PINLOCK_DEBIAN_INDEX_COMPRESSION": "xz"}
    assert AptSourceConfig.from_env(env).compression == "xz"
    with pytest.raises(InputError) as bad:
        AptSourceConfig.from_env({"PINLOCK_DEBIAN_INDEX_COMPRESSION": "zstd"})
    assert "PINLOCK_DEBIAN_INDEX_COMPRESSION='zstd'" in bad.value.message
    assert "gz, xz" in (bad.value.hint or "")


def test_debian_snapshot_timestamp_redirects_to_the_last_run(
    archive_server: ArchiveServer,
) -> None:
    a = _archive()
    rel = a.release(_loc(archive_server), "trixie", "20250115T120000Z")
    assert rel.sha256 == a.release(_loc(archive_server), "trixie", SNAP1).sha256
    assert any(p.startswith(f"/archive/debian/{SNAP1}/") for p in archive_server.requests)
    later = a.release(Location(archive_server.security(), str(archive_server.archive.keyring)),
                      "trixie-security", "20991231T000000Z")
    direct = a.release(Location(archive_server.security(), str(archive_server.archive.keyring)),
                       "trixie-security", SNAP2)
    assert later.sha256 == direct.sha256


def test_debian_tampered_index_is_refused_before_parsing(
    archive_server: ArchiveServer,
) -> None:
    archive_server.faults.add("tampered-index")
    a = _archive()
    rel = a.release(_loc(archive_server), "trixie", SNAP1)
    with pytest.raises(IntegrityError, match="does not match InRelease"):
        a.packages(_loc(archive_server), rel, "main", "amd64", SNAP1)


@pytest.mark.parametrize(("fault", "match"), [
    ("bad-signature", "bad signature"),
    ("untrusted-signer", "no valid signature"),
])
def test_debian_signature_faults(archive_server: ArchiveServer, fault: str, match: str) -> None:
    archive_server.faults.add(fault)
    with pytest.raises(SignatureError, match=match):
        _archive().release(_loc(archive_server), "trixie", SNAP1)


def test_debian_expired_release_refused_on_a_mirror_not_on_a_snapshot(
    archive_server: ArchiveServer,
) -> None:
    archive_server.faults.add("expired")
    keyring = str(archive_server.archive.keyring)
    mirror = Location(archive_server.debian(SNAP1), keyring)  # no {snapshot}: a plain mirror
    with pytest.raises(SignatureError, match="expired"):
        _archive().release(mirror, "trixie", None)
    assert _archive().release(_loc(archive_server), "trixie", SNAP1).suite == "trixie"


def test_debian_two_signers_accepted(archive_server: ArchiveServer) -> None:
    archive_server.faults.add("two-signers")
    assert _archive().release(_loc(archive_server), "trixie", SNAP1).release.codename == "trixie"


def test_debian_archive_down(archive_server: ArchiveServer,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    archive_server.faults.add("down")
    a = Archive(make_client(timeout=5))
    from pinlock.http import RetryPolicy, send_with_retries

    def fast(client: httpx.Client, request: httpx.Request, **kw: object) -> httpx.Response:
        return send_with_retries(client, request, policy=RetryPolicy(attempts=2, backoff=0.01))

    monkeypatch.setattr("pinlock.sources.debian.archive.send_with_retries", fast)
    with pytest.raises(ArchiveError):
        a.release(_loc(archive_server), "trixie", SNAP1)


def test_debian_unknown_suite(archive_server: ArchiveServer) -> None:
    with pytest.raises(ArchiveError, match="404"):
        _archive().release(_loc(archive_server), "forky", SNAP1)


def test_debian_index_cache_is_content_addressed(
    archive_server: ArchiveServer, tmp: Path
) -> None:
    a = _archive(tmp)
    rel = a.release(_loc(archive_server), "trixie", SNAP1)
    a.packages(_loc(archive_server), rel, "main", "amd64", SNAP1)
    cached = sorted(tmp.iterdir())
    # the scanned index, the bytes
    assert [p.suffix for p in cached] == [".gz", f".index-v{INDEX_CACHE_FORMAT}"]
    assert len({p.name.split(".")[0] for p in cached}) == 1  # both named by the index sha256
    for p in cached:
        p.write_bytes(b"garbage")  # a corrupted cache entry is refetched, not trusted
    archive_server.requests.clear()
    recs = _archive(tmp).packages(_loc(archive_server), rel, "main", "amd64", SNAP1)
    assert recs and archive_server.requests


def test_debian_check_index_size_and_hash() -> None:
    entry = IndexFile("p", "0" * 64, 3)
    with pytest.raises(IntegrityError, match="size"):
        check_index(b"ab", entry, what="p")
    with pytest.raises(IntegrityError, match="SHA256"):
        check_index(b"abc", entry, what="p")


def test_debian_security_template() -> None:
    assert security_template("http://m/debian") == "http://m/debian-security"
    assert security_template("http://m/archive/debian/{snapshot}/") == (
        "http://m/archive/debian-security/{snapshot}/"
    )
    with pytest.raises(ArchiveError):
        security_template("http://m/ubuntu")


def test_debian_hash_of_streams_and_stops_past_the_limit(archive_server: ArchiveServer) -> None:
    pool = archive_server.root / "archive" / "debian" / SNAP1 / "pool" / "trixie" / "main"
    deb = next(pool.rglob("*.deb"))
    data = deb.read_bytes()
    url = f"{archive_server.debian(SNAP1)}{deb.relative_to(pool.parents[2]).as_posix()}"
    a = Archive(make_client(timeout=10))
    assert a.hash_of(url, limit=len(data)) == (hashlib.sha256(data).hexdigest(), len(data))
    # a file larger than the lock says is not read to its end
    assert a.hash_of(url, limit=10) == (hashlib.sha256(data[:11]).hexdigest(), 11)
    assert a.hash_of(url + ".missing", limit=10) is None


def test_debian_hash_of_a_body_that_breaks_off_is_an_archive_error() -> None:
    # A server that promises 100000 bytes, sends 1000 and hangs up.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def answer() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        conn.close()

    t = threading.Thread(target=answer)
    t.start()
    try:
        with pytest.raises(ArchiveError, match=r"GET http://127\.0\.0\.1:\d+/a\.deb: "):
            Archive(make_client(timeout=10)).hash_of(f"http://127.0.0.1:{port}/a.deb",
                                                     limit=100000)
    finally:
        t.join(timeout=10)
        srv.close()
