"""The trade-space report of a sweep: one offline HTML page (plotly.js inline) with the Pareto
front of the chosen figures, parallel coordinates of parameters and objectives, the
sensitivity of every figure to every parameter, and the table of variants.

Sensitivity is the first-order index S = Var(E[Y | X]) / Var(Y), the share of a figure's
variance explained by one parameter alone (Sobol' 1993; Saltelli et al. 2008, *Global
Sensitivity Analysis: The Primer*, section 1.2.3), estimated from the sweep's own rows by
grouping on the parameter: its values where it takes few (a factorial grid), else
equiprobable bins (the "given data" estimator of Plischke, Borgonovo & Smith 2013, Eur. J.
Oper. Res. 226, 536). For the Ishigami function the exact indices are 0.314, 0.442 and 0 (Saltelli et al. 2008, 4.3):

>>> import numpy as np
>>> x = np.random.default_rng(1).uniform(-np.pi, np.pi, (20_000, 3))
>>> y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
>>> [round(first_order(list(x[:, k]), list(y)), 2) for k in range(3)]
[0.32, 0.43, 0.0]
"""
from __future__ import annotations

import math
from pathlib import Path

import jinja2
import numpy as np

from l4station.study import merit

MAX_GROUPS = 64          # equiprobable bins at most; a parameter with fewer values is grouped by value


def first_order(x: list, y: list) -> float | None:
    """First-order sensitivity index of ``y`` to ``x`` (0..1) from paired samples; None when
    ``y`` does not vary or fewer than 4 pairs are known."""
    pairs = [(a, float(b)) for a, b in zip(x, y) if b is not None and math.isfinite(b)]
    if len(pairs) < 4:
        return None
    values = np.array([b for _, b in pairs])
    total = values.var()
    if total <= 1e-12 * max(1.0, float(np.abs(values).max())) ** 2:
        return None
    keys = [a for a, _ in pairs]
    distinct = sorted(set(keys), key=str)
    if len(distinct) <= max(12, int(math.sqrt(len(pairs)))) or not all(isinstance(a, (int, float)) for a in keys):
        groups = np.array([distinct.index(a) for a in keys])
    else:
        bins = max(2, min(MAX_GROUPS, int(math.sqrt(len(pairs)))))
        ranks = np.argsort(np.argsort(np.array(keys, dtype=float), kind="stable"), kind="stable")
        groups = ranks * bins // len(pairs)
    means = np.bincount(groups, values) / np.bincount(groups)
    explained = np.average((means[groups] - values.mean()) ** 2)
    return float(min(1.0, explained / total))


def _label(figure: str) -> str:
    unit = next((m.unit for m in merit.MERITS if m.name == figure), "")
    return f"{figure} ({unit})" if unit else figure


def _codes(values: list) -> tuple[list, dict]:
    """Numbers as they are (a constant one on a range around it, not a made-up spread; a
    missing one as NaN, which draws no line); other values as category codes with their tick
    labels."""
    known = [v for v in values if v is not None]
    if known and all(isinstance(v, (int, float)) for v in known):
        low, high = min(known), max(known)
        return ([float("nan") if v is None else v for v in values],
                {} if high > low else {"range": [low - abs(low) * 0.1 - 1e-9, high + abs(high) * 0.1 + 1e-9]})
    names = sorted(set(map(str, values)))
    return [names.index(str(v)) for v in values], {"tickvals": list(range(len(names))), "ticktext": names}


def _hover(row: dict, parameters: list[str]) -> str:
    return "<br>".join([row["variant"], *(f"{p} = {row[p]}" for p in parameters)])


