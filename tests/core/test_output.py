"""pinlock.output: URLs and command lines as -v shows them, and when progress is drawn."""

from __future__ import annotations

import io
import logging

import pytest

from pinlock import output
from pinlock.secrets import register


@pytest.fixture(autouse=True)
def _reset() -> None:
    output.reset()


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@mirror.example/debian/dists/x/InRelease",
     "https://mirror.example/debian/dists/x/InRelease"),
    ("https://objects.example/a?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&page=2",
     "https://objects.example/a?X-Amz-Signature=***&X-Amz-Credential=***&page=2"),
    ("https://h.example/x?access_token=t0k&per_page=100",
     "https://h.example/x?access_token=***&per_page=100"),
    ("https://h.example/v2/library/debian/manifests/13.4",
     "https://h.example/v2/library/debian/manifests/13.4"),
])
def test_safe_url(url: str, shown: str) -> None:
    assert output.safe_url(url) == shown


def test_safe_url_scrubs_registered_secrets_anywhere() -> None:
    register("pathsecret-0123")
    assert output.safe_url("https://h.example/pathsecret-0123/x") == "https://h.example/***/x"


def test_ran_masks_git_config_values(caplog: pytest.LogCaptureFixture) -> None:
    output.configure(verbose=True)
    logging.getLogger("pinlock").addHandler(caplog.handler)
    try:
        output.ran(["/usr/bin/git", "-c", "http.extraheader=AUTHORIZATION: basic Zm9v",
                    "push", "origin", "HEAD"], 0.0, 0)
    finally:
        logging.getLogger("pinlock").removeHandler(caplog.handler)
    (record,) = caplog.records
    text = record.getMessage()
    assert text.startswith("run: git -c http.extraheader=*** push origin HEAD -> exit 0, ")
    assert "Zm9v" not in text


def test_nothing_logged_without_verbose(caplog: pytest.LogCaptureFixture) -> None:
    output.configure()
    logging.getLogger("pinlock").addHandler(caplog.handler)
    try:
        output.http("GET", "https://h.example/", 200, 10, 0.0)
        output.decided("x", "y")
    finally:
        logging.getLogger("pinlock").removeHandler(caplog.handler)
    assert caplog.records == []


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("settings", "tty", "wanted"), [
    ({}, True, True),
    ({}, False, False),
    ({"quiet": True}, True, False),
    ({"as_json": True}, True, False),
])
def test_progress_only_for_a_person_at_a_terminal(settings: dict[str, bool], tty: bool,
                                                  wanted: bool) -> None:
    output.configure(stream=_Tty() if tty else io.StringIO(), **settings)
    assert output._progress_wanted() is wanted


def test_quiet_drops_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    output.configure(quiet=True)
    output.warn("hidden")
    output.configure(quiet=False)
    output.warn("shown")
    assert capsys.readouterr().err == "pinlock: warning: shown\n"
