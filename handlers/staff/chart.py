"""The digest's chart: ideas per topic and day, as a PNG (matplotlib, no display needed)."""

import io
from collections.abc import Mapping, Sequence
from datetime import date

# Colour-blind-safe (Okabe-Ito), then greys for the long tail of topics.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#666666")  # fmt: skip


def ideas_per_day_png(
    days: Sequence[date], series: Mapping[str, Sequence[int]], *, title: str, day_labels:
    Sequence[str], empty_label: str,
) -> bytes:  # fmt: skip
    """Stacked bars: one bar per day, one colour per topic (the legend names them)."""
    import matplotlib  # imported here: a second of start-up that only the digest needs

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    bottoms = [0] * len(days)
    positions = range(len(days))
    for index, (label, counts) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        axes.bar(positions, counts, bottom=bottoms, label=label, color=colour, width=0.75)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    if not series or not any(bottoms):
        axes.text(0.5, 0.5, empty_label, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_xticks(list(positions), list(day_labels), rotation=45, ha="right", fontsize=8)
    locator = axes.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default (AutoLocator): whole ideas only
        locator.set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
