"""Where an image input's locked reference lives: each FROM (or ARG) naming its repository."""

from __future__ import annotations

from pinlock.dockerfile.sites import ImageSite, Sites
from pinlock.errors import DockerfileError
from pinlock.imageref import ImageRefError, parse_image_ref
from pinlock.kinds.base import Scope
from pinlock.kinds.image.model import ImageInput
from pinlock.pins import PinSite, stage_index


def pin_sites(inp: ImageInput, scope: Scope) -> list[PinSite]:
    # Indexed once per look: a scan of every site per input was quadratic in the inputs.
    found = scope.once(_by_repository).get(_repo_key(inp.intent.image), [])
    return _image(inp, found, scope.sites, scope.path)


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


def _image(inp: ImageInput, found: list[ImageSite], sites: Sites,
           path: str) -> list[PinSite]:
    """``found``: the image sites of ``inp``'s repository, in Dockerfile order."""
    stage = stage_index(sites, inp.intent.stage, path, f"input {inp.name!r}")
    if stage is not None and not any(s.stage == stage and s.context == "FROM" for s in found):
        raise DockerfileError(path, f"input {inp.name!r}: stage {inp.intent.stage!r} does not "
                              f"start FROM {inp.intent.image!r}",
                              hint="fix `image` or `stage` in the lock file")
    if not found:
        raise DockerfileError(path, f"input {inp.name!r}: image {inp.intent.image!r} no longer "
                              "appears in the Dockerfile",
                              hint="remove the input from the lock, or `pinlock init --force`")
    out = []
    for s in found:
        repo = _repo(s.ref)
        want = f"{repo}:{inp.locked.tag}"
        if inp.locked.index_digest:
            want += f"@{inp.locked.index_digest}"
        if not (want.startswith(s.prefix) and want.endswith(s.suffix)):
            raise DockerfileError(path, f"input {inp.name!r}: cannot write {want!r} into "
                                  f"ARG {s.via_arg} (the FROM adds {s.prefix!r}/{s.suffix!r})",
                                  line=s.line)
        expected = want[len(s.prefix): len(want) - len(s.suffix)]
        label = f"{s.context} image" + (f" (ARG {s.via_arg})" if s.via_arg else "")
        out.append(PinSite(inp.name, label, s.value, expected,
                           pinned=inp.locked.index_digest is not None))
    return out


def _repo(ref: str) -> str:
    try:
        return parse_image_ref(ref).repository
    except ImageRefError:
        return ref


