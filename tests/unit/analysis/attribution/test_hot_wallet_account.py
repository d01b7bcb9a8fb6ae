"""hot_wallet on a hand-written account chain: an untagged exchange is recognised by what
its hot wallet does, a gang's consolidation address fed the same way is not.

Both H (an exchange's hot wallet) and G (a ransomware gang's consolidation) receive the
forwards of five addresses that pass on all they get (deposit addresses D1-D5; ransom
addresses R1-R5) and pay twenty others. None of H's payees ever deposits back (no round
trip: a small exchange over a short stretch of chain), but six of them (W1-W6) are paid
by two other people as well: customers with lives of their own. G's twenty payees are
fresh hop addresses fed by G and the gang's gas wallet K only.
"""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.analysis.trace.testing import AccountChain
from fundtrail.chainstore.store import ChainStore

ETH = 10**18


def _world(home: Path, lives_of_their_own: int = 6, batched: bool = False) -> AccountChain:
    c = AccountChain()
    for k in range(1, 6):  # customers deposit, the deposit addresses forward all to H
        c.transfer(f"dep{k}", f"C{k}", f"D{k}", 2 * ETH)
        c.transfer(f"sweep{k}", f"D{k}", "H", 2 * ETH)
        c.transfer(f"ransom{k}", f"V{k}", f"R{k}", 3 * ETH)  # victims pay, the gang forwards
        c.transfer(f"fwd{k}", f"R{k}", "G", 3 * ETH)
    c.transfer("float", "COLD", "H", 100 * ETH)
    if batched:  # one call to a disperse contract pays all twenty customers
        c.transfer("batch", "H", "DISPERSE", 20 * ETH // 4)
    for k in range(1, 21):  # H pays customers' withdrawals, G its own fresh hop addresses
        if batched:
            c.transfer("batch", "DISPERSE", f"W{k}", ETH // 4, kind="internal")
        else:
            c.transfer(f"wd{k}", "H", f"W{k}", ETH // 4)
        c.transfer(f"hop{k}", "G", f"P{k}", ETH // 2)
        c.transfer(f"gas{k}", "K", f"P{k}", ETH // 1000)
    for k in range(1, lives_of_their_own + 1):
        c.transfer(f"a{k}", "O1", f"W{k}", ETH // 10)
        c.transfer(f"b{k}", "O2", f"W{k}", ETH // 10)
    c.commit(home)
    run_clustering("ETH", home=home)
    return c


def _named(c: AccountChain, home: Path) -> dict[str, tuple[str, str]]:
    store = ChainStore("ETH", home)
    att = attribution(store, home=home)
    cl = cluster_of(store)
    out = {}
    for label, aid in c.labels.ids.items():
        e = att.entity(int(cl[aid]))
        if e is not None:
            out[label] = (e.heuristic, e.label)
    return out


def test_a_hot_wallet_whose_payees_have_lives_of_their_own_is_an_exchange(home: Path) -> None:
    c = _world(home)
    named = _named(c, home)
    hot = named.get("H")
    assert hot is not None and hot[0] == "hot_wallet"
    assert {k: v for k, v in named.items() if k != "H"} == {
        f"D{k}": ("deposit_address", hot[1]) for k in range(1, 6)
    }  # the gang's consolidation G, its ransom and hop addresses: nobody's


def test_without_either_sign_of_customers_nothing_is_recognised(home: Path) -> None:
    """Four of twenty payees paid by others (under a quarter), no round trip: H is not
    shown to pay customers, so it is left unnamed (as G is)."""
    c = _world(home, lives_of_their_own=4)
    assert _named(c, home) == {}


def test_withdrawals_batched_through_a_contract_are_payments_of_the_hot_wallet(
    home: Path,
) -> None:
    """H pays its twenty customers in one tx through a disperse contract: it paid only the
    contract directly, but each internal transfer of its call is a withdrawal of its own."""
    c = _world(home, batched=True)
    named = _named(c, home)
    assert named.get("H", ("", ""))[0] == "hot_wallet"
    assert sorted(k for k, v in named.items() if v[0] == "deposit_address") == [
        f"D{k}" for k in range(1, 6)
    ]
