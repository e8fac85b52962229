"""Review quarters as the marts label them (``2025Q3``): parsing, ordering and the quarter before."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridline.errors import GridlineError

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, label: str) -> Quarter:
        match = _LABEL.match(label.strip().upper())
        if not match:
            raise GridlineError(f"quarter must look like 2025Q3, not {label!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def chinese(self) -> str:
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return self.label


def span(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive, so gaps in a trend show as gaps."""
    quarters, current = [], last
    while current >= first:
        quarters.append(current)
        current = current.previous()
    return quarters[::-1]
