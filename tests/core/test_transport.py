"""pinlock.transport on canned answers: hops, refusals, credentials, Link pages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pinlock.transport import (
    Hop,
    PageRefusal,
    RedirectPolicy,
    Refusal,
    follow_redirects,
    next_link,
    paginate,
)


class Refused(Exception):
    def __init__(self, refusal: Refusal | PageRefusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def answers(table: dict[str, httpx.Response]) -> tuple[Callable[[Hop], httpx.Response],
                                                       list[Hop]]:
    hops: list[Hop] = []

    def send(hop: Hop) -> httpx.Response:
        hops.append(hop)
        return table[hop.url]

    return send, hops


def moved(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


def test_redirects_followed_with_credentials_only_on_their_origin() -> None:
    send, hops = answers({
        "https://api.example/a": moved("/b"),
        "https://api.example/b": moved("https://cdn.example/c"),
        "https://cdn.example/c": httpx.Response(200),
    })
    trail: list[str] = []
    r = follow_redirects(send, "https://api.example/a", policy=RedirectPolicy(),
                         refuse=Refused, credentials_origin="https://api.example:443/",
                         trail=trail)
    assert r.status_code == 200
    assert trail == ["https://api.example/a", "https://api.example/b", "https://cdn.example/c"]
    assert [h.credentials for h in hops] == [True, True, False]
    assert [h.number for h in hops] == [0, 1, 2]


def test_credentials_on_the_first_request_only() -> None:
    send, hops = answers({"https://r.example/a": moved("/b"),
                          "https://r.example/b": httpx.Response(200)})
    follow_redirects(send, "https://r.example/a",
                     policy=RedirectPolicy(credentials_on_redirect=False),
                     refuse=Refused, credentials_origin="https://r.example")
    assert [h.credentials for h in hops] == [True, False]


def test_a_post_turned_get_by_303_drops_its_body() -> None:
    send, hops = answers({"https://a.example/p": moved("/g", 303),
                          "https://a.example/g": httpx.Response(200)})
    follow_redirects(send, "https://a.example/p", method="POST", policy=RedirectPolicy(),
                     refuse=Refused)
    assert [(h.method, h.body) for h in hops] == [("POST", True), ("GET", False)]


def test_a_redirect_without_location_is_the_answer() -> None:
    send, _ = answers({"https://a.example/": httpx.Response(302)})
    r = follow_redirects(send, "https://a.example/", policy=RedirectPolicy(), refuse=Refused)
    assert r.status_code == 302


@pytest.mark.parametrize(("policy", "target", "reason"), [
    (RedirectPolicy(), "http://a.example/x", "downgrade"),
    (RedirectPolicy(same_origin_only=True), "https://b.example/x", "other origin"),
    (RedirectPolicy(same_origin_only=True), "https://user@a.example/x", "other origin"),
])
def test_refused_redirects(policy: RedirectPolicy, target: str, reason: str) -> None:
    send, _ = answers({"https://a.example/": moved(target)})
    with pytest.raises(Refused) as info:
        follow_redirects(send, "https://a.example/", policy=policy, refuse=Refused)
    refusal = info.value.refusal
    assert isinstance(refusal, Refusal)
    assert (refusal.reason, refusal.url, refusal.target) == (reason, "https://a.example/", target)


def test_downgrade_allowed_when_the_policy_says_so() -> None:
    send, _ = answers({"https://a.example/": moved("http://a.example/x"),
                       "http://a.example/x": httpx.Response(200)})
    r = follow_redirects(send, "https://a.example/", policy=RedirectPolicy(
        refuse_downgrade=False), refuse=Refused)
    assert r.status_code == 200


def test_redirect_loop_stops_after_max_hops() -> None:
    send, hops = answers({"https://a.example/": moved("/")})
    with pytest.raises(Refused) as info:
        follow_redirects(send, "https://a.example/", policy=RedirectPolicy(max_hops=3),
                         refuse=Refused)
    assert info.value.refusal.reason == "too many"
    assert len(hops) == 4  # the request, then three redirects followed


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ('<https://a/2>; rel="next", <https://a/9>; rel="last"', "https://a/2"),
    ('<https://a/9>; rel="last", </v2/x/tags/list?n=2>; rel=next', "/v2/x/tags/list?n=2"),
    ('<https://a/2>; type="x"; rel="prev next"', "https://a/2"),
    ('<https://a/2>; rel="nextpage"', None),
])
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header) == expected


def pages(table: dict[str, str | None]) -> Callable[[str], httpx.Response]:
    def fetch(url: str) -> httpx.Response:
        link = table[url]
        return httpx.Response(200, headers={"Link": f'<{link}>; rel="next"'} if link else {})
    return fetch


def test_pages_followed_until_no_next() -> None:
    fetch = pages({"https://a/1": "/2", "https://a/2": None})
    got = [url for url, _ in paginate(fetch, "https://a/1", max_pages=5, refuse=Refused)]
    assert got == ["https://a/1", "https://a/2"]


@pytest.mark.parametrize(("table", "same_host", "reason"), [
    ({"https://a/1": "/2", "https://a/2": "/1"}, False, "loop"),
    ({"https://a/1": "https://b/2"}, True, "other host"),
    ({"https://a/1": "/2", "https://a/2": "/3", "https://a/3": "/4"}, False, "too many"),
])
def test_refused_pages(table: dict[str, str | None], same_host: bool, reason: str) -> None:
    with pytest.raises(Refused) as info:
        for _ in paginate(pages(table), "https://a/1", max_pages=3, refuse=Refused,
                          same_host=same_host):
            pass
    assert info.value.refusal.reason == reason
