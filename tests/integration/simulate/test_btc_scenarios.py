"""A simulated Bitcoin chain read back by independent parsers and checked against its truth.

python-bitcoinlib deserializes every block; fundtrail's own parser and ingester
read the same files; the truth (cash-outs, complaints, coinjoins, ownership)
must point at outputs that really exist with the stated amounts.
"""

from __future__ import annotations

import csv
import hashlib
import json
import struct
from collections import Counter, defaultdict
from pathlib import Path

import bitcoin
import pytest
from bitcoin.core import CBlock, CheckBlock, b2lx, lx
from bitcoin.core.script import CScript
from bitcoin.wallet import CBitcoinAddress, CBitcoinAddressError

from fundtrail.chains.simulate import run
from fundtrail.model.addresses import parse_address
from fundtrail.model.encoding import segwit_encode

GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def read_blocks(blocks_dir: Path) -> list[bytes]:
    raws = []
    for path in sorted(blocks_dir.glob("blk*.dat")):
        data = path.read_bytes()
        off = 0
        while off < len(data):
            assert data[off : off + 4] == bytes.fromhex("f9beb4d9"), f"bad magic at {path}:{off}"
            (n,) = struct.unpack_from("<I", data, off + 4)
            raws.append(data[off + 8 : off + 8 + n])
            off += 8 + n
    return raws


def script_address(script: bytes) -> str | None:
    if len(script) == 34 and script[:2] == b"\x51\x20":  # taproot: newer than python-bitcoinlib
        return segwit_encode("bc", 1, script[2:])
    try:
        return str(CBitcoinAddress.from_scriptPubKey(CScript(script)))
    except CBitcoinAddressError:
        return None


class Replay:
    """The chain replayed with python-bitcoinlib: outputs, balances, txs by id."""

    def __init__(self, raws: list[bytes]) -> None:
        self.blocks = [CBlock.deserialize(r) for r in raws]
        self.outputs: dict[tuple[str, int], tuple[str | None, int]] = {}
        self.unspent: dict[tuple[str, int], tuple[str | None, int]] = {}
        self.txs: dict[str, object] = {}
        self.time: dict[str, int] = {}
        self.fees = 0
        self.minted = 0
        for b in self.blocks:
            for tx in b.vtx:
                txid = b2lx(tx.GetTxid())
                self.txs[txid] = tx
                self.time[txid] = b.nTime
                value_in = 0
                if tx.is_coinbase():
                    self.minted += sum(o.nValue for o in tx.vout)
                else:
                    for i in tx.vin:
                        _, v = self.unspent.pop((b2lx(i.prevout.hash), i.prevout.n))
                        value_in += v
                    out = sum(o.nValue for o in tx.vout)
                    assert value_in >= out, f"tx {txid} creates money"
                    self.fees += value_in - out
                for n, o in enumerate(tx.vout):
                    entry = (script_address(bytes(o.scriptPubKey)), o.nValue)
                    self.outputs[(txid, n)] = entry
                    self.unspent[(txid, n)] = entry

    def balances(self) -> dict[str, int]:
        bal: dict[str, int] = defaultdict(int)
        for addr, value in self.unspent.values():
            if addr is not None:
                bal[addr] += value
        return dict(bal)


@pytest.fixture(scope="module")
def scam(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay, dict]:
    out = tmp_path_factory.mktemp("scam")
    run("investment-scam", out, seed=7, txs=2000)
    truth = json.loads((out / "truth.json").read_text())
    return out, Replay(read_blocks(out / "blocks")), truth


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay, dict]:
    out = tmp_path_factory.mktemp("mixed")
    run("mixed", out, seed=11, txs=2500)
    truth = json.loads((out / "truth.json").read_text())
    return out, Replay(read_blocks(out / "blocks")), truth


