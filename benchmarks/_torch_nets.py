"""The benchmark networks in plain PyTorch (imported only when torch is).

:func:`make_net` builds ``bench_training.py``'s networks for square
one-channel images: per block a 3x3 convolution (zero padding ``padding`` on
each side; 1 is ``padding="same"`` at stride 1), batch norm when asked, ReLU
and 2x2 max pooling that keeps partial windows (``ceil_mode=True``); then
dense ReLU layers and a linear output. Dropout, when asked, acts on the input
of every dense layer (the flattened maps and each hidden layer), as ours
does. The L2 penalty ``0.5 * alpha * ||w||^2 / batch`` on the weights (not
the biases) is Adam's coupled ``weight_decay = alpha / batch`` on the
weights (:func:`make_optimizer`).

With batch norm the convolution has no bias: ``BatchNorm2d``'s shift plays the
part of our filter intercept, its scale that of our batch-norm scale. PyTorch's
defaults (``momentum=0.1``, ``eps=1e-5``, biased variance to normalise,
unbiased for the running estimate) are the convention ours follows.

:class:`TorchTwin` is the twin of any ``CNNClassifier`` configuration that
Adam trains at a constant rate or under the cosine schedule (see
:data:`TWIN_SUPPORTS`): the network of our own ``NetworkSpec``
(:func:`net_from_spec`), started from the parameters ``CNNClassifier``
draws (:func:`our_start`, :func:`load_params`), trained under our regime
(``bench_quality.py``).
"""

import math

import numpy as np
import torch
from torch import nn


def make_net(
    image_size,
    filters,
    hidden,
    n_classes,
    dtype,
    padding=0,
    batch_norm=False,
    dropout=0.0,
):
    """``nn.Sequential`` for square one-channel images."""
    layers, channels, size = [], 1, image_size
    for f in filters:
        layers.append(nn.Conv2d(channels, f, 3, padding=padding, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(f))
        layers += [nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        channels, size = f, -(-(size + 2 * padding - 2) // 2)
    layers.append(nn.Flatten())
    n_in = channels * size * size
    for h in hidden:
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(n_in, n_classes))
    return nn.Sequential(*layers).to(dtype)


def make_optimizer(net, lr, alpha, batch_size):
    """Adam with the L2 penalty on the weights only (not biases, not batch
    norm: those are the 1-d tensors)."""
    weights = [p for p in net.parameters() if p.ndim > 1]
    biases = [p for p in net.parameters() if p.ndim == 1]
    groups = [
        {"params": weights, "weight_decay": alpha / batch_size},
        {"params": biases, "weight_decay": 0.0},
    ]
    return torch.optim.Adam(groups, lr=lr)


def train_epoch(net, optimizer, X, y, batch_size, generator=None, loss_fn=None):
    """One shuffled pass of mini-batches over ``X`` (n, C, H, W), ``y`` (n,)
    (or (n, 1) 0/1 targets for a logistic ``loss_fn``).

    Returns the mean of ``loss_fn`` (default: the cross-entropy) over the
    samples (without the penalty).
    """
    net.train()
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    order = torch.randperm(X.shape[0], generator=generator)
    total = 0.0
    for start in range(0, X.shape[0], batch_size):
        idx = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / X.shape[0]


def predict_proba(net, X, batch_size):
    """Softmax outputs of ``X`` (n, 1, H, W) in chunks of ``batch_size``."""
    net.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            out.append(torch.softmax(net(X[start : start + batch_size]), dim=1))
    return torch.cat(out)


def _weights_sq(net):
    """``||w||^2`` over the weight tensors (the penalised ones)."""
    with torch.no_grad():
        return float(sum((p * p).sum() for p in net.parameters() if p.ndim > 1))


# ----------------------------------------------------------------- the twin
# The twin below is built from a CNNClassifier's own NetworkSpec and starts
# from the very parameters CNNClassifier draws (its init_params and dead-unit
# guard, whatever they are in this checkout), so that a change of our start
# is the twin's too. The shuffles and dropout masks come from torch, or, with
# rng="ours" (a diagnostic), from our own random stream, draw for draw.

# what the twin mirrors: parameter -> the values it can take
TWIN_SUPPORTS = dict(
    solver=("adam",),
    learning_rate=("constant", "cosine"),
    early_stopping=(False,),
    keep_best_weights=(False,),
    shuffle=(True,),
    class_weight=(None,),
)
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid}


def twin_problem(params):
    """Why ``CNNClassifier(**params)`` has no twin, or ``""`` (the
    estimator's defaults stand for the parameters ``params`` leaves out)."""
    from sklearn_xcnn import CNNClassifier

    if params.get("augment"):
        return "the twin does not augment"
    defaults = CNNClassifier().get_params()
    for key, allowed in TWIN_SUPPORTS.items():
        value = params.get(key, defaults[key])
        if value not in allowed:
            names = " or ".join(repr(v) for v in allowed)
            return f"the twin needs {key}={names} (not {value!r})"
    return ""


def cosine_rate(lr0, lr_min, epoch, span):
    """Our cosine schedule, written out: the rate of epoch ``epoch`` (from 1)
    of a fit of ``span`` epochs."""
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (epoch - 1) / span)) / 2


