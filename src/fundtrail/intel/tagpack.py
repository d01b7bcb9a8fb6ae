"""GraphSense TagPack reader: YAML header defaults, per-tag overrides, tolerant of bad rows.

A TagPack is a YAML file whose header fields (label, source, category, abuse,
confidence, currency, network, actor, is_cluster_definer, lastmod) apply to every entry
of its ``tags:`` list unless an entry overrides them. Real packs contain mistakes (a
mistyped address, an unknown currency): those rows are reported with file and line and
skipped; the rest is imported.

Confidence names come from the GraphSense confidence scheme (``confidence.csv`` of the
TagPack tool) mapped to 0-100; a ``confidence.yaml`` (``name: level`` or
``name: {level: N}``) next to the packs or in a parent folder overrides or extends it.

Files are read one at a time (a pack is at most a few MB); tags are yielded as they are
built, so a folder of half a million tags streams through bounded memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fundtrail.chainstore.tags import Tag, chain_code, normalize_address
from fundtrail.errors import FundtrailError, InvalidInputError, SourceError
from fundtrail.intel import limits
from fundtrail.model.addresses import guess_chain
from fundtrail.model.assets import is_token_symbol
from fundtrail.model.chains import get_chain
from fundtrail.model.indicators import Category

CONFIDENCE_LEVELS: dict[str, int] = {
    "override": 100,
    "ownership": 100,
    "ledger_immanent": 100,
    "manual_transaction": 90,
    "service_api": 70,
    "forensic_investigation": 70,
    "authority_data": 60,
    "trusted_provider": 50,
    "service_data": 50,
    "forensic": 50,
    "untrusted_transaction": 40,
    "web_crawl": 20,
    "heuristic": 10,
    "unknown": 5,
}
DEFAULT_CONFIDENCE = CONFIDENCE_LEVELS["unknown"]

# GraphSense entity categories -> fundtrail categories
CATEGORY_MAP: dict[str, Category] = {
    "exchange": Category.EXCHANGE,
    "mixing_service": Category.MIXER,
    "coinjoin": Category.MIXER,
    "market": Category.DARKNET_MARKET,
    "darknet_market": Category.DARKNET_MARKET,
    "gambling": Category.GAMBLING,
    "miner": Category.SERVICE,
    "mining_service": Category.SERVICE,
    "wallet_service": Category.SERVICE,
    "payment_processor": Category.SERVICE,
    "service": Category.SERVICE,
    "defi": Category.SERVICE,
    "defi_lending": Category.SERVICE,
    "defi_dex": Category.SERVICE,
    "defi_bridge": Category.SERVICE,
    "bridge": Category.SERVICE,
    "faucet": Category.SERVICE,
    "ico_wallet": Category.SERVICE,
    "user": Category.OTHER,
    "organization": Category.OTHER,
    "donation": Category.OTHER,
    "black_list": Category.OTHER,
}
# GraphSense abuse concepts -> fundtrail categories
ABUSE_MAP: dict[str, Category] = {
    "ransomware": Category.RANSOMWARE,
    "sextortion": Category.SEXTORTION,
    "phishing": Category.PHISHING,
    "scam": Category.SCAM,
    "ponzi_scheme": Category.INVESTMENT_SCAM,
    "pyramid_scheme": Category.INVESTMENT_SCAM,
    "investment_fraud": Category.INVESTMENT_SCAM,
    "service_hack": Category.THEFT,
    "sanction": Category.SANCTIONS,
    "terrorism": Category.TERRORISM_FINANCING,
    "extremism": Category.OTHER,
    "csam": Category.CSAM,
    "mixing_service": Category.MIXER,
}

INHERITED = (
    "label",
    "source",
    "category",
    "abuse",
    "confidence",
    "currency",
    "network",
    "actor",
    "is_cluster_definer",
    "lastmod",
    "context",
)


@dataclass(frozen=True, slots=True)
class Problem:
    """An invalid row: where it is and what is wrong with it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ReadReport:
    files: int = 0
    tags: int = 0
    problems: list[Problem] = field(default_factory=list)


