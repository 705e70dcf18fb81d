#!/usr/bin/env python3
"""PyTorch-in-Python speed peer for `ocrkit bench train` (issue "bench").

Runs ocrkit's training step in plain PyTorch for the SAME model (core/model.cpp), batch size and data
(labels.tsv folders read like datasets/labels.cpp, lines prepared like core/image.cpp prepare_line and
batched like datasets/loader.cpp) and reports what bench/bench.cpp bench_train reports, per batch size:
samples/s, step ms = wait ms (blocked on the loader) + compute ms (host->device copy, forward, CTC loss,
backward, grad clip, AdamW step, then a device sync), the wait share, peak CUDA memory and peak RSS.

Usage, from the project root on the GPU host (the same --set flags go to both sides):

    python3 bench/reference_train.py --config configs/printed.yaml --set data.train=[data/bench-lines] \
        --set data.train_ratios=[1] --batch-sizes 64,128,256,512 --steps 100 --json out.jsonl
    build-cuda/ocrkit bench train --config configs/printed.yaml --set data.train=[data/bench-lines] \
        --set data.train_ratios=[1] --set data.val=[] --set augment.enabled=false \
        --batch-sizes 64,128,256,512 --steps 100 --device cuda --db bench.sqlite

(configs/printed.yaml lists two train_ratios; with one source both sides refuse them, hence [1].)

Identical to the C++ loop: architecture and parameter count (--expect-params checks it), CTC classes
(blank = 0, class i = charset symbol i-1), preprocessing, grouping by label length in pools of 32 batches,
input_lengths = own width / 4, concatenated int64 targets, log_softmax in fp32 + ctc_loss(blank 0, mean,
zero_infinity), bf16 autocast on CUDA (LSTM in fp32), flash attention on CUDA + bf16 (SDPA otherwise;
with model.mask_padding SDPA with the [N, 1, 1, T] key mask from input_lengths, as core/model.cpp),
AdamW(lr, weight_decay), warmup + cosine schedule, clip_grad_norm(train.grad_clip), no channels_last,
no cudnn.benchmark. Not identical: NO augmentation here (run the C++ side with augment.enabled=false);
item order comes from numpy's RNG, not mt19937_64 (same statistics, other items); the loader is
torch's DataLoader with worker processes (C++: threads, data.prefetch batches ready plus one in the
making per worker); both sides leave --warmup steps untimed (C++: `ocrkit bench train --warmup`); --optim default uses PyTorch's foreach AdamW and
clipping while libtorch's AdamW loops per parameter (--optim loop mimics that, with per-tensor norms and,
as libtorch's clip_grad_norm_ did before ocrkit's own clip_gradients, a host sync).
RSS: the C++ figure covers one process with its loader threads; here the main process and the sum of
the worker processes are reported apart (shared pages counted in each). Wait ms ends when the batch is
handed over (pinned); the host->device copy counts as compute, as in trainer.cpp.

Warm-up matters: the first ~100 steps are slow (kernel selection for every new batch shape; widths vary
per batch). H100, 1,500 synthetic lines, batch 256: 51 ms/step over steps 0-99, 22-23 ms/step after
100 or 300 untimed steps. Compare like with like: the same --warmup and --steps on both sides.
"""
import argparse, gc, json, math, os, re, sys, time, unicodedata

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

