"""The neutral form of a shared indicator, between the store and the exchange formats.

The intel store turns rows into these; STIX, MISP, TagPack and CSV converters turn
these into their formats and back. Nothing here touches a database or the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fundtrail.model.indicators import Category, IndicatorType, normalize_indicator
from fundtrail.model.tlp import TLP


@dataclass(slots=True)
class IndicatorRecord:
    type: IndicatorType
    value: str  # normalised (normalize_indicator)
    category: Category
    tlp: TLP = TLP.AMBER
    chain: str | None = None  # BTC, ETH, BSC, TRX... for crypto-address and tx
    confidence: int = 50  # 0-100
    description: str = ""
    references: list[str] = field(default_factory=list)
    share_with: list[str] = field(default_factory=list)  # org names
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    labels: list[str] = field(default_factory=list)  # actor / entity names, free tags
    source: str = ""  # provenance: feed, file, tool that produced it
    org: str | None = None  # owning organisation (filled by the store)
    id: str | None = None  # store id (filled by the store)
    created: datetime | None = None
    modified: datetime | None = None

    @classmethod
    def build(
        cls,
        type: str,
        value: str,
        category: str,
        *,
        chain: str | None = None,
        tlp: str = "amber",
        **extra: object,
    ) -> IndicatorRecord:
        """Validate and normalise every field from outside input."""
        itype = IndicatorType(type)
        norm_chain = chain.upper() if chain else None
        return cls(
            type=itype,
            value=normalize_indicator(itype, value, norm_chain),
            category=Category.parse(category),
            tlp=TLP.parse(tlp),
            chain=norm_chain,
            **extra,  # type: ignore[arg-type]
        )
