"""The asset table and the one display layer: decimals per chain, exact formatting."""

from __future__ import annotations

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.model import display
from fundtrail.model.addresses import parse_address
from fundtrail.model.assets import asset, from_key, known_tokens, native, token


@pytest.mark.parametrize("tok", known_tokens(), ids=lambda a: a.key)
def test_every_listed_contract_passes_its_chain_checksum(tok) -> None:
    # EIP-55 on EVM chains, base58check on TRON: a typo in the table would fail here
    parsed = parse_address(tok.contract, tok.chain)
    assert parsed.display.lower() == tok.contract.lower()


def test_usdt_is_three_assets_not_one() -> None:
    decimals = {c: asset(c, "USDT").decimals for c in ("ETH", "TRX", "BSC")}
    assert decimals == {"ETH": 6, "TRX": 6, "BSC": 18}
    assert len({asset(c, "USDT").key for c in decimals}) == 3


def test_keys_round_trip() -> None:
    for a in [native("BTC"), native("TRX"), *known_tokens()]:
        assert from_key(a.key) == a
    unknown = token("ETH", "0x" + "ab" * 20, symbol="SPAM", decimals=9)
    assert unknown.key == "ETH/0x" + "ab" * 20
    assert unknown.decimals == 9


def test_unknown_symbol_names_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match="known: BTC"):
        asset("BTC", "USDT")


def test_amounts_are_exact_and_grouped() -> None:
    btc, usdt = native("BTC"), asset("TRX", "USDT")
    assert display.amount(174653173, btc) == "1.74653173 BTC"
    assert display.amount(10**8 * 21_000_000, btc) == "21,000,000 BTC"
    assert display.amount(1, asset("ETH")) == "0.000000000000000001 ETH"
    assert display.units(1_234_500_000, usdt) == "1,234.5"
    assert display.amount(2**256 - 1, asset("ETH")).startswith("115,792,089,237,316,195,423")
    assert display.amount(-5, btc) == "-0.00000005 BTC"


def test_unknown_decimals_say_base_units() -> None:
    spam = token("ETH", "0x" + "cd" * 20)
    assert display.amount(1500, spam) == "1,500 base units of 0xcdcd…cdcd"
    assert display.unit_label(spam) == "base units of 0xcdcd…cdcd"


def test_times_are_utc_iso() -> None:
    assert display.time_utc(0) == "1970-01-01T00:00:00Z"
    assert display.time_utc(None) == "-"


def test_a_token_the_table_lacks_is_shown_with_what_the_chain_store_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fundtrail.model import assets

    stored = {
        "TCFLL5dx5ZJdKnWuesXxi1VPwjLVmWZZy9": ("JST", 18),
        "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf": ("USDT", 6),  # a lookalike of the real USDT
        "1005065": ("FTK", 4),
    }
    monkeypatch.setattr(assets, "_SOURCES", [lambda code: stored if code == "TRX" else {}])
    assert display.amount(15 * 10**17, "TRX/TCFLL5dx5ZJdKnWuesXxi1VPwjLVmWZZy9") == "1.5 JST"
    assert display.amount(8888880000, "TRX/1005065") == "888,888 FTK"
    fake = display.amount(10**6, "TRX/TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf")
    assert fake == "1 USDT (TXYZop…AeBf)"  # never shown as the real USDT
    assert display.amount(10**6, "TRX/USDT") == "1 USDT"
    # nothing known: base units, said so
    assert display.amount(7, "TRX/TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7") == (
        "7 base units of TLa2f6…YjU7"
    )


def test_a_copy_cat_usdt_is_named_with_its_contract_in_results_and_never_counted_as_usdt() -> None:
    from fundtrail.model import assets

    fake = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
    real = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    name = assets.result_name("TRX", fake, "USDT")
    assert name == f"USDT ({fake})"
    assert assets.result_name("TRX", real, "USDT") == "USDT"
    assert assets.result_name("TRX", None, None) == "TRX"
    assert assets.resolve(name, "TRX").key == f"TRX/{fake}" != assets.resolve("USDT", "TRX").key
    assert assets.result_name("TRX", fake, None) == fake
    # a name nothing knows is some token: it never adds into the native coin's totals
    assert assets.resolve("SUN", "TRX").key != "TRX"
