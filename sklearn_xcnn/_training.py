"""Fit loops: mini-batch epochs for SGD/Adam and full-batch L-BFGS.

The estimator hands over the flat parameter vector and its hyperparameters;
these functions update the vector in place and record the history on the
estimator (``loss_curve_``, ``n_iter_``, ...). They never validate input.
"""

import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ._core._loss import log_loss_and_delta
from ._core._network import add_l2_penalty, forward, loss_and_grad, pack, unpack
from ._memory import predict_chunk_rows
from ._parallel import (
    map_parts,
    n_parts,
    split_rows,
    thread_pool,
    work_per_sample,
)

# rows per forward pass outside training: keeps activations in cache and
# memory bounded whatever the number of samples
PREDICT_CHUNK = 128
# rows per chunk of a full-batch (L-BFGS) gradient
FULL_BATCH_CHUNK = 2048


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


@contextmanager
def interrupt_guard():
    """Turn Ctrl-C into a flag that the fit loop checks after each mini-batch.

    Yields a one-item list whose entry becomes True on the first SIGINT; a
    second SIGINT raises :class:`KeyboardInterrupt` as usual. Outside the main
    thread signals cannot be caught, and Ctrl-C behaves as usual.
    """
    flag = [False]
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag[0]:  # a second Ctrl-C aborts at once
            raise KeyboardInterrupt
        flag[0] = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # e.g. some embedded interpreters
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _warn_interrupted(n_iter):
    warnings.warn(
        f"Training interrupted by the user (KeyboardInterrupt) after {n_iter} "
        "epoch(s); the model holds the weights reached so far and can be used.",
        UserWarning,
        stacklevel=4,
    )


class Progress:
    """Report epochs: a tqdm bar (verbose=1, when tqdm is installed) or lines.

    ``verbose >= 2`` prints a line per epoch even with the bar.
    """

    def __init__(self, verbose, total):
        self.verbose = verbose
        self.bar = None
        if verbose and total > 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc="epochs", unit="epoch", leave=True)

    def epoch(self, n_iter, loss, val_score, seconds):
        if not self.verbose:
            return
        line = f"Iteration {n_iter}, loss = {loss:.8f}"
        if val_score is not None:
            line += f", validation score = {val_score:.6f}"
        line += f", time = {seconds:.3f}s"
        if self.bar is None:
            print(line)
            sys.stdout.flush()
            return
        self.bar.update(1)
        postfix = {"loss": f"{loss:.4g}"}
        if val_score is not None:
            postfix["val"] = f"{val_score:.4f}"
        self.bar.set_postfix(postfix)
        if self.verbose >= 2:
            self.bar.write(line)

    def message(self, text):
        if not self.verbose:
            return
        if self.bar is None:
            print(text)
        else:
            self.bar.write(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def batch_slices(n, batch_size):
    """Consecutive slices of at most ``batch_size`` rows covering ``n`` rows."""
    return [
        slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)
    ]


def predict_logits(params, X, spec, executor=None, rows=None):
    """Logits of ``X`` (n, H, W, C), computed in chunks of at most
    ``PREDICT_CHUNK`` rows (fewer when they would not fit in scikit-learn's
    ``working_memory``, see :mod:`._memory`), on threads when there are many
    (see :mod:`._parallel`; on ``executor`` when given). With ``rows``, of the
    rows ``X[rows]`` only, gathered chunk by chunk."""
    n = X.shape[0] if rows is None else len(rows)
    dtype = np.result_type(X.dtype, *(p.dtype for p in params))
    out = np.empty((n, spec.layer_units[-1]), dtype=dtype)

    def run(s):
        out[s] = forward(params, X[s] if rows is None else X[rows[s]], spec)[0]

    chunk = predict_chunk_rows(spec, X.dtype.itemsize, PREDICT_CHUNK)
    chunks = batch_slices(n, chunk)
    if executor is not None:
        map_parts(run, chunks, executor)
        return out
    threads = n_parts(n * work_per_sample(spec)) if len(chunks) > 1 else 1
    with thread_pool(threads) as own_executor:
        map_parts(run, chunks, own_executor)
    return out


def loss_and_grad_parts(params, X, Y, spec, alpha, sample_weight, parts, executor):
    """:func:`loss_and_grad` over slices of the rows, combined.

    Each part is computed without the penalty (on ``executor`` when given);
    losses and gradients are averaged with the parts' total sample weights and
    the L2 penalty is added once, which equals :func:`loss_and_grad` on all the
    rows up to rounding.
    """
    if len(parts) == 1:
        return loss_and_grad(params, X, Y, spec, alpha, sample_weight)

    def part(s):
        sw = None if sample_weight is None else sample_weight[s]
        weight = (s.stop - s.start) if sw is None else float(sw.sum())
        if weight == 0:
            return 0.0, None, 0.0
        return (*loss_and_grad(params, X[s], Y[s], spec, 0.0, sw), weight)

    results = map_parts(part, parts, executor)
    total = sum(weight for _, _, weight in results)
    loss, grads = 0.0, None
    for part_loss, part_grads, weight in results:
        if part_grads is None:
            continue
        loss += part_loss * (weight / total)
        for g in part_grads:
            g *= weight / total
        if grads is None:
            grads = part_grads
        else:
            for g, pg in zip(grads, part_grads):
                g += pg
    return add_l2_penalty(params, loss, grads, alpha, total)


