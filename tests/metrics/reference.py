"""Brute-force NumPy references for the metrics, written with explicit loops in
float64 and independent of the library code."""

import collections
import math

import numpy as np


def calibration_bins(labels, probs, num_bins, weights=None):
    """Per-bin lists of (weight, confidence, correct), right-closed bins."""
    weights = np.ones(len(labels)) if weights is None else weights
    edges = np.linspace(0.0, 1.0, num_bins + 1).astype("float32").astype("float64")
    bins = [[] for _ in range(num_bins)]
    for label, row, weight in zip(labels, probs, weights, strict=True):
        confidence = float(np.max(row))
        predicted = int(np.argmax(row))
        index = 0
        while index < num_bins - 1 and confidence > edges[index + 1]:
            index += 1
        bins[index].append((float(weight), confidence, float(predicted == label)))
    return edges, bins


def ece_and_mce(labels, probs, num_bins, weights=None):
    _, bins = calibration_bins(labels, probs, num_bins, weights)
    total = sum(w for members in bins for w, _, _ in members)
    ece, mce = 0.0, 0.0
    for members in bins:
        count = sum(w for w, _, _ in members)
        if count == 0:
            continue
        accuracy = sum(w * c for w, _, c in members) / count
        confidence = sum(w * p for w, p, _ in members) / count
        ece += count / total * abs(accuracy - confidence)
        mce = max(mce, abs(accuracy - confidence))
    return ece, mce


def reliability(labels, probs, num_bins, weights=None):
    edges, bins = calibration_bins(labels, probs, num_bins, weights)
    accuracy, confidence, count = [], [], []
    for members in bins:
        total = sum(w for w, _, _ in members)
        count.append(total)
        accuracy.append(sum(w * c for w, _, c in members) / total if total else 0.0)
        confidence.append(sum(w * p for w, p, _ in members) / total if total else 0.0)
    return edges, np.array(accuracy), np.array(confidence), np.array(count)


def nll(labels, probs, weights=None):
    weights = np.ones(len(labels)) if weights is None else weights
    total = 0.0
    for label, row, weight in zip(labels, probs, weights, strict=True):
        total -= weight * math.log(max(float(row[label]), 1e-7))
    return total / np.sum(weights)


def brier(labels, probs, weights=None):
    weights = np.ones(len(labels)) if weights is None else weights
    total = 0.0
    for label, row, weight in zip(labels, probs, weights, strict=True):
        for k, p in enumerate(row):
            total += weight * (float(p) - float(k == label)) ** 2
    return total / np.sum(weights)


def cosine(a, b):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(a @ b / (na * nb))


def opl_s_d(features, labels, absolute):
    same, different = [], []
    n = len(labels)
    for i in range(n):
        for j in range(n):
            c = cosine(features[i], features[j])
            if labels[i] == labels[j] and i != j:
                same.append(c)
            elif labels[i] != labels[j]:
                different.append(abs(c) if absolute else c)
    s = float(np.mean(same)) if same else 0.0
    d = float(np.mean(different)) if different else 0.0
    return s, d


def compactness(features, labels):
    per_class = []
    for c in sorted(set(labels.tolist())):
        members = [i for i in range(len(labels)) if labels[i] == c]
        pairs = [
            cosine(features[i], features[j]) for i in members for j in members if i != j
        ]
        if pairs:
            per_class.append(np.mean(pairs))
    return float(np.mean(per_class)) if per_class else 0.0


def grouped_means(features, labels):
    features = np.asarray(features, "float64")
    groups = collections.defaultdict(list)
    for row, label in zip(features, labels, strict=True):
        groups[int(label)].append(row)
    return {c: np.mean(groups[c], axis=0) for c in sorted(groups)}


def separability(features, labels, normalize=False):
    features = np.asarray(features, "float64")
    if normalize:
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        features = np.where(norms > 0, features / np.where(norms > 0, norms, 1), 0)
    means = grouped_means(features, labels)
    global_mean = features.mean(axis=0)
    classes = list(means)
    cosines = [
        cosine(means[a] - global_mean, means[b] - global_mean)
        for a in classes
        for b in classes
        if a != b
    ]
    return 1.0 - float(np.mean(cosines)) if cosines else 0.0


def nc1(features, labels):
    features = np.asarray(features, "float64")
    means = grouped_means(features, labels)
    global_mean = features.mean(axis=0)
    dim = features.shape[1]
    within = np.zeros((dim, dim))
    for row, label in zip(features, labels, strict=True):
        r = row - means[int(label)]
        within += np.outer(r, r)
    within /= len(features)
    between = np.zeros((dim, dim))
    for mean in means.values():
        between += np.outer(mean - global_mean, mean - global_mean)
    between /= len(means)
    return float(np.trace(within @ np.linalg.pinv(between, rcond=1e-8)) / len(means))


def etf_distance(vectors):
    vectors = np.asarray(vectors, "float64")
    k = len(vectors)
    gram = np.array([[vectors[i] @ vectors[j] for j in range(k)] for i in range(k)])
    norm = math.sqrt(sum(g**2 for g in gram.ravel()))
    gram = gram / norm if norm > 0 else gram
    total = 0.0
    for i in range(k):
        for j in range(k):
            etf = ((1.0 if i == j else 0.0) - 1.0 / k) / math.sqrt(k - 1)
            total += (gram[i, j] - etf) ** 2
    return math.sqrt(total)


