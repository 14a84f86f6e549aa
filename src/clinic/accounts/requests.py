"""Facts about the request that sign-in and the audit trail record."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX_LENGTH = 200
# IPv6 clients usually hold a whole /64, so lockout counts them by that network.
IPV6_LOCKOUT_PREFIX = 64


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address. Behind TRUSTED_PROXY_COUNT proxies, the hop that many places
    from the right of X-Forwarded-For (the part a client cannot forge); otherwise, or when
    that hop is not an address, the connection's own address."""
    remote = _valid(str(request.META.get("REMOTE_ADDR", "")))
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    if proxies <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _valid(hops[-proxies]) or remote


def address_network(address: str | None) -> str:
    """The key lockout counts an address under: the address itself for IPv4, its /64 for
    IPv6; empty when there is no address."""
    if not address:
        return ""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_LOCKOUT_PREFIX}", strict=False))
    return str(parsed)


def user_agent(request: HttpRequest) -> str:
    """The browser's description of itself, shortened."""
    return request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
