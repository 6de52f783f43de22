"""A tiny numpy neural-network library: layers with forward/backward, a loss, SGD."""

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
