"""The world map's outlines: simplified, yet where the package draws them."""

import re

from timeline.worldmap import _subpaths, shade, simplified, world_map


def end_points(d):
    return [point for points, _closed in _subpaths(d) for point in points]


def bounds(d):
    xs, ys = zip(*end_points(d), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def test_rounding_errors_do_not_add_up_along_an_outline():
    many_small_steps = "m 10.3,20.2 " + "l 0.4,0.1 " * 250 + "c 1,1 2,2 3.6,3.6 z"

    (points, closed), *_ = _subpaths(simplified(many_small_steps))

    assert closed
    assert points[0] == (10, 20)
    assert points[-1] == (round(10.3 + 100 + 3.6), round(20.2 + 25 + 3.6))


def test_every_command_the_map_uses_is_read_to_the_right_end_point():
    d = "M 10,10 h 5 v 5 l -5,0 c 0,-1 0,-2 0,-5 z m 100,100 l 10,0 10,10 L 200 200"

    outlines = list(_subpaths(d))

    assert outlines[0] == ([(10, 10), (15, 10), (15, 15), (10, 15), (10, 10)], True)
    assert outlines[1] == ([(110, 110), (120, 110), (130, 120), (200, 200)], False)


def test_simplified_countries_keep_their_place_and_the_map_stays_small():
    source = world_map()
    countries = {country.code: country for country in source.countries}

    assert {"CN", "HK", "MO", "TW", "RU", "IR", "US"} <= set(countries)
    assert sum(len(country.path) for country in source.countries) < 130_000
    west, south, east, north = bounds(countries["CN"].path)
    assert east - west > 300 and north - south > 200  # China is drawn at its size
    hong_kong = countries["HK"]
    assert hong_kong.marker is not None  # a dot big enough to see and tap
    hk_x, hk_y = bounds(hong_kong.path)[:2]
    assert west <= hk_x <= east and south <= hk_y <= north + 20  # beside China's south coast
    assert all(re.fullmatch(r"[-0-9 Mlz]*", country.path) for country in source.countries)


def test_shades_run_from_one_to_five_on_a_log_scale():
    assert shade(1, 1) == 5
    assert shade(1000, 1000) == 5
    assert shade(1, 1000) == 1
    assert shade(32, 1000) == 3
