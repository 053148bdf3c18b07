"""Fit loops: mini-batch epochs for SGD/Adam and full-batch L-BFGS.

The estimator hands over the flat parameter vector, its hyperparameters
(read, never written) and a :class:`~._history.TrainingState`, the one owner
of everything a fit carries between epochs and calls: the optimizer, the
history, the stopping counters and the best weights. The loops update the
vector in place and record into the state; the estimator publishes the
state's fitted attributes (``loss_curve_``, ``n_iter_``, ...) when a call
ends. They never validate
input.

The images are an array ``(n, H, W, C)``, or a :class:`~._ragged.Ragged` of
several shapes (series of unequal length): the loops reach a batch's images,
the spec for their shape and the mask of their valid cells through
:mod:`._ragged`, whose batches are of one shape each or, where the network
keeps the length, padded to their longest with a mask (the full-batch
L-BFGS path computes one shape at a time).
"""

import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ._core._loss import LOSSES
from ._core._network import (
    add_l2_penalty,
    add_scaled,
    forward,
    has_batch_norm,
    loss_and_grad,
    norm_slots,
    pack,
    unpack,
)
from ._core._norm import update_running_stats
from ._memory import predict_chunk_rows
from ._parallel import n_parts, parallel, run_parts, split_rows, work_per_sample
from ._progress import Progress, _warn_interrupted, interrupt_guard
from ._ragged import Ragged, chunks, epoch_batches, take
from .augment._base import augment_batch

# rows per forward pass outside training: keeps activations in cache and
# memory bounded whatever the number of samples
PREDICT_CHUNK = 128
# a training pass (forward and backward) over the multiply-adds of a forward
# pass, for deciding whether a fit repays starting worker processes
TRAINING_WORK = 3
# rows per chunk of a full-batch (L-BFGS) gradient
FULL_BATCH_CHUNK = 2048
# rows per part of a prediction split over threads or processes (bounds what
# a part copies)
PART_ROWS = 2048


# a mini-batch loss above this multiple of the first batch loss of the call
# (or of 1, whichever is larger) counts as divergence: the log loss of a
# healthy run never grows that much, while an exploding one passes it fast
DIVERGENCE_FACTOR = 1e4


class DivergenceError(ValueError):
    """Training produced an exploding or non-finite loss, or non-finite weights."""


def _divergence(where, learning_rate=None):
    hint = "a larger alpha or scaling X (e.g. with MinMaxScaler)"
    if learning_rate is not None:
        hint = f"a smaller learning_rate_init (it is {learning_rate}), {hint}"
    return DivergenceError(
        f"Training diverged: the loss exploded or became non-finite (inf or "
        f"NaN) {where}. Try {hint}."
    )


def _fit_work(spec, rows, passes):
    """Multiply-adds of ``passes`` training passes over ``rows`` rows."""
    return TRAINING_WORK * passes * rows * work_per_sample(spec)


def batch_slices(n, batch_size):
    """Consecutive slices of at most ``batch_size`` rows covering ``n`` rows."""
    return [
        slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)
    ]


def predict_rows(params, X, spec, stats=None, rows=None):
    """Logits of ``X`` (n, H, W, C), or of the rows ``X[rows]`` only, in
    chunks of at most ``PREDICT_CHUNK`` rows (fewer when they would not fit
    in scikit-learn's ``working_memory``, see :mod:`._memory`), gathered
    chunk by chunk; ``stats`` are the batch-norm running statistics (see
    :func:`forward`)."""
    n = X.shape[0] if rows is None else len(rows)
    dtype = np.result_type(X.dtype, *(p.dtype for p in params))
    out = np.empty((n, spec.layer_units[-1]), dtype=dtype)
    chunk = predict_chunk_rows(spec, X.dtype.itemsize, PREDICT_CHUNK)
    for s in batch_slices(n, chunk):
        out[s] = forward(params, X[s] if rows is None else X[rows[s]], spec,
                         stats=stats)[0]  # fmt: skip
    return out


