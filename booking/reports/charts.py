"""Bar charts drawn on the server as SVG: the geometry here, the markup in templates/reports/_chart.html.

Horizontal bars, each category's label on its own line above its bars: labels of any length and
script stay readable on a phone, and the chart mirrors for right-to-left languages (labels and bars
start at the right edge; the coordinates are mirrored here, so browsers and WeasyPrint agree). Only SVG presentation attributes (fill=, x=, ...) and classes: the
Content-Security-Policy allows no inline style. The same chart goes into the page and the PDF; the
page puts the same figures in a table beside it for screen readers (the SVG is one image to them,
named by its <title> and <desc>).
"""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 360
PAD = 4
FONT_SIZE = 14
LABEL_LINE = 19  # a category's label, above its bars
BAR = 14
BAR_GAP = 3
ROW_GAP = 10
LEGEND_LINE = 22
VALUE_SPACE = 44  # room after the longest bar for its number
LABEL_CHARACTERS = 44  # longer labels are cut (the table beside has them whole)
# Dark enough on white for the numbers beside them and for each other (WCAG non-text contrast).
FILLS = ("#1f5f99", "#a34f00")
TEXT_FILL = "#1a1a1a"
FONT_FAMILY = "Noto Sans, Noto Sans Arabic, DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    anchor: str  # "start" or "end", of left-to-right text
    text: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str
    width: int
    height: int
    rects: list[Rect]
    texts: list[Text]
    font_size: int = FONT_SIZE
    font_family: str = FONT_FAMILY
    text_fill: str = TEXT_FILL


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, description: str, categories: list[str],
              series: list[tuple[str, list[int]]], *, rtl: bool = False) -> BarChart:
    """One row per category with one bar per series (`series`: (name, a value per category)); a
    legend on top when there are two or more series. `rtl`: drawn from the right edge."""
    rects: list[Rect] = []
    texts: list[Text] = []

    def rect(x, y, width, height, fill):
        rects.append(Rect(WIDTH - x - width if rtl else x, y, width, height, fill))

    def text(x, y, value, anchor="start"):
        # Anchors are those of left-to-right text (the <svg> says direction="ltr", else a page in
        # Arabic would turn "end" into the left edge): mirrored, text that began at x ends there.
        if rtl:
            texts.append(Text(WIDTH - x, y, "end" if anchor == "start" else "start", value))
        else:
            texts.append(Text(x, y, anchor, value))

    y = PAD
    if len(series) > 1:
        x = PAD
        for index, (name, _) in enumerate(series):
            rect(x, y + 3, 12, 12, FILLS[index % len(FILLS)])
            text(x + 17, y + 14, name)
            x += 17 + round(FONT_SIZE * 0.6 * len(name)) + 16
        y += LEGEND_LINE
    largest = max((value for _, values in series for value in values), default=0)
    span = WIDTH - 2 * PAD - VALUE_SPACE
    for row, category in enumerate(categories):
        text(PAD, y + FONT_SIZE, _cut(category))
        y += LABEL_LINE
        for index, (_, values) in enumerate(series):
            value = values[row]
            length = round(span * value / largest, 1) if largest else 0
            rect(PAD, y, length, BAR, FILLS[index % len(FILLS)])
            text(PAD + length + 4, y + BAR - 2, str(value))
            y += BAR + BAR_GAP
        y += ROW_GAP
    return BarChart(chart_id, title, description, WIDTH, round(y + PAD), rects, texts)


def report_charts(report, *, rtl: bool) -> dict[str, BarChart]:
    """The report's charts, in the page's language: seminars and participants per topic, and per
    month the people expected at the sessions held and those present."""
    from flask_babel import lazy_gettext as _l

    from ..formatting import month_name

    topics = [row.topic for row in report.topics]
    return {
        "seminars": bar_chart(
            "chart-seminars", str(_l("Seminars held per topic")),
            str(_l("One bar per topic: how many seminars were held in the period.")),
            topics, [(str(_l("Seminars held")), [row.seminars for row in report.topics])], rtl=rtl),
        "participants": bar_chart(
            "chart-participants", str(_l("Participants per topic")),
            str(_l("One bar per topic: how many participants had a place in its seminars.")),
            topics, [(str(_l("Participants")), [row.participants for row in report.topics])], rtl=rtl),
        "months": bar_chart(
            "chart-months", str(_l("Attendance per month")),
            str(_l("Two bars per month: the people expected at the sessions held that month, and those present.")),
            [month_name(row.month) for row in report.months],
            [(str(_l("Expected")), [row.listed for row in report.months]),
             (str(_l("Present")), [row.present for row in report.months])], rtl=rtl),
    }
