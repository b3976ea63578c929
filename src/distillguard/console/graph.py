"""A campaign's linked accounts as an SVG graph: networkx lays it out, we draw it.

Nodes are accounts (coloured by tier, sized by volume, each a link to its page); an edge
joins two accounts that share specific indicators, thicker for more.
"""

from __future__ import annotations

import math
from html import escape
from urllib.parse import quote

from distillguard.console.data import AccountRow

TIER_COLORS = {0: "#95a5a6", 1: "#5dade2", 2: "#f5b041", 3: "#e67e22", 4: "#c0392b"}
MAX_NODES = 200
EDGES_PER_NODE = 4  # a hydra links everyone to everyone; each node's strongest links show its structure


def strongest_edges(edges: list[tuple[str, str, int]], *, per_node: int) -> list[tuple[str, str, int]]:
    """Keep an edge when it is among the `per_node` strongest of either of its ends."""
    by_node: dict[str, list[tuple[int, str, str]]] = {}
    for a, b, w in edges:
        by_node.setdefault(a, []).append((w, a, b))
        by_node.setdefault(b, []).append((w, a, b))
    keep: set[tuple[str, str]] = set()
    for items in by_node.values():
        items.sort(key=lambda t: (-t[0], t[1], t[2]))
        keep.update((a, b) for _, a, b in items[:per_node])
    return [(a, b, w) for a, b, w in edges if (a, b) in keep]


def campaign_graph_svg(
    members: list[AccountRow],
    edges: list[tuple[str, str, int]],
    *,
    href: str = "",
    width: int = 640,
    height: int = 420,
) -> str:
    import networkx as nx

    members = sorted(members, key=lambda r: -r.requests)[:MAX_NODES]
    ids = {m.account_id for m in members}
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    kept = strongest_edges([(a, b, w) for a, b, w in edges if a in ids and b in ids], per_node=EDGES_PER_NODE)
    graph.add_weighted_edges_from(kept)
    if len(ids) == 0:
        return '<svg class="graph" viewBox="0 0 10 10"></svg>'
    pos = nx.spring_layout(graph, seed=7, k=1.6 / math.sqrt(max(1, len(ids))), iterations=80)
    pad = 24
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def place(node: str) -> tuple[float, float]:
        x, y = pos[node]
        sx = pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)
        sy = pad + (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)
        return round(sx, 1), round(sy, 1)

    top = max((w for _, _, w in kept), default=1)
    most = max((m.requests for m in members), default=1) or 1
    parts = [
        f'<svg class="graph" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{len(ids)} linked accounts, {len(kept)} links" xmlns="http://www.w3.org/2000/svg">'
    ]
    for a, b, w in kept:
        (ax, ay), (bx, by) = place(a), place(b)
        stroke = 0.6 + 2.4 * w / top
        parts.append(
            f'<line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#7f8c8d" '
            f'stroke-opacity="0.35" stroke-width="{stroke:.1f}"/>'
        )
    for m in members:
        x, y = place(m.account_id)
        r = 4 + 8 * math.sqrt(m.requests / most)
        label = escape(f"{m.account_id} · {m.requests} requests · tier {int(m.tier)}")
        parts.append(
            f'<a href="{escape(href + quote(m.account_id))}"><circle cx="{x}" cy="{y}" r="{r:.1f}" '
            f'fill="{TIER_COLORS.get(int(m.tier), "#95a5a6")}" stroke="#fff" stroke-width="1">'
            f"<title>{label}</title></circle></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
