"""Seeded layer stacks for layer_shapes and the exact output shape after every layer.

A layer is a tuple `(kind, kwargs)`; `describe` prints it the way PyTorch prints modules
and `output_shapes` applies PyTorch's shape rules (checked against torch itself in the
tests). Run `python -m rdbench.families.layer_shapes.stacks` to rewrite the workspace.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

Layer = tuple[str, dict[str, Any]]
#: variant -> seed (each variant's stack and input shape differ).
SEEDS = {"mlp": 3301, "conv": 4409, "mixed": 6917}


def _conv_len(n: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    num = n + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _dim(shape: list[int], dim: int) -> int:
    return dim if dim >= 0 else len(shape) + dim


def apply(layer: Layer, shape: list[int]) -> list[int]:
    """Return the output shape of `layer` on an input of `shape`.

    Raises:
        ValueError: the layer does not accept that input (wrong rank or feature size, or an
            output size that is not positive).
    """
    kind, kw = layer
    s = list(shape)
    if kind in ("ReLU", "GELU", "Dropout", "Tanh", "Identity"):
        return s
    if kind == "LayerNorm":
        if s[-1] != kw["normalized_shape"]:
            raise ValueError("LayerNorm size mismatch")
        return s
    if kind == "Linear":
        if s[-1] != kw["in_features"]:
            raise ValueError("Linear in_features mismatch")
        return s[:-1] + [kw["out_features"]]
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        if s[1] != kw["num_features"]:
            raise ValueError("BatchNorm size mismatch")
        return s
    if kind in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
        nd = 1 if kind.endswith("1d") else 2
        if len(s) != nd + 2 or s[1] != kw["in_channels"]:
            raise ValueError(f"{kind} input mismatch")
        out = [s[0], kw["out_channels"]]
        for i in range(nd):
            k, st, p, d = (kw[name][i] for name in ("kernel_size", "stride", "padding", "dilation"))
            if kind.startswith("ConvTranspose"):
                op = kw["output_padding"][i]
                out.append((s[2 + i] - 1) * st - 2 * p + d * (k - 1) + op + 1)
            else:
                out.append(_conv_len(s[2 + i], k, st, p, d))
        return _positive(out)
    if kind in ("MaxPool2d", "AvgPool2d"):
        if len(s) != 4:
            raise ValueError("pooling expects 4-d input")
        d = kw.get("dilation", (1, 1))
        return _positive(
            s[:2]
            + [
                _conv_len(
                    s[2 + i],
                    kw["kernel_size"][i],
                    kw["stride"][i],
                    kw["padding"][i],
                    d[i],
                    kw["ceil_mode"],
                )
                for i in range(2)
            ]
        )
    if kind == "AdaptiveAvgPool2d":
        return s[:2] + list(kw["output_size"])
    if kind == "Flatten":
        a, b = _dim(s, kw["start_dim"]), _dim(s, kw["end_dim"])
        return s[:a] + [math.prod(s[a : b + 1])] + s[b + 1 :]
    if kind == "Unflatten":
        a = _dim(s, kw["dim"])
        if math.prod(kw["unflattened_size"]) != s[a]:
            raise ValueError("Unflatten size mismatch")
        return s[:a] + list(kw["unflattened_size"]) + s[a + 1 :]
    if kind == "Transpose":
        a, b = _dim(s, kw["dim0"]), _dim(s, kw["dim1"])
        s[a], s[b] = s[b], s[a]
        return s
    raise ValueError(f"unknown layer {kind}")


def _positive(shape: list[int]) -> list[int]:
    if any(n <= 0 for n in shape):
        raise ValueError("output size is not positive")
    return shape


def output_shapes(input_shape: list[int], layers: list[Layer]) -> list[list[int]]:
    """Return the shape after each layer of `layers` applied to `input_shape`.

    Raises:
        ValueError: the stack is not valid for that input.
    """
    shapes, shape = [], list(input_shape)
    for layer in layers:
        shape = apply(layer, shape)
        shapes.append(shape)
    return shapes


def describe(layer: Layer) -> str:
    """Return the layer as PyTorch would print it, e.g. `Conv2d(3, 8, kernel_size=(3, 3), ...)`."""
    kind, kw = layer
    if kind in ("ReLU", "GELU", "Tanh", "Identity"):
        return f"{kind}()"
    if kind == "Dropout":
        return f"Dropout(p={kw['p']}, inplace=False)"
    if kind == "LayerNorm":
        return f"LayerNorm(({kw['normalized_shape']},), eps=1e-05, elementwise_affine=True)"
    if kind == "Linear":
        return (
            f"Linear(in_features={kw['in_features']}, out_features={kw['out_features']}, bias=True)"
        )
    if kind.startswith("BatchNorm"):
        return f"{kind}({kw['num_features']}, eps=1e-05, momentum=0.1, affine=True)"
    if kind.startswith("Conv"):
        parts = [
            f"{kw['in_channels']}",
            f"{kw['out_channels']}",
            f"kernel_size={tuple(kw['kernel_size'])}",
            f"stride={tuple(kw['stride'])}",
        ]
        if any(kw["padding"]):
            parts.append(f"padding={tuple(kw['padding'])}")
        if any(d != 1 for d in kw["dilation"]):
            parts.append(f"dilation={tuple(kw['dilation'])}")
        if kind.startswith("ConvTranspose") and any(kw["output_padding"]):
            parts.append(f"output_padding={tuple(kw['output_padding'])}")
        return f"{kind}({', '.join(parts)})"
    if kind in ("MaxPool2d", "AvgPool2d"):
        k, st, p = (tuple(kw[n]) for n in ("kernel_size", "stride", "padding"))
        extra = f", dilation={tuple(kw['dilation'])}" if kind == "MaxPool2d" else ""
        return (
            f"{kind}(kernel_size={k}, stride={st}, padding={p}{extra}, ceil_mode={kw['ceil_mode']})"
        )
    if kind == "AdaptiveAvgPool2d":
        return f"AdaptiveAvgPool2d(output_size={tuple(kw['output_size'])})"
    if kind == "Flatten":
        return f"Flatten(start_dim={kw['start_dim']}, end_dim={kw['end_dim']})"
    if kind == "Unflatten":
        return f"Unflatten(dim={kw['dim']}, unflattened_size={tuple(kw['unflattened_size'])})"
    if kind == "Transpose":
        a, b = kw["dim0"], kw["dim1"]
        return f"Transpose(dim0={a}, dim1={b})  # torch.transpose(x, {a}, {b})"
    raise ValueError(f"unknown layer {kind}")


def _pick(rng: np.random.Generator, values: list[int]) -> int:
    return int(rng.choice(values))


def _conv(rng, kind: str, c_in: int, nd: int, transpose: bool = False) -> Layer:
    k = tuple(_pick(rng, [1, 2, 3, 4, 5, 7]) for _ in range(nd))
    kw: dict[str, Any] = {
        "in_channels": c_in,
        "out_channels": _pick(rng, [6, 8, 12, 16, 24, 32, 48]),
        "kernel_size": k,
        "stride": tuple(_pick(rng, [1, 1, 2, 2, 3]) for _ in range(nd)),
        "padding": tuple(_pick(rng, [0, 1, 2]) for _ in range(nd)),
        "dilation": tuple(_pick(rng, [1, 1, 1, 2]) for _ in range(nd)),
    }
    if transpose:
        kw["output_padding"] = tuple(
            _pick(rng, [0, 1]) if kw["stride"][i] > 1 and kw["dilation"][i] == 1 else 0
            for i in range(nd)
        )
    return (kind, kw)


def _pool(rng, kind: str) -> Layer:
    k = _pick(rng, [2, 3])
    s = _pick(rng, [1, 2, 2, 3])
    kw: dict[str, Any] = {
        "kernel_size": (k, k),
        "stride": (s, s),
        "padding": (_pick(rng, [0, 0, 1]),) * 2,
        "ceil_mode": bool(rng.random() < 0.5),
    }
    if kw["padding"][0] * 2 > k:
        kw["padding"] = (0, 0)
    if kind == "MaxPool2d":
        kw["dilation"] = (1, 1)
    return (kind, kw)


def _mlp(rng) -> tuple[list[int], list[Layer]]:
    b, t, f = _pick(rng, [8, 16, 32]), _pick(rng, [5, 7, 9, 12]), _pick(rng, [24, 40, 48, 56])
    h = _pick(rng, [64, 96, 128])
    layers: list[Layer] = [
        ("Linear", {"in_features": f, "out_features": h}),
        ("GELU", {}),
        ("Dropout", {"p": 0.1}),
        ("LayerNorm", {"normalized_shape": h}),
        ("Flatten", {"start_dim": 1, "end_dim": -1}),
        ("Linear", {"in_features": t * h, "out_features": _pick(rng, [10, 20, 30])}),
    ]
    return [b, t, f], layers


def _conv_stack(rng) -> tuple[list[int], list[Layer]]:
    shape = [_pick(rng, [4, 8]), 3, _pick(rng, [57, 64, 71, 96]), _pick(rng, [49, 60, 83])]
    first = list(shape)
    layers: list[Layer] = []
    for kind in (
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "MaxPool2d",
        "Conv2d",
        "ReLU",
        "AvgPool2d",
        "Conv2d",
    ):
        if kind == "Conv2d":
            layer = _conv(rng, kind, shape[1], 2)
        elif kind == "BatchNorm2d":
            layer = (kind, {"num_features": shape[1]})
        elif kind in ("MaxPool2d", "AvgPool2d"):
            layer = _pool(rng, kind)
        else:
            layer = (kind, {})
        shape = apply(layer, shape)
        layers.append(layer)
    # the stack must test ceil_mode and dilation: with them ignored, some shape differs
    floor = [
        (k, {**kw, "ceil_mode": False}) if kw.get("ceil_mode") else (k, kw) for k, kw in layers
    ]
    if output_shapes(first, floor) == output_shapes(first, layers):
        raise ValueError("no pool where ceil_mode matters")
    if all(kw.get("dilation", (1, 1)) == (1, 1) for _, kw in layers):
        raise ValueError("no dilated layer")
    return first, layers


def _mixed(rng) -> tuple[list[int], list[Layer]]:
    n, c, length = _pick(rng, [2, 4]), _pick(rng, [1, 2]), _pick(rng, [250, 301, 512])
    shape = [n, c, length]
    layers: list[Layer] = []

    def add(layer: Layer) -> None:
        nonlocal shape
        shape = apply(layer, shape)
        layers.append(layer)

    add(_conv(rng, "Conv1d", c, 1))
    add(("ReLU", {}))
    add(_conv(rng, "Conv1d", shape[1], 1))
    add(("Transpose", {"dim0": 1, "dim1": 2}))
    add(("Linear", {"in_features": shape[-1], "out_features": _pick(rng, [16, 36, 64])}))
    width = shape[-1]
    side = math.isqrt(width)
    add(("Unflatten", {"dim": 2, "unflattened_size": (side, width // side)}))
    add(("Transpose", {"dim0": 1, "dim1": 2}))
    add(_conv(rng, "ConvTranspose2d", shape[1], 2, transpose=True))
    add(_pool(rng, "MaxPool2d"))
    add(("AdaptiveAvgPool2d", {"output_size": (_pick(rng, [3, 5]), _pick(rng, [2, 4]))}))
    add(("Flatten", {"start_dim": 2, "end_dim": -1}))
    add(("Linear", {"in_features": shape[-1], "out_features": _pick(rng, [7, 11])}))
    return [n, c, length], layers


_MAKERS = {"mlp": _mlp, "conv": _conv_stack, "mixed": _mixed}


def make_stack(variant: str) -> tuple[list[int], list[Layer]]:
    """Return the variant's (input shape, layers): the first valid stack its seed draws.

    Raises:
        KeyError: an unknown variant.
    """
    rng = np.random.default_rng(SEEDS[variant])
    while True:
        try:
            shape, layers = _MAKERS[variant](rng)
            output_shapes(shape, layers)
            return shape, layers
        except ValueError:
            continue


def model_text(variant: str) -> str:
    """Return the workspace's `model.txt` of `variant`: the input shape and the printed stack."""
    shape, layers = make_stack(variant)
    lines = [f"# input: a tensor of shape {tuple(shape)}", "Sequential("]
    lines += [f"  ({i}): {describe(layer)}" for i, layer in enumerate(layers)]
    return "\n".join(lines + [")"]) + "\n"


def write_workspace(root: Path) -> None:
    """Write `workspace/<variant>/model.txt`, `reference/<variant>/answer.json` and a
    wrong `starting/<variant>/answer.json`."""
    for variant in SEEDS:
        shape, layers = make_stack(variant)
        (root / "workspace" / variant).mkdir(parents=True, exist_ok=True)
        (root / "workspace" / variant / "model.txt").write_text(model_text(variant))
        (root / "reference" / variant).mkdir(parents=True, exist_ok=True)
        answer = json.dumps(output_shapes(shape, layers))
        (root / "reference" / variant / "answer.json").write_text(answer + "\n")
        # the starting answer: every layer keeps the input shape (wrong)
        (root / "starting" / variant).mkdir(parents=True, exist_ok=True)
        start = json.dumps([shape] * len(layers))
        (root / "starting" / variant / "answer.json").write_text(start + "\n")


if __name__ == "__main__":
    write_workspace(Path(__file__).resolve().parent)
