"""One ledger interface: each registry chain has one adapter; names that are not chains fail.

Addresses below are real: USDT's TRC-20 contract and the 21-byte hex form of that same
address (``41`` + the 20-byte account id), which base58check turns back into ``TR7N…``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest

from fundtrail.chains.ledger import ledger_chains, ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import main
from fundtrail.errors import InvalidInputError
from fundtrail.model.chains import CHAINS, get_chain

USDT_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_TRON_HEX = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"
TXID = "ab" * 32


@pytest.mark.parametrize("code", ledger_chains())
def test_every_ledger_chain_has_the_adapter_of_its_family(code: str) -> None:
    ledger = ledger_for(code)
    assert ledger.family == get_chain(code).family
    assert ledger is ledger_for(get_chain(code))  # chosen once, then reused
    assert ledger.default_heuristics and set(ledger.default_heuristics) <= set(ledger.heuristics)
    assert ledger.native().symbol == get_chain(code).native_asset


def test_families_share_a_table_layout_but_not_address_rules() -> None:
    btc, eth, trx = ledger_for("BTC"), ledger_for("ETH"), ledger_for("TRON")
    assert (btc.shape, eth.shape, trx.shape) == ("utxo", "account", "account")
    assert trx.parse_address(USDT_TRON_HEX).display == USDT_TRON
    with pytest.raises(InvalidInputError, match="not an EVM address"):
        eth.parse_address(USDT_TRON)
    assert eth.parse_txid(TXID) == "0x" + TXID
    assert trx.parse_txid("0x" + TXID.upper()) == TXID == btc.parse_txid(TXID)
    with pytest.raises(InvalidInputError, match="TRON transaction id"):
        trx.parse_txid("abc")


def test_tokens_are_assets_not_chains() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown chain 'USDT'; known: .*TRX"):
        get_chain("USDT")
    assert ledger_for("TRX").asset("USDT").decimals == 6
    assert ledger_for("BSC").asset("USDT").decimals == 18
    # a row of a store's assets table: the table's entry wins for a known contract ...
    assert ledger_for("TRX").stored_asset(USDT_TRON, "FAKE", 18).decimals == 6
    # ... an unknown token keeps what its contract declared, or stays unknown (never 18)
    other = "0x" + "ab" * 20
    assert ledger_for("ETH").stored_asset(other, "SPAM", 9).decimals == 9
    assert ledger_for("ETH").stored_asset(other, None, None).decimals is None


def test_chains_without_a_ledger_say_so() -> None:
    assert "XMR" in CHAINS
    with pytest.raises(InvalidInputError, match="holds no Monero ledger"):
        ledger_for("XMR")
    with pytest.raises(InvalidInputError, match="holds no Monero ledger"):
        ChainStore("XMR")


def _fundtrail(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The real entry point in process: exit code and stderr, as a shell user sees them."""
    with mock.patch.object(sys, "argv", ["fundtrail", *args]), pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


def test_an_unknown_chain_is_an_error_and_leaves_no_folder(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidInputError, match="unknown chain 'foo'; known: ARB, AVAX, BASE"):
        ChainStore("foo", home)
    code, err = _fundtrail(capsys, "stats", "--chain", "foo")
    assert code == 2 and "unknown chain 'foo'" in err and "TRX" in err
    assert not (home / "chains" / "foo").exists()


def test_reading_a_chain_never_written_creates_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _fundtrail(capsys, "address", USDT_TRON, "--chain", "tron")
    assert code == 2 and "TRX chain store" in err and "is empty" in err
    assert not (home / "chains" / "trx").exists()
