"""The ICAR precision of a neighbourhood and its scaling factors (Riebler et al., 2016).

An intrinsic CAR field on a connected component has precision ``Q = D - W`` (``W`` the
component's adjacency matrix, weighted when the links are, ``D`` its row sums), singular along
the constant vector, so it is defined under a sum-to-zero constraint. Its marginal variances
are the diagonal of the generalised inverse ``Q+`` and depend on the graph, so a precision
parameter means different things on different maps. Riebler et al. (2016) scale each
component's field by the geometric mean of those variances: the *scaling factor*
``s = exp(mean(log(diag(Q+))))``. A field with precision ``s * Q`` (equivalently, a field with
precision ``Q`` divided by ``sqrt(s)``) has a geometric-mean marginal variance of 1, which
makes BYM2's mixing parameter interpretable.

``diag(Q+)`` of one component of ``n`` areas is computed exactly, without a dense inverse on
big maps:

- up to ``dense_limit`` areas: ``Q+ = (Q + 11'/n)^-1 - 11'/n`` (a dense inverse);
- above it: ground one area (drop its row and column: the rest, ``Q_g``, is positive
  definite), factorise ``Q_g`` sparsely (SuperLU, minimum-degree ordering, no pivoting) and
  take the diagonal of ``Q_g^-1`` by the Takahashi recursions on the factor's filled pattern
  (selected inversion, as R-INLA does); then ``Q+ = P G P`` with ``G`` the grounded inverse
  padded with zeros and ``P = I - 11'/n``, whose diagonal needs only ``G 1``, one solve.

Memory and time follow the factor's fill (about ``n log n`` entries on a map), not ``n^2``:
30,000 areas take a few seconds.

A **SAR** (simultaneous autoregressive) field uses the same neighbourhood row-standardised,
``W = D^-1 C`` (:func:`sar_weights`), as ``sae::eblupSFH`` and ``emdi::fh`` expect it. Its log
density needs ``log det(I - rho W) = sum_i log(1 - rho lambda_i)`` at every step of the
sampler, so the eigenvalues ``lambda`` of ``W`` are computed once, here: ``W`` is similar to
the symmetric ``D^-1/2 C D^-1/2``, so they are real, in ``[-1, 1]``, and come from a dense
symmetric eigendecomposition of each connected component (up to :data:`SAR_LIMIT` areas in
one component; beyond that the cubic cost and ``n^2`` memory are not worth it: use BYM2).

A **BYM2** field on a map of up to :data:`BYM2_MODES_LIMIT` areas is sampled in the
eigenbasis of the scaled ICAR precision (:func:`bym2_modes`), where its covariance
``rho Q*+ + (1 - rho) I`` (on the zero-sum vectors of each component) is diagonal: one
standard normal per mode, scaled by ``sqrt(rho / (s lambda) + 1 - rho)``, instead of an ICAR
field and an independent field that the data cannot tell apart.

References: Riebler, A., Sørbye, S. H., Simpson, D. and Rue, H. (2016). An intuitive Bayesian
spatial model for disease mapping that accounts for scaling. Statistical Methods in Medical
Research 25(4), 1145-1165.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import SuperLU, splu

from lcmodel.data.adjacency import Adjacency

__all__ = [
    "BYM2_MODES_LIMIT",
    "DENSE_LIMIT",
    "SAR_LIMIT",
    "SAR_NONCENTRED_LIMIT",
    "Bym2Modes",
    "SarWeights",
    "bym2_modes",
    "icar_precision",
    "icar_scaling_factors",
    "icar_variances",
    "sar_inverse_factors",
    "sar_weights",
]

DENSE_LIMIT = 1000
"""Largest component whose ICAR variances come from a dense inverse (above: sparse).

