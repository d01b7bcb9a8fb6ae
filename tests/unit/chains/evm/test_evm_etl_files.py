"""ethereum-etl exports in (CSV and JSON lines): real fixtures and a hand-made trace case."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from fundtrail.chains.evm import reads
from fundtrail.chains.evm.ingest import ingest_files
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import SourceError

DATA = Path(__file__).resolve().parents[3] / "data" / "evm" / "etl"
ETH, GWEI = 10**18, 10**9
ALICE, BOB, CAROL, DAVE = ("0x" + c * 40 for c in "abcd")
CONTRACT, CHILD, LIB, MINER = ("0x" + c * 40 for c in "1234")


def _tokens(store: ChainStore) -> list[tuple[str, ...]]:
    return sorted(store.connect().sql(
        """SELECT a.contract, f.address, r.address, t.value::VARCHAR, t.tx_hash FROM transfers t
           JOIN assets a USING (asset_id) JOIN addresses f ON f.address_id = t.from_id
           JOIN addresses r ON r.address_id = t.to_id WHERE kind = 'token'"""
    ).fetchall())  # fmt: skip


def test_json_export_token_transfers_from_logs_equal_ethereum_etls(tmp_path: Path) -> None:
    src = DATA / "json_1755634_1755635"
    with_tt = ingest_files(src, home=tmp_path / "a")
    logs_only = tmp_path / "logs_only"
    shutil.copytree(src, logs_only)
    (logs_only / "token_transfers.json").unlink()  # decode logs.json instead
    ingest_files(logs_only, home=tmp_path / "b")
    expected = [json.loads(x) for x in (src / "token_transfers.json").read_text().splitlines()]
    want = sorted((e["token_address"], e["from_address"], e["to_address"], str(e["value"]),
                   e["transaction_hash"]) for e in expected)  # fmt: skip
    a, b = ChainStore("ETH", tmp_path / "a"), ChainStore("ETH", tmp_path / "b")
    assert _tokens(a) == _tokens(b) == want
    assert (with_tt.blocks, with_tt.txs) == (2, 2)


def test_csv_export_with_separate_receipts_file(home: Path) -> None:
    report = ingest_files(DATA / "csv_483920", home=home)
    store = ChainStore("ETH", home)
    fees = dict(store.connect().sql("SELECT tx_hash, fee FROM txs").fetchall())
    receipts = list(csv.DictReader((DATA / "csv_483920" / "receipts.csv").open()))
    assert {r["transaction_hash"]: int(r["gas_used"]) * int(r["effective_gas_price"])
            for r in receipts} == {k: int(v) for k, v in fees.items()}  # fmt: skip
    assert report.transfers == 8
    again = ingest_files(DATA / "csv_483920", home=home)  # resumable: nothing twice
    assert again.blocks == 0 and reads.stats(store)["transfers"] == 8


def _write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    with (folder / name).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _h(n: int) -> str:
    return "0x" + f"{n:064x}"


def _trace(tx: str | None, frm: str | None, to: str, value: int, kind: str, path: str = "",
           call_type: str | None = "call", error: str = "") -> dict[str, object]:  # fmt: skip
    return {"block_number": 0 if kind == "genesis" else 1, "transaction_hash": tx or "",
            "transaction_index": 0 if tx else "", "from_address": frm or "", "to_address": to,
            "value": value, "trace_type": kind, "call_type": call_type or "",
            "reward_type": "block" if kind == "reward" else "", "trace_address": path,
            "error": error, "status": 0 if error else 1}  # fmt: skip


@pytest.fixture
def traced_export(tmp_path: Path) -> Path:
    """Genesis, a call tree with a failed branch, delegatecall, create, suicide, a block
    reward, beacon withdrawals and a failed transaction under EIP-1559."""
    d = tmp_path / "export"
    d.mkdir()
    withdrawal = json.dumps({"index": 1, "validator_index": 7, "address": CAROL, "amount": GWEI})
    _write(d, "blocks.csv", [
        {"number": 0, "hash": _h(100), "parent_hash": _h(0), "miner": MINER, "timestamp": 10,
         "gas_used": 0, "base_fee_per_gas": "", "withdrawals": ""},
        {"number": 1, "hash": _h(101), "parent_hash": _h(100), "miner": MINER, "timestamp": 20,
         "gas_used": 100000, "base_fee_per_gas": "", "withdrawals": ""},
        {"number": 2, "hash": _h(102), "parent_hash": _h(101), "miner": MINER, "timestamp": 30,
         "gas_used": 21000, "base_fee_per_gas": 25 * GWEI, "withdrawals": withdrawal},
    ])  # fmt: skip
    tx = {"nonce": 0, "gas": 200000, "input": "0x", "receipt_contract_address": ""}
    _write(d, "transactions.csv", [
        {**tx, "hash": _h(1), "block_number": 1, "transaction_index": 0, "from_address": ALICE,
         "to_address": CONTRACT, "value": 10 * ETH, "gas_price": 20 * GWEI,
         "receipt_gas_used": 100000, "receipt_status": 1, "receipt_effective_gas_price": 20 * GWEI},
        {**tx, "hash": _h(2), "block_number": 2, "transaction_index": 0, "from_address": BOB,
         "to_address": ALICE, "value": ETH, "gas_price": 30 * GWEI,
         "receipt_gas_used": 21000, "receipt_status": 0, "receipt_effective_gas_price": 30 * GWEI},
    ])  # fmt: skip
    _write(d, "traces.csv", [
        _trace(None, None, ALICE, 100 * ETH, "genesis", call_type=None),
        _trace(None, None, BOB, 50 * ETH, "genesis", call_type=None),
        _trace(_h(1), ALICE, CONTRACT, 10 * ETH, "call"),  # the tx itself: native, not internal
        _trace(_h(1), CONTRACT, BOB, 3 * ETH, "call", "0"),
        _trace(_h(1), CONTRACT, CAROL, 2 * ETH, "call", "1", error="Reverted"),
        _trace(_h(1), CAROL, DAVE, ETH, "call", "1,0"),  # below a failed call: nothing moved
        _trace(_h(1), CONTRACT, LIB, 10 * ETH, "call", "2", call_type="delegatecall"),
        _trace(_h(1), CONTRACT, CHILD, ETH, "create", "3", call_type=None),
        _trace(_h(1), CHILD, BOB, ETH, "suicide", "3,0", call_type=None),
        _trace(None, None, MINER, 2 * ETH, "reward", call_type=None),
    ])  # fmt: skip
    return d


def test_traces_genesis_rewards_withdrawals_and_failures(home: Path, traced_export: Path) -> None:
    ingest_files(traced_export, home=home)
    store = ChainStore("ETH", home)

    def bal(a: str) -> int:
        return int(reads.address_summary(store, a)["balance"])

    assert bal(ALICE) == 100 * ETH - 10 * ETH - 100000 * 20 * GWEI
    assert bal(BOB) == 50 * ETH + 3 * ETH + ETH - 21000 * 30 * GWEI  # failed tx: gas only
    assert bal(CONTRACT) == 10 * ETH - 3 * ETH - ETH
    assert bal(CHILD) == 0 and bal(CAROL) == ETH  # CAROL: one beacon withdrawal
    assert bal(MINER) == 100000 * 20 * GWEI + 2 * ETH + 21000 * 5 * GWEI
    for absent in (DAVE, LIB):
        with pytest.raises(Exception, match="does not appear"):
            reads.address_summary(store, absent)
    kinds = reads.stats(store)["transfers_by_kind"]
    assert kinds == {"burn": 1, "fee": 2, "genesis": 2, "internal": 3, "native": 1, "reward": 2}


def test_bad_rows_name_file_line_and_column(tmp_path: Path, traced_export: Path) -> None:
    path = traced_export / "transactions.csv"
    text = path.read_text().splitlines()
    text[2] = text[2].replace(str(ETH), "1e18", 1)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(SourceError, match=r"transactions.csv:3: column 'value' is not an integer"):
        ingest_files(traced_export, home=tmp_path / "ws")
    assert ChainStore("ETH", tmp_path / "ws").is_empty()


def test_missing_receipts_and_missing_blocks_are_explained(tmp_path: Path) -> None:
    d = tmp_path / "no_receipts"
    d.mkdir()
    src = DATA / "csv_483920"
    shutil.copy(src / "blocks.csv", d)
    shutil.copy(src / "transactions.csv", d)
    with pytest.raises(SourceError, match="has no receipt"):
        ingest_files(d, home=tmp_path / "ws")
    with pytest.raises(SourceError, match="no blocks file"):
        ingest_files(tmp_path / "ws", home=tmp_path / "ws2")


@pytest.mark.realdata
def test_post_shanghai_mainnet_export(home: Path, shared_data: Path) -> None:
    """Blocks 17173049-17173050 as ethereum-etl exported them (JSON lines, expected_* names
    copied as-is): 298 txs with EIP-1559 burns, 291 token transfers, beacon withdrawals."""
    src = shared_data / "ethereum-etl-fixtures/tests/resources/test_stream/blocks_17173049_17173050"
    folder = home.parent / "export"
    folder.mkdir()
    for table in ("blocks", "transactions", "logs"):
        shutil.copy(src / f"expected_{table}.json", folder / f"{table}.json")
    report = ingest_files(folder, home=home)
    assert (report.blocks, report.txs) == (2, 298)
    store = ChainStore("ETH", home)
    expected = [
        json.loads(x) for x in (src / "expected_token_transfers.json").read_text().splitlines()
    ]
    want = sorted((e["token_address"], e["from_address"], e["to_address"], str(e["value"]),
                   e["transaction_hash"]) for e in expected)  # fmt: skip
    assert _tokens(store) == want  # decoded from the logs, equal to ethereum-etl's extraction
    blocks = [json.loads(x) for x in (src / "expected_blocks.json").read_text().splitlines()]
    txs = [json.loads(x) for x in (src / "expected_transactions.json").read_text().splitlines()]
    base = {b["number"]: b["base_fee_per_gas"] for b in blocks}
    burned = sum(t["receipt_gas_used"] * base[t["block_number"]] for t in txs)
    withdrawn = sum(w["amount"] for b in blocks for w in b["withdrawals"]) * GWEI
    con = store.connect()
    by_kind = dict(
        con.sql("SELECT kind, sum(value)::VARCHAR FROM transfers GROUP BY kind").fetchall()
    )
    assert int(by_kind["burn"]) == burned and int(by_kind["reward"]) == withdrawn
    fees = sum(t["receipt_gas_used"] * t["receipt_effective_gas_price"] for t in txs)
    assert int(by_kind["burn"]) + int(by_kind["fee"]) == fees


def test_files_from_another_chain_or_with_a_gap_are_refused(
    tmp_path: Path, traced_export: Path
) -> None:
    """Mainnet block 483,920 into a store of blocks 0..2 of another chain: refused by
    name, and nothing stored (the RPC path checks the same)."""
    home = tmp_path / "ws"
    ingest_files(traced_export, home=home)
    store = ChainStore("ETH", home)
    version = store.version
    with pytest.raises(SourceError, match=r"block 483920 .* ends at block 2; .* without a gap"):
        ingest_files(DATA / "csv_483920", home=home)
    store.refresh()
    assert store.version == version and store.row_count("blocks") == 3


def test_files_whose_blocks_do_not_chain_are_refused(tmp_path: Path, traced_export: Path) -> None:
    blocks = (traced_export / "blocks.csv").read_text()
    (traced_export / "blocks.csv").write_text(blocks.replace(_h(101), _h(555), 1))
    with pytest.raises(SourceError, match=r"block 2 .* parent hash .* another chain"):
        ingest_files(traced_export, home=tmp_path / "ws")
    assert ChainStore("ETH", tmp_path / "ws").is_empty()
