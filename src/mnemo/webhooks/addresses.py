"""Where a webhook may be sent (docs/webhooks.md, "Safety").

A URL is http or https, with a host, no user name or password, at most `MAX_URL_CHARS`.
Unless private addresses are allowed (`MNEMO_WEBHOOKS_ALLOW_PRIVATE`), every address the
host resolves to must be public: not loopback, private, link-local, multicast, reserved,
unspecified, shared (carrier-grade NAT) or otherwise not globally reachable, IPv4 and
IPv6 alike, an IPv4-mapped (or -compatible, 6to4, Teredo) IPv6 address judged by the IPv4
address inside. A URL is checked when it is registered (a host that does not resolve
then is accepted), and its host resolved and checked again for every delivery, which
then connects to the very address checked (so a host that resolves differently later,
DNS rebinding, gains nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket

import httpx

MAX_URL_CHARS = 2048
RESOLVE_TIMEOUT_S = 5.0  # a host that does not resolve within this is refused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """A URL that may not be used; `str()` says why, in one sentence."""


class Unresolved(Refused):
    """A host that resolves to no address (now)."""


def _inner(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, Teredo), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
        if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(int(address))
    return address


def is_public(address: IPAddress) -> bool:
    inner = _inner(address)
    return not (
        inner.is_loopback
        or inner.is_private
        or inner.is_link_local
        or inner.is_multicast
        or inner.is_reserved
        or inner.is_unspecified
        or not inner.is_global
        or not address.is_global
    )


def parse_url(url: str) -> httpx.URL:
    """The URL, if its form may be used; else `Refused`."""
    if len(url) > MAX_URL_CHARS:
        raise Refused(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise Refused("the URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused("the URL must be http:// or https://")
    if not parsed.host:
        raise Refused("the URL has no host")
    if parsed.userinfo:
        raise Refused("the URL must not carry a user name or password")
    return parsed


async def resolve(url: httpx.URL) -> list[IPAddress]:
    """Every address the URL's host resolves to (an address host: itself); `Refused` if
    none, or not within `RESOLVE_TIMEOUT_S`."""
    host = url.host
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    port = url.port or (443 if url.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (TimeoutError, OSError, UnicodeError):
        raise Unresolved(f"the host {host} does not resolve") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Unresolved(f"the host {host} does not resolve")
    return found


async def checked_address(url: httpx.URL, allow_private: bool) -> IPAddress:
    """The address to connect to for `url`: its host's first address, every one of
    them public unless `allow_private`; else `Refused`."""
    addresses = await resolve(url)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"the host {url.host} resolves to {address}, which is not a public"
                    " address (MNEMO_WEBHOOKS_ALLOW_PRIVATE=true allows it)"
                )
    return addresses[0]


async def check_url(url: str, allow_private: bool) -> str:
    """`url` if it may be registered: its form, and where its host resolves now; a host
    that does not resolve now is accepted (each delivery checks it again, and fails while
    it does not resolve). Else `Refused`."""
    with contextlib.suppress(Unresolved):
        await checked_address(parse_url(url), allow_private)
    return url
