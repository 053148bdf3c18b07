"""A network described stage by stage: output shapes and parameter counts."""

import math
from typing import NamedTuple

OUTPUT_NAMES = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity"}


class Stage(NamedTuple):
    """One row of a network summary."""

    name: str  # what the stage does
    shape: tuple  # output shape of one sample: (H, W, C) maps or (units,)
    n_params: int  # learned numbers the stage holds


def _size(pair):
    return "x".join(str(v) for v in pair)


def _kernels(units, always_each=False):
    """The kernels of ``units``: one ``"1x8"`` when they share it (unless
    ``always_each``), else each, ``"1x8/1x5/1x3"``."""
    sizes = [_size(u.kernel) for u in units]
    return sizes[0] if len(set(sizes)) == 1 and not always_each else "/".join(sizes)


def _unit_params(unit):
    """Filters, intercepts and batch-norm scales of one convolution."""
    F, C = unit.n_filters, unit.in_shape[2]
    return F * C * math.prod(unit.kernel) + F + (F if unit.batch_norm else 0)


def _compound_stages(b, block, spec):
    """The stages of a residual unit or an inception block ``b``."""
    n_params = sum(map(_unit_params, block.conv_units))
    if block.kind == "residual":
        kernel = _kernels(block.convs)
        short = "1x1 conv" if block.shortcut is not None else "batch norm"
        name = (f"block {b}: residual unit, {len(block.convs)} x {block.n_filters} "
                f"filters {kernel}, shortcut {short}")  # fmt: skip
        n_params += 0 if block.shortcut is not None else block.n_filters
    else:
        kernels = _kernels(block.modules[0].branches, always_each=True)
        name = (f"block {b}: inception, {len(block.modules)} modules of 4 x "
                f"{block.n_filters} filters {kernels}, shortcut")  # fmt: skip
    dilation = block.conv_units[0].dilation
    if dilation != (1, 1):
        name += f", dilation {_size(dilation)}"
    stages = [Stage(f"{name}, {spec.activation}", (*block.conv_shape,
                    block.out_shape[2]), n_params)]  # fmt: skip
    if block.pool is not None:
        name = f"block {b}: {spec.pooling} pool {_size(block.pool)}"
        stages.append(Stage(name, block.out_shape, 0))
    return stages


def _block_stages(b, block, spec):
    """The stages of block ``b``."""
    if block.kind != "conv":
        return _compound_stages(b, block, spec)
    stages = []
    H, W, C = block.in_shape
    (top, bottom), (left, right) = block.padding
    if block.padding != ((0, 0), (0, 0)):
        shape = (H + top + bottom, W + left + right, C)
        stages.append(Stage(f"block {b}: pad {block.padding}", shape, 0))
    F = block.n_filters
    conv = f"block {b}: correlate {F} filters {_size(block.kernel)}"
    if block.stride != (1, 1):
        conv += f", stride {_size(block.stride)}"
    if block.dilation != (1, 1):
        conv += f", dilation {_size(block.dilation)}"
    n_conv = F * C * math.prod(block.kernel) + F  # filters and intercepts
    maps = (*block.conv_shape, F)
    if block.batch_norm:  # the activation follows the normalisation
        stages.append(Stage(conv, maps, n_conv))
        stages.append(Stage(f"block {b}: batch norm, {spec.activation}", maps, F))
    else:
        stages.append(Stage(f"{conv}, {spec.activation}", maps, n_conv))
    if block.pool is not None:
        name = f"block {b}: {spec.pooling} pool {_size(block.pool)}"
        stages.append(Stage(name, block.out_shape, 0))
    return stages


def describe(spec):
    """The stages of a network, from its input to its output.

    Parameters
    ----------
    spec : NetworkSpec

    Returns
    -------
    stages : list of Stage
        The input, then per block its padding (if any), correlation (the
        filters and their intercepts), batch norm (its scales) and pooling,
        then the global pooling or the flattening, the dense layers and the
        output layer.
    """
    units = spec.layer_units
    first = spec.blocks[0].in_shape if spec.blocks else None
    stages = [Stage("input", first if first else (units[0],), 0)]
    for b, block in enumerate(spec.blocks):
        stages += _block_stages(b, block, spec)
    if spec.global_pooling is not None:
        stages.append(Stage(f"global {spec.global_pooling} pool", (units[0],), 0))
    elif spec.blocks:
        stages.append(Stage("flatten", (units[0],), 0))
    drop = f", dropout {spec.dropout:g} on its input" if spec.dropout else ""
    for n_in, n_out in zip(units[:-2], units[1:-1]):
        name = f"dense, {spec.activation}{drop}"
        stages.append(Stage(name, (n_out,), n_in * n_out + n_out))
    name = f"output, {OUTPUT_NAMES[spec.out_activation]}{drop}"
    stages.append(Stage(name, (units[-1],), units[-2] * units[-1] + units[-1]))
    return stages


def format_stages(stages):
    """The stages as a text table with a total."""
    rows = [(s.name, "x".join(map(str, s.shape)), f"{s.n_params:,}") for s in stages]
    total = sum(s.n_params for s in stages)
    header = ("stage", "output", "parameters")
    rows = [header, *rows, ("total", "", f"{total:,}")]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows
    ]
    rule = "-" * len(lines[0])
    return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])
