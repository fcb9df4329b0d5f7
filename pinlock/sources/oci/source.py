"""ImageSource: resolve, update and verify image inputs against OCI registries."""

from __future__ import annotations

import datetime as dt

from pinlock import grammar
from pinlock.errors import IntegrityError, PinlockError
from pinlock.http import parse_json
from pinlock.kinds.image.model import UNTAGGED, ImageInput, ImageLocked
from pinlock.model import Finding
from pinlock.sources.interface import Candidate, Context
from pinlock.sources.oci.client import RegistryClient, ResolvedImage, index_platforms
from pinlock.sources.oci.errors import (
    ImageReferenceError,
    ManifestIntegrityError,
    ManifestNotFoundError,
    PlatformNotFoundError,
    RegistryError,
    TagNotFoundError,
    UnsupportedMediaTypeError,
)
from pinlock.sources.oci.tags import TagPatternError, newest_tag, tag_for_version, version_of
from pinlock.values import input_values, require

# The tag a build reads for a reference that names none (Docker's and BuildKit's default).
_NO_TAG = "latest"


def _locked(resolved: ResolvedImage, tag: str) -> ImageLocked:
    return ImageLocked(
        tag=tag,
        index_digest=resolved.digest,
        media_type=resolved.media_type,
        platforms=dict(sorted(resolved.platforms.items())),
        single_platform=resolved.single_platform,
    )


