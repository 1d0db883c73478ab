#!/usr/bin/python3
"""PyTorch reference timing for bench_loss: LogitNorm forward + backward in eager mode on the
CPU (norm, divide, cross_entropy, autograd backward), one thread, median of repeated runs.
Needs python3-torch (Debian). Usage: /usr/bin/python3 tests/bench/torch_loss.py [reps] (the system Python, where Debian installs torch)"""
import statistics
import sys
import time

import torch

SHAPES = [(65536, 10), (16384, 100), (4096, 1000), (512, 32000)]
TAU, EPS = 0.04, 1e-7


def logitnorm_loss(z, y):
    norms = torch.norm(z, p=2, dim=-1, keepdim=True) + EPS
    return torch.nn.functional.cross_entropy(z / norms / TAU, y)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for n, c in SHAPES:
        z0 = torch.rand(n, c) * 6 - 3
        y = torch.randint(0, c, (n,))
        times = []
        for r in range(reps + 2):
            z = z0.clone().requires_grad_(True)
            t0 = time.perf_counter()
            loss = logitnorm_loss(z, y)
            loss.backward()
            t1 = time.perf_counter()
            if r >= 2:  # the first two runs warm up
                times.append((t1 - t0) * 1e3)
        print(f"{n}x{c}: median {statistics.median(times):.2f} ms [{min(times):.2f}-{max(times):.2f}]")


if __name__ == "__main__":
    main()
