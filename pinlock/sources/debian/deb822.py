"""Pure parsing of Debian control data: paragraphs, Release fields, Packages indexes, relations."""

from __future__ import annotations

import array
import bisect
import hmac
import itertools
import marshal
import re
import struct
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, overload


class ControlError(ValueError):
    """Control data is malformed."""


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """Yield each paragraph of deb822 ``text`` as {field: value}.

    Continuation lines (leading space or tab) are joined with newlines; a lone
    ``.`` continuation stands for an empty line, as in Description. Field names
    keep their case; lookups in Debian are case-insensitive, so callers use the
    canonical spelling the archive tools write.
    """
    current: dict[str, str] = {}
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if current:
                yield current
            current, last = {}, None
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t":
            if last is None:
                raise ControlError(f"line {lineno}: continuation line without a field")
            body = line.strip()
            current[last] += "\n" + ("" if body == "." else body)
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            raise ControlError(f"line {lineno}: expected 'Field: value', got {line[:60]!r}")
        current[name] = value.strip()
        last = name
    if current:
        yield current


# ---------------------------------------------------------------- relations


@dataclass(frozen=True)
class Relation:
    """One alternative of a dependency: ``name[:archqual] [(op version)]``."""

    name: str
    archqual: str | None = None  # "any", "native" or an architecture
    op: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        q = f":{self.archqual}" if self.archqual else ""
        v = f" ({self.op} {self.version})" if self.op else ""
        return f"{self.name}{q}{v}"


Group = tuple[Relation, ...]  # alternatives joined by "|"

_REL = re.compile(
    r"^\s*([a-z0-9][a-z0-9+.\-]*)(?::([a-z0-9\-]+))?\s*"
    r"(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?\s*"
    r"(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$"
)


def parse_relation(text: str) -> Relation:
    m = _REL.match(text)
    if not m:
        raise ControlError(f"cannot parse relation {text.strip()!r}")
    return Relation(m.group(1), m.group(2), m.group(3), m.group(4))


def parse_relations(text: str | None) -> tuple[Group, ...]:
    """Parse a Depends-style field into and-groups of or-alternatives."""
    if not text:
        return ()
    out: list[Group] = []
    for part in text.replace("\n", " ").split(","):
        if not part.strip():
            continue
        out.append(tuple(parse_relation(alt) for alt in part.split("|")))
    return tuple(out)


# ---------------------------------------------------------------- Release / InRelease


@dataclass(frozen=True)
class IndexFile:
    path: str  # relative to dists/<suite>/, "main/binary-amd64/Packages.xz"
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """The fields of a (verified) Release text that pinlock uses."""

    fields: dict[str, str]
    files: dict[str, IndexFile] = field(default_factory=dict)

    @property
    def date(self) -> str:
        return self.fields.get("Date", "")

    @property
    def valid_until(self) -> str | None:
        return self.fields.get("Valid-Until")

    @property
    def acquire_by_hash(self) -> bool:
        return self.fields.get("Acquire-By-Hash", "").strip().lower() == "yes"

    @property
    def suite(self) -> str:
        return self.fields.get("Suite", "")

    @property
    def codename(self) -> str:
        return self.fields.get("Codename", "")


def parse_release(text: str) -> Release:
    """Parse Release text; only the SHA256 list is read (MD5Sum/SHA1 are not trusted)."""
    paras = list(paragraphs(text))
    if len(paras) != 1:
        raise ControlError(f"Release: expected one paragraph, found {len(paras)}")
    fields = paras[0]
    files: dict[str, IndexFile] = {}
    for line in fields.get("SHA256", "").splitlines():
        parts = line.split()
        if not parts:
            continue
        if (len(parts) != 3 or not parts[1].isdigit()
                or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0])):
            raise ControlError(f"Release SHA256: malformed line {line!r}")
        files[parts[2]] = IndexFile(parts[2], parts[0].lower(), int(parts[1]))
    return Release(fields, files)


# ---------------------------------------------------------------- Packages indexes


