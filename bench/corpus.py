"""Report: `pinlock init` then `pinlock verify` over every file of the real-Dockerfile corpus.

Each file is copied to docker/Dockerfile in a fresh temporary project; init and verify run
in-process with --json, offline: the GitHub and registry variables are unset, the caches and
the Docker config point into the temporary folder, and every socket connection is refused.

Printed (nothing is asserted; the exit code is 0 whatever the figures):
- files, init ok, init refused (exit 2) with the top reasons, init crashes;
- the invariant: verify passing on init's own lock, and the failing files by finding code;
- per pattern tag (from PROVENANCE.tsv): files, image references found / adopted, checksummed
  downloads found / adopted, pins left out (init's `unmanaged`), refused and rejected files.

"Found" is what this script sees in the file, independent of pinlock's recognizers: image
references are the FROM, `COPY/ADD --from=` and `RUN --mount=…,from=` operands that are neither
`scratch` nor an earlier stage, each expanded with the global ARG defaults (`$V`, `${V}`,
`${V:-x}`, quotes) so that `FROM base-${TYPE}` counts as the stage it names (one that reads a
variable with no default, `FROM $BASE_IMAGE`, names no image until a build gives it one: it is
counted apart, as "more read a variable with no default"); checksummed
downloads are the distinct 64-hex values in the file outside comment lines, other than
`@sha256:` digests. "Adopted" is
what init's lock records: an image reference is adopted when an image input of the lock names
its repository with the same tag (or no tag) and digest as written (one input serves every site
of one reference), and a checksum when the lock records it under any input that is not an image
or apt input.

Usage: python bench/corpus.py [--files N] [--verbose]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import re
import socket
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The pinlock of this checkout (not an installed one), and tests/support.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.real_corpus import Entry, corpus_dir, provenance  # noqa: E402

from pinlock.cli import main as pinlock_main  # noqa: E402
from pinlock.dockerfile.parser import parse  # noqa: E402
from pinlock.imageref import ImageRefError, parse_image_ref  # noqa: E402

HEX64 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
DIGEST = re.compile(r"@sha256:([0-9a-f]{64})")
FROM_FLAG = re.compile(r"--from=(\S+)")
MOUNT_FROM = re.compile(r"^--mount=(?:\S*,)?from=([^,\s]+)")
VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
UNSET = ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_REPOSITORY", "SSL_CERT_FILE",
         "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class Result:
    entry: Entry
    init_code: int | None = None
    init_reason: str = ""
    crash: str = ""
    verify_code: int | None = None
    verify_codes: list[str] = field(default_factory=list)
    verify_messages: list[str] = field(default_factory=list)
    images_found: int = 0
    images_adopted: int = 0
    images_open: int = 0  # references that read a variable with no default: decided per build
    sums_found: int = 0
    sums_adopted: int = 0
    unmanaged: list[str] = field(default_factory=list)


class NoNetwork(OSError):
    pass


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise NoNetwork("bench/corpus.py runs offline: no connection is made")


@contextlib.contextmanager
def offline(home: Path) -> Iterator[None]:
    """No GitHub or registry settings, caches inside ``home``, and no socket may connect."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in UNSET or name.startswith("PINLOCK_"):
            del os.environ[name]
    os.environ["PINLOCK_CACHE_DIR"] = str(home / "cache")
    os.environ["DOCKER_CONFIG"] = str(home / "docker-config")
    connect, create = socket.socket.connect, socket.create_connection
    socket.socket.connect = _refuse  # type: ignore[method-assign]
    socket.create_connection = _refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.create_connection = create
        os.environ.clear()
        os.environ.update(saved)


def run(*args: str) -> tuple[int | None, str, str]:
    """``pinlock ARGS`` in-process: (exit code, stdout, crash text); the code is None on a crash."""
    out, err = io.StringIO(), io.StringIO()
    code: int | None
    crash = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            pinlock_main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        except Exception as exc:  # a crash is a figure of the report, not the end of it
            code = None
            last = traceback.extract_tb(exc.__traceback__)[-1]
            crash = f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}: {exc}"
        else:
            code = 0
    if code is not None and "Traceback (most recent call last)" in err.getvalue():
        crash = "traceback printed: " + err.getvalue().strip().splitlines()[-1]
    return code, out.getvalue(), crash


def _expand(word: str, defaults: dict[str, str]) -> str:
    """``word`` with quotes removed and ``$V``/``${V}``/``${V:-x}`` replaced from
    ``defaults``; a variable without a default is left as ``\0`` (unknown)."""
    def sub(m: re.Match[str]) -> str:
        name, op, alt = m.group(1) or m.group(4), m.group(2), m.group(3)
        val = defaults.get(name)
        if op and op.endswith("-"):
            return val if val else (alt or "")
        if op and op.endswith("+"):
            return (alt or "") if val else ""
        return "\0" if val is None else val

    for _ in range(8):  # defaults that name other ARGs
        word = VAR.sub(sub, word)
    return word.replace('"', "").replace("'", "")


