"""fer's `--recipe strong` in PyTorch, on fer's split of the same file: does the port learn alike? With the
flags below it also trains each step of the ablation in docs/training.md (report recipe -> + augmentation ->
+ SGD and cosine -> + vgg -> + label smoothing).

The vgg model of torch_bench.py (fer's packages/core/src/models/vgg.ts, dropout 0 as the recipe has it),
pad-crop 4 (edge-replicated) + horizontal flip + rotation up to 10 degrees + scale 1 +- 0.1, SGD with Nesterov
momentum 0.9 and weight decay 5e-4 on conv and dense kernels only, lr 0.01 with one warm-up epoch then cosine
to zero (per batch), label smoothing 0.1, batch 64, 30 epochs. The rows are split as
`fer train --recipe strong --train-rows 23120 --test-rows 3589` splits them: the first 23,120 train, the next
2,000 validate, the last 3,589 are the test part. At the end the test part is scored plain, with flips and
with fer's 10 crops (centre and 4 corners of the 4-px padded face, each mirrored), as `fer evaluate --tta`.

Usage: python3 torch_strong.py DATA [--epochs 30] [--threads N] [--train-rows 23120] [--test-rows 3589]
       [--seed 0] [--limit N] [--device cpu|cuda] [--model vgg|seed] [--optimizer sgd|adam] [--lr 0.01]
       [--schedule warmup-cosine|constant] [--augment strong|none] [--label-smoothing 0.1]
       [--probs OUT.npz]
DATA: Kaggle's CSV (.csv or .csv.gz), or FILE.bin.xz (one label byte per row, then 48x48 bytes per row).
`--recipe report` is `--model seed --optimizer adam --lr 1e-4 --schedule constant --augment none
--label-smoothing 0` (the seed model keeps the report's dropout-free head). `--probs` saves the test part's
softmax (plain and 10-crop) and labels for ensembles. Prints one JSON line per epoch and one with the test
part's accuracies.
"""
import argparse, csv, gzip, json, math, os, sys, time
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import VGG, SeedCNN


def load(path):
    if path.endswith('.bin.xz'):
        import lzma
        raw = np.frombuffer(lzma.decompress(open(path, 'rb').read()), dtype=np.uint8)
        n = len(raw) // (1 + 48 * 48)
        return raw[n:].reshape(n, 1, 48, 48), raw[:n].astype(np.int64)
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
    n, dev = len(xb), xb.device
    flip = (torch.rand(n, generator=g) < 0.5).to(dev)
    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    ang = ((torch.rand(n, generator=g) * 2 - 1) * math.radians(10)).to(dev)
    sc = (1 + (torch.rand(n, generator=g) * 2 - 1) * 0.1).to(dev)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n, device=dev)], 1), torch.stack([sin, cos, torch.zeros(n, device=dev)], 1)], 1)
    grid = F.affine_grid(theta, xb.shape, align_corners=False)
    xb = F.grid_sample(xb, grid, mode='bilinear', padding_mode='border', align_corners=False)
    xp = F.pad(xb, (4, 4, 4, 4), mode='replicate')
    ox, oy = torch.randint(0, 9, (2, n), generator=g).to(dev)
    idx = torch.arange(48, device=dev)
    rows = (oy[:, None] + idx)[:, :, None].expand(n, 48, 48)
    cols = (ox[:, None] + idx)[:, None, :].expand(n, 48, 48)
    return xp[torch.arange(n, device=dev)[:, None, None], 0, rows, cols][:, None]


def erase(xb, g, p):
    """fer's random erasing: with probability p one rectangle of 2-20% of the face, aspect 0.3-3.3 (log-uniform),
    filled with the face's mean."""
    n, dev = len(xb), xb.device
    u = torch.rand(5, n, generator=g).to(dev)
    area = (0.02 + 0.18 * u[1]) * 48 * 48
    ratio = torch.exp(math.log(0.3) + (math.log(3.3) - math.log(0.3)) * u[2])
    h = torch.sqrt(area * ratio).round().clamp(1, 48)
    w = torch.sqrt(area / ratio).round().clamp(1, 48)
    x0 = torch.floor(u[3] * (48 - w + 1))
    y0 = torch.floor(u[4] * (48 - h + 1))
    i = torch.arange(48, device=dev, dtype=torch.float32)
    rows = (i[None] >= y0[:, None]) & (i[None] < (y0 + h)[:, None])
    cols = (i[None] >= x0[:, None]) & (i[None] < (x0 + w)[:, None])
    mask = (rows[:, :, None] & cols[:, None, :] & (u[0] < p)[:, None, None])[:, None]
    return torch.where(mask, xb.mean((1, 2, 3), keepdim=True), xb)


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