@dataclass(slots=True)
class PackageRecord:
    """One paragraph of a Packages index or dpkg status, with the fields resolution needs.

    Relation fields stay raw strings and are parsed on first use: an index holds
    ~65,000 paragraphs and resolution reads a few hundred of them.
    """

    package: str
    version: str = ""
    architecture: str = ""
    multi_arch: str = ""  # "", "same", "foreign", "allowed", "no"
    depends: str = ""
    pre_depends: str = ""
    recommends: str = ""
    provides: str = ""
    conflicts: str = ""
    breaks: str = ""
    suggests: str = ""
    replaces: str = ""
    installed_size: str = ""
    filename: str = ""
    size: int = 0
    sha256: str = ""
    source: str = ""
    priority: str = ""
    essential: bool = False
    important: bool = False  # ``Important: yes`` or ``Protected: yes``: apt will not remove it
    status: str = ""
    order: int = 0  # position of first mention, the tie-break apt's package IDs give
    _parsed: dict[str, tuple[Group, ...]] | None = None

    def relations(self, name: str) -> tuple[Group, ...]:
        if self._parsed is None:
            self._parsed = {}
        got = self._parsed.get(name)
        if got is None:
            got = parse_relations(getattr(self, name))
            self._parsed[name] = got
        return got

    @property
    def source_name(self) -> str:
        """The source package name (``Source: foo (1.2)`` -> ``foo``; absent -> package)."""
        return self.source.split(" ", 1)[0] if self.source else self.package

    def control(self) -> str:
        """The paragraph as a dpkg status entry (for base sets written to a status file)."""
        lines = [f"Package: {self.package}", "Status: install ok installed"]
        if self.priority:
            lines.append(f"Priority: {self.priority}")
        if self.essential:
            lines.append("Essential: yes")
        if self.important:
            lines.append("Protected: yes")
        lines.append(f"Architecture: {self.architecture}")
        if self.multi_arch:
            lines.append(f"Multi-Arch: {self.multi_arch}")
        if self.source:
            lines.append(f"Source: {self.source}")
        lines.append(f"Version: {self.version}")
        if self.installed_size:
            lines.append(f"Installed-Size: {self.installed_size}")
        # apt tells versions apart by a hash over these fields as well as the version
        # string: a status entry without them would look like another build.
        for key, attr in (
            ("Provides", "provides"), ("Pre-Depends", "pre_depends"), ("Depends", "depends"),
            ("Recommends", "recommends"), ("Suggests", "suggests"), ("Conflicts", "conflicts"),
            ("Breaks", "breaks"), ("Replaces", "replaces"),
        ):
            value = getattr(self, attr)
            if value:
                lines.append(f"{key}: {value}")
        lines.append(f"Description: {self.package}")
        return "\n".join(lines) + "\n"


_ATTR = {
    "Package": "package", "Version": "version", "Architecture": "architecture",
    "Multi-Arch": "multi_arch", "Depends": "depends", "Pre-Depends": "pre_depends",
    "Recommends": "recommends", "Provides": "provides", "Conflicts": "conflicts",
    "Breaks": "breaks", "Filename": "filename", "SHA256": "sha256", "Source": "source",
    "Priority": "priority", "Status": "status", "Suggests": "suggests", "Replaces": "replaces",
    "Installed-Size": "installed_size",
}
# One pass of a compiled regex over the whole text is several times faster than a
# Python loop over every line of a 60 MB index; the fields read are single-line in
# Packages files and dpkg status (only Description and Conffiles are multi-line).
_FIELD = re.compile(
    r"^(Package|Version|Architecture|Multi-Arch|Depends|Pre-Depends|Recommends|Provides"
    r"|Conflicts|Breaks|Filename|Size|SHA256|Source|Priority|Essential|Important|Status"
    r"|Suggests|Replaces|Installed-Size|Protected)"
    r":[ \t]*(.*?)[ \t]*$",
    re.MULTILINE,
)