def our_start(params, X, y):
    """What ``CNNClassifier(**params).fit(X, y)`` starts from.

    Runs the estimator's own first steps (validation, target encoding, the
    draw of the initial parameters and the dead-unit guard) without training.

    Returns
    -------
    estimator : CNNClassifier
        With ``classes_`` and the initial parameters set.
    images : ndarray of shape (n, H, W, C)
    Y : ndarray of shape (n, n_outputs)
        The encoded targets (one-hot, or one 0/1 column for two classes).
    spec : NetworkSpec
    start : list of ndarray
        The initial parameters in the core's order.
    """
    from sklearn_xcnn import CNNClassifier

    est = CNNClassifier(**params)
    images, y = est._validate_xy(X, y, True)
    Y = est._encode_targets(y, True, False, None).astype(images.dtype)
    est._initialize(
        images,
        Y,
        images.dtype,
        est._sample_weight(images, y, None, False, images.dtype),
    )
    return est, images, Y, est._network_spec(), est._params()


def net_from_spec(spec, dtype):
    """``nn.Sequential`` computing the network of ``spec`` (NCHW inputs).

    Raises ValueError for what the twin does not mirror.
    """
    if spec.pooling not in ("max", None):
        raise ValueError(f"the twin has no pooling={spec.pooling!r}")
    act = _ACTIVATIONS[spec.activation]
    layers = []
    for block in spec.blocks:
        (top, bottom), (left, right) = block.padding
        if top or bottom or left or right:
            layers.append(nn.ZeroPad2d((left, right, top, bottom)))
        C, F = block.in_shape[2], block.n_filters
        conv = nn.Conv2d(C, F, block.kernel, block.stride, bias=not block.batch_norm)
        layers.append(conv)
        if block.batch_norm:
            layers.append(nn.BatchNorm2d(F))
        layers.append(act())
        if spec.pooling is not None and block.pool is not None:
            layers.append(nn.MaxPool2d(block.pool, ceil_mode=True))
    if spec.global_pooling == "max":
        layers.append(nn.AdaptiveMaxPool2d(1))
    elif spec.global_pooling == "mean":
        layers.append(nn.AdaptiveAvgPool2d(1))
    layers.append(nn.Flatten())
    units = spec.layer_units
    for i, (n_in, n_out) in enumerate(zip(units[:-1], units[1:])):
        if spec.dropout:
            layers.append(nn.Dropout(spec.dropout))
        layers.append(nn.Linear(n_in, n_out))
        if i < len(units) - 2:
            layers.append(act())
    return nn.Sequential(*layers).to(dtype)


