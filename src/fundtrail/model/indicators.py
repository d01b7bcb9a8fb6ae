"""Indicator types and crime categories, and the normalisation every door applies."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

from fundtrail.errors import InvalidInputError
from fundtrail.model.addresses import parse_address
from fundtrail.model.chains import find_chain
from fundtrail.model.txids import parse_txid


class IndicatorType(StrEnum):
    CRYPTO_ADDRESS = "crypto-address"
    TX = "tx"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"
    IP = "ip"


class Category(StrEnum):
    SCAM = "scam"
    INVESTMENT_SCAM = "investment-scam"
    PIG_BUTCHERING = "pig-butchering"
    PHISHING = "phishing"
    IMPERSONATION = "impersonation"
    SEXTORTION = "sextortion"
    RANSOMWARE = "ransomware"
    SANCTIONS = "sanctions"
    DARKNET_MARKET = "darknet-market"
    MIXER = "mixer"
    THEFT = "theft"
    TERRORISM_FINANCING = "terrorism-financing"
    CSAM = "csam"
    GAMBLING = "gambling"
    EXCHANGE = "exchange"  # benign attribution
    SERVICE = "service"  # other benign services (wallets, payment processors, miners)
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> Category:
        key = str(text).strip().lower().replace("_", "-").replace(" ", "-")
        key = _CATEGORY_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise InvalidInputError(
                f"unknown category {text!r}; known: {known}", field="category"
            ) from None

    @property
    def is_illicit(self) -> bool:
        return self not in (Category.EXCHANGE, Category.SERVICE, Category.OTHER)


_CATEGORY_ALIASES = {
    "investment": "investment-scam",
    "ponzi": "investment-scam",
    "pig-butchering-scam": "pig-butchering",
    "sanction": "sanctions",
    "sanctioned": "sanctions",
    "ofac": "sanctions",
    "darknet": "darknet-market",
    "market": "darknet-market",
    "mixing-service": "mixer",
    "mixing": "mixer",
    "tumbler": "mixer",
    "hack": "theft",
    "hacker": "theft",
    "stolen-funds": "theft",
    "exploit": "theft",
    "terrorist-financing": "terrorism-financing",
    "terrorism": "terrorism-financing",
    "exchange-deposit": "exchange",
    "cex": "exchange",
}

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9]{6,17}$")
_TXHASH = re.compile(r"^(0x)?[0-9a-f]{64}$")
_SCHEMES = ("http", "https", "ftp", "hxxp", "hxxps")


def normalize_indicator(kind: IndicatorType | str, value: str, chain: str | None = None) -> str:
    """Validate and normalise an indicator value so that equal things compare equal.

    Crypto addresses are validated with their checksums (EVM keyed lowercase); domains
    and e-mails are lowercased; phone numbers keep digits and a leading '+'. URLs must
    be http(s)/ftp: a ``javascript:`` or ``data:`` URL is refused.
    """
    t = IndicatorType(kind)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("indicator value is empty", field="value")
    v = value.strip()
    if len(v) > 2048:
        raise InvalidInputError("indicator value is longer than 2048 characters", field="value")
    if t is IndicatorType.CRYPTO_ADDRESS:
        if not chain:
            raise InvalidInputError(
                "a crypto-address needs its chain (BTC, ETH, ...)", field="chain"
            )
        try:
            return parse_address(v, chain).value
        except InvalidInputError as exc:  # the request's own field is `value`
            raise InvalidInputError(exc.message, field="value") from exc
    if t is IndicatorType.TX:
        low = v.lower()
        if not _TXHASH.match(low):
            raise InvalidInputError(
                f"{v!r} is not a transaction hash (64 hex digits)", field="value"
            )
        found = find_chain(chain or "")
        if found is None:
            return low.removeprefix("0x")
        return parse_txid(low, found.code, field="value")
    if t is IndicatorType.DOMAIN:
        low = v.lower().rstrip(".")
        if not _DOMAIN.match(low):
            raise InvalidInputError(f"{v!r} is not a domain name", field="value")
        return low
    if t is IndicatorType.URL:
        scheme = v.split(":", 1)[0].lower() if ":" in v else ""
        if scheme not in _SCHEMES or "://" not in v:
            raise InvalidInputError(
                f"URL {v[:80]!r} must start with http://, https:// or ftp://", field="value"
            )
        if any(c in v for c in "<>\"' \t\n"):
            raise InvalidInputError("URL contains characters that are not allowed", field="value")
        return v
    if t is IndicatorType.EMAIL:
        low = v.lower()
        if not _EMAIL.match(low):
            raise InvalidInputError(f"{v!r} is not an e-mail address", field="value")
        return low
    if t is IndicatorType.PHONE:
        digits = re.sub(r"[\s().-]", "", v)
        if not _PHONE.match(digits):
            raise InvalidInputError(f"{v!r} is not a phone number", field="value")
        return digits
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        raise InvalidInputError(f"{v!r} is not an IP address", field="value") from None
