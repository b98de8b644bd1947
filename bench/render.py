"""What a timeline page costs once its counts are cached: the whole request, and the part of
it spent rendering, on the bench's PostgreSQL database (a million events).

    .venv/bin/python -m bench.render              # BENCH_DATABASE, or timeline_bench
    .venv/bin/python -m bench.render --repeat 25

For each page: the request through Django's test client (the middleware, the view, its
queries and the template; no HTTP server), after two requests that fill the cache of its
counts, then the template alone (render_to_string of the context the view built), then
the part of the page the list's items, the chart's bars, the map and the filter form each
take. The first request of a page's filters counts them (bench.pages times those first
views over HTTP); this is what every later page of the same filters costs."""

from urllib.parse import parse_qs, urlsplit

from bench.inprocess import main, timed

PAGES = (
    "/",
    "/?date_from=2014&date_to=2014",
    "/?country=CN&ordering=date",
    "/?q=prosecutor",
    "/zh-hans/",
    "/zh-hans/?q=%E5%BE%AE%E4%BF%A1",
)


def measure(repeat):
    import django

    django.setup()
    from django.template.loader import render_to_string
    from django.test import Client
    from django.test.signals import template_rendered
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.utils import translation

    from timeline import worldmap
    from timeline.templatetags.timeline_text import chart_bars, event_items

    client = Client(HTTP_HOST="127.0.0.1")  # a host the production settings allow
    print(f"p50 and fastest of {repeat}, in milliseconds, counts cached")
    print(f"{'page':34} {'request':>15} {'template':>15} {'items':>7} {'bars':>6} {'map':>6} "
          f"{'form':>6}")  # fmt: skip
    for path in PAGES:
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        request = timed(repeat, client.get, path)
        captured = []

        def keep(sender, template, context, captured=captured, **kwargs):
            captured.append((template.name, context.flatten()))

        setup_test_environment()  # templates send template_rendered, for this request only
        template_rendered.connect(keep)
        try:
            client.get(path)
        finally:
            template_rendered.disconnect(keep)
            teardown_test_environment()
        name, context = next(item for item in captured if item[0] == "timeline/timeline.html")
        language = "zh-hans" if path.startswith("/zh-hans/") else "en"
        with translation.override(language):
            template = timed(repeat, render_to_string, name, context)
            events = [event for _heading, items in context["groups"] for event in items]
            items = timed(repeat, event_items, events)
            bars = timed(repeat, chart_bars, context["chart"])
            counts = {  # the shaded countries: those the page lists, by the code in each link
                parse_qs(urlsplit(row["url"]).query)["country"][-1]: row["count"]
                for row in context["places"]["countries"]
            }
            drawn = timed(repeat, worldmap.draw, counts, {}, str)
            form = timed(repeat, _drawn_fields, context["form"])
        print(
            f"{path:34} {_pair(request):>15} {_pair(template):>15} {items[0]:7.1f} "
            f"{bars[0]:6.1f} {drawn[0]:6.1f} {form[0]:6.1f}"
        )


def _drawn_fields(form):
    return "".join(str(field) for field in form)


def _pair(figures):
    p50, fastest = figures
    return f"{p50:.1f} ({fastest:.1f})"


if __name__ == "__main__":
    main("bench.render", __doc__, measure)
