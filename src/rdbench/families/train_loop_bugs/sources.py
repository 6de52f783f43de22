"""The correct training code of train_loop_bugs, its catalogue of bugs, and the variants.

`correct_sources(variant)` returns the right `nn.py` and `train.py` (with the variant's
constants); `buggy_sources(variant)` applies the variant's bugs (exact text substitutions,
each checked to apply once). `build.py` writes them into `starting/` and `reference/`.
"""

from __future__ import annotations

from typing import Any

NN_PY = '''"""A tiny numpy neural-network library: layers with forward/backward, a loss, SGD."""

import numpy as np


class Param:
    """A trainable array and the gradient accumulated into it."""

    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)


class Linear:
    """y = x @ W + b, He-normal initialised from `rng` (W first; b starts at 0)."""

    def __init__(self, n_in, n_out, rng):
        self.W = Param(rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)))
        self.b = Param(np.zeros(n_out))

    def params(self):
        return [self.W, self.b]

    def forward(self, x):
        self.x = x
        return x @ self.W.value + self.b.value

    def backward(self, g):
        self.W.grad += self.x.T @ g
        self.b.grad += g.sum(axis=0)
        return g @ self.W.value.T


class ReLU:
    def params(self):
        return []

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, g):
        return g * self.mask


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def params(self):
        return [p for layer in self.layers for p in layer.params()]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g):
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g


def softmax_cross_entropy(logits, y):
    """Return (mean cross-entropy of integer labels y, d loss / d logits)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y] + 1e-12).mean()
    grad = p.copy()
    grad[np.arange(n), y] -= 1.0
    return loss, grad / n


class SGD:
    """SGD with momentum: v <- momentum * v + grad; value <- value - lr * v."""

    def __init__(self, params, lr, momentum):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.velocity = [np.zeros_like(p.value) for p in params]

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v += p.grad
            p.value -= self.lr * v
'''

TRAIN_PY = '''"""Train a two-layer MLP classifier; see SPEC.md for exactly what fit() must do."""

import numpy as np
from nn import SGD, Linear, ReLU, Sequential, softmax_cross_entropy

HIDDEN = {hidden}
LR = {lr}
MOMENTUM = {momentum}
BATCH = {batch}
EPOCHS = {epochs}


def accuracy(model, X, y):
    return float((model.forward(X).argmax(axis=1) == y).mean())


def fit(X_train, y_train, X_val, y_val, seed):
    """Train on (X_train, y_train), select the epoch by accuracy on (X_val, y_val).

    Returns a dict of numpy arrays: mean, std (the standardisation), W1, b1, W2, b2 (the
    selected epoch's parameters) and best_val_acc.
    """
    rng = np.random.default_rng(seed)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    Xt = (X_train - mean) / std
    Xv = (X_val - mean) / std
    n_classes = int(max(y_train.max(), y_val.max())) + 1
    first = Linear(Xt.shape[1], HIDDEN, rng)
    second = Linear(HIDDEN, n_classes, rng)
    model = Sequential([first, ReLU(), second])
    opt = SGD(model.params(), lr=LR, momentum=MOMENTUM)
    best_acc, best = -1.0, None
    for epoch in range(EPOCHS):
        perm = rng.permutation(len(Xt))
        for start in range(0, len(Xt), BATCH):
            idx = perm[start:start + BATCH]
            xb, yb = Xt[idx], y_train[idx]
            opt.zero_grad()
            _, g = softmax_cross_entropy(model.forward(xb), yb)
            model.backward(g)
            opt.step()
        acc = accuracy(model, Xv, y_val)
        if acc > best_acc:
            best_acc = acc
            best = [p.value.copy() for p in model.params()]
    W1, b1, W2, b2 = best
    return {{"mean": mean, "std": std, "W1": W1, "b1": b1, "W2": W2, "b2": b2,
            "best_val_acc": np.array(best_acc)}}
'''