def map_category(raw: Any) -> Category | None:
    if raw is None or str(raw).strip() == "":
        return None
    key = str(raw).strip().lower()
    if key in CATEGORY_MAP:
        return CATEGORY_MAP[key]
    try:
        return Category.parse(key)
    except InvalidInputError:
        return Category.OTHER


def map_abuse(raw: Any) -> Category | None:
    if raw is None or str(raw).strip() == "":
        return None
    key = str(raw).strip().lower()
    if key in ABUSE_MAP:
        return ABUSE_MAP[key]
    try:
        return Category.parse(key)
    except InvalidInputError:
        return Category.OTHER


def confidence_level(raw: Any, scheme: dict[str, int]) -> int:
    """0-100 from a level name or a number; raises InvalidInputError for unknown names."""
    if raw is None or raw == "":
        return DEFAULT_CONFIDENCE
    if isinstance(raw, bool):
        raise InvalidInputError(f"confidence {raw!r} is not a level name or 0-100")
    if isinstance(raw, int | float):
        if 0 <= raw <= 100:
            return int(raw)
        raise InvalidInputError(f"confidence {raw!r} is outside 0-100")
    key = str(raw).strip().lower()
    if key in scheme:
        return scheme[key]
    if key.isdigit() and 0 <= int(key) <= 100:
        return int(key)
    raise InvalidInputError(f"unknown confidence level {raw!r}; known: {', '.join(scheme)}")


def load_scheme(start: Path, stop: Path | None = None) -> dict[str, int]:
    """The confidence scheme: built-in levels, extended by a confidence.yaml found upwards."""
    scheme = dict(CONFIDENCE_LEVELS)
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        path = candidate / "confidence.yaml"
        if path.is_file():
            try:
                data = limits.safe_load(path.read_bytes()) or {}
            except (OSError, yaml.YAMLError, InvalidInputError) as exc:
                raise SourceError(f"{path}: unreadable confidence scheme: {exc}") from exc
            if (
                isinstance(data, dict)
                and "confidence" in data
                and isinstance(data["confidence"], dict)
            ):
                data = data["confidence"]
            for name, value in data.items() if isinstance(data, dict) else []:
                level = value.get("level") if isinstance(value, dict) else value
                if isinstance(level, int) and 0 <= level <= 100:
                    scheme[str(name).lower()] = level
            break
        if stop is not None and candidate == stop:
            break
    return scheme


