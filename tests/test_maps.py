"""Maps of area estimates: colours that follow the values, suppressed and missing areas, scales
centred where they should be, the boundary file a fit records, and the errors.

Fast: the maps are drawn from the result saved by lcmodel 0.1.0 (``tests/fixtures``) and the
shipped boundary file, without sampling; one CLI test fits a tiny spec (``sampling``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import lcmodel
from lcmodel.data.adjacency import file_hash, load_boundaries
from lcmodel.errors import DataError, LcmodelError
from lcmodel.results.fit_result import MAP_FILE, FitResult
from lcmodel.results.maps import SUPPRESSED, area_map, map_scale, map_values

gpd = pytest.importorskip("geopandas")
shapely = pytest.importorskip("shapely")

ROOT = Path(__file__).resolve().parents[1]
GEOJSON = ROOT / "data" / "areas.geojson"
SAVED = ROOT / "tests" / "fixtures" / "saved-0.1.0" / "trust"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def saved() -> FitResult:
    return lcmodel.load(SAVED)


@pytest.fixture(scope="module")
def shapes():
    return gpd.read_file(GEOJSON)


def _with(result: FitResult, *, metadata: dict | None = None, **fit: float) -> FitResult:
    """The same posterior with other ``[fit]`` settings or metadata (estimates recomputed)."""
    return FitResult(
        idata=result.idata,
        spec=result.spec.with_overrides(**fit) if fit else result.spec,
        inputs=result.inputs,
        diagnostics=result.diagnostics(),
        metadata=result.metadata | (metadata or {}),
    )


def _layer(ax, gid: str):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, [c.get_gid() for c in ax.collections]
    return found[0]


def _colorbar(fig, starts: str):
    """The colour bar axes whose label starts with ``starts``: its y limits are the norm's."""
    found = [a for a in fig.axes if a.get_ylabel().startswith(starts)]
    assert len(found) == 1, [a.get_ylabel() for a in fig.axes]
    return found[0]


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def _positions(colours: np.ndarray, cmap: str) -> np.ndarray:
    """How far along ``cmap`` each RGBA colour is (the nearest of its 256 entries)."""
    table = mpl.colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]
    distance = ((colours[:, None, :3] - table[None, :, :]) ** 2).sum(axis=2)
    return distance.argmin(axis=1)


def _headline(result: FitResult) -> pd.DataFrame:
    table = result.estimates()
    return table[table["quantity"] == result.headline].set_index("area")


def test_colours_follow_the_estimates_along_the_colour_map(saved, shapes) -> None:
    fig, axes = saved.plot_map("mean", boundaries=GEOJSON)
    means = _headline(saved)["mean"].reindex(shapes["area"]).to_numpy() * 100  # shares in %
    faces = _layer(axes[0], "values").get_facecolors()
    assert len(faces) == len(shapes) == 20
    along = _positions(faces, "viridis")
    # a higher mean is further along the colour map, for every pair of areas
    assert (np.sign(np.subtract.outer(along, along)) == np.sign(np.subtract.outer(means, means)))[
        np.abs(np.subtract.outer(means, means)) > 0.5
    ].all()
    assert along[means.argmin()] == 0 and along[means.argmax()] == 255
    bar = _colorbar(fig, "Share (%)")
    np.testing.assert_allclose(bar.get_ylim(), (means.min(), means.max()))
    # the second map shows the interval widths, with their own colour bar
    widths = (_headline(saved)[["upper", "lower"]].reindex(shapes["area"]).diff(axis=1)).abs()
    width_bar = _colorbar(fig, "Width of the 90% equal-tailed interval (percentage points)")
    np.testing.assert_allclose(
        width_bar.get_ylim(), (widths.min().min() * 100, widths.max().max() * 100)
    )
    along_width = _positions(_layer(axes[1], "widths").get_facecolors(), "YlGnBu")
    assert along_width[widths.iloc[:, 1].to_numpy().argmax()] == 255
    assert _legend(axes[0]) == []  # nothing suppressed, every area estimated


def test_suppressed_estimates_are_grey_and_hatched_never_a_value(saved, shapes) -> None:
    cv = _headline(saved)["cv"]
    strict = _with(saved, cv_caution=float(cv.quantile(0.3)), cv_suppress=float(cv.median()))
    flags = _headline(strict)["reliability"]
    suppressed = flags == "suppress"
    assert 5 <= suppressed.sum() <= 15
    _fig, axes = strict.plot_map("mean", boundaries=GEOJSON)
    values, grey = _layer(axes[0], "values"), _layer(axes[0], "suppressed")
    order = shapes["area"]
    assert len(values.get_facecolors()) == (~suppressed).sum()
    assert len(grey.get_paths()) == suppressed.sum() == suppressed.reindex(order).sum()
    assert grey.get_hatch() == SUPPRESSED["hatch"]
    np.testing.assert_allclose(grey.get_facecolors()[:, :3], 0.72)  # grey: r = g = b
    assert f"suppressed (CV above {cv.median():g})" in _legend(axes[0])
    # the width map keeps their width's colour (it is why they are suppressed) and hatches it
    assert len(_layer(axes[1], "widths").get_facecolors()) == 20
    assert _layer(axes[1], "suppressed").get_hatch() == SUPPRESSED["hatch"]
    # the reliability map: publish and caution shaded, suppress hatched, a legend of all three
    _fig, axes = strict.plot_map("reliability", boundaries=GEOJSON)
    assert _legend(axes[0])[:2] == ["publish", "caution"]
    assert len(_layer(axes[0], "suppressed").get_paths()) == suppressed.sum()


