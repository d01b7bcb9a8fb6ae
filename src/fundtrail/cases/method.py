"""What the case file says about its own method: taint rules, heuristics, limitations.

A reader in court or at an exchange's compliance desk must be able to tell an
attribution from a fact. These texts say what each taint method means (a haircut share
is a part of the traced value, not the victims' own coins), which clustering heuristics
joined addresses and how accurate they measured, and what the analysis cannot see. The
accuracy figures are those of ``bench/cluster_accuracy.py`` (simulator ground truth,
``mixed`` scenario, 20,000 transactions) as published in the README.
"""

from __future__ import annotations

TAINT_METHODS: dict[str, str] = {
    "haircut": (
        "Haircut: each transaction passes the traced money on in proportion to the value of "
        "its outputs. An amount shown at an address is the share of the victims' value "
        "attributed to it; where traced money was mixed with other funds (an exchange's "
        "hot wallet, a CoinJoin) the share is an attribution of value, not a claim that "
        "these are the victims' own coins, and the customer holding it may be innocent."
    ),
    "poison": (
        "Poison: every output a traced coin touches is counted in full. Amounts can exceed "
        "what the victims lost; poison shows where the money may have gone, not how much."
    ),
    "fifo": (
        "FIFO: an address spends its coins in the order they arrived (first in, first out). "
        "The traced amount follows the ordering of coins, which is a convention, not a fact "
        "the chain records."
    ),
}

HEURISTICS: tuple[tuple[str, str, str], ...] = (
    (
        "multi_input",
        "addresses spent together as inputs of one transaction share an owner "
        "(CoinJoin transactions are recognised and not used)",
        "precision 1.0000, recall 0.2541",
    ),
    (
        "change_address",
        "the one fresh output of a payment that matches the payer's script type is change",
        "precision 0.9948, recall 0.2580 (with multi_input)",
    ),
    (
        "deposit_address",
        "account chains: an address that forwards what it receives to a service's wallet "
        "is that service's customer deposit address",
        "not measured on ground truth yet",
    ),
)
ACCURACY_SOURCE = "bench/cluster_accuracy.py on simulator ground truth (mixed, 20,000 txs)"

LIMITATIONS: tuple[str, ...] = (
    "Attribution (which exchange or service a cluster is) comes from shared intelligence and "
    "tags read at the time of this report; later intelligence can change it.",
    "Clustering joins addresses by heuristics with the measured accuracy above; a wrong join "
    "can put an innocent address in a cluster.",
    "Traces stop at the first address of an attributed service: what the service did "
    "afterwards (internal transfers, withdrawals) is not visible on chain and must come "
    "from the service's own records.",
    "Only the chains and blocks listed under data provenance were analysed; funds that "
    "left through a bridge or another chain are not followed.",
    "Amounts are exact integers in base units as recorded on chain; fiat values, where "
    "shown, are the named source's price at the transfer's time, not realised values.",
)


def taint_text(method: str) -> str:
    return TAINT_METHODS.get(method, f"{method}: see the trace guide.")