class ImageSource:
    """The Source for ``FROM`` / ``COPY --from`` images; the client is given, never built here."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    def take_notes(self) -> list[Finding]:
        return []

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ resolve

    def target_tag(self, inp: ImageInput, version: str | None) -> str:
        """The tag ``version`` means for this input (its current tag when None).

        An untagged input (``FROM alpine``, ``FROM alpine@sha256:…``) reads what a build
        would read without a digest: the registry's ``latest``, which the lock never
        records as its tag.
        """
        if inp.intent.untagged:
            if version not in (None, UNTAGGED):
                raise ImageReferenceError(
                    f"{inp.name}: {inp.intent.image} is written without a tag, so it has no "
                    f"version to move to {version}",
                    hint=f"write the tag in the Dockerfile ({inp.intent.image}:{version}) and "
                    "run `pinlock init --force`")
            return _NO_TAG
        if version is None:
            if not inp.locked.tag:
                raise ImageReferenceError(
                    f"{inp.name}: {inp.intent.image} is pinned by digest only, with no tag",
                    hint="write the tag next to the digest (image:tag@sha256:…) so pinlock "
                    "knows what to update and verify",
                )
            return inp.locked.tag
        try:
            return tag_for_version(inp.locked.tag or None, version, inp.intent.tag_pattern)
        except TagPatternError as exc:
            raise ImageReferenceError(
                f"{inp.name}: cannot derive a tag for version {version}: {exc}",
                hint="set the input's tag-pattern, e.g. \"{version}-python3.13-trixie\"",
            ) from exc

    def resolve(self, inp: ImageInput, ctx: Context, *, version: str | None = None) -> ImageInput:
        """Fill the tag's index digest and per-platform digests.

        ``version=None`` keeps the pin: a locked index digest is re-read by digest
        (so a moved tag never moves the lock silently); without one, the tag is
        resolved. A version moves the input to the tag of that version.
        """
        tag = self.target_tag(inp, version)
        if version is None and inp.locked.index_digest:
            resolved = self.client.resolve(inp.intent.image, inp.locked.index_digest,
                                           ctx.platforms)
        else:
            resolved = self.client.resolve(inp.intent.image, tag, ctx.platforms)
        self._check_served(inp.intent.image, resolved)
        out = ImageInput(inp.name, inp.intent,
                         _locked(resolved, "" if inp.intent.untagged else tag), inp.kind)
        # Digests, media type and platform names come from the registry's manifests.
        require(f"registry {inp.intent.image}", (v for v in input_values(out)
                                                if ".locked." in v[0]))
        return out

    def _check_served(self, image: str, resolved: ResolvedImage) -> None:
        """Every platform manifest about to be locked is served by the registry.

        An index can list a manifest the registry does not have (a push cut short, a
        platform deleted afterwards); a lock naming it fails every build on that
        platform. One HEAD by digest per platform; a registry that refuses HEAD gets a
        GET, whose bytes are hashed.
        """
        for platform, digest in sorted(resolved.platforms.items()):
            if digest == resolved.digest:
                continue  # a single-platform image: the manifest just read
            try:
                try:
                    found, _ = self.client.head_manifest(image, digest)
                except ManifestNotFoundError:
                    raise
                except RegistryError:
                    found = self.client.get_manifest(image, digest).digest
            except ManifestNotFoundError:
                raise ManifestNotFoundError(
                    f"{image}@{resolved.digest}: the index lists the {platform} manifest "
                    f"{digest}, which the registry does not serve (404)",
                    hint="the image was pushed incompletely or a platform was deleted; "
                    "ask its publisher, or lock another tag") from None
            if found is not None and found != digest:
                raise ManifestIntegrityError(
                    f"{image}@{digest} ({platform}): the registry reports another digest",
                    expected=digest, observed=found)

    # ------------------------------------------------------------ newest

    def newest(
        self, inp: ImageInput, ctx: Context, *, allow_major: bool = False,
        prerelease: bool = False,
    ) -> Candidate | None:
        """The newest tag of the locked tag's shape, with the index digest it points at now.

        A tag that is no version (``latest``, ``stable``) is its own only candidate,
        so a re-push of it is still seen. The digest comes from HEAD: it only tells
        whether the tag moved; ``resolve`` hashes the bytes before anything is locked.
        """
        image = inp.intent.image
        if inp.intent.untagged:
            return self._newest_untagged(inp, ctx)
        tags = self.client.list_tags(image)
        # Real registries refuse such tags, a hostile one may list them: a tag holding a
        # newline or `$(…)` must not be compared, requested, shown or written.
        require(f"registry {image} tag list", (("tag", t, grammar.oci_tag) for t in tags))
        try:
            tag = newest_tag(
                tags, inp.locked.tag, pattern=inp.intent.tag_pattern, allow_major=allow_major,
                prerelease=prerelease or inp.intent.allow_prerelease,
            )
        except TagPatternError as exc:
            raise ImageReferenceError(f"{inp.name}: {exc}") from exc
        if tag is None and inp.locked.tag and inp.locked.tag in tags:
            tag = inp.locked.tag
        if tag is None:
            return None
        version = version_of(tag, inp.intent.tag_pattern) or tag
        digest, _ = self.client.head_manifest(image, tag)
        if digest is None:  # a registry whose HEAD names no digest: hash the manifest
            digest = self.client.get_manifest(image, tag).digest
        require(f"registry {image}:{tag}", [("digest", digest, grammar.digest)])
        # Only min-age needs its age, and reading it costs a manifest and a config.
        published = (self._created(image, digest, ctx.platforms)
                     if (inp.intent.min_age or ctx.lock.min_age) is not None else None)
        return Candidate(version=version, ref=tag, digest=digest, published=published)

    def _newest_untagged(self, inp: ImageInput, ctx: Context) -> Candidate | None:
        """What a reference without a tag reads now (``latest``), by digest: a candidate
        with the same (empty) version, so a new digest is a move in place."""
        image = inp.intent.image
        try:
            digest, _ = self.client.head_manifest(image, _NO_TAG)
            if digest is None:
                digest = self.client.get_manifest(image, _NO_TAG).digest
        except TagNotFoundError:
            return None
        require(f"registry {image}:{_NO_TAG}", [("digest", digest, grammar.digest)])
        published = (self._created(image, digest, ctx.platforms)
                     if (inp.intent.min_age or ctx.lock.min_age) is not None else None)
        return Candidate(version=UNTAGGED, ref="", digest=digest, published=published)

    def _created(self, image: str, digest: str,
                 platforms: tuple[str, ...]) -> dt.datetime | None:
        """When the image was made, for ``min-age``: the manifest's (or index's)
        ``org.opencontainers.image.created`` annotation, else the ``created`` of the config
        of the lock's first platform; None when neither is there (too new to judge).

        Both are what the publisher wrote, not what the registry saw: a backdated value
        shortens the wait; it cannot change which bytes are locked.
        """
        manifest = self.client.get_manifest(image, digest)
        doc = manifest.json()
        when = _time(_annotation(doc))
        if when is not None:
            return when
        if manifest.is_index:
            chosen = index_platforms(manifest, platforms[:1]) if platforms else {}
            child = next(iter(chosen.values()), None)
            if child is None:
                return None
            manifest = self.client.get_manifest(image, child)
            doc = manifest.json()
            when = _time(_annotation(doc))
            if when is not None:
                return when
        config = doc.get("config")
        cfg_digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(cfg_digest, str):
            return None
        require(f"registry {image}@{manifest.digest}", [("config digest", cfg_digest,
                                                         grammar.digest)])
        data = parse_json(self.client.fetch_blob(image, cfg_digest), f"config {cfg_digest}",
                          error=UnsupportedMediaTypeError)
        return _time(data.get("created")) if isinstance(data, dict) else None

    # ------------------------------------------------------------ check

    def check(self, inp: ImageInput, ctx: Context) -> list[Finding]:
        """Does the tag still point at the locked index, and is every locked manifest there?"""
        findings: list[Finding] = []
        locked = inp.locked
        image = inp.intent.image
        ref = f"{image}:{locked.tag}" if locked.tag else image

        def finding(code: str, message: str, *, expected: str | None = None,
                    found: str | None = None) -> None:
            findings.append(Finding(inp.name, "error", code, message,
                                    expected=expected, found=found))

        if not locked.index_digest:
            finding("not-pinned", f"{ref} has no locked digest to verify")
            return findings
        # 1. The locked index itself: fetchable, and its bytes hash to the digest.
        try:
            index = self.client.get_manifest(image, locked.index_digest)
        except IntegrityError as exc:
            finding("manifest-integrity", f"{image}@{locked.index_digest}: {exc.message}",
                    expected=exc.expected, found=exc.observed)
            return findings
        except ManifestNotFoundError:
            finding("manifest-missing",
                    f"{image}@{locked.index_digest}: the locked manifest is no longer served",
                    expected=locked.index_digest)
            index = None
        except PinlockError as exc:
            finding("registry-error", f"{ref}: {exc.message}")
            return findings
        # 2. Each locked platform digest is still listed in that index and fetchable.
        if index is not None and index.is_index:
            try:
                current = index_platforms(index, ())
            except PinlockError as exc:
                finding("registry-error", f"{image}@{locked.index_digest}: {exc.message}")
                current = {}
            listed = set(current.values())
            for platform, digest in sorted(locked.platforms.items()):
                if digest not in listed:
                    finding("platform-missing",
                            f"{ref}: the locked {platform} manifest {digest} is not in index "
                            f"{locked.index_digest}", expected=digest,
                            found=current.get(platform))
        for platform, digest in sorted(locked.platforms.items()):
            if digest == locked.index_digest:
                continue
            try:
                found, _ = self.client.head_manifest(image, digest)
            except ManifestNotFoundError:
                finding("manifest-missing",
                        f"{image}@{digest}: the locked {platform} manifest is no longer served",
                        expected=digest)
                continue
            except PinlockError as exc:
                finding("registry-error", f"{image}@{digest} ({platform}): {exc.message}")
                continue
            if found is not None and found != digest:
                finding("manifest-integrity",
                        f"{image}@{digest} ({platform}): the registry reports another digest",
                        expected=digest, found=found)
        # 3. The tag still points at the locked index.
        if locked.tag:
            findings.extend(self._check_tag(inp, ctx, ref))
        return findings

    def _check_tag(self, inp: ImageInput, ctx: Context, ref: str) -> list[Finding]:
        locked = inp.locked
        try:
            head, _ = self.client.head_manifest(inp.intent.image, locked.tag)
            if head == locked.index_digest:
                return []
            platforms = tuple(locked.platforms) or ctx.platforms
            if locked.single_platform:
                platforms = ()
            now = self.client.resolve(inp.intent.image, locked.tag, platforms)
        except TagNotFoundError as exc:
            return [Finding(inp.name, "error", "tag-missing",
                            f"{ref}: the tag no longer exists ({exc.message})",
                            expected=locked.index_digest)]
        except PlatformNotFoundError as exc:
            return [Finding(inp.name, "error", "tag-moved",
                            f"{ref}: the tag moved to an index without a locked platform: "
                            f"{exc.message}", expected=locked.index_digest)]
        except IntegrityError as exc:
            return [Finding(inp.name, "error", "manifest-integrity", f"{ref}: {exc.message}",
                            expected=exc.expected, found=exc.observed)]
        except PinlockError as exc:
            return [Finding(inp.name, "error", "registry-error", f"{ref}: {exc.message}")]
        if now.digest == locked.index_digest:
            return []
        changes = []
        for platform in sorted(set(locked.platforms) | set(now.platforms)):
            old, new = locked.platforms.get(platform), now.platforms.get(platform)
            if old != new:
                changes.append(f"{platform}: {old or '(none)'} -> {new or '(none)'}")
        detail = "; ".join(changes) if changes else "no platform manifest changed"
        return [Finding(
            inp.name, "error", "tag-moved",
            f"{ref}: the tag now points at {now.digest}, the lock has {locked.index_digest} "
            f"({detail})",
            expected=locked.index_digest, found=now.digest,
        )]


_CREATED = "org.opencontainers.image.created"


def _annotation(doc: dict[str, object]) -> object:
    notes = doc.get("annotations")
    return notes.get(_CREATED) if isinstance(notes, dict) else None


def _time(value: object) -> dt.datetime | None:
    """An RFC 3339 time (``2026-01-01T00:00:00Z``, with fractions or an offset); None else."""
    if not isinstance(value, str) or not 10 <= len(value) <= 64:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
