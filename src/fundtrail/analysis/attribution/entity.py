"""Who a cluster is: one row per (cluster, label), with where the knowledge came from.

Every attribution row names its ``heuristic``: ``tag`` (the workspace's tag store),
``indicator`` (shared intel the viewer may see), or a behaviour seen on chain
(``deposit_sweep``, ``hot_wallet``, ``deposit_address``). Behaviour is
evidence, not testimony, so its confidence is capped below any direct attribution
(``BEHAVIOUR_CONFIDENCE``), and the row carries the tx and address that show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

# categories whose clusters end a trace (custodial services with customers)
STOP_CATEGORIES = frozenset({"exchange", "service"})
DIRECT = ("tag", "indicator")
BEHAVIOUR = ("deposit_sweep", "hot_wallet", "deposit_address")
DEPOSIT_HEURISTICS = frozenset({"deposit_sweep", "deposit_address"})
BEHAVIOUR_CONFIDENCE = 60  # at most; a direct tag of a service is usually 80-100

ROWS = pa.schema(
    [
        ("cluster_id", pa.int64()),
        ("label", pa.string()),
        ("category", pa.string()),
        ("source", pa.string()),
        ("confidence", pa.int32()),
        ("heuristic", pa.string()),
        ("abuse", pa.string()),
        ("actor", pa.string()),
        ("n_tags", pa.int32()),
        ("definer", pa.bool_()),
        ("evidence_tx", pa.string()),  # behaviour: a tx that shows it
        ("evidence_address", pa.string()),  # behaviour: the service address it points to
        ("service_cluster", pa.int64()),  # behaviour: the service cluster it points to
    ]
)


@dataclass(frozen=True, slots=True)
class Entity:
    """The primary attribution of one cluster, with its competing labels."""

    cluster_id: int
    label: str
    category: str
    source: str
    confidence: int
    heuristic: str
    abuse: str | None = None
    actor: str | None = None
    n_tags: int = 0
    conflict: bool = False
    other_labels: tuple[str, ...] = field(default_factory=tuple)
    evidence_tx: str | None = None
    evidence_address: str | None = None
    service_cluster: int | None = None

    @property
    def is_service(self) -> bool:
        return self.category in STOP_CATEGORIES

    @property
    def is_deposit(self) -> bool:
        """A service's deposit cluster, recognised by its sweeps or forwards into it."""
        return self.heuristic in DEPOSIT_HEURISTICS

    def brief(self) -> dict[str, Any]:
        """What a trace endpoint or a node shows of its entity."""
        return {
            "label": self.label,
            "category": self.category,
            "heuristic": self.heuristic,
            "confidence": self.confidence,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "label": self.label,
            "category": self.category,
            "source": self.source,
            "confidence": self.confidence,
            "heuristic": self.heuristic,
            "abuse": self.abuse,
            "actor": self.actor,
            "n_tags": self.n_tags,
            "conflict": self.conflict,
            "other_labels": list(self.other_labels),
            "evidence": (
                {
                    "tx": self.evidence_tx,
                    "address": self.evidence_address,
                    "service_cluster": self.service_cluster,
                }
                if self.heuristic in BEHAVIOUR
                else None
            ),
        }


def empty_rows() -> pa.Table:
    return pa.Table.from_batches([], schema=ROWS)