def parse_packages(text: str, *, start_order: int = 0) -> list[PackageRecord]:
    """Parse a Packages index (or dpkg status) into records, in file order.

    ``Package`` opens each paragraph (dpkg-scanpackages, apt-ftparchive and dpkg
    all write it first); a paragraph without one is rejected.
    """
    out: list[PackageRecord] = []
    rec: PackageRecord | None = None
    order = start_order
    for key, value in _FIELD.findall(text):
        if key == "Package":
            rec = PackageRecord(value, order=order)
            order += 1
            out.append(rec)
            continue
        if rec is None:
            raise ControlError(f"field {key!r} before the first 'Package:' field")
        if key == "Size":
            rec.size = int(value) if value.isdigit() else 0
        elif key == "Essential":
            rec.essential = value.lower() == "yes"
        elif key in ("Important", "Protected"):
            rec.important = rec.important or value.lower() == "yes"
        else:
            setattr(rec, _ATTR[key], value)
    for r in out:
        if not r.version:
            raise ControlError(f"package {r.package!r} has no Version field")
    return out


def installed_records(status_text: str) -> list[PackageRecord]:
    """The packages a dpkg status file lists as installed (``install ok installed``).

    Half-installed, config-files-only and deinstalled entries are not part of
    the base: apt treats only fully installed packages as present.
    """
    recs = parse_packages(status_text)
    return [r for r in recs if r.status.split()[-1:] == ["installed"]]


# ---------------------------------------------------------------- compact Packages indexes

_SEP = b"\nPackage: "
# Fields no resolution or lock reads, dropped while scanning: together they are over a third
# of a Debian Packages index. Lines are dropped whole; a continuation line left behind (a long
# Description elsewhere) is skipped when a record is read, as parse_packages skips it.
_DROP = re.compile(
    rb"\n(?:Description|Description-md5|Maintainer|Homepage|MD5sum|Tag|Section):[^\n]*"
)
_BOOL_FIELDS = {"Essential": "essential", "Important": "important", "Protected": "important"}
_PROVIDES_LINE = re.compile(rb"\nProvides:[ \t]*([^\n]*)")
_NAME = r"[a-z0-9][a-z0-9+.\-]*"
_ITEM = _NAME + r"(?::[a-z0-9\-]+)?(?:[ \t]*\([ \t]*=[ \t]*[^)\s]+[ \t]*\))?"
_PROVIDES_PLAIN = re.compile(rf"[ \t]*{_ITEM}(?:[ \t]*,[ \t]*{_ITEM})*[ \t]*\Z")
_PROVIDED_NAME = re.compile(rf"({_NAME})(?::[a-z0-9\-]+)?(?:[ \t]*\([^)]*\))?")
_REQUIRED_LINE = re.compile(rb"\nPriority:[ \t]*required[ \t]*(?:\n|$)")
INDEX_CACHE_FORMAT = 2  # 2: authenticated with an HMAC under the user's key, not a bare hash
_CACHE_MAGIC = b"pinlock packages index\n"
_HEAD = struct.Struct("<II32sQ")  # format, marshal version, HMAC of the rest, tables length
_CHECK_STEP = 1 << 22
# A paragraph of a real index is a few KiB (the longest, with huge Provides, under 1 MiB);
# a stream with no paragraph break (a decompression bomb of zeros) would otherwise be kept
# whole while waiting for one.
MAX_PARAGRAPH = 8 << 20
# Debian's largest index (main, one architecture) holds ~70,000 paragraphs; the tables kept per
# paragraph would take a bomb of tiny ones past any memory bound long before a size cap.
MAX_RECORDS = 1_000_000

Buffer = bytes | bytearray | memoryview


class Blob(Protocol):
    """Bytes read by range: a buffer, or a file read on demand (records stay on disk)."""

    def __len__(self) -> int: ...

    def __getitem__(self, s: slice, /) -> Buffer: ...