def predict_logits(params, X, spec, runner=None, rows=None, stats=None):
    """:func:`predict_rows`, split into parts of at most ``PART_ROWS`` rows
    computed at once when there are many rows (see :mod:`._parallel`; on
    ``runner`` when given). A :class:`~._ragged.Ragged` ``X`` is predicted
    shape by shape, each through its group's spec."""
    if isinstance(X, Ragged):
        return _predict_ragged(params, X, spec, runner, rows, stats)
    n = X.shape[0] if rows is None else len(rows)
    if runner is None:
        work = n * work_per_sample(spec)
        threads = 1 if n <= PREDICT_CHUNK else n_parts(work)
        if threads == 1:
            return predict_rows(params, X, spec, stats, rows)
        with parallel(threads, work) as own_runner:
            return predict_logits(params, X, spec, own_runner, rows, stats)
    size = min(-(-n // runner.n), PART_ROWS)

    def call(s):  # a part's rows gathered: bounded by PART_ROWS
        Xs = X[s] if rows is None else X[rows[s]]
        return predict_rows, dict(params=params, X=Xs, spec=spec, stats=stats)

    parts = batch_slices(n, size)
    return np.concatenate(run_parts([call(s) for s in parts], runner))


def _predict_ragged(params, X, spec, runner, rows, stats):
    """:func:`predict_logits` of the rows ``rows`` (all when None) of a
    :class:`~._ragged.Ragged` ``X``, group by group."""
    out = None
    n = len(X) if rows is None else len(rows)
    for where, images, group_spec in chunks(X, spec, n, rows):
        part = predict_logits(params, images, group_spec, runner, stats=stats)
        if out is None:
            out = np.empty((n, part.shape[1]), dtype=part.dtype)
        out[where] = part
    return out


def part_loss_and_grad(params, X, Y, spec, alpha, sample_weight, masks, keep_stats,
                       combine=None, valid=None):  # fmt: skip
    """:func:`loss_and_grad` of one part; returns ``(loss, grads,
    batch_stats)``, the batch-norm statistics (a list) when ``keep_stats``.
    ``valid``: the mask of a padded batch's part (see :mod:`._core._mask`)."""
    batch_stats = [] if keep_stats else None
    loss, grads = loss_and_grad(
        params,
        X,
        Y,
        spec,
        alpha,
        sample_weight,
        masks=masks,
        batch_stats=batch_stats,
        combine=combine,
        valid=valid,
    )
    return loss, grads, batch_stats


def loss_and_grad_parts(
    params,
    X,
    Y,
    spec,
    alpha,
    sample_weight,
    parts,
    runner,
    masks=None,
    batch_stats=None,
    *,
    out=None,
    computed=None,
    valid=None,
):
    """:func:`loss_and_grad` over slices of the rows, combined.

    Each part is computed without the penalty (at once on ``runner`` when
    given, see :mod:`._parallel`); losses and gradients are averaged with
    the parts' total sample weights and the L2 penalty is added once, which
    equals :func:`loss_and_grad` on all the rows up to rounding. The dropout
    ``masks`` (one per dense layer, drawn for all the rows) are sliced with
    the rows.

    With a list for ``batch_stats`` (stochastic training with batch norm)
    the parts are one batch: they exchange their batch-norm sums (see
    :class:`._parallel.PartSums`), so that every part normalises with the
    statistics of all the rows, which the list receives; without a
    ``runner`` the parts then run as one call. Otherwise (full-batch chunks)
    each part is normalised with its own statistics. Parts whose weights
    sum to zero add nothing to the loss, the gradients or the statistics,
    and are left out.

    With a flat buffer ``out`` (as long as the parameters) the gradients
    are combined into it, and the returned gradients are views of it.
    ``computed``, when given, is called once, as soon as this process has
    computed its part (see :func:`._parallel.run_parts`): from then on the
    cores that computed the other parts are, or soon will be, idle.
    ``valid`` (n, H, W), the mask of a padded batch (see
    :mod:`._core._mask`), is sliced with the rows.
    """
    if batch_stats is not None and runner is None:
        parts = [slice(parts[0].start, parts[-1].stop)]  # one batch, one call

    if sample_weight is None:
        weights = [s.stop - s.start for s in parts]
    else:
        weights = [float(sample_weight[s].sum()) for s in parts]
    if any(weights):
        parts = [s for s, w in zip(parts, weights) if w > 0]
        weights = [w for w in weights if w > 0]
    one = len(parts) == 1
    calls = [
        (
            part_loss_and_grad,
            dict(
                params=params,
                X=X[s],
                Y=Y[s],
                spec=spec,
                alpha=alpha if one else 0.0,
                sample_weight=None if sample_weight is None else sample_weight[s],
                masks=None if masks is None else [m[s] for m in masks],
                keep_stats=batch_stats is not None,
                **({} if valid is None else {"valid": valid[s]}),
            ),
        )
        for s in parts
    ]
    results = run_parts(calls, runner, batch_stats is not None and not one, computed)
    if batch_stats is not None:
        batch_stats.extend(results[0][2])  # the same in every part
    if one:
        loss, grads = results[0][:2]
        if out is None:
            return loss, grads
        return loss, unpack(pack(grads, out=out), [g.shape for g in grads])
    total = sum(weights)
    loss = sum(r[0] * (w / total) for r, w in zip(results, weights))
    grads = _weighted_sum([r[1] for r in results], [w / total for w in weights], out)
    return add_l2_penalty(params, loss, grads, alpha, total, spec)


def _weighted_sum(grad_lists, shares, out=None):
    """``sum(share * grads)`` over the parts, array by array: into views of
    the flat ``out`` when given (one pass per part with BLAS's axpy), else
    into the first part's arrays."""
    first = grad_lists[0]
    grads = first if out is None else unpack(out, [g.shape for g in first])
    for g, g0 in zip(grads, first):
        np.multiply(g0, shares[0], out=g)
    for part, share in zip(grad_lists[1:], shares[1:]):
        for g, pg in zip(grads, part):
            add_scaled(g, pg, share)
    return grads


def training_threads(spec, rows, full_batch=False):
    """Threads to split a training batch of ``rows`` over.

    A mini-batch with batch norm is split too (its parts combine their
    statistics, see :func:`loss_and_grad_parts`); L-BFGS's full batch with
    batch norm is not, as its chunks are normalised each with its own
    statistics and the chunks must not depend on the cores.
    """
    if full_batch and has_batch_norm(spec):
        return 1
    return n_parts(rows * work_per_sample(spec))


def dropout_masks(spec, n, random_state, dtype):
    """Inverted-dropout masks for a batch of ``n`` rows, or None.

    One mask per dense layer, ``(n, n_in)``: ``0`` with probability
    ``spec.dropout``, else ``1 / (1 - spec.dropout)`` so that the expected
    input is unchanged. Drawn from ``random_state`` for the whole batch, so
    the masks do not depend on how the batch is split over threads or
    processes.
    """
    if spec.dropout == 0:
        return None
    keep = 1.0 - spec.dropout
    return [
        (random_state.random_sample((n, units)) < keep).astype(dtype) / dtype.type(keep)
        for units in spec.layer_units[:-1]
    ]


def population_stats(params, X, spec, sample_weight=None):
    """Batch-norm statistics of all the training rows, for L-BFGS's fit.

    Per norm slot (see :func:`._core._spec.norm_slots`), the mean over the
    chunks of :data:`FULL_BATCH_CHUNK` rows (of one shape each, see
    :func:`~._ragged.chunks`; L-BFGS normalises with them) of their means
    and unbiased variances, weighted by the chunks' total sample weights;
    None for "conv" blocks without batch norm.
    """
    totals, weights = None, 0.0
    for s, images, chunk_spec in chunks(X, spec, FULL_BATCH_CHUNK):
        sw = None if sample_weight is None else sample_weight[s]
        weight = images.shape[0] if sw is None else float(sw.sum())
        if weight == 0:
            continue
        batch = []
        forward(
            params, images, chunk_spec, keep_cache=True, batch_stats=batch,
            sample_weight=sw,
        )  # fmt: skip
        weights += weight
        part = [(mean * weight, var * weight) for mean, var in batch]
        totals = (
            part
            if totals is None
            else [(m0 + m1, v0 + v1) for (m0, v0), (m1, v1) in zip(totals, part)]
        )
    means = iter((m / weights, v / weights) for m, v in totals)
    return [None if F is None else next(means) for F in norm_slots(spec)]


def full_batch_loss_and_grad(params, X, Y, spec, alpha, sample_weight, runner=None):
    """:func:`loss_and_grad` over all rows, in chunks to bound memory (at least
    one per part when on ``runner``).

    For a :class:`~._ragged.Ragged` ``X``, each shape's rows are computed
    through their own spec without the penalty; the losses and gradients are
    averaged with the shapes' total sample weights and the L2 penalty is
    added once, so that the loss is the weighted mean loss of all the rows.
    """
    if isinstance(X, Ragged):
        return _ragged_loss_and_grad(params, X, Y, spec, alpha, sample_weight, runner)
    n = X.shape[0]
    size = min(FULL_BATCH_CHUNK, -(-n // (1 if runner is None else runner.n)))
    parts = batch_slices(n, size)
    return loss_and_grad_parts(params, X, Y, spec, alpha, sample_weight, parts, runner)


def _ragged_loss_and_grad(params, X, Y, spec, alpha, sample_weight, runner):
    """:func:`full_batch_loss_and_grad` of a :class:`~._ragged.Ragged` ``X``."""
    results, weights = [], []
    for where, images, group_spec in chunks(X, spec, len(X)):
        sw = None if sample_weight is None else sample_weight[where]
        weight = len(where) if sw is None else float(sw.sum())
        if weight > 0:
            results.append(
                full_batch_loss_and_grad(
                    params, images, Y[where], group_spec, 0.0, sw, runner
                )
            )
            weights.append(weight)
    total = sum(weights)
    loss = sum(r[0] * (w / total) for r, w in zip(results, weights))
    grads = _weighted_sum([r[1] for r in results], [w / total for w in weights])
    return add_l2_penalty(params, loss, grads, alpha, total, spec)


def _snapshot(flat, stats):
    """Copies of the flat parameters and the batch-norm running stats."""
    copied = [None if e is None else tuple(a.copy() for a in e) for e in stats]
    return flat.copy(), copied


def _restore(flat, stats, kept):
    """Put the ``(flat parameters, batch-norm stats)`` ``kept`` by
    :func:`_snapshot` back into ``flat`` and ``stats``."""
    best_flat, best_stats = kept
    flat[:] = best_flat
    for entry, best in zip(stats, best_stats):
        if entry is not None:
            for target, value in zip(entry, best):
                target[...] = value


class FitSettings(NamedTuple):
    """What a fit loop needs from the estimator besides the data."""

    params: dict  # the estimator's get_params(deep=False)
    spec: object  # NetworkSpec
    shapes: list  # parameter shapes
    score: object  # (logits, Y, sample_weight) -> validation score
    stratify: object  # (Y) -> labels to stratify the split by, or None
    stacklevel: int  # of warnings, so that they point at the user's call


def fit_lbfgs(state, settings, flat, stats, X, Y, sample_weight):
    """Full-batch L-BFGS-B through :func:`scipy.optimize.minimize`.

    ``flat`` is updated in place; with batch norm, the running ``stats`` are
    set to the statistics of all the rows under the final weights.
    """
    p, spec, shapes = settings.params, settings.spec, settings.shapes
    dtype = flat.dtype
    state.start_call(early_stopping=False, incremental=False)
    progress = Progress(p["verbose"], p["max_iter"])
    losses = []
    start = time.perf_counter()

    threads = training_threads(spec, X.shape[0], full_batch=True)

    def fun(theta):
        params = unpack(theta.astype(dtype, copy=False), shapes)
        loss, grads = full_batch_loss_and_grad(
            params, X, Y, spec, p["alpha"], sample_weight, runner
        )
        return loss, pack(grads).astype(np.float64)

    with (
        interrupt_guard() as interrupted,
        parallel(threads, _fit_work(spec, X.shape[0], p["max_iter"])) as runner,
        np.errstate(over="ignore", invalid="ignore"),
    ):

        def callback(intermediate_result):
            losses.append(float(intermediate_result.fun))
            seconds = time.perf_counter() - start
            progress.epoch(len(losses), losses[-1], None, seconds)
            if interrupted[0]:
                raise StopIteration

        result = minimize(
            fun,
            flat.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxiter": p["max_iter"],
                "maxfun": p["max_fun"],
                "gtol": p["tol"],
            },
        )
    progress.close()
    if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
        raise _divergence("during L-BFGS")
    flat[:] = result.x
    if has_batch_norm(spec):
        with np.errstate(over="ignore", invalid="ignore"):
            found = population_stats(unpack(flat, shapes), X, spec, sample_weight)
        for running, new in zip(stats, found):
            if running is not None:
                for target, value in zip(running, new):
                    target[...] = value
    # a warm-started fit continues the curve; n_iter counts this call's
    state.n_iter = len(losses)
    state.loss = float(result.fun)
    state.loss_curve.extend(losses)
    state.learning_rates.extend([np.nan] * len(losses))  # no rate: a line search
    state.best_loss = min(state.loss_curve, default=state.loss)
    if interrupted[0]:
        _warn_interrupted(state.n_iter, settings.stacklevel + 1)
    elif result.status == 1:
        warnings.warn(
            "L-BFGS failed to converge: the limit of max_iter or max_fun was "
            f"reached ({result.message}). Increase max_iter/max_fun or scale X.",
            ConvergenceWarning,
            stacklevel=settings.stacklevel,
        )


class _Validation:
    """Held-out rows ``X[rows]`` for early stopping and their scoring."""

    def __init__(self, X, rows, Y, sample_weight):
        self.X, self.rows = X, rows
        self.Y, self.sample_weight = Y, sample_weight

    def evaluate(self, flat, stats, settings, runner):
        """``(score, loss)`` of the parameters ``flat`` (and batch-norm
        running ``stats``) on the held-out rows."""
        spec = settings.spec
        params = unpack(flat, settings.shapes)
        logits = predict_logits(params, self.X, spec, runner, self.rows, stats)
        loss, _ = LOSSES[spec.loss](
            logits, self.Y, self.sample_weight, spec.out_activation
        )
        return float(settings.score(logits, self.Y, self.sample_weight)), loss


def split_validation(settings, X, Y, sample_weight, random_state):
    """Hold out ``validation_fraction`` of the rows (stratified where the
    estimator says so).

    Returns the training rows (indices into ``X``, which is not copied) and
    the :class:`_Validation` of the others.
    """
    fraction = settings.params["validation_fraction"]
    try:
        train, val = train_test_split(
            np.arange(X.shape[0]),
            test_size=fraction,
            random_state=random_state,
            stratify=settings.stratify(Y),
        )
    except ValueError as exc:
        raise ValueError(
            "early_stopping could not hold out a validation set of "
            f"validation_fraction={fraction} of {X.shape[0]} samples: {exc}"
        ) from exc
    if len(val) < 2:
        raise ValueError(
            f"early_stopping held out only {len(val)} sample(s) of {X.shape[0]} "
            f"(validation_fraction={fraction}); it needs at least 2 to score. "
            "Increase validation_fraction or the number of samples."
        )
    sw_val = None if sample_weight is None else sample_weight[val]
    return train, _Validation(X, val, Y[val], sw_val)


class _DivergenceCheck:
    """Raise :class:`DivergenceError` on a non-finite or exploding batch loss."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.limit = None

    def __call__(self, loss, epoch):
        finite = np.isfinite(loss)
        if self.limit is None and finite:
            self.limit = DIVERGENCE_FACTOR * max(loss, 1.0)
        if not finite or loss > self.limit:
            raise _divergence(f"in epoch {epoch}", self.learning_rate)


class _Epochs:
    """Mini-batch epochs of one ``fit`` or ``partial_fit`` call.

    ``stats`` (batch-norm running statistics, per block) are moved towards
    each batch's after its step.
    """

    def __init__(self, state, settings, flat, stats, data):
        self.state, self.settings, self.flat, self.stats = state, settings, flat, stats
        self.data = data
        p = settings.params
        X, _, _, rows = data
        self.n = X.shape[0] if rows is None else len(rows)
        size = p["batch_size"]
        self.batch_size = min(200, self.n) if size == "auto" else min(size, self.n)
        self.views, self.gbuf = unpack(flat, settings.shapes), np.empty_like(flat)
        self.check = _DivergenceCheck(p["learning_rate_init"])
        self.threads = training_threads(settings.spec, self.batch_size)
        self.augment = list(p.get("augment") or ())
        # the call's own generator for augmentation, so that its draws do not
        # depend on when the next batch's dropout masks are drawn
        self.augment_random_state = (
            np.random.RandomState(state.random_state.randint(2**31 - 1))
            if self.augment
            else None
        )

    def images(self, idx):
        """The training images of the batch of rows ``idx``, augmented, the
        spec for their shape and the mask of their valid cells (see
        :func:`~._ragged.take`; a padded batch is never augmented: the
        series estimators batch by length with augmentation)."""
        Xb, spec, valid = take(self.data[0], idx, self.settings.spec)
        if not self.augment:
            return Xb, spec, valid
        Xb = augment_batch(self.augment, Xb, self.augment_random_state)
        return Xb, spec, valid

    def step(self, Xb, spec, Yb, swb, runner, masks, computed=None, valid=None):
        """Loss of one batch through ``spec``, split over the cores when it
        pays; its gradient is left in ``gbuf``. ``computed``: see
        :func:`loss_and_grad_parts`; ``valid``: the mask of a padded batch."""
        alpha = self.settings.params["alpha"]
        batch_stats = [] if has_batch_norm(spec) else None
        parts = split_rows(Xb.shape[0], self.threads)
        loss, _ = loss_and_grad_parts(
            self.views, Xb, Yb, spec, alpha, swb, parts, runner, masks, batch_stats,
            out=self.gbuf, computed=computed, valid=valid,
        )  # fmt: skip
        if batch_stats:
            running = (entry for entry in self.stats if entry is not None)
            for entry, batch in zip(running, batch_stats):
                update_running_stats(entry, batch)
        return loss

    def _batches(self, order):
        """``(rows, sample weights, weight, count)`` of the epoch's batches
        that weigh something (of one shape each, see
        :func:`~._ragged.epoch_batches`)."""
        X, _, sw, rows = self.data
        for idx in epoch_batches(X, order, rows, self.batch_size):
            count = idx.stop - idx.start if isinstance(idx, slice) else len(idx)
            swb = None if sw is None else sw[idx]
            weight = count if swb is None else float(swb.sum())
            if weight > 0:
                yield idx, swb, weight, count

    def run(self, runner, interrupted):
        """One pass over the data; returns the sample-weighted mean batch loss.

        ``data`` is ``(X, Y, sample_weight, rows)``: the epoch runs over
        ``X[rows]`` (all of ``X`` when ``rows`` is None), gathering each batch.

        On a split batch, the next batch's dropout masks are drawn on a
        thread from the moment this process has computed its part, while
        the workers' parts are collected and combined and the optimizer
        steps (the other cores would wait meanwhile); they are the same
        draws from ``random_state``, in the same order, as one after the
        other.
        """
        X, Y, _, _ = self.data
        state, epoch, spec = self.state, self.state.n_iter + 1, self.settings.spec
        shuffle = self.settings.params["shuffle"]
        order = state.random_state.permutation(self.n) if shuffle else None
        batches = list(self._batches(order))

        def draw(k):
            rs = state.random_state
            return dropout_masks(spec, batches[k][3], rs, X.dtype)

        total_loss, total_weight = 0.0, 0.0
        ahead = runner is not None and spec.dropout > 0
        pending = []  # the next batch's masks, being drawn

        def draw_next(k):
            if k + 1 < len(batches) and not interrupted[0]:
                pending.append(runner.executor.submit(draw, k + 1))

        try:
            for k, (idx, swb, weight, _) in enumerate(batches):
                masks = pending.pop().result() if pending else draw(k)
                computed = (lambda k=k: draw_next(k)) if ahead else None
                Xb, spec_b, valid = self.images(idx)
                loss = self.step(Xb, spec_b, Y[idx], swb, runner, masks, computed,
                                 valid)  # fmt: skip
                self.check(loss, epoch)
                state.optimizer.update_params(self.flat, self.gbuf)
                total_loss += loss * weight
                total_weight += weight
                if interrupted[0]:
                    break
        finally:  # a draw under way finishes before anything else runs
            for future in pending:
                future.result()
        if not np.all(np.isfinite(self.flat)):
            raise _divergence(f"in epoch {epoch}", self.check.learning_rate)
        state.t += self.n
        return total_loss / max(total_weight, np.finfo(float).tiny)


def _should_stop(state, params, early_stopping, progress):
    """Whether training stopped improving for good (adaptive sgd goes on)."""
    if state.no_improvement_count <= params["n_iter_no_change"]:
        return False
    what = "Validation score" if early_stopping else "Training loss"
    progress.message(
        f"{what} did not improve more than tol={params['tol']} for "
        f"{params['n_iter_no_change']} consecutive epochs."
    )
    if state.optimizer.trigger_stopping(verbose=False):
        return True
    progress.message(f"Setting learning rate to {state.optimizer.base_rate:g}")
    state.no_improvement_count = 0
    return False


def fit_stochastic(state, settings, flat, stats, X, Y, sample_weight, incremental):
    """Mini-batch SGD/Adam epochs until convergence, ``max_iter`` or Ctrl-C.

    ``state.optimizer`` must be set; ``flat`` and the batch-norm running
    ``stats`` (per block, or None) are updated in place. With early stopping
    both are restored to those of the best validation score; with
    ``keep_best_weights`` (and no early stopping), a ``fit`` restores those
    of the epoch with the lowest training loss.
    """
    p = settings.params
    early_stopping = p["early_stopping"] and not incremental
    state.start_call(early_stopping, incremental, p["keep_best_weights"])
    validation, rows = None, None
    if early_stopping:
        rows, validation = split_validation(
            settings, X, Y, sample_weight, state.random_state
        )
        state.best_params = _snapshot(flat, stats)
    epochs = _Epochs(state, settings, flat, stats, (X, Y, sample_weight, rows))
    n_epochs = 1 if incremental else p["max_iter"]
    state.optimizer.start_fit(p["schedule_span"], incremental)
    progress = Progress(p["verbose"], n_epochs, p["learning_rate"] != "constant")
    converged = False
    # overflows surface as a DivergenceError, not as RuntimeWarnings
    with (
        interrupt_guard() as interrupted,
        parallel(
            epochs.threads,
            _fit_work(settings.spec, epochs.n, n_epochs),
            small_parts=True,
        ) as runner,
        np.errstate(over="ignore", invalid="ignore"),
    ):
        for _ in range(n_epochs):
            start, rate = time.perf_counter(), state.optimizer.base_rate
            loss = epochs.run(runner, interrupted)
            scored = None
            if validation is not None:
                scored = validation.evaluate(flat, stats, settings, runner)
            state.optimizer.iteration_ends(state.t, loss)
            state.record_epoch(
                loss, scored, p["tol"], lambda: _snapshot(flat, stats), rate
            )
            score = None if scored is None else scored[0]
            seconds = time.perf_counter() - start
            progress.epoch(state.n_iter, loss, score, seconds, rate)
            if interrupted[0]:
                _warn_interrupted(state.n_iter, settings.stacklevel + 1)
                break
            if not incremental and _should_stop(state, p, early_stopping, progress):
                converged = True
                break
    progress.close()
    if state.best_params is not None:  # early stopping's, or keep_best's
        _restore(flat, stats, state.best_params)
        state.best_params = None
    finished = converged or interrupted[0] or state.optimizer.ran_its_course()
    if not (incremental or finished):
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({p['max_iter']}) reached "
            "and the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=settings.stacklevel,
        )
