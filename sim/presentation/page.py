"""HTML pages from the Jinja2 templates in `templates/`: Python gives the numbers and figures, they the markup.

Every page is one self-contained file: `page.html` inlines plotly.js once in the head and the style
sheet (`report.css`), and each figure is a plotly div (`figure`). Autoescaping is on for HTML, so
a scenario's name or an error message is shown as text; only plotly's own output is inserted as
markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from plotly.offline import get_plotlyjs

from sim.presentation.charts import FONT


def _fill(text: str, **fields: object) -> Markup:
    """A label with its `{name}` fields filled in, all as escaped text except fields that are markup already."""
    return escape(text).format(**fields)


_ENV = Environment(
    loader=PackageLoader("sim.presentation", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("css",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["fill"] = _fill


@dataclass(frozen=True)
class Figure:
    """A figure as a page shows it.

    Attributes:
        title: The figure's title (the figure element's accessible name).
        div: The plotly div that draws it (plotly's own markup).
        caption: The text under it, or "" for none.
    """

    title: str
    div: Markup
    caption: str


def figure(name: str, fig: go.Figure, caption: str | None = None) -> Figure:
    """A figure for a page: its plotly div has the id `fig-<name>` and draws with the page's plotly.js.

    Args:
        name: The figure's name in its page.
        fig: The figure.
        caption: Plain text under the figure, if any.

    Returns:
        What the templates' `figure` macro shows.
    """
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{name}",
        default_height=f"{fig.layout.height}px",
        config={"displaylogo": False, "responsive": True},
    )
    return Figure(title=fig.layout.title.text, div=Markup(div), caption=caption or "")


def render(template: str, **context: Any) -> str:
    """A template filled in.

    Args:
        template: Its file name in `templates/`.
        **context: The values it shows.

    Returns:
        The text.
    """
    return _ENV.get_template(template).render(**context)


def write_page(path: Path, template: str, **context: Any) -> None:
    """Write one self-contained HTML page from a template that extends `page.html`.

    Args:
        path: The file to write (its folder is created if missing).
        template: The page's template in `templates/`.
        **context: The values it shows; `lab` (the labels of its language) and `title` at least.
    """
    page = render(template, plotly_js=Markup(get_plotlyjs()), font=FONT, **context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def style_sheet() -> str:
    """The reports' CSS, so that pages showing report pieces (the dashboard) look the same."""
    return render("report.css", font=FONT)
