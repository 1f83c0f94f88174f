"""Area effects: unit-variance standardised effects, scaled by ``sigma_area``.

Every model kind gets its area effects here, so a new kind of effect (spatial ICAR or BYM2,
for example) is written once::

    area_effect = sigma_area * z_area

``z_area`` has unit variance. Today the effects are ``iid`` (zero-sum over the surveyed areas
by default), each area's centred or non-centred by its own data (:func:`add_area_effect`), or,
in a joint model, a column of ``L u`` with ``L`` the Cholesky factor of an LKJ correlation
(:func:`correlated_area_effects`), which keeps each indicator's ``z_area`` at unit variance
while correlating them across indicators.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lcmodel.data.adjacency import Adjacency, load_adjacency
from lcmodel.data.common import AREA
from lcmodel.design.dims import INDICATOR, PAIR
from lcmodel.models.terms import prior
from lcmodel.spec.priors import PriorSpec, PriorTerm

__all__ = [
    "AREA_EFFECT_KINDS",
    "CENTRING_INFORMATION",
    "CENTRING_SCALE",
    "add_area_effect",
    "area_effect_terms",
    "choose_centring",
    "correlated_area_effects",
    "model_neighbourhood",
    "neighbourhood_metadata",
    "partially_centred",
    "sigma_area_term",
    "standard_area_effects",
]

AREA_EFFECT_KINDS = ("iid", "icar", "bym2")
"""Kinds of standardised area effect (``structure.area_effect``)."""

SAR = "sar"
"""The simultaneous autoregressive area effect (area-level models only; not standardised)."""


def sigma_area_term(scale: float, unit: str, why: str | None = None) -> PriorTerm:
    """The prior of the between-area sd: ``HalfNormal(scale)``.

    Parameters
    ----------
    scale
        The model's scale (1 on the logit scale, an outcome sd, a direct estimates' sd).
    unit
        How the scale reads in the rationale.
    why
        The rationale, when the default one does not fit.
    """
    return PriorTerm(
        "sigma_area",
        prior("HalfNormal", sigma=scale),
        "positive",
        why
        or f"between-area sd, scale 1 {unit}: allows areas to differ substantially while "
        "shrinking towards little variation when the data say so",
    )


def model_neighbourhood(
    path: Path | None,
    contiguity: str | None,
    areas: Sequence[Any],
    area_column: str,
    known: Adjacency | None = None,
) -> Adjacency | None:
    """The neighbourhood a spec's ``adjacency`` names, in the model's area order.

    Parameters
    ----------
    path, contiguity
        The spec's ``adjacency`` file (``None``: no neighbourhood) and ``contiguity``.
    areas
        The model's areas, in order.
    area_column
        The column naming the areas in a boundary file (or replacing ``area`` in a table).
    known
        The neighbourhood already read from the same file and settings (a model rebuilt with
        other ``[fit]`` settings), used as it is: reading and checking a boundary file again
        on every fit would cost seconds on a large map.
    """
    if path is None:
        return None
    if known is not None:
        return known
    labels = [str(a) for a in areas]
    return load_adjacency(path, labels, area_column=area_column, contiguity=contiguity)


def neighbourhood_metadata(
    adjacency: Adjacency | None, boundaries: dict[str, str] | None
) -> dict[str, Any]:
    """What a result records about the map: the neighbourhood and the boundary file of maps.

    Parameters
    ----------
    adjacency
        The model's neighbourhood (recorded as ``"adjacency"``: its summary).
    boundaries
        The boundary file's record (``"boundaries"``: absolute path and SHA-256), read by
        :meth:`lcmodel.results.fit_result.FitResult.plot_map`.
    """
    record: dict[str, Any] = {}
    if adjacency is not None:
        record["adjacency"] = adjacency.summary()
    if boundaries is not None:
        record["boundaries"] = dict(boundaries)
    return record


def area_effect_terms(
    kind: str, scale: float, unit: str, why: str | None = None
) -> list[PriorTerm]:
    """Priors of the area effects' parameters: ``sigma_area``, ``rho_area`` (BYM2), ``rho_sar``.

    ``rho_area ~ Beta(1, 1)``: no preference between spatially structured and independent
    variation (as brms's BYM2); Riebler et al.'s PC prior would favour the independent part.
    ``rho_sar ~ Uniform(-1, 1)``: flat over the autocorrelations of a row-standardised SAR
    (its eigenvalues lie in ``[-1, 1]``), as in Bayesian SAR models since LeSage (1997).

    Parameters
    ----------
    kind
        One of :data:`AREA_EFFECT_KINDS`.
    scale, unit, why
        As for :func:`sigma_area_term`.
    """
    if kind == SAR:
        why = (
            f"sd of the SAR innovations (the part of an area's effect its neighbours do not "
            f"explain), scale 1 {unit}"
        )
    terms = [sigma_area_term(scale, unit, why)]
    if kind == SAR:
        terms.append(
            PriorTerm(
                "rho_sar",
                prior("Uniform", lower=-1, upper=1),
                "correlation",
                "spatial autocorrelation of the SAR effects: uniform over (-1, 1), every "
                "value the row-standardised weights allow that is not a unit root",
            )
        )
    if kind == "bym2":
        terms.append(
            PriorTerm(
                "rho_area",
                prior("Beta", alpha=1, beta=1),
                "unit",
                "share of the area effects' variance that is spatially structured (BYM2): "
                "uniform, no preference between like-neighbours and independent variation",
            )
        )
    return terms


def standard_area_effects(
    kind: str = "iid",
    adjacency: Adjacency | None = None,
    priors: dict[str, PriorSpec] | None = None,
) -> Any:
    """Standardised (unit-variance) area effects ``z_area`` in the model in context.

    ``iid``: independent ``Normal(0, 1)``. ``icar``: an intrinsic CAR field over the areas'
    neighbourhood, each connected component scaled to a geometric-mean marginal variance of 1
    (Riebler et al. 2016) and summing exactly to zero; an island (an area without
    neighbours) gets an independent ``Normal(0, 1)``. ``bym2``: ``sqrt(1 - rho) * v + sqrt(rho)
    * u`` with ``v`` a zero-sum normal over the areas (so that the intercept cannot trade
    against its mean), ``u`` the scaled ICAR field and ``rho`` (``rho_area``) the spatial
    share. Either way ``sigma_area`` keeps its meaning, the sd of an area's effect.

    Parameters
    ----------
    kind
        One of :data:`AREA_EFFECT_KINDS`.
    adjacency
        The areas' neighbourhood (``icar``, ``bym2``), in the model's area order.
    priors
        The model's priors (``rho_area`` for ``bym2``).
    """
    import pymc as pm

    if kind not in AREA_EFFECT_KINDS:
        raise ValueError(f"unknown area effect {kind!r}; choose one of {AREA_EFFECT_KINDS}")
    if kind == "iid":
        return pm.Normal("z_area", 0.0, 1.0, dims=AREA)
    if adjacency is None:
        raise ValueError(f"area effect {kind!r} needs the areas' adjacency")
    if kind == "icar":
        return pm.Deterministic("z_area", _scaled_icar(adjacency), dims=AREA)
    assert priors is not None
    rho = priors["rho_area"].build("rho_area")
    from lcmodel.design.adjacency import BYM2_MODES_LIMIT

    if adjacency.n_areas <= BYM2_MODES_LIMIT:
        return pm.Deterministic("z_area", _bym2_modes_field(adjacency, rho), dims=AREA)
    spatial = _scaled_icar(adjacency)
    independent = pm.ZeroSumNormal("z_area_independent", sigma=1.0, dims=AREA)
    mixed = pm.math.sqrt(1.0 - rho) * independent + pm.math.sqrt(rho) * spatial
    return pm.Deterministic("z_area", mixed, dims=AREA)


def _model_areas(model: Any, adjacency: Adjacency) -> np.ndarray:
    """The model's areas, checked to be the adjacency's in the same order."""
    areas = np.asarray(model.coords[AREA])
    if tuple(adjacency.areas) != tuple(str(a) for a in areas):
        raise ValueError("the adjacency's areas are not the model's, in the model's order")
    return areas


def _bym2_modes_field(adjacency: Adjacency, rho: Any) -> Any:
    """BYM2's standardised field in its eigenbasis (:func:`~lcmodel.design.adjacency.bym2_modes`).

    Free variables: ``z_area_mode`` (dims ``area_mode``, one per non-constant eigenvector of
    the components' ICAR precisions), ``z_area_between`` (dims ``area_between``: the
    differences between components and islands, only on a map with more than one) and
    ``z_area_island`` (dims ``area_island``, islands' spatial part), all standard normal.
    Mode ``k`` is scaled by ``sqrt(rho / (s lambda_k) + 1 - rho)``, which gives the field the
    covariance of ``sqrt(rho) u + sqrt(1 - rho) v`` exactly. Sampled this way, ``rho`` moves
    only the modes' scales; as two fields (``u`` and ``v``) the data, which see only their
    sum, left ``rho`` to the prior's slow exchange between them: on a 300-area map the
    two-field form missed the R-hat gate on every seed tried (``rho_area`` bulk ESS 176-231
    of 4,000 draws), this one passed on each (ESS 1,031-1,186) in 10% less time.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from lcmodel.design.adjacency import bym2_modes

    model = pm.modelcontext(None)
    areas = _model_areas(model, adjacency)
    modes = bym2_modes(adjacency)
    field = pt.zeros(len(areas))
    if len(modes.variances):
        model.add_coord("area_mode", np.arange(1, len(modes.variances) + 1))
        z = pm.Normal("z_area_mode", 0.0, 1.0, dims="area_mode")
        scale = pt.sqrt(rho * modes.variances + (1.0 - rho))
        field = field + pt.dot(modes.within, scale * z)
    if modes.between.shape[1]:
        model.add_coord("area_between", np.arange(1, modes.between.shape[1] + 1))
        z_between = pm.Normal("z_area_between", 0.0, 1.0, dims="area_between")
        field = field + pt.sqrt(1.0 - rho) * pt.dot(modes.between, z_between)
    if modes.island.any():
        model.add_coord("area_island", areas[modes.island])
        z_island = pm.Normal("z_area_island", 0.0, 1.0, dims="area_island")
        field = pt.inc_subtensor(field[np.flatnonzero(modes.island)], pt.sqrt(rho) * z_island)
    return field


def _scaled_icar(adjacency: Adjacency) -> Any:
    """The scaled ICAR field of every area (islands: independent ``Normal(0, 1)``).

    Each connected component of two or more areas has its own free variable,
    ``u_area_spatial`` (dims ``area_connected``) when there is one component, else
    ``u_area_spatial_<k>`` (dims ``area_component_<k>``), with the log density
    ``-1/2 sum_{i~j} w_ij (u_i - u_j)^2`` and an exact sum-to-zero constraint (PyMC's
    zero-sum transform; a soft constraint, ``sum(u) ~ Normal(0, 0.001 n)``, made the sum a
    direction hundreds of times stiffer than the others, and NUTS took 400 steps per draw).
    The field is ``u / sqrt(s)`` with ``s`` the component's scaling factor (Riebler et al.
    2016). Islands have ``z_area_island`` (dims ``area_island``). Only the neighbour pairs
    enter (no areas x areas matrix), so the cost grows with the number of pairs.
    """
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.transforms import ZeroSumTransform

    from lcmodel.design.adjacency import icar_scaling_factors

    model = pm.modelcontext(None)
    areas = _model_areas(model, adjacency)
    island = np.asarray(adjacency.island, bool)
    component = np.asarray(adjacency.component)
    scaling = icar_scaling_factors(adjacency)
    weights = np.ones(len(adjacency.node1)) if adjacency.weights is None else adjacency.weights
    field = pt.zeros(len(areas))
    # each area's position within its component (a stable sort groups them in area order)
    order = np.argsort(component, kind="stable")
    position = np.empty(len(areas), int)
    position[order] = np.arange(len(areas)) - np.searchsorted(component[order], component[order])
    labels = np.unique(component[~island])
    for k, label in enumerate(labels):
        index = np.flatnonzero(component == label)
        inside = component[adjacency.node1] == label
        name, dim = (
            ("u_area_spatial", "area_connected")
            if len(labels) == 1
            else (f"u_area_spatial_{k + 1}", f"area_component_{k + 1}")
        )
        model.add_coord(dim, areas[index])
        u = pm.CustomDist(
            name,
            position[adjacency.node1[inside]],
            position[adjacency.node2[inside]],
            np.asarray(weights, float)[inside],
            np.zeros(len(index)),  # the field's length, for PyMC's shape inference
            logp=_icar_logp,
            signature="(e),(e),(e),(n)->(n)",
            transform=ZeroSumTransform([-1]),
            dims=dim,
        )
        field = pt.set_subtensor(field[index], u / np.sqrt(scaling[index]))
    if island.any():
        model.add_coord("area_island", areas[island])
        z_island = pm.Normal("z_area_island", 0.0, 1.0, dims="area_island")
        field = pt.set_subtensor(field[np.flatnonzero(island)], z_island)
    return field


def _icar_logp(value: Any, node1: Any, node2: Any, weights: Any, _length: Any) -> Any:
    """Pairwise-difference log density of an ICAR field (its sum is constrained to zero)."""
    import pytensor.tensor as pt

    return -0.5 * pt.sum(weights * pt.square(value[node1] - value[node2]))


def correlated_area_effects(
    names: list[str],
    eta: float,
    kind: str = "iid",
    adjacency: Adjacency | None = None,
    priors: dict[str, dict[str, PriorSpec]] | None = None,
) -> Any:
    """Unit-variance area effects of several indicators, correlated across indicators.

    Adds ``area_corr_chol`` (LKJ Cholesky factor ``L``) and ``area_correlation`` (dims
    ``indicator_pair``) to the model in context, and the standardised effects of the kind:

    - ``iid``: ``z = u L'`` with ``u_area ~ Normal(0, 1)`` (dims ``area, indicator``);
    - ``icar``: ``z = phi L'`` with ``phi[:, k]`` indicator ``k``'s own scaled ICAR field
      (``<k>::u_area_spatial``..., as :func:`standard_area_effects` builds one);
    - ``bym2``: ``z[:, k] = sqrt(1 - rho_k) (v L')[:, k] + sqrt(rho_k) (phi L')[:, k]`` with
      ``v`` independent zero-sum normals over the areas (``u_area_independent``, dims
      ``indicator, area``) and ``rho_k`` indicator ``k``'s ``rho_area``.

    Each column of ``z`` keeps unit variance (the rows of ``L`` have unit length), so every
    indicator's ``sigma_area`` keeps its meaning, and in BYM2 ``rho_k`` stays indicator
    ``k``'s spatial share. Both parts are correlated across indicators by the same ``R = L
    L'``; the correlation of two indicators' whole effects is ``R_kl (sqrt((1 - rho_k)(1 -
    rho_l)) + sqrt(rho_k rho_l))``, equal to ``R_kl`` when their spatial shares are equal.

    Parameters
    ----------
    names
        The indicators, in order (the model's ``indicator`` coordinate).
    eta
        LKJ shape.
    kind, adjacency
        The indicators' (common) kind of area effect, and their neighbourhood.
    priors
        Each indicator's priors (``rho_area`` for ``bym2``).

    Returns
    -------
    tensor
        ``z_area`` of shape ``(areas, indicators)``; column ``k`` is indicator ``k``'s.
    """
    import pymc as pm
    import pytensor.tensor as pt

    first, second = np.triu_indices(len(names), 1)  # the order of pair_labels()
    chol = pm.LKJCorr("area_corr_chol", n=len(names), eta=eta)
    correlation = (chol[:, None, :] * chol[None, :, :]).sum(axis=-1)
    pm.Deterministic("area_correlation", correlation[first, second], dims=PAIR)

    def mixed(u: Any) -> Any:
        # u @ chol.T as a broadcast sum: K is small, and it keeps PyTensor's C backend
        # (which computes the deterministics) away from an absent BLAS
        return (u[:, None, :] * chol[None, :, :]).sum(axis=-1)

    if kind == "iid":
        return mixed(pm.Normal("u_area", 0.0, 1.0, dims=(AREA, INDICATOR)))
    if kind not in AREA_EFFECT_KINDS or adjacency is None:
        raise ValueError(f"correlated {kind!r} area effects need a spatial kind and adjacency")
    fields, rhos = [], []
    for name in names:
        with pm.Model(name=name):
            fields.append(_scaled_icar(adjacency))
            if kind == "bym2":
                assert priors is not None
                rhos.append(priors[name]["rho_area"].build("rho_area"))
    spatial = mixed(pt.stack(fields, axis=1))
    if kind == "icar":
        return spatial
    independent = pm.ZeroSumNormal("u_area_independent", sigma=1.0, dims=(INDICATOR, AREA))
    rho = pt.stack(rhos)
    return pt.sqrt(1.0 - rho) * mixed(independent.T) + pt.sqrt(rho) * spatial


CENTRING_SCALE = 0.5
"""A typical between-area sd, in units of the model's scale, at which information is weighed."""

CENTRING_INFORMATION = 4.0
"""An area is centred when its data carry this many times the prior's information."""


def choose_centring(information: np.ndarray, scale: float, centring: str) -> np.ndarray:
    """Which surveyed areas' effects are centred, one decision per area.

    A non-centred effect (``sigma_area * z``) samples well when the prior dominates the area's
    effect, a centred one (``sigma_area`` as the scale of the effect itself) when its data do:
    the effect of a data-rich area is pinned down by its data whatever ``sigma_area`` is, which
    a non-centred ``z`` can only follow by moving against ``sigma_area``, a curved ridge that
    slows NUTS and gives divergences; a data-poor area's centred effect forms the funnel that
    non-centring removes. ``auto`` centres an area when its data carry clearly more information
    about its effect than the prior, ``information * tau^2 > 4`` with ``tau = 0.5 * scale``
    (its data alone would give a posterior sd under half the prior's), so a survey with a few
    large areas and many tiny ones gets each its own parameterisation. At the break-even point
    (``> 1``) areas just above it sampled worse centred: with 12 of 60 areas of a binomial
    Fay-Herriot model centred at ratios 1.03-3.04, every fit of three had divergences, and none
    with those areas non-centred.

    Parameters
    ----------
    information
        Fisher information of each surveyed area's data about its own effect.
    scale
        The model's scale (1 on a link scale, an outcome's or direct estimates' sd).
    centring
        ``"auto"``, ``"centred"`` or ``"non-centred"``.

    Returns
    -------
    numpy.ndarray
        One boolean per area: centred or not.
    """
    information = np.asarray(information, dtype=float)
    if centring != "auto":
        return np.full(information.shape, centring == "centred")
    return information * (CENTRING_SCALE * scale) ** 2 > CENTRING_INFORMATION


def add_area_effect(
    priors: dict[str, PriorSpec],
    z_area: Any | None = None,
    *,
    surveyed: np.ndarray | None = None,
    centred: np.ndarray | bool = False,
    zero_sum: bool = True,
    intercept: Any = 0.0,
    covariate_term: Any | None = None,
    kind: str = "iid",
    adjacency: Adjacency | None = None,
    sar_noncentred: bool = False,
) -> Any:
    """``area_effect`` of every area in the model in context, scaled by ``sigma_area``.

    The effects of the surveyed areas sum to zero (a ``ZeroSumNormal`` with scale
    ``sigma_area``), so the intercept is the level of an average surveyed area and cannot trade
    off against their mean effect: without the constraint, the intercept and the mean of the
    effects form a ridge that NUTS crosses slowly (its R-hat failed the gate on some seeds).
    An unsurveyed area's effect is a new draw, ``sigma_area * z`` with ``z ~ Normal(0, 1)``.

    Each surveyed area's effect is centred or non-centred (:func:`choose_centring`); the model
    is the same either way. When some are centred (set ``C``) and others not (set ``N``, of
    ``m`` surveyed areas), the zero-sum normal is split into three independent parts, each
    sampled in the parameterisation that suits it::

        t   ~ Normal(0, sigma_area * sqrt(|N| |C| / m))   the N areas' summed effect (centred)
        u_C ~ ZeroSumNormal(sigma_area)                   C's deviations from their mean (centred)
        z_N ~ ZeroSumNormal(1)                            N's deviations (non-centred)
        area_effect[C] = u_C - t / |C|,   area_effect[N] = sigma_area * z_N + t / |N|

    If ``e`` is independent ``Normal(0, sigma^2)`` and ``a = e - mean(e)`` (the zero-sum normal),
    each group's deviations from its own mean and the difference of the two groups' means are
    independent, with exactly these distributions (``tests/test_model.py`` checks the log
    density against the all-centred one). ``t`` is pinned by the data-rich areas (their total
    is ``-t``), so it is centred too. With area covariates, the centred areas' free variable
    is their levels' zero-sum deviations, ``u_C + c_C - mean(c_C)`` with ``c`` the covariate
    term (hierarchical centring; :func:`_deviations`).

    Parameters
    ----------
    priors
        The model's priors (``sigma_area``).
    z_area
        Standardised effects from outside (a joint model's correlated ones), recorded as the
        deterministic ``z_area``; then ``area_effect = sigma_area * z_area`` and the other
        arguments are unused.
    surveyed
        Which areas have data (all when omitted). With fewer than two, no constraint applies.
    zero_sum
        Constrain the surveyed areas' effects to sum to zero; ``False`` gives independent
        effects, a centred area's as its intercept ``area_intercept ~ Normal(intercept +
        covariate_term, sigma_area)``, the others as ``sigma_area * z`` (``z_area``, or
        ``z_area_noncentred`` beside centred areas).
    centred
        Per surveyed area (in the order of the surveyed areas), or for all: centred or
        non-centred. All centred: free variable ``area_effect_surveyed`` (``area_level_surveyed``
        with covariates); none: ``z_area_surveyed``; some: ``area_effect_balance``,
        ``area_effect_centred`` (``area_level_centred``) and ``z_area_noncentred`` (the last two
        only over two areas or more). Unsurveyed areas have ``z_area_unsurveyed``; the
        deterministics ``area_effect`` and ``z_area`` cover every area either way.
    intercept
        The model's intercept (0 without one), the centre of independent centred effects.
    covariate_term
        Each area's area-covariate term (``None`` without area covariates).
    kind, adjacency
        A spatial kind (``icar``, ``bym2``) and the neighbourhood: ``area_effect = sigma_area *
        z_area`` with the spatial ``z_area`` of :func:`standard_area_effects` (non-centred; the
        other arguments are unused). ``sar``: a SAR field, centred (:func:`_sar_effects`).
    sar_noncentred
        Allow a non-centred SAR field, chosen when no area's data would centre its effect
        (:func:`_sar_centred`); the area-level model with waves allows it, one row per area
        keeps the centred levels validated on ``grapes``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    sigma_area = priors["sigma_area"].build("sigma_area")
    if z_area is not None:
        z_area = pm.Deterministic("z_area", z_area, dims=AREA)
        return pm.Deterministic("area_effect", z_area * sigma_area, dims=AREA)
    if kind == SAR:
        assert adjacency is not None, "a SAR area effect needs the areas' adjacency"
        covariates = 0.0 if covariate_term is None else covariate_term
        return _sar_effects(
            priors,
            sigma_area,
            adjacency,
            intercept + covariates,
            centred=not sar_noncentred or _sar_centred(centred, adjacency),
        )
    if kind != "iid":
        z_area = standard_area_effects(kind, adjacency, priors)
        return pm.Deterministic("area_effect", z_area * sigma_area, dims=AREA)
    model = pm.modelcontext(None)
    areas = np.asarray(model.coords[AREA])
    surveyed = np.ones(len(areas), bool) if surveyed is None else np.asarray(surveyed, bool)
    centred = np.broadcast_to(np.asarray(centred, bool), (int(surveyed.sum()),))
    if surveyed.sum() < 2 or not zero_sum:
        per_area = np.zeros(len(areas), bool)
        per_area[np.flatnonzero(surveyed)] = centred
        covariates = 0.0 if covariate_term is None else covariate_term
        return _independent_effects(sigma_area, per_area, intercept + covariates)
    index = np.flatnonzero(surveyed)
    effect = pt.zeros(len(areas))
    if covariate_term is not None:
        covariate_term = pt.zeros(len(areas)) + covariate_term
    if centred.all() or not centred.any():
        model.add_coord("area_surveyed", areas[surveyed])
        if centred.all():
            shift = None if covariate_term is None else covariate_term[index]
            mine = _deviations("area_effect_surveyed", sigma_area, "area_surveyed", shift)
        else:
            mine = pm.ZeroSumNormal("z_area_surveyed", sigma=1.0, dims="area_surveyed") * sigma_area
        effect = pt.set_subtensor(effect[index], mine)
    else:
        n_c, n_n = int(centred.sum()), int((~centred).sum())
        model.add_coord("area_centred", areas[index[centred]])
        model.add_coord("area_noncentred", areas[index[~centred]])
        scale = sigma_area * np.sqrt(n_n * n_c / (n_n + n_c))
        total = pm.Normal("area_effect_balance", 0.0, scale)
        shift = None if covariate_term is None else covariate_term[index[centred]]
        mine_c = -total / n_c + _deviations(
            "area_effect_centred", sigma_area, "area_centred", shift
        )
        mine_n = total / n_n + sigma_area * _deviations("z_area_noncentred", 1.0, "area_noncentred")
        effect = pt.set_subtensor(effect[index[centred]], mine_c)
        effect = pt.set_subtensor(effect[index[~centred]], mine_n)
    if not surveyed.all():
        model.add_coord("area_unsurveyed", areas[~surveyed])
        z_new = pm.Normal("z_area_unsurveyed", 0.0, 1.0, dims="area_unsurveyed")
        effect = pt.set_subtensor(effect[np.flatnonzero(~surveyed)], z_new * sigma_area)
    area_effect = pm.Deterministic("area_effect", effect, dims=AREA)
    pm.Deterministic("z_area", area_effect / sigma_area, dims=AREA)
    return area_effect


def _sar_centred(centred: np.ndarray | bool, adjacency: Adjacency) -> bool:
    """Whether a SAR field is centred: unless no area's data would centre its effect.

    The field is one joint variable, so it is centred or not as a whole. Centred levels
    sampled well on the ``grapes`` data, where 126 of 274 areas' data would centre an
    independent effect; when none would (every area's data weak against the prior, as in
    the ``spacetime`` data with their area x wave effects) the levels form a funnel with
    ``sigma_area``, and the field is non-centred. A map too large for the dense non-centred
    factors (:data:`~lcmodel.design.adjacency.SAR_NONCENTRED_LIMIT` areas) stays centred.
    """
    from lcmodel.design.adjacency import SAR_NONCENTRED_LIMIT

    return adjacency.n_areas > SAR_NONCENTRED_LIMIT or bool(np.any(centred))


def _sar_effects(
    priors: dict[str, PriorSpec],
    sigma_area: Any,
    adjacency: Adjacency,
    area_mean: Any,
    *,
    centred: bool = True,
) -> Any:
    """SAR area effects: ``u = (I - rho W)^-1 e``, ``e ~ Normal(0, sigma_area)`` per area.

    ``W`` is the row-standardised neighbourhood (:func:`lcmodel.design.adjacency.sar_weights`)
    and ``rho`` is ``rho_sar``; ``Cov(u) = sigma_area^2 [(I - rho W)'(I - rho W)]^-1``, the
    model of ``sae::eblupSFH`` (Petrucci and Salvati 2006). The free variable is each area's
    level, ``area_level_sar = area_mean + u`` (hierarchical centring, as a data-rich area's is
    elsewhere in this module), with the exact log density::

        sum_i log(1 - rho lambda_i) - n log(sigma_area) - |(I - rho W)(level - mean)|^2
        / (2 sigma_area^2)

    (``lambda`` the eigenvalues of ``W``, found once). Only the neighbour pairs enter the
    quadratic form, so a step costs in proportion to them. Centred levels suit the
    Fay-Herriot model's mix of precise and vague direct estimates: on the 274 ``grapes``
    municipalities (direct sds 0.05 to 320) they gave no divergences and a bulk ESS over 1,200
    for every area in 2 x 1,000 draws.

    Returns ``area_effect = area_level_sar - area_mean`` (and records ``z_area``, the effect
    over ``sigma_area``).

    Non-centred (``centred = False``): the free variable is the standardised innovations
    ``z_area_sar ~ Normal(0, 1)`` and ``u = sigma_area (I - rho W)^-1 z``, computed with the
    dense factors of :func:`lcmodel.design.adjacency.sar_inverse_factors` (no log determinant
    needed). This suits areas whose data say little about their own effect, where the
    centred levels form a funnel with ``sigma_area``: in the spatio-temporal ``spacetime``
    data (11 areas, each effect informed through three waves' area x wave effects) the centred
    field gave 43 divergences in 4,000 draws (the non-centred one fewer, see
    docs/statistics.md, section 16).
    """
    import pymc as pm

    from lcmodel.design.adjacency import sar_inverse_factors, sar_weights

    model = pm.modelcontext(None)
    areas = _model_areas(model, adjacency)
    rho = priors["rho_sar"].build("rho_sar")
    if not centred:
        left, eigenvalues, right = sar_inverse_factors(adjacency)
        z = pm.Normal("z_area_sar", 0.0, 1.0, dims=AREA)
        rotated = pm.math.dot(right, z) / (1.0 - rho * eigenvalues)
        area_effect = pm.Deterministic(
            "area_effect", sigma_area * pm.math.dot(left, rotated), dims=AREA
        )
        pm.Deterministic("z_area", area_effect / sigma_area, dims=AREA)
        return area_effect
    weights = sar_weights(adjacency)
    mean = pm.math.zeros(len(areas)) + area_mean
    level = pm.CustomDist(
        "area_level_sar",
        mean,
        sigma_area,
        rho,
        weights.rows,
        weights.columns,
        weights.values,
        weights.eigenvalues,
        logp=_sar_logp,
        support_point=_sar_support_point,
        signature="(n),(),(),(e),(e),(e),(n)->(n)",
        dims=AREA,
    )
    area_effect = pm.Deterministic("area_effect", level - mean, dims=AREA)
    pm.Deterministic("z_area", area_effect / sigma_area, dims=AREA)
    return area_effect


def _sar_support_point(rv: Any, size: Any, mean: Any, *_: Any) -> Any:
    """Where a SAR field's sampling starts: at its mean."""
    return mean


def _sar_logp(
    value: Any,
    mean: Any,
    sigma: Any,
    rho: Any,
    rows: Any,
    columns: Any,
    weights: Any,
    eigenvalues: Any,
) -> Any:
    """Log density of a SAR field around ``mean`` (see :func:`_sar_effects`)."""
    import pytensor.tensor as pt

    residual = value - mean
    lagged = pt.zeros_like(residual)[rows].inc(weights * residual[columns])
    innovation = residual - rho * lagged
    n = residual.shape[-1]
    return (
        pt.sum(pt.log1p(-rho * eigenvalues))
        - n * pt.log(sigma)
        - 0.5 * n * np.log(2.0 * np.pi)
        - 0.5 * pt.sum(pt.square(innovation)) / pt.square(sigma)
    )


def _independent_effects(sigma_area: Any, centred: np.ndarray, area_mean: Any | None) -> Any:
    """Independent ``Normal(0, sigma_area)`` effects, each area centred or not.

    A centred area's free variable is its intercept, ``area_intercept ~ Normal(area_mean,
    sigma_area)``: hierarchical centring on everything the area-level model predicts for the
    area, so that the intercept and the area covariates' effects are informed through the
    data-rich areas' intercepts instead of being traded against their effects (a ridge that
    slows NUTS: R-hat of the covariates' effects failed the gate). The effect is
    ``area_intercept - area_mean``; a non-centred area's is ``sigma_area * z``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if not centred.any():
        z_area = standard_area_effects()
        return pm.Deterministic("area_effect", z_area * sigma_area, dims=AREA)
    n_areas = len(pm.modelcontext(None).coords[AREA])
    mean = pt.zeros(n_areas) + (0.0 if area_mean is None else area_mean)
    level = partially_centred(("area_intercept", "z_area"), mean, sigma_area, centred, AREA)
    area_effect = pm.Deterministic("area_effect", level - mean, dims=AREA)
    pm.Deterministic("z_area", area_effect / sigma_area, dims=AREA)
    return area_effect


def partially_centred(
    names: tuple[str, str], mean: Any, sigma: Any, centred: np.ndarray, dim: str
) -> Any:
    """``Normal(mean, sigma)`` values over ``dim``, each centred or non-centred.

    A centred value is itself the free variable (``names[0]``); a non-centred one is
    ``mean + sigma * z`` with ``z ~ Normal(0, 1)`` free (``names[1]``). When both kinds occur
    they sit over the coordinates ``<dim>_centred`` and ``<dim>_noncentred``.

    Parameters
    ----------
    names
        Names of the centred values and of the standardised ones.
    mean, sigma
        The values' means (one per element of ``dim``, or one for all) and sd.
    centred
        One boolean per element of ``dim``.
    dim
        The dimension of the values, a coordinate of the model in context.

    Returns
    -------
    tensor
        One value per element of ``dim``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    model = pm.modelcontext(None)
    labels = np.asarray(model.coords[dim])
    mean = pt.zeros(len(labels)) + mean
    if centred.all():
        return pm.Normal(names[0], mean, sigma, dims=dim)
    if not centred.any():
        return mean + sigma * pm.Normal(names[1], 0.0, 1.0, dims=dim)
    index_c, index_n = np.flatnonzero(centred), np.flatnonzero(~centred)
    model.add_coord(f"{dim}_centred", labels[index_c])
    model.add_coord(f"{dim}_noncentred", labels[index_n])
    values = pt.zeros(len(labels))
    level = pm.Normal(names[0], mean[index_c], sigma, dims=f"{dim}_centred")
    values = pt.set_subtensor(values[index_c], level)
    z = pm.Normal(f"{names[1]}_noncentred", 0.0, 1.0, dims=f"{dim}_noncentred")
    return pt.set_subtensor(values[index_n], mean[index_n] + sigma * z)


def _deviations(name: str, sigma: Any, dim: str, shift: Any | None = None) -> Any:
    """Zero-sum deviations ``u ~ ZeroSumNormal(sigma)`` over ``dim`` (0 for a single area).

    With a ``shift`` (the centred areas' covariate term), ``u`` is sampled as
    ``u + shift - mean(shift)``, a free variable named ``name`` with ``effect`` replaced by
    ``level`` (``area_level_centred``): the zero-sum deviation of each area's level, covariates
    included. Hierarchical centring: a data-rich area's level is pinned by its data, so the
    covariates' effects are told by how the levels line up with the covariates, not traded
    against every centred effect (a ridge that NUTS crosses slowly).
    """
    import pymc as pm

    model = pm.modelcontext(None)
    if len(model.coords[dim]) < 2:
        return 0.0
    if shift is None:
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dim)
    from pymc.distributions.transforms import ZeroSumTransform

    centre = shift - shift.mean()
    level = pm.CustomDist(
        name.replace("effect", "level"),
        centre,
        sigma,
        dist=partial(_shifted_zero_sum, length=len(model.coords[dim])),
        transform=ZeroSumTransform([-1]),
        dims=dim,
    )
    return level - centre


def _shifted_zero_sum(mu: Any, sigma: Any, size: Any, *, length: int) -> Any:
    """``ZeroSumNormal(sigma) + mu`` of ``length`` values (``mu`` sums to zero).

    PyMC derives its log density: ``ZeroSumNormal(sigma)`` at ``value - mu``.
    """
    import pymc as pm

    return pm.ZeroSumNormal.dist(sigma=sigma, shape=(length,)) + mu