def tagpack_files(path: Path) -> list[Path]:
    """``path`` itself, or every *.yaml/*.yml TagPack under a folder (sorted)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InvalidInputError(f"{path} is neither a TagPack file nor a folder", field="path")
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [p for p in files if p.name not in ("confidence.yaml", "config.yaml")]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return value


TEXT_FIELDS = frozenset({"address", "label", "source", "actor", "currency", "network"})


def _value(loader: yaml.CSafeLoader, key: str, node: yaml.Node) -> Any:
    """A field's value; text fields keep the scalar's text (YAML 1.1 reads an unquoted
    ``0x8589...`` as a hex integer and ``1e5`` as a float)."""
    if key in TEXT_FIELDS and isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return _plain(loader.construct_object(node, deep=True))


def _compose(path: Path) -> tuple[Any, yaml.CSafeLoader] | Problem:
    try:
        limits.check_size(path)
        text = path.read_bytes()
    except OSError as exc:
        return Problem(str(path), 0, f"cannot read file: {exc}")
    except InvalidInputError as exc:
        return Problem(str(path), 0, exc.message)
    try:
        return limits.compose(text)  # size and alias caps: a "billion laughs" pack is refused
    except limits.YamlBombError as exc:
        return Problem(str(path), 0, str(exc))
    except InvalidInputError as exc:
        return Problem(str(path), 0, exc.message)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        return Problem(str(path), line, f"YAML syntax error: {exc.problem}")
    except yaml.YAMLError as exc:
        return Problem(str(path), 0, f"YAML error: {exc}")


def read_tagpack(
    path: Path, problems: list[Problem], scheme: dict[str, int] | None = None
) -> Iterator[Tag]:
    """The valid tags of one TagPack file; invalid rows are appended to ``problems``."""
    composed = _compose(path)
    if isinstance(composed, Problem):
        problems.append(composed)
        return
    node, loader = composed
    name = str(path)
    try:
        if not isinstance(node, yaml.MappingNode):
            problems.append(Problem(name, 1, "not a TagPack (top level is not a mapping)"))
            return
        header: dict[str, Any] = {}
        tags_node = None
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key == "tags":
                tags_node = value_node
            else:
                try:
                    header[key] = _value(loader, key, value_node)
                except yaml.YAMLError as exc:
                    problems.append(Problem(name, value_node.start_mark.line + 1, str(exc)))
        if tags_node is None:
            if "actors" in header:
                return  # an ActorPack: actors, no tags
            problems.append(Problem(name, 1, "not a TagPack (no 'tags:' list)"))
            return
        if not isinstance(tags_node, yaml.SequenceNode):
            problems.append(Problem(name, tags_node.start_mark.line + 1, "'tags' is not a list"))
            return
        scheme = scheme or load_scheme(path)
        pack = str(header.get("title") or path.stem)
        defaults = {k: header[k] for k in INHERITED if k in header}
        for item in tags_node.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problems.append(Problem(name, line, "tag is not a mapping"))
                continue
            try:
                row = {str(k.value): _value(loader, str(k.value), v) for k, v in item.value}
            except yaml.YAMLError as exc:
                problems.append(Problem(name, line, f"bad value: {exc}"))
                continue
            try:
                yield build_tag({**defaults, **row}, scheme, pack=f"{pack} ({path.name})")
            except FundtrailError as exc:
                problems.append(Problem(name, line, str(exc)))
    finally:
        loader.dispose()


TOKEN_NETWORKS = {"BEP20": "BSC", "ERC20": "ETH", "TRC20": "TRX", "MATIC": "POLYGON"}


def _chain_of(text: str, address: str) -> str:
    """Chain code of a tag's currency/network. Unknown names are accepted as custom EVM
    chains only when the address is an EVM address (AVAX C-chain, KCS, ...)."""
    key = TOKEN_NETWORKS.get(text.strip().upper(), text)
    if is_token_symbol(key):
        return guess_chain(address)  # USDT alone: the address says ETH or TRON
    try:
        return get_chain(key).code
    except InvalidInputError:
        if address.startswith("0x") and len(address) == 42:
            return chain_code(key)
        msg = f"currency/network {text!r} is not a chain fundtrail knows"
        raise InvalidInputError(msg) from None


def build_tag(row: dict[str, Any], scheme: dict[str, int], *, pack: str) -> Tag:
    """One tag from a merged header+row mapping; raises InvalidInputError naming the field."""
    address = row.get("address")
    if not address:
        raise InvalidInputError("tag has no address (entity tags are not supported)")
    chain_text = row.get("network") or row.get("currency")
    if not chain_text:
        raise InvalidInputError("tag has no currency/network")
    code = _chain_of(str(chain_text), str(address))
    norm = normalize_address(code, str(address))
    label = str(row.get("label") or "").strip()
    if not label:
        raise InvalidInputError("tag has no label")
    source = str(row.get("source") or "").strip()
    abuse = map_abuse(row.get("abuse"))
    category = map_category(row.get("category")) or abuse or Category.OTHER
    definer = row.get("is_cluster_definer", False)
    lastmod = row.get("lastmod")
    return Tag(
        chain=code,
        address=norm,
        label=label,
        category=category.value,
        source=source,
        confidence=confidence_level(row.get("confidence"), scheme),
        abuse=abuse.value if abuse else None,
        actor=str(row["actor"]) if row.get("actor") else None,
        is_cluster_definer=bool(definer)
        if not isinstance(definer, str)
        else definer.lower() == "true",
        tagpack=pack,
        lastmod=str(lastmod) if lastmod else None,
    )
