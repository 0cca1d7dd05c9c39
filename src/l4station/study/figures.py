"""Figures for the report, drawn on :class:`matplotlib.figure.Figure` objects: no pyplot, no
global backend, no figure left registered anywhere (the Matplotlib guide's "explicit" interface)."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from l4station.constants import AU_KM
from l4station.heliosphere.connectivity import Connection, spiral


def subplots(*args, figsize: tuple[float, float], **kwargs):
    """A new figure (inches) and its axes, as ``pyplot.subplots`` gives them."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def blank(figsize: tuple[float, float]) -> Figure:
    """A new empty figure (inches)."""
    return Figure(figsize=figsize)


def connectivity(conns: list[Connection], *, flare_lon_deg: float | None = None, title: str = ""):
    """Polar view from the north ecliptic pole, Earth at the bottom as in Solar-MACH's Earth-centred
    view: each observer, its Sun–observer line and its Parker spiral; a flare longitude as an arrow."""
    fig = Figure(figsize=(6.0, 6.0))
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_zero_location("S")
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    r_max = max(1.1, max(c.r_au for c in conns) * 1.1)
    for k, c in enumerate(conns):
        colour = colours[k % len(colours)]
        r, lon = spiral(c.lon_deg, c.r_au * AU_KM, c.v_kms)
        ax.plot(np.radians(lon), r / AU_KM, color=colour, lw=1.2)
        ax.plot([np.radians(c.lon_deg)] * 2, [0, c.r_au], color=colour, lw=0.6, ls=":")
        ax.plot(np.radians(c.lon_deg), c.r_au, "o", color=colour, ms=8,
                label=f"{c.name}: footpoint {c.limb} ({c.v_kms:.0f} km/s)")
    if flare_lon_deg is not None:
        ax.annotate("", xy=(np.radians(flare_lon_deg), 0.35 * r_max), xytext=(np.radians(flare_lon_deg), 0.0),
                    arrowprops=dict(arrowstyle="->", color="crimson", lw=2))
        ax.plot([], [], color="crimson", lw=2, label=f"flare {'W' if flare_lon_deg >= 0 else 'E'}{abs(flare_lon_deg):.0f}")
    ax.plot(0, 0, "o", color="gold", ms=12)
    ax.set_rmax(r_max)
    ax.set_rlabel_position(135)
    ax.set_thetagrids(range(0, 360, 30))
    ax.set_title(title or "Parker-spiral connectivity (view from the north; Earth at the bottom)", fontsize=9)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=8, ncol=2, frameon=False)
    fig.tight_layout()
    return fig
