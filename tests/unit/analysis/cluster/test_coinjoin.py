"""CoinJoin shapes as the coordinators build them, and look-alikes that are not CoinJoins."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chainstore.store import ChainStore

from .builder import Tx, addr, write_chain


def _funded(names: list[str], value: int) -> list[Tx]:
    return [Tx([], [(addr(n, "p2wpkh"), value)]) for n in names]


def _kinds(home: Path, txs: list[Tx]) -> dict[int, tuple[bool, str]]:
    write_chain(home, txs)
    run_clustering("BTC", home=home)
    t = ChainStore("BTC", home).read_table("coinjoin").to_pylist()
    return {r["tx_id"]: (r["is_coinjoin"], r["kind"]) for r in t}


def test_wasabi1_round_with_multi_level_participants(home: Path) -> None:
    ins = [f"in{i}" for i in range(12)]
    txs = _funded(ins, 35_000_000)
    outs = [(addr(f"mix{i}", "p2wpkh"), 10_000_000) for i in range(15)]  # 0.1 BTC x 15 (> inputs)
    outs += [(addr(f"chg{i}", "p2wpkh"), 1_234_567 + i) for i in range(12)]
    outs.append((addr("coordinator", "p2wpkh"), 45_000))
    txs.append(Tx([(addr(n, "p2wpkh"), 35_000_000) for n in ins], outs))
    assert _kinds(home, txs)[12] == (True, "wasabi1")


def test_wasabi2_round(home: Path) -> None:
    ins = [f"in{i}" for i in range(25)]
    txs = _funded(ins, 3_000_000)
    denoms = [1_000_000, 2_000_000, 500_000, 200_000, 100_000, 50_000, 20_000]
    outs = [(addr(f"o{i}", "p2wpkh"), denoms[i % len(denoms)]) for i in range(50)]
    txs.append(Tx([(addr(n, "p2wpkh"), 3_000_000) for n in ins], outs))
    assert _kinds(home, txs)[25] == (True, "wasabi2")


def test_joinmarket_taker_and_makers(home: Path) -> None:
    ins = ["taker", "maker1", "maker2", "maker3"]
    txs = _funded(ins, 80_000_000)
    amount = 31_415_926  # the taker's arbitrary amount
    outs = [(addr(f"eq{i}", "p2wpkh"), amount) for i in range(4)]
    outs += [(addr(f"mchg{i}", "p2wpkh"), 48_590_000 + i) for i in range(3)]
    txs.append(Tx([(addr(n, "p2wpkh"), 80_000_000) for n in ins], outs))
    assert _kinds(home, txs)[4] == (True, "joinmarket")


def test_whirlpool_tx0_is_not_a_coinjoin(home: Path) -> None:
    # one wallet splits its coins into five 0.05 BTC premix outputs (+ fee, coordinator, change)
    txs = _funded(["w1", "w2"], 20_000_000)
    outs = [(addr(f"pre{i}", "p2wpkh"), 5_000_000 + 42_000) for i in range(5)]
    outs += [(addr("coord", "p2wpkh"), 250_000), (addr("wchange", "p2wpkh"), 14_500_000)]
    txs.append(Tx([(addr("w1", "p2wpkh"), 20_000_000), (addr("w2", "p2wpkh"), 20_000_000)], outs))
    kinds = _kinds(home, txs)
    assert kinds[2] == (False, "whirlpool_tx0")
    store = ChainStore("BTC", home)
    assert store.read_table("clusters").column("cluster_id").to_pylist()[:2] == [0, 0]  # merged


def test_payment_with_two_equal_outputs_is_an_ordinary_tx(home: Path) -> None:
    txs = _funded(["a", "b"], 10_000_000)
    txs.append(
        Tx(
            [(addr("a", "p2wpkh"), 10_000_000), (addr("b", "p2wpkh"), 10_000_000)],
            [
                (addr("p", "p2wpkh"), 5_000_000),
                (addr("q", "p2wpkh"), 5_000_000),
                (addr("c", "p2wpkh"), 9_990_000),
            ],
        )
    )
    assert _kinds(home, txs)[2] == (False, "")


def test_a_round_where_one_whale_takes_most_equal_outputs(home: Path) -> None:
    """Eight input addresses, 26 equal outputs (a whale registered 20 of them) and five
    participants' change outputs: a CoinJoin, though the equal outputs outnumber the
    input addresses three to one (independent world seed 9 had this shape)."""
    ins = [f"in{i}" for i in range(8)]
    txs = _funded(ins, 40_000_000)
    outs = [(addr(f"mix{i}", "p2wpkh"), 8_000_000) for i in range(26)]
    outs += [(addr(f"chg{i}", "p2wpkh"), 2_189_749 + 1_000 * i) for i in range(5)]
    txs.append(Tx([(addr(n, "p2wpkh"), 40_000_000) for n in ins], outs))
    assert _kinds(home, txs)[8] == (True, "generic")


def test_a_batch_payout_of_equal_amounts_is_no_coinjoin(home: Path) -> None:
    """An exchange pays 20 equal withdrawals from six of its addresses, one change back:
    one owner, so multi_input may merge its inputs."""
    ins = [f"hot{i}" for i in range(6)]
    txs = _funded(ins, 50_000_000)
    outs = [(addr(f"cust{i}", "p2wpkh"), 10_000_000) for i in range(20)]
    outs.append((addr("hotchange", "p2wpkh"), 99_000_000))
    txs.append(Tx([(addr(n, "p2wpkh"), 50_000_000) for n in ins], outs))
    assert _kinds(home, txs)[6] == (False, "")
