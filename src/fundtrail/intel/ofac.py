"""OFAC's sanctioned crypto addresses (the SDN list as extracted per asset) as indicators.

Files are named ``sanctioned_addresses_<ASSET>.txt`` (one address a line) or
``.json`` (a list). The asset is mapped to the chain the address lives on (XBT is
Bitcoin; USDT and USDC sit on Ethereum, TRON or Omni, told apart by the address's
shape). Every address is category ``sanctions``, TLP CLEAR, confidence 100.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fundtrail.errors import InvalidInputError, UserError
from fundtrail.intel.formats import ReadResult, RowProblem
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.addresses import guess_chain
from fundtrail.model.tlp import TLP

_NAME = re.compile(r"^sanctioned_addresses_([A-Z0-9]+)\.(txt|json)$")
ASSET_CHAINS = {
    "XBT": "BTC",
    "BTC": "BTC",
    "ETH": "ETH",
    "BSC": "BSC",
    "ARB": "ARB",
    "ETC": "ETC",
    "LTC": "LTC",
    "BCH": "BCH",
    "DASH": "DASH",
    "ZEC": "ZEC",
    "TRX": "TRX",
    "XMR": "XMR",
    "XRP": "XRP",
}
TOKEN_ASSETS = ("USDT", "USDC")  # tokens on several chains: chain from the address shape
SOURCE_URL = "https://sanctionssearch.ofac.treas.gov/"


def chain_for(asset: str, address: str) -> str:
    if asset in TOKEN_ASSETS:
        return guess_chain(address)
    try:
        return ASSET_CHAINS[asset]
    except KeyError:
        raise InvalidInputError(
            f"asset {asset} is not on a chain fundtrail supports", field="chain"
        ) from None


def _entries(path: Path) -> list[tuple[int, str]]:
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path.name}: not valid JSON: {exc}", field="file") from exc
        if not isinstance(data, list):
            raise InvalidInputError(f"{path.name}: expected a JSON list of addresses", field="file")
        return [(i, str(a)) for i, a in enumerate(data, start=1)]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(i, a) for i, a in enumerate(lines, start=1) if a.strip()]


def _files(path: Path) -> list[Path]:
    """The list files under ``path``; for an asset with both .txt and .json, the .txt."""
    if path.is_file():
        if not _NAME.match(path.name):
            raise InvalidInputError(
                f"{path.name}: expected sanctioned_addresses_<ASSET>.txt or .json", field="file"
            )
        return [path]
    found: dict[str, Path] = {}
    for f in sorted(path.iterdir()):
        m = _NAME.match(f.name)
        if m and (m.group(1) not in found or f.suffix == ".txt"):
            found[m.group(1)] = f
    if not found:
        raise InvalidInputError(f"{path}: no sanctioned_addresses_<ASSET> files", field="file")
    return [found[k] for k in sorted(found)]


def read_ofac(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    result = ReadResult()
    for f in _files(path):
        asset = _NAME.match(f.name).group(1)  # type: ignore[union-attr]
        for line, address in _entries(f):
            try:
                chain = chain_for(asset, address.strip())
                rec = IndicatorRecord.build(
                    "crypto-address",
                    address,
                    "sanctions",
                    chain=chain,
                    tlp=(tlp or TLP.CLEAR).value,
                    confidence=100,
                    description=f"OFAC SDN list: sanctioned {asset} address",
                    references=[SOURCE_URL],
                    labels=["ofac"],
                    source=f"ofac:{f.name}",
                )
                result.records.append(rec)
            except UserError as exc:
                result.problems.append(RowProblem(f.name, line, exc.message))
    return result
