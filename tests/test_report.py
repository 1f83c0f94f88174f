"""The report for readers (``lcmodel report``): sections, tables, suppression, checks, files.

Fast: reports of the results saved by lcmodel 0.1.0 (``tests/fixtures``: a unit-level and a
Fay-Herriot fit), without sampling; the map is drawn on the shipped boundary file. One test
renders the report in headless Chromium (``browser``: skipped only where Chromium is not
installed; ``.ci/run`` installs it) and one fits a small joint model with area x wave effects
and writes its report from the command line (``sampling``).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import lcmodel
from lcmodel.cli import EXIT_BAD_INPUT, main
from lcmodel.data.adjacency import file_hash
from lcmodel.errors import LcmodelError
from lcmodel.reporting import render_html, render_markdown, report, report_context
from lcmodel.results.checks import ModelChecks
from lcmodel.results.fit_result import FitResult

ROOT = Path(__file__).resolve().parents[1]
SAVED = ROOT / "tests" / "fixtures" / "saved-0.1.0"
GEOJSON = ROOT / "data" / "areas.geojson"
AREAS = 20
INDICATOR_SECTIONS = ["Summary", "Estimates", "Forest plot"]
METHOD_SECTIONS = ["Model", "Priors", "Data", "Diagnostics", "Model checks", "Software"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _with(result: FitResult, cls: type[FitResult] = FitResult, **fit: float) -> FitResult:
    """The same posterior with other ``[fit]`` settings, the shipped map, as ``cls``."""
    boundaries = {"file": str(GEOJSON), "sha256": file_hash(GEOJSON)}
    return cls(
        idata=result.idata,
        spec=result.spec.with_overrides(**fit) if fit else result.spec,
        inputs=result.inputs,
        diagnostics=result.diagnostics(),
        metadata=result.metadata | {"boundaries": boundaries},
        wave_inputs=result.wave_inputs,
    )


@pytest.fixture(scope="module")
def trust() -> FitResult:
    return lcmodel.load(SAVED / "trust")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def strict(trust: FitResult) -> FitResult:
    """The saved trust fit with thresholds that flag some estimates caution and suppress."""
    cv = trust.estimates()["cv"]
    return _with(trust, cv_caution=float(cv.quantile(0.3)), cv_suppress=float(cv.median()))


@pytest.fixture(scope="module")
def page(strict: FitResult) -> Page:
    html = render_html(report_context([strict, SAVED / "trust_fh"]))
    return Page.of(html)


# ------------------------------------------------------------------ reading a page
@dataclass
class TableSeen:
    kind: str
    quantity: str
    sections: tuple[str, ...]
    rows: list[dict[str, object]] = field(default_factory=list)


class Page(HTMLParser):
    """What a reader sees of a page: headings by section, images, tables, visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.headings: list[tuple[str, str, tuple[str, ...]]] = []
        self.images: list[dict[str, str]] = []
        self.tables: list[TableSeen] = []
        self.links: list[str] = []
        self.tags: list[str] = []
        self.body: dict[str, str] = {}
        self.indicators: dict[str, str] = {}
        self.text: list[str] = []
        self._heading: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self._skip = 0

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(a.get("id") or a.get("class", ""))
            if "data-indicator" in a:
                self.indicators[a["data-indicator"]] = a["id"]
        elif tag in {"h1", "h2", "h3", "h4", "h5"}:
            self._heading = (tag, [])
        elif tag == "img":
            self.images.append(a)
        elif tag in {"a", "link"} and "href" in a:
            self.links.append(a["href"])
        elif tag == "body":
            self.body = a
        elif tag == "table":
            self.tables.append(
                TableSeen(a.get("class", ""), a.get("data-quantity", ""), tuple(self.sections))
            )
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append(
                {"area": a.get("data-area", ""), "flag": a.get("data-reliability", ""), "cells": []}
            )
        elif tag in {"td", "th"} and self.tables and self.tables[-1].rows:
            self._cell = []
        elif tag in {"style", "script"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.sections:
            self.sections.pop()
        elif self._heading and tag == self._heading[0]:
            text = " ".join("".join(self._heading[1]).split())
            self.headings.append((tag, text, tuple(self.sections)))
            self._heading = None
        elif tag in {"td", "th"} and self._cell is not None:
            self.tables[-1].rows[-1]["cells"].append(" ".join("".join(self._cell).split()))  # type: ignore[union-attr]
            self._cell = None
        elif tag in {"style", "script"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._heading:
            self._heading[1].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def headings_in(self, section: str) -> list[str]:
        return [text for _, text, where in self.headings if section in where]

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def _png_size(uri: str) -> tuple[int, int]:
    """Width and height of a PNG data URI (its IHDR chunk); fails for anything else."""
    head, _, data = uri.partition(",")
    assert head == "data:image/png;base64", head[:40]
    raw = base64.b64decode(data, validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")


def _check_page(
    page: Page, indicators: dict[str, list[str]], methods: int, scripts: int = 0
) -> None:
    """Every section, every area, every image: the assertions shared by all reports."""
    sections = [t for t in page.tables if t.kind == "estimates"]
    assert list(page.indicators) == list(indicators)
    for name, extra in indicators.items():
        section = page.indicators[name]
        assert page.headings_in(section)[1:] == INDICATOR_SECTIONS + extra, name
        mine = [t for t in sections if section in t.sections]
        assert mine, name
        for table in mine:
            rows = [r for r in table.rows if r["area"]]
            assert len(rows) == AREAS == len({r["area"] for r in rows}), (name, table.quantity)
    methods_headings = page.headings_in("methods")
    assert methods_headings.count("Model checks") == methods
    for heading in METHOD_SECTIONS:
        assert methods_headings.count(heading) == methods, heading
    assert page.images
    for image in page.images:
        width, height = _png_size(image["src"])
        assert width > 100 and height > 100 and image.get("alt")
    assert page.tags.count("script") == scripts  # the report runs no code
    assert not {"link", "iframe", "object", "embed"} & set(page.tags)
    assert all(link.startswith("#") for link in page.links), page.links


# ------------------------------------------------------------------ content
def test_every_section_and_every_area_is_in_the_report(page: Page) -> None:
    _check_page(page, {"trust": ["Map"], "trust_fh": []}, methods=2)
    estimates = [t for t in page.tables if t.kind == "estimates"]
    assert [t.quantity for t in estimates] == ["share", "share"]
    assert page.headings[0][1] == "Small-area estimates: trust, trust_fh"
    text = page.visible()
    assert "from the direct estimates of 20 areas (a Fay-Herriot model" in text
    # the fixtures name data files of another checkout: no priors recomputed, and it says so
    assert text.count("The default priors are scaled to the data, and its data could not") == 2
    for name in ("trust", "trust_fh"):
        facts = json.loads((SAVED / name / "result.json").read_text())["metadata"]
        assert facts["data_hash"] in text and facts["versions"]["pymc"] in text


def test_reliability_flags_and_the_summary_speak_plainly(page: Page, strict: FitResult) -> None:
    expected = strict.estimates().set_index("area")["reliability"]
    table = next(t for t in page.tables if t.kind == "estimates")
    flags = {str(r["area"]): r["flag"] for r in table.rows if r["area"]}
    assert flags == expected.to_dict()
    assert {"publish", "caution", "suppress"} <= set(flags.values())
    text = page.visible()
    counts = expected.value_counts()
    assert (
        f"{counts['publish']} of 20 estimates are precise enough to publish; "
        f"{counts['caution']} should be read with caution" in text
    )
    assert f"{counts['suppress']} are suppressed" in text
    assert "The model's convergence checks passed." not in text  # 40 draws: the gates fail
    assert "FAILED its convergence checks" in text


CANARY = -0.4321
"""A value no real estimate of the saved fits has: -43.2%, -43.2 pts, -0.43."""

NUMBERS = [
    "direct",
    "direct_se",
    "mean",
    "sd",
    "cv",
    "lower",
    "upper",
    "diff_mean",
    "diff_lower",
    "diff_upper",
    "p_above_benchmark",
]


class _Canary(FitResult):
    """A result whose first 5 areas carry the canary value in every number, flagged ``flag``."""

    flag = "suppress"

    def estimates(self, prob: float | None = None, kind: str | None = None) -> pd.DataFrame:
        table = super().estimates(prob, kind)
        rows = table["area"].isin(sorted(table["area"].unique())[:5])
        table.loc[rows, NUMBERS] = CANARY
        table.loc[rows, "reliability"] = self.flag
        return table


class _Published(_Canary):
    flag = "publish"


@pytest.mark.parametrize("render", [render_html, render_markdown], ids=["html", "markdown"])
def test_a_suppressed_estimate_is_never_a_number(trust: FitResult, render) -> None:
    marks = ("43.2", "0.43")
    baseline = render(report_context([trust]))
    assert not any(mark in baseline for mark in marks)  # the canary is not a real value
    shown = render(report_context([_with(trust, _Published)]))
    assert all(mark in shown for mark in marks)  # negative control: published, it is seen
    hidden = render(report_context([_with(trust, _Canary)]))
    assert not any(mark in hidden for mark in marks)
    assert hidden.count("suppressed") >= 5


def test_text_is_escaped(trust: FitResult) -> None:
    odd = _with(trust)
    odd.inputs = trust.inputs.assign(
        name=trust.inputs["name"].where(trust.inputs["area"] != "LC01", "<b>Oak & Ash</b>")
    )
    html = render_html(report_context([odd]))
    assert "<b>Oak" not in html and "&lt;b&gt;Oak &amp; Ash&lt;/b&gt;" in html
    markdown = render_markdown(report_context([odd]))
    assert "\\<b\\>Oak & Ash\\</b\\>" in markdown


# ------------------------------------------------------------------ model checks
@dataclass
class _Check:
    name: str
    title: str
    summary: str
    table: pd.DataFrame
    flagged: list[str]

    def figure(self):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1], [0, 1])
        return fig, ax


class _Checked(FitResult):
    def checks(self):
        table = pd.DataFrame({"area": ["LC01", "LC02"], "p_value": [0.5, 0.01]})
        found = [
            _Check("coverage", "Direct estimates in the intervals", "18 of 20 inside.", table, []),
            _Check("ppc", "Posterior predictive p-values", "2 areas extreme.", table, ["LC02"]),
        ]
        return ModelChecks(self.spec.name, found)  # type: ignore[arg-type]


class _Unchecked(FitResult):
    def checks(self):
        raise LcmodelError("the survey file is gone")


def test_model_checks_are_shown_or_said_not_run(trust: FitResult) -> None:
    checked = Page.of(render_html(report_context([_with(trust, _Checked)])))
    text = checked.visible()
    assert "Direct estimates in the intervals. 18 of 20 inside." in text
    assert "Nothing flagged." in text and "Flagged: LC02" in text
    assert len(checked.images) == 2 + 2  # forest, map, one figure per check
    plain = Page.of(render_html(report_context([trust])))  # the real checks of a saved fit
    shown = plain.visible()
    for check in trust.checks():
        assert check.title in shown
    # saved without the pointwise groups (and its data files elsewhere): said, not hidden
    assert "Not run here: " in shown and "loo (" in shown
    failed = Page.of(render_html(report_context([_with(trust, _Unchecked)])))
    assert "Model checks could not be run: the survey file is gone" in failed.visible()
    markdown = render_markdown(report_context([_with(trust, _Checked)]))
    assert "**Posterior predictive p-values.** 2 areas extreme." in markdown


# ------------------------------------------------------------------ files, CLI, API
def test_cli_writes_html_and_quarto(tmp_path: Path, capsys) -> None:
    html, qmd = tmp_path / "report.html", tmp_path / "report.qmd"
    code = main(
        [
            "report",
            str(SAVED / "trust"),
            str(SAVED / "trust_fh"),
            "--to",
            str(html),
            "--markdown",
            str(qmd),
            "--title",
            "Trust & co",
        ]
    )
    assert code == 0
    assert re.search(
        r"Wrote .*report\.html \(\d+ KiB\), .*report\.qmd \(\d+ KiB\) in", capsys.readouterr().out
    )
    page = Page.of(html.read_text())
    assert page.headings[0][1] == "Trust & co"
    text = qmd.read_text()
    assert text.startswith('---\ntitle: "Trust & co"\n')
    figures = 2 + sum(len(lcmodel.load(SAVED / n).checks()) for n in ("trust", "trust_fh"))
    assert text.count("data:image/png;base64,") == len(page.images) == figures
    for heading in ["## trust", "## trust\\_fh", "## Methods appendix", "#### Model checks"]:
        assert f"\n{heading}\n" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) >= 2 * AREAS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.qmd"]


