"""A real, signed Debian archive for tests: dpkg-deb, apt-ftparchive, gpg, served on loopback.

Laid out like snapshot.debian.org: ``/archive/debian/<timestamp>/`` and
``/archive/debian-security/<timestamp>/``; a request for any later timestamp is
redirected to the last run at or before it, as snapshot.debian.org does.
Fault switches (``ArchiveServer.faults``) replace what is served.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http.server
import lzma
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from support.loopback import LoopbackServer

SNAP1 = "20250101T000000Z"
SNAP2 = "20250201T000000Z"
ARCHS = ("amd64", "arm64")
FAULTS = (
    "bad-signature", "untrusted-signer", "two-signers", "tampered-index", "expired",
    "no-by-hash", "down", "tampered-deb",
)


@dataclass(frozen=True)
class Pkg:
    name: str
    version: str
    arch: str = "any"  # "any": built for each arch; "all"; or one arch
    fields: dict[str, str] = field(default_factory=dict)


def P(name: str, version: str, arch: str = "any", **fields: str) -> Pkg:
    return Pkg(name, version, arch, {k.replace("_", "-"): v for k, v in fields.items()})


# suite -> packages, per snapshot. SNAP2 adds newer versions in updates and security.
_BASE = [
    P("base-req", "1.0-1", Priority="required", Essential="yes", Depends="libbase (>= 1)"),
    P("libbase", "1.1-1", Priority="required", Multi_Arch="same"),
    P("apt", "2.9-1", Priority="important", Depends="libbase, alt2 | alt1"),
    P("alt1", "1.0-1", Priority="optional"),
    P("alt2", "1.0-1", Priority="optional"),
    P("app", "1.0-1", Pre_Depends="prelib", Depends=(
        "libfoo (>= 2.0), mta-a | mta-b, alt1 | alt2, virt-editor, libapi (>= 2), pyrt:any, "
        "data-common (= 1.0-1), tool"
    ), Recommends="extra-rec"),
    P("prelib", "0.5-1"),
    P("libfoo", "1.5-1", Multi_Arch="same"),
    P("mta-b", "1.0-1", Provides="mail-transport-agent"),
    P("ed-a", "1.0-1", Priority="optional", Provides="virt-editor"),
    P("ed-b", "1.0-1", Priority="standard", Provides="virt-editor"),
    P("impl-old", "1.0-1", Provides="libapi (= 1)"),
    P("impl-new", "1.0-1", Provides="libapi (= 3)"),
    P("pyrt", "3.13-1", Multi_Arch="allowed"),
    P("data-common", "1.0-1", "all"),
    P("tool", "1.0-1", Multi_Arch="foreign", Depends="data-common"),
    P("extra-rec", "1.0-1", "all"),
    P("epochy", "1:0.9-1"),
    P("tilde", "1.0-1"),
    P("native", "1.0-1", "arm64"),
    P("native", "1.0-1+b1", "amd64"),
    P("broken", "1.0-1", Depends="libfoo (>= 9)"),
    P("chain-top", "1.0-1", Depends="chain-mid"),
    P("chain-mid", "1.0-1", Depends="ghost"),
    P("anyonly", "1.0-1", Depends="tool:any"),
]
_UPDATES = [
    P("libfoo", "2.0-1", Multi_Arch="same"),
    P("epochy", "2.0-1"),
    P("tilde", "1.0~rc2-1"),
    P("newtool", "0.1-1", Depends="libfoo (>= 2)"),
]
_SECURITY: list[Pkg] = []
SUITES = {
    SNAP1: {"trixie": _BASE, "trixie-updates": _UPDATES, "trixie-security": _SECURITY},
    SNAP2: {
        "trixie": _BASE,
        "trixie-updates": [*_UPDATES, P("prelib", "0.6-1")],
        "trixie-security": [P("libfoo", "2.0-1+deb13u1", Multi_Arch="same")],
    },
}


@dataclass
class BuiltArchive:
    root: Path  # served folder: root/archive/{debian,debian-security}/<ts>/
    keyring: Path  # public key of the signer
    untrusted_keyring: Path  # public key of the other, untrusted signer
    gnupghome: Path


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        check=False, timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def _deb(pkg: Pkg, arch: str, pool: Path, work: Path) -> None:
    d = work / f"{pkg.name}_{arch}"
    (d / "DEBIAN").mkdir(parents=True)
    (d / "usr/share/doc" / pkg.name).mkdir(parents=True)
    (d / "usr/share/doc" / pkg.name / "README").write_text(f"{pkg.name} {pkg.version} {arch}\n")
    control = [f"Package: {pkg.name}", f"Version: {pkg.version}", f"Architecture: {arch}",
               "Maintainer: pinlock tests <tests@example.org>"]
    control += [f"{k}: {v}" for k, v in pkg.fields.items()]
    control.append(f"Description: test package {pkg.name}")
    (d / "DEBIAN/control").write_text("\n".join(control) + "\n")
    target = pool / pkg.name[0] / pkg.name
    target.mkdir(parents=True, exist_ok=True)
    ver = pkg.version.split(":", 1)[-1]
    # Reproducible, as a real archive's pool is: the same package in two runs is the same
    # bytes (dpkg-deb takes member and file times from SOURCE_DATE_EPOCH).
    _run("dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(d),
         str(target / f"{pkg.name}_{ver}_{arch}.deb"), env={"SOURCE_DATE_EPOCH": "1735689600"})
    shutil.rmtree(d)


def _gpg(home: Path, *args: str) -> str:
    return _run("gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                "--passphrase", "", *args)


def _sign(home: Path, keys: list[str], text: Path, out: Path) -> None:
    args = ["--yes", "--digest-algo", "SHA256", "--output", str(out)]
    for k in keys:
        args += ["--local-user", k]
    _gpg(home, *args, "--clearsign", str(text))


def build_archive(dest: Path,
                  suites_by_snapshot: dict[str, dict[str, list[Pkg]]] | None = None,
                  *, rewrite: Callable[[str, str, str], str] | None = None,
                  ) -> BuiltArchive:
    """Build every snapshot of ``suites_by_snapshot`` (default: the test universe, SUITES);
    takes a few seconds (dpkg-deb per package and arch).

    ``rewrite(suite, arch, text)`` changes a Packages index before it is hashed into the
    Release and signed: a hostile archive whose signature still checks out (dpkg-deb
    itself refuses to build a package with, say, ``$(…)`` in its version)."""
    home = dest / "gnupg"
    home.mkdir(mode=0o700, parents=True)
    for uid in ("pinlock test archive <archive@example.org>",
                "pinlock untrusted <untrusted@example.org>"):
        _gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")
    keyring = dest / "archive-keyring.gpg"
    untrusted = dest / "untrusted-keyring.gpg"
    _gpg(home, "--output", str(keyring), "--export", "archive@example.org")
    _gpg(home, "--output", str(untrusted), "--export", "untrusted@example.org")
    work = dest / "work"
    work.mkdir()
    for snap, suites in (suites_by_snapshot or SUITES).items():
        for suite, pkgs in suites.items():
            base_name = "debian-security" if suite.endswith("-security") else "debian"
            top = dest / "archive" / base_name / snap
            pool = top / "pool" / suite / "main"
            pool.mkdir(parents=True, exist_ok=True)
            for pkg in pkgs:
                for arch in (ARCHS if pkg.arch == "any" else (pkg.arch,)):
                    _deb(pkg, arch, pool, work)
            dists = top / "dists" / suite
            for arch in ARCHS:
                folder = dists / "main" / f"binary-{arch}"
                folder.mkdir(parents=True, exist_ok=True)
                text = _run("apt-ftparchive", "--arch", arch, "packages", f"pool/{suite}",
                            cwd=top)
                if rewrite is not None:
                    text = rewrite(suite, arch, text)
                raw = text.encode()
                (folder / "Packages").write_bytes(raw)
                (folder / "Packages.xz").write_bytes(lzma.compress(raw))
                (folder / "Packages.gz").write_bytes(gzip.compress(raw, mtime=0))
                byhash = folder / "by-hash" / "SHA256"
                byhash.mkdir(parents=True)
                for name in ("Packages", "Packages.xz", "Packages.gz"):
                    data = (folder / name).read_bytes()
                    (byhash / hashlib.sha256(data).hexdigest()).write_bytes(data)
                # a tampered copy (one more paragraph) served by the "tampered-index" fault
                evil = raw + b"\nPackage: evil\nVersion: 6.6.6\nArchitecture: all\n"
                (folder / "tampered-Packages.xz").write_bytes(lzma.compress(evil))
                (folder / "tampered-Packages.gz").write_bytes(gzip.compress(evil, mtime=0))
            codename = suite.split("-")[0]
            # Dated at the run's own time, as snapshot.debian.org's runs are: a lock's
            # snapshot is never older than the InRelease it read.
            date = dt.datetime.strptime(snap, "%Y%m%dT%H%M%SZ").strftime(
                "%a, %d %b %Y %H:%M:%S UTC")
            release = _run(
                "apt-ftparchive",
                "-o", f"APT::FTPArchive::Release::Date={date}",
                "-o", f"APT::FTPArchive::Release::Suite={suite}",
                "-o", f"APT::FTPArchive::Release::Codename={suite}",
                "-o", "APT::FTPArchive::Release::Origin=Debian",
                "-o", "APT::FTPArchive::Release::Label=Debian",
                "-o", f"APT::FTPArchive::Release::Architectures={' '.join(ARCHS)}",
                "-o", "APT::FTPArchive::Release::Components=main",
                "-o", f"APT::FTPArchive::Release::Description=pinlock test {codename}",
                "release", ".", cwd=dists,
            )
            lines = release.splitlines()
            at = next(i for i, line in enumerate(lines) if line.startswith("Date:")) + 1
            fresh = [*lines[:at], "Valid-Until: Thu, 01 Jan 2099 00:00:00 UTC",
                     "Acquire-By-Hash: yes", *lines[at:]]
            stale = [*lines[:at], "Valid-Until: Sat, 01 Jan 2000 00:00:00 UTC",
                     "Acquire-By-Hash: yes", *lines[at:]]
            (dists / "Release").write_text("\n".join(fresh) + "\n")
            (dists / "Release.expired").write_text("\n".join(stale) + "\n")
            _sign(home, ["archive@example.org"], dists / "Release", dists / "InRelease")
            _sign(home, ["archive@example.org"], dists / "Release.expired",
                  dists / "InRelease.expired")
            _sign(home, ["untrusted@example.org"], dists / "Release",
                  dists / "InRelease.untrusted-signer")
            _sign(home, ["untrusted@example.org", "archive@example.org"], dists / "Release",
                  dists / "InRelease.two-signers")
            signed = (dists / "InRelease").read_text()
            # flip one character of the signed text: the signature no longer matches
            (dists / "InRelease.bad-signature").write_text(
                signed.replace("pinlock test", "pinlock tEst", 1)
            )
    shutil.rmtree(work)
    # gpg starts an agent for the throwaway home; stop it rather than leave it running
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False,
                   capture_output=True, timeout=30)
    return BuiltArchive(dest, keyring, untrusted, home)


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: ArchiveServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append(self.path)
        if "down" in srv.faults:
            self.send_error(503)
            return
        parts = self.path.split("?", 1)[0].split("/")
        # /archive/<name>/<timestamp>/...: redirect to the last run at or before it
        if len(parts) > 4 and parts[1] == "archive":
            runs = sorted(p.name for p in (srv.root / "archive" / parts[2]).iterdir())
            if parts[3] not in runs:
                earlier = [r for r in runs if r <= parts[3]]
                if not earlier:
                    self.send_error(404)
                    return
                self.send_response(302)
                parts[3] = earlier[-1]
                self.send_header("Location", "/".join(parts))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        path = "/".join(parts)
        if "no-by-hash" in srv.faults and "/by-hash/" in path:
            self.send_error(404)
            return
        for fault in ("bad-signature", "untrusted-signer", "two-signers", "expired"):
            if fault in srv.faults and path.endswith("/InRelease"):
                path = f"{path}.{fault}"
        if "tampered-index" in srv.faults and path.endswith(("/Packages.xz", "/Packages.gz")):
            head, name = path.rsplit("/", 1)
            path = f"{head}/tampered-{name}"
        if "tampered-index" in srv.faults and "/by-hash/" in path:
            self.send_error(404)
            return
        file = srv.root / path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        if "tampered-deb" in srv.faults and path.endswith(".deb"):
            data = data[:-1] + bytes([data[-1] ^ 1])  # same size, other bytes
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ArchiveServer(LoopbackServer):
    """Serves a BuiltArchive on 127.0.0.1 (a free port) from a thread; ``stop()`` ends it."""

    def __init__(self, archive: BuiltArchive) -> None:
        super().__init__(_Handler)
        self.archive = archive
        self.root = archive.root
        self.faults: set[str] = set()
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def debian(self, snapshot: str | None = None) -> str:
        return f"{self.url}/archive/debian/{snapshot or '{snapshot}'}/"

    def security(self, snapshot: str | None = None) -> str:
        return f"{self.url}/archive/debian-security/{snapshot or '{snapshot}'}/"


def serve(archive: BuiltArchive) -> Iterator[ArchiveServer]:
    srv = ArchiveServer(archive).start()
    try:
        yield srv
    finally:
        srv.stop()
