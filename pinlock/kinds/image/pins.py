"""Where an image input's locked reference lives: each FROM (or ARG) that names it."""

from __future__ import annotations

from pinlock.dockerfile.sites import ImageSite, Sites, Value
from pinlock.errors import DockerfileError
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.kinds.base import Scope
from pinlock.kinds.image.model import ImageInput
from pinlock.pins import PinSite, stage_index


def pin_sites(inp: ImageInput, scope: Scope) -> list[PinSite]:
    # Indexed once per look: a scan of every site per input was quadratic in the inputs.
    repo_sites = scope.once(_by_repository).get(_repo_key(inp.intent.image), [])
    mine = scope.once(_assigned).get(inp.name, [])
    return _image(inp, repo_sites, mine, scope.sites, scope.path)


def _repo_key(ref: str) -> str:
    """Equal for two references exactly when ``same_repository`` says they are the same."""
    try:
        return "=" + parse_image_ref(ref).canonical
    except ImageRefError:
        return "!" + ref


def _by_repository(scope: Scope) -> dict[str, list[ImageSite]]:
    out: dict[str, list[ImageSite]] = {}
    for s in scope.sites.images:
        out.setdefault(_repo_key(_repo(s.ref)), []).append(s)
    return out


def _assigned(scope: Scope) -> dict[str, list[ImageSite]]:
    """Each image site given to one image input of its repository.

    A repository with one input owns all its sites (a hand-edited tag is then that input's
    mismatch). With several (``golang:1.22`` and ``golang:1.23``), a site goes to the input
    whose reference it holds; else to the one whose tag (or absence of one) it writes; else,
    as after a tag moved, to an input no site names any more; among equals, to the input of
    the site's own stage, else the first. Indexed, so that it stays linear in the sites.
    """
    inputs: dict[str, list[ImageInput]] = {}
    for inp in scope.lock.inputs.values():
        if isinstance(inp, ImageInput):
            inputs.setdefault(_repo_key(inp.intent.image), []).append(inp)
    out: dict[str, list[ImageSite]] = {}
    for key, found in scope.once(_by_repository).items():
        group = inputs.get(key, [])
        if not group:
            continue
        if len(group) == 1:
            out.setdefault(group[0].name, []).extend(found)
            continue
        exact: dict[tuple[str | None, str | None], list[ImageInput]] = {}
        by_tag: dict[str | None, list[ImageInput]] = {}
        for i in group:
            tag = i.locked.tag or None
            exact.setdefault((tag, i.locked.index_digest), []).append(i)
            by_tag.setdefault(tag, []).append(i)
        stage_of = _stages_of(group, scope.sites)
        owner: list[ImageInput | None] = []
        for s in found:
            tag, digest = _tag_digest(s.ref)
            match = exact.get((tag, digest)) or by_tag.get(tag)
            owner.append(_prefer(match, s, stage_of) if match else None)
        named = {id(i) for i in owner if i is not None}
        orphans = [i for i in group if id(i) not in named] or group
        orphan_stages = _stages_of(orphans, scope.sites)
        for s, o in zip(found, owner, strict=True):
            o = o or _prefer(orphans, s, orphan_stages)
            out.setdefault(o.name, []).append(s)
    return out


def _stages_of(group: list[ImageInput], sites: Sites) -> dict[int, ImageInput]:
    """The stage index each input's ``stage`` names (the first input naming it)."""
    out: dict[int, ImageInput] = {}
    for i in group:
        st = sites.stage(i.intent.stage.lower()) if i.intent.stage else None
        if st is not None:
            out.setdefault(st.index, i)
    return out


def _prefer(candidates: list[ImageInput], s: ImageSite,
            stage_of: dict[int, ImageInput]) -> ImageInput:
    """The candidate whose stage ``s`` opens, else the first."""
    mine = stage_of.get(s.stage) if s.context == "FROM" else None
    return mine if mine is not None and any(c is mine for c in candidates) else candidates[0]


def _tag_digest(ref: str) -> tuple[str | None, str | None]:
    try:
        r = parse_image_ref(ref)
    except ImageRefError:
        return None, None
    return r.tag, r.digest


def _image(inp: ImageInput, found: list[ImageSite], mine: list[ImageSite], sites: Sites,
           path: str) -> list[PinSite]:
    """``found``: the image sites of ``inp``'s repository, ``mine`` those that hold its pin,
    each in Dockerfile order."""
    stage = stage_index(sites, inp.intent.stage, path, f"input {inp.name!r}")
    if stage is not None and not any(s.stage == stage and s.context == "FROM" for s in found):
        raise DockerfileError(path, f"input {inp.name!r}: stage {inp.intent.stage!r} does not "
                              f"start FROM {inp.intent.image!r}",
                              hint="fix `image` or `stage` in the lock file")
    if not mine:
        raise DockerfileError(path, f"input {inp.name!r}: image {inp.intent.image!r} no longer "
                              "appears in the Dockerfile",
                              hint="remove the input from the lock, or `pinlock init --force`")
    out = []
    digest = f"@{inp.locked.index_digest}" if inp.locked.index_digest else ""
    for s in mine:
        repo = _repo(s.ref)
        named = repo + (f":{inp.locked.tag}" if inp.locked.tag else "")
        want = named + digest
        value = s.value
        if s.ref == want:
            expected = s.value.text  # written as the lock wants it
            if s.via_arg is None and s.names:
                # Read through variables: what is compared is the reference BuildKit reads
                # (checked by its grammar), never rewritten while it agrees.
                value = Value(s.ref, s.value.start, s.value.end, s.value.line)
                expected = s.ref
        elif s.via_arg is not None and want.startswith(s.prefix) and want.endswith(s.suffix):
            expected = want[len(s.prefix): len(want) - len(s.suffix)]
        elif s.via_arg is None and s.digest is not None and s.base == named:
            # The variables still name the locked tag: only the digest after them changes.
            value, expected = s.digest, digest
        elif s.via_arg is None:
            expected = want  # the whole operand, written out
        else:
            raise DockerfileError(path, f"input {inp.name!r}: cannot write {want!r} into "
                                  f"ARG {s.via_arg} (the FROM adds {s.prefix!r}/{s.suffix!r})",
                                  line=s.line)
        label = f"{s.context} image" + (f" (ARG {s.via_arg})" if s.via_arg else "")
        if s.via_arg is None and s.names:
            label += f" (ARG {', '.join(s.names)})"
        out.append(PinSite(inp.name, label, value, expected,
                           pinned=inp.locked.index_digest is not None))
    return out


def _repo(ref: str) -> str:
    try:
        return parse_image_ref(ref).repository
    except ImageRefError:
        return ref