def effective_rank(features, center=True):
    features = np.asarray(features, "float64")
    if center:
        features = features - features.mean(axis=0)
    singular = np.linalg.svd(features, compute_uv=False)
    if singular.sum() == 0:
        return 0.0
    p = singular / singular.sum()
    return float(math.exp(-sum(q * math.log(q) for q in p if q > 0)))


def filter_columns(kernel, layout):
    """Filter vectors of a Keras kernel, one per output filter, by explicit indexing."""
    kernel = np.asarray(kernel, "float64")
    if layout == "dense":
        return [kernel[:, o] for o in range(kernel.shape[1])]
    if layout == "conv":
        return [kernel[..., o].ravel() for o in range(kernel.shape[-1])]
    if layout == "conv_transpose":
        return [kernel[..., o, :].ravel() for o in range(kernel.shape[-2])]
    if layout == "depthwise":
        cin, multiplier = kernel.shape[-2:]
        return [
            kernel[..., c, m].ravel() for c in range(cin) for m in range(multiplier)
        ]
    raise ValueError(layout)


def filter_measures(kernel, layout):
    columns = filter_columns(kernel, layout)
    n = len(columns)
    residual = 0.0
    normalized = 0.0
    coherence = 0.0
    for i in range(n):
        for j in range(n):
            dot = float(columns[i] @ columns[j])
            residual += (dot - (1.0 if i == j else 0.0)) ** 2
            if i != j:
                c = cosine(columns[i], columns[j])
                normalized += c**2
                coherence = max(coherence, abs(c))
    matrix = np.stack(columns, axis=1)
    sigma_max = np.linalg.norm(matrix.T @ matrix - np.eye(n), ord=2)
    return {
        "fan_in": len(columns[0]),
        "filters": n,
        "so_residual": residual,
        "normalized_so_residual": normalized,
        "mutual_coherence": coherence,
        "sigma_max": sigma_max,
    }


def conv2d_same(images, kernel, bias):
    """A stride-1 'same' 2-D convolution (cross-correlation), channels last."""
    n, h, w, _ = images.shape
    kh, kw, _, cout = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    out = np.zeros((n, h, w, cout))
    for b in range(n):
        for y in range(h):
            for x in range(w):
                for o in range(cout):
                    total = bias[o]
                    for dy in range(kh):
                        for dx in range(kw):
                            yy, xx = y + dy - top, x + dx - left
                            if 0 <= yy < h and 0 <= xx < w:
                                total += images[b, yy, xx] @ kernel[dy, dx, :, o]
                    out[b, y, x, o] = total
    return out


def bilinear_resize(image, height, width):
    """Bilinear resize with half-pixel centres and edge clamping."""
    in_h, in_w = image.shape
    out = np.zeros((height, width))
    for y in range(height):
        sy = min(max((y + 0.5) * in_h / height - 0.5, 0.0), in_h - 1)
        y0 = math.floor(sy)
        y1 = min(y0 + 1, in_h - 1)
        fy = sy - y0
        for x in range(width):
            sx = min(max((x + 0.5) * in_w / width - 0.5, 0.0), in_w - 1)
            x0 = math.floor(sx)
            x1 = min(x0 + 1, in_w - 1)
            fx = sx - x0
            out[y, x] = (
                image[y0, x0] * (1 - fy) * (1 - fx)
                + image[y0, x1] * (1 - fy) * fx
                + image[y1, x0] * fy * (1 - fx)
                + image[y1, x1] * fy * fx
            )
    return out


def largest_component_box(mask):
    """Box (x0, y0, x1, y1) of the largest 8-connected region, by flood fill.

    Ties go to the region whose last pixel in raster order comes first.
    """
    h, w = mask.shape
    seen = np.zeros_like(mask, dtype=bool)
    best = None
    for y in range(h):
        for x in range(w):
            if not mask[y, x] or seen[y, x]:
                continue
            stack, pixels = [(y, x)], []
            seen[y, x] = True
            while stack:
                cy, cx = stack.pop()
                pixels.append((cy, cx))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = cy + dy, cx + dx
                        if (
                            0 <= ny < h
                            and 0 <= nx < w
                            and mask[ny, nx]
                            and not seen[ny, nx]
                        ):
                            seen[ny, nx] = True
                            stack.append((ny, nx))
            last = max(py * w + px for py, px in pixels)
            key = (len(pixels), -last)
            if best is None or key > best[0]:
                best = (key, pixels)
    if best is None:
        return (-1, -1, -1, -1)
    ys = [p[0] for p in best[1]]
    xs = [p[1] for p in best[1]]
    return (min(xs), min(ys), max(xs), max(ys))


def iou(a, b):
    if tuple(a) == (-1, -1, -1, -1) or tuple(b) == (-1, -1, -1, -1):
        return 0.0
    pixels_a = {(x, y) for x in range(a[0], a[2] + 1) for y in range(a[1], a[3] + 1)}
    pixels_b = {(x, y) for x in range(b[0], b[2] + 1) for y in range(b[1], b[3] + 1)}
    return len(pixels_a & pixels_b) / len(pixels_a | pixels_b)
