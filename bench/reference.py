#!/usr/bin/python3
"""PyTorch reference of fimprune's seed protocol, for scripts/bench.

It runs the seed notebook's protocol (docs/protocol.md) with the same
hyper-parameters as fimprune and times each phase, so that the Go numbers have
a PyTorch baseline measured on the same machine and the same data:

  MLP 96-128-64-2 (ReLU, dropout 0.2, Xavier-uniform weights, zero biases);
  Adam lr 1e-3, batch 64, shuffled, up to 50 epochs, early stopping with
  patience 10 on validation loss, best weights restored; a full model on the
  training split and a retrained one without the deletion rows; the
  per-example empirical Fisher of the 100 deletion rows, one row at a time as
  the seed does (model in eval mode); global pruning at each fraction with
  numpy's percentile threshold (keep = score <= threshold); 20 epochs of
  fine-tuning at lr 1e-4 on the retained rows with the mask re-applied after
  every step; the seed's attack (deletion rows against test rows, score =
  -cross-entropy, the best of 100 evenly spaced thresholds).

Besides the protocol it times the per-example Fisher over every training row
(the seed's per-row loop on the first rows, extrapolated; functorch's vmap;
the closed form (A∘A)ᵀ(Δ∘Δ)), one shadow model trained with the seed recipe
on half the training rows, one training epoch with two batching styles, a
batched ensemble of K shadow models stacked into single tensors (section
"ensemble"), and a short probe (section "probe": PROBE_EPOCHS epochs of the
seed recipe, validation included) with which scripts/bench picks the fastest
thread, BLAS and batching configuration for its "PyTorch (best)" column.

It does no preprocessing: it reads the arrays scripts/bench exports (so both
sides train on identical rows), from a directory holding meta.json and raw
little-endian files train_x.f32, train_y.i32, val_x.f32, val_y.i32,
test_x.f32, test_y.i32 (row-major [rows, features]) and, optionally, the
parameters the Fisher cross-check uses. Hyper-parameters come from meta.json
when present (scripts/bench writes fimprune's), else the seed's.

Output: one JSON object on stdout; progress on stderr. Its numbers:
seconds/* (wall, per phase; prune_finetune per fraction), cpu_seconds/*
(time.process_time: user + system over all threads, BLAS threads included),
epochs/*, test_accuracy/*, mia_accuracy/*, the Fisher cross-checks
(*_max_rel_diff), threads, peak_rss_mb; with torch_version, blas (the BLAS
library loaded), openblas (OpenBLAS's own report of the kernels it chose:
openblas_get_corename, openblas_get_config, openblas_get_num_threads; null
when OpenBLAS is not loaded), openblas_env (the OPENBLAS_* variables this
process saw), loader and notes (what was extrapolated or could not run).

Usage: /usr/bin/python3 bench/reference.py --data DIR [--only protocol,fisher-all,shadow,epoch,ensemble,probe]
       [--out DIR] [--threads N] [--loader dataloader|index] [--ensemble-models K] [--ensemble-epochs E]

--threads and --loader apply to every section that trains ("epoch" always
times both loaders; "ensemble" always gathers its batches by indexing, one
permutation per model). The BLAS is chosen by whoever starts the process
(LD_LIBRARY_PATH, OPENBLAS_* variables): this script only reports it.
"""

import argparse
import copy
import json
import math
import os
import platform
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The seed's recipe; meta.json's "model", "train" and "finetune" override it.
SEED_MODEL = {"inputs": 96, "hidden": [128, 64], "classes": 2, "dropout": 0.2}
SEED_TRAIN = {"learning_rate": 1e-3, "batch_size": 64, "max_epochs": 50, "patience": 10, "adam_epsilon": 1e-8}
SEED_FINETUNE = {"learning_rate": 1e-4, "batch_size": 64, "max_epochs": 20, "patience": 0, "adam_epsilon": 1e-8}

# Benchmarks this script knows; --only may name others (the Go side's), which are ignored.
# "probe" is not in the default: scripts/bench runs it on its own, in one process per configuration.
BENCHMARKS = ("protocol", "fisher-all", "shadow", "epoch", "ensemble")

