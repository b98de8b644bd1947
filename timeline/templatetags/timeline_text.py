"""Text filters for the reader's pages."""

import re

from django import template
from django.utils.text import Truncator

register = template.Library()

# A sentence ends at . ! ? (or their full-width forms) before a space or the end; full-width
# marks end a sentence even with no space after them, as Chinese writes.
SENTENCE_END = re.compile(r"(.+?(?:[.!?](?=\s|$)|[\u3002\uff01\uff1f]))", re.S)
LONGEST = 240  # characters: a summary with no sentence end is cut at a word


@register.filter
def first_sentence(text):
    """Return the first sentence of a summary, or its first words when it has none."""
    text = (text or "").strip()
    match = SENTENCE_END.match(text)
    sentence = match[1] if match else text
    return Truncator(sentence).chars(LONGEST)
