"""PyTorch twins of networks with residual and inception blocks (imported
only when torch is).

:func:`twin_from_spec` builds, from our own ``NetworkSpec``, a module that
computes the same network: "conv" blocks (padding, convolution, batch norm,
activation, max pooling that keeps partial windows), residual units
(``sklearn_xcnn/_core/_residual.py``) and inception blocks
(``sklearn_xcnn/_core/_inception.py``), then global pooling or flattening and
the dense layers. A network of series (every block one row high, as the
series presets build them) becomes ``Conv1d``/``BatchNorm1d``/``MaxPool1d``
on ``(n, C, T)`` inputs, as a PyTorch user would write it; images get the
2-D layers. :func:`load_start` copies our parameters into it, in the core's
order (``sklearn_xcnn/_core/_network.py``).

Conventions mirrored: with batch norm a convolution has no bias and the
norm's shift is our intercept; the shortcut of a residual unit whose channel
count does not change is batch norm with no shift (its ``bias`` is frozen at
zero); an inception bottleneck has a plain bias and no batch norm; the
max-pool branch pools 3 cells at stride 1 with the edges left out (PyTorch
pads max pooling with minus infinity). 'same' padding puts its odd cell at
the end, as ours does.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F_

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid}


def is_series(spec):
    """Whether every block of ``spec`` sees maps one row high."""
    return all(block.in_shape[0] == 1 for block in spec.blocks)


class _Layers:
    """The 1-D or 2-D layer classes, and the parameter lists in our order."""

    def __init__(self, one_d):
        self.one_d = one_d
        self.conv = nn.Conv1d if one_d else nn.Conv2d
        self.norm = nn.BatchNorm1d if one_d else nn.BatchNorm2d
        self.units = []  # per convolution of ours: (conv, norm or None)
        self.norms = []  # per norm slot of ours: the BatchNorm module

    def size(self, pair):
        return pair[1] if self.one_d else tuple(pair)

    def unit(self, spec_u, batch_norm=None):
        """Padding, convolution and batch norm of a :class:`BlockSpec`."""
        bn = spec_u.batch_norm if batch_norm is None else batch_norm
        conv = self.conv(
            spec_u.in_shape[2],
            spec_u.n_filters,
            self.size(spec_u.kernel),
            self.size(spec_u.stride),
            dilation=self.size(spec_u.dilation),
            bias=not bn,
        )
        norm = self.norm(spec_u.n_filters) if bn else None
        self.units.append((conv, norm))
        if norm is not None:
            self.norms.append(norm)
        (t, b), (left, right) = spec_u.padding
        pads = (left, right) if self.one_d else (left, right, t, b)
        return _Unit(conv, norm, pads)

    def shift_free_norm(self, n_filters):
        norm = self.norm(n_filters)
        norm.bias.requires_grad_(False)  # our shortcut norm has no shift
        self.norms.append(norm)
        return norm

    def max_pool(self, window, stride=None, padding=0, ceil_mode=False):
        cls = nn.MaxPool1d if self.one_d else nn.MaxPool2d
        if self.one_d:
            window = window[1]
            stride = None if stride is None else stride[1]
            padding = padding if np.ndim(padding) == 0 else padding[1]
        return cls(window, stride, padding, ceil_mode=ceil_mode)


class _Unit(nn.Module):
    def __init__(self, conv, norm, pads):
        super().__init__()
        self.conv, self.norm, self.pads = conv, norm, pads

    def forward(self, x):
        if any(self.pads):
            x = F_.pad(x, self.pads)
        z = self.conv(x)
        return z if self.norm is None else self.norm(z)


class _Plain(nn.Module):
    def __init__(self, block, spec, layers):
        super().__init__()
        self.unit = layers.unit(block)
        self.act = _ACTIVATIONS[spec.activation]()
        self.pool = None
        if spec.pooling == "max" and block.pool is not None:
            self.pool = layers.max_pool(block.pool, ceil_mode=True)
        elif spec.pooling is not None and block.pool is not None:
            raise ValueError(f"the twin has no pooling={spec.pooling!r}")

    def forward(self, x):
        a = self.act(self.unit(x))
        return a if self.pool is None else self.pool(a)


def _end_pool(block, spec, layers):
    if spec.pooling is None or block.pool is None:
        return None
    if spec.pooling != "max":
        raise ValueError(f"the twin has no pooling={spec.pooling!r}")
    return layers.max_pool(block.pool, ceil_mode=True)


class _Residual(nn.Module):
    def __init__(self, block, spec, layers):
        super().__init__()
        self.convs = nn.ModuleList(layers.unit(u) for u in block.convs)
        if block.shortcut is None:
            self.shortcut = layers.shift_free_norm(block.n_filters)
        else:
            self.shortcut = layers.unit(block.shortcut)
        self.act = _ACTIVATIONS[spec.activation]()
        self.pool = _end_pool(block, spec, layers)

    def forward(self, x):
        h = x
        for i, unit in enumerate(self.convs):
            h = unit(h)
            if i < len(self.convs) - 1:
                h = self.act(h)
        a = self.act(h + self.shortcut(x))
        return a if self.pool is None else self.pool(a)


class _Module(nn.Module):
    def __init__(self, module, act, layers):
        super().__init__()
        self.bottleneck = None
        if module.bottleneck is not None:
            self.bottleneck = layers.unit(module.bottleneck)
        self.branches = nn.ModuleList(layers.unit(u) for u in module.branches)
        window = module.pool_window
        pads = tuple((k - 1) // 2 for k in window)  # (3 cells: one each side)
        self.max_pool = layers.max_pool(window, (1, 1), pads)
        self.pool_conv = layers.unit(module.pool_conv)
        self.act = act

    def forward(self, x):
        h = x if self.bottleneck is None else self.bottleneck(x)
        outs = [branch(h) for branch in self.branches]
        outs.append(self.pool_conv(self.max_pool(x)))
        return self.act(torch.cat(outs, dim=1))


class _Inception(nn.Module):
    def __init__(self, block, spec, layers):
        super().__init__()
        act = _ACTIVATIONS[spec.activation]()
        self.modules_ = nn.ModuleList(_Module(m, act, layers) for m in block.modules)
        self.shortcut = layers.unit(block.shortcut)
        self.act = act
        self.pool = _end_pool(block, spec, layers)

    def forward(self, x):
        h = x
        for module in self.modules_:
            h = module(h)
        a = self.act(h + self.shortcut(x))
        return a if self.pool is None else self.pool(a)


_KINDS = {"conv": _Plain, "residual": _Residual, "inception": _Inception}


class Twin(nn.Module):
    """The network of a ``NetworkSpec``; input ``(n, C, T)`` for series,
    ``(n, C, H, W)`` for images. ``units`` and ``norms`` list its
    convolutions and batch norms in our parameter order."""

    def __init__(self, spec):
        super().__init__()
        layers = _Layers(is_series(spec))
        self.blocks = nn.Sequential(
            *(_KINDS[block.kind](block, spec, layers) for block in spec.blocks)
        )
        self.global_pooling = spec.global_pooling
        dense, units = [], spec.layer_units
        act = _ACTIVATIONS[spec.activation]
        for i, (n_in, n_out) in enumerate(zip(units[:-1], units[1:])):
            if spec.dropout:
                dense.append(nn.Dropout(spec.dropout))
            dense.append(nn.Linear(n_in, n_out))
            if i < len(units) - 2:
                dense.append(act())
        self.dense = nn.Sequential(*dense)
        self.units, self.norms = layers.units, layers.norms
        self.one_d = layers.one_d

    def forward(self, x):
        a = self.blocks(x)
        dims = tuple(range(2, a.ndim))
        if self.global_pooling == "mean":
            a = a.mean(dim=dims)
        elif self.global_pooling == "max":
            a = a.amax(dim=dims)
        else:  # ours flattens as filters x rows x cols
            a = a.flatten(1)
        return self.dense(a)


def twin_from_spec(spec, dtype):
    """:class:`Twin` of ``spec`` in ``dtype`` (a torch dtype)."""
    return Twin(spec).to(dtype)


def load_start(twin, start):
    """Copy our parameters ``start`` (the core's order) into ``twin``."""
    values = [torch.from_numpy(np.ascontiguousarray(a)) for a in start]
    linears = [m for m in twin.dense if isinstance(m, nn.Linear)]
    n_conv = 2 * len(twin.units)
    with torch.no_grad():
        for k, (conv, norm) in enumerate(twin.units):
            w, b = values[2 * k], values[2 * k + 1]  # (F, C, kr, kc), (F,)
            conv.weight.copy_(w[:, :, 0] if twin.one_d else w)
            (conv.bias if norm is None else norm.bias).copy_(b)
        for k, linear in enumerate(linears):
            linear.weight.copy_(values[n_conv + 2 * k].T)  # (n_out, n_in)
            linear.bias.copy_(values[n_conv + 2 * k + 1])
        scales = values[n_conv + 2 * len(linears) :]
        if len(scales) != len(twin.norms):
            raise ValueError(
                f"{len(scales)} batch-norm scales for {len(twin.norms)} norms"
            )
        for norm, scale in zip(twin.norms, scales):
            norm.weight.copy_(scale)


def to_torch_input(images, one_d):
    """Our images ``(n, H, W, C)`` as the twin's input: ``(n, C, W)`` for
    series (``H == 1``), ``(n, C, H, W)`` otherwise."""
    x = images[:, 0].transpose(0, 2, 1) if one_d else images.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x))
