"""Where victims' money meets on a UTXO chain, and where it must not, on hand-written txs.

Every test writes a small chain with ``UtxoChain`` (one tx per block, in the order
written) and asks :func:`meetings` which groups of payments met, and why. Values are in
satoshi; "others" are ordinary users' coins that no complaint traces.
"""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.link.meet import (
    SAME_CASHOUT,
    SAME_DOWNSTREAM,
    SPENT_TOGETHER,
    Payment,
    meetings,
)
from fundtrail.analysis.link.mixer import THROUGH_MIXER
from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.model import display

from .linked import groups_of

BTC = 100_000_000


def _coin(c: UtxoChain, label: str, address: str, value: int) -> str:
    c.tx(label, [], [(address, value)])
    return label


def _victims(c: UtxoChain, names: list[str], value: int = BTC) -> list[Payment]:
    """Each victim's coinbase-funded wallet pays a unique ransom address ``r-<name>``."""
    pays = []
    for i, name in enumerate(names):
        _coin(c, f"fund-{name}", f"w-{name}", value + 10_000)
        c.tx(f"pay-{name}", [(f"fund-{name}", 0)], [(f"r-{name}", value), (f"w-{name}", 9_000)])
        pays.append(Payment(i, txid_of(f"pay-{name}"), 0, value))
    return pays


def _exchange(c: UtxoChain, tagged: bool = True) -> None:
    """An exchange whose hot wallet ``hot`` pays customers (so it is the service's own)."""
    _coin(c, "hot-reserve", "hot", 500 * BTC)
    c.tx("withdrawals", [("hot-reserve", 0)], [("cust1", BTC), ("cust2", BTC), ("hot", 498 * BTC)])
    if tagged:
        c.cluster("ex", ["hot"])
        c.entity("ex", "Coinharbor", "exchange")