@dataclass
class _Positions:
    """name -> positions of records, as two dicts: most names have one (an int is small)."""

    first: dict[str, int] = field(default_factory=dict)
    more: dict[str, list[int]] = field(default_factory=dict)  # names with several

    def get(self, name: str) -> Sequence[int]:
        got = self.more.get(name)
        if got is not None:
            return got
        i = self.first.get(name)
        return () if i is None else (i,)

    def add(self, name: str, pos: int) -> None:
        i = self.first.setdefault(name, pos)
        if i != pos:
            seen = self.more.setdefault(name, [i])
            if seen[-1] != pos:  # a record providing one name twice is listed once
                seen.append(pos)

    def dump(self) -> tuple[bytes, bytes, dict[str, list[int]]]:
        """For marshal: names joined and positions packed load faster than a dict of both."""
        return (
            "\n".join(self.first).encode(), array.array("I", self.first.values()).tobytes(),
            self.more,
        )

    @classmethod
    def restore(cls, dumped: object, n: int) -> _Positions:
        """The inverse of dump(), checked: ValueError unless every position is below ``n``."""
        if not isinstance(dumped, tuple) or len(dumped) != 3:
            raise ValueError("malformed name table")
        keys, raw, more = dumped
        positions = array.array("I")
        positions.frombytes(raw)
        names = keys.decode().split("\n") if positions else []
        if (
            len(names) != len(positions) or max(positions, default=-1) >= n
            or not isinstance(more, dict)
            or not all(isinstance(v, list) and max(v, default=-1) < n for v in more.values())
        ):
            raise ValueError("name table does not match the records")
        return cls(dict(zip(names, positions, strict=True)), more)


