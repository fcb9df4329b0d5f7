"""GitHubClient against the loopback GitHub: headers, pagination, rate limits, downloads."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Mapping

import httpx
import pytest
from support.fake_github import Answer, FakeGitHub, RecordedRequest, add_s6_overlay

from pinlock.errors import InputError
from pinlock.http import RetryPolicy
from pinlock.sources.github.api import GitHubClient, GitHubConfig
from pinlock.sources.github.errors import (
    GitHubAuthError,
    GitHubError,
    GitHubNotFoundError,
    RateLimitError,
    TruncatedDownloadError,
)

REPO = "just-containers/s6-overlay"


def test_api_headers_and_token_only_as_header(
    fake: FakeGitHub, client: GitHubClient, token: str
) -> None:
    add_s6_overlay(fake)
    release = client.release_by_tag(REPO, "v3.2.4.0")
    assert release.tag_name == "v3.2.4.0" and not release.prerelease
    (req,) = fake.requests
    assert req.path == f"/repos/{REPO}/releases/tags/v3.2.4.0"
    assert req.headers["accept"] == "application/vnd.github+json"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert req.headers["user-agent"].startswith("pinlock/")
    assert req.authenticated and req.headers["authorization"] == "Bearer <redacted>"
    assert token not in repr(client) and token not in repr(GitHubConfig(fake.api_url, token))


def test_release_object_fields(fake: FakeGitHub, client: GitHubClient) -> None:
    served = add_s6_overlay(fake)
    release = client.release_by_tag(REPO, "v3.2.3.0")
    asset = release.asset("s6-overlay-x86_64.tar.xz")
    assert asset is not None
    data = served["3.2.3.0"]["s6-overlay-x86_64.tar.xz"]
    assert asset.size == len(data)
    assert asset.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert release.html_url.endswith(f"/{REPO}/releases/tag/v3.2.3.0")
    assert release.asset("s6-overlay-x86_64.tar.xz.sha256") is not None


@pytest.mark.parametrize(
    ("env", "url", "authenticated"),
    [
        ({}, "https://api.github.com", False),
        (
            {"GITHUB_API_URL": "https://ghe.example/api/v3/", "GH_TOKEN": "x"},
            "https://ghe.example/api/v3",
            True,
        ),
        ({"GITHUB_TOKEN": "", "GH_TOKEN": "y"}, "https://api.github.com", True),
    ],
)
def test_config_from_env(env: Mapping[str, str], url: str, authenticated: bool) -> None:
    client = GitHubClient.from_env(httpx.Client(), env)
    assert client.api_url == url
    assert client.authenticated is authenticated


def test_github_token_wins_over_gh_token() -> None:
    config = GitHubConfig.from_env({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"})
    assert config.token == "a"


def test_bad_api_url_is_input_error() -> None:
    with pytest.raises(InputError, match="GITHUB_API_URL 'ftp://x'"):
        GitHubClient(httpx.Client(), GitHubConfig("ftp://x"))


def test_enterprise_base_path(token: str, http: httpx.Client, fast_retry: RetryPolicy) -> None:
    with FakeGitHub(token=token, prefix="/api/v3") as ghe:
        add_s6_overlay(ghe)
        client = GitHubClient(http, GitHubConfig(ghe.api_url, token), retry=fast_retry)
        assert client.release_by_tag(REPO, "v3.2.4.0").tag_name == "v3.2.4.0"
        assert next(r.tag_name for r in client.releases(REPO)) == "v3.2.10.0"


# ---------------------------------------------------------------- pagination


def test_pagination_follows_link_next(fake: FakeGitHub, client: GitHubClient) -> None:
    for n in range(250):
        fake.add_release("octo/many", f"v1.0.{n}", {}, sidecars=False)
    tags = [r.tag_name for r in client.releases("octo/many")]
    assert tags == [f"v1.0.{n}" for n in reversed(range(250))]
    pages = fake.requests_to(r"/releases$")
    assert [p.query["page"] for p in pages[1:]] == [["2"], ["3"]]
    assert all(p.query["per_page"] == ["100"] for p in pages)
    assert all(p.authenticated for p in pages)


def test_paginate_keeps_query_for_other_endpoints(fake: FakeGitHub, client: GitHubClient) -> None:
    pulls = [{"number": n, "head": {"ref": "pinlock/s6"}} for n in range(1, 8)]

    def list_pulls(req: RecordedRequest, params: Mapping[str, str]) -> Answer:
        assert req.query["state"] == ["open"]
        return fake.paginated(req, pulls)

    fake.add_route("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/pulls", list_pulls)
    got = list(client.paginate("/repos/o/r/pulls", params={"state": "open"}, per_page=3))
    assert [p["number"] for p in got] == list(range(1, 8))
    assert len(fake.requests_to(r"/pulls$")) == 3


def test_pagination_loop_is_stopped(fake: FakeGitHub, client: GitHubClient) -> None:
    def looping(req: RecordedRequest, params: Mapping[str, str]) -> Answer:
        return Answer.json([1], headers={"Link": f'<{fake.api_url}/loop?per_page=100>; rel="next"'})

    fake.add_route("GET", r"/loop", looping)
    with pytest.raises(GitHubError, match="loops back"):
        list(client.paginate("/loop"))


def test_post_json(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_route(
        "POST",
        r"/repos/(?P<repo>[^/]+/[^/]+)/pulls",
        lambda req, p: Answer.json({"number": 7, **req.json()}, status=201),
    )
    response = client.request("POST", "/repos/o/r/pulls", json={"title": "bump"})
    assert response.status_code == 201 and response.json()["number"] == 7
    (req,) = fake.requests_to("/pulls")
    assert req.method == "POST" and req.json() == {"title": "bump"} and req.authenticated


# ---------------------------------------------------------------- errors and rate limits


def test_primary_rate_limit_names_reset_and_is_not_retried(
    fake: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    add_s6_overlay(fake)
    fake.exhaust_rate_limit()
    with pytest.raises(RateLimitError) as info:
        client.release_by_tag(REPO, "v3.2.4.0")
    assert info.value.reset_at == fake.reset_at
    assert "rate limit exhausted" in info.value.message
    assert "resets at 20" in info.value.message  # an ISO date, not an epoch number
    assert len(fake.requests) == 1 and sleeps == []


def test_anonymous_rate_limit_hints_at_token(
    fake: FakeGitHub, http: httpx.Client, fast_retry: RetryPolicy
) -> None:
    fake.exhaust_rate_limit()
    client = GitHubClient(http, GitHubConfig(fake.api_url), retry=fast_retry)
    with pytest.raises(RateLimitError) as info:
        client.release_by_tag(REPO, "v1")
    assert "GITHUB_TOKEN" in info.value.diagnostics()


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_waits_retry_after(
    fake: FakeGitHub, client: GitHubClient, sleeps: list[float], status: int
) -> None:
    add_s6_overlay(fake)
    fake.secondary_rate_limit(retry_after=2, status=status, times=1)
    assert client.release_by_tag(REPO, "v3.2.4.0").tag_name == "v3.2.4.0"
    assert sleeps == [2.0]
    assert len(fake.requests) == 2


def test_secondary_rate_limit_longer_than_policy_is_reported(
    fake: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    fake.secondary_rate_limit(retry_after=600, times=1)
    with pytest.raises(RateLimitError, match="asked to wait 600 s") as info:
        client.release_by_tag(REPO, "v3.2.4.0")
    assert info.value.retry_after == 600
    assert sleeps == [] and len(fake.requests) == 1


def test_secondary_rate_limit_that_persists(
    fake: FakeGitHub, client: GitHubClient, sleeps: list[float], fast_retry: RetryPolicy
) -> None:
    fake.secondary_rate_limit(retry_after=1, times=10)
    with pytest.raises(RateLimitError, match="secondary rate limit"):
        client.release_by_tag(REPO, "v3.2.4.0")
    assert len(fake.requests) == fast_retry.attempts
    assert sleeps == [1.0] * (fast_retry.attempts - 1)


def test_server_errors_are_retried(
    fake: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    add_s6_overlay(fake)
    fake.server_error(times=2)
    assert client.release_by_tag(REPO, "v3.2.4.0").tag_name == "v3.2.4.0"
    assert len(fake.requests) == 3 and len(sleeps) == 2


def test_github_down(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.server_error(times=None, status=502)
    with pytest.raises(GitHubError) as info:
        client.release_by_tag(REPO, "v3.2.4.0")
    assert "HTTP 502" in info.value.message
    assert f"/repos/{REPO}/releases/tags/v3.2.4.0" in info.value.message


def test_unreachable_api(http: httpx.Client, sleeps: list[float], fast_retry: RetryPolicy) -> None:
    with socket.socket() as sock:  # a port that was free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = GitHubClient(
        http, GitHubConfig(f"http://127.0.0.1:{port}"), retry=fast_retry, sleep=sleeps.append
    )
    with pytest.raises(GitHubError, match="ConnectError"):
        client.release_by_tag(REPO, "v1")
    assert len(sleeps) == fast_retry.attempts - 1


def test_not_found(fake: FakeGitHub, client: GitHubClient) -> None:
    with pytest.raises(GitHubNotFoundError, match="HTTP 404"):
        client.release_by_tag(REPO, "v9.9.9")


def test_private_repository_without_token(
    fake: FakeGitHub, http: httpx.Client, fast_retry: RetryPolicy
) -> None:
    add_s6_overlay(fake)
    fake.private = True
    anonymous = GitHubClient(http, GitHubConfig(fake.api_url), retry=fast_retry)
    with pytest.raises(GitHubNotFoundError) as info:
        anonymous.release_by_tag(REPO, "v3.2.4.0")
    assert "GITHUB_TOKEN" in info.value.diagnostics()


def test_bad_token(fake: FakeGitHub, http: httpx.Client, fast_retry: RetryPolicy) -> None:
    wrong = "ghp_wrongwrongwrong"
    client = GitHubClient(http, GitHubConfig(fake.api_url, wrong), retry=fast_retry)
    with pytest.raises(GitHubAuthError, match="HTTP 401") as info:
        client.release_by_tag(REPO, "v3.2.4.0")
    assert wrong not in info.value.diagnostics()


def test_forbidden_is_not_a_rate_limit(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.inject(r"/releases", Answer.message(403, "Resource not accessible by integration"))
    with pytest.raises(GitHubAuthError, match="not accessible"):
        client.release_by_tag(REPO, "v1")
    assert len(fake.requests) == 1


# ---------------------------------------------------------------- downloads


def test_download_follows_redirect_without_authorization(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    served = add_s6_overlay(fake)
    asset = client.release_by_tag(REPO, "v3.2.4.0").asset("s6-overlay-aarch64.tar.xz")
    assert asset is not None
    fake.clear_requests()
    sha, size = client.download_sha256(asset)
    data = served["3.2.4.0"]["s6-overlay-aarch64.tar.xz"]
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    api, obj = fake.requests
    assert api.server == "api" and api.authenticated
    assert api.headers["accept"] == "application/octet-stream"
    assert obj.server == "objects" and not obj.had_authorization
    assert "x-github-api-version" not in obj.headers


def test_same_origin_redirect_keeps_authorization(fake: FakeGitHub, client: GitHubClient) -> None:
    add_s6_overlay(fake)
    # GitHub answers 301 for a renamed repository; the new place is the same API.
    fake.add_route(
        "GET",
        r"/repos/old/name/releases/tags/(?P<tag>.+)",
        lambda req, p: Answer(
            301, b"", {"Location": f"{fake.api_url}/repos/{REPO}/releases/tags/{p['tag']}"}
        ),
    )
    assert client.release_by_tag("old/name", "v3.2.4.0").tag_name == "v3.2.4.0"
    assert [r.authenticated for r in fake.requests] == [True, True]


def test_cut_off_download(fake: FakeGitHub, client: GitHubClient) -> None:
    add_s6_overlay(fake)
    fake.cut_download(REPO, "v3.2.4.0", "s6-overlay-x86_64.tar.xz", at=1000)
    asset = client.release_by_tag(REPO, "v3.2.4.0").asset("s6-overlay-x86_64.tar.xz")
    assert asset is not None
    with pytest.raises(TruncatedDownloadError, match=r"cut off after 1000 of \d+ bytes"):
        client.download_sha256(asset)


def test_short_download_caught_by_api_size(fake: FakeGitHub, client: GitHubClient) -> None:
    add_s6_overlay(fake)
    fake.short_download(REPO, "v3.2.4.0", "s6-overlay-x86_64.tar.xz", at=4096)
    asset = client.release_by_tag(REPO, "v3.2.4.0").asset("s6-overlay-x86_64.tar.xz")
    assert asset is not None
    with pytest.raises(TruncatedDownloadError, match=f"received 4096 bytes.*{asset.size} bytes"):
        client.download_sha256(asset)


def test_small_download_refuses_large_bodies(fake: FakeGitHub, client: GitHubClient) -> None:
    add_s6_overlay(fake)
    asset = client.release_by_tag(REPO, "v3.2.4.0").asset("s6-overlay-x86_64.tar.xz")
    assert asset is not None
    with pytest.raises(GitHubError, match="more than the 1024"):
        client.download_small(asset, limit=1024)


def test_download_host_refusal_is_reported(fake: FakeGitHub, client: GitHubClient) -> None:
    add_s6_overlay(fake)
    asset = client.release_by_tag(REPO, "v3.2.4.0").asset("s6-overlay-x86_64.tar.xz")
    assert asset is not None
    fake.inject(r"/assets/", Answer(403, b"AccessDenied"), server="objects")
    with pytest.raises(GitHubError, match="HTTP 403 from the download host") as info:
        client.download_sha256(asset)
    assert "X-Amz-Signature" not in info.value.message  # signed URLs stay out of messages