The sparse route is exact too, and faster from a few hundred areas on (a 40 x 40 lattice:
0.06 s against 0.45 s dense); the dense one is the simplest for small maps.
"""


def icar_precision(adjacency: Adjacency) -> sparse.csr_array:
    """The ICAR precision ``Q = D - W`` of the whole graph (block-diagonal by component).

    Parameters
    ----------
    adjacency
        The neighbourhood; its weights, when it has any, weight ``W``.
    """
    neighbours = adjacency.matrix()
    degree = np.asarray(neighbours.sum(axis=1)).ravel()
    return (sparse.diags_array(degree) - neighbours).tocsr()


def icar_variances(precision: sparse.sparray, *, dense_limit: int = DENSE_LIMIT) -> np.ndarray:
    """Marginal variances of an ICAR field on one connected graph, under sum-to-zero.

    Parameters
    ----------
    precision
        ``Q = D - W`` of a connected graph of at least two areas (sparse, symmetric).
    dense_limit
        Up to this many areas, a dense inverse; above, a sparse factorisation and selected
        inversion (the two agree to rounding error).

    Returns
    -------
    numpy.ndarray
        ``diag(Q+)``, one variance per area, in the precision's order.
    """
    q = sparse.csc_array(precision, dtype=float)
    n = q.shape[0]
    if n < 2 or connected_components(q, directed=False)[0] != 1:
        raise ValueError("ICAR variances need one connected graph of at least two areas")
    if n <= dense_limit:
        return np.diag(np.linalg.inv(q.toarray() + 1.0 / n)) - 1.0 / n
    grounded = q[:-1, :-1].tocsc()
    factor = splu(
        grounded,
        permc_spec="MMD_AT_PLUS_A",
        diag_pivot_thresh=0.0,
        options={"SymmetricMode": True},
    )
    inverse_diagonal = _selected_inverse_diagonal(grounded, factor)
    row_sums = factor.solve(np.ones(n - 1))  # G 1 (the grounded area's entry is 0)
    total = row_sums.sum()
    variances = np.full(n, total / n**2)
    variances[:-1] += inverse_diagonal - 2.0 * row_sums / n
    return variances


def icar_scaling_factors(adjacency: Adjacency, *, dense_limit: int = DENSE_LIMIT) -> np.ndarray:
    """Each area's ICAR scaling factor: its component's geometric-mean marginal variance.

    Parameters
    ----------
    adjacency
        The neighbourhood (weighted when its links are).
    dense_limit
        See :func:`icar_variances`.

    Returns
    -------
    numpy.ndarray
        One factor per area, in the order of ``adjacency.areas``: the same for every area of a
        component, and 1 for an island (its effect is independent, already of unit variance).
        Multiplying a component's ICAR precision by its factor gives the field
        geometric-mean marginal variance 1.
    """
    factors = np.ones(adjacency.n_areas)
    precision = icar_precision(adjacency)
    sizes = adjacency.component_sizes()
    for label in np.flatnonzero(sizes >= 2):
        members = np.flatnonzero(adjacency.component == label)
        block = precision[members][:, members]
        variances = icar_variances(block, dense_limit=dense_limit)
        factors[members] = np.exp(np.mean(np.log(variances)))
    return factors


BYM2_MODES_LIMIT = 1000
"""Most areas a BYM2 field is sampled in its eigenbasis for (it multiplies by a dense
``n x n`` basis); a larger map keeps the sparse ICAR field beside an independent one."""


@dataclass(frozen=True)
class Bym2Modes:
    """The eigenbasis of a BYM2 field's covariance (:func:`bym2_modes`).

    Attributes
    ----------
    within
        ``n x r`` orthonormal columns, each summing to zero within every component (zero on
        the other components' areas and on islands): the eigenvectors of the components'
        ICAR precisions with a non-zero eigenvalue.
    variances
        The scaled ICAR field's variance along each column of ``within``, ``1 / (s lambda)``
        with ``lambda`` the eigenvalue and ``s`` the component's scaling factor.
    between
        ``n x (m - 1)`` orthonormal columns spanning what is constant on each component and
        free on each island (``m`` components counting islands) and sums to zero: empty on
        a connected map without islands.
    island
        Which areas are islands (their spatial part is an independent unit normal).
    """

    within: np.ndarray
    variances: np.ndarray
    between: np.ndarray
    island: np.ndarray


def bym2_modes(adjacency: Adjacency) -> Bym2Modes:
    """The eigenbasis of BYM2's standardised field ``sqrt(rho) u + sqrt(1 - rho) v``.

    ``u`` is each component's scaled ICAR field (summing to zero per component; an island's
    ``u`` an independent unit normal) and ``v`` independent unit normals constrained to sum to
    zero over all areas. On the zero-sum vectors within the components both are diagonal in
    the eigenvectors of the ICAR precisions, ``Q_c = V diag(lambda) V'``, so the field is
    ``within (sqrt(rho variances + 1 - rho) z) + sqrt(rho) u_islands + sqrt(1 - rho) between
    z_between`` with every ``z`` a standard normal. Per component a dense symmetric
    eigendecomposition (cubic in its size, hence :data:`BYM2_MODES_LIMIT`).

    Parameters
    ----------
    adjacency
        The neighbourhood (weighted when its links are).
    """
    n = adjacency.n_areas
    precision = icar_precision(adjacency)
    scaling = icar_scaling_factors(adjacency)
    sizes = adjacency.component_sizes()
    columns, variances = [], []
    # each component (an island too) as one unit vector of the "between" space
    blocks = np.zeros((n, len(sizes)))
    blocks[np.arange(n), adjacency.component] = 1.0 / np.sqrt(sizes[adjacency.component])
    for label in np.flatnonzero(sizes >= 2):
        members = np.flatnonzero(adjacency.component == label)
        values, vectors = np.linalg.eigh(precision[members][:, members].toarray())
        # the smallest eigenvalue (zero) is the constant vector's: the "between" space's
        basis = np.zeros((n, len(members) - 1))
        basis[members] = vectors[:, 1:]
        columns.append(basis)
        variances.append(1.0 / (scaling[members[0]] * values[1:]))
    # zero-sum vectors of the between space: orthogonal to its coordinates of the ones vector
    ones = blocks.T @ np.ones(n)
    complement = np.linalg.svd(ones[None, :] / np.linalg.norm(ones))[2][1:].T
    return Bym2Modes(
        within=np.hstack(columns) if columns else np.zeros((n, 0)),
        variances=np.concatenate(variances) if variances else np.zeros(0),
        between=blocks @ complement,
        island=np.asarray(adjacency.island, bool),
    )


SAR_LIMIT = 5000
"""Largest connected component a SAR field is built for (its eigenvalues are dense)."""


@dataclass(frozen=True)
class SarWeights:
    """The row-standardised weights of a SAR field and their eigenvalues.

    Attributes
    ----------
    rows, columns, values
        The nonzero entries ``W[rows, columns] = values`` of ``W = D^-1 C``: each area's
        weights sum to 1 (an island has none, so its SAR effect is independent).
    eigenvalues
        The (real) eigenvalues of ``W``, one per area.
    """

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    eigenvalues: np.ndarray

    def log_determinant(self, rho: float) -> float:
        """``log det(I - rho W)``, for checks (a model uses the eigenvalues the same way)."""
        return float(np.sum(np.log1p(-rho * self.eigenvalues)))


def sar_weights(adjacency: Adjacency, *, limit: int = SAR_LIMIT) -> SarWeights:
    """Row-standardise the neighbourhood and find the eigenvalues of the result.

    Parameters
    ----------
    adjacency
        The neighbourhood (weighted when its links are: ``C`` holds the weights).
    limit
        The largest connected component allowed (dense eigendecomposition).

    Raises
    ------
    ValueError
        When a component has more than ``limit`` areas.
    """
    neighbours = adjacency.matrix()
    degree = np.asarray(neighbours.sum(axis=1)).ravel()
    scale = np.where(degree > 0, degree, 1.0)
    standardised = (sparse.diags_array(1.0 / scale) @ neighbours).tocoo()
    symmetric = sparse.diags_array(scale**-0.5) @ neighbours @ sparse.diags_array(scale**-0.5)
    symmetric = sparse.csr_array(symmetric)
    eigenvalues = np.zeros(adjacency.n_areas)
    sizes = adjacency.component_sizes()
    if sizes.max(initial=0) > limit:
        raise ValueError(
            f"a SAR area effect needs the eigenvalues of its weight matrix; the largest "
            f"connected component has {int(sizes.max())} areas, over the {limit} this is done "
            f"for (dense). Use area_effect = 'bym2', which scales to large maps"
        )
    for label in np.flatnonzero(sizes >= 2):
        members = np.flatnonzero(adjacency.component == label)
        block = symmetric[members][:, members].toarray()
        eigenvalues[members] = np.linalg.eigvalsh(block)
    return SarWeights(
        rows=standardised.row.astype(np.int64),
        columns=standardised.col.astype(np.int64),
        values=standardised.data.astype(float),
        eigenvalues=np.clip(eigenvalues, -1.0, 1.0),
    )


SAR_NONCENTRED_LIMIT = 1000
"""Most areas a non-centred SAR field is built for (it multiplies by dense ``n x n`` factors)."""


def sar_inverse_factors(adjacency: Adjacency) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense factors of ``(I - rho W)^-1`` for every ``rho``: ``L diag(1 / (1 - rho lambda)) R``.

    With ``W = D^-1 C`` and ``D^-1/2 C D^-1/2 = V diag(lambda) V'`` (per connected component),
    ``(I - rho W)^-1 = D^-1/2 V diag(1 / (1 - rho lambda)) V' D^1/2``, so ``L = D^-1/2 V`` and
    ``R = V' D^1/2``, block-diagonal over the components; an island's row and column are those
    of the identity (``lambda = 0``). A non-centred SAR field is then ``sigma L ((R z) / (1 -
    rho lambda))`` with ``z`` standard normal: two dense products per step, no solve.

    Returns
    -------
    tuple
        ``L``, ``lambda`` and ``R`` (``n x n``, ``n``, ``n x n``), in the adjacency's area order.
    """
    neighbours = adjacency.matrix().toarray()
    degree = neighbours.sum(axis=1)
    n = adjacency.n_areas
    left, right, eigenvalues = np.eye(n), np.eye(n), np.zeros(n)
    sizes = adjacency.component_sizes()
    for label in np.flatnonzero(sizes >= 2):
        members = np.flatnonzero(adjacency.component == label)
        root = np.sqrt(degree[members])
        block = neighbours[np.ix_(members, members)] / np.outer(root, root)
        values, vectors = np.linalg.eigh(block)
        eigenvalues[members] = np.clip(values, -1.0, 1.0)
        left[np.ix_(members, members)] = vectors / root[:, None]
        right[np.ix_(members, members)] = vectors.T * root[None, :]
    return left, eigenvalues, right