class PackagesIndex(Sequence[PackageRecord]):
    """A Packages index kept as its scanned bytes, read into records only when asked.

    An index holds ~65,000 paragraphs and a resolution reads a few thousand of
    them, so the index keeps, per record, only the bytes of the fields that
    resolution and the lock use, plus three tables built while scanning: name
    -> positions, provided name -> positions of the providers, and the names
    with ``Priority: required``. A record is parsed on first access and the same
    object is returned afterwards (the resolver tells records apart by
    identity). ``order`` is the position in the index, as with parse_packages.
    """

    def __init__(
        self, blob: Blob, offsets: array.array[int], names: _Positions, provided: _Positions,
        required: tuple[str, ...], records: list[PackageRecord | None] | None = None,
        *, base: int = 0,
    ) -> None:
        self._blob = blob
        self._base = base
        self._offsets = offsets  # record i is blob[base + offsets[i]:base + offsets[i + 1]]
        self._names = names
        self._provided = provided
        self.required = required
        self._records: list[PackageRecord | None] = (
            records if records is not None else [None] * (len(offsets) - 1)
        )

    # ------------------------------------------------------------ building

    @classmethod
    def parse(cls, data: bytes) -> PackagesIndex:
        b = PackagesIndexBuilder()
        b.feed(data)
        return b.finish()

    @classmethod
    def from_records(cls, recs: Iterable[PackageRecord]) -> PackagesIndex:
        """An index over records already parsed (a status file, or records built in tests)."""
        records: list[PackageRecord | None] = list(recs)
        names, provided = _Positions(), _Positions()
        required: list[str] = []
        for i, rec in enumerate(records):
            assert rec is not None
            names.add(rec.package, i)
            for group in rec.relations("provides"):
                for rel in group:
                    provided.add(rel.name, i)
            if rec.priority == "required":
                required.append(rec.package)
        offsets = array.array("I", bytes(4 * (len(records) + 1)))
        return cls(b"", offsets, names, provided, tuple(required), records)

    # ------------------------------------------------------------ Sequence

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, i: int) -> PackageRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[PackageRecord]: ...

    def __getitem__(self, i: int | slice) -> PackageRecord | list[PackageRecord]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        rec = self._records[i]
        if rec is None:
            if i < 0:
                i += len(self)
            a, b = self._base + self._offsets[i], self._base + self._offsets[i + 1]
            rec = self._records[i] = _read_record(bytes(self._blob[a:b]), i)
        return rec

    def __iter__(self) -> Iterator[PackageRecord]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------ lookups

    def positions(self, name: str) -> Sequence[int]:
        return self._names.get(name)

    def named(self, name: str) -> list[PackageRecord]:
        """The records of ``name``, in index order."""
        return [self[i] for i in self._names.get(name)]

    def providing(self, name: str) -> list[tuple[int, str | None]]:
        """Who provides ``name``: (position, the version if the Provides says ``= version``).

        One entry per mention, in index order; the versions are read from the
        providers' records, so only the records asked about are parsed.
        """
        return [
            (i, rel.version if rel.op == "=" else None)
            for i in self._provided.get(name)
            for group in self[i].relations("provides") for rel in group if rel.name == name
        ]

    def names(self) -> set[str]:
        return set(self._names.first) | set(self._provided.first)

    # ------------------------------------------------------------ cache file

    def serialize(self, sha256: str, *, key: bytes) -> list[Buffer]:
        """The index as cache-file chunks: a header with an HMAC, the tables, the bytes.

        ``sha256`` is the (verified) hash of the index it was scanned from; load()
        only accepts the file for that hash. ``key`` is the user's cache key, kept
        outside the cache: a bare checksum can be recomputed by whoever plants a file,
        the HMAC cannot without the key.
        """
        tables = marshal.dumps((
            sha256, self._offsets.tobytes(), self._names.dump(), self._provided.dump(),
            self.required,
        ))
        size = self._offsets[-1]
        blob: Buffer
        if isinstance(self._blob, bytes | bytearray | memoryview) and len(self._blob) == size:
            blob = self._blob  # as scanned: no copy
        else:
            blob = self._blob[self._base:self._base + size]
        digest = hmac.new(key, struct.pack("<Q", len(tables)), "sha256")
        digest.update(tables)
        digest.update(blob)
        head = _HEAD.pack(INDEX_CACHE_FORMAT, marshal.version, digest.digest(), len(tables))
        return [_CACHE_MAGIC, head, tables, blob]

    def read_from(self, written: Blob, chunks: Sequence[Buffer]) -> None:
        """Read records from ``written`` from now on: it holds ``chunks``, from serialize().

        Lets the caller trade the bytes in memory for the file it just wrote.
        """
        if len(written) != sum(len(c) for c in chunks):
            raise ControlError("the written index cache has another size")
        self._blob = written
        self._base = len(written) - self._offsets[-1]

    @classmethod
    def load(cls, data: Blob, sha256: str, *, key: bytes) -> PackagesIndex:
        """Read a cache file written by serialize(); ControlError unless it is whole and ours.

        The HMAC under ``key`` catches a truncated, corrupted or planted file; the
        recorded hash catches a file of another index (renamed, or from another version).
        Records are read from ``data`` when asked for: it must not change.
        """
        start = len(_CACHE_MAGIC) + _HEAD.size
        head = bytes(data[:start])
        if len(head) < start or not head.startswith(_CACHE_MAGIC):
            raise ControlError("not a pinlock index cache file")
        fmt, mver, digest, tlen = _HEAD.unpack_from(head, len(_CACHE_MAGIC))
        if (fmt, mver) != (INDEX_CACHE_FORMAT, marshal.version):
            raise ControlError(f"index cache format {fmt}.{mver}, expected "
                               f"{INDEX_CACHE_FORMAT}.{marshal.version}")
        check = hmac.new(key, struct.pack("<Q", tlen), "sha256")
        for k in range(start, len(data), _CHECK_STEP):  # in steps: ``data`` may be a file
            check.update(data[k:k + _CHECK_STEP])
        if not hmac.compare_digest(check.digest(), digest) or start + tlen > len(data):
            raise ControlError("index cache checksum does not match")
        try:
            got, raw, dumped_names, dumped_provided, required = marshal.loads(
                data[start:start + tlen]
            )
            offsets = array.array("I")
            offsets.frombytes(raw)
            n = len(offsets) - 1
            if n < 0 or start + tlen + offsets[-1] != len(data):
                raise ValueError("record offsets do not match the file")
            if not isinstance(required, tuple):
                raise ValueError("malformed required names")
            names = _Positions.restore(dumped_names, n)
            provided = _Positions.restore(dumped_provided, n)
        except (ValueError, EOFError, TypeError, AttributeError) as exc:
            raise ControlError(f"index cache tables unreadable ({exc})") from None
        if got != sha256:
            raise ControlError(f"index cache is for index {got!r}, expected {sha256}")
        return cls(data, offsets, names, provided, required, base=start + tlen)


