"""Image references as BuildKit reads them, and `init` + `verify` on each minimal form.

ARG and ENV scopes (global, stage, ENV inherited from a parent stage, ENV over ARG), quoting,
nested defaults, ``${V:-x}``/``${V:+x}``, stage names reached through an ARG; one image input
per distinct reference; untagged and digest-only references kept as written; what cannot be
read from the Dockerfile's defaults reported, never guessed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import dockerfile
import pytest
from support.cli import run_cli

from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.recognize.args import expand_word
from pinlock.dockerfile.sites import Sites, find_sites
from pinlock.errors import LockfileError
from pinlock.lockfile import load_fast

D = "sha256:" + "a" * 64
E = "sha256:" + "b" * 64


def sites_of(text: str) -> Sites:
    return find_sites(parse(text))


# ------------------------------------------------------------------ expansion


@pytest.mark.parametrize(("word", "values", "text", "missing"), [
    ("golang:${V}-alpine${A}", {"V": "1.22", "A": "3.20"}, "golang:1.22-alpine3.20", ()),
    ("${U:-debian:12}", {"U": None}, "debian:12", ()),
    ("${U:-${V}}", {"V": "1.22"}, "1.22", ()),
    ("x${D:+-debug}", {"D": ""}, "x", ()),
    ("x${D:+-debug}", {"D": "1"}, "x-debug", ()),
    ("x${D+-debug}", {"D": ""}, "x-debug", ()),
    ("${E-dflt}", {"E": ""}, "", ()),
    ('alpine:"${T}"', {"T": "3.20"}, "alpine:3.20", ()),
    ("'${T}'", {"T": "3.20"}, "${T}", ()),
    ("a\\$T", {"T": "3.20"}, "a$T", ()),
    ("alpine:$T", {"T": None}, "alpine:\x00", ("T",)),
    ("alpine:${NOPE}", {}, "alpine:\x00", ("NOPE",)),
    ("${V#v}", {"V": "v1"}, "\x00", ("V",)),
])
def test_expansion_as_buildkit(word: str, values: dict[str, str | None], text: str,
                               missing: tuple[str, ...]) -> None:
    got = expand_word(word, values)
    assert (got.text, got.missing) == (text, missing)


# ------------------------------------------------------------------ ARG and ENV


def test_arg_and_env_declarations_agree_with_buildkit() -> None:
    text = ('ARG Q="3.19" R\nFROM x\nENV A=1 B="x y" C=$A\nENV LEG some value\n'
            "ARG N=${A}-${Q}\n")
    sites = sites_of(text)
    # BuildKit's parser: ENV as name, value pairs (quotes kept), ARG as name[=value] words.
    env_pairs = [p for c in dockerfile.parse_string(text) if c.cmd.upper() == "ENV"
                 for p in zip(c.value[0::2], c.value[1::2], strict=True)]
    assert [(e.name, e.value.text if e.value else "") for e in sites.envs] == [
        (k, v.strip('"')) for k, v in env_pairs]
    assert [(e.value.text if e.value else None, e.resolved, e.env) for e in sites.envs] == [
        ("1", "1", True), ("x y", "x y", True),
        ("$A", None, True),  # an ENV's pairs read the variables before it, as BuildKit does
        ("some value", "some value", True)]
    assert [(a.name, a.resolved, a.stage) for a in sites.args] == [
        ("Q", "3.19", -1), ("R", None, -1),
        ("N", None, 0)]  # Q is global: the stage does not see it without `ARG Q`


def test_stage_args_env_inheritance_and_env_over_arg() -> None:
    sites = sites_of("ARG V=1\nFROM x AS base\nARG V\nENV E=${V}-e\nARG E=ignored\n"
                     "FROM base AS child\nARG W=${E}\n")
    assert [(a.name, a.resolved) for a in sites.args] == [
        ("V", "1"), ("V", "1"), ("E", "ignored"), ("W", "1-e")]
    assert [(e.name, e.resolved) for e in sites.envs] == [("E", "1-e")]


# ------------------------------------------------------------------ image sites


def test_references_through_arguments() -> None:
    sites = sites_of(f"""\
