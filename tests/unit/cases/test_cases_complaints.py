"""Complaint rows: field validation by line, column mapping, de-duplication, chain checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from cases_chainfix import ADDR1, ADDR2, EADDR1, EADDR2, TXA, TXB, TXC, build_btc, build_eth

from fundtrail.cases.complaints import dedupe, parse_complaint, parse_mapping, read_csv
from fundtrail.cases.verify import MISMATCH, UNKNOWN_TX, VERIFIED, verify_payments
from fundtrail.errors import InvalidInputError

HEADER = "complaint_id,victim,reported_at,chain,txid,vout,to_address,amount,asset\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "c.csv"
    path.write_text(header + body)
    return path


def test_bad_rows_reported_by_line_and_field_rest_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"c1,Alice,2024-01-02,BTC,{TXA},0,{ADDR1},50000,BTC\n"
        f"c2,,2024-01-02,BTC,{TXA},1,{ADDR2},7000,BTC\n"  # line 3: victim missing
        f"c3,Bob,2024-01-02,BTC,{TXB},0,{ADDR1[:-1]}x,120000,BTC\n"  # line 4: bad checksum
        f"c4,Carol,2024-01-02,BTC,{TXB},0,{ADDR1},12.5,BTC\n"  # line 5: not base units
        f"c5,Dan,yesterday,BTC,{TXB},0,{ADDR1},1,BTC\n",  # line 6: bad date
    )
    good, errors = read_csv(path)
    assert [g.complaint_id for g in good] == ["c1"]
    assert [(e.line, e.field) for e in errors] == [
        (3, "victim"),
        (4, "address"),
        (5, "amount"),
        (6, "reported_at"),
    ]
    assert "missing" in errors[0].message


def test_map_renames_columns_and_rejects_unknown_targets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"Alice,BTC,{TXA},0,{ADDR1},50000\n",
        header="name,network,hash,index,wallet,sats\n",
    )
    mapping = parse_mapping(
        "name=victim,network=chain,hash=txid,index=vout,wallet=to_address,sats=amount"
    )
    good, errors = read_csv(path, mapping)
    assert errors == []
    assert (good[0].victim, good[0].amount, good[0].asset) == ("Alice", 50000, "BTC")
    with pytest.raises(InvalidInputError, match="not a complaint field"):
        parse_mapping("name=victim_name")
    with pytest.raises(InvalidInputError, match="header lacks column"):
        read_csv(path)


def test_dedupe_keeps_first_payment_and_reports_copy() -> None:
    row = dict(victim="A", chain="btc", txid=TXA.upper(), vout="0", to_address=ADDR1, amount="5")
    a, b = parse_complaint(row, 2), parse_complaint({**row, "victim": "B"}, 3)
    kept, errors = dedupe([a, b])
    assert kept == [a]
    assert errors[0].line == 3 and "line 2" in errors[0].message


def test_evm_txid_normalised_and_vout_optional() -> None:
    c = parse_complaint(
        dict(
            victim="A",
            chain="ETH",
            txid=TXC[2:].upper(),
            vout="",
            to_address=EADDR1.upper().replace("0X", "0x"),
            amount="1",
        )
    )
    assert c.txid == TXC and c.vout is None and c.asset == "ETH" and c.to_address == EADDR1


def test_btc_payments_checked_against_chain(home: Path) -> None:
    build_btc(home)
    base = dict(victim="A", chain="BTC", asset="BTC")
    cases = [
        dict(txid=TXA, vout="0", to_address=ADDR1, amount="50000"),
        dict(txid=TXA, vout="0", to_address=ADDR1, amount="50001"),
        dict(txid=TXA, vout="1", to_address=ADDR1, amount="7000"),
        dict(txid=TXA, vout="7", to_address=ADDR1, amount="7000"),
        dict(txid="ee" * 32, vout="0", to_address=ADDR1, amount="1"),
    ]
    res = verify_payments([parse_complaint({**base, **c}) for c in cases], home)
    assert [(r.status, r.field) for r in res] == [
        (VERIFIED, None),
        (MISMATCH, "amount"),
        (MISMATCH, "to_address"),
        (MISMATCH, "vout"),
        (UNKNOWN_TX, "txid"),
    ]
    assert res[0].time == 1_700_000_000 and res[0].height == 10
    assert "pays 50000, not 50001" in res[1].message


def test_evm_native_and_token_transfers_checked(home: Path) -> None:
    build_eth(home)
    base = dict(victim="A", chain="ETH", txid=TXC)
    cases = [
        dict(vout="", to_address=EADDR1, amount=str(10**18), asset="ETH"),
        dict(vout="4", to_address=EADDR2, amount="2500000", asset="USDT"),
        dict(vout="4", to_address=EADDR2, amount="2500000", asset="USDC"),
        dict(vout="4", to_address=EADDR2, amount="2500001", asset="USDT"),
        dict(vout="5", to_address=EADDR2, amount="2500000", asset="USDT"),
    ]
    res = verify_payments([parse_complaint({**base, **c}) for c in cases], home)
    assert [(r.status, r.field) for r in res] == [
        (VERIFIED, None),
        (VERIFIED, None),
        (MISMATCH, "asset"),
        (MISMATCH, "amount"),
        (MISMATCH, "vout"),
    ]


def test_empty_store_means_unknown_tx(home: Path) -> None:
    c = parse_complaint(
        dict(victim="A", chain="BTC", txid=TXA, vout="0", to_address=ADDR1, amount="1")
    )
    (r,) = verify_payments([c], home)
    assert r.status == UNKNOWN_TX and "no BTC blocks" in r.message


def test_binary_or_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\n\x81")
    with pytest.raises(InvalidInputError, match="not a UTF-8 CSV file"):
        read_csv(path)
    with pytest.raises(InvalidInputError, match="no such file"):
        read_csv(tmp_path / "nope.csv")
