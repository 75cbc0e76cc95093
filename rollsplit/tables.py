"""Tables printed on a terminal, at most 120 columns wide: the widest cells are wrapped onto more lines."""

from __future__ import annotations

from tabulate import tabulate

WIDTH = 120
MIN_COLUMN = 8     # a column is never wrapped narrower than this (or than its widest word, when shorter)


def _width(cell) -> int:
    return max((len(line) for line in str(cell).splitlines()), default=0)


def fit(rows: list[list], headers: list[str], width: int = WIDTH, **kwargs) -> str:
    """`tabulate(rows, headers)` in the plain terminal style, each line at most `width` characters: when the
    natural table is wider, the widest columns are given one common cap (the largest that fits) and their cells
    are wrapped at spaces (a long word, such as a file path, is broken)."""
    rows = [["" if c is None else c for c in r] for r in rows]
    n = len(headers)
    # tabulate pads each header by two (its MIN_PADDING), so a column is at least its header + 2 wide
    natural = [max([_width(h) + 2] + [_width(r[i]) for r in rows if i < len(r)]) for i, h in enumerate(headers)]
    room = width - 2 * (n - 1)           # the plain style puts two spaces between columns
    if sum(natural) <= room:
        return tabulate(rows, headers, **kwargs)
    cap = max(natural)
    while cap > MIN_COLUMN and sum(min(w, cap) for w in natural) > room:
        cap -= 1
    caps = [cap if w > cap else None for w in natural]
    text = tabulate(rows, headers, maxcolwidths=caps, maxheadercolwidths=[c - 2 if c else None for c in caps], **kwargs)
    if max((len(line) for line in text.splitlines()), default=0) <= width:
        return text
    # numbers and short columns cannot shrink further: wrap every column to an equal share
    share = max(MIN_COLUMN, room // n)
    return tabulate(rows, headers, maxcolwidths=[share] * n, maxheadercolwidths=[share - 2] * n, **kwargs)
