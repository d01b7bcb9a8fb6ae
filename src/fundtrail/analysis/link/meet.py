"""What a meeting is, the rules that make one, and the one entry point per chain.

A *group* is a set of complaints already known to belong together (the caller's
union-find: at least the payments to one address). :func:`meetings` walks forward
from every group's payments at once and returns where groups met, in chain order.

The walk follows a gang's coins, not only the reported part of them: the addresses
the victims paid are the gang's (the complaints say so), and so is whatever a tx the
gang makes pays to a wallet that is not someone else's. The rules:

1. **Services and CoinJoins end the walk.** Coins that reach an attributed service
   (exchange, payment service) are cashed out there: at a customer deposit address
   that is a *place* (rule 4), at the service's own wallet nothing. A CoinJoin's
   outputs are no one's in particular: coins entering one are not followed (rule 7
   weighs what came out of it).
2. **A gang's tx** spends a victim's payment (the spender holds the address the
   victim paid), or spends mostly the gang's coins, by value and by count of inputs.
   Any other tx is a *crowd*: someone else's (an exchange sweeping its customers'
   deposits, a service consolidating its takings); the walk ends there.
3. **A crowd address** is one that received less than a tenth of its lifetime inflow
   from the gangs (a hot wallet, a merchant, a mixer's reserve; a gang's own deposit
   address also takes its laundered money, which no walk follows, hence a tenth and
   not a half). Coins paid to it are someone else's; the walk ends there.
4. **Coins spent together meet** (``spent-together``) in a gang's tx that pays at
   least one address that is neither a service nor a crowd: the gang's own wallet.
   A gang's tx paying only services and crowds joins nothing by itself.
5. **Coins that rest at one place meet there**: the same own address reached twice
   (``same-downstream-wallet``) or the same customer deposit address at a service
   (``same-cashout-deposit``). A deposit address is a customer's, and a customer (a mule
   who also trades there) may take two gangs' coins: on every chain the deposits decide
   together (:mod:`~fundtrail.analysis.link.deposits`), and one that two campaigns
   reached without joining is a conflict (:class:`Clash`), shown, linking nobody.

6. **Through a mixer** (``through-mixer``, :mod:`~fundtrail.analysis.link.mixer`): coins
   paid whole into a service's single-use deposit address (not an exchange's) join the
   campaign that the service's later payouts reach, when the payouts that add up to
   what went in, less a fee, reach that campaign and no other.
7. **Across a CoinJoin** (``through-coinjoin``, :mod:`~fundtrail.analysis.link.coinjoin`):
   the groups whose coins entered a round join the campaign that the round's outputs
   reach, when those outputs are worth what they put in, less at most the round's fee,
   and that campaign's own coins did not enter the round (its participants are
   strangers: sharing a round joins nobody).

Rule 2 needs a gang's coins to be the greater part of what it spends together (or a
victim's payment among them), so with few of a gang's victims reporting, its campaign
may stay split; it never merges strangers met in a crowd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SPENT_TOGETHER = "spent-together"
SAME_DOWNSTREAM = "same-downstream-wallet"
SAME_CASHOUT = "same-cashout-deposit"
MAJORITY = 0.5  # a gang's share of what a tx spends (by value and count) for it to be its tx
PLACE_SHARE = 0.1  # ... and of all an address ever received, for it to be no crowd

# reason codes inside the kernels
REASON_NAMES = (SPENT_TOGETHER, SAME_DOWNSTREAM, SAME_CASHOUT)
R_SPENT, R_DOWNSTREAM, R_CASHOUT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Payment:
    """A victim's payment as the chain holds it: the start of the walk for its group."""

    group: int
    txid: str
    index: int | None  # output index (UTXO) or log index (account token); None: native
    amount: int  # base units; at most the output's value counts


@dataclass(frozen=True, slots=True)
class Meeting:
    """Groups ``a`` and ``b`` met: ``reason`` at ``where`` (a txid or an address)."""

    a: int
    b: int
    reason: str
    where: str


@dataclass(frozen=True, slots=True)
class Clash:
    """A customer deposit address (``where``) the money of several groups reached that did
    not join there (:mod:`~fundtrail.analysis.link.deposits`): one group id per side."""

    where: str
    groups: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Found:
    """What the walk found: the meetings (in the order found) and the deposit conflicts."""

    meetings: list[Meeting]
    conflicts: list[Clash]


def meetings(
    chain: str, payments: Sequence[Payment], n_groups: int, home: Path | None = None
) -> Found:
    """Where the groups' money met on ``chain``, and where it met without joining."""
    from fundtrail.analysis.attribution import attribution
    from fundtrail.chains.ledger import ledger_for
    from fundtrail.chainstore.store import ChainStore

    store = ChainStore(chain, home)
    if not payments or store.is_empty():
        return Found([], [])
    att = attribution(store, home=home)  # who the services are, read now
    if ledger_for(store).shape == "utxo":
        from fundtrail.analysis.link.utxo import utxo_meetings

        return utxo_meetings(store, payments, n_groups, att)
    from fundtrail.analysis.link.account import account_meetings

    return account_meetings(store, payments, n_groups, att)
