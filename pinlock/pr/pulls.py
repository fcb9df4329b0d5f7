"""GitHub's pull-request and issue-comment endpoints, on the shared GitHubClient."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinlock.http import parse_json
from pinlock.sources.github.api import GitHubClient
from pinlock.sources.github.errors import GitHubError


@dataclass(frozen=True)
class PullRequest:
    """The fields of GitHub's pull-request object pinlock reads."""

    number: int
    state: str
    title: str
    body: str
    head_ref: str
    head_sha: str
    html_url: str
    head_label: str = ""  # "owner:branch"; a fork's pull request names the fork's owner
    base_ref: str = ""  # the branch it would merge into
    merged_at: str | None = None  # None: not merged (open, or closed without merging)

    @classmethod
    def from_json(cls, data: object, *, where: str) -> PullRequest:
        if not isinstance(data, Mapping):
            raise GitHubError(f"{where}: unexpected GitHub answer: a pull request is not an object")
        head = data.get("head")
        base = data.get("base")
        number = data.get("number")
        if not isinstance(head, Mapping) or not isinstance(number, int):
            raise GitHubError(f"{where}: unexpected GitHub answer: pull request without "
                              "'number' or 'head'")
        return cls(
            number=number,
            state=str(data.get("state") or ""),
            title=str(data.get("title") or ""),
            # A body edited in GitHub's web page comes back with CRLF line ends.
            body=str(data.get("body") or "").replace("\r\n", "\n"),
            head_ref=str(head.get("ref") or ""),
            head_sha=str(head.get("sha") or ""),
            html_url=str(data.get("html_url") or ""),
            head_label=str(head.get("label") or ""),
            base_ref=str(base.get("ref") or "") if isinstance(base, Mapping) else "",
            merged_at=str(data["merged_at"]) if data.get("merged_at") else None,
        )


class PullsClient:
    """``/repos/{owner}/{repo}/pulls`` and the issue endpoints a PR shares (comments, labels)."""

    def __init__(self, client: GitHubClient, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.owner = repository.split("/", 1)[0]
        self.writes = 0  # API calls that change something, for the run summary

    def _json(self, method: str, path: str, body: object, ok: tuple[int, ...]) -> Any:
        self.writes += 1
        response = self.client.request(method, f"/repos/{self.repository}{path}", json=body,
                                       ok=ok)
        return parse_json(response.content, f"{method} {path}", error=GitHubError)

    def _list(self, params: dict[str, str | int], where: str) -> Iterator[PullRequest]:
        for item in self.client.paginate(f"/repos/{self.repository}/pulls", params=params):
            yield PullRequest.from_json(item, where=where)

    def _for_branch(self, branch: str, base: str, state: str) -> list[PullRequest]:
        """The PRs in ``state`` from ``owner:branch`` into ``base``, newest first.

        The base is checked again on every answer: runs for two base branches must
        never see (or close) each other's pull requests.
        """
        params: dict[str, str | int] = {"head": f"{self.owner}:{branch}", "base": base,
                                        "state": state}
        where = f"{self.repository} {state} pulls head={branch} base={base}"
        return [pr for pr in self._list(params, where)
                if pr.head_ref == branch and pr.base_ref == base]

    def open_for(self, branch: str, base: str) -> PullRequest | None:
        """The open PR from ``owner:branch`` into ``base``, if any (GitHub allows only one)."""
        found = self._for_branch(branch, base, "open")
        return found[0] if found else None

    def closed_for(self, branch: str, base: str) -> list[PullRequest]:
        """The closed PRs from ``owner:branch`` into ``base``, merged or not (``merged_at``)."""
        return self._for_branch(branch, base, "closed")

    def open_with_prefix(self, prefix: str, base: str) -> list[PullRequest]:
        """Every open PR from this repository into ``base`` whose head starts with ``prefix``."""
        params: dict[str, str | int] = {"state": "open", "base": base}
        out = []
        for pr in self._list(params, f"{self.repository} pulls base={base}"):
            from_here = not pr.head_label or pr.head_label.startswith(f"{self.owner}:")
            if from_here and pr.base_ref == base and pr.head_ref.startswith(prefix):
                out.append(pr)
        return out

    def create(self, *, branch: str, base: str, title: str, body: str) -> PullRequest:
        data = self._json("POST", "/pulls",
                          {"title": title, "head": branch, "base": base, "body": body,
                           "maintainer_can_modify": True}, (201,))
        return PullRequest.from_json(data, where=f"{self.repository} new pull request")

    def update(self, number: int, *, title: str, body: str) -> PullRequest:
        data = self._json("PATCH", f"/pulls/{number}", {"title": title, "body": body}, (200,))
        return PullRequest.from_json(data, where=f"{self.repository} pull {number}")

    def close(self, number: int, *, body: str | None = None) -> None:
        """Close, and with ``body`` replace the body in the same request."""
        data = {"state": "closed"} if body is None else {"state": "closed", "body": body}
        self._json("PATCH", f"/pulls/{number}", data, (200,))

    def comment(self, number: int, body: str) -> None:
        self._json("POST", f"/issues/{number}/comments", {"body": body}, (201,))

    def comments(self, number: int) -> list[str]:
        path = f"/repos/{self.repository}/issues/{number}/comments"
        return [str(c.get("body") or "") for c in self.client.paginate(path)
                if isinstance(c, Mapping)]

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        if labels:
            self._json("POST", f"/issues/{number}/labels", {"labels": list(labels)}, (200,))

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        if reviewers:
            self._json("POST", f"/pulls/{number}/requested_reviewers",
                       {"reviewers": list(reviewers)}, (201,))