def test_cli_errors_are_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path), "--to", str(tmp_path / "r.html")]) == EXIT_BAD_INPUT
    assert "not a saved lcmodel result" in " ".join(capsys.readouterr().err.split())
    missing = tmp_path / "no" / "r.html"
    assert main(["report", str(SAVED / "trust"), "--to", str(missing)]) == EXIT_BAD_INPUT
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_python_api_and_a_light_import(tmp_path: Path) -> None:
    written = lcmodel.report(SAVED / "trust_fh", to=tmp_path / "fh.html")
    assert written.html == (tmp_path / "fh.html").resolve() and written.markdown is None
    assert written.seconds > 0
    with pytest.raises(LcmodelError, match="at least one result folder"):
        report([], to=tmp_path / "none.html")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import lcmodel, sys; lcmodel.__dir__(); print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded = set(done.stdout.split())
    assert not {"lcmodel.reporting", "jinja2"} & loaded


def test_templates_are_package_data() -> None:
    from importlib.resources import files

    templates = files("lcmodel.reporting") / "templates"
    assert {"report.html.j2", "report.qmd.j2"} <= {p.name for p in templates.iterdir()}


# ------------------------------------------------------------------ a real browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


PROBE = """<script>
window.addEventListener("load", () => {
  const seen = Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);
  document.body.setAttribute("data-images", JSON.stringify(seen));
});
</script>
</body>"""
"""Added to a copy of the report (never to the report itself): the browser's decoded images."""


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [chromium, *flags, *args], capture_output=True, text=True, timeout=180, check=True
    )


def browser_check(
    html: Path, tmp_path: Path, indicators: dict[str, list[str]], methods: int
) -> Page:
    """Render ``html`` in headless Chromium: screenshot, then assert on the rendered DOM."""
    chromium = _chromium()
    assert chromium is not None
    shot = tmp_path / "report.png"
    _browser(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        html.as_uri(),
    )
    image = plt.imread(shot)
    assert image.shape[:2] == (4000, 1280) and image.std() > 0.01  # a page, not a blank
    probed = tmp_path / "probed.html"
    probed.write_text(html.read_text().replace("</body>", PROBE))
    dom = _browser(
        chromium, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()
    ).stdout
    page = Page.of(dom)
    _check_page(page, indicators, methods, scripts=1)  # the probe
    decoded = json.loads(page.body["data-images"])
    assert len(decoded) == len(page.images)
    assert all(done and width > 0 and height > 0 for done, width, height in decoded), decoded
    return page


@pytest.mark.browser
def test_the_report_renders_in_a_real_browser(strict: FitResult, tmp_path: Path) -> None:
    if _chromium() is None:
        pytest.skip(
            "headless Chromium is not installed (apt-get install chromium; .ci/run installs it)"
        )
    html = tmp_path / "report.html"
    report([strict, SAVED / "trust_fh"], to=html)
    page = browser_check(html, tmp_path, {"trust": ["Map"], "trust_fh": []}, methods=2)
    suppressed = [
        r for t in page.tables if t.kind == "estimates" for r in t.rows if r["flag"] == "suppress"
    ]
    assert suppressed
    for row in suppressed:
        cells = row["cells"]
        assert cells[3] == "suppressed"
        assert not any(re.search(r"\d", c) for i, c in enumerate(cells) if i not in (1, 5))


