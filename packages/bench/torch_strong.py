"""fer's `--recipe strong` in PyTorch, on fer's split of the same file: does the port learn alike?

The vgg model of torch_bench.py (fer's packages/core/src/models/vgg.ts, dropout 0 as the recipe has it),
pad-crop 4 (edge-replicated) + horizontal flip + rotation up to 10 degrees + scale 1 +- 0.1, SGD with Nesterov
momentum 0.9 and weight decay 5e-4 on conv and dense kernels only, lr 0.01 with one warm-up epoch then cosine
to zero (per batch), label smoothing 0.1, batch 64, 30 epochs. The rows are split as
`fer train --recipe strong --train-rows 23120 --test-rows 3589` splits them: the first 23,120 train, the next
2,000 validate, the last 3,589 are the test part. At the end the test part is scored plain, with flips and
with fer's 10 crops (centre and 4 corners of the 4-px padded face, each mirrored), as `fer evaluate --tta`.

Usage: /usr/bin/python3 torch_strong.py fer2013-train.csv.gz [--epochs 30] [--threads N] [--train-rows 23120]
       [--test-rows 3589] [--seed 0] [--limit N]
Prints one JSON line per epoch and one with the test part's accuracies.
"""
import argparse, csv, gzip, json, math, os, sys, time
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import VGG


def load(path):
    opener = gzip.open if path.endswith('.gz') else open
    X, y = [], []
    with opener(path, 'rt') as f:
        r = csv.reader(f)
        head = next(r)
        ei, pi = head.index('emotion'), head.index('pixels')
        for row in r:
            y.append(int(row[ei]))
            X.append(np.array(row[pi].split(), dtype=np.uint8))
    return np.stack(X).reshape(-1, 1, 48, 48), np.array(y)


def augment(xb, g):
    """fer's strong augmentation on a batch in [0, 1]: flip, rotate +-10 deg and scale 1 +- 0.1 about the centre
    (edge-replicated), then pad 4 (edge) and a random 48x48 window."""
    n = len(xb)
    flip = torch.rand(n, generator=g) < 0.5
    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    ang = (torch.rand(n, generator=g) * 2 - 1) * math.radians(10)
    sc = 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.1
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1), torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(theta, xb.shape, align_corners=False)
    xb = F.grid_sample(xb, grid, mode='bilinear', padding_mode='border', align_corners=False)
    xp = F.pad(xb, (4, 4, 4, 4), mode='replicate')
    ox, oy = torch.randint(0, 9, (2, n), generator=g)
    idx = torch.arange(48)
    rows = (oy[:, None] + idx)[:, :, None].expand(n, 48, 48)
    cols = (ox[:, None] + idx)[:, None, :].expand(n, 48, 48)
    return xp[torch.arange(n)[:, None, None], 0, rows, cols][:, None]


def views(x, kind):
    if kind == 'plain':
        return [x]
    if kind == 'flip':
        return [x, x.flip(3)]
    xp = F.pad(x, (4, 4, 4, 4), mode='replicate')
    out = []
    for ox, oy in [(4, 4), (0, 0), (8, 0), (0, 8), (8, 8)]:
        v = xp[:, :, oy:oy + 48, ox:ox + 48]
        out += [v, v.flip(3)]
    return out


def evaluate(m, X, y, kind='plain'):
    m.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(X), 512):
            xb = X[i:i + 512]
            p = sum(F.softmax(m(v), 1) for v in views(xb, kind))
            right += (p.argmax(1) == y[i:i + 512]).sum().item()
    return right / len(X)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--train-rows', type=int, default=23120)
    p.add_argument('--test-rows', type=int, default=3589)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit', type=int, default=0, help='only the first N rows (a quick check)')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    X, y = load(a.data)
    if a.limit:
        X, y = X[:a.limit], y[:a.limit]
    X = torch.tensor(X, dtype=torch.float32) / 255
    y = torch.tensor(y)
    n_test_start = len(X) - a.test_rows
    Xt, yt = X[:a.train_rows], y[:a.train_rows]
    Xv, yv = X[a.train_rows:n_test_start], y[a.train_rows:n_test_start]
    Xp, yp = X[n_test_start:], y[n_test_start:]
    m = VGG(dropout=0.0)
    decay = [q for _, q in m.named_parameters() if q.ndim > 1]
    rest = [q for _, q in m.named_parameters() if q.ndim <= 1]
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': 5e-4}, {'params': rest, 'weight_decay': 0}], lr=0.01, momentum=0.9, nesterov=True)
    per_epoch = math.ceil(len(Xt) / 64)
    steps = a.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / per_epoch if s < per_epoch else 0.5 * (1 + math.cos(math.pi * (s - per_epoch) / max(1, steps - per_epoch))))
    g = torch.Generator().manual_seed(a.seed)
    print(json.dumps({'train': len(Xt), 'validation': len(Xv), 'test': len(Xp), 'threads': torch.get_num_threads(), 'torch': torch.__version__}), flush=True)
    t_all = time.time()
    for ep in range(a.epochs):
        m.train()
        perm = torch.randperm(len(Xt), generator=g)
        t0 = time.time()
        right = 0
        for i in range(0, len(Xt), 64):
            b = perm[i:i + 64]
            xb = augment(Xt[b], g)
            opt.zero_grad()
            o = m(xb)
            loss = F.cross_entropy(o, yt[b], label_smoothing=0.1)
            loss.backward()
            opt.step()
            sched.step()
            right += (o.argmax(1) == yt[b]).sum().item()
        print(json.dumps({'epoch': ep + 1, 'acc': round(right / len(Xt), 4), 'val_acc': round(evaluate(m, Xv, yv), 4), 'sec': round(time.time() - t0, 1)}), flush=True)
    print(json.dumps({'test': evaluate(m, Xp, yp), 'test_flip': evaluate(m, Xp, yp, 'flip'), 'test_10crop': evaluate(m, Xp, yp, '10crop'), 'minutes': round((time.time() - t_all) / 60, 1)}), flush=True)


if __name__ == '__main__':
    main()