class PackagesIndexBuilder:
    """Scan a Packages index fed in chunks (as it is decompressed) into a PackagesIndex."""

    def __init__(self) -> None:
        # a leading newline makes the first paragraph look like every other one
        self._pending = b"\n"
        self._blob = bytearray()
        self._offsets = array.array("I", [0])
        self._names = _Positions()
        self._provided = _Positions()
        self._required: list[str] = []

    def feed(self, chunk: bytes) -> None:
        buf = self._pending + chunk if self._pending else chunk
        cut = buf.rfind(_SEP)
        if cut <= 0:
            if len(buf) > MAX_PARAGRAPH:
                raise ControlError(f"a paragraph longer than {MAX_PARAGRAPH} bytes")
            self._pending = buf
            return
        self._pending = buf[cut:]
        if len(self._pending) > MAX_PARAGRAPH:
            raise ControlError(f"a paragraph longer than {MAX_PARAGRAPH} bytes")
        self._scan(buf[:cut])

    def finish(self) -> PackagesIndex:
        if self._pending.strip():
            self._scan(self._pending)
        self._pending = b""
        return PackagesIndex(
            self._blob, self._offsets, self._names, self._provided, tuple(self._required)
        )

    def _scan(self, segment: bytes) -> None:
        """``segment`` holds whole paragraphs, each but the file's first after b"\\nPackage: ".

        Work is done on the whole segment where C can do it (drop, split, count,
        one regex pass per field looked for): a Python step per paragraph costs
        more than all of that together.
        """
        text = _DROP.sub(b"", segment)
        parts = text.split(_SEP)
        head = parts.pop(0)
        if head.strip():  # only before the file's first paragraph: feed() cuts at _SEP
            field = head.strip().split(b":", 1)[0].decode("utf-8", "replace")
            raise ControlError(f"field {field!r} before the first 'Package: ' line")
        if not parts:
            return
        if text.count(b"\nPackage:") != len(parts):
            # every paragraph of an archive's index opens with "Package: name"
            raise ControlError("a 'Package:' line is not written 'Package: name'")
        base = len(self._offsets) - 1
        if base + len(parts) > MAX_RECORDS:
            raise ControlError(f"more than {MAX_RECORDS} paragraphs")
        raw = b"\n".join([p.split(b"\n", 1)[0] for p in parts])
        if b" " in raw or b"\t" in raw:
            raw = b"\n".join([n.strip(b" \t") for n in raw.split(b"\n")])
        names = [sys.intern(n) for n in raw.decode("utf-8", "replace").split("\n")]
        for i, p in enumerate(parts):
            if b"\nVersion:" not in p:
                raise ControlError(f"package {names[i]!r} has no Version field")
        add = self._names.add
        for i, name in enumerate(names, base):
            add(name, i)
        # where each paragraph starts in ``text``, to place the matches of a field
        starts = list(itertools.accumulate((len(p) + len(_SEP) for p in parts),
                                           initial=len(head)))
        for m in _PROVIDES_LINE.finditer(text):
            self._add_provides(base + bisect.bisect_right(starts, m.start()) - 1, m.group(1))
        for m in _REQUIRED_LINE.finditer(text):
            self._required.append(names[bisect.bisect_right(starts, m.start()) - 1])
        end = self._offsets[-1]
        self._offsets.extend(itertools.accumulate((len(p) for p in parts), initial=end))
        del self._offsets[base + 1]  # accumulate repeats ``end``, already the last offset
        self._blob += b"".join(parts)

    def _add_provides(self, pos: int, value: bytes) -> None:
        text = value.decode("utf-8", "replace")
        add = self._provided.add
        if _PROVIDES_PLAIN.match(text):
            # the common shape ("a, b (= 1.0)"): one regex pass instead of one per item
            for name in _PROVIDED_NAME.findall(text):
                add(name, pos)
            return
        for group in parse_relations(text):
            for rel in group:
                add(rel.name, pos)


def _read_record(raw: bytes, order: int) -> PackageRecord:
    """One scanned paragraph (its bytes after "Package: ") as a record, like parse_packages."""
    lines = raw.decode("utf-8", "replace").split("\n")
    rec = PackageRecord(lines[0].strip(" \t"), order=order)
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        attr = _ATTR.get(key)
        if attr is not None:
            setattr(rec, attr, value.strip(" \t"))
        elif key == "Size":
            value = value.strip(" \t")
            rec.size = int(value) if value.isdigit() else 0
        elif key in _BOOL_FIELDS:
            attr = _BOOL_FIELDS[key]
            setattr(rec, attr, getattr(rec, attr) or value.strip(" \t").lower() == "yes")
    return rec
