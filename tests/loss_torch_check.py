# Cross-check of the loss kernels with -inf masks against PyTorch (1.13, Debian's python3-torch):
#  - cross-entropy with hard labels: torch.nn.functional.cross_entropy on the full rows, -inf
#    entries included (PyTorch treats them as classes of probability 0), with and without
#    class weights, ignore_index (the default and a class index), every reduction;
#  - cross-entropy with probability targets and LogitNorm (both target kinds): the official
#    composition (z / (tau (||z|| + 1e-7)), then F.cross_entropy) on each row with its masked
#    columns removed, the row losses reduced as the library documents (MEAN: sum of w_y over
#    non-ignored rows for labels, n for targets), and autograd's gradient scattered back with
#    0 at the masked columns (PyTorch on the full row would give NaN: 0 * log 0);
# in f32 and f64, flat and padded leading dimensions (padding holds NaN, which must not be
# read), no label smoothing (PyTorch gives inf for smoothing over a masked class). PyTorch runs
# in float64 on the values the library sees; tolerances are 1e-4 (f32) and 1e-10 (f64) of the
# compared quantity's scale, far below the O(1) error of a wrong rule.
# Usage: python3 loss_torch_check.py path/to/liblogitnorm.so   (exit 77: skipped)
import ctypes
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("SKIP: PyTorch or numpy not importable (%s); install python3-torch" % e)
    sys.exit(77)

lib = ctypes.CDLL(sys.argv[1])
P, I64, I32, D, FL = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_double, ctypes.c_float
lib.logitnorm_loss_create.argtypes = [ctypes.POINTER(P), ctypes.c_int, I64]
lib.logitnorm_loss_set.argtypes = [P, ctypes.c_int, D]
lib.logitnorm_loss_set_class_weights.argtypes = [P, P]
lib.logitnorm_loss_free.argtypes = [P]
lib.logitnorm_last_error.restype = ctypes.c_char_p
for t, T in (("f32", FL), ("f64", D)):
    getattr(lib, "logitnorm_loss_forward_backward_" + t).argtypes = [P, I64, P, I64, P, P, P, T, T, P, I64]
    getattr(lib, "logitnorm_loss_forward_backward_soft_" + t).argtypes = [P, I64, P, I64, P, I64, P, P, T, T, P, I64]
TEMPERATURE, REDUCTION, IGNORE_INDEX = 100, 102, 104
MEAN, SUM, NONE = 0, 1, 2
TAU, EPS = 0.04, 1e-7


def ptr(a):
    return a.ctypes.data_as(P)


def run_library(kind, f64, soft, z, ld, y, t, w, red, ignore):
    """forward_backward (alpha 1, beta 0) on rows of leading dimension ld; returns loss, rows, grad."""
    n, C = z.shape
    dt = np.float64 if f64 else np.float32
    zp = np.full((n, ld), np.nan, dtype=dt)
    zp[:, :C] = z
    h = P()
    assert lib.logitnorm_loss_create(ctypes.byref(h), kind, C) == 0
    if kind == 1:
        assert lib.logitnorm_loss_set(h, TEMPERATURE, TAU) == 0
    assert lib.logitnorm_loss_set(h, REDUCTION, red) == 0
    assert lib.logitnorm_loss_set(h, IGNORE_INDEX, ignore) == 0
    if w is not None:
        wf = np.ascontiguousarray(w, dtype=np.float32)
        assert lib.logitnorm_loss_set_class_weights(h, ptr(wf)) == 0
    loss = D(np.nan)
    rows = np.full(n, np.nan, dtype=dt)
    grad = np.full((n, ld), 7.0, dtype=dt)
    sfx = "f64" if f64 else "f32"
    if soft:
        tp = np.full((n, ld), np.nan, dtype=dt)
        tp[:, :C] = t
        st = getattr(lib, "logitnorm_loss_forward_backward_soft_" + sfx)(
            h, n, ptr(zp), ld, ptr(tp), ld, ctypes.byref(loss), ptr(rows), 1.0, 0.0, ptr(grad), ld)
    else:
        yy = np.ascontiguousarray(y, dtype=np.int32)
        st = getattr(lib, "logitnorm_loss_forward_backward_" + sfx)(
            h, n, ptr(zp), ld, ptr(yy), ctypes.byref(loss), ptr(rows), 1.0, 0.0, ptr(grad), ld)
    msg = lib.logitnorm_last_error().decode()
    lib.logitnorm_loss_free(h)
    if st != 0:
        raise AssertionError("library status %d: %s" % (st, msg))
    assert np.all(grad[:, C:] == 7.0), "grad padding written"
    return loss.value, rows.astype(np.float64), grad[:, :C].astype(np.float64)


def torch_ce_full(z, y, w, red, ignore):
    """PyTorch's cross_entropy on the full rows (hard labels), -inf entries included."""
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    wt = None if w is None else torch.tensor(w, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.int64)
    rows = F.cross_entropy(zt, yt, weight=wt, ignore_index=ignore, reduction="none")
    red_name = {MEAN: "mean", SUM: "sum", NONE: "sum"}[red]
    zt2 = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(zt2, yt, weight=wt, ignore_index=ignore, reduction=red_name)
    loss.backward()
    return loss.item(), rows.detach().numpy(), zt2.grad.numpy()


