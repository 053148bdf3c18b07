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


def _block_stages(b, block, spec):
    """The stages of block ``b``."""
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
    n_conv = F * C * math.prod(block.kernel) + F  # filters and intercepts
    stages.append(Stage(conv + f", {spec.activation}", (*block.conv_shape, F), n_conv))
    if block.batch_norm:
        stages.append(Stage(f"block {b}: batch norm", (*block.conv_shape, F), F))
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
