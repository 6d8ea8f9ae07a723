"""Brute-force NumPy references for the feature-loss tests (explicit loops)."""

import numpy as np


def _unit(v):
    norm = np.sqrt(np.sum(v * v))
    return v / norm if norm > 1e-12 else np.zeros_like(v)


def opl_np(features, labels, gamma=0.5, absolute="elementwise"):
    """The batch OPL value, in float64, pair by pair."""
    f = [_unit(np.asarray(row, np.float64)) for row in features]
    batch = len(f)
    pos_sum, pos_count, neg_sum, neg_count = 0.0, 0, 0.0, 0
    for i in range(batch):
        for j in range(batch):
            cos = float(np.dot(f[i], f[j]))
            if labels[i] == labels[j] and i != j:
                pos_sum += cos
                pos_count += 1
            elif labels[i] != labels[j]:
                neg_sum += abs(cos) if absolute == "elementwise" else cos
                neg_count += 1
    # The reference's float32 pair counts plus 1e-6.
    s = pos_sum / float(np.float32(pos_count) + np.float32(1e-6))
    d = neg_sum / float(np.float32(neg_count) + np.float32(1e-6))
    if absolute == "mean":
        d = abs(d)
    return (1.0 - s) + gamma * d


def os_blocks_np(features, num_blocks, squared=False):
    """Per-sample OS loss of the block reconstruction."""
    values = []
    for row in np.asarray(features, np.float64):
        blocks = [_unit(b) for b in np.split(row, num_blocks)]
        total = 0.0
        for a in range(num_blocks):
            for b in range(num_blocks):
                target = 1.0 if a == b else 0.0
                total += (np.dot(blocks[a], blocks[b]) - target) ** 2
        values.append(total if squared else np.sqrt(total))
    return np.array(values)


def os_features_np(features, squared=False):
    """The batch value of the feature-Gram variant, ||F^T F - I_D||_F."""
    rows = [_unit(r) for r in np.asarray(features, np.float64)]
    dim = len(rows[0])
    total = 0.0
    for a in range(dim):
        for b in range(dim):
            entry = sum(r[a] * r[b] for r in rows) - (1.0 if a == b else 0.0)
            total += entry**2
    return total if squared else np.sqrt(total)
