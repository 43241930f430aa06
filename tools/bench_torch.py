#!/usr/bin/python3
"""bench_torch.py — the PyTorch side of `make bench`: how many images per second
PyTorch trains and evaluates one of the benchmark models at on this machine.

    /usr/bin/python3 tools/bench_torch.py [--model vit] [--steps 40] [--warmup 5] [--max-threads 2]
                                          [--runs 5]

The models (--model), each the C one's architecture under the C one's names:
  vit     torchvision's VisionTransformer for 28x28 images, P = 7, C = 64,
          6 layers, 4 heads, MLP 128, 10 classes, with conv_proj given one
          input channel
  hybrid  tools/reference.py's ResNet as src/resnet.c's resnet_hybrid_stem
          (-> a (64,4,4) map), into torchvision's VisionTransformer with
          image_size 4, patch_size 1 and conv_proj taking 64 channels
  cnn     tools/reference.py's ResNet as resnet_cnn_body (-> (256,2,2)),
          global average pooling, a Linear(256, 10) head
  vitb16  torchvision's vit_b_16(weights=None), inference only (below)
The optimizer is torch.optim.AdamW (weight decay where src/adamw.c puts it,
constant learning rate, no clipping); batches of 128 real Fashion-MNIST
training images, the first 16 batches of the training set in file order,
normalised as (pixel/255 - 0.2860)/0.3530, used round and round. tools/bench.c
does exactly the same in C.

Threads: PyTorch has two pools. Its own operations run on torch.set_num_threads
threads (OpenMP); its matrix products go to the system BLAS, OpenBLAS on Debian,
which keeps a pool of its own, as many threads as cores unless told otherwise
(openblas_set_num_threads, called here through ctypes). So every pair of counts
1..N of each is tried (just torch's when the BLAS is not OpenBLAS), and the best
pair kept for each figure.

For each pair, after --warmup steps:
  training  = --steps of zero_grad + forward + cross-entropy + backward + AdamW step
  inference = --steps forward passes in eval mode under torch.inference_mode()
images/s = steps * 128 / wall time.

Output, one result per line (tools/bench.sh reads the `best` line), after the
name of the kernels OpenBLAS chose for this CPU (or OPENBLAS_CORETYPE named):
    torch vit blas_core=Haswell
    torch vit threads=1 blas_threads=1 train_img_per_s=950.1 infer_img_per_s=4012.7 loss=1.234
    torch vit threads=1 blas_threads=2 train_img_per_s=... infer_img_per_s=... loss=...
    ... (threads=2 with blas_threads=1 and 2)
    torch vit best train_img_per_s=... infer_img_per_s=...

vitb16 is ViT-B/16 at 224x224 (86,567,656 parameters, random weights from the
seed) in eval() under torch.inference_mode(), on random images: for each
pair of thread counts, the best of --runs forward passes of a batch of 1 and of 8,
after one untimed pass each, in milliseconds:
    torch vitb16 threads=1 blas_threads=2 ms_batch1=420.7 ms_batch8=4408.2
    torch vitb16 best ms_batch1=... ms_batch8=...
Needs Debian's python3-torch (1.13), python3-torchvision and python3-numpy.
"""

import argparse
import ctypes
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import reference  # tools/reference.py: the ResNet of src/resnet.h, as torch modules

IMAGE, PATCH, WIDTH, LAYERS, HEADS, MLP, CLASSES, BATCH = 28, 7, 64, 6, 4, 128, 10, 128
BATCHES = 16  # distinct batches, cycled
MEAN, STD = 0.2860, 0.3530
LR, WEIGHT_DECAY, SEED = 1e-3, 0.05, 1


def openblas():
    """The OpenBLAS that torch's matrix products call (Debian's torch calls the
    system BLAS, libblas.so.3, already loaded), or None when that BLAS is another."""
    try:
        blas = ctypes.CDLL("libblas.so.3")
        blas.openblas_set_num_threads.argtypes = [ctypes.c_int]
        blas.openblas_get_corename.restype = ctypes.c_char_p
        return blas
    except (OSError, AttributeError):
        return None


