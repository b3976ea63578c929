"""Server-side plots as inline SVG (matplotlib, no pyplot state, no JavaScript, no CDN)."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime

from distillguard.console.data import Series
from distillguard.console.index import HOUR

_LOCK = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe
COLORS = {
    "traffic": "#3b6ea8",
    "actions": "#c0392b",
    "flags": "#d68910",
    "tokens": "#7d3c98",
    "shadow": "#7f8c8d",
}


def line_chart(
    series: list[tuple[str, Series, str]],
    *,
    title: str = "",
    ylabel: str = "",
    marker_at: float | None = None,
    marker_label: str = "",
    width: float = 11.0,
    height: float = 2.6,
) -> str:
    """An SVG string: one line per (label, series, color) over hourly buckets."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure

    with _LOCK:
        fig = Figure(figsize=(width, height), dpi=96)
        ax = fig.add_subplot()
        plotted = False
        for label, s, color in series:
            if not s.hours:
                continue
            xs = date2num([datetime.fromtimestamp(h * HOUR, UTC) for h in s.hours])
            ax.step(xs, s.values, where="post", label=label, color=color, linewidth=1.4)
            ax.fill_between(xs, s.values, step="post", alpha=0.12, color=color)
            plotted = True
        if not plotted:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="#888")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.set_ylim(bottom=0)
            if len(series) > 1:
                ax.legend(loc="upper left", fontsize=8, frameon=False)
        if marker_at is not None and plotted:
            x = float(date2num(datetime.fromtimestamp(marker_at, UTC)))
            ax.axvline(x, color="#c0392b", linestyle="--", linewidth=1)
            ax.annotate(
                marker_label,
                (x, 1),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                color="#c0392b",
                xytext=(3, -10),
                textcoords="offset points",
            )
        if title:
            ax.set_title(title, fontsize=10, loc="left")
        if ylabel:
            ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _strip_prolog(buf.getvalue())


def _strip_prolog(svg: str) -> str:
    """Inline-ready: drop the XML declaration and DOCTYPE, make it scale with its box."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return svg.replace("<svg ", '<svg class="plot" role="img" ', 1)
