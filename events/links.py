"""Source URLs: one spelling per page, so the uniqueness check catches the same article twice."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

# Parameters that say who shared a link, not which page it is.
TRACKING_PARAMETERS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|spm|"
    r"isappinstalled|scene|srcid|clicktime|enterid|sharer_\w+|"
    r"wt\.mc_id|cmpid|ocid|s_cid|__twitter_impression)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# Archives whose copies are fixed in time; an "archive URL" must point into one of them.
ARCHIVE_PATTERNS = [
    re.compile(r"^https?://web\.archive\.org/web/\d{4,14}[a-z_]*/\S+$"),
    re.compile(r"^https?://(www\.)?archive\.(today|ph|is|li|vn|fo|md)/\S+$"),
    re.compile(r"^https?://(www\.)?perma\.cc/[A-Z0-9]{4}-[A-Z0-9]{4}\S*$", re.IGNORECASE),
    re.compile(r"^https?://(www\.)?webcitation\.org/\S+$"),
    re.compile(r"^https?://archive-it\.org/collections/\d+/\S*$"),
    re.compile(r"^https?://(www\.)?ghostarchive\.org/archive/\S+$"),
]


def normalise_url(url):
    """Return a URL with its scheme and host in lower case, no default port, no fragment,
    no tracking parameters and no trailing slash on the path."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(gettext("The URL's port must be a number from 0 to 65535.")) from None
    if port and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMETERS.match(key)
        ]
    )
    return urlunsplit((scheme, host, path, query, ""))


def validate_archive_url(url):
    """Refuse an archive URL that does not point to a fixed copy in a known web archive."""
    if url and not any(pattern.match(url) for pattern in ARCHIVE_PATTERNS):
        raise ValidationError(
            gettext(
                "An archive URL must point to a saved copy: web.archive.org/web/<time>/<url>, "
                "archive.today (archive.ph, .is, ...), perma.cc, webcitation.org, "
                "archive-it.org or ghostarchive.org."
            )
        )
