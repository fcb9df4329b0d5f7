"""What the kinds that pin downloaded files by sha256 (release assets, downloads) share: their
rows in a pull request and the legend of their `verified-by` words."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

from pinlock.dockerfile.sites import Sites, expand
from pinlock.errors import DockerfileError
from pinlock.kinds.base import Row, Value
from pinlock.pins import PinSite
from pinlock.tables import Replace, TableReader

F = TypeVar("F")


class PinnedFile(Protocol):
    """A locked file: its name, the ARG that holds its sha256, its platform, its sha256."""

    @property
    def name(self) -> str: ...

    @property
    def sha256_arg(self) -> str | None: ...  # None: written literally where it is checked

    @property
    def platform(self) -> str | None: ...

    @property
    def sha256(self) -> str | None: ...

    @property
    def verified_by(self) -> tuple[str, ...]: ...

    @property
    def url(self) -> str: ...

    @property
    def size(self) -> int | None: ...


def load_files(tbl: TableReader, make: Callable[..., F]) -> list[F]:
    """The locked files of a ``[….locked.files]``/``assets`` table, one ``make(...)`` each, with
    messages naming the key."""
    out = []
    for fname in tbl.data:
        f = tbl.table(fname)
        out.append(make(name=fname, sha256_arg=f.opt_str("sha256-arg"),
                        platform=f.opt_str("platform"), url=f.text("url", required=True),
                        sha256=f.sha256("sha256"), size=f.opt_int("size"),
                        verified_by=f.str_list("verified-by", ())))
    return out


def encode_files(files: Sequence[PinnedFile]) -> Replace:
    """The locked files as their table: by name, sorted, absent values left out."""
    out = Replace()
    for f in sorted(files, key=lambda f: f.name):
        out[f.name] = {k: v for k, v in (
            ("sha256", f.sha256), ("sha256-arg", f.sha256_arg), ("platform", f.platform),
            ("url", f.url), ("size", f.size), ("verified-by", sorted(f.verified_by)),
        ) if v is not None}
    return out


def file_rows(name: str, old: Sequence[PinnedFile], new: Sequence[PinnedFile]) -> list[Row]:
    """(input, pin, from, to, verified by) for each sha256 ARG whose value changes."""
    rows: list[Row] = []
    before = {(f.sha256_arg, f.platform): f for f in old}
    after = {(f.sha256_arg, f.platform) for f in new}
    for f in new:
        prior = before.get((f.sha256_arg, f.platform))
        if prior is not None and prior.sha256 == f.sha256:
            continue
        where = f"{f.name}, {f.platform}" if f.platform else f.name
        rows.append((name, f"{f.sha256_arg or 'sha256'} ({where})",
                     prior.sha256 if prior else None,
                     f.sha256, ", ".join(sorted(f.verified_by)) or "unverified"))
    for key, prior in before.items():
        if key not in after:
            rows.append((name, f"{prior.sha256_arg or 'sha256'} ({prior.name})", prior.sha256,
                         None,
                         "no longer needed"))
    return rows


def legend(files: Sequence[PinnedFile], meanings: Mapping[str, str]) -> dict[str, str]:
    """The `verified-by` words ``files`` use, with what each means."""
    return {w: meanings[w] for f in files for w in f.verified_by if w in meanings}


def add_checksum_pins(name: str, sites: Sites, known: dict[str, str],
                      by_url: Mapping[str, PinnedFile], tied: set[str]) -> list[PinSite]:
    """``ADD --checksum=sha256:<hex>`` on a locked file's URL stays in sync with it (its name
    joins ``tied``). A checksum written as ``sha256:${X}`` is pinned where X is declared."""
    out: list[PinSite] = []
    for u in sites.urls:
        if u.checksum is None or "$" in u.checksum.text:
            continue
        expanded = expand(u.url, known)
        if expanded is None or expanded[0] not in by_url:
            continue
        f = by_url[expanded[0]]
        tied.add(f.name)
        if f.sha256:
            out.append(PinSite(name, f"ADD --checksum ({f.name})", u.checksum,
                               f"sha256:{f.sha256}"))
    return out


def require_written(path: str, name: str, literal: Sequence[str], tied: set[str]) -> None:
    """Each file whose sha256 the lock says is written literally has it written somewhere."""
    missing = [f for f in literal if f not in tied]
    if missing:
        raise DockerfileError(path, f"input {name!r}: no sha256 of {', '.join(missing)} is "
                              "written in the Dockerfile where the file is downloaded",
                              hint="put the sha256 check back, or fix the input in the lock file")


def file_values(at: str, files: Sequence[PinnedFile]) -> Iterator[Value]:
    """Every value of the locked files under ``at`` (``inputs.x.locked.files``), with its
    grammar."""
    from pinlock import grammar
    from pinlock.values import word

    for f in files:
        fk = f"{at}.{f.name}"
        yield at, f.name, grammar.asset_name
        if f.sha256_arg is not None:
            yield f"{fk}.sha256-arg", f.sha256_arg, grammar.arg_name
        if f.platform is not None:
            yield f"{fk}.platform", f.platform, grammar.platform
        yield f"{fk}.url", f.url, grammar.url
        if f.sha256 is not None:
            yield f"{fk}.sha256", f.sha256, grammar.sha256_hex
        for w in f.verified_by:
            yield f"{fk}.verified-by", w, word