def figures(rows: list[dict], parameters: list[str], objectives: dict[str, str], front: list[str]) -> list[tuple]:
    """(title, caption, plotly figure) of the report, in order."""
    import plotly.graph_objects as go

    done = [r for r in rows if r["status"] == "completed"]
    on_front = [r for r in done if r["variant"] in front]
    names = list(objectives)
    out = []
    if done and len(names) == 1:
        x = names[0]
        ranked = sorted((r for r in done if r[x] is not None), key=lambda r: r[x], reverse=objectives[x] == "max")
        bars = go.Figure(go.Bar(x=[r["variant"] for r in ranked], y=[r[x] for r in ranked],
                                text=[_hover(r, parameters) for r in ranked], hoverinfo="text+y",
                                marker_color=["#e4572e" if r["variant"] in front else "#8a94a8" for r in ranked]))
        bars.update_layout(yaxis_title=_label(x), height=420)
        out.append(("Pareto front", f"Every variant ranked by {x} ({'lowest' if objectives[x] == 'min' else 'highest'} "
                    "first); orange: the best.", bars))
    if done and len(names) >= 2:
        x, y = names[0], names[1]
        third = names[2] if len(names) > 2 else None
        scatter = go.Figure()
        scatter.add_trace(go.Scatter(
            x=[r[x] for r in done], y=[r[y] for r in done], mode="markers", name="variants",
            text=[_hover(r, parameters) for r in done], hoverinfo="text+x+y",
            marker=dict(size=9, color=[r[third] for r in done] if third else "#8a94a8",
                        colorscale="Viridis", showscale=bool(third),
                        colorbar=dict(title=_label(third)) if third else None)))
        line = sorted(on_front, key=lambda r: (r[x] is None, r[x]))
        scatter.add_trace(go.Scatter(x=[r[x] for r in line], y=[r[y] for r in line], mode="lines+markers",
                                     name="Pareto front", text=[r["variant"] for r in line], hoverinfo="text",
                                     line=dict(color="#e4572e", dash="dot" if third else "solid"),
                                     marker=dict(size=15, symbol="circle-open", color="#e4572e", line=dict(width=2))))
        scatter.update_layout(xaxis_title=_label(x), yaxis_title=_label(y), height=520, legend=dict(orientation="h"))
        sense = ", ".join(f"{k} {'lowest' if v == 'min' else 'highest'}" for k, v in objectives.items())
        out.append(("Pareto front", f"Each variant by its first two objectives ({sense} preferred"
                    f"{'; colour: ' + third if third else ''}); circled: no other variant is at least as good "
                    "in every objective and better in one.", scatter))
    if done:
        dimensions = []
        for p in [*parameters, *names]:
            values, ticks = _codes([r[p] for r in done])
            dimensions.append(dict(label=p if p in parameters else _label(p), values=values, **ticks))
        colour = [1.0 if r["variant"] in front else 0.0 for r in done]
        parallel = go.Figure(go.Parcoords(dimensions=dimensions, line=dict(
            color=colour, colorscale=[[0, "#9aa5b8"], [1, "#e4572e"]], cmin=0, cmax=1)))
        parallel.update_layout(height=480, margin=dict(l=90, r=90, t=60, b=30))
        out.append(("Parallel coordinates", "Every completed variant as a line through its parameters and "
                    "objectives (drag along an axis to filter); orange: on the Pareto front.", parallel))
        shown = [m.name for m in merit.MERITS]
        z = [[first_order([r[p] for r in done], [r[f] for r in done]) for p in parameters] for f in shown]
        keep = [k for k, row in enumerate(z) if any(v is not None for v in row)]
        if not keep:
            return out               # too few variants, or no figure varies: no sensitivity to show
        heat = go.Figure(go.Heatmap(
            z=[[np.nan if v is None else v for v in z[k]] for k in keep], x=parameters, y=[shown[k] for k in keep],
            zmin=0, zmax=1, colorscale="Blues", colorbar=dict(title="S"),
            text=[["—" if v is None else f"{v:.2f}" for v in z[k]] for k in keep], texttemplate="%{text}"))
        heat.update_layout(height=max(300, 40 * len(keep) + 120), margin=dict(l=260))
        out.append(("Sensitivity", "First-order index of each figure to each parameter: the share of the "
                    "figure's variance across the sweep that the parameter explains alone (Saltelli et al. 2008), "
                    "from the sweep's own rows; a figure that never varies is left out.", heat))
    return out


def render(summary: dict, rows: list[dict], parameters: list[str], source: str) -> str:
    """The report page."""
    figs = figures(rows, parameters, summary["objectives"], summary["pareto"])
    plots = [(title, caption, fig.to_html(full_html=False, include_plotlyjs="inline" if k == 0 else False,
                                          config={"displaylogo": False}, div_id=f"plot-{k}"))
             for k, (title, caption, fig) in enumerate(figs)]
    columns = ["variant", *parameters, *[m.name for m in merit.MERITS], "status", "error", "elapsed_s"]
    environment = jinja2.Environment(loader=jinja2.PackageLoader("l4station.study", "templates"),
                                     autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    return environment.get_template("tradespace.html").render(
        summary=summary, plots=plots, columns=columns, rows=rows, source=source, front=set(summary["pareto"]),
        units={m.name: m.unit for m in merit.MERITS}, cell=_cell)


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write(out: Path, summary: dict, rows: list[dict], parameters: list[str], source: str) -> Path:
    """``out/index.html`` (written whole, then renamed); returns its path."""
    page = out / "index.html"
    partial = out / ".index.html.partial"
    partial.write_text(render(summary, rows, parameters, source), encoding="utf-8")
    partial.replace(page)
    return page
