"""Train a two-layer MLP classifier; see SPEC.md for exactly what fit() must do."""

import numpy as np
from nn import SGD, Linear, ReLU, Sequential, softmax_cross_entropy

HIDDEN = 24
LR = 0.05
MOMENTUM = 0.9
BATCH = 32
EPOCHS = 12


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
    return {"mean": mean, "std": std, "W1": W1, "b1": b1, "W2": W2, "b2": b2,
            "best_val_acc": np.array(best_acc)}