ARG GO=1.22
ARG ALPINE=3.20
ARG BASE=golang:${{GO}}
ARG TYPE=prod
ARG Q="3.19"
ARG REG=docker.io
FROM golang:${{GO}}-alpine${{ALPINE}} AS base-prod
FROM ${{BASE}} AS b
FROM base-${{TYPE}} AS c
FROM alpine:${{Q}}
FROM ${{REG}}/library/alpine:${{ALPINE}}@{D}
FROM binaries-$TARGETOS
FROM ${{NOPE}}
""")
    got = [(i.ref, i.value.text, i.via_arg, i.template, i.line) for i in sites.images]
    assert got == [
        ("golang:1.22-alpine3.20", "golang:${GO}-alpine${ALPINE}", None,
         "golang:${GO}-alpine${ALPINE}", 7),
        ("golang:1.22", "${BASE}", None, "${BASE}", 8),  # nested default: not rewritten in ARG
        ("alpine:3.19", "3.19", "Q", "alpine:${Q}", 10),  # quoted ARG value holds the pin
        (f"docker.io/library/alpine:3.20@{D}", f"${{REG}}/library/alpine:${{ALPINE}}@{D}", None,
         "${REG}/library/alpine:${ALPINE}", 11),
    ]
    assert sites.stages[2].resolved == "base-prod"  # an earlier stage, not an image
    assert [(u.line, u.what) for u in sites.unmanaged] == [
        (12, "FROM binaries-$TARGETOS"), (13, "FROM ${NOPE}")]
    assert "has no default value" in sites.unmanaged[0].reason


def test_an_arg_read_elsewhere_does_not_hold_the_pin() -> None:
    sites = sites_of("ARG V=3.20\nFROM alpine:${V}\nRUN echo $V\n")
    [site] = sites.images
    assert (site.via_arg, site.value.text) == (None, "alpine:${V}")


# ------------------------------------------------------------------ init + verify

Adopted = list[tuple[str, bool, str | None, str | None]]  # image, untagged, tag, digest
FORMS: dict[str, tuple[str, Adopted]] = {
    "untagged": ("FROM alpine\nRUN true\n",
                 [("alpine", True, None, None)]),
    "digest-only": (f"FROM alpine@{D}\n",
                    [("alpine", True, None, D)]),
    "from-arg-to-stage": ("ARG TYPE=prod\nFROM debian:13.4 AS base-prod\nFROM base-${TYPE}\n",
                          [("debian", False, "13.4", None)]),
    "one-repo-several-tags": ("FROM golang:1.22 AS a\nFROM golang:1.23 AS b\n"
                              "COPY --from=golang:1.22 /x /y\n",
                              [("golang", False, "1.22", None), ("golang", False, "1.23", None)]),
    "multi-variable": ("ARG GO=1.22\nARG ALPINE=3.20\nFROM golang:${GO}-alpine${ALPINE}\n"
                       "RUN echo $GO\n",
                       [("golang", False, "1.22-alpine3.20", None)]),
    "nested-default": ("ARG GO=1.22\nARG BASE=golang:${GO}\nARG X\n"
                       "FROM ${X:-${BASE}}\n",
                       [("golang", False, "1.22", None)]),
    "quoted-arg": (f"ARG TAG='3.20@{E}'\nFROM alpine:${{TAG}}\n",
                   [("alpine", False, "3.20", E)]),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_init_adopts_the_reference_as_written_and_verify_accepts(
        form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text, want = FORMS[form]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(text)
    r = run_cli(capsys, "init", "--dockerfile", "Dockerfile")
    assert r.code == 0, r.err
    lock = tomllib.loads((tmp_path / "image.lock.toml").read_text())
    got = sorted((i["image"], i.get("untagged", False), i["locked"].get("tag"),
                  i["locked"].get("index-digest"))
                 for i in lock["inputs"].values() if i["kind"] == "image")
    assert got == sorted(want)
    assert "latest" not in (tmp_path / "image.lock.toml").read_text()
    v = run_cli(capsys, "verify", "--dockerfile", "Dockerfile")
    assert v.code == 0, v.out + v.err


def test_unresolvable_reference_is_reported_not_guessed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("ARG VERSION\nFROM debian:13.4\n"
                                         "COPY --from=traefik:${VERSION}-alpine /a /b\n")
    r = run_cli(capsys, "init", "--dockerfile", "Dockerfile")
    assert r.code == 0, r.err
    assert "Dockerfile:3: " in r.out and "reads VERSION, which has no default" in r.out
    assert "traefik" not in (tmp_path / "image.lock.toml").read_text()
    assert run_cli(capsys, "verify", "--dockerfile", "Dockerfile").code == 0


def test_apt_version_from_a_variable_is_never_a_literal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for n, run in enumerate(('RUN apt-get install -y curl=${CURL_VERSION} git',
                             'RUN ["apt-get", "install", "-y", "curl=${CURL_VERSION}"]')):
        (tmp_path / "Dockerfile").write_text(f"FROM debian:13.4\nARG CURL_VERSION=8.0\n{run}\n")
        r = run_cli(capsys, "init", "--force", "--dockerfile", "Dockerfile")
        assert r.code == 0, r.err
        assert "Dockerfile:3: " in r.out and "comes from a variable" in r.out, (n, r.out)
        assert "${CURL_VERSION}" not in (tmp_path / "image.lock.toml").read_text()
        v = run_cli(capsys, "verify", "--dockerfile", "Dockerfile")
        assert v.code == 0, v.out + v.err


# ------------------------------------------------------------------ the lock tables


def test_untagged_lock_round_trips_and_refuses_a_tag() -> None:
    text = f"""version = 1
[inputs.alpine]
kind = "image"
image = "alpine"
untagged = true

[inputs.alpine.locked]
index-digest = "{D}"
"""
    lock = load_fast(text, "image.lock.toml")
    inp = lock.inputs["alpine"]
    assert inp.locked.tag == "" and inp.intent.untagged  # type: ignore[attr-defined]
    with pytest.raises(LockfileError, match="tag"):
        load_fast(text + 'tag = "latest"\n', "image.lock.toml")
