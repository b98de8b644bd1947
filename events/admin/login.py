"""Who is signing in, as django-axes counts failed attempts (see AXES_* in settings)."""

from rest_framework.throttling import BaseThrottle


def client_address(request):
    """Return the client's address the way the API's throttle finds it.

    Behind NUM_PROXIES trusted proxies that is the matching entry of X-Forwarded-For;
    otherwise the peer address. One rule for both, so a proxy in front of the app never
    makes every curator share one address (and one lockout).
    """
    return BaseThrottle().get_ident(request)