def test_areas_without_an_estimate_are_light_grey(saved, shapes) -> None:
    extra = shapes.iloc[[0]].assign(area="LC99", geometry=shapes.geometry.iloc[[0]].translate(1e4))
    more = pd.concat([shapes, extra], ignore_index=True)
    _fig, axes = saved.plot_map("mean", boundaries=more)
    missing = _layer(axes[0], "no estimate")
    assert len(missing.get_paths()) == 1
    np.testing.assert_allclose(missing.get_facecolors()[0, :3], 0.9)
    assert missing.get_hatch() is None
    assert "no estimate" in _legend(axes[0])
    assert len(_layer(axes[0], "values").get_facecolors()) == 20


@pytest.mark.parametrize(
    ("statistic", "column", "centre"),
    [("p_above_benchmark", None, 0.5), ("diff_mean", "diff_mean", 0.0)],
)
def test_benchmark_maps_diverge_around_their_centre(saved, statistic, column, centre) -> None:
    fig, axes = saved.plot_map(statistic, boundaries=GEOJSON)
    label = "Share: P(above" if column is None else "Share: difference from benchmark"
    low, high = _colorbar(fig, label).get_ylim()
    assert low < centre < high
    assert centre - low == pytest.approx(high - centre)
    if column is None:
        assert (low, high) == (0.0, 1.0)
    else:
        values = _headline(saved)[column] * 100
        assert high == pytest.approx(values.abs().max())
    faces = _layer(axes[0], "values").get_facecolors()
    assert mpl.colormaps["RdYlBu"].N and len(faces) == 20


def test_a_change_map_diverges_around_zero_and_hatches_either_wave_suppressed(shapes) -> None:
    areas = list(shapes["area"])
    rng = np.random.default_rng(1)
    change = rng.normal(0.0, 0.05, len(areas))
    change[0] = 0.12  # the largest change sets the limits: +-12 percentage points
    table = pd.DataFrame(
        {
            "area": areas,
            "name": areas,
            "quantity": "share",
            "change_mean": change,
            "change_lower": change - 0.04,
            "change_upper": change + 0.06,
        }
    )
    flags = pd.DataFrame({"area": [areas[1], areas[2]], "reliability": ["suppress", "publish"]})
    values = map_values(table, "change", flags=flags)
    assert values["suppressed"].tolist() == [False, True] + [False] * 18
    np.testing.assert_allclose(values["width"], 10.0)
    scale = map_scale("change", "share", waves=(1, 3))
    fig, axes = area_map(
        load_boundaries(shapes, areas),
        values,
        scale=scale,
        interval="90% equal-tailed",
        suppress_rule="CV above 0.33",
    )
    bar = _colorbar(fig, "Share: change, wave 1 to 3 (percentage points)")
    np.testing.assert_allclose(bar.get_ylim(), (-12.0, 12.0))
    faces = _layer(axes[0], "values").get_facecolors()
    along = _positions(faces, "RdYlBu")
    assert along[0] == 255  # the largest increase: the far (blue) end
    assert len(faces) == 19 and len(_layer(axes[0], "suppressed").get_paths()) == 1


def test_change_needs_waves_and_statistics_are_checked(saved) -> None:
    with pytest.raises(LcmodelError, match="no area x wave estimates"):
        saved.plot_map("change", boundaries=GEOJSON)
    with pytest.raises(LcmodelError, match=r"cannot map 'means' \(did you mean 'mean'\?\)"):
        saved.plot_map("means", boundaries=GEOJSON)
    with pytest.raises(LcmodelError, match="no quantity 'mean'"):
        saved.plot_map("mean", quantity="mean", boundaries=GEOJSON)


def test_areas_missing_from_the_boundary_file_are_a_clear_error(saved, shapes, tmp_path) -> None:
    partial = tmp_path / "partial.geojson"
    shapes[~shapes["area"].isin(["LC03", "LC07"])].to_file(partial, driver="GeoJSON")
    with pytest.raises(DataError) as error:
        saved.plot_map("mean", boundaries=partial)
    message = str(error.value)
    assert str(partial) in message and "'LC03'" in message and "'LC07'" in message
    assert "2 of 20 areas with estimates" in message and "column 'area'" in message
    assert "use a boundary file of all the areas" in message
    renamed = shapes.rename(columns={"area": "code"})
    with pytest.raises(DataError, match=r"column 'area' .* not found.*columns present: code"):
        saved.plot_map("mean", boundaries=renamed)
    with pytest.raises(DataError, match="boundary file not found"):
        saved.plot_map("mean", boundaries=tmp_path / "nope.geojson")