def _may_be_stage(ref: str, stages: set[str]) -> bool:
    if "\0" not in ref:
        return ref.lower() in stages
    pattern = ".*".join(re.escape(p) for p in ref.lower().split("\0"))
    return bool(ref.replace("\0", "")) and any(re.fullmatch(pattern, s) for s in stages)


def found(text: str) -> tuple[list[str], set[str]]:
    """Image references (expanded, one per site) and checksums, as this script sees them."""
    stages: set[str] = set()
    defaults: dict[str, str] = {}
    images: list[str] = []
    try:
        instructions = tuple(parse(text).instructions)
    except Exception:
        instructions = ()
    first_from = True
    for ins in instructions:
        words = ins.text.text.split()
        if ins.keyword == "ARG" and first_from:
            for word in words[1:]:
                name, eq, value = word.partition("=")
                if eq:
                    defaults[name] = _expand(value, defaults)
        elif ins.keyword == "FROM":
            first_from = False
            operands = [w for w in words[1:] if not w.startswith("--")]
            if operands:
                ref = _expand(operands[0], defaults)
                if ref.lower() != "scratch" and not _may_be_stage(ref, stages):
                    images.append(ref)
            if len(operands) >= 3 and operands[1].lower() == "as":
                stages.add(operands[2].lower())
        elif ins.keyword in ("COPY", "ADD", "RUN"):
            for word in words[1:]:
                m = FROM_FLAG.fullmatch(word) or MOUNT_FROM.search(word)
                if m and m.group(1).lower() not in stages and not m.group(1).isdigit():
                    images.append(m.group(1))
    digests = set(DIGEST.findall(text))
    # A comment line is no check of a download (a commit hash quoted in a `# https://…` link).
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    sums = {h.lower() for h in HEX64.findall(code)} - digests
    return images, sums


def lock_images(lock: dict[str, Any]) -> set[tuple[str, str | None, str | None]]:
    """(repository, tag, digest) of each image input, the repository fully qualified."""
    out = set()
    inputs = lock.get("inputs", {})
    for spec in inputs.values() if isinstance(inputs, dict) else []:
        if isinstance(spec, dict) and spec.get("kind") == "image":
            locked = spec.get("locked", {})
            with contextlib.suppress(ImageRefError):
                repo = parse_image_ref(str(spec.get("image"))).canonical
                out.add((repo, locked.get("tag"), locked.get("index-digest")))
    return out


def _is_reference(ref: str) -> bool:
    """Whether the file itself names an image there (not a value given at build time)."""
    try:
        parse_image_ref(ref)
    except ImageRefError:
        return False
    return True


def adopted_images(refs: list[str], locked: set[tuple[str, str | None, str | None]]) -> int:
    count = 0
    for ref in refs:
        with contextlib.suppress(ImageRefError):
            r = parse_image_ref(ref)
            count += (r.canonical, r.tag, r.digest) in locked
    return count


