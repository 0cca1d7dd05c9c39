"""Report building blocks and the self-contained HTML report.

A section is data + tables + figures; the report is the list of sections. Figures
are inline SVG, so ``index.html`` is one file that opens offline in any browser.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import matplotlib


@dataclass(frozen=True)
class Table:
    """A captioned table of already-formatted cells."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Figure:
    """A captioned figure, stored as SVG text."""

    caption: str
    svg: str

    @classmethod
    def from_matplotlib(cls, fig, caption: str) -> "Figure":
        """Render a matplotlib figure to SVG (text kept as text)."""
        buffer = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "l4station", "savefig.dpi": 150}):
            fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        svg = buffer.getvalue()
        return cls(caption, svg[svg.index("<svg"):])


@dataclass(frozen=True)
class Section:
    """One part of the study: ``data`` goes to study.json under ``name``."""

    name: str
    title: str
    data: dict
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("l4station.study", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


def render_html(document: dict, sections: list[Section], config_text: str) -> str:
    """The whole report as one HTML page."""
    template = _environment().get_template("report.html")
    return template.render(document=document, sections=sections, config_text=config_text)


def write(out_dir: Path, document: dict, sections: list[Section], config_text: str) -> Path:
    """Write ``index.html`` and ``study.json`` into ``out_dir``; returns the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "study.json").write_text(json.dumps(document, indent=2) + "\n")
    html = out_dir / "index.html"
    html.write_text(render_html(document, sections, config_text), encoding="utf-8")
    return html