def test_ransomware_batches_meet_in_consolidations_and_at_the_mules_deposit(home: Path) -> None:
    # r-a, r-b consolidated into m1; r-c, r-d into m2; m1 and m2 each peel to the
    # gang's deposit address D (reused), keeping change; D is swept into the exchange
    # with two ordinary customers' deposits.
    c = UtxoChain()
    _exchange(c)
    pays = _victims(c, ["a", "b", "c", "d"])
    c.tx("cons1", [("pay-a", 0), ("pay-b", 0)], [("m1", 2 * BTC - 1000)])
    c.tx("cons2", [("pay-c", 0), ("pay-d", 0)], [("m2", 2 * BTC - 1000)])
    c.tx("peel1", [("cons1", 0)], [("D", BTC // 2), ("m1b", 3 * BTC // 2 - 2000)])
    c.tx("peel2", [("cons2", 0)], [("D", BTC // 3), ("m2b", 5 * BTC // 3 - 2000)])
    _coin(c, "u1", "d-u1", 3 * BTC)
    _coin(c, "u2", "d-u2", 2 * BTC)
    c.tx("sweep", [("peel1", 0), ("peel2", 0), ("u1", 0), ("u2", 0)], [("hot", 6 * BTC)])
    c.commit(home)
    found = meetings("BTC", pays, 4, home).meetings
    assert groups_of(4, found) == [{0, 1, 2, 3}]
    reasons = {(m.reason, m.where) for m in found}
    assert (SPENT_TOGETHER, txid_of("cons1")) in reasons
    assert (SPENT_TOGETHER, txid_of("cons2")) in reasons
    assert (SAME_DOWNSTREAM, c.address("D")) in reasons  # the gang's deposit address


def test_gangs_swept_together_by_an_exchange_stay_apart(home: Path) -> None:
    # Gang A's deposit DA and gang B's DB are swept in one tx into the tagged hot wallet:
    # the exchange spent them together, not a gang.
    c = UtxoChain()
    _exchange(c)
    pays = _victims(c, ["a", "b"], 5 * BTC)
    c.tx("depA", [("pay-a", 0)], [("DA", 5 * BTC - 1000)])
    c.tx("depB", [("pay-b", 0)], [("DB", 5 * BTC - 1000)])
    c.tx("sweep", [("depA", 0), ("depB", 0)], [("hot", 10 * BTC - 3000)])
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]


def test_gangs_swept_together_by_an_untagged_exchange_stay_apart(home: Path) -> None:
    # No tag at all: the sweep of DA and DB (only gang money!) pays the hot wallet, which
    # receives far more from everyone else: someone else's wallet, so no meeting.
    c = UtxoChain()
    _exchange(c, tagged=False)
    pays = _victims(c, ["a", "b"], 5 * BTC)
    c.tx("depA", [("pay-a", 0)], [("DA", 5 * BTC - 1000)])
    c.tx("depB", [("pay-b", 0)], [("DB", 5 * BTC - 1000)])
    c.tx("sweep", [("depA", 0), ("depB", 0)], [("hot", 10 * BTC - 3000)])
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]


def test_gangs_meeting_at_a_big_service_stay_apart(home: Path) -> None:
    # Both gangs pay a service that consolidates its takings with many customers' coins
    # into a fresh address: complaint money is a minority of that tx (by count).
    c = UtxoChain()
    pays = _victims(c, ["a", "b"], 5 * BTC)
    c.tx("toA", [("pay-a", 0)], [("inv-a", 5 * BTC - 1000)])
    c.tx("toB", [("pay-b", 0)], [("inv-b", 5 * BTC - 1000)])
    others = [_coin(c, f"cust{i}", f"inv{i}", BTC // 10) for i in range(6)]
    c.tx("take", [("toA", 0), ("toB", 0), *((o, 0) for o in others)], [("fresh", 10 * BTC)])
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]


def test_gangs_in_one_coinjoin_stay_apart(home: Path) -> None:
    # A and B are most of a CoinJoin (3 equal outputs; one other participant), and its
    # outputs are later spent together: equal outputs are no one's in particular.
    c = UtxoChain()
    pays = _victims(c, ["a", "b"], BTC)
    _coin(c, "cj-u", "cju", BTC)
    c.tx(
        "cj",
        [("pay-a", 0), ("pay-b", 0), ("cj-u", 0)],
        [(f"cjo{i}", BTC - 1000) for i in range(3)],
    )
    c.coinjoins.add("cj")
    c.tx("post", [("cj", 0), ("cj", 1)], [("after", 2 * BTC - 3000)])
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]


def test_gangs_using_one_mixer_stay_apart(home: Path) -> None:
    # A custodial mixer: fresh deposit addresses swept into its reserve, which also
    # takes far more from others, and pays out from there.
    c = UtxoChain()
    _coin(c, "reserve0", "reserve", 300 * BTC)
    pays = _victims(c, ["a", "b"], 2 * BTC)
    c.tx("mixA", [("pay-a", 0)], [("mdA", 2 * BTC - 1000)])
    c.tx("mixB", [("pay-b", 0)], [("mdB", 2 * BTC - 1000)])
    c.tx("msweep", [("mixA", 0), ("mixB", 0)], [("reserve", 4 * BTC - 3000)])
    c.tx("payout", [("reserve0", 0), ("msweep", 0)], [("outA", BTC), ("reserve", 302 * BTC)])
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]


def test_one_gang_paying_its_deposit_at_a_tagged_exchange(home: Path) -> None:
    # Two batches pay the same customer deposit address of a tagged exchange (D is in
    # the exchange's cluster): a cash-out meeting; the sweep itself joins nothing.
    c = UtxoChain()
    _exchange(c, tagged=False)
    pays = _victims(c, ["a", "b"], 2 * BTC)
    c.tx("peelA", [("pay-a", 0)], [("D", BTC), ("ka", BTC - 1000)])
    c.tx("peelB", [("pay-b", 0)], [("D", BTC), ("kb", BTC - 1000)])
    c.tx("sweep", [("peelA", 0), ("peelB", 0)], [("hot", 2 * BTC - 1000)])
    c.cluster("ex", ["hot", "D"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    found = meetings("BTC", pays, 2, home).meetings
    assert groups_of(2, found) == [{0, 1}]
    assert [(m.reason, m.where) for m in found] == [(SAME_CASHOUT, c.address("D"))]


def _mixer(c: UtxoChain) -> None:
    """A custodial mixer (a tagged service): its reserve, funded by others, pays customers."""
    _coin(c, "mix-reserve0", "reserve", 300 * BTC)


def _mixer_cluster(c: UtxoChain, deposits: list[str]) -> None:
    c.cluster("mix", ["reserve", *deposits])
    c.entity("mix", "Mixer Y", "service")


def _mixed_gang(c: UtxoChain, fee_pct: int = 2, pieces: int = 2) -> tuple[list[Payment], int]:
    """Victims a, b peel to the mule's deposit D; c's ransom goes whole into the mixer,
    which pays it back (less its fee) in ``pieces`` payouts, each deposited at D."""
    pays = _victims(c, ["a", "b", "c"], 2 * BTC)
    c.tx("cons", [("pay-a", 0), ("pay-b", 0)], [("m1", 4 * BTC - 1000)])
    c.tx("peel", [("cons", 0)], [("D", BTC), ("m1b", 3 * BTC - 2000)])
    entry = 2 * BTC - 1000
    c.tx("mixC", [("pay-c", 0)], [("mdC", entry)])
    c.tx("msweep", [("mixC", 0)], [("reserve", entry - 500)])
    back = entry * (100 - fee_pct) // 100
    outs = [(f"p{k}", back // pieces) for k in range(pieces)]
    c.tx("payout", [("mix-reserve0", 0)], [*outs, ("reserve", 300 * BTC - back - 1000)])
    for k in range(pieces):
        c.tx(f"dep{k}", [("payout", k)], [("D", back // pieces - 500)])
    return pays, back


def test_a_ransom_mixed_before_it_met_joins_through_the_mixer(home: Path) -> None:
    # c's money never meets a nor b's on chain: only the mixer's payouts, 98% of what c
    # paid in, an hour later, reach the deposit address D that a and b's money reached.
    c = UtxoChain()
    _exchange(c)
    _mixer(c)
    pays, back = _mixed_gang(c)
    _mixer_cluster(c, ["mdC"])
    c.cluster("ex", ["hot", "D"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    found = meetings("BTC", pays, 3, home).meetings
    assert groups_of(3, found) == [{0, 1, 2}]
    (mixed,) = [m for m in found if m.reason == THROUGH_MIXER]
    assert {mixed.a, mixed.b} == {0, 2}
    assert f"into Mixer Y, tx {txid_of('mixC')}:0" in mixed.where
    assert f"2 payouts {display.amount(back, 'BTC', group=False)} (98.0%)" in mixed.where
    assert f"first tx {txid_of('payout')} -> {c.address('D')}" in mixed.where


def test_payouts_that_do_not_add_up_join_nothing(home: Path) -> None:
    # The mixer paid back 80% of what went in: no fee is that big, so no evidence.
    c = UtxoChain()
    _exchange(c)
    _mixer(c)
    pays, _ = _mixed_gang(c, fee_pct=20)
    _mixer_cluster(c, ["mdC"])
    c.cluster("ex", ["hot", "D"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    assert groups_of(3, meetings("BTC", pays, 3, home).meetings) == [{0, 1}, {2}]


def test_two_gangs_whose_mixed_payouts_could_be_either_stay_apart(home: Path) -> None:
    # Gangs A (a1, a2 -> DA) and B (b1, b2 -> DB) each also mix a ransom (a3, b3) of the
    # same size; the mixer's payouts reach DA and DB. Which payouts came from which
    # entry cannot be told by the amounts: nothing joins across the gangs, and the
    # mixed ransoms stay on their own.
    c = UtxoChain()
    _exchange(c)
    _mixer(c)
    pays = _victims(c, ["a1", "a2", "a3", "b1", "b2", "b3"], 2 * BTC)
    c.tx("peelA", [("pay-a1", 0), ("pay-a2", 0)], [("DA", BTC), ("ka", 3 * BTC - 2000)])
    c.tx("peelB", [("pay-b1", 0), ("pay-b2", 0)], [("DB", BTC), ("kb", 3 * BTC - 2000)])
    entry = 2 * BTC - 1000
    c.tx("mixA", [("pay-a3", 0)], [("mdA", entry)])
    c.tx("mixB", [("pay-b3", 0)], [("mdB", entry)])
    back = entry * 98 // 100
    c.tx("payout", [("mix-reserve0", 0)],
         [("pA", back), ("pB", back), ("reserve", 300 * BTC - 2 * back - 1000)])  # fmt: skip
    c.tx("depA", [("payout", 0)], [("DA", back - 500)])
    c.tx("depB", [("payout", 1)], [("DB", back - 500)])
    _mixer_cluster(c, ["mdA", "mdB"])
    c.cluster("ex", ["hot", "DA", "DB"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    found = meetings("BTC", pays, 6, home).meetings
    assert groups_of(6, found) == [{0, 1}, {2}, {3, 4}, {5}]
    assert not [m for m in found if m.reason == THROUGH_MIXER]


def _two_gangs_one_mixer(
    c: UtxoChain, fees_bp: list[int], twins: bool = False
) -> tuple[list[Payment], list[int]]:
    """Gangs A (victims 0-1 -> DA) and B (2-3 -> DB) each mix three more ransoms (A: 4-6,
    B: 7-9) of different sizes at one mixer, in the same hours; each order is paid back,
    less ``fees_bp[k]`` (basis points), in two unequal payouts, interleaved in one tx,
    each deposited at its gang's D. ``twins``: one more ransom each (A: 10, B: 11) of
    the same size, paid back in the same two amounts: at any fee either could be either.
    Returns the payments and the payout totals."""
    _exchange(c)
    _mixer(c)
    sizes = [200, 230, 260, 210, 240, 270] + ([250, 250] if twins else [])
    names = ["a1", "a2", "b1", "b2"] + [f"m{k}" for k in range(len(sizes))]
    values = [2 * BTC] * 4 + [s * BTC // 100 for s in sizes]
    pays = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        _coin(c, f"fund-{name}", f"w-{name}", value + 10_000)
        c.tx(f"pay-{name}", [(f"fund-{name}", 0)], [(f"r-{name}", value), (f"w-{name}", 9_000)])
        pays.append(Payment(i, txid_of(f"pay-{name}"), 0, value))
    c.tx("peelA", [("pay-a1", 0), ("pay-a2", 0)], [("DA", BTC), ("ka", 3 * BTC - 2000)])
    c.tx("peelB", [("pay-b1", 0), ("pay-b2", 0)], [("DB", BTC), ("kb", 3 * BTC - 2000)])
    gang = ["A", "A", "A", "B", "B", "B"] + (["A", "B"] if twins else [])
    shares = [37, 58, 44, 63, 41, 55, 40, 40]
    outs: list[tuple[str, int]] = []
    backs = []
    for k in range(len(sizes)):
        entry = values[4 + k] - 1000
        c.tx(f"mix{k}", [(f"pay-m{k}", 0)], [(f"md{k}", entry)])
        back = entry * (10_000 - fees_bp[k]) // 10_000
        first = back * shares[k] // 100
        outs += [(f"p{k}a", first), (f"p{k}b", back - first)]
        backs.append(back)
    order = sorted(range(len(outs)), key=lambda j: (j % 2, -j))  # interleave the orders
    c.tx("payout", [("mix-reserve0", 0)],
         [*(outs[j] for j in order), ("reserve", 300 * BTC - sum(backs) - 1000)])  # fmt: skip
    for n, j in enumerate(order):
        c.tx(f"dep{j}", [("payout", n)], [(f"D{gang[j // 2]}", outs[j][1] - 500)])
    _mixer_cluster(c, [f"md{k}" for k in range(len(sizes))])
    c.cluster("ex", ["hot", "DA", "DB"])
    c.entity("ex", "Coinharbor", "exchange")
    return pays, backs


def test_two_gangs_on_one_mixer_join_their_own_ransoms_at_the_mixers_fee(home: Path) -> None:
    # Six orders of two gangs in the same hours: payouts of both gangs add up to many
    # entries less some 0.5-5% fee, so the amounts alone cannot say whose is whose. The
    # mixer charges one rate (1.75%) on every order: learnt from its orders, at that rate
    # each order's own two payouts are its only match, so each mixed ransom joins its
    # own gang, and none the other.
    c = UtxoChain()
    pays, backs = _two_gangs_one_mixer(c, [175] * 6)
    c.commit(home)
    found = meetings("BTC", pays, 10, home).meetings
    assert groups_of(10, found) == [{0, 1, 4, 5, 6}, {2, 3, 7, 8, 9}]
    mixed = [m for m in found if m.reason == THROUGH_MIXER]
    assert {frozenset((m.a, m.b)) & {4, 5, 6, 7, 8, 9} for m in mixed} == {
        frozenset({k}) for k in range(4, 10)
    }
    for m in mixed:
        assert "at its fee 1.75% (" in m.where
        k = ({m.a, m.b} - {0, 1, 2, 3}).pop() - 4
        assert f"2 payouts {display.amount(backs[k], 'BTC', group=False)} (98.2%)" in m.where


def test_two_gangs_on_one_mixer_twin_orders_stay_apart(home: Path) -> None:
    # Beside the six, one order of each gang of the same size paid back in the same two
    # amounts: at the fee too, either pair of payouts could be either's. Those two join
    # nothing; the other six still join their own gang.
    c = UtxoChain()
    pays, _ = _two_gangs_one_mixer(c, [175] * 8, twins=True)
    c.commit(home)
    found = meetings("BTC", pays, 12, home).meetings
    assert groups_of(12, found) == [{0, 1, 4, 5, 6}, {2, 3, 7, 8, 9}, {10}, {11}]


def test_two_gangs_on_a_mixer_that_draws_its_fee_per_order_join_nothing_falsely(
    home: Path,
) -> None:
    # A fee drawn per order gives no fingerprint: the wide rule alone decides, and where
    # payouts of both gangs could pay an order it joins nothing. No ransom may ever join
    # the other gang.
    c = UtxoChain()
    pays, _ = _two_gangs_one_mixer(c, [120, 310, 95, 260, 180, 405])
    c.commit(home)
    # (with these amounts every mixed ransom has matches reaching both gangs)
    assert groups_of(10, meetings("BTC", pays, 10, home).meetings) == [
        {0, 1},
        {2, 3},
        {4},
        {5},
        {6},
        {7},
        {8},
        {9},
    ]


def test_a_victim_paying_with_coins_the_service_paid_out_joins_no_one(home: Path) -> None:
    # The scam (s1, s2 -> m) pays a single-use deposit address dS of a service (not
    # known as an exchange); hours later the service's wallet pays a withdrawal of 98%
    # of that to a customer, who is a ransomware victim buying coins: she pays her ransom
    # r-x with them, and the ransomware gang consolidates r-x with r-y into G. The
    # payout's coins reach the ransomware's wallet, but only through a victim's payment:
    # that is the victim's money, not the service paying the scam back. Two campaigns.
    c = UtxoChain()
    _coin(c, "svc-reserve0", "svcres", 300 * BTC)
    scam = _victims(c, ["s1", "s2"], 2 * BTC)
    c.tx("cons", [("pay-s1", 0), ("pay-s2", 0)], [("m", 4 * BTC - 1000)])
    entry = BTC
    c.tx("peel", [("cons", 0)], [("dS", entry), ("m2", 3 * BTC - 2000)])
    c.tx("sweep", [("peel", 0)], [("svcres", entry - 500)])
    back = entry * 98 // 100
    c.tx("withdrawal", [("svc-reserve0", 0)], [("w-x", back), ("svcres", 300 * BTC - back - 1000)])
    c.tx("pay-x", [("withdrawal", 0)], [("r-x", back - 10_000), ("w-x", 9_000)])
    _coin(c, "fund-y", "w-y", BTC // 2 + 10_000)
    c.tx("pay-y", [("fund-y", 0)], [("r-y", BTC // 2), ("w-y", 9_000)])
    c.tx("ransoms", [("pay-x", 0), ("pay-y", 0)], [("G", back - 10_000 + BTC // 2 - 1000)])
    c.cluster("svc", ["svcres", "dS"])
    c.entity("svc", "Service Z", "service")
    c.commit(home)
    pays = [*scam, Payment(2, txid_of("pay-x"), 0, back - 10_000),
            Payment(3, txid_of("pay-y"), 0, BTC // 2)]  # fmt: skip
    found = meetings("BTC", pays, 4, home).meetings
    assert groups_of(4, found) == [{0, 1}, {2, 3}]
    assert not [m for m in found if m.reason == THROUGH_MIXER]


def _peels(c: UtxoChain, name: str, head: tuple[str, int], value: int, to: list[str]) -> None:
    """A peel chain from ``head`` (worth ``value``): one deposit per hop, change kept."""
    for k, deposit in enumerate(to):
        value -= BTC // 10 + 1000
        c.tx(f"{name}-{k}", [head], [(deposit, BTC // 10), (f"{name}-chg{k}", value)])
        head = (f"{name}-{k}", 1)


def _mule_world(c: UtxoChain, ransom_deposits: list[list[str]]) -> list[Payment]:
    """A scam (10 victims paying one address, group 0) peels to its deposits S1-S3 and
    to M; a ransomware (one address per victim, 2 victims per consolidation, groups
    1-10) peels each batch to the deposits listed for it. All deposits are customers'
    at a tagged exchange; M is a mule's account, which also takes his own deposit."""
    _exchange(c, tagged=False)
    pays = []
    for i in range(10):
        _coin(c, f"fund-s{i}", f"w-s{i}", 2 * BTC + 10_000)
        c.tx(f"pay-s{i}", [(f"fund-s{i}", 0)], [("s-coll", 2 * BTC), (f"w-s{i}", 9_000)])
        pays.append(Payment(0, txid_of(f"pay-s{i}"), 0, 2 * BTC))
    c.tx("s-cons", [(f"pay-s{i}", 0) for i in range(10)], [("s-main", 20 * BTC - 5000)])
    _peels(c, "s-peel", ("s-cons", 0), 20 * BTC - 5000, ["S1", "S2", "S3", "M"])
    names = [f"v{i}" for i in range(2 * len(ransom_deposits))]
    for i, name in enumerate(names):
        _coin(c, f"fund-{name}", f"w-{name}", BTC + 10_000)
        c.tx(f"pay-{name}", [(f"fund-{name}", 0)], [(f"r-{name}", BTC), (f"w-{name}", 9_000)])
        pays.append(Payment(1 + i, txid_of(f"pay-{name}"), 0, BTC))
    for b, deposits in enumerate(ransom_deposits):
        ins = [(f"pay-{names[2 * b]}", 0), (f"pay-{names[2 * b + 1]}", 0)]
        c.tx(f"r-cons{b}", ins, [(f"r-main{b}", 2 * BTC - 1000)])
        _peels(c, f"r-peel{b}", (f"r-cons{b}", 0), 2 * BTC - 1000, deposits)
    _coin(c, "mule-own", "w-mule", BTC)
    c.tx("mule-dep", [("mule-own", 0)], [("M", BTC - 1000)])
    deposits = ["S1", "S2", "S3", "M", "RA", "RB"]
    c.cluster("ex", ["hot", *deposits])
    c.entity("ex", "Coinharbor", "exchange")
    return pays


def test_two_gangs_sharing_a_mules_deposit_stay_two_campaigns(home: Path) -> None:
    # The ransomware's batches meet only at its mules' deposits RA and RB (that is its
    # evidence), and two of them also at M, where the scam cashes out too: M is one of
    # the scam's 4 deposits and one of the ransomware's 3, a mule both gangs used, so it
    # links nobody; without the rule every complaint is one campaign.
    c = UtxoChain()
    batches = [["RA", "M"], ["RA", "RB"], ["RB"], ["RB", "M"], ["RA"]]
    pays = _mule_world(c, batches)
    c.commit(home)
    result = meetings("BTC", pays, 11, home)
    found = result.meetings
    assert groups_of(11, found) == [{0}, set(range(1, 11))]
    assert c.address("M") not in {m.where for m in found}
    assert {m.where for m in found if m.reason == SAME_CASHOUT} == {
        c.address("RA"),
        c.address("RB"),
    }
    # the investigator is told why they were not merged: M, reached by both
    (clash,) = result.conflicts
    assert clash.where == c.address("M")
    assert len(clash.groups) == 2
    assert clash.groups[0] == 0 and 1 <= clash.groups[1] <= 10  # the scam, the ransomware


def test_two_gangs_sharing_most_deposits_are_one_campaign(home: Path) -> None:
    # The same, but the ransomware's batches meet at RA and cash out at M and S1 too:
    # two of its three deposits are the scam's, the same accounts cash both gangs out
    # (one gang's mules), so the two campaigns are one.
    c = UtxoChain()
    batches = [["RA", "S1"], ["RA", "M"], ["RA"], ["RA", "S1"], ["RA", "M"]]
    pays = _mule_world(c, batches)
    c.commit(home)
    result = meetings("BTC", pays, 11, home)
    assert groups_of(11, result.meetings) == [set(range(11))]
    assert result.conflicts == []
