"""The accuracy ablation of docs/training.md in PyTorch: each step from the report's recipe to fer's strong
recipe, trained with torch_strong.py on fer's split of the same file, the steps run side by side (one process
each; on a GPU they share it), then test-time augmentation and ensembles of the strong runs' seeds.

Usage: python3 torch_ablation.py DATA OUT_DIR [--device cuda] [--seeds 3] [--epochs 30] [--extra-epochs 40]
       [--timeout 540] [--plan ablation|variants] [any torch_strong.py flag, passed to every run]
Writes OUT_DIR/NAME.log (one JSON line per epoch, then the test part's accuracies) and OUT_DIR/NAME.npz (the
test part's probabilities) per run, and OUT_DIR/summary.json; prints the summary.
"""
import argparse, json, os, subprocess, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = ['--model', 'seed', '--optimizer', 'adam', '--lr', '1e-4', '--schedule', 'constant', '--augment', 'none', '--label-smoothing', '0']


def stages(seeds, epochs, extra):
    yield 'report', REPORT + ['--epochs', str(epochs)]
    yield 'augment', ['--model', 'seed', '--optimizer', 'adam', '--lr', '1e-4', '--schedule', 'constant', '--label-smoothing', '0', '--epochs', str(epochs)]
    yield 'sgd-cosine', ['--model', 'seed', '--label-smoothing', '0', '--epochs', str(epochs)]
    yield 'vgg', ['--label-smoothing', '0', '--epochs', str(epochs)]
    for s in range(seeds):
        yield f'strong-s{s}', ['--seed', str(s), '--epochs', str(epochs)]
    if extra:
        for s in range(seeds):
            yield f'strong-e{extra}-s{s}', ['--seed', str(s), '--epochs', str(extra)]


# Candidates for a better single model, chosen between on the validation part only (3 seeds where it matters).
VARIANTS = {
    'erase': ['--erase', '0.5'],
    'wd1e-3': ['--weight-decay', '1e-3'],
    'dropout': ['--dropout', '0.3'],
    'b128': ['--batch', '128', '--lr', '0.02'],
}


def variants(seeds, epochs):
    for name, args in VARIANTS.items():
        for s in range(seeds if name in ('erase', 'wd1e-3') else min(seeds, 2)):
            yield f'{name}-s{s}', args + ['--seed', str(s), '--epochs', str(epochs)]


def last_json(path):
    try:
        lines = [l for l in open(path) if l.startswith('{')]
        return [json.loads(l) for l in lines]
    except OSError:
        return []


def main():
    p = argparse.ArgumentParser()
    p.add_argument('data')
    p.add_argument('out')
    p.add_argument('--device', default='cuda')
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--extra-epochs', type=int, default=40)
    p.add_argument('--timeout', type=float, default=540)
    p.add_argument('--threads', type=int, default=1, help='CPU threads per run')
    p.add_argument('--plan', choices=['ablation', 'variants'], default='ablation')
    a, rest = p.parse_known_args()  # anything else goes to every run (e.g. --limit 3000 --train-rows 2000 --test-rows 500)
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    procs = {}
    plan = stages(a.seeds, a.epochs, a.extra_epochs) if a.plan == 'ablation' else variants(a.seeds, a.epochs)
    for name, args in plan:
        cmd = [sys.executable, os.path.join(HERE, 'torch_strong.py'), a.data, '--device', a.device, '--threads', str(a.threads), '--probs', os.path.join(a.out, name + '.npz')] + args + rest
        procs[name] = subprocess.Popen(cmd, stdout=open(os.path.join(a.out, name + '.log'), 'w'), stderr=subprocess.STDOUT, env=env)
    t0 = time.time()
    while any(q.poll() is None for q in procs.values()) and time.time() - t0 < a.timeout:
        time.sleep(5)
    for q in procs.values():
        if q.poll() is None:
            q.kill()
            q.wait()
    summary = {'runs': {}, 'ensembles': {}}
    for name in procs:
        rows = last_json(os.path.join(a.out, name + '.log'))
        epochs = [r for r in rows if 'epoch' in r]
        test = next((r for r in rows if 'test_10crop' in r), None)
        summary['runs'][name] = {'epochs_done': len(epochs), 'last_epoch': epochs[-1] if epochs else None, 'test': test, 'rc': procs[name].returncode}
    for prefix in ['strong-s', f'strong-e{a.extra_epochs}-s'] + [f'{v}-s' for v in VARIANTS]:
        files = [os.path.join(a.out, f'{prefix}{s}.npz') for s in range(a.seeds)]
        files = [f for f in files if os.path.exists(f)]
        if len(files) < 2:
            continue
        d = [np.load(f) for f in files]
        labels = d[0]['labels']
        summary['ensembles'][prefix + '*'] = {
            'members': len(d),
            'plain': float((sum(x['plain'] for x in d).argmax(1) == labels).mean()),
            'crop10': float((sum(x['crop10'] for x in d).argmax(1) == labels).mean()),
        }
    summary['seconds'] = round(time.time() - t0, 1)
    json.dump(summary, open(os.path.join(a.out, 'summary.json'), 'w'), indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
