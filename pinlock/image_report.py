"""``verify --image``'s report: per platform of a built image, what it holds against the lock."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pinlock.model import Finding
from pinlock.report import findings_text


@dataclass(frozen=True)
class PlatformResult:
    platform: str
    digest: str  # the platform's manifest digest (a docker-archive: its config digest)
    packages: int  # installed packages the image lists
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ImageReport:
    image: str
    inputs: tuple[str, ...]
    platforms: tuple[PlatformResult, ...] = ()
    findings: tuple[Finding, ...] = ()  # about the image as a whole (a platform it lacks)

    def all_findings(self) -> list[tuple[str | None, Finding]]:
        out: list[tuple[str | None, Finding]] = [(None, f) for f in self.findings]
        out += [(p.platform, f) for p in self.platforms for f in p.findings]
        return out

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for _, f in self.all_findings())


# ------------------------------------------------------------------ rendering


def report_text(report: ImageReport, *, verbose: bool = False) -> str:
    lines = [f"image {report.image} against {', '.join(report.inputs)}:"]
    for p in report.platforms:
        lines.append(f"  {p.platform} {p.digest}: {p.packages} package(s) installed")
    findings = [f for _, f in report.all_findings()]
    if not findings:
        lines.append("ok: the image holds exactly the packages the lock says")
    else:
        lines.append(findings_text(findings, verbose=verbose))
    return "\n".join(lines)


def report_json(report: ImageReport) -> str:
    return json.dumps({
        "ok": report.ok,
        "image": report.image,
        "inputs": list(report.inputs),
        "platforms": {p.platform: {"digest": p.digest, "packages": p.packages}
                      for p in report.platforms},
        "findings": [{**f.to_json(), "platform": platform}
                     for platform, f in report.all_findings()],
    }, indent=2, sort_keys=True)
