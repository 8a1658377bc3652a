"""The result of `validate`: a list of named checks, each holding or not, with a one-line detail."""

from __future__ import annotations

from dataclasses import dataclass, field

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"


@dataclass(frozen=True)
class Check:
    """One check: `name` (e.g. `orders.rows`), whether it holds, and what was found.

    `skipped` marks a check that could not apply (a referenced table not validated, a format without codecs);
    a skipped check does not fail the report.
    """

    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        """"ok", "FAILED" or "skipped"."""
        return SKIPPED if self.skipped else OK if self.ok else FAILED


@dataclass
class ValidationReport:
    """Every check of one validation, in the order they ran.

    Attributes:
        dataset: the dataset's name.
        format: the output format validated.
        location: the output location.
        checks: the checks, in the order they ran.
    """

    dataset: str
    format: str
    location: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check failed (skipped checks do not fail)."""
        return all(check.ok or check.skipped for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not (check.ok or check.skipped)]

    def add(self, name: str, ok: bool, detail: str = "", *, skipped: bool = False) -> Check:
        """Record a check and return it."""
        check = Check(name=name, ok=ok, detail=detail, skipped=skipped)
        self.checks.append(check)
        return check

    def skip(self, name: str, detail: str) -> Check:
        """Record a check that does not apply here."""
        return self.add(name, True, detail, skipped=True)

    def table(self, width: int = 100) -> str:
        """The checks as a text table (name, status, detail), one line each, then a verdict line."""
        name_width = min(max((len(check.name) for check in self.checks), default=5), 48)
        lines = [f"{'check':<{name_width}}  {'status':<7}  detail"]
        for check in self.checks:
            detail = check.detail if len(check.detail) <= width else check.detail[: width - 3] + "..."
            lines.append(f"{check.name:<{name_width}}  {check.status:<7}  {detail}")
        failed = self.failures
        if failed:
            names = ", ".join(check.name for check in failed[:5]) + (", ..." if len(failed) > 5 else "")
            lines.append(f"{len(failed)} of {len(self.checks)} checks failed: {names}")
        else:
            lines.append(f"all {len(self.checks)} checks hold ({self.dataset}, {self.format}, {self.location})")
        return "\n".join(lines)
