"""The version read through a POSIX removal in a URL (docker-library python's
``${PYTHON_VERSION%%[a-z]*}``), the other URLs an ENV writes the version in (php's
``PHP_ASC_URL``) and a version and sha256 kept in ENV by name (HashiCorp's packer): `init`
adopts each, `verify` agrees, `bump` moves every pin and nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from support.cli import init_and_verify, run_cli
from support.download_host import DownloadHost, sha256_hex

from pinlock.errors import LockfileError
from pinlock.kinds.download import expansion, schema
from pinlock.kinds.download.model import fill
from pinlock.tables import TableReader
from pinlock.values import first_bad


@pytest.mark.parametrize(("value", "op", "pattern", "want"), [
    ("3.13.1", "%%", "[a-z]*", "3.13.1"),
    ("3.14.0rc1", "%%", "[a-z]*", "3.14.0"),
    ("3.14.0rc1", "%%", "[[:alpha:]]*", "3.14.0"),
    ("3.14.0b2", "%%", "[!0-9.]*", "3.14.0"),
    ("1.12.7", "%", ".*", "1.12"),
    ("1.12.7", "%%", ".*", "1"),
    ("1.2-3-4", "%", "-*", "1.2-3"),
    ("1.2-3-4", "%%", "-*", "1.2"),
    ("v1.2.3", "#", "v", "1.2.3"),
    ("1.2.3", "#", "v", "1.2.3"),  # no match: the value as it is
    ("1.2.3", "#", "*.", "2.3"),
    ("1.2.3", "##", "*.", "3"),
    ("1.2.3", "%", "?", "1.2."),
    ("1.2.3", "%%", "*", ""),
])
def test_removals_are_evaluated_as_the_shell_does(value: str, op: str, pattern: str,
                                                  want: str) -> None:
    assert expansion.apply(value, op, pattern) == want
    assert fill(f"https://x.example.org/{{version{op}{pattern}}}/t-{{version}}",
                version=value) == f"https://x.example.org/{want}/t-{value}"


@pytest.mark.parametrize("pattern", [
    "[^a-z]*",  # "^" negates in bash, not in every sh
    "[a-Z]*",  # a range across cases follows the locale
    "[[:space:]]",  # a class pinlock does not read
    "\\.*",  # an escape
    "'.'*",  # quotes
    "[a",  # an unclosed bracket
    "[]a]",  # a "]" inside a bracket expression
])
def test_a_pattern_not_evaluated_exactly_is_refused(pattern: str) -> None:
    with pytest.raises(expansion.PatternError):
        expansion.compile_pattern(pattern)


def _load(body: str) -> Any:
    r = TableReader("image.lock.toml", tomllib.loads(body), "inputs.t")
    inp = schema.load(r, "t", ("linux/amd64",))
    return first_bad(schema.values(inp, "inputs.t"))


def test_the_template_grammar_checks_each_pattern() -> None:
    base = ('version-arg = "T_VERSION"\nsha256-arg = "T_SHA256"\n'
            '[locked]\nversion = "1.0"\n')
    ok = _load('url = "https://x.example.org/{version%%[a-z]*}/t-{version}.tgz"\n' + base)
    assert ok is None
    bad = _load('url = "https://x.example.org/{version%%[^a-z]*}/t-{version}.tgz"\n' + base)
    assert bad is not None and bad[0] == "inputs.t.url" and "evaluates exactly" in str(bad[1])
    # An expansion is a version placeholder: a fixed download cannot hold one.
    with pytest.raises(LockfileError, match="without"):
        schema.load(TableReader("image.lock.toml", tomllib.loads(
            'url = "https://x.example.org/{version%.*}/t.tgz"\nfixed = true\n[locked]\n'),
            "inputs.t"), "t", ("linux/amd64",))
    with pytest.raises(LockfileError, match="containing"):
        schema.load(TableReader("image.lock.toml", tomllib.loads(
            'url = "https://x.example.org/t-{version}.tgz"\n' + base.replace(
                "[locked]", '[more-urls]\nT_ASC_URL = "https://x.example.org/t.asc"\n[locked]')),
            "inputs.t"), "t", ("linux/amd64",))


def test_a_directory_listing_cannot_follow_a_removal() -> None:
    # The listing of …/python/ names folders "3.14.0", not the version "3.14.0rc1".
    with pytest.raises(LockfileError, match="directory listing"):
        schema.load(TableReader("image.lock.toml", tomllib.loads(
            'url = "https://x.example.org/{version%%[a-z]*}/t-{version}.tgz"\n'
            'version-arg = "T_VERSION"\nsha256-arg = "T_SHA256"\n'
            'versions = { from = "directory" }\n[locked]\nversion = "1.0"\n'),
            "inputs.t"), "t", ("linux/amd64",))


def _init(project: Path, text: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return init_and_verify(project, text, capsys)[0]


def _add_sidecar(project: Path, after: str) -> None:
    """Tell the input where upstream's sha256 is: a sidecar beside each file."""
    lock = project / "image.lock.toml"
    text = lock.read_text()
    at = text.index(after) + len(after)
    lock.write_text(text[:at] + 'checksums = { from = "sidecar" }\n' + text[at:])


