"""The client's address, believing proxy headers only from ``FUNDTRAIL_TRUSTED_PROXIES``.

The audit log records where each call came from. ``X-Forwarded-For`` is written by
whoever sends the request, so it is read only when the peer that connected is one of
the configured reverse proxies, and then from the right: the first address that is
not itself a trusted proxy is the client. With no proxies configured (the default)
the connecting peer is the client, whatever the headers say. Uvicorn's own proxy
handling is switched off (:func:`fundtrail.server.serving.run`) so this is the one
place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from fundtrail.errors import InvalidInputError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str | Iterable[str] | None) -> TrustedProxies:
        """``"10.0.0.5, 192.168.0.0/24, ::1"`` (addresses or CIDR networks)."""
        items = text.split(",") if isinstance(text, str) else list(text or [])
        nets = []
        for item in (i.strip() for i in items):
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise InvalidInputError(
                    f"FUNDTRAIL_TRUSTED_PROXIES: {item!r} is not an IP address or network",
                    field="trusted_proxies",
                ) from None
        return cls(tuple(nets))

    def trusts(self, address: str | None) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address: ``peer``, unless a trusted proxy forwarded the call."""
        if not self.networks or not self.trusts(peer) or not forwarded_for:
            return peer
        hops = [h.strip() for h in forwarded_for.split(",")]
        for hop in reversed(hops):
            if _ip(hop) is None:
                return peer  # a malformed header: believe only the connection
            if not self.trusts(hop):
                return hop
        return hops[0]


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
