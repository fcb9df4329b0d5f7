"""What upstream answered a recent `pinlock outdated`, kept a few minutes for the next one.

`outdated` is a report: run again on the same lock minutes later, it may show what
upstream said then, as Renovate's lookups do, and asks no upstream at all. Only
`outdated` reads these answers (never `lock`, `update`, `pr` or `verify --online`),
only while they are younger than ``--max-age``, and only for the very lock bytes,
options and upstream settings they were asked for. The file carries an HMAC under the
user's cache key: nobody else can plant an answer that hides an alarm.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pinlock import grammar
from pinlock.clock import parse_time
from pinlock.model import Finding, Severity
from pinlock.options import Options, cache_dir
from pinlock.usercache import (
    check_cache_folder,
    default_key_file,
    load_cache_key,
    prune_cache,
    seal,
    sealed,
    write_atomic,
)

if TYPE_CHECKING:
    from pinlock.sources.interface import Candidate

FORMAT = 1
KEEP = dt.timedelta(days=7)  # answer files untouched this long are removed when one is written
_AGE_RE = re.compile(r"^(?:0|([0-9]{1,6})([smh]))$")
_UNIT = {"s": 1, "m": 60, "h": 3600}
_WORD = re.compile(r"[\x21-\x7e]{1,2048}")
# What else picks the upstream an input is asked: endpoints, mirrors, keys, credentials,
# proxies. Their values go into the key (hashed with the rest), never into the file.
_ENV_PREFIXES = ("PINLOCK_", "GITHUB_", "GH_", "DOCKER_")
_ENV_NAMES = frozenset({"SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY",
                        "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy",
                        "no_proxy"})


def parse_max_age(text: str) -> dt.timedelta:
    """``"10m"`` -> ten minutes; units ``s``, ``m``, ``h``; ``"0"``: ask upstream now.
    ValueError for anything else."""
    m = _AGE_RE.match(text.strip())
    if m is None:
        raise ValueError(text)
    return dt.timedelta(seconds=int(m.group(1)) * _UNIT[m.group(2)] if m.group(1) else 0)


@dataclass(frozen=True)
class Answer:
    """What one input's upstream said: its newest allowed candidate and the drift found."""

    asked: dt.datetime
    candidate: Candidate | None
    drift: tuple[Finding, ...]

    def to_json(self) -> dict[str, object]:
        cand = None
        if self.candidate is not None:
            cand = {**asdict(self.candidate), "published": (
                self.candidate.published.isoformat() if self.candidate.published else None)}
        return {"asked": self.asked.isoformat(), "candidate": cand,
                "drift": [f.to_json() for f in self.drift]}

    @classmethod
    def from_json(cls, data: Any) -> Answer:
        """Raises (KeyError, TypeError, ValueError) on anything not written by ``to_json``."""
        from pinlock.sources.interface import Candidate

        asked = parse_time(data["asked"])
        if asked is None:
            raise ValueError("asked")
        cand = data["candidate"]
        candidate = None
        if cand is not None:
            digest = _opt(cand["digest"])
            if digest is not None:
                grammar.digest(digest)
            candidate = Candidate(
                version=_word(cand["version"]), ref=_word(cand["ref"]),
                notes_url=_opt_word(cand["notes_url"]), digest=digest,
                published=parse_time(cand["published"]))
        drift = tuple(Finding(
            input=_text(f["input"]), severity=_severity(f["severity"]), code=_text(f["code"]),
            message=_text(f["message"]), file=_opt(f["file"]), line=_opt_int(f["line"]),
            expected=_opt(f["expected"]), found=_opt(f["found"])) for f in data["drift"])
        return cls(asked, candidate, drift)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _severity(value: object) -> Severity:
    if value == "error":
        return "error"
    if value == "warning":
        return "warning"
    raise ValueError(value)


def _word(value: object) -> str:
    """A version, ref or URL as the sources let them through: printable ASCII, no spaces. The
    file is sealed, but what reaches the terminal is checked once more."""
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise ValueError(value)
    return value


def _opt_word(value: object) -> str | None:
    return None if value is None else _word(value)


def _opt(value: object) -> str | None:
    return None if value is None else _text(value)


def _opt_int(value: object) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(value)
    return value


class Answers:
    """The answers kept for one lock text, options and environment (one file)."""

    def __init__(self, path: str | None, key: bytes | None, ident: str,
                 held: dict[str, Answer]) -> None:
        self.path, self._key, self.ident = path, key, ident
        self.held = held

    @classmethod
    def open(cls, lock_text: str, options: Options, environ: Mapping[str, str]) -> Answers:
        """The answers on disk for exactly this lock, options and environment; none when the
        cache folder or the key cannot be used, or the file is not one this user sealed."""
        ident = identity(lock_text, options, environ)
        folder = os.path.join(cache_dir(environ), "outdated")
        if check_cache_folder(folder) is not None:
            return cls(None, None, ident, {})
        key, _ = load_cache_key(default_key_file(environ))
        path = os.path.join(folder, f"{ident}.json")
        return cls(path, key, ident, _read(path, key, ident) if key is not None else {})

    def fresh(self, names: list[str], max_age: dt.timedelta,
              now: dt.datetime) -> dict[str, Answer]:
        """The answers for ``names`` asked no longer than ``max_age`` before ``now``."""
        return {n: a for n in names if (a := self.held.get(n)) is not None
                and now - max_age <= a.asked <= now}

    def keep(self, answers: Mapping[str, Answer]) -> None:
        """Add ``answers`` to the file (what it held for other inputs stays)."""
        if self.path is None or self._key is None or not answers:
            return
        self.held = {**self.held, **answers}
        body = _body(self.ident, self.held)
        data = json.dumps({"format": FORMAT, "mac": seal(self._key, body),
                           "body": json.loads(body)}, sort_keys=True).encode()
        # one file per lock text asked about: those of locks long changed go
        prune_cache(os.path.dirname(self.path), dt.datetime.now(dt.UTC), KEEP)
        write_atomic(self.path, [data])


def identity(lock_text: str, options: Options, environ: Mapping[str, str]) -> str:
    """What an answer was asked for: the lock's bytes, the options, the upstream settings."""
    env = sorted((k, v) for k, v in environ.items()
                 if k.startswith(_ENV_PREFIXES) or k in _ENV_NAMES)
    blob = json.dumps({"format": FORMAT, "lock": lock_text, "options": repr(options),
                       "env": env}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _body(ident: str, held: Mapping[str, Answer]) -> bytes:
    return json.dumps({"ident": ident, "answers": {n: a.to_json() for n, a in held.items()}},
                      sort_keys=True, separators=(",", ":")).encode()


def _read(path: str, key: bytes, ident: str) -> dict[str, Answer]:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read(1 << 22))
        body = doc["body"]
        if doc["format"] != FORMAT or body["ident"] != ident:
            return {}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        if not sealed(key, canonical, doc["mac"]):
            return {}
        return {n: Answer.from_json(a) for n, a in body["answers"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # GrammarError too
        return {}  # missing, unreadable, of another format, or not ours: asked afresh
