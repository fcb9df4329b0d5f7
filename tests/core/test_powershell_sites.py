"""The PowerShell checksum recognizer: ``(Get-FileHash f -Algorithm sha256).Hash -ne …`` tied
to the download of ``f`` (its URL evaluated exactly or not at all), and what it reports."""

from __future__ import annotations

import pytest

from pinlock.dockerfile.parser import parse
from pinlock.dockerfile.sites import ChecksumSite, Sites, find_sites

A, B = "a" * 64, "b" * 64
SHELL = ('SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; '
         "$ProgressPreference = 'SilentlyContinue';\"]\n")
HEAD = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n" + SHELL


def sites_of(text: str) -> Sites:
    s = find_sites(parse(text))
    for c in s.checksums.sites:
        # The span holds exactly the digits: an edit there rewrites nothing else.
        assert text[c.value.start:c.value.end] == c.value.text
    return s


def checks(text: str) -> list[ChecksumSite]:
    return [c for c in sites_of(text).checksums.sites if c.how == "get-filehash"]


def test_the_docker_library_env_form() -> None:
    text = HEAD + f"""\
ENV JULIA_VERSION 1.11.9
ENV JULIA_URL https://example.org/bin/julia-1.11.9-win64.exe
ENV JULIA_SHA256 {A}

RUN Write-Host ('Downloading {{0}} ...' -f $env:JULIA_URL); \\
\tInvoke-WebRequest -Uri $env:JULIA_URL -OutFile 'julia.exe'; \\
\tWrite-Host ('Verifying sha256 ({{0}}) ...' -f $env:JULIA_SHA256); \\
\tif ((Get-FileHash julia.exe -Algorithm sha256).Hash -ne $env:JULIA_SHA256) {{ \\
\t\tWrite-Host 'FAILED!'; \\
\t\texit 1; \\
\t}};
"""
    s = sites_of(text)
    (c,) = s.checksums.sites  # tied: no second site "by name" for the same digits
    assert (c.holder, c.held_in, c.how) == ("JULIA_SHA256", "ENV", "get-filehash")
    assert (c.url, c.file, c.line, c.url_values) == ("${JULIA_URL}", "julia.exe", 10, ())


def test_a_format_filled_from_env_values() -> None:
    (c,) = checks(HEAD + f"""\
ENV TOOL_VERSION 1.2.3
ARG TOOL_SHA256={A}
RUN $url = ('https://example.org/{{0}}/tool-{{1}}.zip' -f $env:TOOL_VERSION, $Env:tool_version); \\
\tInvoke-WebRequest $url -OutFile tool.zip -UseBasicParsing; \\
\tif ((Get-FileHash -Path tool.zip).Hash -ne $env:TOOL_SHA256) {{ exit 1 }}
""")
    # `$env:` names ignore case on Windows: the declared spelling is what the URL reads.
    assert c.url == "https://example.org/${TOOL_VERSION}/tool-${TOOL_VERSION}.zip"
    assert (c.holder, c.held_in, c.url_values) == ("TOOL_SHA256", "ARG", ())


def test_literal_url_and_sha256_variables() -> None:
    text = HEAD + f"""\
ENV GOLANG_VERSION 1.26.7
RUN $url = 'https://dl.google.com/go/go1.26.7.windows-amd64.zip'; \\
\tWrite-Host ('Downloading {{0}} ...' -f $url); \\
\tInvoke-WebRequest -Uri $url -OutFile 'go.zip'; \\
\t$sha256 = '{A}'; \\
\tWrite-Host ('Verifying sha256 ({{0}}) ...' -f $sha256); \\
\tif ((Get-FileHash go.zip -Algorithm sha256).Hash -ne $sha256) {{ exit 1 }}
"""
    (c,) = checks(text)
    assert (c.holder, c.held_in, c.value.line, c.line) == (None, "RUN", 7, 9)
    assert c.url == "https://dl.google.com/go/go1.26.7.windows-amd64.zip"
    (v,) = c.url_values
    assert text[v.start:v.end] == c.url and v.line == 4


def test_digits_printed_and_compared_are_each_a_site() -> None:
    url = "https://github.com/acme/tool/releases/download/v1.0/tool.msi"
    text = HEAD + f"""\
RUN Write-Host ('Downloading {url} ...'); \\
    curl.exe -LfsSo tool.msi {url} ; \\
    Write-Host ('Verifying sha256 ({A}) ...'); \\
    if ((Get-FileHash tool.msi -Algorithm sha256).Hash -ne '{A}') {{ exit 1 }}
"""
    got = checks(text)
    assert sorted(c.value.line for c in got) == [5, 6]
    assert {(c.url, c.file, c.held_in) for c in got} == {(url, "tool.msi", "RUN")}