STRIDE = 4  # OcrModelImpl::kStride and PreprocessParams::width_multiple
POOL_BATCHES = 32  # loader.cpp kPoolBatches
DEFAULTS = {  # core/config.cpp, the keys used here
    "model": {"arch": "crnn", "channels": [32, 64, 128, 256], "depthwise": False, "downsample": "pool",
              "hidden": 128, "layers": 2, "heads": 4, "ffn": 512, "mask_padding": False},
    "charset": "vin",
    "preprocess": {"height": 32, "min_width": 32, "max_width": 1024, "auto_invert": True},
    "data": {"train": [], "train_ratios": [], "val": [], "val_max": 2000, "workers": 0, "prefetch": 8},
    "augment": {"enabled": True},
    "train": {"batch_size": 64, "max_steps": 20000, "lr": 0.001, "weight_decay": 0.01, "warmup_steps": 500,
              "min_lr_ratio": 0.02, "grad_clip": 5.0, "seed": 1},
    "runtime": {"device": "auto", "attention": "auto", "precision": "auto", "threads": 0},
}
PRESETS = {  # core/charset.cpp preset_characters, core/vin.cpp
    "vin": "0123456789ABCDEFGHJKLMNPRSTUVWXYZ",
    "digits": "0123456789",
    "printed": "".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0xA1, 0x100) if c != 0xAD)
    + "\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u0192\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022"
      "\u2026\u2030\u2039\u203a\u20ac\u2122\u2013\u2014\u2212\u2192\u2190\u2191\u2193\u2264\u2265\u2260\u2248"
      "\u221e\u221a\u2211\u220f\u222b\u2202\u2206\u2207\u2208\u2209\u2282\u2283\u222a\u2229\u2227\u2228\u00ac"
      "\u2032\u2033"
      "─│┌┐└┘├┤┬┴┼▷∗⊕⊗⟨⟩αβγδεζηθλξπστφχψωΓΘΛΞΦΨΩ",
}
LABEL_MAP = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
             "\ufb06": "st", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2002": " ", "\u2003": " "}


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict): merge(dst[k], v)
        else: dst[k] = v


def load_config(path, sets):
    cfg = json.loads(json.dumps(DEFAULTS))
    with open(path, encoding="utf-8") as f: merge(cfg, yaml.safe_load(f) or {})
    for s in sets:  # --set key.path=value, the value parsed as YAML like Config::set
        key, eq, value = s.partition("=")
        if not eq or not key: sys.exit(f"--set expects key.path=value, got '{s}'")
        try: v = yaml.safe_load(value) if value else ""
        except yaml.YAMLError: v = value
        node, parts = cfg, key.split(".")
        for p in parts[:-1]: node = node.setdefault(p, {})
        node[parts[-1]] = v
    return cfg


def charset_symbols(spec):  # Charset::from_spec: code points, duplicates collapse, first position wins
    return list(dict.fromkeys(PRESETS.get(spec, spec)))


def normalize_label(raw):  # core/text.cpp normalize_label: NFC, ligatures/odd spaces, collapse_whitespace
    s = "".join(LABEL_MAP.get(c, c) for c in unicodedata.normalize("NFC", raw))
    return " ".join(p for p in re.split(r"[ \t\n\r\f\v]+", s) if p)


def read_labels(path, ids):
    """datasets/labels.cpp for Paddle TSV (folder with labels.tsv, or a .tsv/.txt file) and JSONL."""
    if os.path.isdir(path):
        f = os.path.join(path, "labels.tsv")
        if not os.path.exists(f): f = os.path.join(path, "labels.jsonl")
        if not os.path.exists(f): sys.exit(f"{path}: no labels.tsv or labels.jsonl (tesstrain folders: not supported here)")
    else:
        f = path
    jsonl = f.lower().endswith((".jsonl", ".json"))
    base, items, skipped = os.path.dirname(f), [], 0
    with open(f, "rb") as fh: lines = fh.read().split(b"\n")
    if lines and lines[-1] == b"": lines.pop()  # getline yields no line after a final newline
    for n, line in enumerate(lines, 1):
        if jsonl:
            if not line.strip(b" \t\r"): continue
            try: j = json.loads(line)
            except ValueError: skipped += 1; continue
            if not (isinstance(j, dict) and isinstance(j.get("image"), str) and isinstance(j.get("text"), str)):
                skipped += 1; continue
            rel, raw = j["image"], j["text"]
        else:
            if line.endswith(b"\r"): line = line[:-1]
            if n == 1 and line.startswith(b"\xef\xbb\xbf"): line = line[3:]
            if not line: continue
            rel, tab, raw_b = line.partition(b"\t")
            if not tab: skipped += 1; continue
            try: rel, raw = rel.decode("utf-8", "surrogateescape"), raw_b.decode("utf-8")
            except UnicodeDecodeError: skipped += 1; continue
        text, image = normalize_label(raw), os.path.join(base, rel)
        if not text or not os.path.isfile(image) or os.path.getsize(image) == 0 or any(c not in ids for c in text):
            skipped += 1; continue
        items.append((image, text))
    return items, skipped