def _python(base: str, version: str, sha: str) -> str:
    """docker-library python's download: the folder is the version without its pre-release."""
    return f"""\
FROM scratch
ENV PYTHON_VERSION {version}
ENV PYTHON_SHA256 {sha}
RUN set -eux; \\
\twget -O python.tar.xz "{base}/${{PYTHON_VERSION%%[a-z]*}}/Python-$PYTHON_VERSION.tar.xz"; \\
\techo "$PYTHON_SHA256 *python.tar.xz" | sha256sum -c -; \\
\twget -O python.tar.xz.asc "{base}/${{PYTHON_VERSION%%[a-z]*}}/Python-$PYTHON_VERSION.tar.xz.asc"
"""


def test_python_s_removal_is_adopted_and_bump_fills_it_again(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"{host.url}/ftp/python"
    files = {"3.13.1": b"python 3.13.1", "3.14.0rc1": b"python 3.14.0rc1"}
    for v, data in files.items():
        folder = v.split("rc")[0]
        host.publish(f"/ftp/python/{folder}/Python-{v}.tar.xz", data)
    old, new = sha256_hex(files["3.13.1"]), sha256_hex(files["3.14.0rc1"])
    inputs = _init(project, _python(base, "3.13.1", old), capsys)
    py = inputs["python"]
    assert py["url"] == f"{base}/{{version%%[a-z]*}}/Python-{{version}}.tar.xz"
    assert (py["version-arg"], py["sha256-arg"]) == ("PYTHON_VERSION", "PYTHON_SHA256")
    assert py["locked"]["files"]["Python-3.13.1.tar.xz"]["sha256"] == old
    # The sha256 edited by hand: verify names it.
    df = project / "docker" / "Dockerfile"
    df.write_text(_python(base, "3.13.1", "c" * 64))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "PYTHON_SHA256" in r.out + r.err, r
    df.write_text(_python(base, "3.13.1", old))
    _add_sidecar(project, 'version-arg = "PYTHON_VERSION"\n')
    r = run_cli(capsys, "bump", "python", "3.14.0rc1")
    assert r.code == 0, r
    # The version and the sha256 moved, and nothing else: the URL fills its folder alike.
    assert df.read_text() == _python(base, "3.14.0rc1", new)
    locked = tomllib.loads((project / "image.lock.toml").read_text())["inputs"]["python"]
    f = locked["locked"]["files"]["Python-3.14.0rc1.tar.xz"]
    assert f["url"] == f"{base}/3.14.0/Python-3.14.0rc1.tar.xz" and f["sha256"] == new
    assert f["verified-by"] == ["sidecar"]
    assert run_cli(capsys, "verify").code == 0


def _php(base: str, version: str, sha: str) -> str:
    """docker-library php: the file's and its signature's URLs written whole in ENV."""
    return f"""\
FROM scratch
ENV PHP_VERSION {version}
ENV PHP_URL="{base}/php-{version}.tar.xz" PHP_ASC_URL="{base}/php-{version}.tar.xz.asc"
ENV PHP_SHA256="{sha}"
RUN set -eux; \\
\tcurl -fsSL -o php.tar.xz "$PHP_URL"; \\
\techo "$PHP_SHA256 *php.tar.xz" | sha256sum -c -; \\
\tcurl -fsSL -o php.tar.xz.asc "$PHP_ASC_URL"
"""


def test_php_s_signature_url_moves_with_the_version(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"{host.url}/distributions"
    files = {v: f"php {v}".encode() for v in ("8.5.0", "8.5.1")}
    for v, data in files.items():
        host.publish(f"/distributions/php-{v}.tar.xz", data, bare=True)
    old, new = sha256_hex(files["8.5.0"]), sha256_hex(files["8.5.1"])
    inputs = _init(project, _php(base, "8.5.0", old), capsys)
    php = inputs["php"]
    assert php["url"] == f"{base}/php-{{version}}.tar.xz" and php["url-arg"] == "PHP_URL"
    assert php["more-urls"] == {"PHP_ASC_URL": f"{base}/php-{{version}}.tar.xz.asc"}
    # The signature's URL edited alone: verify wants the locked version's.
    df = project / "docker" / "Dockerfile"
    df.write_text(_php(base, "8.5.0", old).replace("php-8.5.0.tar.xz.asc", "php-8.5.1.tar.xz.asc"))
    r = run_cli(capsys, "verify")
    assert r.code == 1 and "PHP_ASC_URL" in r.out + r.err, r
    df.write_text(_php(base, "8.5.0", old))
    _add_sidecar(project, 'version-arg = "PHP_VERSION"\n')
    r = run_cli(capsys, "bump", "php", "8.5.1")
    assert r.code == 0, r
    # The version, both URLs and the sha256 moved, and nothing else.
    assert df.read_text() == _php(base, "8.5.1", new)
    assert run_cli(capsys, "verify").code == 0


def _packer(base: str, version: str, sha: str) -> str:
    """HashiCorp's packer image: the version and the zip's sha256 in ENV, by their names."""
    return f"""\
FROM scratch
ENV PACKER_VERSION={version}
ENV PACKER_SHA256SUM={sha}
ADD {base}/${{PACKER_VERSION}}/packer_${{PACKER_VERSION}}_linux_amd64.zip ./
ADD {base}/${{PACKER_VERSION}}/packer_${{PACKER_VERSION}}_SHA256SUMS ./
RUN sha256sum -cs packer_${{PACKER_VERSION}}_SHA256SUMS
"""


def test_an_env_version_and_sha256sum_are_adopted_by_name(
        project: Path, host: DownloadHost, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"{host.url}/packer"
    files = {v: f"packer {v}".encode() for v in ("1.7.10", "1.8.0")}
    for v, data in files.items():
        host.publish(f"/packer/{v}/packer_{v}_linux_amd64.zip", data, bare=True)
    old, new = sha256_hex(files["1.7.10"]), sha256_hex(files["1.8.0"])
    inputs = _init(project, _packer(base, "1.7.10", old), capsys)
    packer = inputs["packer"]
    assert packer["url"] == f"{base}/{{version}}/packer_{{version}}_linux_amd64.zip"
    assert (packer["version-arg"], packer["sha256-arg"]) == ("PACKER_VERSION",
                                                             "PACKER_SHA256SUM")
    _add_sidecar(project, 'version-arg = "PACKER_VERSION"\n')
    r = run_cli(capsys, "bump", "packer", "1.8.0")
    assert r.code == 0, r
    assert (project / "docker" / "Dockerfile").read_text() == _packer(base, "1.8.0", new)
    assert run_cli(capsys, "verify").code == 0


def _quoted(base: str, version: str, sha: str, name: str) -> str:
    """Quoted ARG values, the checksum named `<NAME>_CHECKSUM` or `<NAME>_SHA256SUM`."""
    return f"""\
FROM scratch
ARG TOOL_VERSION="{version}"
ARG TOOL_{name}="{sha}"
RUN curl -fsSL -o /usr/local/bin/tool "{base}/v${{TOOL_VERSION#v}}/tool-${{TOOL_VERSION}}" \\
 && echo "${{TOOL_{name}}}  /usr/local/bin/tool" | sha256sum -c
"""


@pytest.mark.parametrize("name", ["CHECKSUM", "SHA256SUM"])
def test_quoted_arg_values_and_checksum_names(
        name: str, project: Path, host: DownloadHost,
        capsys: pytest.CaptureFixture[str]) -> None:
    base = f"{host.url}/dl"
    files = {v: f"tool {v}".encode() for v in ("1.21.0", "1.22.0")}
    for v, data in files.items():
        host.publish(f"/dl/v{v}/tool-{v}", data)
    old, new = sha256_hex(files["1.21.0"]), sha256_hex(files["1.22.0"])
    inputs = _init(project, _quoted(base, "1.21.0", old, name), capsys)
    tool = inputs["tool"]
    assert tool["url"] == f"{base}/v{{version#v}}/tool-{{version}}"
    assert tool["sha256-arg"] == f"TOOL_{name}"
    _add_sidecar(project, 'version-arg = "TOOL_VERSION"\n')
    r = run_cli(capsys, "bump", "tool", "1.22.0")
    assert r.code == 0, r
    assert (project / "docker" / "Dockerfile").read_text() == _quoted(base, "1.22.0", new, name)
    assert run_cli(capsys, "verify").code == 0