def _selected_inverse_diagonal(matrix: sparse.csc_array, factor: SuperLU) -> np.ndarray:
    """``diag(matrix^-1)`` of a sparse positive definite matrix, from its SuperLU factor.

    With the symmetric ordering ``p`` (area ``i`` at position ``p[i]``) and no pivoting, the
    factor is ``L D L'`` (``L`` unit lower triangular, ``D = diag(U)``). The Takahashi
    recursions give ``S = (L D L')^-1`` on the filled pattern of ``L``, column by column from
    the last: ``S[R, j] = -S[R, R] L[R, j]`` and ``S[j, j] = 1/d_j - L[R, j]' S[R, j]`` with
    ``R`` the rows below ``j`` in column ``j``. They need the pattern closed (``S[R, R]`` on
    it), so it is computed symbolically rather than read from SuperLU, which drops exact
    zeros. (An ICAR precision's elimination never cancels, its off-diagonal entries all being
    negative, so none is dropped; the symbolic pattern rules it out for about a quarter of the
    time.)
    """
    perm = np.asarray(factor.perm_c, dtype=np.int64)
    if not np.array_equal(perm, factor.perm_r):
        raise RuntimeError("the sparse factorisation pivoted off the diagonal")
    n = matrix.shape[0]
    coo = matrix.tocoo()
    permuted = sparse.csc_array((coo.data, (perm[coo.row], perm[coo.col])), shape=(n, n))
    indptr, rows = _cholesky_pattern(permuted)
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + rows
    lower = factor.L.tocoo()
    found = np.asarray(lower.col, dtype=np.int64) * n + lower.row
    at = np.minimum(np.searchsorted(keys, found), len(keys) - 1)
    if not np.array_equal(keys[at], found):
        raise RuntimeError("the sparse factor has entries outside its symbolic pattern")
    values = np.zeros(len(keys))
    values[at] = lower.data
    pivots = factor.U.diagonal()
    inverse = np.zeros(len(keys))
    for j in range(n - 1, -1, -1):
        start, stop = indptr[j] + 1, indptr[j + 1]  # the diagonal entry is first
        below = rows[start:stop]
        column = values[start:stop]
        grid = np.minimum.outer(below, below) * n + np.maximum.outer(below, below)
        block = inverse[np.searchsorted(keys, grid)]
        inverse[start:stop] = -block @ column
        inverse[indptr[j]] = 1.0 / pivots[j] - column @ inverse[start:stop]
    return inverse[indptr[:-1]][perm]


def _cholesky_pattern(matrix: sparse.csc_array) -> tuple[np.ndarray, np.ndarray]:
    """The filled pattern of the Cholesky factor of a symmetric matrix (symbolic).

    Column ``j`` holds ``j`` and the rows below it of ``matrix`` and of its children in the
    elimination tree (a column's parent is its first row below the diagonal).

    Returns
    -------
    tuple
        CSC ``indptr`` and sorted row indices, the diagonal first in each column.
    """
    n = matrix.shape[0]
    lower = sparse.tril(matrix, k=-1, format="csc")
    lower.sort_indices()
    children: list[list[int]] = [[] for _ in range(n)]
    columns: list[np.ndarray] = []
    for j in range(n):
        parts = [lower.indices[lower.indptr[j] : lower.indptr[j + 1]].astype(np.int64)]
        parts += [columns[c][1:] for c in children[j]]  # a child's rows below j
        below = np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]
        columns.append(below)
        if len(below):
            children[int(below[0])].append(j)
    sizes = np.array([1 + len(c) for c in columns], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.concatenate([np.concatenate([[j], c]) for j, c in enumerate(columns)])
    return indptr, rows.astype(np.int64)
