"""A figure of the table: what we measured, what it is compared with, and the target it meets."""

from dataclasses import asdict, dataclass, field


@dataclass
class Figure:
    key: str  # stable name in the JSON: pg.list.no-filter.first
    label: str  # the table's first column
    ours: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    data: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)

    def row(self):
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = {True: "yes", False: "**no**", None: ""}[self.met]
        cells = (self.label, self.ours, self.baseline, ratio, self.target, met)
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def ms(value):
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def p50_p95(stats):
    return f"{ms(stats['p50_ms'])} / {ms(stats['p95_ms'])}"


def seconds(value):
    return f"{value:,.2f} s"


def megabytes(value):
    return f"{value / 1e6:,.1f} MB"


def ratio(ours, baseline):
    return round(ours / baseline, 3) if baseline else None


def at_most(value, limit):
    return value is not None and value <= limit


def at_least(value, limit):
    return value is not None and value >= limit


def under(value, limit):
    return value is not None and value < limit
