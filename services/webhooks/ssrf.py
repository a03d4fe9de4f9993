"""Keeping webhook URLs away from internal networks (SSRF).

At creation a URL naming an internal address literally is refused; at delivery the hostname is
resolved and refused if any address it resolves to is internal, and the request then goes to the
address that was checked, so a DNS answer that changes in between (rebinding) cannot redirect it.
`STANCE_WEBHOOK_ALLOWED_HOSTS` lists hostnames and/or addresses and CIDRs that are let through.
"""

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_SETTING = "STANCE_WEBHOOK_ALLOWED_HOSTS"
LOCALHOST_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class UnsafeUrl(ValueError):
    """A webhook URL that may not be called; the message says why and how to allow it if intended."""


@dataclass(frozen=True)
class Target:
    """Where a webhook request goes: the URL as given and the checked addresses to connect to."""

    url: str
    scheme: str
    hostname: str
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def address(self) -> IPAddress:
        return self.addresses[0]


@dataclass(frozen=True)
class AllowList:
    hostnames: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> "AllowList":
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hostnames.add(_normalise_host(entry))
        return cls(frozenset(hostnames), tuple(networks))

    def allows_host(self, hostname: str) -> bool:
        return _normalise_host(hostname) in self.hostnames

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == network.version and address in network for network in self.networks)


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: IPAddress) -> tuple[str, tuple[ipaddress.IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address carries, with the form's name, or None.

    A packet to any of these forms reaches (through a relay or translator) the IPv4 address inside
    it: `2002:7f00:1::` is 127.0.0.1 by 6to4, `64:ff9b::7f00:1` is 127.0.0.1 by NAT64.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", (address.ipv4_mapped,)
    if address.sixtofour is not None:
        return "6to4", (address.sixtofour,)
    if address.teredo is not None:
        return "Teredo", address.teredo  # (server, client); both are reached
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64_WELL_KNOWN:
        return "NAT64", (low32,)
    if address in _NAT64_LOCAL_USE:
        # RFC 6052 lets a local-use prefix be /48 to /96 and puts the IPv4 bits accordingly; read
        # the /96 form and refuse the prefix as non-public below whatever it holds.
        return "local-use NAT64", (low32,)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return "IPv4-compatible", (low32,)
    return None


def internal_category(address: IPAddress) -> str | None:
    """Why an address is not a public one ("loopback", "private", ...), or None when it is public.

    An IPv6 form that embeds an IPv4 address is judged by the address it embeds.
    """
    embedded = embedded_ipv4(address)
    if embedded is not None:
        form, inner = embedded
        for ipv4 in inner:
            category = internal_category(ipv4)
            if category is not None:
                return f"{category} ({ipv4} inside a {form} address)"
        if form == "local-use NAT64":
            return "non-public (local-use NAT64)"
        return None
    if address in METADATA_ADDRESSES:
        return "cloud metadata (link-local)"
    for category, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return category
    if not address.is_global:
        return "non-public"
    return None


def _literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, including the shorthand forms resolvers accept (`127.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError):
        return None


def _how_to_allow(host: str) -> str:
    return (
        f"If this endpoint is meant to be reached, add {host!r} (or a CIDR containing it) to {ALLOW_SETTING}."
    )


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, hostname, port) of an http(s) URL; raises UnsafeUrl for anything else."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url.strip()):
        raise UnsafeUrl("The webhook URL contains whitespace or control characters; percent-encode them.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"The webhook URL {url!r} cannot be parsed: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl(f"The webhook URL must start with http:// or https://, not {scheme or 'nothing'!r}.")
    if not parts.hostname:
        raise UnsafeUrl(f"The webhook URL {url!r} has no host; give one, e.g. https://example.com/hooks.")
    if "%" in parts.hostname and not parts.hostname.startswith("fe80"):
        raise UnsafeUrl("The webhook URL's host is percent-encoded; write it out plainly.")
    if parts.username or parts.password:
        raise UnsafeUrl(
            "The webhook URL may not carry credentials (user:password@); authenticate by signature."
        )
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def check_url(url: str, allowed: Sequence[str]) -> None:
    """Refuse, at creation, a URL that is not http(s) or names an internal address or localhost."""
    _, host, _ = split_url(url)
    allow = AllowList.parse(allowed)
    if allow.allows_host(host):
        return
    name = _normalise_host(host)
    if name in LOCALHOST_NAMES or name.endswith(".localhost"):
        raise UnsafeUrl(f"The webhook URL points to {host!r}, a loopback name. {_how_to_allow(host)}")
    address = _literal_address(name)
    if address is None or allow.allows_address(address):
        return
    category = internal_category(address)
    if category is not None:
        raise UnsafeUrl(
            f"The webhook URL points to {address}, a {category} address; webhooks are only sent to "
            f"public addresses. {_how_to_allow(str(address))}"
        )


def resolve(url: str, allowed: Sequence[str]) -> Target:
    """Resolve the URL's host and return an address to connect to; raises UnsafeUrl if any is internal."""
    scheme, host, port = split_url(url)
    allow = AllowList.parse(allowed)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(f"Could not resolve {host!r}: {exc.strerror or exc}.") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrl(f"{host!r} resolved to no address.")
    if not allow.allows_host(host):
        for address in addresses:
            category = internal_category(address)
            if category is not None and not allow.allows_address(address):
                raise UnsafeUrl(
                    f"Refused to connect: {host!r} resolves to {address}, a {category} address. "
                    + _how_to_allow(host)
                )
    return Target(url=url, scheme=scheme, hostname=host, port=port, addresses=tuple(addresses))
