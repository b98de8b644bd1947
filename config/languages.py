"""The language of a response is in its URL, and nowhere else.

Pages and the admin are served in English at their usual address and in Simplified Chinese
under /zh-hans/ (config.urls, i18n_patterns without a prefix for English). Django's
LocaleMiddleware would also read the Accept-Language header and a cookie; here neither
counts: a URL always answers in one language, so a cached page or an ETag can never serve
one language to a reader of the other, and the API, feeds and downloads, which have no
prefix, always answer in English whatever the client prefers.
"""

from django.conf import settings
from django.urls import translate_url
from django.utils import translation

# BCP 47 as HTML's lang and hreflang write it.
HREFLANG = {"en-gb": "en-GB", "zh-hans": "zh-Hans"}


class URLLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        # For this request alone: what runs after it (a test, the next request on this
        # thread) is back in the language it had.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


def alternates(request):
    """Template context: this page in each language, for the switcher and hreflang links."""
    current = translation.get_language()
    path = request.get_full_path()
    pages = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
        pages.append(
            {
                "code": code,
                "hreflang": HREFLANG.get(code, code),
                "name": name,
                "url": url,
                "absolute": request.build_absolute_uri(url),
                "current": code == current,
            }
        )
    return {"language_pages": pages, "html_lang": HREFLANG.get(current, current)}