def lock_sums(lock: dict[str, Any]) -> set[str]:
    """Every 64-hex value recorded under an input that is neither an image nor apt."""
    seen: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            seen.update(h.lower() for h in HEX64.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    inputs = lock.get("inputs", {})
    for spec in inputs.values() if isinstance(inputs, dict) else []:
        if isinstance(spec, dict) and spec.get("kind") not in ("image", "apt"):
            walk(spec)
    return seen


def one(entry: Entry, path: Path, scratch: Path) -> Result:
    result = Result(entry)
    text = path.read_bytes().decode("utf-8")
    refs, sums = found(text)
    result.images_open = sum(not _is_reference(r) for r in refs)
    refs = [r for r in refs if _is_reference(r)]
    result.images_found = len(refs)
    result.sums_found = len(sums)
    project = scratch / entry.file
    (project / "docker").mkdir(parents=True)
    (project / "docker" / "Dockerfile").write_bytes(path.read_bytes())
    cwd = os.getcwd()
    os.chdir(project)
    try:
        code, out, crash = run("init", "--json")
        result.init_code, result.crash = code, crash
        data = _json(out)
        if code == 0 and isinstance(data.get("inputs"), dict):
            result.unmanaged = [str(u.get("reason", "")) for u in data.get("unmanaged", [])
                                if isinstance(u, dict)]
            lockfile = project / str(data.get("lockfile", "image.lock.toml"))
            if lockfile.exists():
                with contextlib.suppress(tomllib.TOMLDecodeError):
                    lock = tomllib.loads(lockfile.read_text(encoding="utf-8"))
                    result.sums_adopted = len(lock_sums(lock) & sums)
                    result.images_adopted = adopted_images(refs, lock_images(lock))
        elif code is not None:
            result.init_reason = _error_message(data) or out.strip() or "no output"
        if code == 0:
            vcode, vout, vcrash = run("verify", "--json")
            result.verify_code = vcode
            result.crash = result.crash or vcrash
            findings = _json(vout).get("findings", [])
            if vcode == 2:
                result.verify_codes = ["refused: " + reason_key(_error_message(_json(vout)))]
            elif vcode not in (0, None):
                result.verify_messages = [
                    reason_key(str(f.get("message", ""))) for f in findings
                    if isinstance(f, dict) and f.get("severity") != "warning"]
                result.verify_codes = sorted({
                    str(f.get("code")) for f in findings
                    if isinstance(f, dict) and f.get("severity") != "warning"} or {"(no code)"})
    finally:
        os.chdir(cwd)
    return result


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(data: dict[str, Any]) -> str:
    """The message of a --json error object: {"error": {"message", "hint"}, "exit"}."""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return "" if error is None else str(error)


def reason_key(reason: str) -> str:
    """A refusal reason without the parts that differ from file to file."""
    reason = reason.splitlines()[0] if reason else ""
    reason = re.sub(r"^[^:\s]*image\.lock\.toml: ", "", reason)
    reason = re.sub(r"inputs\.[^.\s:]+", "inputs.X", reason)
    reason = re.sub(r"\(ARG [^)]*\)", "(ARG …)", reason)
    reason = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", reason)
    return re.sub(r"\b\d+\b", "N", reason)[:110]


def report(results: list[Result], seconds: float) -> None:
    n = len(results)
    ok = [r for r in results if r.init_code == 0]
    refused = [r for r in results if r.init_code == 2]
    crashed = [r for r in results if r.crash]
    passing = [r for r in ok if r.verify_code == 0]
    print(f"real corpus: {n} files, init + verify in {seconds:.1f} s")
    print(f"  init ok                  {len(ok):4d}")
    print(f"  init refused (exit 2)    {len(refused):4d}")
    other = [r for r in results if r.init_code not in (0, 2)]
    print(f"  init other exit          {len(other):4d}")
    print(f"  crashes                  {len(crashed):4d}")
    for reason, count in collections.Counter(reason_key(r.init_reason) for r in refused) \
            .most_common(8):
        print(f"    {count:4d}  {reason}")
    print(f"  verify passes on init's own lock: {len(passing)} of {len(ok)}"
          f" (invariant {'holds' if len(passing) == len(ok) else 'BROKEN'})")
    by_code: collections.Counter[str] = collections.Counter()
    for r in ok:
        if r.verify_code != 0:
            by_code.update(r.verify_codes or [f"exit {r.verify_code}"])
    for code, count in by_code.most_common():
        print(f"    {count:4d} files  {code}")
    messages = collections.Counter(m for r in ok for m in set(r.verify_messages))
    for message, count in messages.most_common(6):
        print(f"           {count:4d} files: {message}")
    for code in sorted(by_code):
        print(f"  verify {code}:")
        for r in ok:
            if code in r.verify_codes:
                print(f"    {r.entry.file}")
    print("  pins left out by init (unmanaged), top reasons:")
    reasons = collections.Counter(reason_key(u) for r in ok for u in r.unmanaged)
    for reason, count in reasons.most_common(6):
        print(f"    {count:4d}  {reason}")
    total_i = sum(r.images_found for r in results)
    total_ia = sum(r.images_adopted for r in results)
    total_s = sum(r.sums_found for r in results)
    total_sa = sum(r.sums_adopted for r in results)
    print(f"  image references adopted   {total_ia}/{total_i} ({_pct(total_ia, total_i)}); "
          f"{sum(r.images_open for r in results)} more read a variable with no default")
    print(f"  checksums adopted          {total_sa}/{total_s} ({_pct(total_sa, total_s)})")
    print()
    head = (f"{'pattern':<22}{'files':>6}{'refused':>8}{'rejected':>9}{'images':>8}"
            f"{'adopted':>8}{'sums':>6}{'adopted':>8}{'left out':>9}")
    print(head)
    print("-" * len(head))
    tags = sorted({t for r in results for t in r.entry.patterns})
    for tag in tags:
        rs = [r for r in results if tag in r.entry.patterns]
        print(f"{tag:<22}{len(rs):>6}"
              f"{sum(r.init_code == 2 for r in rs):>8}"
              f"{sum(r.init_code == 0 and r.verify_code != 0 for r in rs):>9}"
              f"{sum(r.images_found for r in rs):>8}{sum(r.images_adopted for r in rs):>8}"
              f"{sum(r.sums_found for r in rs):>6}{sum(r.sums_adopted for r in rs):>8}"
              f"{sum(len(r.unmanaged) for r in rs):>9}")
    if crashed:
        print()
        print("crashes:")
        for r in crashed:
            print(f"  {r.entry.file}: {r.crash}")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=0, help="only the first N files")
    parser.add_argument("--verbose", action="store_true", help="one line per file")
    args = parser.parse_args(argv)
    folder = corpus_dir()
    if folder is None:
        print("no corpus files found (see tests/corpus/real/README.md); nothing to report")
        return 0
    entries = provenance()
    if args.files:
        entries = entries[:args.files]
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="pinlock-corpus-") as tmp, offline(Path(tmp)):
        for entry in entries:
            path = folder / entry.file
            if not path.exists():
                print(f"missing: {entry.file}")
                continue
            result = one(entry, path, Path(tmp))
            results.append(result)
            if args.verbose:
                print(f"{entry.file}: init {result.init_code} verify {result.verify_code}"
                      f" {','.join(result.verify_codes)} {result.init_reason[:80]}")
    report(results, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