# Epochs the probe times (seed recipe, validation every epoch); it reports the fastest.
PROBE_EPOCHS = 2
# The batched ensemble's defaults (--ensemble-models, --ensemble-epochs).
ENSEMBLE_MODELS = 64
ENSEMBLE_EPOCHS = 2
# Validation rows per forward pass of the batched ensemble: K × rows × 128 floats at a time.
ENSEMBLE_EVAL_ROWS = 2048
# The environment variables that steer OpenBLAS, reported in openblas_env.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OPENBLAS_VERBOSE")

# How many rows the per-row Fisher loop over all training rows is timed on
# before extrapolating (the full loop would take minutes).
FISHER_LOOP_ROWS = 2000
# Rows per vectorised Fisher call: vmap materialises rows × parameters floats.
FISHER_CHUNK_ROWS = 4096


def log(msg):
    print("reference: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def read_array(path, dtype, shape):
    a = np.fromfile(path, dtype=dtype)
    want = int(np.prod(shape))
    if a.size != want:
        raise SystemExit(f"reference: {path}: {a.size} values, meta.json says {shape}")
    return a.reshape(shape)


def load(data_dir):
    with open(os.path.join(data_dir, "meta.json")) as f:
        meta = json.load(f)
    feats = meta["features"]
    splits = {}
    for name in ("train", "val", "test"):
        rows = meta["rows"][name]
        x = read_array(os.path.join(data_dir, name + "_x.f32"), "<f4", (rows, feats))
        y = read_array(os.path.join(data_dir, name + "_y.i32"), "<i4", (rows,))
        splits[name] = (torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64)))
    params = None
    if meta.get("params_file"):
        flat = np.fromfile(os.path.join(data_dir, meta["params_file"]), dtype="<f4")
        params, off = [], 0
        for p in meta["params"]:
            n = int(np.prod(p["shape"]))
            params.append((p["name"], flat[off:off + n].reshape(p["shape"])))
            off += n
    return meta, splits, params


# ---------------------------------------------------------------- model


class MLP(nn.Module):
    def __init__(self, m):
        super().__init__()
        widths = [m["inputs"]] + list(m["hidden"]) + [m["classes"]]
        self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.drop = nn.Dropout(m["dropout"])
        for layer in self.dense:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.dense[:-1]:
            x = self.drop(F.relu(layer(x)))
        return self.dense[-1](x)

    def forward_pre_activations(self, x):
        """Logits plus every layer's input and pre-activation (eval mode, no dropout)."""
        inputs, pres = [], []
        for i, layer in enumerate(self.dense):
            inputs.append(x)
            z = layer(x)
            pres.append(z)
            x = F.relu(z) if i < len(self.dense) - 1 else z
        return x, inputs, pres


def set_params(model, params):
    """Loads fimprune's parameters ([in, out] weights, [out] biases, layer order)."""
    with torch.no_grad():
        for i, layer in enumerate(model.dense):
            layer.weight.copy_(torch.from_numpy(params[2 * i][1].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[2 * i + 1][1].copy()))


# ---------------------------------------------------------------- training


class IndexBatches:
    """Shuffled mini-batches by tensor indexing: what a DataLoader yields, without its per-row collation."""

    def __init__(self, x, y, batch, gen):
        self.x, self.y, self.batch, self.gen = x, y, batch, gen

    def __iter__(self):
        perm = torch.randperm(len(self.y), generator=self.gen)
        for i in range(0, len(perm), self.batch):
            idx = perm[i:i + self.batch]
            yield self.x[idx], self.y[idx]


def batches(x, y, batch, gen, loader):
    if loader == "dataloader":  # the usual notebook idiom (the seed's notebook itself is not in the repository)
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=True, generator=gen)
    return IndexBatches(x, y, batch, gen)


