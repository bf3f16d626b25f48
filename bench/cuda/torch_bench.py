#!/usr/bin/env python3
"""bench/cuda/torch_bench.py — the PyTorch peers of bench_cuda, with the same harness shape.

Per model (tools/models/defs.py, the same architectures and seeded weights as models/*/model.onnx) and batch:
  torch-eager-fp32   x pinned on the host -> .to(cuda, non_blocking) -> model -> copy to pinned host -> sync
  torch-graph-fp32   the same with the copy-in, forward and copy-out replayed from one torch.cuda.CUDAGraph
  torch-graph-fp16   model.half(); the graph also converts the FP32 input to FP16 and the logits back
One timing = one synchronous inference, wall clock (perf_counter_ns) around it, after warm-up, repeated
until --seconds have passed (at least 5, at most 20000). TF32 is off so FP32 means FP32.
Rows (TSV): model backend batch median_us p99_us samples_per_s iters.

  /opt/torch/.venv/bin/python bench/cuda/torch_bench.py [--models a,b] [--batches 1,64,1024] [--seconds 1] [--out f.tsv]
"""
import argparse
import copy
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "models"))
import defs  # noqa: E402


def measure(fn, batch, seconds):
    w0 = time.perf_counter()
    for i in range(20):
        fn()
        if i >= 2 and time.perf_counter() - w0 > seconds / 4:
            break
    us = []
    t_end = time.perf_counter() + seconds
    while (len(us) < 5 or time.perf_counter() < t_end) and len(us) < 20000:
        t0 = time.perf_counter_ns()
        fn()
        us.append((time.perf_counter_ns() - t0) / 1000.0)
    us.sort()
    med = us[len(us) // 2]
    p99 = us[min(len(us) - 1, len(us) * 99 // 100)]
    return med, p99, batch * 1e6 / med, len(us)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lstm_attn_s,lstm_attn_l,convlstm,transformer_s")
    ap.add_argument("--batches", default="1,64,1024")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    out = open(a.out, "w") if a.out else None
    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}")
    hdr = "model\tbackend\tbatch\tmedian_us\tp99_us\tsamples_per_s\titers\n"
    sys.stdout.write(hdr)
    if out:
        out.write(hdr)

    def row(m, backend, b, st):
        line = f"{m}\t{backend}\t{b}\t{st[0]:.1f}\t{st[1]:.1f}\t{st[2]:.0f}\t{st[3]}\n"
        sys.stdout.write(line)
        sys.stdout.flush()
        if out:
            out.write(line)
            out.flush()

    for name in a.models.split(","):
        m32 = defs.build(name).eval().to(dev).float()
        m16 = copy.deepcopy(m32).half()
        for b in [int(x) for x in a.batches.split(",")]:
            shape = defs.input_shape(name, b)
            g = torch.Generator().manual_seed(7)
            x_host = torch.randn(*shape, generator=g).pin_memory()
            with torch.no_grad():
                # eager FP32
                y_host = torch.empty(b, 3).pin_memory()

                def eager():
                    x = x_host.to(dev, non_blocking=True)
                    y_host.copy_(m32(x), non_blocking=True)
                    torch.cuda.synchronize()

                row(name, "torch-eager-fp32", b, measure(eager, b, a.seconds))
                for prec in ("fp32", "fp16"):
                    try:
                        m = m32 if prec == "fp32" else m16
                        x_dev = torch.empty(*shape, device=dev)
                        s = torch.cuda.Stream()
                        s.wait_stream(torch.cuda.current_stream())
                        with torch.cuda.stream(s):
                            for _ in range(3):
                                x_dev.copy_(x_host, non_blocking=True)
                                y = m(x_dev if prec == "fp32" else x_dev.half())
                        torch.cuda.current_stream().wait_stream(s)
                        graph = torch.cuda.CUDAGraph()
                        with torch.cuda.graph(graph):
                            x_dev.copy_(x_host, non_blocking=True)
                            y = m(x_dev if prec == "fp32" else x_dev.half()).float()
                            y_host.copy_(y, non_blocking=True)

                        def replay():
                            graph.replay()
                            torch.cuda.synchronize()

                        row(name, f"torch-graph-{prec}", b, measure(replay, b, a.seconds))
                        del graph
                    except Exception as e:  # report, keep going
                        print(f"# {name} batch {b} torch-graph-{prec}: {type(e).__name__}: {e}")
    if out:
        out.close()


if __name__ == "__main__":
    main()