def test_webclient_download_and_backtick_escape() -> None:
    text = "# escape=`\n" + HEAD + f"""\
ENV MONGO_DOWNLOAD_URL https://example.org/mongodb-8.3.4-signed.msi
ENV MONGO_DOWNLOAD_SHA256={A}
RUN (New-Object System.Net.WebClient).DownloadFile($env:MONGO_DOWNLOAD_URL, 'mongo.msi'); `
\tif ($env:MONGO_DOWNLOAD_SHA256) {{ `
\t\tif ((Get-FileHash mongo.msi -Algorithm sha256).Hash -ne $env:MONGO_DOWNLOAD_SHA256) {{ `
\t\t\texit 1; `
\t\t}}; `
\t}}
"""
    (c,) = checks(text)
    assert (c.holder, c.url, c.file, c.line) == ("MONGO_DOWNLOAD_SHA256",
                                                 "${MONGO_DOWNLOAD_URL}", "mongo.msi", 8)


def test_a_download_into_a_path_held_in_variables() -> None:
    (c,) = checks(HEAD + f"""\
ENV X_URL https://example.org/x-1.0.exe
ENV X_SHA256 {A}
RUN $dir = ('{{0}}\\docker\\cli-plugins' -f $env:ProgramFiles); \\
\t$plugin = ('{{0}}\\x.exe' -f $dir); \\
\tInvoke-WebRequest -Uri $env:X_URL -OutFile $plugin; \\
\tif ((Get-FileHash $plugin -Algorithm sha256).Hash -ne $env:X_SHA256) {{ exit 1 }}
""")
    assert (c.url, c.file) == ("${X_URL}", "${ProgramFiles}\\docker\\cli-plugins\\x.exe")


@pytest.mark.parametrize(("run", "why"), [
    # docker-library python: the version goes through a regex first.
    ("$url = ('https://www.python.org/ftp/python/{0}/python-{1}-amd64.exe' -f "
     "($env:T_VERSION -replace '[a-z]+[0-9]*$', ''), $env:T_VERSION); "
     "Invoke-WebRequest -Uri $url -OutFile 't.exe'; "
     "if ((Get-FileHash t.exe -Algorithm sha256).Hash -ne $env:T_SHA256) { exit 1 }",
     "applies -replace"),
    ("Invoke-WebRequest -Uri ('https://x.example.org/t-' + $env:T_VERSION.TrimStart('v')) "
     "-OutFile t.exe; if ((Get-FileHash t.exe).Hash -ne $env:T_SHA256) { exit 1 }",
     "cannot reproduce exactly"),
    # Fetched while the image builds: no value to pin.
    ("$sum = [Text.Encoding]::UTF8.GetString((Invoke-WebRequest -Uri "
     "'https://x.example.org/t.exe.sha256' -UseBasicParsing).Content); "
     "Invoke-WebRequest -Uri 'https://x.example.org/t.exe' -OutFile t.exe; "
     "if ((Get-FileHash t.exe -Algorithm SHA256).Hash -ne $sum) { exit 1 }",
     "not a value written in the Dockerfile"),
    ("Invoke-WebRequest -Uri 'https://x.example.org/t.exe' -OutFile t.exe; "
     "if ((Get-FileHash t.exe).Hash -ne $env:T_OTHER) { exit 1 }",
     "holds no sha256 written"),
])
def test_what_cannot_be_reproduced_is_reported(run: str, why: str) -> None:
    text = HEAD + f"ENV T_VERSION 1.0\nENV T_SHA256 {A}\nENV T_OTHER x\nRUN {run}\n"
    s = sites_of(text)
    assert not [c for c in s.checksums.sites if c.how == "get-filehash"]
    hits = [u for u in s.unmanaged if why in u.reason]
    assert [u.line for u in hits] == [6], s.unmanaged


def test_other_algorithms_and_untied_checks_are_left_alone() -> None:
    text = HEAD + f"""\
ARG B_SHA256={B}
ADD https://example.org/busybox.exe /bin/busybox.exe
RUN Invoke-WebRequest -Uri https://example.org/x.zip -OutFile x.zip; \\
    if ((Get-FileHash x.zip -Algorithm SHA512).Hash -ne '{"c" * 128}') {{ exit 1 }}; \\
    if ((Get-FileHash -Path /bin/busybox.exe -Algorithm SHA256).Hash -ne $Env:B_SHA256) {{ \\
      exit 1 }}; \\
    Write-Host 'no (Get-FileHash y).Hash -ne $x here'
"""
    s = sites_of(text)
    assert not checks(text)
    # The ADD's checksum stays where the shell recognizer and the kinds find it: by its name.
    assert [(c.holder, c.how) for c in s.checksums.sites] == [("B_SHA256", "name")]
    assert not s.unmanaged