def fit(model, train, val, cfg, gen, loader, mask=None, epoch_times=None):
    """Adam with the seed's early stopping; returns the epochs run. epoch_times,
    if a list, receives each epoch's (wall, CPU) seconds, validation included."""
    x, y = train
    opt = torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"], eps=cfg["adam_epsilon"])
    patience = cfg["patience"]
    best_loss, best_state, since_best, epochs = math.inf, None, 0, 0
    for epoch in range(cfg["max_epochs"]):
        t0, cpu0 = time.perf_counter(), time.process_time()
        model.train()
        for bx, by in batches(x, y, cfg["batch_size"], gen, loader):
            opt.zero_grad()
            F.cross_entropy(model(bx), by).backward()
            opt.step()
            if mask is not None:
                with torch.no_grad():
                    for p, m in zip(model.parameters(), mask):
                        p.mul_(m)
        epochs = epoch + 1
        if patience > 0:
            vl = mean_loss(model, val)
            if vl < best_loss:
                best_loss, best_state, since_best = vl, copy.deepcopy(model.state_dict()), 0
            else:
                since_best += 1
        if epoch_times is not None:
            epoch_times.append((time.perf_counter() - t0, time.process_time() - cpu0))
        if patience > 0 and since_best >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return epochs


def mean_loss(model, data):
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(data[0]), data[1]).item()


def accuracy(model, data):
    model.eval()
    with torch.no_grad():
        return (model(data[0]).argmax(1) == data[1]).float().mean().item()


# ---------------------------------------------------------------- Fisher


def fisher_loop(model, x, y):
    """The seed's per-example empirical Fisher: one backward pass per row; sums (not means)."""
    model.eval()
    sums = [torch.zeros_like(p) for p in model.parameters()]
    for i in range(len(y)):
        model.zero_grad()
        logp = F.log_softmax(model(x[i:i + 1]), dim=1)[0, y[i]]
        logp.backward()
        for s, p in zip(sums, model.parameters()):
            s += p.grad.detach() ** 2
    return sums


def fisher_closed_form(model, x, y):
    """Σ_i g_i² per parameter from one backward pass: for z = a·Wᵀ + b, ∂ℓ_i/∂W = δ_i a_iᵀ, so Σ_i (∂ℓ_i/∂W)² = (Δ∘Δ)ᵀ(A∘A)."""
    model.eval()
    sums = [torch.zeros_like(p) for p in model.parameters()]
    for lo in range(0, len(y), FISHER_CHUNK_ROWS):
        xb, yb = x[lo:lo + FISHER_CHUNK_ROWS], y[lo:lo + FISHER_CHUNK_ROWS]
        logits, inputs, pres = model.forward_pre_activations(xb)
        loss = F.cross_entropy(logits, yb, reduction="sum")
        deltas = torch.autograd.grad(loss, pres)
        with torch.no_grad():
            for l, (a, d) in enumerate(zip(inputs, deltas)):
                d2 = d * d
                sums[2 * l] += d2.t() @ (a * a)
                sums[2 * l + 1] += d2.sum(0)
    return sums


def fisher_vmap_fn(model):
    """functorch's per-example gradients, or None where this torch build lacks functorch."""
    try:
        from functorch import grad, make_functional, vmap
    except ImportError:
        return None
    fmodel, params = make_functional(model)

    def logp(params, x, y):
        # Not log_softmax(...)[0, y]: indexing by a batched tensor is data-dependent
        # control flow, which functorch 1.13's vmap refuses.
        return -F.cross_entropy(fmodel(params, x.unsqueeze(0)), y.unsqueeze(0))

    per_example = vmap(grad(logp), in_dims=(None, 0, 0))

    def run(x, y):
        sums = [torch.zeros_like(p) for p in params]
        for lo in range(0, len(y), FISHER_CHUNK_ROWS):
            grads = per_example(params, x[lo:lo + FISHER_CHUNK_ROWS], y[lo:lo + FISHER_CHUNK_ROWS])
            for s, g in zip(sums, grads):
                s += (g.detach() ** 2).sum(0)
        return sums

    return run


def best_of(n, fn):
    """Best wall time of n calls, and the last call's result."""
    best, out = math.inf, None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def max_rel_diff(a, b):
    """Largest |a−b| relative to the largest |b| of the tensor, over all tensors."""
    worst = 0.0
    for u, v in zip(a, b):
        scale = v.abs().max().item() or 1.0
        worst = max(worst, (u - v).abs().max().item() / scale)
    return worst


# ---------------------------------------------------------------- protocol