def test_the_recorded_boundary_file_is_used_and_its_loss_explained(saved, tmp_path) -> None:
    with pytest.raises(LcmodelError, match=r"fitted without a boundary file.*pass boundaries="):
        saved.plot_map()
    copy = tmp_path / "areas.geojson"
    shutil.copy(GEOJSON, copy)
    recorded = _with(saved, metadata={"boundaries": {"file": str(copy), "sha256": file_hash(copy)}})
    _fig, axes = recorded.plot_map()
    assert len(_layer(axes[0], "values").get_facecolors()) == 20
    folder = recorded.save(tmp_path / "out")
    assert (folder / MAP_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = lcmodel.load(folder)
    assert loaded.metadata["boundaries"]["file"] == str(copy)
    copy.unlink()
    with pytest.raises(LcmodelError, match=r"areas.geojson, is gone; pass boundaries="):
        loaded.plot_map()
    assert not loaded.can_map()  # saving again skips the map instead of failing
    assert not (saved.save(tmp_path / "plain") / MAP_FILE).exists()


def test_boundaries_key_resolves_and_fits_record_the_file(tmp_path) -> None:
    from lcmodel.models.unit_level import UnitLevelModel

    text = (ROOT / "models" / "trust.toml").read_text().replace('"../data/', f'"{ROOT}/data/')
    written = tmp_path / "models" / "trust.toml"
    written.parent.mkdir()
    written.write_text(
        text.replace("[structure]\n", '[structure]\nboundaries = "../data/areas.geojson"\n')
    )
    (tmp_path / "data").mkdir()
    shutil.copy(GEOJSON, tmp_path / "data" / "areas.geojson")
    spec = lcmodel.load_spec(written)
    assert spec.structure.boundaries == (tmp_path / "data" / "areas.geojson").resolve()
    assert spec.structure.area_effect == "iid"
    model = UnitLevelModel.from_spec(spec)
    record = model.data_metadata()["boundaries"]
    assert record == {
        "file": str((tmp_path / "data" / "areas.geojson").resolve()),
        "sha256": file_hash(GEOJSON),
    }
    assert "adjacency" not in model.data_metadata()
    # a boundary file as adjacency is the map's file too
    bym2 = UnitLevelModel.from_spec(ROOT / "models" / "trust_bym2.toml")
    assert bym2.data_metadata()["boundaries"]["file"] == str(GEOJSON.resolve())
    # the fit checks the file before sampling: an area without a polygon fails at once
    shapes = gpd.read_file(GEOJSON)
    shapes[shapes["area"] != "LC05"].to_file(tmp_path / "data" / "areas.geojson", driver="GeoJSON")
    with pytest.raises(DataError, match=r"\['LC05'\] \(1 of 20 areas"):
        UnitLevelModel.from_spec(lcmodel.load_spec(written))


def test_area_level_specs_take_boundaries_too(tmp_path) -> None:
    from lcmodel.spec import load_spec

    text = (ROOT / "models" / "trust_fh.toml").read_text()
    assert "[area_level]" in text
    written = tmp_path / "models" / "trust_fh.toml"
    written.parent.mkdir()
    written.write_text(text.replace("[area_level]", '[area_level]\nboundaries = "areas.geojson"'))
    spec = load_spec(written)
    assert spec.area_level.boundaries == (tmp_path / "models" / "areas.geojson").resolve()


@pytest.mark.sampling
def test_fit_writes_a_map_for_an_iid_spec_with_boundaries(tmp_path: Path, capsys) -> None:
    """Six square areas (f unsurveyed), independent effects, a ``boundaries`` file."""
    from lcmodel.cli import main

    areas = list("abcdef")
    squares = [shapely.box(i % 3, i // 3, i % 3 + 1, i // 3 + 1) for i in range(6)]
    gpd.GeoDataFrame({"area": areas}, geometry=squares, crs="EPSG:27700").to_file(
        tmp_path / "areas.geojson", driver="GeoJSON"
    )
    pd.DataFrame(
        {"area": list("aaabbbcccdddeee"), "y": [1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1]}
    ).to_csv(tmp_path / "survey.csv", index=False)
    pd.DataFrame({"area": areas, "name": [a.upper() for a in areas]}).to_csv(
        tmp_path / "areas.csv", index=False
    )
    (tmp_path / "tiny.toml").write_text(
        'name = "tiny"\ndata = "survey.csv"\nareas = "areas.csv"\n[outcome]\ncolumn = "y"\n'
        '[structure]\narea = "area"\nboundaries = "areas.geojson"\n'
    )
    out = tmp_path / "out"
    args = ["--draws", "100", "--tune", "100", "--chains", "2", "--seed", "1", "--quiet"]
    code = main(
        ["fit", str(tmp_path / "tiny.toml"), "--out", str(out), "--allow-failed-diagnostics", *args]
    )
    assert code == 0, capsys.readouterr().err
    assert (out / MAP_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((out / "result.json").read_text())["metadata"]["boundaries"]
    assert record["file"] == str((tmp_path / "areas.geojson").resolve())
