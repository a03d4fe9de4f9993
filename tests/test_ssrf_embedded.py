"""IPv6 forms that carry an IPv4 address are judged by the address they carry (SSRF)."""

import ipaddress
import socket

import pytest

from services.webhooks import ssrf

INTERNAL = [
    ("http://[2002:7f00:1::]/", "127.0.0.1", "6to4"),
    ("http://[2002:a9fe:a9fe::1]/", "169.254.169.254", "6to4"),
    ("http://[2002:0a00:0001::]/", "10.0.0.1", "6to4"),
    ("http://[64:ff9b::7f00:1]/", "127.0.0.1", "NAT64"),
    ("http://[64:ff9b::a9fe:a9fe]/", "169.254.169.254", "NAT64"),
    ("http://[64:ff9b::192.168.0.1]/", "192.168.0.1", "NAT64"),
    ("http://[64:ff9b:1::7f00:1]/", "127.0.0.1", "NAT64"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1", "IPv4-mapped"),
    ("http://[::ffff:7f00:1]/", "127.0.0.1", "IPv4-mapped"),
    ("http://[::127.0.0.1]/", "127.0.0.1", "IPv4-compatible"),
    ("http://[::a00:1]/", "10.0.0.1", "IPv4-compatible"),
    # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted: 0x80ffff fe).
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "127.0.0.1", "Teredo"),
    # Teredo whose server is private.
    ("http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/", "10.0.0.1", "Teredo"),
]


@pytest.mark.parametrize(("url", "inner", "form"), INTERNAL)
def test_an_embedded_internal_address_is_refused_at_creation(url, inner, form):
    with pytest.raises(ssrf.UnsafeUrl) as refused:
        ssrf.check_url(url, [])
    assert inner in str(refused.value) and form in str(refused.value)


@pytest.mark.parametrize(("url", "inner", "form"), INTERNAL)
def test_an_embedded_internal_address_is_refused_at_delivery(url, inner, form, monkeypatch):
    host = url.split("[", 1)[1].split("]", 1)[0]

    def resolver(name, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (host, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(ssrf.UnsafeUrl) as refused:
        ssrf.resolve("https://hooks.example/", [])
    assert inner in str(refused.value)


@pytest.mark.parametrize(
    "address",
    ["2002:808:808::", "64:ff9b::808:808", "::ffff:8.8.8.8", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"],
)
def test_an_embedded_public_address_is_judged_public(address):
    # 6to4 of 8.8.8.8, NAT64 of 8.8.8.8, mapped 8.8.8.8, Teredo of server 65.54.227.120/client 8.8.8.8
    assert ssrf.internal_category(ipaddress.ip_address(address)) is None


def test_local_use_nat64_is_not_public_whatever_it_embeds():
    category = ssrf.internal_category(ipaddress.ip_address("64:ff9b:1::808:808"))
    assert category is not None and "NAT64" in category


def test_an_allow_listed_network_still_lets_an_embedded_form_through():
    ssrf.check_url("http://[2002:7f00:1::]/", ["2002::/16"])


async def test_the_api_refuses_a_6to4_loopback_subscription(client, auth):
    response = await client.post("/v1/subscriptions", json={"url": "http://[2002:7f00:1::]/"}, headers=auth)
    assert response.status_code == 422
    assert "127.0.0.1" in response.json()["detail"]
