#!/usr/bin/python3
"""check_pretrained.py — proof that the C model is torchvision's (`make check-pretrained`).

    /usr/bin/python3 tools/check_pretrained.py [--dir build/check-pretrained] [--images 4]

1. torchvision's vit_b_16 built with random weights (no download): its own
   initialisation, then every tensor it leaves constant (the zero head, LayerNorm
   weights and biases, the class token, the attention and MLP biases) given
   random values too, so a tensor read in the wrong place cannot pass. Saved as
   a state dict (.pth), converted by tools/convert_weights.py, run by
   build/pretrained_logits on a batch of images, and the logits compared with
   torchvision's own: the largest difference must be below 1e-4 of the
   logits' scale (their largest magnitude).
2. The paper's .npz path: a small ViT in the JAX checkpoints' layout (the
   names and shapes of google-research/vision_transformer's files, GELU's tanh
   form), made here with random arrays, its logits computed in NumPy from the
   JAX layout itself (x·kernel, (C,NH,hs) attention kernels), converted and run
   in C: the same bound.
Exits 1 if either is above it. The images are ImageNet-normalised random
patterns: smooth gradients and noise, as the preset would give.
"""

import argparse
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_weights  # noqa: E402

SEED = 1234
TOLERANCE = 1e-4  # of the logits' largest magnitude


def c_logits(model, images, directory, K):
    """build/pretrained_logits on images (n,Cin,S,S) float32: logits (n,K)."""
    inputs = os.path.join(directory, "images.f32")
    outputs = os.path.join(directory, "logits.f32")
    images.astype("<f4").tofile(inputs)
    subprocess.run(["build/pretrained_logits", model, inputs, outputs], check=True)
    return np.fromfile(outputs, dtype="<f4").reshape(len(images), K)


def compare(what, got, want):
    """Prints and returns whether the largest difference is within the tolerance."""
    scale = float(np.abs(want).max())
    diff = float(np.abs(got - want).max())
    agree = int((got.argmax(1) == want.argmax(1)).sum())
    ok = diff <= TOLERANCE * scale
    print(f"{what}: largest logit difference {diff:.3g}, the logits' scale {scale:.3g}: "
          f"{diff / scale:.2e} of it (at most {TOLERANCE:g}); top-1 agrees on {agree} of "
          f"{len(got)} images: {'ok' if ok else 'FAILED'}")
    return ok


def test_images(n, S, mean, std, rng):
    """n images (n,3,S,S) in [0, 1], normalised: gradients, blobs and noise."""
    y, x = np.mgrid[0:S, 0:S] / (S - 1)
    out = []
    for i in range(n):
        a = rng.uniform(0, 2 * math.pi, 3)
        img = np.stack([0.5 + 0.5 * np.sin(2 * math.pi * (x * math.cos(a[c]) + y * math.sin(a[c]))
                                                 * (1 + i) + a[c]) for c in range(3)])
        img = np.clip(0.7 * img + 0.3 * rng.uniform(0, 1, img.shape), 0, 1)
        out.append((img - mean[:, None, None]) / std[:, None, None])
    return np.ascontiguousarray(np.stack(out), dtype=np.float32)


# ---- 1. torchvision's vit_b_16 ------------------------------------------------------


@torch.no_grad()
def randomize_constants(vit):
    """Random values for every tensor torchvision's initialisation leaves constant."""
    for name, p in vit.named_parameters():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "encoder.ln.weight":
            p.copy_(1.0 + 0.1 * torch.randn_like(p))
        elif name.endswith("bias") or name == "class_token":
            p.copy_(0.02 * torch.randn_like(p))
        elif name == "heads.head.weight":
            p.copy_(torch.randn_like(p) / math.sqrt(p.shape[1]))
    return vit


def check_torchvision(directory, n):
    torch.manual_seed(SEED)
    vit = randomize_constants(torchvision.models.vit_b_16()).eval()
    params = sum(p.numel() for p in vit.parameters())
    pth = os.path.join(directory, "vit_b_16_random.pth")
    torch.save(vit.state_dict(), pth)
    print(f"torchvision {torchvision.__version__} vit_b_16, random weights: {params:,} "
          f"parameters, saved as {pth}")
    model = os.path.join(directory, "vit_b_16_random.safetensors")
    convert_weights.convert(pth, model)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    images = test_images(n, 224, mean, std, np.random.default_rng(SEED))
    with torch.no_grad():
        want = vit(torch.from_numpy(images)).numpy()
    return compare(f"vit_b_16 on {n} images", c_logits(model, images, directory, 1000), want)


# ---- 2. the paper's JAX layout ------------------------------------------------------

# A small ViT of B/16's structure: 32x32 RGB, patch 8, width 48, 3 heads, MLP 96,
# 2 layers, 10 classes, with a pre-logits layer (the original checkpoints have one).
S, P, C, NH, MLP, L, K = 32, 8, 48, 3, 96, 2, 10


