"""Pure parsing of Debian control data: paragraphs, Release fields, Packages indexes, relations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


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
        if len(parts) != 3 or not parts[1].isdigit():
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
    important: bool = False
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
    r"|Suggests|Replaces|Installed-Size)"
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
        elif key == "Important":
            rec.important = value.lower() == "yes"
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
