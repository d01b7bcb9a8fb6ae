"""The campaign's indicators as a STIX 2.1 bundle, ready to share on the hub."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fundtrail.cases.freeze import FreezePlan
from fundtrail.cases.views import CampaignView
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.tlp import TLP


def campaign_records(
    view: CampaignView,
    *,
    tlp: TLP,
    category: str = "scam",
    reference: str = "",
    freeze: FreezePlan | None = None,
) -> list[IndicatorRecord]:
    """Collection addresses (victims paid them) and cash-out deposit addresses.

    Only the deposits the freeze plan requests: a sliver of haircut taint, or an
    exchange's own hot wallet, must not be shared as a scam indicator.
    """
    records: list[IndicatorRecord] = []
    by_addr: dict[tuple[str, str], int] = {}
    for c in view.complaints:
        by_addr[(c.chain, c.to_address)] = by_addr.get((c.chain, c.to_address), 0) + 1
    for (chain, addr), n in sorted(by_addr.items()):
        records.append(
            IndicatorRecord.build(
                "crypto-address",
                addr,
                category,
                chain=chain,
                tlp=tlp.value,
                confidence=90,
                description=f"collection address of scam campaign {view.id}: {n} victim payment(s)",
                labels=[view.id],
                source=f"fundtrail case {reference}".strip(),
            )
        )
    seen: set[tuple[str, str]] = set(by_addr)  # one indicator per address
    deposits = [d for r in (freeze.requests if freeze else ()) for d in r.deposits]
    for co in deposits:
        dep = co.deposit_address
        if (co.chain, dep) in seen:
            continue
        seen.add((co.chain, dep))
        records.append(
            IndicatorRecord.build(
                "crypto-address",
                dep,
                category,
                chain=co.chain,
                tlp=tlp.value,
                confidence=70,
                description=(
                    f"{co.exchange} deposit address that received traced proceeds of "
                    f"scam campaign {view.id}"
                ),
                labels=[view.id, co.exchange],
                source=f"fundtrail case {reference}".strip(),
            )
        )
    return records


def campaign_bundle(
    view: CampaignView,
    *,
    tlp: TLP,
    now: datetime,
    reference: str = "",
    freeze: FreezePlan | None = None,
) -> dict[str, Any]:
    from fundtrail.intel.stix import to_stix_bundle  # the standards part's exporter

    return to_stix_bundle(
        campaign_records(view, tlp=tlp, reference=reference, freeze=freeze), now=now
    )
