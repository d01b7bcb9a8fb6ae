"""What a victim reports about the perpetrator: e-mail, site, phone, messenger handle.

Ransom notes name a contact e-mail, a Tox id or an onion site; investment scams a
platform website, a Telegram or WhatsApp handle, a phone number. Victims of one gang
report the same ones, so complaints the chain cannot link (a ransom never moved) still
join their campaign on them (:mod:`fundtrail.cases.contactlink`).

Victims type these by hand, so each kind is normalised before it is compared:
e-mails lower-cased (``mailto:`` dropped); sites cut to their host (scheme, ``www.``,
port, path and query dropped); phones to digits, with ``+`` when written in
international form (``+`` or ``00``); handles to ``@name`` lower-cased. A value that is
not of its kind is an error naming the field, like any other bad complaint field.

Some values say nothing about who the perpetrator is: a common mail provider or
platform reported as the "site" (``gmail.com``, ``t.me``), which thousands of unrelated
scams share. Such a contact is stored (it is what the victim said) but never links:
:func:`linkable` is False and it gets no index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fundtrail.errors import InvalidInputError

Kind = Literal["email", "site", "phone", "handle"]
KINDS: tuple[Kind, ...] = ("email", "site", "phone", "handle")
# the complaint columns (CSV header, API fields) holding each kind; several values in
# one column are separated by ";"
COLUMN_OF: dict[Kind, str] = {k: f"perpetrator_{k}" for k in KINDS}
LABEL: dict[str, str] = {"email": "e-mail", "site": "site", "phone": "phone", "handle": "handle"}
MAX_PER_COMPLAINT = 20
MAX_VALUE = 320


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Hosts (and their subdomains) that many unrelated perpetrators share: mail providers,
# social networks and messengers, link shorteners, large platforms and exchanges a
# victim may name as "the site". A specific host under a shared-hosting domain
# (``aurelia.blogspot.com``) is specific; the bare hosting domain is not.
GENERIC_DOMAINS = _words(
    """
    gmail.com googlemail.com google.com outlook.com hotmail.com live.com msn.com yahoo.com
    ymail.com aol.com icloud.com me.com mail.com gmx.com gmx.de gmx.net web.de yandex.ru
    yandex.com mail.ru qq.com 163.com 126.com protonmail.com proton.me pm.me tutanota.com
    tuta.io zoho.com fastmail.com
    t.me telegram.me telegram.org whatsapp.com wa.me signal.org facebook.com fb.com
    messenger.com instagram.com twitter.com x.com tiktok.com youtube.com linkedin.com
    reddit.com discord.com discord.gg wechat.com line.me skype.com viber.com snapchat.com
    bit.ly tinyurl.com goo.gl t.co ow.ly linktr.ee
    blogspot.com wordpress.com github.io netlify.app vercel.app herokuapp.com pages.dev
    web.app firebaseapp.com wixsite.com weebly.com sites.google.com
    binance.com coinbase.com kraken.com bitfinex.com okx.com bybit.com kucoin.com
    blockchain.com blockchain.info paypal.com apple.com microsoft.com amazon.com
    """
)
SHARED_HOSTING = _words(
    "blogspot.com wordpress.com github.io netlify.app vercel.app herokuapp.com pages.dev "
    "web.app firebaseapp.com wixsite.com weebly.com"
)

_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_HANDLE = re.compile(r"^[a-z0-9_.-]{2,80}$")
_MESSENGER_LINK = re.compile(r"^(https?://)?(www\.)?(t\.me|telegram\.me|wa\.me)/", re.I)


@dataclass(frozen=True, slots=True)
class Contact:
    """One normalised contact; ``value`` is what is compared (and sealed at rest)."""

    kind: Kind
    value: str

    @property
    def label(self) -> str:
        return LABEL[self.kind]

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}


def _host(text: str, field: str) -> str:
    host = text.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise InvalidInputError(f"{text!r} is not a valid domain name", field=field) from None
    labels = host.split(".")
    if _IPV4.match(host) and all(int(p) < 256 for p in labels):
        return host
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(p) for p in labels):
        raise InvalidInputError(f"{text!r} is not a valid domain name", field=field)
    if not labels[-1].isalpha() and not labels[-1].startswith("xn--"):
        raise InvalidInputError(f"{text!r} does not end in a top-level domain", field=field)
    return host


def normalise_email(text: str, field: str = COLUMN_OF["email"]) -> str:
    s = text.strip()
    s = s[7:] if s.lower().startswith("mailto:") else s
    local, at, domain = s.rpartition("@")
    local = local.lower()
    if not at or not _LOCAL.match(local) or local.startswith(".") or ".." in local:
        raise InvalidInputError(f"{text!r} is not an e-mail address", field=field)
    return f"{local}@{_host(domain, field)}"


def normalise_site(text: str, field: str = COLUMN_OF["site"]) -> str:
    s = text.strip()
    low = s.lower()
    scheme = _SCHEME.match(low)
    if scheme:
        s = s[scheme.end() :]
    host = re.split(r"[/?#]", s, maxsplit=1)[0]
    if "@" in host:
        if not scheme:
            raise InvalidInputError(
                f"{text!r} looks like an e-mail address; report it as {COLUMN_OF['email']}",
                field=field,
            )
        host = host.rpartition("@")[2]  # user:password@host
    host = host.rsplit(":", 1)[0] if re.search(r":\d*$", host) else host
    host = _host(host, field)
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


def normalise_phone(text: str, field: str = COLUMN_OF["phone"]) -> str:
    s = text.strip()
    if not _PHONE_CHARS.match(s):
        raise InvalidInputError(
            f"{text!r} is not a phone number (digits, spaces, + ( ) - . / only)", field=field
        )
    digits = re.sub(r"\D", "", s)
    international = s.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if not 6 <= len(digits) <= 15:
        raise InvalidInputError(
            f"{text!r} has {len(digits)} digits (6 to 15 expected)", field=field
        )
    return ("+" if international else "") + digits


def normalise_handle(text: str, field: str = COLUMN_OF["handle"]) -> str:
    s = _MESSENGER_LINK.sub("", text.strip()).strip("/").lower()
    s = s[1:] if s.startswith("@") else s
    if not _HANDLE.match(s):
        raise InvalidInputError(
            f"{text!r} is not a messenger handle (2-80 of a-z 0-9 _ . -, optional @)",
            field=field,
        )
    return "@" + s


NORMALISE = {
    "email": normalise_email,
    "site": normalise_site,
    "phone": normalise_phone,
    "handle": normalise_handle,
}


def normalise(kind: str, text: str) -> Contact:
    """One contact of a kind; InvalidInputError naming the field when it is not one."""
    if kind not in NORMALISE:
        raise InvalidInputError(
            f"contact kind {kind!r} is not one of {', '.join(KINDS)}", field="perpetrator_contacts"
        )
    k: Kind = kind  # type: ignore[assignment]
    return Contact(k, NORMALISE[k](text, COLUMN_OF[k]))


def linkable(c: Contact) -> bool:
    """Whether the contact can say who the perpetrator is (a generic site cannot)."""
    if c.kind != "site":
        return True
    labels = c.value.split(".")
    parents = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    if c.value in GENERIC_DOMAINS:
        return False
    return not any(p in GENERIC_DOMAINS and p not in SHARED_HOSTING for p in parents)


def _values(raw: Any, field: str) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else str(raw).split(";")
    out = [s for s in (str(v).strip() for v in items) if s]
    for s in out:
        if len(s) > MAX_VALUE:
            raise InvalidInputError(f"a value is longer than {MAX_VALUE} characters", field=field)
    return out


def parse_contacts(raw: Mapping[str, Any]) -> list[Contact]:
    """The perpetrator's contacts of a complaint row: ``perpetrator_email`` ... columns
    (several values separated by ``;``, or a list in JSON), and/or
    ``perpetrator_contacts`` as a list of ``{"kind", "value"}``; de-duplicated, in a
    stable order."""
    found: list[Contact] = []
    for kind in KINDS:
        column = COLUMN_OF[kind]
        found += [normalise(kind, v) for v in _values(raw.get(column), column)]
    listed = raw.get("perpetrator_contacts") or []
    if not isinstance(listed, list):
        raise InvalidInputError(
            'perpetrator_contacts must be a list of {"kind", "value"}', field="perpetrator_contacts"
        )
    for item in listed:
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            raise InvalidInputError(
                'each perpetrator_contacts entry needs "kind" and "value" (text)',
                field="perpetrator_contacts",
            )
        (value,) = _values([item["value"]], "perpetrator_contacts") or [""]
        found.append(normalise(str(item.get("kind")), value))
    unique = sorted(set(found), key=lambda c: (KINDS.index(c.kind), c.value))
    if len(unique) > MAX_PER_COMPLAINT:
        raise InvalidInputError(
            f"{len(unique)} perpetrator contacts (at most {MAX_PER_COMPLAINT})",
            field="perpetrator_contacts",
        )
    return unique


__all__ = [
    "COLUMN_OF",
    "GENERIC_DOMAINS",
    "KINDS",
    "Contact",
    "linkable",
    "normalise",
    "parse_contacts",
]
