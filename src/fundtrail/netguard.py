"""Outbound URL checks: what fundtrail may be told to call (webhooks, MISP feeds).

A partner-supplied URL must not make the server reach into its own network: only
http(s), and every address the host resolves to must be public, unless a test or a
deliberate deployment setting allows private targets.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from fundtrail.errors import InvalidInputError


def check_outbound_url(url: str, *, allow_private: bool = False, field: str = "url") -> str:
    """Return the URL if it is safe to call; raise InvalidInputError naming why not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise InvalidInputError(
            f"{field} must be an http(s) URL, not {parts.scheme or 'a bare path'!r}", field=field
        )
    host = parts.hostname
    if not host:
        raise InvalidInputError(f"{field} has no host", field=field)
    if allow_private:
        return url.strip()
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInputError(f"{field} host {host!r} does not resolve", field=field) from exc
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if (
            ip.is_loopback
            or ip.is_link_local
            or ip.is_private
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            raise InvalidInputError(
                f"{field} host {host!r} resolves to {ip}, a loopback, link-local or private "
                "address; refused",
                field=field,
            )
    return url.strip()
