"""Flat tag lists: CSV (``address,label,category[,source,confidence]``), OFAC sanctioned
address lists, and the Etherscan label cloud (``combinedAllLabels.json``).

Every reader yields valid ``Tag`` objects and appends a ``Problem`` (file, line, what is
wrong) for each row it skips, like the TagPack reader.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

from fundtrail.chainstore.tags import Tag, chain_code, normalize_address
from fundtrail.errors import FundtrailError, InvalidInputError
from fundtrail.intel.tagpack import CONFIDENCE_LEVELS, Problem, map_abuse, map_category
from fundtrail.model.addresses import guess_chain
from fundtrail.model.indicators import Category

OFAC_SOURCE = "https://www.treasury.gov/ofac/downloads/sdnlist.txt"
OFAC_LABEL = "OFAC SDN sanctioned address"
# asset names of the OFAC lists -> chain; None = stablecoin, chain taken from the address
OFAC_ASSETS: dict[str, str | None] = {
    "XBT": "BTC",
    "ETH": "ETH",
    "LTC": "LTC",
    "BCH": "BCH",
    "DASH": "DASH",
    "ZEC": "ZEC",
    "XMR": "XMR",
    "TRX": "TRX",
    "ETC": "ETC",
    "ARB": "ARB",
    "BSC": "BSC",
    "XRP": "XRP",
    "USDT": None,
    "USDC": None,
}
ETHERSCAN_CHAINS = {
    "etherscan": "ETH",
    "bscscan": "BSC",
    "polygonscan": "POLYGON",
    "arbiscan": "ARB",
    "optimism": "OPTIMISM",
    "avalanche": "AVAX",
    "ftmscan": "FTM",
}
ETHERSCAN_CONFIDENCE = CONFIDENCE_LEVELS["trusted_provider"]
_EXCHANGES = re.compile(
    r"binance|coinbase|kraken|kucoin|huobi|okex|okx|bitfinex|bittrex|poloniex|gemini|"
    r"bitstamp|gate-io|gate\.io|bybit|crypto-com|ftx|bitmex|upbit|bithumb|exchange"
)


def read_csv(path: Path, problems: list[Problem], chain: str | None = None) -> Iterator[Tag]:
    """``address,label,category[,source,confidence]`` with a header row; optional ``chain``
    column. Without a chain column or ``chain`` argument, the chain is guessed per address.
    """
    name = str(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed below)
    except OSError as exc:
        problems.append(Problem(name, 0, f"cannot read file: {exc}"))
        return
    with fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        missing = {"address", "label", "category"} - set(fields)
        if missing:
            problems.append(
                Problem(name, 1, f"header lacks column(s) {', '.join(sorted(missing))}")
            )
            return
        reader.fieldnames = fields
        for row in reader:
            line = reader.line_num
            try:
                address = (row.get("address") or "").strip()
                code = (
                    chain
                    or (row.get("chain") or row.get("currency") or "").strip()
                    or guess_chain(address)
                )
                label = (row.get("label") or "").strip()
                if not label:
                    raise InvalidInputError("empty label")
                category = map_category(row.get("category")) or Category.OTHER
                abuse = map_abuse(row.get("abuse")) or (category if category.is_illicit else None)
                yield Tag(
                    chain=chain_code(code),
                    address=normalize_address(code, address),
                    label=label,
                    category=category.value,
                    source=(row.get("source") or "").strip() or path.name,
                    confidence=_confidence(row.get("confidence")),
                    abuse=abuse.value if abuse else None,
                    actor=(row.get("actor") or "").strip() or None,
                    tagpack=f"csv ({path.name})",
                )
            except FundtrailError as exc:
                problems.append(Problem(name, line, str(exc)))


def _confidence(raw: str | None) -> int:
    text = (raw or "").strip().lower()
    if not text:
        return CONFIDENCE_LEVELS["service_data"]
    if text in CONFIDENCE_LEVELS:
        return CONFIDENCE_LEVELS[text]
    if text.isdigit() and 0 <= int(text) <= 100:
        return int(text)
    raise InvalidInputError(f"confidence {raw!r} is not 0-100 or a level name")


def ofac_files(path: Path) -> list[Path]:
    """The ``sanctioned_addresses_<ASSET>.txt`` (else ``.json``) lists in a folder or the file."""
    if path.is_file():
        return [path]
    txt = sorted(path.glob("sanctioned_addresses_*.txt"))
    return txt or sorted(path.glob("sanctioned_addresses_*.json"))


def read_ofac(path: Path, problems: list[Problem]) -> Iterator[Tag]:
    """One OFAC list (one address per line, or a JSON array), category sanctions."""
    name = str(path)
    asset = path.stem.rsplit("_", 1)[-1].upper()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(name, 0, f"cannot read file: {exc}"))
        return
    if path.suffix == ".json":
        try:
            items = [(i + 2, str(a)) for i, a in enumerate(json.loads(text))]
        except (ValueError, TypeError) as exc:
            problems.append(Problem(name, 1, f"not a JSON list of addresses: {exc}"))
            return
    else:
        items = [(i + 1, s.strip()) for i, s in enumerate(text.splitlines()) if s.strip()]
    if asset not in OFAC_ASSETS:
        for line, _ in items:
            problems.append(Problem(name, line, f"asset {asset} is not a chain fundtrail knows"))
        return
    for line, address in items:
        code = OFAC_ASSETS[asset] or guess_chain(address)
        try:
            yield Tag(
                chain=chain_code(code),
                address=normalize_address(code, address),
                label=OFAC_LABEL,
                category=Category.SANCTIONS.value,
                source=OFAC_SOURCE,
                confidence=CONFIDENCE_LEVELS["authority_data"],
                abuse=Category.SANCTIONS.value,
                tagpack=f"ofac ({path.name})",
            )
        except FundtrailError as exc:
            problems.append(Problem(name, line, str(exc)))


def etherscan_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(path.rglob("combinedAllLabels.json"))


def _etherscan_category(name: str, labels: list[str]) -> tuple[Category, Category | None]:
    words = " ".join([name.lower(), *labels])
    if "tornado" in words or "mixer" in words:
        return Category.MIXER, Category.MIXER
    if "ofac" in words or "sanction" in words or "blocked" in labels:
        return Category.SANCTIONS, Category.SANCTIONS
    if "phish" in words or "fake_phishing" in words:
        return Category.PHISHING, Category.PHISHING
    if "hack" in words or "exploit" in words or "heist" in words:
        return Category.THEFT, Category.THEFT
    if "scam" in words:
        return Category.SCAM, Category.SCAM
    if _EXCHANGES.search(words):
        return Category.EXCHANGE, None
    return Category.SERVICE, None


def read_etherscan(path: Path, problems: list[Problem]) -> Iterator[Tag]:
    """``combinedAllLabels.json`` = {address: {name, labels[]}}; chain from the folder name."""
    name = str(path)
    folder = next((p.name for p in path.parents if p.name in ETHERSCAN_CHAINS), "etherscan")
    code = ETHERSCAN_CHAINS[folder]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(Problem(name, 0, f"not an Etherscan label file: {exc}"))
        return
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "not an Etherscan label file (expected an object)"))
        return
    for i, (address, info) in enumerate(data.items()):
        try:
            if not isinstance(info, dict):
                raise InvalidInputError("entry is not {name, labels}")
            labels = [str(x) for x in info.get("labels") or []]
            label = str(info.get("name") or "").strip() or (labels[0] if labels else "")
            if not label:
                raise InvalidInputError("entry has neither a name nor labels")
            category, abuse = _etherscan_category(label, labels)
            yield Tag(
                chain=code,
                address=normalize_address(code, address),
                label=label,
                category=category.value,
                source=f"https://{folder}.io/address/{address}" if folder != "optimism" else folder,
                confidence=ETHERSCAN_CONFIDENCE,
                abuse=abuse.value if abuse else None,
                tagpack=f"etherscan-labels ({folder})",
            )
        except FundtrailError as exc:
            # the scrape is a single JSON line: name the entry instead
            problems.append(Problem(name, 1, f"entry {i + 1} ({address!r}): {exc}"))