def prune_mask(scores, fraction):
    """The seed's global rule: threshold = the (1−f) percentile of all scores (numpy linear), keep score ≤ threshold."""
    flat = np.concatenate([s.detach().numpy().ravel() for s in scores])
    threshold = np.percentile(flat, (1 - fraction) * 100)
    return [(s <= threshold).float() for s in scores]


def mia_accuracy(model, members, non_members):
    """The seed's attack: score = −cross-entropy, best accuracy over 100 thresholds between min and max score."""
    model.eval()
    with torch.no_grad():
        sm = -F.cross_entropy(model(members[0]), members[1], reduction="none").numpy()
        sn = -F.cross_entropy(model(non_members[0]), non_members[1], reduction="none").numpy()
    scores = np.concatenate([sm, sn])
    truth = np.concatenate([np.ones(len(sm)), np.zeros(len(sn))])
    best = 0.0
    for t in np.linspace(scores.min(), scores.max(), 100):
        best = max(best, float(((scores >= t) == truth).mean()))
    return best


def run_protocol(meta, splits, hp, seed, loader, out):
    secs, epochs, acc, mia = out["seconds"], out["epochs"], out["test_accuracy"], out["mia_accuracy"]
    t_start, cpu_start = time.perf_counter(), time.process_time()
    train, val, test = splits["train"], splits["val"], splits["test"]
    deletion_idx = torch.tensor(meta["deletion_rows"], dtype=torch.long)
    keep = torch.ones(len(train[1]), dtype=torch.bool)
    keep[deletion_idx] = False
    deletion = (train[0][deletion_idx], train[1][deletion_idx])
    retained = (train[0][keep], train[1][keep])
    if meta.get("non_member_rows"):
        nm_idx = torch.tensor(meta["non_member_rows"], dtype=torch.long)
    else:
        nm_idx = torch.from_numpy(np.random.default_rng(seed).choice(len(test[1]), 100, replace=False))
    non_members = (test[0][nm_idx], test[1][nm_idx])
    mia_secs = 0.0

    def attack(name, model):
        nonlocal mia_secs
        t0 = time.perf_counter()
        mia[name] = mia_accuracy(model, deletion, non_members)
        mia_secs += time.perf_counter() - t0

    models = {}
    for name, rows, s in (("full", train, seed), ("retrain", retained, seed + 1)):
        torch.manual_seed(s)
        gen = torch.Generator().manual_seed(s)
        model = MLP(hp["model"])
        t0 = time.perf_counter()
        epochs[name] = fit(model, rows, val, hp["train"], gen, loader)
        secs["train_" + name] = time.perf_counter() - t0
        acc[name] = accuracy(model, test)
        attack(name, model)
        models[name] = model
        log(f"{name}: {epochs[name]} epochs, test accuracy {acc[name]:.4f}, {secs['train_' + name]:.1f}s")

    full = models["full"]
    t0 = time.perf_counter()
    scores = [s / len(deletion[1]) for s in fisher_loop(full, *deletion)]
    secs["fisher_deletion"] = time.perf_counter() - t0
    log(f"fisher over {len(deletion[1])} deletion rows (per-row loop): {secs['fisher_deletion']:.3f}s")

    secs["prune_finetune"], out["accuracy_before_finetune"] = {}, {}
    for i, f in enumerate(meta["fractions"]):
        key = fraction_key(f)
        s = seed + 10 + i
        torch.manual_seed(s)
        gen = torch.Generator().manual_seed(s)
        t0 = time.perf_counter()
        model = copy.deepcopy(full)
        mask = prune_mask(scores, f)
        with torch.no_grad():
            for p, m in zip(model.parameters(), mask):
                p.mul_(m)
        prune_secs = time.perf_counter() - t0
        out["accuracy_before_finetune"][key] = accuracy(model, test)
        t0 = time.perf_counter()
        fit(model, retained, None, hp["finetune"], gen, loader, mask)
        secs["prune_finetune"][key] = prune_secs + time.perf_counter() - t0
        acc["pruned_" + key] = accuracy(model, test)
        attack("pruned_" + key, model)
        pruned = int(sum((m == 0).sum().item() for m in mask))
        log(f"pruned {key}: {pruned} parameters, accuracy {out['accuracy_before_finetune'][key]:.4f} before fine-tuning, "
            f"{acc['pruned_' + key]:.4f} after, {secs['prune_finetune'][key]:.1f}s")
    secs["mia"] = mia_secs
    secs["total_protocol"] = secs["load"] + time.perf_counter() - t_start
    out["cpu_seconds"]["total_protocol"] = out["cpu_seconds"]["load"] + time.process_time() - cpu_start
    return full


