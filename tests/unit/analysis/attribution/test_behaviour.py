"""Services recognised by what they do: hot wallets fed by sweeps, their deposit clusters."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.attribution import attribution, lookup
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.chainstore.store import ChainStore


def sweeping_hot_wallet(c: UtxoChain) -> None:
    """HW, the exchange's hot wallet: it pays a customer and receives five sweeps of
    other customers' deposits O0..O4 (a service that sweeps habitually)."""
    c.tx("x0", [], [("HW", 100)])
    c.tx("xw", [("x0", 0)], [("CUST", 90)])  # the hot wallet pays outside
    for k in range(5):
        c.tx(f"o{k}", [], [(f"O{k}", 500)])
        c.tx(f"sw-o{k}", [(f"o{k}", 0)], [("HW", 490)])


def tagged_deposit(c: UtxoChain, home: Path, address: str) -> tuple[str, str] | None:
    """HW tagged as the exchange Bitstamp and the chain committed: (label, heuristic) of
    the entity ``address``'s cluster is read as, None when it is nobody's."""
    c.cluster("ex", ["HW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    e = attribution(ChainStore("btc", home), home=home).entity(c.labels.ids[address])
    return None if e is None else (e.label, e.heuristic)


def untagged_exchange(c: UtxoChain, *, customers: int = 20) -> None:
    """No tag anywhere: deposits K1..K5 swept into HW, HW pays ``customers`` withdrawals."""
    c.tx("hw0", [], [("HW", 10**6)])
    for k in range(1, 6):
        c.tx(f"k{k}", [], [(f"K{k}", 500)])
        c.tx(f"sweep-k{k}", [(f"k{k}", 0)], [("HW", 490)])
    prev = ("hw0", 0)
    for u in range(customers):  # one withdrawal per tx, change back to HW
        c.tx(f"w{u}", [prev], [(f"U{u}", 1000), ("HW", 10**6 - 1000 * (u + 1) - 10 * (u + 1))])
        prev = (f"w{u}", 1)


def test_an_untagged_hot_wallet_is_an_unidentified_service(home: Path) -> None:
    c = UtxoChain()
    untagged_exchange(c)
    c.tx("c0", [], [("S", 5000)])
    c.tx("pay", [("c0", 0)], [("D", 3000), ("S2", 1900)])  # the gang pays a deposit address
    c.tx("sweep-d", [("pay", 0)], [("HW", 2990)])  # ... which the exchange sweeps
    c.cluster("hw", ["HW"])
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    hot = att.entity(c.labels.cluster_id("hw"))
    assert hot is not None and (hot.heuristic, hot.category) == ("hot_wallet", "service")
    [cash] = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"]), home=home).cash_outs()
    assert (cash.deposit_address, cash.amount) == (c.address("D"), 3000)
    assert cash.entity is not None and cash.entity["heuristic"] == "deposit_sweep"
    assert cash.entity["label"] == hot.label  # "unidentified service (cluster N)"


def test_few_payees_make_no_hot_wallet(home: Path) -> None:
    c = UtxoChain()
    untagged_exchange(c, customers=5)
    c.cluster("hw", ["HW"])
    c.commit(home)
    assert attribution(ChainStore("btc", home), home=home).entity(c.labels.cluster_id("hw")) is None


def test_a_gang_consolidating_and_peeling_into_exchanges_is_no_hot_wallet(home: Path) -> None:
    """G consolidates its collection addresses (sweep-like) five times and pays 20 deposit
    addresses of a tagged exchange that sweeps them: it deposits at a service, it is none."""
    c = UtxoChain()
    c.tx("x0", [], [("EXHW", 100)])
    c.tx("xw", [("x0", 0)], [("CUST", 90)])  # the exchange's hot wallet pays outside
    for k in range(5):
        c.tx(f"v{k}", [], [(f"C{k}", 10_000)])
        c.tx(f"cons{k}", [(f"v{k}", 0)], [("G", 9_990)])
    c.tx("g0", [], [("G", 100_000)])
    prev = ("g0", 0)
    rest = 100_000
    for d in range(20):
        rest -= 1010
        c.tx(f"peel{d}", [prev], [(f"DEP{d}", 1000), ("G", rest)])
        c.tx(f"sw{d}", [(f"peel{d}", 0)], [("EXHW", 990)])
        prev = (f"peel{d}", 1)
    c.cluster("gang", ["G"])
    c.cluster("ex", ["EXHW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    assert att.entity(c.labels.cluster_id("gang")) is None
    deposit = att.entity(c.labels.ids["DEP3"])
    assert deposit is not None and (deposit.label, deposit.heuristic) == (
        "Bitstamp",
        "deposit_sweep",
    )


def two_hot_addresses(c: UtxoChain, *, customers: int = 20) -> None:
    """An untagged exchange with hot addresses HA and HB it never spends together: each
    withdrawal's change goes to the other one (most of the value); deposits K1..K5 are
    each swept twice, once into HA and once into HB."""
    for k in range(1, 6):
        for side in ("a", "b"):
            c.tx(f"k{k}{side}", [], [(f"K{k}", 500)])
            c.tx(f"sweep-k{k}{side}", [(f"k{k}{side}", 0)], [(f"H{side.upper()}", 490)])
    c.tx("h0", [], [("HA", 10**6)])
    prev, rest = ("h0", 0), 10**6
    for u in range(2 * customers):  # HA pays with change to HB, HB with change to HA
        rest -= 1010
        c.tx(f"w{u}", [prev], [(f"U{u}", 1000), ("HB" if u % 2 == 0 else "HA", rest)])
        prev = (f"w{u}", 1)


def test_hot_addresses_paying_each_other_are_hot_wallets_and_their_deposits_deposits(
    home: Path,
) -> None:
    """Change to a sibling hot address is no payment to a service (the share of customers
    is counted without it), and a deposit cluster swept into both is a deposit cluster."""
    c = UtxoChain()
    two_hot_addresses(c)
    c.tx("c0", [], [("S", 5000)])
    c.tx("pay", [("c0", 0)], [("D", 3000), ("S2", 1900)])  # the gang pays a deposit address
    c.tx("sweep-d", [("pay", 0)], [("HB", 2990)])
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    for hot in ("HA", "HB"):
        entity = att.entity(c.labels.ids[hot])
        assert entity is not None and entity.heuristic == "hot_wallet"
    deposit = att.entity(c.labels.ids["K3"])  # swept into HA once and into HB once
    assert deposit is not None and deposit.heuristic == "deposit_sweep"
    [cash] = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"]), home=home).cash_outs()
    assert (cash.deposit_address, cash.amount) == (c.address("D"), 3000)


def test_a_deposit_cluster_swept_into_many_hot_addresses_is_no_hot_wallet(home: Path) -> None:
    """Customers empty their wallets into deposit addresses K0..K5 (one cluster, DEP: an
    exchange reusing deposit addresses), and each deposit is swept into another of 22 hot
    addresses H0..H21 that each pay a withdrawal. DEP receives sweep-like payments and
    pays 22 clusters, but every spend of it is a sweep: a deposit cluster, no hot wallet.
    Taken for one, it made the gang wallet G that emptied itself into K0 "its deposit"."""
    c = UtxoChain()
    c.tx("g0", [], [("G", 50_000)])
    c.tx("dep0", [("g0", 0)], [("K0", 49_990)])  # the gang empties its wallet into K0
    for h in range(22):
        if h:  # a customer empties a wallet into a deposit address
            c.tx(f"fund{h}", [], [(f"C{h}", 10_000)])
            c.tx(f"dep{h}", [(f"fund{h}", 0)], [(f"K{h % 6}", 9_990)])
        c.tx(f"sw{h}", [(f"dep{h}", 0)], [(f"H{h}", 9_900)])  # swept into a hot address
        c.tx(f"wd{h}", [(f"sw{h}", 0)], [(f"U{h}", 5_000), (f"H{h}", 4_800)])
    c.cluster("dep", [f"K{k}" for k in range(6)])
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    dep = att.entity(c.labels.cluster_id("dep"))
    assert dep is None or dep.heuristic != "hot_wallet"
    gang = att.entity(c.labels.ids["G"])
    assert gang is None or gang.heuristic != "deposit_sweep"


def test_a_deposit_swept_now_and_then_into_a_fresh_hot_address_is_still_a_deposit(
    home: Path,
) -> None:
    """K is swept three times into the tagged hot wallet HW and once into HX, a fresh hot
    address of the same exchange not recognised yet (one sweep, one withdrawal): every
    spend of K is a sweep, most of them into a service, so K is HW's deposit cluster."""
    c = UtxoChain()
    sweeping_hot_wallet(c)
    for k in range(4):
        c.tx(f"d{k}", [], [("K", 1000)])
        c.tx(f"sw-k{k}", [(f"d{k}", 0)], [("HX" if k == 2 else "HW", 990)])
    c.tx("hx-w", [("sw-k2", 0)], [("CUST2", 500), ("HX", 480)])
    assert tagged_deposit(c, home, "K") == ("Bitstamp", "deposit_sweep")


def test_a_deposit_also_swept_into_fresh_unspent_hot_addresses_is_still_a_deposit(
    home: Path,
) -> None:
    """K is swept four times into the tagged hot wallet HW and twice into fresh hot
    addresses F0, F1 that have not paid anyone yet (an exchange rotating its hot
    addresses): those two are no sweeps into a known service, but they move K's coins
    whole, so every spend of K still forwards to the exchange and K is its deposit."""
    c = UtxoChain()
    sweeping_hot_wallet(c)
    for k in range(6):
        c.tx(f"d{k}", [], [("K", 1000)])
        c.tx(f"sw-k{k}", [(f"d{k}", 0)], [(f"F{k - 4}" if k >= 4 else "HW", 990)])
    assert tagged_deposit(c, home, "K") == ("Bitstamp", "deposit_sweep")


def test_a_wallet_that_also_pays_someone_is_no_deposit(home: Path) -> None:
    """K is swept into the tagged hot wallet five times but once pays a shop and keeps
    change; both spend on later, as people do: a deposit cluster never pays someone and
    keeps change, so K stays unattributed. (A split sweep is told from it by the cold
    half never paying anyone: a payment whose two halves both rest unspent looks alike.)"""
    c = UtxoChain()
    sweeping_hot_wallet(c)
    for k in range(6):
        c.tx(f"d{k}", [], [("K", 1000)])
    for k in range(5):
        c.tx(f"sw-k{k}", [(f"d{k}", 0)], [("HW", 990)])
    c.tx("pay-k5", [("d5", 0)], [("SHOP", 600), ("CHANGE", 390)])
    c.tx("spend-change", [("pay-k5", 1)], [("FRIEND", 380)])
    c.tx("shop-pays", [("pay-k5", 0)], [("SUPPLIER", 590)])
    c.cluster("ex", ["HW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    assert attribution(ChainStore("btc", home), home=home).entity(c.labels.ids["K"]) is None


def test_a_sweep_split_between_hot_wallet_and_cold_storage_keeps_a_deposit(
    home: Path,
) -> None:
    """K is swept five times into the tagged hot wallet HW and once split between HW and
    COLD, cold storage that never pays anyone: the coins still leave K whole for the
    exchange, so K is its deposit cluster."""
    c = UtxoChain()
    sweeping_hot_wallet(c)
    for k in range(6):
        c.tx(f"d{k}", [], [("K", 1000)])
    for k in range(5):
        c.tx(f"sw-k{k}", [(f"d{k}", 0)], [("HW", 990)])
    c.tx("split-k5", [("d5", 0)], [("HW", 400), ("COLD", 590)])
    assert tagged_deposit(c, home, "K") == ("Bitstamp", "deposit_sweep")


def rotating_hot_wallet(c: UtxoChain, *, links: int = 8) -> None:
    """An untagged exchange that never spends two hot addresses together: H0 pays three
    customers and sends the change to H1, H1 to H2, ... Deposits K0..K7 are swept one
    into each Hi. No Hi alone receives five sweeps or pays twenty customers."""
    c.tx("h0", [], [("H0", 10**7)])
    prev, left = ("h0", 0), 10**7
    for i in range(links):
        c.tx(f"k{i}", [], [(f"K{i}", 5_000)])
        c.tx(f"sweep-k{i}", [(f"k{i}", 0)], [(f"H{i}", 4_990)])
        left -= 3_000 + 10
        pays = [(f"U{i}-{j}", 1_000) for j in range(3)]
        c.tx(f"w{i}", [prev], [*pays, (f"H{i + 1}", left)])
        prev = (f"w{i}", 3)


def test_hot_addresses_joined_by_their_change_are_one_hot_wallet(home: Path) -> None:
    c = UtxoChain()
    rotating_hot_wallet(c)
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    hot = att.entity(c.labels.ids["H3"])
    assert hot is not None and (hot.heuristic, hot.category) == ("hot_wallet", "service")
    assert att.entity(c.labels.ids["H5"]).label == hot.label  # one wallet, one name
    deposit = att.entity(c.labels.ids["K2"])
    assert deposit is not None and deposit.heuristic == "deposit_sweep"
    assert deposit.label == hot.label


def test_a_fan_out_chain_paying_exchange_deposits_is_no_hot_wallet(home: Path) -> None:
    """A gang pays three deposit addresses of a tagged exchange per tx and moves its
    change on, eight times: a chain of batches like a rotating hot wallet, but it pays
    services' deposits, not customers."""
    c = UtxoChain()
    c.tx("x0", [], [("EXHW", 100)])
    c.tx("xw", [("x0", 0)], [("CUST", 90)])  # the exchange's hot wallet pays outside
    c.tx("g0", [], [("G0", 10**7)])
    prev, left = ("g0", 0), 10**7
    for i in range(8):
        left -= 3_000 + 10
        deps = [(f"D{i}-{j}", 1_000) for j in range(3)]
        c.tx(f"peel{i}", [prev], [*deps, (f"G{i + 1}", left)])
        prev = (f"peel{i}", 3)
        for j in range(3):  # the exchange sweeps each deposit into its hot wallet
            c.tx(f"sw{i}-{j}", [(f"peel{i}", j)], [("EXHW", 990)])
    c.cluster("ex", ["EXHW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    assert att.entity(c.labels.ids["G3"]) is None


def test_deposits_swept_only_in_hot_and_cold_splits_are_deposits(home: Path) -> None:
    """An exchange sweeps single-use deposits K0..K5 one by one, each split between its
    tagged hot wallet HW and cold storage COLD (which never pays anyone): every sweep of
    K is a split, none goes whole to HW, yet each is a sweep into the exchange."""
    c = UtxoChain()
    c.tx("x0", [], [("HW", 100)])
    c.tx("xw", [("x0", 0)], [("CUST", 90)])
    for k in range(6):
        c.tx(f"d{k}", [], [("K", 1000)])
        c.tx(f"split{k}", [(f"d{k}", 0)], [("HW", 400), ("COLD", 590)])
    assert tagged_deposit(c, home, "K") == ("Bitstamp", "deposit_sweep")


def test_sibling_pairs_stay_bounded_on_a_supercluster() -> None:
    """A deposit cluster swept into three hot addresses pairs them (six ordered pairs);
    a cluster that "sweeps" into 100,000 others (a big chain's supercluster paying one
    output at a time) pairs nothing: its pairs alone would be 10**10 rows (at 50M txs the
    attribution asked for 54 GiB)."""
    import numpy as np

    from fundtrail.analysis.attribution import behaviour

    a, b = behaviour._siblings(np.array([7, 7, 7]), np.array([1, 2, 3]))
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == [
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 3),
        (3, 1),
        (3, 2),
    ]
    n = 100_000
    dep = np.concatenate([np.zeros(n, np.int64), [9, 9]])
    svc = np.concatenate([np.arange(n, dtype=np.int64), [4, 5]])
    a, b = behaviour._siblings(dep, svc)
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == [(4, 5), (5, 4)]


def test_change_to_a_tagged_sibling_is_no_payment_to_a_service(home: Path) -> None:
    """The same two hot addresses, HB tagged: HA's change to HB is to a sibling (deposits
    are swept into both), not a payment to a service, so HA is still a hot wallet."""
    c = UtxoChain()
    two_hot_addresses(c)
    c.cluster("hb", ["HB"])
    c.entity("hb", "Bitstamp", "exchange")
    c.commit(home)
    entity = attribution(ChainStore("btc", home), home=home).entity(c.labels.ids["HA"])
    assert entity is not None and entity.heuristic == "hot_wallet"


def test_a_rotating_hot_wallet_tagged_twice_is_one_service(home: Path) -> None:
    """A partner knows two of the rotating wallet's hot addresses (H1, H6), each its own
    cluster: one exchange, so the chain is its wallet and the deposits swept into any of
    its addresses are its deposits (no Hi alone receives the five sweeps)."""
    c = UtxoChain()
    rotating_hot_wallet(c)
    for name in ("H1", "H6"):
        c.cluster(name.lower(), [name])
        c.entity(name.lower(), "Bitstamp", "exchange")
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    for k in ("K2", "K7"):
        deposit = att.entity(c.labels.ids[k])
        assert deposit is not None and (deposit.label, deposit.heuristic) == (
            "Bitstamp",
            "deposit_sweep",
        )


def test_a_change_chain_holding_two_exchanges_tagged_stays_apart(home: Path) -> None:
    """The same chain with H1 tagged one exchange and H6 another: whose the deposits are
    is not known, so none is named by the chain."""
    c = UtxoChain()
    rotating_hot_wallet(c)
    for name, label in (("H1", "Bitstamp"), ("H6", "Kraken")):
        c.cluster(name.lower(), [name])
        c.entity(name.lower(), label, "exchange")
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    for k in ("K2", "K7"):
        assert att.entity(c.labels.ids[k]) is None


def change_fed_hot_address(c: UtxoChain, *, spent: bool) -> None:
    """The rotating wallet, H0 tagged; H2 also pays a batch of three customers from a
    sweep's coin with its change (the largest output) to a fresh hot address F that never
    pays a batch: F pays one customer with change to H5 (``spent``) or nothing yet. A
    single-use deposit J is swept into F: F receives no other sweep."""
    rotating_hot_wallet(c)
    c.cluster("h0", ["H0"])
    c.entity("h0", "Bitstamp", "exchange")
    c.tx("side", [("sweep-k2", 0)], [("S0", 500), ("S1", 500), ("F", 3_400), ("S2", 500)])
    if spent:
        c.tx("f-pay", [("side", 2)], [("SC", 1_000), ("H5", 2_300)])
    c.tx("j0", [], [("J", 8_000)])
    c.tx("sweep-j", [("j0", 0)], [("F", 7_990)])


def test_a_hot_address_fed_by_a_batchs_change_and_sweeps_is_the_wallets(home: Path) -> None:
    for spent in (True, False):
        c = UtxoChain()
        change_fed_hot_address(c, spent=spent)
        c.commit(home / str(spent))
        att = attribution(ChainStore("btc", home / str(spent)), home=home / str(spent))
        deposit = att.entity(c.labels.ids["J"])
        assert deposit is not None and (deposit.label, deposit.heuristic) == (
            "Bitstamp",
            "deposit_sweep",
        ), spent


def test_a_customer_paid_a_batchs_largest_output_and_by_others_is_no_hot_address(
    home: Path,
) -> None:
    """The same, but F is a customer (a big withdrawal): a friend pays it too (keeping
    change), so F is not the exchange's and what empties a wallet into F (J) is no deposit."""
    c = UtxoChain()
    change_fed_hot_address(c, spent=False)
    c.tx("fr0", [], [("FRIEND", 9_000)])
    c.tx("fr-pay", [("fr0", 0)], [("F", 2_000), ("FRIEND", 6_990)])
    c.commit(home)
    att = attribution(ChainStore("btc", home), home=home)
    assert att.entity(c.labels.ids["J"]) is None
    assert att.entity(c.labels.ids["F"]) is None


def test_a_tag_after_clustering_reuses_the_hot_groups_and_answers_the_same(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot-address groups depend on the clusters only: a tag imported after the first
    read recomputes the attribution without their two chain passes, and the answer is
    the one a workspace that never cached anything gives."""
    from fundtrail.analysis.attribution import hotchains
    from fundtrail.analysis.trace.testing import btc_address
    from fundtrail.chainstore.tags import Tag, TagStore, tags_table

    c = UtxoChain()
    rotating_hot_wallet(c)
    c.commit(home)
    store = ChainStore("btc", home)
    first = attribution(store, home=home)  # untagged: an unidentified service
    assert first.entity(c.labels.ids["K2"]).heuristic == "deposit_sweep"
    assert list((store.root / "cache").glob("hotgroups-*.npz"))
    tags = [Tag("BTC", btc_address(n), "Bitstamp", "exchange", "partner", 90) for n in ("H1", "H6")]
    TagStore(home).replace("partner", tags_table(tags))

    def no_passes(*args: object) -> None:
        raise AssertionError("hot groups recomputed though the clusters did not change")

    with monkeypatch.context() as m:
        m.setattr(hotchains, "groups", no_passes)
        cached = attribution(store, home=home)
    deposit = cached.entity(c.labels.ids["K7"])
    assert deposit is not None and (deposit.label, deposit.heuristic) == (
        "Bitstamp",
        "deposit_sweep",
    )
    for f in (store.root / "cache").glob("*"):
        if f.is_file():
            f.unlink()
    lookup._MEMORY.clear()
    fresh = attribution(store, home=home)
    order = [("cluster_id", "ascending"), ("label", "ascending"), ("heuristic", "ascending")]
    assert fresh.rows.sort_by(order).equals(cached.rows.sort_by(order))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_payees_and_sums_read_in_ranges_answer_as_the_whole_chain_at_once(seed: int) -> None:
    """What the hot-wallet pass keeps per range (a payer's distinct payees until it
    reaches the cap; sweeps summed by pair, folded a few ranges at a time) answers what
    one look at every payment would: the ranges bound the memory, not the answer."""
    import numpy as np

    from fundtrail.analysis.attribution import behaviour as bh

    rng = np.random.default_rng(seed)
    n = 20_000
    payer = rng.zipf(1.6, n) % 2_000  # skewed: a few pay many, most a few times
    payee = rng.integers(0, 200, n) + payer % 7
    amount = rng.integers(1, 10**12, n)
    first = rng.permutation(n).astype(np.int64)
    want_pairs = np.unique(payer.astype(np.int64) << 32 | payee)
    p, counts = np.unique(want_pairs >> 32, return_counts=True)
    whole = bh._group(payer, payee, amount, first)
    payees, groups = bh._Payees(bh.MIN_PAYEES), bh._Groups()
    cuts = np.sort(rng.choice(np.arange(1, n), 40, replace=False))
    for lo, hi in zip([0, *cuts], [*cuts, n], strict=True):
        payees.add(payer[lo:hi], payee[lo:hi])
        groups.add(payer[lo:hi], payee[lo:hi], amount[lo:hi], first[lo:hi])
    assert payees.result().tolist() == p[counts >= bh.MIN_PAYEES].tolist()
    assert 0 < len(payees.result()) < len(p)  # the cap splits the payers
    assert len(payees.pairs) < (bh.MIN_PAYEES - 1) * len(p)  # those at the cap keep none
    for got, want in zip(groups.result(), whole, strict=True):
        assert got.tolist() == want.tolist()