def test_blocks_are_valid_mainnet_style_blocks(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, _ = scam
    prev = lx(GENESIS)
    last_time = 0
    for height, block in enumerate(replay.blocks, start=1):
        bitcoin.SelectParams("regtest")  # proof-of-work limit of 0x207fffff blocks
        try:
            CheckBlock(block)  # merkle root, proof of work against its bits, sizes, coinbase
        finally:
            bitcoin.SelectParams("mainnet")
        assert block.hashPrevBlock == prev
        assert block.nBits == 0x207FFFFF
        assert block.nTime > last_time
        coinbase = block.vtx[0]
        expected = bytes([0x50 + height]) if height <= 16 else None
        sig = bytes(coinbase.vin[0].scriptSig)
        if expected is None:
            n = sig[0]
            assert int.from_bytes(sig[1 : 1 + n], "little") == height
        else:
            assert sig[:1] == expected
        prev, last_time = block.GetHash(), block.nTime
    assert replay.blocks[0].nTime >= 1704067200  # 2024-01-01


def test_segwit_blocks_carry_the_witness_commitment(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, _ = scam
    checked = 0
    for block in replay.blocks:
        if not any(tx.has_witness() for tx in block.vtx[1:]):
            continue
        wtxids = [b"\0" * 32] + [tx.GetHash() for tx in block.vtx[1:]]
        root = _merkle(wtxids)
        reserved = bytes(block.vtx[0].wit.vtxinwit[0].scriptWitness.stack[0])
        commit = hashlib.sha256(hashlib.sha256(root + reserved).digest()).digest()
        scripts = [bytes(o.scriptPubKey) for o in block.vtx[0].vout]
        assert b"\x6a\x24\xaa\x21\xa9\xed" + commit in scripts
        checked += 1
    assert checked > 10


def _merkle(hashes: list[bytes]) -> bytes:
    def h(x: bytes) -> bytes:
        return hashlib.sha256(hashlib.sha256(x).digest()).digest()

    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes = [*hashes, hashes[-1]]
        hashes = [h(hashes[i] + hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def test_every_script_type_and_both_serializations_occur(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, truth = scam
    kinds = Counter(parse_address(a, "BTC").kind for a in truth["addresses"])
    assert {"p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr"} <= set(kinds)
    legacy = sum(1 for tx in replay.txs.values() if not tx.has_witness())
    segwit = len(replay.txs) - legacy
    assert legacy > 50 and segwit > 50


def test_value_is_conserved(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, _ = scam
    subsidy = 50 * 100_000_000
    assert replay.minted == subsidy * len(replay.blocks) + replay.fees
    assert sum(v for _, v in replay.unspent.values()) == subsidy * len(replay.blocks)


def test_truth_covers_every_address_and_groups_owners(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, truth = scam
    on_chain = {a for a, _ in replay.outputs.values() if a is not None}
    assert on_chain == set(truth["addresses"])
    entities = {e["id"]: e for e in truth["entities"]}
    for addr, info in truth["addresses"].items():
        assert addr in entities[info["entity"]]["addresses"]
    multi = sorted(sorted(e["addresses"]) for e in truth["entities"] if len(e["addresses"]) > 1)
    assert sorted(sorted(c) for c in truth["clusters"]) == multi
    kinds = Counter(e["kind"] for e in truth["entities"])
    assert 3 <= kinds["exchange"] <= 5 and kinds["miner"] >= 2 and kinds["scam"] == 1
    assert kinds["victim"] >= 100


def test_cashouts_pay_exchange_deposit_addresses(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, truth = scam
    camp = truth["campaigns"][0]
    victim_exchange = _exchange_of(truth, camp)
    assert truth["cashouts"], "the gang never cashed out"
    for c in truth["cashouts"]:
        addr, value = replay.outputs[(c["txid"], c["vout"])]
        assert (addr, value) == (c["deposit_address"], c["amount"])
        info = truth["addresses"][addr]
        assert info == {"entity": c["exchange"], "role": "deposit"}
        assert c["exchange"] != victim_exchange  # proceeds leave through OTHER exchanges
    cashed = sum(c["amount"] for c in truth["cashouts"])
    assert 0 < cashed <= camp["total_loss"]["BTC"]


def _exchange_of(truth: dict, camp: dict) -> str:
    """The exchange the victims withdrew from: the owner of the complaint txs' inputs' change."""
    owners = Counter()
    for addr in camp["collection_addresses"]:
        assert truth["addresses"][addr]["role"] in ("collection", "ransom_payment")
    for c in truth["cashouts"]:
        owners[c["exchange"]] += 1
    ids = [e["id"] for e in truth["entities"] if e["kind"] == "exchange"]
    return next(i for i in ids if i not in owners)


def test_complaints_match_real_victim_payments(scam: tuple[Path, Replay, dict]) -> None:
    out, replay, truth = scam
    with open(out / "complaints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "complaint_id", "victim", "reported_at", "chain", "txid", "vout", "to_address", "amount",
        "asset", "perpetrator_email", "perpetrator_site", "perpetrator_phone",
        "perpetrator_handle",
    ]  # fmt: skip
    camp = truth["campaigns"][0]
    assert camp["id"] == "scam-1" and camp["kind"] == "investment-scam"
    assert len(rows) == camp["victims"] == len(camp["complaint_ids"]) >= 100
    total = 0
    for row in rows:
        addr, value = replay.outputs[(row["txid"], int(row["vout"]))]
        assert (addr, value) == (row["to_address"], int(row["amount"]))
        assert row["to_address"] in camp["collection_addresses"]
        assert row["chain"] == "BTC" and row["asset"] == "BTC"
        assert row["reported_at"].endswith("Z")
        total += value
    assert camp["total_loss"] == {"BTC": total}
    # most scam victims name the platform's site they were shown (typed their own way)
    assert sum(bool(r["perpetrator_site"]) for r in rows) > len(rows) / 2
    # victims withdrew from one exchange: every complaint tx spends that exchange's hot wallet
    spenders = set()
    for row in rows:
        tx = replay.txs[row["txid"]]
        for i in tx.vin:
            addr, _ = replay.outputs[(b2lx(i.prevout.hash), i.prevout.n)]
            spenders.add(truth["addresses"][addr]["entity"])
    assert len(spenders) == 1 and spenders.pop().startswith("exchange-")


def test_coinjoins_have_equal_outputs(scam: tuple[Path, Replay, dict]) -> None:
    _, replay, truth = scam
    assert truth["coinjoin_txids"]
    shapes = Counter()
    for txid in truth["coinjoin_txids"]:
        tx = replay.txs[txid]
        values = Counter(o.nValue for o in tx.vout)
        top, count = values.most_common(1)[0]
        assert count >= 2 and len(tx.vin) >= 3
        if len(tx.vin) == 5 and len(tx.vout) == 5 and count == 5:
            assert top in (100_000, 1_000_000, 5_000_000, 50_000_000)
            shapes["whirlpool"] += 1
        elif top == 10_000_000:
            shapes["wasabi1"] += 1
    assert shapes["whirlpool"] and shapes["wasabi1"]


def test_tags_name_a_few_hot_wallets(scam: tuple[Path, Replay, dict]) -> None:
    import yaml

    out, _, truth = scam
    pack = yaml.safe_load((out / "tags.yaml").read_text())
    assert {"title", "creator", "is_public", "tags"} <= set(pack)
    exchanges = {e["id"] for e in truth["entities"] if e["kind"] == "exchange"}
    tagged = set()
    for tag in pack["tags"]:
        info = truth["addresses"][tag["address"]]
        assert info["role"] == "hot_wallet" and tag["category"] == "exchange"
        assert tag["currency"] == "BTC" and tag["confidence"] == "service_data"
        tagged.add(info["entity"])
    assert 1 <= len(tagged) < len(exchanges)
    from fundtrail.intel.tagpack import read_tagpack

    problems: list = []
    read = list(read_tagpack(out / "tags.yaml", problems))
    assert not problems and len(read) == len(pack["tags"])


def test_same_seed_same_bytes_other_seed_other_chain(tmp_path: Path) -> None:
    files = ("blocks/blk00000.dat", "truth.json", "complaints.csv", "tags.yaml")
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    run("ransomware", a, seed=5, txs=800)
    run("ransomware", b, seed=5, txs=800)
    run("ransomware", c, seed=6, txs=800)
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / files[0]).read_bytes() != (c / files[0]).read_bytes()
    assert not (a / ".addresses.tmp").exists()


def test_mixed_has_both_campaigns_and_a_mixer(mixed: tuple[Path, Replay, dict]) -> None:
    _, replay, truth = mixed
    kinds = {c["kind"]: c for c in truth["campaigns"]}
    assert set(kinds) == {"investment-scam", "ransomware"}
    ransom = kinds["ransomware"]
    # a unique payment address per victim
    assert (
        len(set(ransom["collection_addresses"]))
        == len(ransom["complaint_ids"])
        == ransom["victims"]
    )
    roles = Counter(v["role"] for v in truth["addresses"].values())
    assert roles["ransom_payment"] == ransom["victims"]
    assert any(e["kind"] == "mixer" for e in truth["entities"])
    by_campaign = Counter(c["campaign"] for c in truth["cashouts"])
    assert by_campaign["ransomware-1"] and by_campaign["scam-1"]
    for c in truth["cashouts"]:
        assert replay.outputs[(c["txid"], c["vout"])] == (c["deposit_address"], c["amount"])


def test_mixer_orders_pair_an_order_address_with_the_gangs_payouts(
    mixed: tuple[Path, Replay, dict],
) -> None:
    # what only the truth can say: which of the mixer's payouts paid back which order
    _, replay, truth = mixed
    orders = truth["mixer_orders"]
    assert orders
    owner = truth["addresses"]
    paid = Counter(a for a, _ in replay.outputs.values())
    for m in orders:
        assert m["campaign"] == "ransomware-1"
        assert owner[m["deposit_address"]] == {"entity": "mixer-1", "role": "mixer_deposit"}
        assert paid[m["deposit_address"]] == 1  # one order, one address
        assert 2 <= len(m["payouts"]) <= 4
        for a in m["payouts"]:
            if a in owner:  # paid by the chain's end
                assert owner[a] == {"entity": "ransomware-1", "role": "payment"}


def test_project_parser_reads_the_same_blocks(scam: tuple[Path, Replay, dict]) -> None:
    from fundtrail.chains.bitcoin.parse import check_pow, parse_block

    out, replay, _ = scam
    for raw, block in zip(read_blocks(out / "blocks"), replay.blocks, strict=True):
        ours = parse_block(raw)
        assert ours.header.hash == block.GetHash()
        assert ours.merkle_root() == ours.header.merkle_root
        assert check_pow(ours.header)
        assert [t.txid for t in ours.txs] == [b2lx(t.GetTxid()) for t in block.vtx]


def test_ingest_balances_agree_with_replay(scam: tuple[Path, Replay, dict], home: Path) -> None:
    from typer.testing import CliRunner

    from fundtrail.chainstore.store import ChainStore
    from fundtrail.cli.main import app

    out, replay, truth = scam
    result = CliRunner().invoke(app, ["ingest", "bitcoin", str(out / "blocks"), "--quiet"])
    assert result.exit_code == 0, result.output
    con = ChainStore("BTC").connect()
    rows = con.execute(
        """
        SELECT a.address, sum(o.value) FROM outputs o
        JOIN addresses a USING (address_id)
        ANTI JOIN inputs i ON i.spent_tx_id = o.tx_id AND i.spent_n = o.n
        GROUP BY a.address
        """
    ).fetchall()
    stored = {addr: int(v) for addr, v in rows if addr in truth["addresses"]}
    assert stored == replay.balances()
    by_entity: dict[str, int] = defaultdict(int)
    for addr, v in stored.items():
        by_entity[truth["addresses"][addr]["entity"]] += v
    exchanges = [e for e, v in by_entity.items() if e.startswith("exchange-") and v > 0]
    assert len(exchanges) >= 3