def fraction_key(f):
    """The shortest decimal of f, as Go's strconv.FormatFloat(f, 'g', -1, 64) writes it for these fractions."""
    return repr(float(f))


def run_fisher_all(splits, params, hp, seed, out_dir, out):
    secs = out["seconds"]
    x, y = splits["train"]
    rows = len(y)
    torch.manual_seed(seed + 100)
    model = MLP(hp["model"])
    if params is not None:
        set_params(model, params)  # the Go side's parameters, for the cross-check
    model.eval()

    loop_rows = min(FISHER_LOOP_ROWS, rows)
    fisher_loop(model, x[:20], y[:20])  # warm-up
    t0 = time.perf_counter()
    loop_sums = fisher_loop(model, x[:loop_rows], y[:loop_rows])
    measured = time.perf_counter() - t0
    secs["fisher_all_loop_measured"] = measured
    secs["fisher_all_loop_extrapolated"] = measured * rows / loop_rows
    out["fisher_all_rows"], out["fisher_all_loop_rows"] = rows, loop_rows
    log(f"fisher per-row loop: {loop_rows} rows in {measured:.2f}s; extrapolated to {rows} rows: {measured * rows / loop_rows:.1f}s")

    fisher_closed_form(model, x[:64], y[:64])  # warm-up
    secs["fisher_all_closed_form"], closed = best_of(3, lambda: fisher_closed_form(model, x, y))
    vectorised = {"closed_form": secs["fisher_all_closed_form"]}
    # The loop and the closed form must agree on the rows both saw.
    out["fisher_loop_vs_closed_form_max_rel_diff"] = max_rel_diff(loop_sums, fisher_closed_form(model, x[:loop_rows], y[:loop_rows]))

    vmap_run = fisher_vmap_fn(model)
    if vmap_run is None:
        out["notes"].append("functorch is not importable in this torch build: no vmap timing")
    else:
        try:
            vmap_run(x[:64], y[:64])  # warm-up
            secs["fisher_all_vmap"], vm = best_of(3, lambda: vmap_run(x, y))
            vectorised["vmap"] = secs["fisher_all_vmap"]
            out["fisher_vmap_vs_closed_form_max_rel_diff"] = max_rel_diff(vm, closed)
        except Exception as e:  # functorch 1.13 is a beta: report, do not fail the run
            out["notes"].append(f"functorch vmap failed: {type(e).__name__}: {e}")
    method = min(vectorised, key=vectorised.get)
    secs["fisher_all_vectorised"] = vectorised[method]
    out["fisher_all_vectorised_method"] = method
    log("fisher vectorised over %d rows: %s" % (rows, ", ".join(f"{k} {v:.3f}s" for k, v in vectorised.items())))
    out["notes"].append(f"fisher_all_loop_extrapolated times the per-row loop on the first {loop_rows} of {rows} "
                        f"training rows and scales it by {rows}/{loop_rows}")

    if params is not None and out_dir:
        # Means in fimprune's layout ([in, out] weights), for the Go side to compare with its own.
        flat = []
        for i, s in enumerate(closed):
            v = (s / rows).numpy()
            flat.append((v.T if i % 2 == 0 else v).ravel())
        path = os.path.join(out_dir, "fisher_all.f32")
        np.concatenate(flat).astype("<f4").tofile(path)
        out["fisher_all_file"] = path


