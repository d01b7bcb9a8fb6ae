"""Victims' money across an equal-output CoinJoin, on hand-written txs.

A ransomware gang consolidates its victims' payments, sends part of the money through a
CoinJoin with strangers and peels the rest straight to its cash-out deposit address; its
post-mix outputs, spent together a few at a time, end at that same deposit. The halves
meet only downstream of the round. What must not happen: two gangs in one round joined
because they shared it. Values in satoshi; ``u*`` are strangers in the round.
"""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.link.coinjoin import THROUGH_COINJOIN
from fundtrail.analysis.link.meet import Payment, meetings
from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.model import display

from .linked import groups_of

BTC = 100_000_000
DENOM = BTC // 10  # the round's equal output
ROUND_FEE = 30_000  # each participant's share of the round's fee


def _victims(c: UtxoChain, names: list[str], values: list[int]) -> list[Payment]:
    """Victim ``name`` pays the unique ransom address ``r-<name>`` from a funded wallet."""
    pays = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        c.tx(f"fund-{name}", [], [(f"w-{name}", value + 10_000)])
        c.tx(f"pay-{name}", [(f"fund-{name}", 0)], [(f"r-{name}", value), (f"w-{name}", 9_000)])
        pays.append(Payment(i, txid_of(f"pay-{name}"), 0, value))
    return pays


def _exchange(c: UtxoChain, deposits: list[str]) -> None:
    """A tagged exchange whose hot wallet pays customers; ``deposits`` are its customers'."""
    c.tx("hot-reserve", [], [("hot", 500 * BTC)])
    c.tx("withdrawals", [("hot-reserve", 0)], [("cust1", BTC), ("cust2", BTC), ("hot", 498 * BTC)])
    c.cluster("ex", ["hot", *deposits])
    c.entity("ex", "Coinharbor", "exchange")


def _strangers(c: UtxoChain, names: list[str]) -> list[tuple[str, int]]:
    """Ordinary users' coins for the round (each one denomination and some change)."""
    for k, name in enumerate(names):
        c.tx(f"coin-{name}", [], [(f"{name}-w", DENOM + ROUND_FEE + 1_000_000 * (k + 1))])
    return [(f"coin-{name}", 0) for name in names]


class Round:
    """One equal-output CoinJoin: who put what in, and the outputs each got."""

    def __init__(self) -> None:
        self.inputs: list[tuple[str, int]] = []
        self.outputs: list[tuple[str | None, int]] = []
        self.of: dict[str, list[int]] = {}  # participant -> its output indices

    def join(self, who: str, coin: tuple[str, int], value: int) -> None:
        """``who`` puts ``value`` in: as many denominations as fit, the rest as change."""
        self.inputs.append(coin)
        k = (value - ROUND_FEE) // DENOM
        change = value - ROUND_FEE - k * DENOM
        for i in range(k):
            self.of.setdefault(who, []).append(len(self.outputs))
            self.outputs.append((f"{who}-mix{i}", DENOM))
        if change:
            self.of.setdefault(who, []).append(len(self.outputs))
            self.outputs.append((f"{who}-change", change))

    def write(self, c: UtxoChain, label: str = "cj") -> None:
        c.tx(label, self.inputs, self.outputs)
        c.coinjoins.add(label)


def _post_mix(c: UtxoChain, rnd: Round, who: str, deposit: str, label: str = "cj") -> None:
    """``who`` spends its post-mix outputs three at a time, each set paying ``deposit``."""
    mine = rnd.of[who]
    for k in range(0, len(mine), 3):
        part = mine[k : k + 3]
        total = sum(rnd.outputs[i][1] for i in part)
        c.tx(f"{who}-post{k}", [(label, i) for i in part], [(deposit, total - 2_000)])


