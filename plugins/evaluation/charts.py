"""SVG charts rendered on the server (no JavaScript): horizontal bars that fit a phone's width
(the SVG scales to its container through ``viewBox``), and a line of monthly means.

Every text is escaped; the output is Markup safe to place in a template.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 320
ROW = 26
LABEL_WIDTH = 120
BAR_COLOUR = "#1d4ed8"


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bars(distribution: list[dict], *, title: str = "") -> Markup:
    """One bar per item of ``distribution`` ([{"label", "count", "share"}]), labelled with the
    count and the percentage."""
    height = ROW * len(distribution) + 8
    top = max((item["count"] for item in distribution), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="evaluation-chart" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for row, item in enumerate(distribution):
        y = 4 + row * ROW
        length = round(room * item["count"] / top)
        percent = round(item.get("share", 0) * 100)
        parts.append(f'<text x="0" y="{y + 16}" font-size="12" fill="#111">{escape(_short(str(item["label"])))}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{max(length, 1)}" height="{ROW - 8}" fill="{BAR_COLOUR}" rx="2"/>')
        parts.append(f'<text x="{LABEL_WIDTH + max(length, 1) + 4}" y="{y + 16}" font-size="12" fill="#111">'
                     f'{item["count"]} ({percent}%)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_line(points: list[tuple[str, float | None]], *, title: str = "", low: float = 1.0, high: float = 5.0) -> Markup:
    """Monthly means as a line with dots (months without a mean leave a gap)."""
    height, left, bottom, top_pad = 160, 28, 24, 8
    plot_w, plot_h = WIDTH - left - 8, height - bottom - top_pad
    count = max(len(points), 1)
    step = plot_w / max(count - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return left + index * step, top_pad + plot_h * (1 - (value - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="evaluation-chart" viewBox="0 0 {WIDTH} {height}" width="100%" '
             f'role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for level in range(int(low), int(high) + 1):
        _, y = xy(0, level)
        parts.append(f'<line x1="{left}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="0" y="{y + 4:.1f}" font-size="11" fill="#555">{level}</text>')
    segment: list[str] = []
    for index, (label, value) in enumerate(points):
        x, _ = xy(index, low)
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10" fill="#555" text-anchor="middle">{escape(label)}</text>')
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="{BAR_COLOUR}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            continue
        px, py = xy(index, value)
        segment.append(f"{px:.1f},{py:.1f}")
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{BAR_COLOUR}"><title>{escape(label)}: {value}</title></circle>')
    if len(segment) > 1:
        parts.append(f'<polyline fill="none" stroke="{BAR_COLOUR}" stroke-width="2" points="{" ".join(segment)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
