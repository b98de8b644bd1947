"""Check that a quoted passage really occurs in the source it cites.

Quotes are compared after normalising what copying text tends to change: runs of
whitespace, curly quotes and apostrophes, dashes, and letter case. When a quote is not
found, the closest passage of the same length is offered so the curator can fix it.
"""

import difflib
import re
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
_TRANSLATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u300c": '"',
        "\u300d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
CONTEXT_WORDS = 4  # shown around the closest passage


@dataclass(frozen=True)
class QuoteCheck:
    found: bool
    closest: str = ""
    similarity: float = 0.0


def normalise(text):
    """Return text as quote checks compare it: plain quotes and dashes, single spaces, casefold."""
    return _SPACES.sub(" ", (text or "").translate(_TRANSLATION)).strip().casefold()


def check_quote(quote, full_text):
    """Return whether the quote occurs in the text and, if not, the closest passage."""
    wanted = normalise(quote)
    if wanted in normalise(full_text):
        return QuoteCheck(found=True, closest=quote, similarity=1.0)
    closest, similarity = _closest_passage(wanted, full_text)
    return QuoteCheck(found=False, closest=closest, similarity=similarity)


def _closest_passage(wanted, full_text):
    """Slide a window of the quote's length in words over the text; keep the best match."""
    words = _SPACES.sub(" ", full_text.translate(_TRANSLATION)).strip().split(" ")
    size = max(1, len(wanted.split(" ")))
    best_start, best_ratio = 0, 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    for start in range(max(1, len(words) - size + 1)):
        matcher.set_seq1(" ".join(words[start : start + size]).casefold())
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best_start, best_ratio = start, ratio
    return " ".join(words[best_start : best_start + size]), best_ratio