#: bug name -> (file, correct text, buggy text). Each must occur exactly once.
BUGS: dict[str, tuple[str, str, str]] = {
    "zero_grad": ("train.py", "            opt.zero_grad()\n", ""),
    "reduction": ("nn.py", "    return loss, grad / n\n", "    return loss, grad\n"),
    "leak": (
        "train.py",
        "    mean = X_train.mean(axis=0)\n    std = X_train.std(axis=0)\n",
        (
            "    stats = np.concatenate([X_train, X_val])\n"
            "    mean = stats.mean(axis=0)\n    std = stats.std(axis=0)\n"
        ),
    ),
    "nan_std": ("train.py", "    std[std == 0] = 1.0\n", ""),
    "shuffle": (
        "train.py",
        "xb, yb = Xt[idx], y_train[idx]",
        "xb, yb = Xt[idx], y_train[start:start + BATCH]",
    ),
    "bias_mean": ("nn.py", "self.b.grad += g.sum(axis=0)", "self.b.grad += g.mean(axis=0)"),
    "relu": ("nn.py", "        return g * self.mask\n", "        return g * (g > 0)\n"),
    "momentum": (
        "nn.py",
        "            v *= self.momentum\n            v += p.grad\n",
        "            v = self.momentum * v + p.grad\n",
    ),
    "drop_last": (
        "train.py",
        "for start in range(0, len(Xt), BATCH):",
        "for start in range(0, len(Xt) - BATCH + 1, BATCH):",
    ),
    "selection": ("train.py", "        if acc > best_acc:\n", "        if acc >= best_acc:\n"),
}

#: variant -> human minutes, bugs, constants (the twist: each variant trains differently).
VARIANTS: dict[str, dict[str, Any]] = {
    "zero_grad": {
        "minutes": 20.0,
        "bugs": ["zero_grad"],
        "const": {"hidden": 24, "lr": 0.05, "momentum": 0.9, "batch": 32, "epochs": 12},
    },
    "nan": {
        "minutes": 25.0,
        "bugs": ["nan_std"],
        "const": {"hidden": 20, "lr": 0.1, "momentum": 0.8, "batch": 40, "epochs": 10},
    },
    "reduction": {
        "minutes": 30.0,
        "bugs": ["reduction"],
        "const": {"hidden": 32, "lr": 0.08, "momentum": 0.85, "batch": 48, "epochs": 10},
    },
    "leak": {
        "minutes": 40.0,
        "bugs": ["leak"],
        "const": {"hidden": 16, "lr": 0.1, "momentum": 0.9, "batch": 36, "epochs": 12},
    },
    "shuffle_bias": {
        "minutes": 75.0,
        "bugs": ["shuffle", "bias_mean"],
        "const": {"hidden": 28, "lr": 0.06, "momentum": 0.9, "batch": 30, "epochs": 12},
    },
    "three_bugs": {
        "minutes": 120.0,
        "bugs": ["momentum", "relu", "drop_last"],
        "const": {"hidden": 20, "lr": 0.05, "momentum": 0.9, "batch": 44, "epochs": 10},
    },
    "five_bugs": {
        "minutes": 180.0,
        "bugs": ["zero_grad", "leak", "relu", "drop_last", "nan_std"],
        "const": {"hidden": 24, "lr": 0.07, "momentum": 0.85, "batch": 34, "epochs": 12},
    },
    "gauntlet": {
        "minutes": 300.0,
        "bugs": list(BUGS),
        "const": {"hidden": 30, "lr": 0.04, "momentum": 0.9, "batch": 38, "epochs": 14},
    },
}


def correct_sources(variant: str) -> dict[str, str]:
    """Return {file name: text} of the correct code of `variant`."""
    return {"nn.py": NN_PY, "train.py": TRAIN_PY.format(**VARIANTS[variant]["const"])}


def buggy_sources(variant: str) -> dict[str, str]:
    """Return {file name: text} of `variant`'s starting code (its bugs applied).

    Raises:
        ValueError: a bug's correct text does not occur exactly once.
    """
    files = correct_sources(variant)
    for bug in VARIANTS[variant]["bugs"]:
        name, good, bad = BUGS[bug]
        if files[name].count(good) != 1:
            raise ValueError(f"bug {bug}: its text occurs {files[name].count(good)} times")
        files[name] = files[name].replace(good, bad)
    return files