def torch_composed(kind, z, y, t, w, red, ignore):
    """The official composition on each row with its -inf columns removed."""
    n, C = z.shape
    rows, leaves, keeps = [], [], []
    divisor = 0.0
    for i in range(n):
        keep = np.where(~np.isneginf(z[i]))[0]
        zi = torch.tensor(z[i, keep], dtype=torch.float64, requires_grad=True)
        u = zi / (TAU * (zi.norm(p=2) + EPS)) if kind == 1 else zi
        wi = None if w is None else torch.tensor(w[keep], dtype=torch.float64)
        if t is not None:
            ti = torch.tensor(t[i, keep], dtype=torch.float64)
            li = F.cross_entropy(u[None, :], ti[None, :], weight=wi, reduction="sum")
            divisor += 1.0
        elif y[i] == ignore:
            li = (zi * 0.0).sum()
        else:
            yi = int(np.where(keep == y[i])[0][0])
            li = F.cross_entropy(u[None, :], torch.tensor([yi]), weight=wi, reduction="sum")
            divisor += 1.0 if w is None else float(w[y[i]])
        rows.append(li)
        leaves.append(zi)
        keeps.append(keep)
    total = torch.stack(rows).sum()
    loss = total / divisor if red == MEAN else total
    loss.backward()
    grad = np.zeros((n, C))
    for i in range(n):
        grad[i, keeps[i]] = leaves[i].grad.numpy()
    return loss.item(), np.array([r.item() for r in rows]), grad


def close(what, got, want, tol, case):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    ok = np.all(np.isfinite(got)) and err <= tol * scale
    if not ok:
        raise AssertionError("%s: %s differs from PyTorch by %.3g (scale %.3g)" % (case, what, err, scale))
    return err / scale


rng = np.random.default_rng(7)
worst = {False: 0.0, True: 0.0}
cases = 0
for trial in range(48):
    f64 = trial % 2 == 1
    kind = (trial // 2) % 2
    soft = (trial // 4) % 3 == 2
    red = (trial // 12) % 3 if trial < 36 else trial % 3
    n = int(rng.integers(1, 24))
    C = int(rng.choice([2, 3, 7, 10, 49, 100]))
    ld = C + (3 if trial % 3 == 0 else 0)
    dt = np.float64 if f64 else np.float32
    z = rng.normal(0.0, 2.0, (n, C)).astype(dt).astype(np.float64)
    y = rng.integers(0, C, n)
    ignore = -100 if trial % 5 else 1
    if not soft:
        y[rng.random(n) < 0.2] = ignore if ignore < 0 else 1
        if y[0] == ignore:
            y[0] = 0  # one row counts, so that MEAN's divisor is not 0
    mask = rng.random((n, C)) < (0.7 if trial % 4 == 3 else 0.3)
    # the label stays unmasked; an ignored row keeps class 0 (PyTorch's gradient of a row of
    # nothing but -inf is NaN even when the row is ignored)
    mask[np.arange(n), np.where((y >= 0) & (y < C), y, 0)] = False
    z[mask] = -np.inf
    t = None
    if soft:
        t = rng.random((n, C)) * ~mask
        t = (t / t.sum(axis=1, keepdims=True)).astype(dt).astype(np.float64)
        if trial % 2 == 0:
            t = (1.5 * t).astype(dt).astype(np.float64)  # targets need not sum to 1
    w = None if trial % 3 == 1 else rng.uniform(0.25, 2.0, C).astype(np.float32).astype(np.float64)
    case = "trial %d (%s, %s, %s, reduction %d, n %d, C %d, ld %d, weights %s, ignore %d)" % (
        trial, "f64" if f64 else "f32", "logitnorm" if kind else "cross_entropy", "soft" if soft else "hard",
        red, n, C, ld, w is not None, ignore)
    loss, rows, grad = run_library(kind, f64, soft, z, ld, y, t, w, red, ignore)
    if kind == 0 and not soft:
        want_loss, want_rows, want_grad = torch_ce_full(z, y, w, red, ignore)
        # the composition on reduced rows must say the same (the two PyTorch forms agree)
        c_loss, c_rows, c_grad = torch_composed(kind, z, y, t, w, red, ignore)
        close("composed loss", c_loss, want_loss, 1e-12, case)
        close("composed grad", c_grad, want_grad, 1e-12, case)
    else:
        want_loss, want_rows, want_grad = torch_composed(kind, z, y, t, w, red, ignore)
    if red == NONE:
        want_loss = float(np.sum(want_rows))
    tol = 1e-10 if f64 else 1e-4
    e = close("loss", loss, want_loss, tol, case)
    e = max(e, close("row losses", rows, want_rows, tol, case))
    e = max(e, close("grad", grad, want_grad, tol, case))
    assert np.all(grad[mask] == 0.0), case + ": masked columns have a non-zero gradient"
    worst[f64] = max(worst[f64], e)
    cases += 1
print("cases", cases, "worst relative difference from PyTorch: f32 %.3g, f64 %.3g" % (worst[False], worst[True]))