def _one_gang(c: UtxoChain, rnd: Round, tag: str = "") -> tuple[list[Payment], int]:
    """Victims a-d: a and b consolidated into the mixed half, c and d into the straight
    half that peels to the gang's reused deposit D; the mixed half's post-mix reaches D."""
    pays = _victims(c, ["a", "b", "c", "d"], [2 * BTC, 3 * BTC // 2, BTC, 5 * BTC // 4])
    mixed = 7 * BTC // 2 - 1_000
    c.tx("cons-mixed", [("pay-a", 0), ("pay-b", 0)], [("m1", mixed)])
    c.tx("cons-straight", [("pay-c", 0), ("pay-d", 0)], [("m2", 9 * BTC // 4 - 1_000)])
    c.tx("peel1", [("cons-straight", 0)], [("D", BTC), ("k1", 5 * BTC // 4 - 3_000)])
    c.tx("peel2", [("peel1", 1)], [("D", 5 * BTC // 4 - 5_000)])
    rnd.join("gang", ("cons-mixed", 0), mixed)
    return pays, mixed


def test_a_ransom_half_mixed_joins_the_half_its_post_mix_outputs_reach(home: Path) -> None:
    # The two halves never meet before the round; the gang's post-mix outputs, spent
    # together three at a time, end at D, the deposit the straight half paid: what came
    # out to D is what the mixed half put in, less its share of the round's fee.
    c = UtxoChain()
    _exchange(c, ["D"])
    rnd = Round()
    pays, mixed = _one_gang(c, rnd)
    for name, coin in zip(["u1", "u2", "u3"], _strangers(c, ["u1", "u2", "u3"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    _post_mix(c, rnd, "gang", "D")
    c.tx("u1-post", [("cj", rnd.of["u1"][0])], [("u1-later", DENOM - 1_000)])
    c.commit(home)
    found = meetings("BTC", pays, 4, home).meetings
    assert groups_of(4, found) == [{0, 1, 2, 3}]
    (across,) = [m for m in found if m.reason == THROUGH_COINJOIN]
    assert {across.a, across.b} == {0, 2}
    back = mixed - ROUND_FEE
    assert across.where.startswith(
        f"{display.amount(mixed, 'BTC', group=False)} into CoinJoin {txid_of('cj')}"
    )
    assert f"; {len(rnd.of['gang'])} of its {len(rnd.outputs)} outputs, " in across.where
    assert across.where.endswith(
        f"{display.amount(back, 'BTC', group=False)} "
        f"({display.amount(ROUND_FEE, 'BTC', group=False)} less) -> {c.address('D')}"
    )


def test_post_mix_outputs_that_do_not_all_come_back_join_nothing(home: Path) -> None:
    # The gang keeps one set of its post-mix outputs elsewhere: what reached D is short
    # of what went in by more than any round's fee, so the round proves nothing.
    c = UtxoChain()
    _exchange(c, ["D"])
    rnd = Round()
    pays, _ = _one_gang(c, rnd)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    kept = rnd.of["gang"][:3]
    rnd.of["gang"] = rnd.of["gang"][3:]
    _post_mix(c, rnd, "gang", "D")
    c.tx("kept", [("cj", i) for i in kept], [("gang-cold", 3 * DENOM - 2_000)])
    c.commit(home)
    assert groups_of(4, meetings("BTC", pays, 4, home).meetings) == [{0, 1}, {2, 3}]


def _two_gangs(c: UtxoChain) -> list[Payment]:
    """Gangs A (a1-a3) and B (b1-b3) in one round: each mixes one consolidation (a1+a2,
    b1+b2) and pays its straight victim (a3, b3) to its own deposit (DA, DB), where its
    post-mix outputs go too."""
    b_in = 5 * BTC
    pays = _victims(c, ["a1", "a2", "a3", "b1", "b2", "b3"],
                    [2 * BTC, 3 * BTC // 2, BTC, b_in // 2, b_in // 2, 2 * BTC])  # fmt: skip
    rnd = Round()
    for gang, value in (("a", 7 * BTC // 2), ("b", b_in)):
        c.tx(
            f"cons-{gang}",
            [(f"pay-{gang}1", 0), (f"pay-{gang}2", 0)],
            [(f"m{gang}", value - 1_000)],
        )
        rnd.join(gang, (f"cons-{gang}", 0), value - 1_000)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    for gang in ("a", "b"):
        c.tx(f"dep-{gang}3", [(f"pay-{gang}3", 0)], [(f"D{gang.upper()}", BTC - 1_000)])
        _post_mix(c, rnd, gang, f"D{gang.upper()}")
    return pays


def test_two_gangs_in_one_round_each_join_their_own_halves(home: Path) -> None:
    # Each gang's post-mix outputs come back to its own deposit, worth what that gang put
    # in: A's mixed half joins A's straight victim, B's joins B's, and A never joins B
    # (a group whose own coins entered the round is no target: its outputs may be its own).
    c = UtxoChain()
    _exchange(c, ["DA", "DB"])
    pays = _two_gangs(c)
    c.commit(home)
    found = meetings("BTC", pays, 6, home).meetings
    assert groups_of(6, found) == [{0, 1, 2}, {3, 4, 5}]
    assert {frozenset((m.a, m.b)) for m in found if m.reason == THROUGH_COINJOIN} == {
        frozenset((0, 2)),
        frozenset((3, 5)),
    }


def test_two_gangs_putting_the_same_amount_into_one_round_join_nothing(home: Path) -> None:
    # Gangs B (b1, b2) and A (a1-a3) put the same amount into the round; A's post-mix
    # outputs reach DA, where A's straight victim a3's money went, B's go elsewhere. The
    # outputs at DA could be B's as well as A's: the round cannot say, so nobody joins.
    c = UtxoChain()
    _exchange(c, ["DA"])
    pays = _victims(c, ["b1", "b2", "a1", "a2", "a3"],
                    [2 * BTC, 3 * BTC // 2, 2 * BTC, 3 * BTC // 2, BTC])  # fmt: skip
    rnd = Round()
    for gang in ("b", "a"):
        value = 7 * BTC // 2 - 1_000
        c.tx(f"cons-{gang}", [(f"pay-{gang}1", 0), (f"pay-{gang}2", 0)], [(f"m{gang}", value)])
        rnd.join(gang, (f"cons-{gang}", 0), value)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    c.tx("dep-a3", [("pay-a3", 0)], [("DA", BTC - 1_000)])
    _post_mix(c, rnd, "a", "DA")
    _post_mix(c, rnd, "b", "b-later")
    c.commit(home)
    assert groups_of(5, meetings("BTC", pays, 5, home).meetings) == [{0, 1}, {2, 3}, {4}]


def test_a_stranger_paying_another_gangs_deposit_from_the_round_joins_nothing(
    home: Path,
) -> None:
    # Gang A is in the round; gang B is not, but a stranger of the round pays B's deposit
    # DB with its post-mix output. That output is not worth what A put in: no join.
    c = UtxoChain()
    _exchange(c, ["DA", "DB"])
    pays = _victims(c, ["a1", "a2", "b1"], [2 * BTC, 3 * BTC // 2, BTC])
    c.tx("cons-a", [("pay-a1", 0), ("pay-a2", 0)], [("ma", 7 * BTC // 2 - 1_000)])
    c.tx("dep-b1", [("pay-b1", 0)], [("DB", BTC - 1_000)])
    rnd = Round()
    rnd.join("a", ("cons-a", 0), 7 * BTC // 2 - 1_000)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    c.tx("u1-post", [("cj", rnd.of["u1"][0]), ("cj", rnd.of["u1"][1])], [("DB", DENOM)])
    _post_mix(c, rnd, "a", "gang-a-later")
    c.commit(home)
    assert groups_of(3, meetings("BTC", pays, 3, home).meetings) == [{0, 1}, {2}]


def test_a_gang_in_the_round_is_never_joined_through_it(home: Path) -> None:
    # A and B are both in the round. B spends post-mix outputs worth just what A put in
    # (less the round's fee) back to its own wallet mb: by value they could be A's, but
    # B's own coins entered the round, so what came back to B may be B's. No join.
    c = UtxoChain()
    pays = _victims(c, ["a1", "a2", "b1", "b2"], [2 * BTC, 3 * BTC // 2, 3 * BTC, 3 * BTC])
    rnd = Round()
    for gang, value in (("a", 7 * BTC // 2 - 1_000), ("b", 6 * BTC - 1_000)):
        c.tx(f"cons-{gang}", [(f"pay-{gang}1", 0), (f"pay-{gang}2", 0)], [(f"m{gang}", value)])
        rnd.join(gang, (f"cons-{gang}", 0), value)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    back, rest = rnd.of["b"][-35:], rnd.of["b"][:-35]  # 34 denominations and the change
    assert sum(rnd.outputs[i][1] for i in back) == 7 * BTC // 2 - 1_000 - ROUND_FEE
    rnd.of["b"] = back
    _post_mix(c, rnd, "b", "mb")
    rnd.of["b"] = rest
    _post_mix(c, rnd, "b", "b-later")
    _post_mix(c, rnd, "a", "a-later")
    c.commit(home)
    assert groups_of(4, meetings("BTC", pays, 4, home).meetings) == [{0, 1}, {2, 3}]


def test_ransoms_put_into_the_round_unconsolidated_join_together(home: Path) -> None:
    # The gang puts victims a's and b's ransoms into the round as they are (two groups
    # that never met before it); their post-mix outputs end at D with c's money. Only
    # both entries together are worth what reached D: both join c.
    c = UtxoChain()
    _exchange(c, ["D"])
    pays = _victims(c, ["a", "b", "c"], [2 * BTC, 3 * BTC // 2, BTC])
    rnd = Round()
    rnd.join("gang", ("pay-a", 0), 2 * BTC)
    rnd.join("gang", ("pay-b", 0), 3 * BTC // 2)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    c.tx("dep-c", [("pay-c", 0)], [("D", BTC - 1_000)])
    _post_mix(c, rnd, "gang", "D")
    c.commit(home)
    found = meetings("BTC", pays, 3, home).meetings
    assert groups_of(3, found) == [{0, 1, 2}]
    across = {frozenset((m.a, m.b)) for m in found if m.reason == THROUGH_COINJOIN}
    assert across == {frozenset((0, 2)), frozenset((1, 2))}


def test_post_mix_outputs_spent_with_the_other_halfs_coin_join_it(home: Path) -> None:
    # The gang spends all its post-mix outputs together with the straight half's coin m2
    # (one wallet holds both). m2 is the smaller part of that tx, so the walk ends there;
    # the round's outputs still reached the straight half, whole: one campaign.
    c = UtxoChain()
    rnd = Round()
    pays = _victims(c, ["a", "b", "c", "d"], [2 * BTC, 3 * BTC // 2, BTC // 4, BTC // 4])
    mixed = 7 * BTC // 2 - 1_000
    c.tx("cons-mixed", [("pay-a", 0), ("pay-b", 0)], [("m1", mixed)])
    c.tx("cons-straight", [("pay-c", 0), ("pay-d", 0)], [("m2", BTC // 2 - 1_000)])
    rnd.join("gang", ("cons-mixed", 0), mixed)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    spent = [("cj", i) for i in rnd.of["gang"]] + [("cons-straight", 0)]
    c.tx("merge", spent, [("gang-wallet", mixed - ROUND_FEE + BTC // 2 - 10_000)])
    c.commit(home)
    found = meetings("BTC", pays, 4, home).meetings
    assert groups_of(4, found) == [{0, 1, 2, 3}]
    (across,) = [m for m in found if m.reason == THROUGH_COINJOIN]
    assert across.where.endswith(f"-> {c.address('m2')}")


def test_post_mix_outputs_remixed_with_another_gangs_coin_join_nothing(home: Path) -> None:
    # Gang A's post-mix outputs all enter a second round, where gang B's coin m2 enters
    # too. The second round's inputs are strangers to each other: A's outputs are not
    # spent "with" B's coin there, so A and B stay apart.
    c = UtxoChain()
    rnd = Round()
    pays = _victims(c, ["a", "b", "c"], [2 * BTC, 3 * BTC // 2, BTC // 2])
    mixed = 7 * BTC // 2 - 1_000
    c.tx("cons-mixed", [("pay-a", 0), ("pay-b", 0)], [("m1", mixed)])
    c.tx("cons-b", [("pay-c", 0)], [("m2", BTC // 2 - 1_000)])
    rnd.join("gang", ("cons-mixed", 0), mixed)
    for name, coin in zip(["u1", "u2"], _strangers(c, ["u1", "u2"]), strict=True):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (int(name[1])))
    rnd.write(c)
    again = Round()
    for k, i in enumerate(rnd.of["gang"]):
        again.join(f"g{k}", ("cj", i), rnd.outputs[i][1])
    again.join("b", ("cons-b", 0), BTC // 2 - 1_000)
    again.write(c, "cj2")
    c.commit(home)
    assert groups_of(3, meetings("BTC", pays, 3, home).meetings) == [{0, 1}, {2}]


def test_a_small_entry_in_a_big_round_matched_by_strangers_joins_nothing(home: Path) -> None:
    # Gang A puts exactly two denominations into a round of twenty strangers; one stranger
    # that also took two pays gang B's deposit DB with them, worth just what A put in less
    # the round's fee. By value the two could be A's, but A's entry is a sliver of the
    # round: a coincidence that rounds of many equal outputs make common. No join.
    c = UtxoChain()
    _exchange(c, ["DB"])
    entry = 2 * DENOM + ROUND_FEE
    pays = _victims(c, ["a1", "b1"], [entry, BTC])
    c.tx("dep-b1", [("pay-b1", 0)], [("DB", BTC - 1_000)])
    rnd = Round()
    rnd.join("a", ("pay-a1", 0), entry)
    c.tx("coin-big", [], [("big-w", entry)])
    rnd.join("big", ("coin-big", 0), entry)
    names = [f"u{k}" for k in range(1, 19)]
    for k, (name, coin) in enumerate(zip(names, _strangers(c, names), strict=True)):
        rnd.join(name, coin, DENOM + ROUND_FEE + 1_000_000 * (k + 1))
    rnd.write(c)
    c.tx("big-post", [("cj", rnd.of["big"][0]), ("cj", rnd.of["big"][1])], [("DB", 2 * DENOM)])
    _post_mix(c, rnd, "a", "gang-a-later")
    c.commit(home)
    assert groups_of(2, meetings("BTC", pays, 2, home).meetings) == [{0}, {1}]
