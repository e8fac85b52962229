"""The ticket priority: a sum of four visible parts, so staff can see why a ticket ranks where it does.

The weights live here and the report prints the formula from them, so the text and the ranking cannot
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    english: str
    weight: int
    unit: str


# Size counts every case; a quarter of persistence weighs as much as five more cases, because a problem
# that survives a review has already defeated the one-case-at-a-time fix; escalated and dissatisfied
# cases count extra because the resident had to push or was let down.
PARTS: tuple[Part, ...] = (
    Part("size", "规模", "size", 1, "件诉求 (cases this quarter)"),
    Part("persistence", "持续", "persistence", 5, "个此前连续季度 (prior quarters in a row)"),
    Part("escalation", "升级", "escalation", 3, "件重办或吹哨 (reopened or whistle-blown)"),
    Part("dissatisfaction", "不满意", "dissatisfaction", 2, "件不满意 (cases rated 不满意)"),
)


@dataclass(frozen=True)
class Priority:
    counts: dict[str, int]

    @property
    def points(self) -> dict[str, int]:
        return {part.key: part.weight * self.counts.get(part.key, 0) for part in PARTS}

    @property
    def total(self) -> int:
        return sum(self.points.values())


def formula() -> str:
    """The formula in words, e.g. ``优先级 = 1 × 规模 + 5 × 持续 + ...``."""
    return "优先级 = " + " + ".join(f"{part.weight} × {part.label}" for part in PARTS)
