"""What a RUN installs that pinlock reports but does not manage: pip, apk, scripts fetched
and run (curl | sh), and tools that run apt-get with a package list of their own."""

from __future__ import annotations

import os
import re

from pinlock.dockerfile import shell
from pinlock.dockerfile.recognize.context import SHELLS, Command, Found, Script, strip_prefix_words
from pinlock.dockerfile.sitemodel import Unmanaged


def command(cmd: Command, out: Found) -> bool:
    """A command that installs something pinlock does not pin."""
    prog, vals, words = cmd.prog, cmd.values, cmd.words
    line = cmd.script.step.ins.line
    if reason := _apt_installer(vals):
        out.unmanaged.append(Unmanaged(cmd.text, reason, cmd.script.line_of(words[0])))
    elif prog in ("pip", "pip3") or (
        prog.startswith("python") and len(words) > 2 and words[1].value == "-m"
        and words[2].value == "pip"
    ):
        if "install" in vals and "--require-hashes" not in vals:
            out.unmanaged.append(Unmanaged(
                " ".join(vals), "pip install without --require-hashes is not pinned", line))
    elif prog == "apk" and "add" in [v for v in vals[1:] if not v.startswith("-")][:1]:
        out.unmanaged.append(Unmanaged(" ".join(vals),
                                       "apk packages are not managed by pinlock", line))
    elif prog in SHELLS and "-c" in vals and any(
            re.search(r"\$\(\s*(curl|wget)\b", v) for v in vals):
        # sh -c "$(curl -fsSL …)": the same as curl | sh.
        out.unmanaged.append(Unmanaged(
            " ".join(vals), "a script fetched from the network and run by a shell cannot "
            "be pinned", line))
    else:
        return False
    return True


def pipeline(script: Script, pipe: list[list[shell.Word]], out: Found) -> None:
    """curl … | sh: a script piped from the network into a shell."""
    if len(pipe) < 2:
        return
    progs = [os.path.basename(strip_prefix_words(c)[0].value) if strip_prefix_words(c)
             else "" for c in pipe]
    if progs[0] in ("curl", "wget") and any(p in SHELLS for p in progs[1:]):
        out.unmanaged.append(Unmanaged(
            " | ".join(" ".join(w.value for w in c) for c in pipe),
            "a script piped from the network into a shell cannot be pinned",
            script.step.ins.line))


# Runners that start a package's binary: `npx playwright`, `pnpm exec playwright`.
_RUNNERS = {"npx": (), "bunx": (), "pnpx": (), "pnpm": ("exec", "dlx"), "yarn": ("exec", "dlx"),
            "npm": ("exec",)}


def _apt_installer(vals: list[str]) -> str | None:
    """Why a command installs apt packages of its own choosing, or None.

    These tools call apt-get with a package list written in their own code (playwright's
    browser dependencies) or take packages pinlock would have to follow through a helper
    script (bitnami's install_packages): the lock cannot pin what they install.
    """
    prog = os.path.basename(vals[0])
    rest = vals[1:]
    if prog in _RUNNERS:
        subs = _RUNNERS[prog]
        if subs and rest[:1] and rest[0] in subs:
            rest = rest[1:]
        rest = [v for v in rest if not v.startswith("-") or v == "--with-deps"]
        if not rest:
            return None
        # `playwright@1.49.0` names a version; `@playwright/test` is a scoped package.
        head = rest[0]
        prog = head if head.startswith("@") else head.split("@", 1)[0]
        rest = rest[1:]
    elif prog.startswith("python") and rest[:2] == ["-m", "playwright"]:
        prog, rest = "playwright", rest[2:]
    if prog in ("playwright", "@playwright/test"):
        args = [v for v in rest if not v.startswith("-")]
        if args[:1] == ["install-deps"]:
            return ("playwright install-deps runs apt-get with its own package list: "
                    "pinlock cannot pin what it installs")
        if args[:1] == ["install"] and "--with-deps" in rest:
            return ("playwright install --with-deps runs apt-get with its own package list: "
                    "pinlock cannot pin what it installs")
        return None
    if prog in ("install_packages", "apt-install"):
        return (f"{prog} is a helper script that runs apt-get: pinlock manages only "
                "apt-get and apt written in the Dockerfile")
    if prog in ("install-deps", "install-deps.sh") or (
            vals[0].startswith("/usr/share/") and "install-deps" in rest):
        return (f"{vals[0]} installs system dependencies through apt itself: "
                "pinlock cannot pin what it installs")
    return None
