"""Pull requests, issue comments, labels and reviewers for the loopback GitHub stand-in.

Follows GitHub's documented pull-request object (number, state, title, body,
head/base with ref, sha, label) and its validation: a PR needs a head branch
that exists on the remote, and a second open PR for the same head is refused
with 422. Branches are read from a real (bare) git repository.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.fake_github import Answer, FakeGitHub, RecordedRequest

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class FakePull:
    number: int
    repository: str
    title: str
    body: str
    head: str
    base: str
    state: str = "open"
    merged: bool = False  # closed by a merge: GitHub sets merged_at
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


class FakeGitHubPulls(FakeGitHub):
    """FakeGitHub plus the pulls endpoints, over the branches of the bare repository ``remote``."""

    def __init__(self, remote: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.remote = remote
        self.pulls: list[FakePull] = []
        self._numbers = itertools.count(1)
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        self.add_route("GET", repo + r"/pulls", self._list)
        self.add_route("POST", repo + r"/pulls", self._create)
        self.add_route("GET", repo + r"/pulls/(?P<n>\d+)", self._get)
        self.add_route("PATCH", repo + r"/pulls/(?P<n>\d+)", self._patch)
        self.add_route("POST", repo + r"/pulls/(?P<n>\d+)/requested_reviewers", self._reviewers)
        self.add_route("GET", repo + r"/issues/(?P<n>\d+)/comments", self._list_comments)
        self.add_route("POST", repo + r"/issues/(?P<n>\d+)/comments", self._comment)
        self.add_route("POST", repo + r"/issues/(?P<n>\d+)/labels", self._labels)

    # ------------------------------------------------------------ test-side views

    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.server == "api" and r.method in WRITE_METHODS]

    def open_pulls(self) -> list[FakePull]:
        self.sync_branches()
        return [p for p in self.pulls if p.state == "open"]

    def sync_branches(self) -> None:
        """GitHub closes a pull request whose head branch is deleted (and never reopens it
        on its own): the bare remote is the truth, read whenever the pulls are."""
        for pull in self.pulls:
            if pull.state == "open" and self.branch_sha(pull.head) is None:
                pull.state = "closed"

    def close_by_hand(self, number: int, *, merged: bool = False) -> FakePull:
        """A person closes (or merges) a pull request in GitHub's web page."""
        pull = next(p for p in self.pulls if p.number == number)
        pull.state, pull.merged = "closed", merged
        return pull

    def branch_sha(self, branch: str) -> str | None:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.remote), "rev-parse", "--verify", "--quiet",
             f"refs/heads/{branch}"], capture_output=True, text=True, check=False)
        return proc.stdout.strip() or None

    # ------------------------------------------------------------ JSON shapes

    def pull_json(self, p: FakePull) -> dict[str, Any]:
        owner = p.repository.split("/")[0]
        base = f"{self.api_url}/repos/{p.repository}"
        return {
            "url": f"{base}/pulls/{p.number}",
            "id": 5000 + p.number,
            "node_id": f"PR_{p.number}",
            "html_url": f"{self.web_url}/{p.repository}/pull/{p.number}",
            "number": p.number,
            "state": p.state,
            "locked": False,
            "title": p.title,
            "body": p.body,
            "user": self.user_json(),
            "labels": [{"name": name} for name in p.labels],
            "requested_reviewers": [{"login": r} for r in p.reviewers],
            "draft": False,
            "merged": p.merged,
            "merged_at": "2026-01-02T00:00:00Z" if p.merged else None,
            "closed_at": "2026-01-02T00:00:00Z" if p.state == "closed" else None,
            "head": {"label": f"{owner}:{p.head}", "ref": p.head,
                     "sha": self.branch_sha(p.head) or "", "user": self.user_json()},
            "base": {"label": f"{owner}:{p.base}", "ref": p.base,
                     "sha": self.branch_sha(p.base) or "", "user": self.user_json()},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }

    def _find(self, p: Mapping[str, str]) -> FakePull | None:
        for pull in self.pulls:
            if pull.repository == p["repo"] and pull.number == int(p["n"]):
                return pull
        return None

    # ------------------------------------------------------------ routes

    def _list(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        self.sync_branches()
        state = req.query.get("state", ["open"])[0]
        head = req.query.get("head", [None])[0]
        base = req.query.get("base", [None])[0]
        items = [x for x in self.pulls if x.repository == p["repo"]
                 and (state == "all" or x.state == state)
                 and (base is None or x.base == base)]
        if head is not None:
            owner, _, ref = head.partition(":")
            if owner != p["repo"].split("/")[0]:
                items = []
            items = [x for x in items if x.head == ref]
        return self.paginated(req, [self.pull_json(x) for x in items])

    def _create(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        self.sync_branches()
        if not req.authenticated:
            return Answer.message(401, "Requires authentication")
        data = req.json()
        for key in ("title", "head", "base"):
            if not isinstance(data.get(key), str) or not data[key]:
                return Answer.message(422, "Validation Failed")
        if self.branch_sha(data["head"]) is None or self.branch_sha(data["base"]) is None:
            return Answer.message(422, "Validation Failed: head or base does not exist")
        if any(x.head == data["head"] and x.state == "open" and x.repository == p["repo"]
               for x in self.pulls):
            return Answer.message(
                422, f"Validation Failed: A pull request already exists for {data['head']}.")
        pull = FakePull(next(self._numbers), p["repo"], data["title"], data.get("body") or "",
                        data["head"], data["base"])
        self.pulls.append(pull)
        return Answer.json(self.pull_json(pull), 201)

    def _get(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        self.sync_branches()
        pull = self._find(p)
        return Answer.json(self.pull_json(pull)) if pull else Answer.message(404, "Not Found")

    def _patch(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        self.sync_branches()
        pull = self._find(p)
        if pull is None:
            return Answer.message(404, "Not Found")
        if not req.authenticated:
            return Answer.message(401, "Requires authentication")
        data = req.json()
        if "title" in data:
            pull.title = data["title"]
        if "body" in data:
            pull.body = data["body"]
        if data.get("state") in ("open", "closed"):
            pull.state = data["state"]
        return Answer.json(self.pull_json(pull))

    def _reviewers(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        pull = self._find(p)
        if pull is None:
            return Answer.message(404, "Not Found")
        pull.reviewers += list(req.json().get("reviewers") or [])
        return Answer.json(self.pull_json(pull), 201)

    def _list_comments(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        pull = self._find(p)
        if pull is None:
            return Answer.message(404, "Not Found")
        items = [{"id": i + 1, "body": b, "user": self.user_json()}
                 for i, b in enumerate(pull.comments)]
        return self.paginated(req, items)

    def _comment(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        pull = self._find(p)
        if pull is None:
            return Answer.message(404, "Not Found")
        pull.comments.append(str(req.json().get("body") or ""))
        return Answer.json({"id": len(pull.comments), "body": pull.comments[-1],
                            "user": self.user_json()}, 201)

    def _labels(self, req: RecordedRequest, p: Mapping[str, str]) -> Answer:
        pull = self._find(p)
        if pull is None:
            return Answer.message(404, "Not Found")
        pull.labels += list(req.json().get("labels") or [])
        return Answer.json([{"name": n} for n in pull.labels])
