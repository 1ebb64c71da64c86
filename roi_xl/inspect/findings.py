"""What the reader and the auditor report: one finding per problem, in plain words."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, which rule it breaks, what was found and what was expected."""

    severity: str
    sheet: str | None
    cell: str | None
    rule: str
    found: str
    expected: str
    message: str

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "workbook"


def error(
    sheet: str | None, cell: str | None, rule: str, found: str, expected: str, message: str
) -> Finding:
    return Finding(ERROR, sheet, cell, rule, found, expected, message)


def warning(
    sheet: str | None, cell: str | None, rule: str, found: str, expected: str, message: str
) -> Finding:
    return Finding(WARNING, sheet, cell, rule, found, expected, message)


def shown(value: object) -> str:
    """A cell value as a person would read it in a message."""
    if value is None or value == "":
        return "an empty cell"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:,.10g}"
    if isinstance(value, str) and value.startswith("="):
        return value
    return repr(value) if isinstance(value, str) else str(value)
