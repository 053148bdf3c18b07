"""The benchmark networks in plain PyTorch (imported only when torch is).

The same architecture as ``CNNClassifier``: per block a 3x3 convolution,
ReLU and 2x2 max pooling that keeps partial windows (``ceil_mode=True``);
then dense ReLU layers and a linear output trained on the cross-entropy with
Adam. The L2 penalty ``0.5 * alpha * ||w||^2 / batch`` on the weights (not the
biases) is Adam's coupled ``weight_decay = alpha / batch`` on the weights.
"""

import torch
from torch import nn


def make_net(image_size, filters, hidden, n_classes, dtype):
    """``nn.Sequential`` for square one-channel images."""
    layers, channels, size = [], 1, image_size
    for f in filters:
        layers += [
            nn.Conv2d(channels, f, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        ]
        channels, size = f, -(-(size - 2) // 2)
    layers.append(nn.Flatten())
    n_in = channels * size * size
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    layers.append(nn.Linear(n_in, n_classes))
    return nn.Sequential(*layers).to(dtype)


def make_optimizer(net, lr, alpha, batch_size):
    """Adam with the L2 penalty on the weights only."""
    weights = [p for p in net.parameters() if p.ndim > 1]
    biases = [p for p in net.parameters() if p.ndim == 1]
    groups = [
        {"params": weights, "weight_decay": alpha / batch_size},
        {"params": biases, "weight_decay": 0.0},
    ]
    return torch.optim.Adam(groups, lr=lr)


def train_epoch(net, optimizer, X, y, batch_size):
    """One shuffled pass of mini-batches over ``X`` (n, 1, H, W), ``y`` (n,)."""
    net.train()
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        idx = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        optimizer.step()


def predict_proba(net, X, batch_size):
    """Softmax outputs of ``X`` (n, 1, H, W) in chunks of ``batch_size``."""
    net.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            out.append(torch.softmax(net(X[start : start + batch_size]), dim=1))
    return torch.cat(out)
