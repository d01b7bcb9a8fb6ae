"""Gas accounting and exact values: what one block becomes in the transfers table."""

from __future__ import annotations

from pathlib import Path

from fundtrail.chains.evm import reads
from fundtrail.chains.evm.records import BlockRecord, Move, TxRecord
from fundtrail.chains.evm.rows import AssetBook, AssetInfo, RowBuilder
from fundtrail.chainstore.addressbook import AddressBook
from fundtrail.chainstore.store import ChainStore

ALICE, BOB, MINER = "0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20
TOKEN = "0x" + "d4" * 20
GWEI = 10**9


def _ingest(home: Path, block: BlockRecord, genesis: list[Move]) -> ChainStore:
    store = ChainStore("ETH", home)
    assets = AssetBook(store)
    assets.add(AssetInfo(TOKEN, "BIG", 0))
    builder = RowBuilder(AddressBook(store), assets)
    builder.add(block)
    builder.add_genesis(genesis, block.number)
    with store.writer() as w:
        w.commit(builder.tables())
    return store


def _h(n: int) -> str:
    return "0x" + f"{n:064x}"


def test_fees_split_into_tip_and_burn_and_balances_are_exact(home: Path) -> None:
    block = BlockRecord(1, _h(1), _h(0), 1_700_000_000, MINER, base_fee=10 * GWEI, gas_used=0)
    # a transfer paying 12 gwei/gas over a 10 gwei base fee: 2 gwei/gas tip to the miner
    block.txs.append(TxRecord(_h(11), 0, ALICE, BOB, 10**18, 21_000, 12 * GWEI, 1))
    # a failed call: gas is paid, the 5 ETH value does not move
    block.txs.append(TxRecord(_h(12), 1, ALICE, BOB, 5 * 10**18, 50_000, 11 * GWEI, 0, blob_fee=7))
    # a token amount beyond 38 digits (spam tokens mint 2**256-1)
    block.moves.append(Move("token", BOB, ALICE, 2**256 - 1, _h(11), 0, 3, -1, TOKEN))
    store = _ingest(home, block, [Move("genesis", "genesis", ALICE, 100 * 10**18)])

    rows = (
        store.connect()
        .sql("SELECT tx_hash, kind, value::VARCHAR, value_text FROM transfers ORDER BY ALL")
        .fetchall()
    )
    assert (_h(11), "fee", str(21_000 * 2 * GWEI), None) in rows
    assert (_h(11), "burn", str(21_000 * 10 * GWEI), None) in rows
    assert (_h(12), "burn", str(50_000 * 10 * GWEI + 7), None) in rows  # base fee + blob fee
    assert (_h(12), "fee", str(50_000 * 1 * GWEI), None) in rows
    assert not [r for r in rows if r[0] == _h(12) and r[1] == "native"]
    assert (_h(11), "token", None, str(2**256 - 1)) in rows

    alice = reads.address_summary(store, ALICE)
    paid = 21_000 * 12 * GWEI + 50_000 * 11 * GWEI + 7
    assert alice["balance"] == 100 * 10**18 - 10**18 - paid
    assert alice["tokens"][0]["balance"] == 2**256 - 1
    assert alice["tokens"][0]["symbol"] == "BIG"
    assert reads.address_summary(store, MINER)["balance"] == 21_000 * 2 * GWEI + 50_000 * GWEI
    assert reads.tx_summary(store, _h(12))["status"] == "failed"
    assert reads.tx_summary(store, _h(12))["fee"] == 50_000 * 11 * GWEI + 7


def test_pre_london_fee_goes_entirely_to_the_miner(home: Path) -> None:
    block = BlockRecord(5, _h(5), _h(4), 1_400_000_000, MINER, base_fee=None, gas_used=21_000)
    block.txs.append(TxRecord(_h(51), 0, ALICE, None, 10**17, 53_000, 20 * GWEI, 1, created=BOB))
    store = _ingest(home, block, [])
    kinds = (
        store.connect().sql("SELECT kind, value::VARCHAR FROM transfers ORDER BY kind").fetchall()
    )
    assert kinds == [("fee", str(53_000 * 20 * GWEI)), ("native", str(10**17))]
    # a contract creation's value goes to the created contract
    assert reads.address_summary(store, BOB)["balance"] == 10**17


def test_blocks_added_together_get_the_ids_added_one_at_a_time_would(tmp_path: Path) -> None:
    carol, dave = "0x" + "e5" * 20, "0x" + "f6" * 20
    blocks = []
    for n, (a, b) in enumerate([(ALICE, BOB), (carol, ALICE), (dave, carol)], start=1):
        blk = BlockRecord(n, _h(n), _h(n - 1), 1_700_000_000 + n, MINER, None, 21_000)
        blk.txs.append(TxRecord(_h(10 * n), 0, a, b, n, 21_000, GWEI, 1))
        blk.moves.append(Move("token", b, dave if n == 1 else a, 5, _h(10 * n), 0, 0, -1, TOKEN))
        blocks.append(blk)
    tables = []
    for together, home in ((False, tmp_path / "one"), (True, tmp_path / "all")):
        store = ChainStore("ETH", home)
        builder = RowBuilder(AddressBook(store), AssetBook(store))
        if together:
            builder.add_all(blocks)
        else:
            for blk in blocks:
                builder.add(blk)
        tables.append({k: t.to_pylist() for k, t in builder.tables().items()})
    assert tables[0] == tables[1]
    first_seen = {r["address"]: r["first_seen"] for r in tables[1]["addresses"]}
    assert (first_seen[ALICE], first_seen[carol], first_seen[dave]) == (1, 2, 1)
