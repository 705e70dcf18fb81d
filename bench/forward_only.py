#!/usr/bin/env python3
"""Forward-only throughput of a config's model in PyTorch (random weights, fixed shapes, CUDA): the
ceiling `ocrkit bench infer`'s recognition is compared with in bench/RESULTS.md.

    python3 bench/forward_only.py --config configs/printed.yaml [--widths 256,768] [--batches 64,256,1024]
"""
import argparse, os, sys, time
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_train as R  # the same model definition, config loader and charset presets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--widths", default="256,768", help="line widths in pixels")
    ap.add_argument("--batches", default="64,256,1024", help="lines per call")
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args()
    if not torch.cuda.is_available(): sys.exit("forward_only.py needs a CUDA device")
    cfg = R.load_config(a.config, [])
    height = int(cfg["preprocess"]["height"])
    classes = len(R.charset_symbols(str(cfg["charset"]))) + 1
    model = R.OcrModel(cfg["model"], height, classes, "flash").cuda().eval()
    for w in (int(v) for v in a.widths.split(",")):
        for n in (int(v) for v in a.batches.split(",")):
            x = torch.rand(n, 1, height, w, device="cuda")
            with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                for _ in range(3): model(x)  # kernel choice for this shape
                torch.cuda.synchronize()
                t = time.time()
                for _ in range(a.iters): model(x).float().softmax(-1).max(-1)
                torch.cuda.synchronize()
                dt = (time.time() - t) / a.iters
            print(f"width {w} x {n} lines: {dt * 1e3:.2f} ms per call, {n / dt:,.0f} lines/s", flush=True)


if __name__ == "__main__":
    main()