def run_shadow(meta, splits, hp, seed, loader, out):
    x, y = splits["train"]
    idx = shadow_rows(meta, y, seed)
    torch.manual_seed(seed + 200)
    gen = torch.Generator().manual_seed(seed + 200)
    model = MLP(hp["model"])
    t0, cpu0 = time.perf_counter(), time.process_time()
    out["epochs"]["shadow"] = fit(model, (x[idx], y[idx]), splits["val"], hp["train"], gen, loader)
    out["seconds"]["shadow_one"] = time.perf_counter() - t0
    out["cpu_seconds"]["shadow_one"] = time.process_time() - cpu0
    out["test_accuracy"]["shadow"] = accuracy(model, splits["test"])
    out["shadow_rows"] = len(idx)
    log(f"shadow model on {len(idx)} rows: {out['epochs']['shadow']} epochs, {out['seconds']['shadow_one']:.1f}s, "
        f"test accuracy {out['test_accuracy']['shadow']:.4f}")


def run_epoch(splits, hp, seed, out):
    """One training epoch at the training batch size, with each batching style."""
    cfg = dict(hp["train"], max_epochs=1, patience=0)
    for loader in ("dataloader", "index"):
        torch.manual_seed(seed + 300)
        gen = torch.Generator().manual_seed(seed + 300)
        model = MLP(hp["model"])
        t0, cpu0 = time.perf_counter(), time.process_time()
        fit(model, splits["train"], None, cfg, gen, loader)
        out["seconds"]["epoch_" + loader] = time.perf_counter() - t0
        out["cpu_seconds"]["epoch_" + loader] = time.process_time() - cpu0
        log(f"one epoch ({loader}): {out['seconds']['epoch_' + loader]:.2f}s")


def shadow_rows(meta, y, seed):
    """The exported shadow half (positions in the training split), else a random half."""
    idx = meta.get("shadow_rows")
    if idx:
        return torch.tensor(idx, dtype=torch.long)
    return torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:len(y) // 2]


class StackedMLP:
    """K MLPs of one architecture as single tensors: weights [K, in, out] and
    biases [K, 1, out] per layer, so that a layer of all K models is one
    torch.baddbmm. Each model has its own Xavier-uniform draw (the bound
    depends only on the layer's widths, so one uniform draw over [K, in, out]
    is K independent ones), zero biases, and, in training, its own dropout
    masks (F.dropout draws every element independently)."""

    def __init__(self, m, k):
        widths = [m["inputs"]] + list(m["hidden"]) + [m["classes"]]
        self.k, self.dropout = k, m["dropout"]
        self.weights, self.biases = [], []
        for a, b in zip(widths[:-1], widths[1:]):
            bound = math.sqrt(6.0 / (a + b))  # nn.init.xavier_uniform_ with gain 1
            self.weights.append(torch.empty(k, a, b).uniform_(-bound, bound).requires_grad_())
            self.biases.append(torch.zeros(k, 1, b, requires_grad=True))

    def parameters(self):
        return self.weights + self.biases

    def forward(self, x, train):
        """Logits [K, rows, classes] of x: [K, rows, in] (each model its own rows) or [rows, in] (shared)."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w) if x.dim() == 3 else torch.matmul(x, w) + b
            if i < last:
                x = F.relu(x)
                if train:
                    x = F.dropout(x, self.dropout, training=True)
        return x

    def eval_per_model(self, data, fn):
        """fn(logits [K, rows, classes], y) summed over row chunks, per model (no dropout, no gradients)."""
        x, y = data
        total = None
        with torch.no_grad():
            for lo in range(0, len(y), ENSEMBLE_EVAL_ROWS):
                v = fn(self.forward(x[lo:lo + ENSEMBLE_EVAL_ROWS], False), y[lo:lo + ENSEMBLE_EVAL_ROWS])
                total = v if total is None else total + v
        return total

    def mean_losses(self, data):
        """Each model's mean cross-entropy over data: [K]."""
        def summed(logits, y):
            k, n, c = logits.shape
            return F.cross_entropy(logits.reshape(k * n, c), y.repeat(k), reduction="none").view(k, n).sum(1)
        return self.eval_per_model(data, summed) / len(data[1])

    def accuracies(self, data):
        """Each model's accuracy on data: [K]."""
        return self.eval_per_model(data, lambda logits, y: (logits.argmax(2) == y).float().sum(1)) / len(data[1])


