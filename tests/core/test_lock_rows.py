"""Long arrays of one-line tables in locked tables (apt closures): written and read by pinlock
itself, and the same lock as the TOML parsers read it, whatever the file holds."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest
from core.test_lock_grammar import APT, CURL, LOCK

from pinlock import lockfile
from pinlock.errors import LockfileError
from pinlock.kinds.apt.model import AptInput, AptPackage


def _closure(n: int) -> tuple[AptPackage, ...]:
    return tuple(replace(CURL, name=f"lib{i:05d}", source=f"src{i}") for i in range(n))


def _big(n: int) -> AptInput:
    amd64 = APT.locked.archs["amd64"]
    return replace(APT, locked=replace(APT.locked, archs={
        "amd64": replace(amd64, closure=_closure(n))}))


def test_a_rendered_closure_is_what_tomllib_reads_and_loads_back_the_same() -> None:
    lock = LOCK.replace_input(_big(50))
    text = lockfile.render(lock)
    assert '    {name = "lib00000", version = "8.14.1-2", architecture = "amd64"' in text
    data = tomllib.loads(text)  # the text is plain TOML: any parser reads the same tables
    closure = data["inputs"]["apt"]["locked"]["arch"]["amd64"]["closure"]
    assert [row["name"] for row in closure] == [f"lib{i:05d}" for i in range(50)]
    assert lockfile.load_fast(text, "image.lock.toml") == lock
    again, doc = lockfile.load(text, "image.lock.toml")
    assert again == lock and doc.rows  # the array stayed out of tomlkit
    assert lockfile.render(again, doc) == text


def test_a_changed_closure_is_rewritten_and_the_rest_of_the_file_kept() -> None:
    text = lockfile.render(LOCK.replace_input(_big(20)))
    text = text.replace('[inputs.apt]\n', '[inputs.apt]\n# a note by hand\n')
    lock, doc = lockfile.load(text, "image.lock.toml")
    out = lockfile.render(lock.replace_input(_big(21)), doc)
    assert "# a note by hand" in out
    assert out.count("{name = \"lib") == 21
    assert lockfile.load_fast(out, "image.lock.toml") == lock.replace_input(_big(21))


@pytest.mark.parametrize("edit", [
    # the array edited by hand into another layout: the TOML parsers read it
    lambda t: t.replace("},\n    {", "}, {"),
    # a table with a string holding a whole closure-like block: never cut inside a string
    lambda t: t.replace("[inputs.apt]\n",
                        '[inputs.apt]\nx-note = """\nclosure = [\n    {name = "a"},\n]"""\n'),
    # a value with an escape the line parser does not read
    lambda t: t.replace('source = "src3"', 'source = "src\\u0033"'),
])
def test_any_other_form_reads_as_the_toml_parsers_read_it(edit: object) -> None:
    assert callable(edit)
    text = edit(lockfile.render(LOCK.replace_input(_big(5))))
    expected = lockfile.from_data(tomllib.loads(text), "image.lock.toml")
    assert lockfile.load_fast(text, "image.lock.toml") == expected
    lock, doc = lockfile.load(text, "image.lock.toml")
    assert lock == expected
    assert lockfile.load_fast(lockfile.render(lock, doc), "image.lock.toml") == expected


def test_a_bad_value_in_a_closure_is_refused_on_either_path() -> None:
    text = lockfile.render(LOCK.replace_input(_big(5))).replace('"lib00003"', '"lib;rm"')
    for load in (lockfile.load, lockfile.load_fast):
        with pytest.raises(LockfileError) as info:
            load(text, "image.lock.toml")
        assert "closure[3].name" in info.value.diagnostics()
