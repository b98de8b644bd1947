"""Who is signing in, as django-axes counts failed attempts (see AXES_* in settings)."""

import ipaddress

from django.conf import settings


def client_address(request):
    """Return the client's address, as sign-in throttling and the API's limit count it.

    X-Forwarded-For is believed only on a request from a proxy named in TRUSTED_PROXIES: there
    the client is the NUM_PROXIES-th entry from the right, the one our outermost proxy wrote.
    From anyone else the header is the client's own words, and its peer address is used. One
    rule for both, so a proxy never makes every curator share one address (and one lockout),
    and a client that reaches gunicorn directly cannot choose the address it is counted under.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    if proxies < 1 or not forwarded or not from_trusted_proxy(peer):
        return peer
    entries = [entry.strip() for entry in forwarded.split(",")]
    client = entries[-min(proxies, len(entries))]
    return client if parsed_address(client) else peer


def from_trusted_proxy(peer):
    """Return whether a request's peer address is one of TRUSTED_PROXIES.

    A request with no peer address came over a UNIX socket, which only local processes allowed
    to open it reach: trusted, as gunicorn's FORWARDED_ALLOW_IPS trusts it.
    """
    if peer == "":
        return True
    address = parsed_address(peer)
    return address is not None and any(address in network for network in settings.TRUSTED_PROXIES)


def parsed_address(text):
    """Return an IP address (an IPv4-mapped IPv6 one as IPv4), or None for anything else."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address