def lround(x):  # std::lround for x >= 0 (half away from zero, no floor(x + 0.5) rounding trap)
    i = math.floor(x)
    return int(i) + (1 if x - i >= 0.5 else 0)


def prepare_line(gray, pre):
    """core/image.cpp prepare_line on an 8-bit gray crop: float32 [height, padded width], ink = 1."""
    rows, cols = gray.shape
    h = pre["height"]
    w = min(max(1, lround(cols * h / rows)), pre["max_width"])
    resized = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA if rows > h else cv2.INTER_LINEAR)
    cum = np.cumsum(np.bincount(resized.ravel(), minlength=256))
    total = float(resized.size)
    lo, hi = int(np.argmax(cum >= 0.02 * total)), int(np.argmax(cum >= 0.98 * total))  # 2nd / 98th percentile
    lo = min(lo, hi)
    invert = pre["auto_invert"] and np.count_nonzero(resized < (lo + hi) // 2) > resized.size // 2
    rng = float(max(hi - lo, 24))
    alpha, beta = (1.0 / rng, -lo / rng) if invert else (-1.0 / rng, hi / rng)
    f = np.clip(resized.astype(np.float32) * np.float32(alpha) + np.float32(beta), 0.0, 1.0)
    padded = -(-max(w, pre["min_width"]) // STRIDE) * STRIDE
    if padded == w: return f
    out = np.zeros((h, padded), np.float32)
    out[:, :w] = f
    return out


class LineDataset(torch.utils.data.Dataset):
    def __init__(self, items, ids, pre):
        self.paths = [p for p, _ in items]
        self.targets = [[ids[c] for c in t] for _, t in items]
        self.pre = pre

    def __len__(self): return len(self.paths)

    def __getitem__(self, i):  # BatchLoader::make_batch for one slot, augment disabled
        gray = cv2.imread(self.paths[i], cv2.IMREAD_GRAYSCALE)
        if gray is None or gray.size == 0: return None
        h2 = 2 * self.pre["height"]
        if gray.shape[0] > h2:  # large crops are shrunk to twice the model height first
            f = h2 / gray.shape[0]
            gray = cv2.resize(gray, (max(1, int(gray.shape[1] * f + 0.5)), h2), interpolation=cv2.INTER_AREA)
        line, enc = prepare_line(gray, self.pre), self.targets[i]
        needed = len(enc) + sum(a == b for a, b in zip(enc, enc[1:]))  # CTC: a blank between repeats
        return None if needed > line.shape[1] // STRIDE else (line, enc)


def collate(samples):  # stack_lines + TrainBatch: zero-padded [N, 1, H, maxW], int64 targets/lengths
    samples = [s for s in samples if s is not None]
    if not samples: raise RuntimeError("batch has no usable items")
    h, w = samples[0][0].shape[0], max(s[0].shape[1] for s in samples)
    images = torch.zeros(len(samples), 1, h, w)
    for k, (line, _) in enumerate(samples): images[k, 0, :, :line.shape[1]] = torch.from_numpy(line)
    targets = torch.tensor([c for _, enc in samples for c in enc], dtype=torch.int64)
    target_lengths = torch.tensor([len(enc) for _, enc in samples], dtype=torch.int64)
    input_lengths = torch.tensor([line.shape[1] // STRIDE for line, _ in samples], dtype=torch.int64)
    return images, targets, target_lengths, input_lengths


class PlanSampler(torch.utils.data.Sampler):
    """BatchLoader::epoch_plan: per epoch draw items (by source ratio, or a permutation), stable-sort pools of
    32 batches by label length in UTF-8 bytes, cut into batches, shuffle the pool's batches."""
    def __init__(self, text_bytes, bounds, ratios, batch_size, seed, steps):
        self.len_bytes, self.bounds, self.ratios = np.asarray(text_bytes), bounds, ratios
        self.bs, self.seed, self.steps = batch_size, seed, steps
        self.per_epoch = max(1, len(text_bytes) // batch_size)

    def plan(self, epoch):
        rng = np.random.default_rng([self.seed, 0xE90C, epoch])
        n = self.per_epoch * self.bs
        if not self.ratios:
            plan = rng.permutation(len(self.len_bytes))[:n]
        else:
            lo, hi = np.asarray(self.bounds[:-1]), np.asarray(self.bounds[1:])
            p = np.asarray(self.ratios, float) / sum(self.ratios)
            s = rng.choice(len(p), size=n, p=p)
            s = s[hi[s] > lo[s]]
            plan = rng.integers(lo[s], hi[s])
            plan = np.concatenate([plan, np.full(n - len(plan), plan[0])])  # C++ pads with plan[0] too
        pool = POOL_BATCHES * self.bs
        for start in range(0, n, pool):
            part = plan[start:start + pool]
            part = part[np.argsort(self.len_bytes[part], kind="stable")]
            order = rng.permutation(len(part) // self.bs)
            plan[start:start + pool] = part.reshape(-1, self.bs)[order].ravel()
        return plan

    def __iter__(self):
        cache = {}
        for step in range(self.steps):
            e, i = divmod(step, self.per_epoch)
            if e not in cache: cache = {e: self.plan(e)}
            yield cache[e][i * self.bs:(i + 1) * self.bs].tolist()

    def __len__(self): return self.steps


def conv_bn_relu(layers, cin, cout, depthwise, stride=1):  # model.cpp conv_bn_relu
    if depthwise and cin > 1:
        layers += [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False)]
    else:
        layers.append(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False))
    layers += [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, impl):
        super().__init__()
        self.heads, self.impl = heads, impl
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x, key_mask=None):
        n, t, d = x.shape
        qkv = self.qkv(x).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # 3, N, heads, T, hd
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.impl == "eager":
            scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
            if key_mask is not None: scores = scores.masked_fill(key_mask.logical_not(), float("-inf"))
            y = torch.matmul(torch.softmax(scores, -1).to(v.dtype), v)
        else:  # sdpa; flash = sdpa with the other backends switched off (see main)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)
        return self.out(y.transpose(1, 2).reshape(n, t, d))


class TransformerBlock(nn.Module):  # pre-LN, GELU
    def __init__(self, dim, heads, ffn, impl):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(dim), SelfAttention(dim, heads, impl), nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, ffn), nn.Linear(ffn, dim)

    def forward(self, x, key_mask=None):
        x = x + self.attn(self.ln1(x), key_mask)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def sinusoidal_positions(length, dim, device):
    pos = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, :dim // 2]
    return pe


class OcrModel(nn.Module):
    def __init__(self, m, height, num_classes, attention):
        super().__init__()
        c, dw, layers = [int(x) for x in m["channels"]], bool(m["depthwise"]), []
        if len(c) != 4: sys.exit("config key 'model.channels' must list 4 stage widths")
        if m["downsample"] == "stride":
            for cin, cout, d, s in [(1, c[0], False, 2), (c[0], c[1], dw, 2), (c[1], c[2], dw, 1),
                                    (c[2], c[2], dw, (2, 1)), (c[2], c[3], dw, 1), (c[3], c[3], dw, (2, 1))]:
                conv_bn_relu(layers, cin, cout, d, s)
        else:
            conv_bn_relu(layers, 1, c[0], False); layers.append(nn.MaxPool2d(2))
            conv_bn_relu(layers, c[0], c[1], dw); layers.append(nn.MaxPool2d(2))
            conv_bn_relu(layers, c[1], c[2], dw); conv_bn_relu(layers, c[2], c[2], dw); layers.append(nn.MaxPool2d((2, 1)))
            conv_bn_relu(layers, c[2], c[3], dw); conv_bn_relu(layers, c[3], c[3], dw); layers.append(nn.MaxPool2d((2, 1)))
        self.backbone = nn.Sequential(*layers)
        features, hidden = c[3] * (height // 16), int(m["hidden"])
        self.lstm, self.mask_padding = None, bool(m.get("mask_padding", False))
        if m["arch"] == "crnn":
            self.lstm = nn.LSTM(features, hidden, num_layers=int(m["layers"]), bidirectional=True, batch_first=True)
            self.head = nn.Linear(2 * hidden, num_classes)
        else:
            self.proj = nn.Linear(features, hidden)
            self.blocks = nn.ModuleList(TransformerBlock(hidden, int(m["heads"]), int(m["ffn"]), attention)
                                        for _ in range(int(m["layers"])))
            self.final_norm = nn.LayerNorm(hidden)
            self.head = nn.Linear(hidden, num_classes)

    def forward(self, x, frames=None):  # frames: each line's own frame count (input_lengths)
        f = self.backbone(x).flatten(1, 2).transpose(1, 2)  # N, T = W/4, C*H/16
        if self.lstm is not None:
            with torch.autocast("cuda", enabled=False):  # the C++ runs the LSTM in fp32
                f = self.lstm(f.float())[0]
        else:
            f = self.proj(f)
            f = f + sinusoidal_positions(f.size(1), f.size(2), f.device).to(f.dtype)
            key_mask = None  # model.mask_padding: [N, 1, 1, T], true for each line's own frames
            if self.mask_padding and frames is not None and frames.numel() > 1:
                t = torch.arange(f.size(1), device=f.device)
                key_mask = (t.unsqueeze(0) < frames.to(f.device).clamp_min(1).unsqueeze(1)).view(f.size(0), 1, 1, f.size(1))
            for b in self.blocks: f = b(f, key_mask)
            f = self.final_norm(f)
        return self.head(f)  # N, T, classes


def clip_like_libtorch(params, max_norm):  # torch::nn::utils::clip_grad_norm_: per-tensor norms, host sync
    grads = [p.grad for p in params if p.grad is not None]
    norms = [g.norm(2) for g in grads]
    total = norms[0] if len(norms) == 1 else torch.stack(norms).norm(2)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads: g.mul_(coef)
    return total.item()


def lr_at(step, t):  # trainer.cpp Schedule::at, step 0-based
    lr, warm, total, mn = float(t["lr"]), int(t["warmup_steps"]), int(t["max_steps"]), float(t["min_lr_ratio"])
    if step < warm: return lr * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    return lr * (mn + (1 - mn) * 0.5 * (1 + math.cos(math.pi * progress)))


def vm_hwm_mib(pid="self"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024.0
    except OSError: pass
    return 0.0


def worker_init(_):
    cv2.setNumThreads(1)


def bench_batch_size(bs, a, e):
    """One `ocrkit bench train` row: a fresh model, optimizer and loader, warmup + timed steps."""
    m, pre, t, device, cuda, dtype, name, attention = e.m, e.pre, e.t, e.device, e.cuda, e.dtype, e.name, e.attention
    workers, dataset, text_bytes, bounds, ratios, num_classes = e.workers, e.dataset, e.text_bytes, e.bounds, e.ratios, e.num_classes
    torch.manual_seed(int(t["seed"]))
    model = OcrModel(m, int(pre["height"]), num_classes, attention).to(device).train()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[train] {n_params} parameters ({m['arch']}), batch {bs}")
    if a.expect_params is not None and n_params != a.expect_params:
        print(f"parameter count {n_params} != --expect-params {a.expect_params}", file=sys.stderr)
        sys.exit(3)
    params = [p for p in model.parameters() if p.requires_grad]
    okw = {"foreach": False} if a.optim == "loop" else {"fused": True} if a.optim == "fused" else {}
    opt = torch.optim.AdamW(params, lr=float(t["lr"]), weight_decay=float(t["weight_decay"]), **okw)
    sched = dict(t, max_steps=a.warmup + a.steps)
    sampler = PlanSampler(text_bytes, bounds, ratios, bs, int(t["seed"]), a.warmup + a.steps)
    lkw = dict(persistent_workers=True, prefetch_factor=a.prefetch_factor, worker_init_fn=worker_init) if workers > 0 else {}
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, num_workers=workers, collate_fn=collate,
                                         pin_memory=cuda, **lkw)
    try:
        with open("/proc/self/clear_refs", "w") as f: f.write("5")  # reset VmHWM, as bench.cpp does
    except OSError: pass
    if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(device)
    grad_clip = float(t["grad_clip"])
    wait = compute = 0.0
    samples = 0
    it = iter(loader)
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        images, targets, target_lengths, input_lengths = next(it)
        t1 = time.perf_counter()
        lr = lr_at(step, sched)
        for g in opt.param_groups: g["lr"] = lr
        x = images.to(device, non_blocking=cuda)
        with torch.autocast("cuda", dtype=dtype, enabled=cuda and dtype != torch.float32):
            log_probs = torch.log_softmax(model(x, input_lengths).float(), 2).transpose(0, 1)  # T, N, C
            loss = F.ctc_loss(log_probs, targets.to(device), input_lengths.to(device), target_lengths.to(device),
                              blank=0, reduction="mean", zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        if grad_clip > 0:
            if a.optim == "loop": clip_like_libtorch(params, grad_clip)
            else: torch.nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        loss.item()
        if cuda: torch.cuda.synchronize(device)
        t2 = time.perf_counter()
        if step >= a.warmup:
            wait += t1 - t0; compute += t2 - t1; samples += images.size(0)
    worker_rss = sum(vm_hwm_mib(w.pid) for w in getattr(it, "_workers", []))
    total = max(1e-9, wait + compute)
    row = {"command": "train-python", "target": a.config, "device": f"{device} ({name})" if cuda else "cpu",
           "torch": torch.__version__, "dtype": str(dtype).split(".")[-1], "attention": attention,
           "mask_padding": bool(m.get("mask_padding")), "optim": a.optim, "workers": workers, "prefetch_factor": a.prefetch_factor, "params": n_params,
           "batch_size": bs, "warmup": a.warmup, "steps": a.steps, "samples_s": samples / total,
           "step_ms": 1000 * total / a.steps, "wait_ms": 1000 * wait / a.steps, "compute_ms": 1000 * compute / a.steps,
           "wait_share": wait / total, "rss_mb": vm_hwm_mib(), "workers_rss_mb": worker_rss,
           "cuda_mb": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None}
    print(f"[bench] batch {bs}: {row['samples_s']:.1f} samples/s, step {row['step_ms']:.1f} ms "
          f"(wait {row['wait_ms']:.1f}, compute {row['compute_ms']:.1f}), last loss {loss.item():.4f}")
    if a.json:
        with open(a.json, "a") as f: f.write(json.dumps(row) + "\n")
    del it, loader  # stop this batch size's workers before the next one starts
    gc.collect()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    ap.add_argument("--batch-sizes", help="comma-separated (default: train.batch_size)")
    ap.add_argument("--steps", type=int, default=100, help="timed steps per batch size")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps first (as `ocrkit bench train --warmup`)")
    ap.add_argument("--workers", type=int, help="loader processes (default: data.workers, 0 there = cores - 1)")
    ap.add_argument("--prefetch-factor", type=int, default=2, help="batches in flight per worker")
    ap.add_argument("--device", help="cuda | cuda:N | cpu (default: runtime.device, auto = cuda if available)")
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"])
    ap.add_argument("--attention", choices=["auto", "flash", "sdpa", "eager"])
    ap.add_argument("--optim", choices=["default", "loop", "fused"], default="default",
                    help="default: PyTorch's AdamW/clip (foreach); loop: per-parameter like libtorch; fused")
    ap.add_argument("--num-classes", type=int, help="override charset size + 1")
    ap.add_argument("--expect-params", type=int, help="exit 3 unless the model has exactly N parameters")
    ap.add_argument("--json", help="append one JSON object per batch size to this file")
    a = ap.parse_args()
    if a.steps < 1 or a.warmup < 0: sys.exit("--steps must be >= 1 and --warmup >= 0")
    cfg = load_config(a.config, a.set)
    m, pre, t, d, rt = cfg["model"], cfg["preprocess"], cfg["train"], cfg["data"], cfg["runtime"]
    dev = a.device or rt["device"]
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if dev == "auto" else dev
    device = torch.device(dev)
    cuda = device.type == "cuda"
    prec = a.precision or rt["precision"]
    dtype = {"auto": torch.bfloat16 if cuda else torch.float32, "fp32": torch.float32, "bf16": torch.bfloat16,
             "fp16": torch.float16}[prec]
    if dtype != torch.float32 and not cuda: sys.exit("bf16/fp16 needs a CUDA device (as in ocrkit)")
    attention = a.attention or rt["attention"]
    if attention == "auto": attention = "flash" if cuda and dtype != torch.float32 else "sdpa"
    if attention == "flash" and not m.get("mask_padding"):  # compat::sdpa(flash_only): the flash kernel alone
        torch.backends.cuda.enable_mem_efficient_sdp(False)
        torch.backends.cuda.enable_math_sdp(False)
        if hasattr(torch.backends.cuda, "enable_cudnn_sdp"): torch.backends.cuda.enable_cudnn_sdp(False)
    torch.set_num_threads(int(rt["threads"]) or os.cpu_count())
    cv2.setNumThreads(1)
    workers = a.workers if a.workers is not None else (int(d["workers"]) or max(1, (os.cpu_count() or 2) - 1))
    if cfg["augment"].get("enabled", True):
        print("[note] augmentation is not reproduced: run `ocrkit bench train` with --set augment.enabled=false")

    symbols = charset_symbols(str(cfg["charset"]))
    ids = {s: i + 1 for i, s in enumerate(symbols)}  # class 0 = CTC blank
    num_classes = a.num_classes or len(symbols) + 1
    items, bounds, skipped = [], [0], 0
    if not d["train"]: sys.exit("config key 'data.train' lists no training data")
    for src in d["train"]:
        got, bad = read_labels(str(src), ids)
        items += got; skipped += bad; bounds.append(len(items))
    ratios = [float(r) for r in d["train_ratios"] or []]
    if ratios and len(ratios) != len(d["train"]):
        sys.exit(f"data.train_ratios has {len(ratios)} entries for {len(d['train'])} training sources "
                 "(add --set data.train_ratios=[1] for one source)")
    if not items: sys.exit("no usable training items")
    dataset = LineDataset(items, ids, pre)
    text_bytes = [len(txt.encode("utf-8")) for _, txt in items]
    name = torch.cuda.get_device_name(device) if cuda else "cpu"
    print(f"[runtime] torch {torch.__version__} device={device} ({name}) dtype={str(dtype).split('.')[-1]} "
          f"attention={attention} mask_padding={bool(m.get('mask_padding'))} workers={workers} prefetch_factor={a.prefetch_factor} optim={a.optim} "
          f"threads={torch.get_num_threads()} python {sys.version.split()[0]}")
    print(f"[data] {len(items)} training items from {len(d['train'])} source(s) ({skipped} skipped), "
          f"charset {len(symbols)} characters, {num_classes} classes")

    batch_sizes = [int(x) for x in (a.batch_sizes or str(t["batch_size"])).split(",")]
    rows = []
    for bs in batch_sizes:
        env = argparse.Namespace(m=m, pre=pre, t=t, device=device, cuda=cuda, dtype=dtype, name=name, attention=attention,
                                 workers=workers, dataset=dataset, text_bytes=text_bytes, bounds=bounds, ratios=ratios,
                                 num_classes=num_classes)
        rows.append(bench_batch_size(bs, a, env))

    print("\n| command | config | device | batch | steps | samples/s | step ms | wait ms | compute ms | wait % "
          "| peak RSS MiB | workers RSS MiB | CUDA MiB |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cmb = "-" if r["cuda_mb"] is None else f"{r['cuda_mb']:.0f}"
        print(f"| {r['command']} | {os.path.basename(r['target'])} | {r['device']} | {r['batch_size']} | {r['steps']} | "
              f"{r['samples_s']:.1f} | {r['step_ms']:.1f} | {r['wait_ms']:.1f} | {r['compute_ms']:.1f} | "
              f"{100 * r['wait_share']:.1f} | {r['rss_mb']:.0f} | {r['workers_rss_mb']:.0f} | {cmb} |")


if __name__ == "__main__":
    main()