def run_ensemble(meta, splits, hp, seed, k, epochs, out):
    """K shadow models of the seed recipe trained as one batched model on the
    shadow half: one Adam over the stacked tensors (element-wise, so it is K
    independent Adams with the same hyper-parameters; the loss is the sum of
    the K models' mean losses, so each model's gradient is its own), each
    model with its own permutation of the rows every epoch (gathered as
    x[perm] into [K, batch, in]) and its own dropout masks. It trains a fixed
    number of epochs without early stopping, but computes every model's
    validation loss each epoch and keeps each model's best parameters, as the
    recipe does, inside the timing."""
    x, y = splits["train"]
    idx = shadow_rows(meta, y, seed)
    xs, ys = x[idx], y[idx]
    n, cfg = len(ys), hp["train"]
    batch, classes = cfg["batch_size"], hp["model"]["classes"]
    torch.manual_seed(seed + 600)
    gen = torch.Generator().manual_seed(seed + 600)
    model = StackedMLP(hp["model"], k)
    params = model.parameters()
    opt = torch.optim.Adam(params, lr=cfg["learning_rate"], eps=cfg["adam_epsilon"])
    best_loss = torch.full((k,), math.inf)
    best = [p.detach().clone() for p in params]
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        perms = torch.argsort(torch.rand(k, n, generator=gen), dim=1)  # one permutation per model
        for lo in range(0, n, batch):
            bi = perms[:, lo:lo + batch]
            bx, by = xs[bi], ys[bi]  # [K, b, in], [K, b]
            opt.zero_grad()
            logits = model.forward(bx, True)
            rows = by.shape[1]
            loss = F.cross_entropy(logits.reshape(k * rows, classes), by.reshape(k * rows), reduction="none").view(k, rows).mean(1).sum()
            loss.backward()
            opt.step()
        vl = model.mean_losses(splits["val"])
        improved = vl < best_loss
        best_loss = torch.where(improved, vl, best_loss)
        with torch.no_grad():
            for b, p in zip(best, params):
                b.copy_(torch.where(improved.view(-1, 1, 1), p, b))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    with torch.no_grad():
        for b, p in zip(best, params):
            p.copy_(b)
    acc = model.accuracies(splits["test"])
    out["seconds"]["ensemble"], out["cpu_seconds"]["ensemble"] = wall, cpu
    out["seconds"]["ensemble_per_model_epoch"] = wall / (k * epochs)
    out["cpu_seconds"]["ensemble_per_model_epoch"] = cpu / (k * epochs)
    out["ensemble"] = {"models": k, "epochs": epochs, "rows": n}
    out["test_accuracy"]["ensemble_mean"] = acc.mean().item()
    out["test_accuracy"]["ensemble_min"] = acc.min().item()
    log(f"batched ensemble: {k} models × {epochs} epochs on {n} rows: {wall:.1f}s "
        f"({wall / (k * epochs):.4f}s per model-epoch), mean test accuracy {acc.mean().item():.4f}")


def run_probe(splits, hp, seed, loader, out):
    """PROBE_EPOCHS epochs of the seed recipe on the training split (batch 64,
    validation loss every epoch and a state copy when it improves, never stopping early),
    each timed; the fastest is the probe's figure. The protocol is mostly
    such epochs, so the configuration fastest here is the one to run it with."""
    cfg = dict(hp["train"], max_epochs=PROBE_EPOCHS, patience=PROBE_EPOCHS + 1)
    torch.manual_seed(seed + 700)
    gen = torch.Generator().manual_seed(seed + 700)
    times = []
    fit(MLP(hp["model"]), splits["train"], splits["val"], cfg, gen, loader, epoch_times=times)
    out["probe"] = {"epochs": len(times), "epoch_seconds": [t[0] for t in times], "epoch_cpu_seconds": [t[1] for t in times]}
    fastest = min(range(len(times)), key=lambda i: times[i][0])
    out["seconds"]["probe_epoch"], out["cpu_seconds"]["probe_epoch"] = times[fastest]
    log("probe (%s, %d threads): %s" % (loader, torch.get_num_threads(), ", ".join(f"{t[0]:.3f}s" for t in times)))


