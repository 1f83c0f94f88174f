"""The report for readers: one self-contained HTML file (and a Quarto document) from results.

See ``docs/report.md``. :func:`report` writes it; :func:`report_context` builds what it shows,
which :func:`render_html` and :func:`render_markdown` render with the package's Jinja2
templates.
"""

from lcmodel.reporting.context import report_context
from lcmodel.reporting.render import ReportFiles, render_html, render_markdown, report

__all__ = ["ReportFiles", "render_html", "render_markdown", "report", "report_context"]