def thread_settings(max_threads):
    """Sets each pair (torch's threads, OpenBLAS's threads), 1..max_threads each, in
    turn, and yields its label."""
    blas = openblas()
    for threads in range(1, max_threads + 1):
        torch.set_num_threads(threads)
        if blas is None:
            yield f"threads={threads} blas_threads=own"
            continue
        for blas_threads in range(1, max_threads + 1):
            blas.openblas_set_num_threads(blas_threads)
            yield f"threads={threads} blas_threads={blas_threads}"


def data_dir():
    """The Fashion-MNIST directory, as the C programs find it."""
    return os.environ.get("FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"


def read_idx(path, header_bytes, count):
    """The first count items after an IDX header, as uint8."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        f.read(header_bytes)
        return np.frombuffer(f.read(count), dtype=np.uint8)


def find(directory, name):
    """name or name.gz under directory."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"bench_torch: no {name}[.gz] in {directory} (set FASHION_MNIST_DIR)")


def load_batches():
    """images (BATCHES,B,1,28,28) float32 normalised, labels (BATCHES,B) int64."""
    n = BATCHES * BATCH
    d = data_dir()
    pixels = read_idx(find(d, "train-images-idx3-ubyte"), 16, n * IMAGE * IMAGE)
    labels = read_idx(find(d, "train-labels-idx1-ubyte"), 8, n)
    x = (pixels.astype(np.float32) / 255.0 - MEAN) / STD
    x = torch.from_numpy(x.reshape(BATCHES, BATCH, 1, IMAGE, IMAGE).copy())
    y = torch.from_numpy(labels.astype(np.int64).reshape(BATCHES, BATCH).copy())
    return x, y


# src/resnet.c's configurations, as reference.ResNet's arguments: in_channels,
# root_width, root_kernel, root_stride, groups, stages [(units, width, stride)].
HYBRID_STEM = (1, 16, 7, 2, 8, [(1, 16, 2)])                       # -> (64,4,4)
CNN_BODY = (1, 16, 7, 2, 8, [(2, 16, 1), (2, 32, 2), (2, 64, 2)])  # -> (256,2,2)


def zero_gn3(resnet):
    """Each unit's last GroupNorm scale at 0, as src/resnet.c's resnet_init."""
    for name, p in resnet.named_parameters():
        if name.endswith("gn3.weight"):
            nn.init.zeros_(p)


def encoder(image_size, patch_size):
    """torchvision VisionTransformer's arguments for the benchmark's encoder and head."""
    return dict(image_size=image_size, patch_size=patch_size, num_layers=LAYERS,
                num_heads=HEADS, hidden_dim=WIDTH, mlp_dim=MLP, num_classes=CLASSES)


def build_vit():
    """torchvision's ViT with a one-channel patch embedding."""
    model = torchvision.models.VisionTransformer(**encoder(IMAGE, PATCH))
    model.conv_proj = nn.Conv2d(1, WIDTH, kernel_size=PATCH, stride=PATCH)
    return model


def build_hybrid():
    """reference.Hybrid: the stem's (64,4,4) map as 1x1 patches into torchvision's ViT."""
    stem = reference.ResNet(*HYBRID_STEM)
    zero_gn3(stem)
    enc = encoder(4, 1)
    del enc["image_size"], enc["patch_size"]
    return reference.Hybrid(stem, 4, **enc)


def build_cnn():
    """reference.Cnn: the ResNet body, global average pooling, a linear head (zero, as cnn_init)."""
    body = reference.ResNet(*CNN_BODY)
    zero_gn3(body)
    model = reference.Cnn(body, CLASSES)
    nn.init.zeros_(model.head.weight)
    nn.init.zeros_(model.head.bias)
    return model


MODELS = {"vit": build_vit, "hybrid": build_hybrid, "cnn": build_cnn,
          "vitb16": lambda: torchvision.models.vit_b_16(weights=None)}


def build_model(name):
    """The benchmark model called name, from the same seed every time."""
    torch.manual_seed(SEED)
    return MODELS[name]()


def decays(name):
    """src/adamw.c's decays_by_name: the name ends in "weight" and its module
    is not a LayerNorm or a GroupNorm ("ln*", "gn*", "*norm*"): Linear and
    conv weights only."""
    if not name.endswith("weight"):
        return False
    module = name[:-len("weight")].removesuffix(".").rsplit(".", 1)[-1]
    return module != "" and not module.startswith(("ln", "gn")) and "norm" not in module


def build_optimizer(model):
    """AdamW, decay where src/adamw.c puts it."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if decays(name) else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": WEIGHT_DECAY},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8)


def train_rate(model, optimizer, x, y, steps, warmup):
    """Training images/s over steps, after warmup steps, and the last loss."""
    model.train()

    def step(i):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[i % BATCHES]), y[i % BATCHES])
        loss.backward()
        optimizer.step()
        return loss

    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        loss = step(warmup + i)
    return steps * BATCH / (time.perf_counter() - start), loss.item()


def infer_rate(model, x, steps, warmup):
    """Inference images/s over steps forward passes, after warmup passes."""
    model.eval()
    with torch.inference_mode():
        for i in range(warmup):
            model(x[i % BATCHES])
        start = time.perf_counter()
        for i in range(steps):
            model(x[(warmup + i) % BATCHES])
        return steps * BATCH / (time.perf_counter() - start)


def best_pass_ms(model, x, runs):
    """The best of runs forward passes on x, in milliseconds, after one untimed."""
    with torch.inference_mode():
        model(x)
        best = float("inf")
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            best = min(best, 1e3 * (time.perf_counter() - start))
    return best


def bench_vitb16(max_threads, runs):
    """ViT-B/16 inference at batch 1 and 8 for each pair of thread counts; prints the lines."""
    model = build_model("vitb16").eval()
    x = torch.randn(8, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    best1 = best8 = float("inf")
    for label in thread_settings(max_threads):
        ms1, ms8 = best_pass_ms(model, x[:1], runs), best_pass_ms(model, x, runs)
        print(f"torch vitb16 {label} ms_batch1={ms1:.1f} ms_batch8={ms8:.1f}", flush=True)
        best1, best8 = min(best1, ms1), min(best8, ms8)
    print(f"torch vitb16 best ms_batch1={best1:.1f} ms_batch8={best8:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=MODELS, default="vit", help="the model (default vit)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--max-threads", type=int, default=2,
                        help="thread counts 1..N of torch and of OpenBLAS are tried, the best "
                             "kept (default 2)")
    parser.add_argument("--runs", type=int, default=5,
                        help="vitb16: timed passes of each batch size, the best kept (default 5)")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.max_threads < 1 or args.runs < 1:
        parser.error("--steps, --max-threads and --runs must be >= 1, --warmup >= 0")
    blas = openblas()
    core = blas.openblas_get_corename().decode() if blas is not None else "not OpenBLAS"
    print(f"torch {args.model} blas_core={core}", flush=True)
    if args.model == "vitb16":
        bench_vitb16(args.max_threads, args.runs)
        return

    x, y = load_batches()
    best_train = best_infer = 0.0
    for label in thread_settings(args.max_threads):
        model = build_model(args.model)  # the same start for every thread setting
        train, loss = train_rate(model, build_optimizer(model), x, y, args.steps, args.warmup)
        infer = infer_rate(model, x, args.steps, args.warmup)
        print(f"torch {args.model} {label} train_img_per_s={train:.1f} infer_img_per_s={infer:.1f} "
              f"loss={loss:.3f}", flush=True)
        best_train, best_infer = max(best_train, train), max(best_infer, infer)
    print(f"torch {args.model} best train_img_per_s={best_train:.1f} infer_img_per_s={best_infer:.1f}")


if __name__ == "__main__":
    main()