def load_params(net, start):
    """Copy our parameters ``start`` (the core's order: per block filters
    (F, C, kr, kc) and intercepts, per dense layer coefficients (n_in, n_out)
    and intercepts, then one batch-norm scale per normalised block) into
    ``net``. With batch norm our filter intercept is the norm's shift."""
    modules = list(net)
    weighted = [m for m in modules if isinstance(m, (nn.Conv2d, nn.Linear))]
    values = [torch.from_numpy(np.ascontiguousarray(a)) for a in start]
    scales = iter(values[2 * len(weighted) :])
    with torch.no_grad():
        for k, module in enumerate(weighted):
            w, bias = values[2 * k], values[2 * k + 1]
            if isinstance(module, nn.Linear):
                w = w.T  # (n_in, n_out) -> (n_out, n_in)
            module.weight.copy_(w)
            i = modules.index(module)
            following = modules[i + 1] if i + 1 < len(modules) else None
            if isinstance(following, nn.BatchNorm2d):
                following.bias.copy_(bias)
                following.weight.copy_(next(scales))
            else:
                module.bias.copy_(bias)


class _GivenMask(nn.Module):
    """Dropout with the mask it is given (``mask``, already scaled by
    ``1 / (1 - p)``); the identity in eval mode."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        return x * self.mask if self.training else x


class TorchTwin:
    """The PyTorch twin of ``CNNClassifier(**params)``, trained the same way.

    The network is built from our ``NetworkSpec`` and starts from our initial
    parameters (:func:`our_start`). Training follows ``solver="adam"``:
    mini-batches of ``batch_size`` (``min(200, n)`` for "auto"), reshuffled
    every epoch, Adam with our ``beta_1``, ``beta_2``, ``epsilon``, the L2
    penalty on the weights as coupled weight decay ``alpha / rows`` (the
    rows of each batch, as ours divides by them), the loss ours uses
    (softmax cross-entropy, or the logistic loss of one output for two
    classes) and our stopping rule on the training loss (``tol``,
    ``n_iter_no_change``, ``max_iter``, ``"auto"`` resolved by the
    estimator itself into ``max_iter_``). The rate is ours per epoch:
    ``learning_rate_init`` ("constant") or the cosine schedule from it to
    ``min_learning_rate`` over ``max_iter_`` epochs ("cosine"), set into
    every Adam parameter group before each epoch (``learning_rate_curve_``).

    Differences: the shuffles and dropout masks (torch's generator, seeded
    with ``random_state``), unless ``rng="ours"``, which draws them from our
    own ``RandomState`` stream as our fit does (a diagnostic: the twin then
    sees our batches and masks); and Adam's epsilon, which torch adds to
    the bias-corrected root ``sqrt(v_t / (1 - beta_2**t))``, ours to
    ``sqrt(v_t)`` (so ours is torch's with ``epsilon / sqrt(1 - beta_2**t)``;
    the same at 1e-8 unless the gradients are tiny).
    """

    def __init__(self, params, rng="torch"):
        problem = twin_problem(params)
        if problem:
            raise ValueError(problem)
        if rng not in ("torch", "ours"):
            raise ValueError(f"rng={rng!r}: 'torch' or 'ours'")
        self.params, self.rng = params, rng

    def get(self, key):
        from sklearn_xcnn import CNNClassifier

        return self.params.get(key, CNNClassifier().get_params()[key])

    def rate(self, epoch):
        """The rate of epoch ``epoch`` (from 1) of this fit."""
        lr0 = self.get("learning_rate_init")
        if self.get("learning_rate") == "constant":
            return lr0
        return cosine_rate(lr0, self.get("min_learning_rate"), epoch, self.max_iter_)

    def fit(self, X, y):
        est, images, Y, spec, start = our_start(self.params, X, y)
        self.classes_ = est.classes_
        dtype = torch.float32 if images.dtype == np.float32 else torch.float64
        self.net_ = net_from_spec(spec, dtype)
        load_params(self.net_, start)
        Xt = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        self._binary = spec.out_activation == "logistic"
        Yt = torch.from_numpy(Y) if self._binary else torch.from_numpy(Y.argmax(1))
        n = Xt.shape[0]
        size = self.get("batch_size")
        batch = min(200, n) if size == "auto" else min(size, n)
        self.max_iter_ = est._fit_params(n)["max_iter"]
        seed = self.get("random_state") or 0
        if self.rng == "ours":  # our stream, where our fit would take it up
            draws, generator = est._training.random_state, None
            for i, module in enumerate(self.net_):
                if isinstance(module, nn.Dropout):
                    self.net_[i] = _GivenMask()
        else:
            draws, generator = None, torch.Generator().manual_seed(seed)
            torch.manual_seed(seed)  # dropout masks
        alpha = self.get("alpha")
        weights = [p for p in self.net_.parameters() if p.ndim > 1]
        others = [p for p in self.net_.parameters() if p.ndim == 1]
        optimizer = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": alpha / batch},
                {"params": others, "weight_decay": 0.0},
            ],
            lr=self.get("learning_rate_init"),
            betas=(self.get("beta_1"), self.get("beta_2")),
            eps=self.get("epsilon"),
        )
        loss_fn = nn.BCEWithLogitsLoss() if self._binary else nn.CrossEntropyLoss()
        tol, patience = self.get("tol"), self.get("n_iter_no_change")
        n_batches = -(-n // batch)
        self.loss_curve_, self.learning_rate_curve_ = [], []
        best, count = np.inf, 0
        for epoch in range(1, self.max_iter_ + 1):
            rate = self.rate(epoch)
            for group in optimizer.param_groups:
                group["lr"] = rate
            self.learning_rate_curve_.append(rate)
            loss = self._epoch(optimizer, Xt, Yt, batch, loss_fn, generator, draws)
            loss += 0.5 * alpha * _weights_sq(self.net_) * n_batches / n
            self.loss_curve_.append(loss)
            count = 0 if loss <= best - tol else count + 1
            best = min(best, loss)
            if count > patience:
                break
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _epoch(self, optimizer, X, y, batch, loss_fn, generator, draws):
        """One shuffled pass of mini-batches; the mean loss over the rows
        (without the penalty). ``draws``: our RandomState (``rng="ours"``),
        which gives the order and the dropout masks as our fit draws them."""
        net, n = self.net_, X.shape[0]
        net.train()
        if draws is None:
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.from_numpy(draws.permutation(n))
        masks = [m for m in net if isinstance(m, _GivenMask)]
        keep = 1.0 - self.get("dropout")
        alpha = self.get("alpha")
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            rows = len(idx)
            for module in masks:  # one per dense layer, in order, as ours
                units = module_in_features(net, module)
                drawn = draws.random_sample((rows, units)) < keep
                module.mask = torch.from_numpy(drawn).to(X.dtype) / keep
            optimizer.param_groups[0]["weight_decay"] = alpha / rows
            optimizer.zero_grad()
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * rows
        return total / n

    def predict(self, X):
        from sklearn_xcnn import CNNClassifier

        shape = CNNClassifier(image_shape=self.params.get("image_shape"))
        images = shape._validate_images(X, reset=True)
        Xt = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        self.net_.eval()
        with torch.inference_mode():
            logits = torch.cat([self.net_(c) for c in torch.split(Xt, 1024)])
        if self._binary:
            codes = (logits[:, 0] > 0).long().numpy()
        else:
            codes = logits.argmax(1).numpy()
        return self.classes_[codes]


def module_in_features(net, module):
    """The inputs of the ``nn.Linear`` that follows ``module`` in ``net``."""
    modules = list(net)
    following = modules[modules.index(module) + 1]
    return following.in_features
