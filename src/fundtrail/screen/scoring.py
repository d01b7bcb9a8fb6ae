"""From reasons to a verdict: category weights, direct vs indirect, per-org rules.

A direct hit scores the category's weight. Indirect exposure scores the weight scaled
by the share of received value that came from the category, discounted per hop. The
risk level is read off thresholds that an organisation may override per category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fundtrail.errors import InvalidInputError
from fundtrail.model.indicators import Category

# weight of a direct hit per category (0-100)
WEIGHTS: dict[str, int] = {
    Category.SANCTIONS: 100,
    Category.TERRORISM_FINANCING: 100,
    Category.CSAM: 100,
    Category.RANSOMWARE: 90,
    Category.THEFT: 85,
    Category.DARKNET_MARKET: 80,
    Category.SCAM: 80,
    Category.INVESTMENT_SCAM: 80,
    Category.PIG_BUTCHERING: 80,
    Category.PHISHING: 75,
    Category.IMPERSONATION: 75,
    Category.SEXTORTION: 75,
    Category.MIXER: 65,
    Category.GAMBLING: 30,
    Category.OTHER: 20,
    Category.EXCHANGE: 0,
    Category.SERVICE: 0,
}

LEVELS = ("none", "low", "medium", "high", "severe")
BENIGN = frozenset({Category.EXCHANGE.value, Category.SERVICE.value})  # never risk by itself
DEFAULT_THRESHOLDS = {"severe": 90, "high": 70, "medium": 40, "low": 1}
HOP_DISCOUNT = 0.8  # each hop away keeps 80% of the weight


@dataclass(slots=True)
class Rules:
    """An organisation's screening rules (stored in the intel store as JSON)."""

    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    ignore_categories: set[str] = field(default_factory=set)
    category_weights: dict[str, int] = field(default_factory=dict)
    min_indirect_share: float = 0.001  # below 0.1% of received value, indirect exposure is noise

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Rules:
        data = data or {}
        try:
            return cls._parse(data)
        except (TypeError, ValueError, AttributeError) as exc:  # a wrong shape: say so
            raise InvalidInputError(
                "rules: thresholds and category_weights are objects of integers, "
                f"ignore_categories a list of categories, min_indirect_share a number ({exc})",
                field="rules",
            ) from None

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> Rules:
        rules = cls()
        for level, value in dict(data.get("thresholds", {})).items():
            if level in DEFAULT_THRESHOLDS:
                rules.thresholds[level] = int(value)
        rules.ignore_categories = {
            Category.parse(c).value for c in data.get("ignore_categories", [])
        }
        rules.category_weights = {
            Category.parse(k).value: max(0, min(100, int(v)))
            for k, v in dict(data.get("category_weights", {})).items()
        }
        if "min_indirect_share" in data:
            rules.min_indirect_share = float(data["min_indirect_share"])
        return rules

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholds": self.thresholds,
            "ignore_categories": sorted(self.ignore_categories),
            "category_weights": self.category_weights,
            "min_indirect_share": self.min_indirect_share,
        }

    def weight(self, category: str) -> int:
        if category in self.category_weights:
            return self.category_weights[category]
        return WEIGHTS.get(category, WEIGHTS[Category.OTHER])

    def level(self, score: int) -> str:
        for name in ("severe", "high", "medium", "low"):
            if score >= self.thresholds[name]:
                return name
        return "none"


def reason_score(rules: Rules, category: str, kind: str, share: float, hops: int) -> int:
    """Score of one reason, 0-100."""
    weight = rules.weight(category)
    if kind in ("indicator", "tag", "entity"):
        return weight
    if kind == "cluster":
        return round(weight * 0.95)
    # indirect: a 10% share of a sanctioned source is already serious
    factor = min(1.0, share * 4) * (HOP_DISCOUNT ** max(0, hops - 1))
    return round(weight * factor)
