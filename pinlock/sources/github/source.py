"""The GitHub release source: resolve a release input to per-asset sha256s, cross-checked."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from pinlock import grammar
from pinlock.clock import parse_time
from pinlock.errors import IntegrityError
from pinlock.kinds.base import Value
from pinlock.kinds.release.model import (
    LockedAsset,
    PlannedAsset,
    ReleaseInput,
    ReleaseIntent,
    ReleaseLocked,
)
from pinlock.model import Finding
from pinlock.sources.github.api import GitHubClient, Release, ReleaseAsset
from pinlock.sources.github.checksums import (
    API_DIGEST,
    BYTES,
    SIDECAR,
    parse_api_digest,
    parse_sidecar,
    reconcile,
    same_file,
    sidecar_name,
)
from pinlock.sources.github.errors import (
    AssetNotFoundError,
    GitHubNotFoundError,
    ReleaseNotAllowedError,
    ReleaseNotFoundError,
)
from pinlock.sources.github.versions import (
    is_prerelease_version,
    major,
    nearest_versions,
    tag_for,
    version_from_tag,
    version_key,
)
from pinlock.sources.interface import Candidate, Context
from pinlock.values import require

_EMBEDDED_ASSETS_MAX = 100  # beyond this, the release object's assets[] may not be complete


def _where(p: PlannedAsset) -> str:
    return f"{p.name} ({p.platform})" if p.platform else p.name


class ReleaseSource:
    """Implements ``Source[ReleaseInput]`` against GitHub's releases API.

    ``deep`` also downloads every asset and hashes its bytes. ``allow_prerelease``
    lets an explicit version be a pre-release even when the intent does not.
    Non-fatal observations of ``resolve`` (an asset vouched for by one source
    only) collect in ``notes``; the orchestration prints them via ``take_notes()``.
    """

    kind = "github-release"

    def __init__(
        self, client: GitHubClient, *, deep: bool = False, allow_prerelease: bool = False
    ) -> None:
        self.client = client
        self.deep = deep
        self.allow_prerelease = allow_prerelease
        self.notes: list[Finding] = []

    @classmethod
    def from_env(
        cls,
        http: httpx.Client | None = None,
        *,
        deep: bool = False,
        allow_prerelease: bool = False,
        environ: Mapping[str, str] | None = None,
        **client_options: Any,
    ) -> ReleaseSource:
        """``GITHUB_API_URL``, ``GITHUB_TOKEN``/``GH_TOKEN`` from the environment."""
        client = GitHubClient.from_env(http, environ, **client_options)
        return cls(client, deep=deep, allow_prerelease=allow_prerelease)

    def take_notes(self) -> list[Finding]:
        """The notes collected so far, oldest first; the list is emptied."""
        notes, self.notes = self.notes, []
        return notes

    def close(self) -> None:
        """Nothing of its own to close: the HTTP client is the caller's."""

    # ------------------------------------------------------------ Source interface

    def resolve(
        self, inp: ReleaseInput, ctx: Context, *, version: str | None = None
    ) -> ReleaseInput:
        intent = inp.intent
        target = version or inp.locked.version or None
        if target is None:
            candidate = self.newest(inp, ctx, allow_major=True)
            if candidate is None:
                raise ReleaseNotFoundError(
                    f"{inp.name}: {intent.repository} has no release whose tag fits "
                    f"{intent.tag_template!r}"
                )
            target = candidate.version
        tag = tag_for(intent.tag_template, target)
        release = self._release(inp, target, tag)
        _require_release(intent.repository, release)
        if release.prerelease and not (intent.allow_prerelease or self.allow_prerelease):
            raise ReleaseNotAllowedError(
                f"{inp.name}: {intent.repository} {tag} is a pre-release",
                hint="allow pre-releases for this input (`allow-prerelease = true` in its intent) "
                "or pick a stable version",
            )
        previous: dict[tuple[str, str | None], LockedAsset] = {}
        if tag == inp.locked.tag:
            previous = {(a.name, a.platform): a for a in inp.locked.assets}
        locked: list[LockedAsset] = []
        for planned in intent.plan(ctx.platforms, version=target):
            asset = self._find_asset(inp, release, planned)
            what = f"{inp.name}: {_where(planned)} in {intent.repository} {tag}"
            values = self._checksums(release, asset, what=what)
            sha256 = reconcile(values, what=what)
            verified = set(values)
            prior = previous.get((planned.name, planned.platform))
            if prior is not None:
                verified |= same_file(prior.sha256, prior.verified_by, sha256, values,
                                      what=what,
                                      hint="find out why the release changed before "
                                           "accepting the new file")
            if len(values) == 1:
                self.notes.append(self._single_source_note(inp, what, values))
            locked.append(
                LockedAsset(
                    name=planned.name,
                    sha256_arg=planned.sha256_arg,
                    platform=planned.platform,
                    url=intent.url_for(tag=tag, name=planned.name, version=target),
                    sha256=sha256,
                    size=asset.size,
                    verified_by=tuple(sorted(verified)),
                )
            )
        require(f"GitHub release {intent.repository} {grammar.shown(tag)}", [
            ("version", target, grammar.release_version), ("tag", tag, grammar.release_tag),
            *((f"asset {a.name}", a.url, grammar.url) for a in locked),
            *((f"sha256 of {a.name}", a.sha256 or "", grammar.sha256_hex) for a in locked),
        ])
        return replace(inp, locked=ReleaseLocked(version=target, tag=tag, assets=tuple(locked)))

    def newest(
        self,
        inp: ReleaseInput,
        ctx: Context,
        *,
        allow_major: bool = False,
        prerelease: bool = False,
    ) -> Candidate | None:
        """The highest version among published releases whose tag fits the template.

        Drafts are never candidates; pre-releases (GitHub's flag, or a version
        like ``1.0rc1``) only with ``prerelease`` or the intent's allow_prerelease.
        Without ``allow_major`` the locked version's leading number is kept.
        """
        intent = inp.intent
        allow_pre = prerelease or intent.allow_prerelease
        locked_major = major(inp.locked.version) if inp.locked.version else None
        best: tuple[str, Release] | None = None
        for release, version in self._versions(intent):
            if release.draft:
                continue
            if (release.prerelease or is_prerelease_version(version)) and not allow_pre:
                continue
            if not allow_major and locked_major is not None and major(version) != locked_major:
                continue
            if best is None or version_key(version) > version_key(best[0]):
                best = (version, release)
        if best is None:
            return None
        version, release = best
        _require_release(intent.repository, release)
        return Candidate(version=version, ref=release.tag_name, notes_url=release.html_url or None,
                         published=parse_time(release.published_at))

    def check(self, inp: ReleaseInput, ctx: Context) -> list[Finding]:
        """Do the locked sha256s still match what GitHub serves for the locked release?

        Disagreements become findings; transfer failures (GitHubError) still raise,
        because "could not look" is not "looked and it differs".
        """
        intent, locked = inp.intent, inp.locked
        if not locked.tag:
            return [Finding(inp.name, "warning", "not-pinned", f"{inp.name}: no release locked")]
        try:
            release = self.client.release_by_tag(intent.repository, locked.tag)
        except GitHubNotFoundError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            return [
                Finding(
                    inp.name,
                    "error",
                    "release-missing",
                    f"{inp.name}: the locked release {intent.repository} {locked.tag} "
                    f"no longer exists on GitHub{hint}",
                    expected=locked.tag,
                )
            ]
        findings: list[Finding] = []
        for la in locked.assets:
            planned = PlannedAsset(la.name, la.sha256_arg, la.platform)
            what = f"{inp.name}: {_where(planned)} in {intent.repository} {locked.tag}"
            asset = self._lookup(intent.repository, release, la.name)
            if asset is None:
                findings.append(
                    Finding(
                        inp.name,
                        "error",
                        "asset-missing",
                        f"{what}: the release no longer has this asset",
                        expected=la.name,
                    )
                )
                continue
            try:
                values = self._checksums(release, asset, what=what)
                current = reconcile(values, what=what)
            except IntegrityError as exc:
                findings.append(
                    Finding(
                        inp.name,
                        "error",
                        "checksum-disagreement",
                        exc.message,
                        expected=exc.expected,
                        found=exc.observed,
                    )
                )
                continue
            if la.sha256 is None:
                findings.append(
                    Finding(
                        inp.name,
                        "warning",
                        "not-pinned",
                        f"{what}: no sha256 locked",
                        found=current,
                    )
                )
            elif current != la.sha256:
                findings.append(
                    Finding(
                        inp.name,
                        "error",
                        "asset-replaced",
                        f"{what}: asset replaced upstream: locked sha256 {la.sha256}, "
                        f"now {current} ({', '.join(sorted(values))})",
                        expected=la.sha256,
                        found=current,
                    )
                )
            elif la.size is not None and asset.size != la.size:
                findings.append(
                    Finding(
                        inp.name,
                        "error",
                        "asset-replaced",
                        f"{what}: asset size changed upstream: locked {la.size} bytes, "
                        f"now {asset.size}",
                        expected=str(la.size),
                        found=str(asset.size),
                    )
                )
            if len(values) == 1:
                findings.append(self._single_source_note(inp, what, values))
        return findings

    # ------------------------------------------------------------ internals

    def _versions(self, intent: ReleaseIntent) -> list[tuple[Release, str]]:
        out: list[tuple[Release, str]] = []
        for release in self.client.releases(intent.repository):
            version = version_from_tag(intent.tag_template, release.tag_name)
            if version is not None:
                # A tag that fits the template is a candidate: it must be harmless before
                # it is compared, shown or written (a git ref may hold `$(…)`, quotes, "\n").
                require(f"GitHub releases of {intent.repository}", [
                    ("tag", release.tag_name, grammar.release_tag),
                    ("version", version, grammar.release_version)])
                out.append((release, version))
        return out

    def _release(self, inp: ReleaseInput, version: str, tag: str) -> Release:
        repository = inp.intent.repository
        try:
            return self.client.release_by_tag(repository, tag)
        except GitHubNotFoundError as exc:
            existing = [v for r, v in self._versions(inp.intent) if not r.draft]
            if not existing:
                raise ReleaseNotFoundError(
                    f"{inp.name}: {repository} has no release {tag} (version {version}), "
                    "and no release at all whose tag fits "
                    f"{inp.intent.tag_template!r}",
                    hint=exc.hint,
                ) from exc
            near = nearest_versions(existing, version)
            raise ReleaseNotFoundError(
                f"{inp.name}: {repository} has no release {tag} (version {version}); "
                f"nearest versions: {', '.join(near)}",
                nearest=near,
                hint="pick one of the nearest versions",
            ) from exc

    def _lookup(self, repository: str, release: Release, name: str) -> ReleaseAsset | None:
        found = release.asset(name)
        if found is None and len(release.assets) >= _EMBEDDED_ASSETS_MAX:
            for asset in self.client.release_assets(repository, release.id):
                if asset.name == name:
                    return asset
        return found

    def _find_asset(
        self, inp: ReleaseInput, release: Release, planned: PlannedAsset
    ) -> ReleaseAsset:
        asset = self._lookup(inp.intent.repository, release, planned.name)
        if asset is not None:
            return asset
        names = sorted(a.name for a in release.assets)
        platform = f" for platform {planned.platform}" if planned.platform else ""
        hint = None
        if planned.platform:
            hint = (
                f"map {planned.platform} to the arch name in the asset names "
                "(arch_map), or drop the platform"
            )
        raise AssetNotFoundError(
            f"{inp.name}: release {release.tag_name} of {inp.intent.repository} has no asset "
            f"{planned.name}{platform}; it has: {', '.join(names) or 'no assets'}",
            hint=hint,
        )

    def _checksums(self, release: Release, asset: ReleaseAsset, *, what: str) -> dict[str, str]:
        """Every available source's sha256 for one asset, keyed by source name."""
        values: dict[str, str] = {}
        if asset.digest:
            hexd = parse_api_digest(asset.digest, what=what)
            if hexd is not None:
                values[API_DIGEST] = hexd
        side = release.asset(sidecar_name(asset.name))
        if side is not None:
            data = self.client.download_small(side)
            label = f"{what}: sidecar {side.name}"
            if side.digest:
                # The sidecar has its own API digest: a sidecar altered after upload
                # (or in transit) is caught before it is believed.
                side_hex = parse_api_digest(side.digest, what=label)
                if side_hex is not None:
                    reconcile({API_DIGEST: side_hex, BYTES: _sha256(data)}, what=label)
            values[SIDECAR] = parse_sidecar(data, asset_name=asset.name, sidecar=label)
        if self.deep:
            values[BYTES], _size = self.client.download_sha256(asset)
        return values

    @staticmethod
    def _single_source_note(inp: ReleaseInput, what: str, values: Mapping[str, str]) -> Finding:
        ((source, value),) = values.items()
        advice = (
            "upstream publishes no checksum for it"
            if source == BYTES
            else "run with --deep to hash the bytes too"
        )
        return Finding(
            inp.name,
            "warning",
            "single-checksum-source",
            f"{what}: sha256 {value} comes from the {source} alone, with nothing to "
            f"cross-check it against ({advice})",
            found=value,
        )


def _require_release(repository: str, release: Release) -> None:
    """The release's tag, notes URL and asset names hold their grammars (a name with '/' or
    '..' would point a URL or a path elsewhere)."""
    values: list[Value] = [("tag", release.tag_name, grammar.release_tag)]
    if release.html_url:
        values.append(("html_url", release.html_url, grammar.url))
    for a in release.assets:
        # The URLs pinlock downloads sidecars and bytes from: a newline or a space in one
        # is not a URL (and must not reach the HTTP client as one).
        values += [("asset name", a.name, grammar.asset_name),
                   (f"url of {a.name}", a.url, grammar.url),
                   (f"browser_download_url of {a.name}", a.browser_download_url, grammar.url)]
    require(f"GitHub release {repository} {grammar.shown(release.tag_name)}", values)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
