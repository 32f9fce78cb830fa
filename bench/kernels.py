#!/usr/bin/python3
"""The matrix products of one batch-64 step of the seed MLP, timed in PyTorch.

The companion of BenchmarkKernels (fimlib/train/kernels_bench_test.go): the
same shapes and layouts, one product per call, so that the go backend's
kernels can be set beside the BLAS that PyTorch calls. NN multiplies [M, K] by
[K, N], NT [M, K] by [N, K] (torch.mm with a transposed view, as autograd's
weight gradients do), TN [K, M] by [K, N].

Usage (OpenBLAS as the harness fetches it, with its own CPU detection):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
    LD_LIBRARY_PATH=$HOME/.cache/fimprune/libopenblas0-pthread/usr/lib/x86_64-linux-gnu/openblas-pthread \\
    /usr/bin/python3 bench/kernels.py [--threads 1]
"""

import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--calls", type=int, default=2000, help="calls per product")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    r = lambda *d: torch.rand(*d) - 0.5
    cases = [
        ("fwd NN W[128,96]·xT[96,64]", lambda a, b: torch.mm(a, b), (r(128, 96), r(96, 64)), 2 * 128 * 96 * 64),
        ("gradW NT dT[128,64]·xT[96,64]", lambda a, b: torch.mm(a, b.t()), (r(128, 64), r(96, 64)), 2 * 128 * 96 * 64),
        ("gradW NN dT[128,64]·x[64,96]", lambda a, b: torch.mm(a, b), (r(128, 64), r(64, 96)), 2 * 128 * 96 * 64),
        ("gradW TN d[64,128]·x[64,96]", lambda a, b: torch.mm(a.t(), b), (r(64, 128), r(64, 96)), 2 * 128 * 96 * 64),
        ("fwd NN x[64,96]·W[96,128]", lambda a, b: torch.mm(a, b), (r(64, 96), r(96, 128)), 2 * 128 * 96 * 64),
        ("fwd K=64 NN W[64,128,96]·xT[64,96,64]", lambda a, b: torch.bmm(a, b), (r(64, 128, 96), r(64, 96, 64)), 64 * 2 * 128 * 96 * 64),
        ("gradW K=64 NT dT[64,128,64]·xT[64,96,64]", lambda a, b: torch.bmm(a, b.transpose(1, 2)), (r(64, 128, 64), r(64, 96, 64)), 64 * 2 * 128 * 96 * 64),
        ("add [128,64]", lambda a, b: a + b, (r(128, 64), r(128, 64)), 0),
        ("transpose [64,128] (contiguous copy)", lambda a, b: a.t().contiguous(), (r(64, 128), None), 0),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for name, fn, (a, b), flop in cases:
        for _ in range(50):
            fn(a, b)
        t0 = time.perf_counter()
        for _ in range(args.calls):
            fn(a, b)
        per = (time.perf_counter() - t0) / args.calls
        rate = f"  {flop / per / 1e9:7.1f} GFLOP/s" if flop else ""
        print(f"{name:45s} {per * 1e6:9.1f} µs{rate}")


if __name__ == "__main__":
    main()