def full_batch_loss_and_grad(
    params, X, Y, spec, alpha, sample_weight, executor=None, threads=1
):
    """:func:`loss_and_grad` over all rows, in chunks to bound memory (at least
    one per thread when ``executor`` runs ``threads``)."""
    n = X.shape[0]
    size = min(FULL_BATCH_CHUNK, -(-n // threads))
    parts = batch_slices(n, size)
    return loss_and_grad_parts(
        params, X, Y, spec, alpha, sample_weight, parts, executor
    )


def fit_lbfgs(est, flat, shapes, spec, X, Y, sample_weight):
    """Full-batch L-BFGS-B through :func:`scipy.optimize.minimize`."""
    dtype = flat.dtype
    progress = Progress(est.verbose, est.max_iter)
    losses = []
    start = time.perf_counter()

    threads = n_parts(X.shape[0] * work_per_sample(spec))

    def fun(theta):
        params = unpack(theta.astype(dtype, copy=False), shapes)
        loss, grads = full_batch_loss_and_grad(
            params, X, Y, spec, est.alpha, sample_weight, executor, threads
        )
        return loss, pack(grads).astype(np.float64)

    with (
        interrupt_guard() as interrupted,
        thread_pool(threads) as executor,
        np.errstate(over="ignore", invalid="ignore"),
    ):

        def callback(intermediate_result):
            losses.append(float(intermediate_result.fun))
            seconds = time.perf_counter() - start
            progress.epoch(est.n_iter_ + len(losses), losses[-1], None, seconds)
            if interrupted[0]:
                raise StopIteration

        result = minimize(
            fun,
            flat.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={"maxiter": est.max_iter, "maxfun": est.max_fun, "gtol": est.tol},
        )
    progress.close()
    if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
        raise _divergence("during L-BFGS")
    flat[:] = result.x
    # a warm-started fit continues the count and the curve
    est.n_iter_ += len(losses)
    est.loss_ = float(result.fun)
    est.loss_curve_.extend(losses)
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
    if interrupted[0]:
        _warn_interrupted(est.n_iter_)
    elif result.status == 1:
        warnings.warn(
            "L-BFGS failed to converge: the limit of max_iter or max_fun was "
            f"reached ({result.message}). Increase max_iter/max_fun or scale X.",
            ConvergenceWarning,
            stacklevel=3,
        )


class _Validation:
    """Held-out rows ``X[rows]`` for early stopping and their scoring."""

    def __init__(self, X, rows, Y, y, sample_weight):
        self.X, self.rows = X, rows
        self.Y, self.y, self.sample_weight = Y, y, sample_weight

    def evaluate(self, flat, shapes, spec, predict_from_logits, executor):
        params = unpack(flat, shapes)
        logits = predict_logits(params, self.X, spec, executor, self.rows)
        loss, _ = log_loss_and_delta(
            logits, self.Y, self.sample_weight, spec.out_activation
        )
        pred = predict_from_logits(logits)
        correct = np.all(
            pred.reshape(len(pred), -1) == self.y.reshape(len(pred), -1), 1
        )
        score = float(np.average(correct, weights=self.sample_weight))
        return score, loss


def split_validation(est, X, Y, y, sample_weight, random_state):
    """Hold out ``validation_fraction`` of the rows, stratified by class.

    Returns the training rows (indices into ``X``, which is not copied) and
    the :class:`_Validation` of the others.
    """
    stratify = y if y.ndim == 1 else None
    try:
        train, val = train_test_split(
            np.arange(X.shape[0]),
            test_size=est.validation_fraction,
            random_state=random_state,
            stratify=stratify,
        )
    except ValueError as exc:
        raise ValueError(
            "early_stopping could not hold out a validation set of "
            f"validation_fraction={est.validation_fraction} of {X.shape[0]} samples: "
            f"{exc}"
        ) from exc
    sw_val = None if sample_weight is None else sample_weight[val]
    return train, _Validation(X, val, Y[val], y[val], sw_val)


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


def _run_epoch(est, flat, views, gbuf, step, data, batch_size, check, interrupted):
    """One pass over the data; returns the sample-weighted mean batch loss.

    ``data`` is ``(X, Y, sample_weight, rows)``: the epoch runs over
    ``X[rows]`` (all of ``X`` when ``rows`` is None), gathering each batch.
    ``step(params, X, Y, sample_weight)`` returns a batch's loss and gradients;
    ``check(loss, epoch)`` raises on divergence.
    """
    X, Y, sw, rows = data
    n = X.shape[0] if rows is None else len(rows)
    order = est._random_state.permutation(n) if est.shuffle else None
    total_loss, total_weight = 0.0, 0.0
    for s in batch_slices(n, batch_size):
        idx = order[s] if order is not None else s
        idx = idx if rows is None else rows[idx]
        swb = None if sw is None else sw[idx]
        weight = (s.stop - s.start) if swb is None else float(swb.sum())
        if weight == 0:
            continue
        loss, grads = step(views, X[idx], Y[idx], swb)
        check(loss, est.n_iter_ + 1)
        est._optimizer.update_params(flat, pack(grads, out=gbuf))
        total_loss += loss * weight
        total_weight += weight
        if interrupted[0]:
            break
    if not np.all(np.isfinite(flat)):
        raise _divergence(f"in epoch {est.n_iter_ + 1}", est.learning_rate_init)
    return total_loss / max(total_weight, np.finfo(float).tiny)


def _prepare_history(est, early_stopping, incremental):
    """Make the records match this call (an earlier call may have differed)."""
    if not incremental:  # a warm-started fit gets a fresh patience
        est._no_improvement_count = 0
    if early_stopping and est.validation_scores_ is None:
        est.validation_scores_, est.validation_loss_curve_ = [], []
        est.best_validation_score_ = -np.inf
    if not early_stopping and est.best_loss_ is None:
        est.best_loss_ = np.inf


def _update_no_improvement(est, loss, val_score, flat):
    """Track the best loss/score; ``_no_improvement_count`` as in MLP."""
    if val_score is not None:
        est.validation_scores_.append(val_score)
        if val_score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if val_score > est.best_validation_score_:
            est.best_validation_score_ = val_score
            est._best_flat = flat.copy()
        return
    if loss > est.best_loss_ - est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    if loss < est.best_loss_:
        est.best_loss_ = loss


def _end_epoch(
    est, flat, shapes, spec, loss, validation, predict_from_logits, executor
):
    """Record one epoch; returns the validation score (None without)."""
    est.n_iter_ += 1
    est.loss_curve_.append(loss)
    est.loss_ = loss
    val_score = None
    if validation is not None:
        val_score, val_loss = validation.evaluate(
            flat, shapes, spec, predict_from_logits, executor
        )
        est.validation_loss_curve_.append(val_loss)
    est._optimizer.iteration_ends(est.t_)
    _update_no_improvement(est, loss, val_score, flat)
    return val_score


def _should_stop(est, early_stopping, progress):
    """Whether training stopped improving for good (adaptive sgd goes on)."""
    if est._no_improvement_count <= est.n_iter_no_change:
        return False
    what = "Validation score" if early_stopping else "Training loss"
    progress.message(
        f"{what} did not improve more than tol={est.tol} for "
        f"{est.n_iter_no_change} consecutive epochs."
    )
    if est._optimizer.trigger_stopping(verbose=False):
        return True
    progress.message(f"Setting learning rate to {est._optimizer.learning_rate:g}")
    est._no_improvement_count = 0
    return False


def fit_stochastic(
    est, flat, shapes, spec, X, Y, y, sample_weight, incremental, predict_from_logits
):
    """Mini-batch SGD/Adam epochs until convergence, ``max_iter`` or Ctrl-C."""
    early_stopping = est.early_stopping and not incremental
    _prepare_history(est, early_stopping, incremental)
    validation, rows = None, None
    if early_stopping:
        rows, validation = split_validation(
            est, X, Y, y, sample_weight, est._random_state
        )
        est._best_flat = flat.copy()
    data = (X, Y, sample_weight, rows)
    n = X.shape[0] if rows is None else len(rows)
    batch_size = min(200, n) if est.batch_size == "auto" else min(est.batch_size, n)
    views, gbuf = unpack(flat, shapes), np.empty_like(flat)
    check = _DivergenceCheck(est.learning_rate_init)
    n_epochs = 1 if incremental else est.max_iter
    progress = Progress(est.verbose, n_epochs)
    converged = False
    threads = n_parts(batch_size * work_per_sample(spec))
    # overflows surface as a DivergenceError, not as RuntimeWarnings
    with (
        interrupt_guard() as interrupted,
        thread_pool(threads) as executor,
        np.errstate(over="ignore", invalid="ignore"),
    ):

        def step(params, Xb, Yb, swb):
            if threads == 1:
                return loss_and_grad(params, Xb, Yb, spec, est.alpha, swb)
            parts = split_rows(Xb.shape[0], threads)
            return loss_and_grad_parts(
                params, Xb, Yb, spec, est.alpha, swb, parts, executor
            )

        for _ in range(n_epochs):
            start = time.perf_counter()
            loss = _run_epoch(
                est,
                flat,
                views,
                gbuf,
                step,
                data,
                batch_size,
                check,
                interrupted,
            )
            est.t_ += n
            val_score = _end_epoch(
                est, flat, shapes, spec, loss, validation, predict_from_logits, executor
            )
            progress.epoch(est.n_iter_, loss, val_score, time.perf_counter() - start)
            if interrupted[0]:
                _warn_interrupted(est.n_iter_)
                break
            if not incremental and _should_stop(est, early_stopping, progress):
                converged = True
                break
    progress.close()
    if early_stopping:
        flat[:] = est.__dict__.pop("_best_flat")
    if not (incremental or converged or interrupted[0]):
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({est.max_iter}) reached "
            "and the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )
