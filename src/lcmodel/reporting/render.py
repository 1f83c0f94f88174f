"""Render the report for readers: one self-contained HTML file, and a Quarto document.

The templates (``templates/report.html.j2`` and ``templates/report.qmd.j2``, package data) are
Jinja2 templates over the context of :func:`lcmodel.reporting.context.report_context`. The HTML
template escapes everything it is given (autoescape), carries its own small stylesheet and
embeds every figure as a PNG data URI, so the file makes no request to anything outside it.
Both files are written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lcmodel.errors import LcmodelError
from lcmodel.io.atomic import atomic_file
from lcmodel.reporting.context import Source, report_context

__all__ = ["ReportFiles", "render_html", "render_markdown", "report"]


def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lcmodel.reporting", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _markdown_cell
    env.filters["yaml_string"] = _yaml_string
    return env


def _yaml_string(value: object) -> str:
    """A double-quoted YAML scalar (a JSON string is one), for the Quarto front matter."""
    return json.dumps(str(value), ensure_ascii=False)


def _markdown_cell(value: object) -> str:
    """Text safe inside a Markdown pipe-table cell or line (no pipes, no line breaks)."""
    text = " ".join(str(value).split())
    for character in ("\\", "|", "*", "_", "`", "<", ">", "[", "]"):
        text = text.replace(character, f"\\{character}")
    return text


def render_html(context: dict[str, Any]) -> str:
    """The report as one HTML document (see :func:`report_context` for ``context``)."""
    return str(_environment(autoescape=True).get_template("report.html.j2").render(**context))


def render_markdown(context: dict[str, Any]) -> str:
    """The report as a Quarto (Markdown) document, figures embedded as data URIs."""
    return str(_environment(autoescape=False).get_template("report.qmd.j2").render(**context))


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`report` wrote, and how long it took.

    Attributes
    ----------
    html
        The HTML report.
    markdown
        The Quarto document, when one was asked for.
    seconds
        Wall time from loading the results to the last file written.
    """

    html: Path
    markdown: Path | None
    seconds: float


def report(
    sources: Source | list[Source],
    to: str | Path = "report.html",
    *,
    markdown: str | Path | None = None,
    title: str | None = None,
) -> ReportFiles:
    """Write the report of one or more results: HTML, and optionally a Quarto document.

    Parameters
    ----------
    sources
        Result folders written by ``lcmodel fit`` (or ``save()``), or fitted results; one or a
        list. Unit-level, Fay-Herriot and joint results all work.
    to
        The HTML file to write (its folder must exist).
    markdown
        A Quarto/Markdown file (``.qmd`` or ``.md``) with the same content, if wanted.
    title
        The report's title (default: the models' names).

    Returns
    -------
    ReportFiles
        The files written and the time it took.

    Raises
    ------
    LcmodelError
        When a source is not a saved result, or an output folder does not exist.

    Examples
    --------
    >>> import lcmodel
    >>> lcmodel.report(["out/trust", "out/trust_fh"], to="report.html")  # doctest: +SKIP
    """
    start = time.perf_counter()
    items = sources if isinstance(sources, list | tuple) else [sources]
    targets = [Path(to)] + ([Path(markdown)] if markdown is not None else [])
    for target in targets:
        if not target.parent.is_dir():
            raise LcmodelError(f"{target}: folder {target.parent} does not exist")
    context = report_context(list(items), title=title)
    html = render_html(context)
    with atomic_file(targets[0]) as staging:
        staging.write_text(html, encoding="utf-8")
    if markdown is not None:
        text = render_markdown(context)
        with atomic_file(targets[1]) as staging:
            staging.write_text(text, encoding="utf-8")
    return ReportFiles(
        html=targets[0].resolve(),
        markdown=targets[1].resolve() if markdown is not None else None,
        seconds=time.perf_counter() - start,
    )