# ------------------------------------------------------------------ a joint fit
@pytest.mark.sampling
def test_joint_report_with_waves_and_maps_from_the_command_line(tmp_path: Path, capsys) -> None:
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    models = tmp_path / "models"
    waves = (models / "trust_waves.toml").read_text()
    waves = waves.replace("[structure]\n", '[structure]\nboundaries = "../data/areas.geojson"\n')
    (models / "trust_waves.toml").write_text(waves)
    (models / "joint.toml").write_text(
        'name = "pair"\nindicators = ["trust_waves.toml", "belonging.toml"]\n'
    )
    out = tmp_path / "out"
    fit = [
        "fit",
        str(models / "joint.toml"),
        "--out",
        str(out),
        "--draws",
        "60",
        "--tune",
        "60",
        "--chains",
        "2",
        "--seed",
        "4",
        "--quiet",
        "--allow-failed-diagnostics",
    ]
    assert main(fit) == 0
    html = tmp_path / "joint.html"
    assert main(["report", str(out), "--to", str(html), "--markdown", str(tmp_path / "j.qmd")]) == 0
    capsys.readouterr()
    indicators = {"trust_waves": ["Map", "Change between waves"], "belonging": []}
    page = Page.of(html.read_text())
    _check_page(page, indicators, methods=1)
    assert any(
        text.startswith("pair: how the indicators move together") for _, text, _ in page.headings
    )
    result = lcmodel.load(out)["trust_waves"]
    waves_table = result.wave_estimates().set_index(["area", "wave"])["reliability"]
    changes = next(t for t in page.tables if t.kind == "changes")
    rows = [r for r in changes.rows if r["area"]]
    assert len(rows) == AREAS
    for row in rows:
        hidden = "suppress" in {waves_table[(row["area"], 1)], waves_table[(row["area"], 6)]}
        assert (row["cells"][3] == "suppressed") == hidden
        assert (row["flag"] == "suppress") == hidden
    priors = next(t for t in page.tables if t.kind == "priors")
    # the data are unchanged, so the priors are recomputed: every indicator's, and the LKJ
    terms = {tuple(r["cells"][:2]) for r in priors.rows if r["cells"]}  # type: ignore[index]
    assert {("trust_waves", "sigma_area"), ("belonging", "sigma_area")} <= terms
    assert ("(all)", "area_correlation") in terms
    text = page.visible()
    assert "Correlation of area effects" in text and "trust_waves and belonging" in text
    if _chromium() is not None:
        browser_check(html, tmp_path, indicators, methods=1)


def test_plots_for_readers_draw_no_suppressed_value(strict: FitResult) -> None:
    import numpy as np

    table = strict.estimates()
    hidden = int((table["reliability"] == "suppress").sum())
    _fig, ax = strict.plot_forest(hide_suppressed=True)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sum(label.endswith(", suppressed") for label in labels) == hidden > 0
    assert all(label.endswith(", suppressed") for label in labels[:hidden])  # at the bottom
    drawn = [
        np.isfinite(line.get_xdata()).sum() for line in ax.get_lines() if line.get_marker() == "o"
    ]
    assert sum(drawn) == 2 * (len(table) - hidden)  # model and direct points of the others
    _fig, ax = strict.plot_forest()
    assert not any("suppressed" in t.get_text() for t in ax.get_yticklabels())