def jax_arrays(rng):
    """Random arrays under the JAX checkpoints' names and shapes."""
    hs, T = C // NH, (S // P) ** 2 + 1
    w = {"embedding/kernel": rng.normal(0, 1 / math.sqrt(3 * P * P), (P, P, 3, C)),
         "embedding/bias": rng.normal(0, 0.02, C), "cls": rng.normal(0, 0.02, (1, 1, C)),
         "Transformer/posembed_input/pos_embedding": rng.normal(0, 0.02, (1, T, C)),
         "Transformer/encoder_norm/scale": 1 + 0.1 * rng.normal(size=C),
         "Transformer/encoder_norm/bias": rng.normal(0, 0.02, C),
         "pre_logits/kernel": rng.normal(0, 1 / math.sqrt(C), (C, C)),
         "pre_logits/bias": rng.normal(0, 0.02, C),
         "head/kernel": rng.normal(0, 1 / math.sqrt(C), (C, K)), "head/bias": rng.normal(0, 0.02, K)}
    for i in range(L):
        b = f"Transformer/encoderblock_{i}/"
        for ln in ("LayerNorm_0", "LayerNorm_2"):
            w[b + ln + "/scale"] = 1 + 0.1 * rng.normal(size=C)
            w[b + ln + "/bias"] = rng.normal(0, 0.02, C)
        a = b + "MultiHeadDotProductAttention_1/"
        for part in ("query", "key", "value"):
            w[a + part + "/kernel"] = rng.normal(0, 1 / math.sqrt(C), (C, NH, hs))
            w[a + part + "/bias"] = rng.normal(0, 0.02, (NH, hs))
        w[a + "out/kernel"] = rng.normal(0, 1 / math.sqrt(C), (NH, hs, C))
        w[a + "out/bias"] = rng.normal(0, 0.02, C)
        m = b + "MlpBlock_3/"
        w[m + "Dense_0/kernel"] = rng.normal(0, 1 / math.sqrt(C), (C, MLP))
        w[m + "Dense_0/bias"] = rng.normal(0, 0.02, MLP)
        w[m + "Dense_1/kernel"] = rng.normal(0, 1 / math.sqrt(MLP), (MLP, C))
        w[m + "Dense_1/bias"] = rng.normal(0, 0.02, C)
    return {k: v.astype(np.float32) for k, v in w.items()}


def layer_norm(x, scale, bias):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-6) * scale + bias


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def jax_forward(w, images):
    """The JAX model, in float64, from its own layout: images (n,3,S,S) -> logits (n,K)."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = images.astype(np.float64).transpose(0, 2, 3, 1)  # NHWC, as flax
    n, g = len(x), S // P
    patches = x.reshape(n, g, P, g, P, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, g * g, P * P * 3)
    z = patches @ w["embedding/kernel"].reshape(P * P * 3, C) + w["embedding/bias"]
    z = np.concatenate([np.broadcast_to(w["cls"], (n, 1, C)), z], axis=1)
    z = z + w["Transformer/posembed_input/pos_embedding"]
    for i in range(L):
        b = f"Transformer/encoderblock_{i}/"
        a = b + "MultiHeadDotProductAttention_1/"
        y = layer_norm(z, w[b + "LayerNorm_0/scale"], w[b + "LayerNorm_0/bias"])
        q, k, v = (np.einsum("ntc,chd->nthd", y, w[a + p + "/kernel"]) + w[a + p + "/bias"]
                   for p in ("query", "key", "value"))
        logits = np.einsum("nqhd,nkhd->nhqk", q, k) / math.sqrt(C // NH)
        att = np.exp(logits - logits.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("nhqk,nkhd->nqhd", att, v)
        z = z + np.einsum("nqhd,hdc->nqc", o, w[a + "out/kernel"]) + w[a + "out/bias"]
        y = layer_norm(z, w[b + "LayerNorm_2/scale"], w[b + "LayerNorm_2/bias"])
        m = b + "MlpBlock_3/"
        h = gelu_tanh(y @ w[m + "Dense_0/kernel"] + w[m + "Dense_0/bias"])
        z = z + h @ w[m + "Dense_1/kernel"] + w[m + "Dense_1/bias"]
    z = layer_norm(z, w["Transformer/encoder_norm/scale"], w["Transformer/encoder_norm/bias"])
    pre = np.tanh(z[:, 0] @ w["pre_logits/kernel"] + w["pre_logits/bias"])
    return pre @ w["head/kernel"] + w["head/bias"]


def check_jax(directory, n):
    rng = np.random.default_rng(SEED)
    w = jax_arrays(rng)
    npz = os.path.join(directory, "vit_jax_tiny.npz")
    np.savez(npz, **w)
    print(f"a JAX-layout ViT ({L} layers, width {C}, {NH} heads, MLP {MLP}, patch {P}, "
          f"{S}x{S}, pre-logits, {K} classes) with random arrays: {npz}")
    model = os.path.join(directory, "vit_jax_tiny.safetensors")
    meta = convert_weights.convert(npz, model, heads=NH)
    if meta["gelu"] != "tanh":
        sys.exit("convert_weights: a .npz file should be marked gelu=tanh")
    half = np.array([0.5, 0.5, 0.5])
    images = test_images(n, S, half, half, rng)
    return compare(f"the JAX-layout ViT on {n} images", c_logits(model, images, directory, K),
                   jax_forward(w, images))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="build/check-pretrained", help="working directory")
    parser.add_argument("--images", type=int, default=4, help="images in the batch")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    ok = check_jax(args.dir, args.images)
    ok = check_torchvision(args.dir, args.images) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