def probabilities(m, X, kind='plain'):
    m.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), 512):
            vs = views(X[i:i + 512], kind)
            out.append(sum(F.softmax(m(v), 1) for v in vs) / len(vs))
    return torch.cat(out)


def evaluate(m, X, y, kind='plain'):
    return (probabilities(m, X, kind).argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--train-rows', type=int, default=23120)
    p.add_argument('--test-rows', type=int, default=3589)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit', type=int, default=0, help='only the first N rows (a quick check)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--model', choices=['vgg', 'seed'], default='vgg')
    p.add_argument('--optimizer', choices=['sgd', 'adam'], default='sgd')
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--schedule', choices=['warmup-cosine', 'constant'], default='warmup-cosine')
    p.add_argument('--augment', choices=['strong', 'none'], default='strong')
    p.add_argument('--label-smoothing', type=float, default=0.1)
    p.add_argument('--erase', type=float, default=0, help='random erasing probability (fer train --erase)')
    p.add_argument('--weight-decay', type=float, default=5e-4)
    p.add_argument('--dropout', type=float, default=0)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--probs', default='', help='save the test part\'s probabilities (plain, 10crop) and labels here (.npz)')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    X, y = load(a.data)
    if a.limit:
        X, y = X[:a.limit], y[:a.limit]
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = dev.type == 'cuda'
    X = torch.tensor(X, dtype=torch.float32, device=dev) / 255
    y = torch.tensor(y, device=dev)
    n_test_start = len(X) - a.test_rows
    Xt, yt = X[:a.train_rows], y[:a.train_rows]
    Xv, yv = X[a.train_rows:n_test_start], y[a.train_rows:n_test_start]
    Xp, yp = X[n_test_start:], y[n_test_start:]
    m = (VGG(dropout=a.dropout) if a.model == 'vgg' else SeedCNN()).to(dev)
    if a.optimizer == 'sgd':
        decay = [q for _, q in m.named_parameters() if q.ndim > 1]
        rest = [q for _, q in m.named_parameters() if q.ndim <= 1]
        opt = torch.optim.SGD([{'params': decay, 'weight_decay': a.weight_decay}, {'params': rest, 'weight_decay': 0}], lr=a.lr, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    per_epoch = math.ceil(len(Xt) / a.batch)
    steps = a.epochs * per_epoch
    cosine = lambda s: (s + 1) / per_epoch if s < per_epoch else 0.5 * (1 + math.cos(math.pi * (s - per_epoch) / max(1, steps - per_epoch)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine if a.schedule == 'warmup-cosine' else lambda s: 1.0)
    g = torch.Generator().manual_seed(a.seed)
    print(json.dumps({'train': len(Xt), 'validation': len(Xv), 'test': len(Xp), 'threads': torch.get_num_threads(), 'torch': torch.__version__}), flush=True)
    t_all = time.time()
    for ep in range(a.epochs):
        m.train()
        perm = torch.randperm(len(Xt), generator=g).to(dev)
        t0 = time.time()
        right = torch.zeros((), device=dev)
        for i in range(0, len(Xt), a.batch):
            b = perm[i:i + a.batch]
            xb = augment(Xt[b], g) if a.augment == 'strong' else Xt[b]
            if a.erase > 0:
                xb = erase(xb, g, a.erase)
            opt.zero_grad()
            o = m(xb)
            loss = F.cross_entropy(o, yt[b], label_smoothing=a.label_smoothing)
            loss.backward()
            opt.step()
            sched.step()
            right += (o.argmax(1) == yt[b]).sum()
        print(json.dumps({'epoch': ep + 1, 'acc': round(right.item() / len(Xt), 4), 'val_acc': round(evaluate(m, Xv, yv), 4) if len(Xv) else None, 'sec': round(time.time() - t0, 1)}), flush=True)
    if a.probs:
        np.savez(a.probs, plain=probabilities(m, Xp).cpu().numpy(), crop10=probabilities(m, Xp, '10crop').cpu().numpy(), labels=yp.cpu().numpy())
    print(json.dumps({'test': evaluate(m, Xp, yp), 'test_flip': evaluate(m, Xp, yp, 'flip'), 'test_10crop': evaluate(m, Xp, yp, '10crop'), 'minutes': round((time.time() - t_all) / 60, 1)}), flush=True)


if __name__ == '__main__':
    main()
