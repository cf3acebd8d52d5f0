"""A small bar chart drawn on the server: SVG coordinates for the template, no JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from usage.reports import Group

WIDTH = 640
HEIGHT = 180
TOP = 14
BOTTOM = 22  # room for the day numbers
LEFT = 4
GAP = 0.25  # share of each slot left empty between bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # shown under the bar ("" for most days, so labels do not crowd)
    label_x: float
    group: Group


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: Decimal


def bar_chart(groups: list[Group], *, label_every: int = 5) -> Chart:
    peak = max((group.spend for group in groups), default=Decimal(0))
    slot = (WIDTH - 2 * LEFT) / max(1, len(groups))
    room = HEIGHT - TOP - BOTTOM
    bars: list[Bar] = []
    for index, group in enumerate(groups):
        share = float(group.spend / peak) if peak else 0.0
        height = round(room * share, 1)
        if group.spend > 0:
            height = max(height, 1.5)  # a small spend still shows
        x = round(LEFT + index * slot + slot * GAP / 2, 1)
        width = round(slot * (1 - GAP), 1)
        shown = index == 0 or (index + 1) % label_every == 0
        bars.append(Bar(x=x, y=round(TOP + room - height, 1), width=width, height=height,
                        label=group.label if shown else "", label_x=round(x + width / 2, 1), group=group))
    return Chart(width=WIDTH, height=HEIGHT, baseline=TOP + room, bars=bars, peak=peak)
