"""PyTorch reference throughput for `fer bench`: fer's models in PyTorch, trained with Adam on cross-entropy
and run for inference (eval mode), at each batch size.
  --model seed  the report's seed CNN (the same model as shared/anchors/torch_fer.py; the default)
  --model vgg   fer's VGG-style model (packages/core/src/models/vgg.ts)
  --threads N   torch.set_num_threads(N); 'all': os.cpu_count(); 0 (default): torch's own default
Run with Debian's python3-torch (/usr/bin/python3). Prints one JSON object on stdout:
{"torch": "1.13.x", "model": M, "threads": T, "results": [{"batch", "trainImagesPerSec", "inferImagesPerSec"}]}"""
import argparse, json, os, sys, time
import torch, torch.nn as nn


class SeedCNN(nn.Module):
    def __init__(s):
        super().__init__()
        a = lambda: nn.LeakyReLU(0.05)
        s.f = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), a(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), a(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), a(), nn.BatchNorm2d(128), nn.MaxPool2d(2),
            nn.Conv2d(128, 128, 3, padding=1), a(), nn.BatchNorm2d(128), nn.MaxPool2d(2))
        s.c = nn.Sequential(nn.Flatten(), nn.Linear(3 * 3 * 128, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Linear(256, 7))

    def forward(s, x):
        return s.c(s.f(x))


class VGG(nn.Module):
    """fer's vgg: four stages of two 3x3 convs (no bias) + BatchNorm + ReLU [32, 64, 128, 256], a 2x2 max-pool
    after stages 1-3, global average pooling, dropout, 256 -> 7. 1,174,439 parameters."""

    def __init__(s, dropout=0.3):
        super().__init__()
        layers, cin = [], 1
        for i, c in enumerate([32, 64, 128, 256]):
            for _ in range(2):
                layers += [nn.Conv2d(cin, c, 3, padding=1, bias=False), nn.BatchNorm2d(c, eps=1e-5, momentum=0.1), nn.ReLU(inplace=True)]
                cin = c
            if i < 3:
                layers.append(nn.MaxPool2d(2))
        s.f = nn.Sequential(*layers)
        s.c = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(256, 7))

    def forward(s, x):
        return s.c(s.f(x))


MODELS = {'seed': SeedCNN, 'vgg': VGG}


def timed(fn, min_seconds, min_iters):
    """Runs fn until both min_iters and min_seconds are reached; returns iterations per second."""
    n, t0 = 0, time.perf_counter()
    while True:
        fn(); n += 1
        dt = time.perf_counter() - t0
        if n >= min_iters and dt >= min_seconds:
            return n / dt


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batches', default='32,64,128')
    p.add_argument('--seconds', type=float, default=2.0)
    p.add_argument('--model', default='seed', choices=sorted(MODELS))
    p.add_argument('--threads', default='0', help="torch.set_num_threads (0: torch default; all: os.cpu_count())")
    a = p.parse_args()
    torch.manual_seed(0)
    threads = os.cpu_count() if a.threads == 'all' else int(a.threads)
    if threads:
        torch.set_num_threads(threads)
    out = {'torch': torch.__version__, 'model': a.model, 'threads': torch.get_num_threads(), 'results': []}
    for b in [int(v) for v in a.batches.split(',')]:
        m = MODELS[a.model](); opt = torch.optim.Adam(m.parameters(), 1e-4); lf = nn.CrossEntropyLoss()
        x = torch.rand(b, 1, 48, 48); t = torch.randint(0, 7, (b,))

        def train_step():
            opt.zero_grad(); lf(m(x), t).backward(); opt.step()

        m.train()
        for _ in range(3):
            train_step()
        train = timed(train_step, a.seconds, 5) * b
        m.eval()
        with torch.no_grad():
            m(x)
            infer = timed(lambda: m(x), a.seconds, 5) * b
        out['results'].append({'batch': b, 'trainImagesPerSec': round(train, 1), 'inferImagesPerSec': round(infer, 1)})
        print(json.dumps(out['results'][-1]), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