def blas_library():
    """The BLAS this process loaded, with its kind: Debian's python3-torch calls whatever libblas.so.3 resolves to."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/libblas" in line}
    except OSError:
        return "unknown"
    if not paths:
        return "none loaded"
    path = ", ".join(sorted(paths))
    if "openblas" in path:
        return "OpenBLAS: " + path
    if "/blas/" in path:
        return "netlib reference BLAS: " + path
    return path


def openblas_info():
    """What OpenBLAS itself says about the kernels it chose (core name, build
    config, threads), through ctypes on the loaded library; None when this
    process has no OpenBLAS. OPENBLAS_CORETYPE, if set, overrides its CPU
    detection, and openblas_get_corename shows the outcome."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
    except OSError:
        return None
    # The library proper first (libopenblas*.so), then the libblas.so.3 shim that links it.
    for path in sorted(paths, key=lambda p: (0 if os.path.basename(p).startswith("libopenblas") else 1, p)):
        try:
            lib = ctypes.CDLL(path)
            corename, config = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        corename.restype = config.restype = ctypes.c_char_p
        return {"library": path, "corename": corename().decode(), "config": config().decode(),
                "num_threads": lib.openblas_get_num_threads()}
    return None


def peak_rss_mb():
    """This process's peak resident set size in MB. getrusage's ru_maxrss
    is not used: Linux carries it across execve, so a child started by a
    larger parent (the Go harness) reports the parent's peak; VmHWM in
    /proc/self/status belongs to this process image alone."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="directory written by scripts/bench (meta.json and the .f32/.i32 arrays)")
    ap.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmarks (also: probe); unknown names are ignored")
    ap.add_argument("--out", default="", help="directory for files the Go side reads back (the Fisher cross-check)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves PyTorch's default")
    ap.add_argument("--loader", choices=("dataloader", "index"), default="dataloader",
                    help="batching for training (protocol, shadow, probe): a DataLoader over a TensorDataset, or tensor indexing")
    ap.add_argument("--ensemble-models", type=int, default=ENSEMBLE_MODELS, help="K, the models of the batched ensemble")
    ap.add_argument("--ensemble-epochs", type=int, default=ENSEMBLE_EPOCHS, help="epochs the batched ensemble is timed for (no early stopping)")
    args = ap.parse_args()
    if args.ensemble_models < 1 or args.ensemble_epochs < 1:
        ap.error("--ensemble-models and --ensemble-epochs must be at least 1")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    t0, cpu0 = time.perf_counter(), time.process_time()
    meta, splits, params = load(args.data)
    load_secs, load_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    hp = {"model": dict(SEED_MODEL, **meta.get("model", {})),
          "train": dict(SEED_TRAIN, **meta.get("train", {})),
          "finetune": dict(SEED_FINETUNE, **meta.get("finetune", {}))}
    seed = int(meta.get("seed", 42))
    out = {
        "torch_version": torch.__version__, "numpy_version": np.__version__, "python_version": platform.python_version(),
        "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "loader": args.loader, "hyper_parameters": hp,
        "openblas_env": {k: os.environ[k] for k in OPENBLAS_VARIABLES if k in os.environ},
        # cpu_seconds: time.process_time(), user + system over all threads (BLAS threads included).
        "seconds": {"load": load_secs}, "cpu_seconds": {"load": load_cpu}, "epochs": {}, "test_accuracy": {}, "mia_accuracy": {}, "notes": [],
    }
    log(f"torch {torch.__version__}, {out['threads']} threads, loader {args.loader}; "
        f"train {len(splits['train'][1])}, val {len(splits['val'][1])}, test {len(splits['test'][1])} rows")
    if "protocol" in only:
        run_protocol(meta, splits, hp, seed, args.loader, out)
    if "fisher-all" in only:
        run_fisher_all(splits, params, hp, seed, args.out, out)
    if "shadow" in only:
        run_shadow(meta, splits, hp, seed, args.loader, out)
    if "epoch" in only:
        run_epoch(splits, hp, seed, out)
    if "ensemble" in only:
        run_ensemble(meta, splits, hp, seed, args.ensemble_models, args.ensemble_epochs, out)
    if "probe" in only:
        run_probe(splits, hp, seed, args.loader, out)
    out["blas"] = blas_library()
    out["openblas"] = openblas_info()
    out["peak_rss_mb"] = peak_rss_mb()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
