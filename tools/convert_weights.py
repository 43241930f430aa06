#!/usr/bin/python3
"""convert_weights.py — pretrained ViT weights into the project's safetensors.

    /usr/bin/python3 tools/convert_weights.py vit_b_16-c867db91.pth build/models/vit_b_16.safetensors
    /usr/bin/python3 tools/convert_weights.py ViT-B_16.npz build/models/vit_b_16_jax.safetensors

IN is either
  - a torchvision VisionTransformer state dict (.pth, as torch.save writes it;
    torchvision's own files, e.g. ViT_B_16_Weights.IMAGENET1K_V1's
    vit_b_16-c867db91.pth, 81.07% top-1), whose names are already the
    project's: the tensors are copied as F32, or
  - one of the paper's own JAX checkpoints (.npz: google-research/vision_transformer's
    ViT-B_16.npz, or the AugReg files such as
    B_16-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.0-sd_0.0--imagenet2012-steps_20k-lr_0.01-res_224.npz),
    renamed to torchvision's layout (JAX_NAMES below): the query, key and value
    kernels (C,NH,hs) reshaped to (C,C), transposed and concatenated into
    in_proj_weight (3C,C); Dense kernels (in,out) transposed to Linear's (out,in);
    the patch embedding's HWIO kernel to Conv2d's OIHW.

OUT gets every tensor as F32 under torchvision's names, and the metadata the C
program reads: the constructor values (image_size, patch_size, in_channels,
hidden_dim, mlp_dim, num_layers, num_heads, num_classes; representation_size
with a pre-logits layer), "model" vit, "pool" cls, "gelu" (erf for torchvision's
nn.GELU(); tanh for the JAX checkpoints, trained with flax's nn.gelu, the tanh
form), the per-channel "image_mean" and "image_std" (ImageNet's for torchvision;
0.5 for the JAX files, whose inputs are in [-1, 1]), the preprocessing
("resize_size" 256, "crop_size" 224: torchvision's preset), "class_names"
(one per line: torchvision's 1,000 ImageNet categories when the head has
1,000 outputs, or --names FILE), and "source" (IN's file name).

The number of heads is not in the weights: --heads, else the paper's for the
width (192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16). Needs Debian's
python3-torch, python3-torchvision and python3-numpy.
"""

import argparse
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_torch import save_safetensors  # noqa: E402

HEADS_BY_WIDTH = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}
IMAGENET_MEAN, IMAGENET_STD = "0.485,0.456,0.406", "0.229,0.224,0.225"
JAX_MEAN, JAX_STD = "0.5,0.5,0.5", "0.5,0.5,0.5"


def fail(path, what):
    sys.exit(f"convert_weights: {path}: {what}")


def imagenet_categories():
    """torchvision's 1,000 ImageNet class names, in the labels' order (no download)."""
    from torchvision.models import ViT_B_16_Weights
    return list(ViT_B_16_Weights.IMAGENET1K_V1.meta["categories"])


# ---- torchvision's .pth -------------------------------------------------------------


def read_pth(path):
    """The state dict of a .pth file (a state dict, a module, or a dict holding
    one under "model" or "state_dict") as name -> float32 tensor."""
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 (torch raises many kinds)
        fail(path, f"not a PyTorch file torch.load reads: {e}")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for key in ("model", "state_dict"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or "conv_proj.weight" not in obj:
        fail(path, "not a torchvision VisionTransformer state dict (no conv_proj.weight)")
    return OrderedDict((k, v.detach().to(torch.float32).contiguous()) for k, v in obj.items())


# ---- the paper's .npz --------------------------------------------------------------

def jax_to_torchvision(w, path):
    """The JAX checkpoint's arrays (name -> numpy array) under torchvision's names."""
    prefix = "opt/target/" if "opt/target/embedding/kernel" in w else ""

    def get(name):
        if prefix + name not in w:
            fail(path, f"no array {prefix + name} (not a ViT checkpoint of the paper's layout?)")
        return np.asarray(w[prefix + name], dtype=np.float32)

    if prefix + "cls" not in w:
        fail(path, "no class token 'cls': a model pooled without one is not supported")
    kernel = get("embedding/kernel")  # (P,P,Cin,C) HWIO
    C = kernel.shape[3]
    out = OrderedDict()
    out["class_token"] = get("cls").reshape(1, 1, C)
    out["conv_proj.weight"] = kernel.transpose(3, 2, 0, 1)  # OIHW
    out["conv_proj.bias"] = get("embedding/bias")
    out["encoder.pos_embedding"] = get("Transformer/posembed_input/pos_embedding")
    L = 0
    while f"{prefix}Transformer/encoderblock_{L}/LayerNorm_0/scale" in w:
        L += 1
    if L == 0:
        fail(path, "no Transformer/encoderblock_0")
    # the original checkpoints number the block's parts 0 (LayerNorm), 1 (attention),
    # 2 (LayerNorm), 3 (MLP); big_vision's 0 (LayerNorm), 0 (attention), 1, 0
    first = f"{prefix}Transformer/encoderblock_0/"
    original = first + "MultiHeadDotProductAttention_1/query/kernel" in w
    att, ln2, mlp = (1, 2, 3) if original else (0, 1, 0)
    for i in range(L):
        b = f"Transformer/encoderblock_{i}/"
        t = f"encoder.layers.encoder_layer_{i}."
        a = f"{b}MultiHeadDotProductAttention_{att}/"
        out[t + "ln_1.weight"] = get(b + "LayerNorm_0/scale")
        out[t + "ln_1.bias"] = get(b + "LayerNorm_0/bias")
        # query, key, value kernels (C,NH,hs): x·kernel, so Linear's weight is its transpose
        out[t + "self_attention.in_proj_weight"] = np.concatenate(
            [get(a + f"{p}/kernel").reshape(C, C).T for p in ("query", "key", "value")])
        out[t + "self_attention.in_proj_bias"] = np.concatenate(
            [get(a + f"{p}/bias").reshape(C) for p in ("query", "key", "value")])
        out[t + "self_attention.out_proj.weight"] = get(a + "out/kernel").reshape(C, C).T
        out[t + "self_attention.out_proj.bias"] = get(a + "out/bias")
        out[t + "ln_2.weight"] = get(b + f"LayerNorm_{ln2}/scale")
        out[t + "ln_2.bias"] = get(b + f"LayerNorm_{ln2}/bias")
        for j, k in ((0, 0), (1, 3)):  # Dense_0 -> mlp.0, Dense_1 -> mlp.3
            out[t + f"mlp.{k}.weight"] = get(b + f"MlpBlock_{mlp}/Dense_{j}/kernel").T
            out[t + f"mlp.{k}.bias"] = get(b + f"MlpBlock_{mlp}/Dense_{j}/bias")
    out["encoder.ln.weight"] = get("Transformer/encoder_norm/scale")
    out["encoder.ln.bias"] = get("Transformer/encoder_norm/bias")
    if prefix + "pre_logits/kernel" in w:
        out["heads.pre_logits.weight"] = get("pre_logits/kernel").T
        out["heads.pre_logits.bias"] = get("pre_logits/bias")
    out["heads.head.weight"] = get("head/kernel").T
    out["heads.head.bias"] = get("head/bias")
    return OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v))) for k, v in out.items())


def read_npz(path):
    try:
        w = np.load(path)
    except Exception as e:  # noqa: BLE001
        fail(path, f"not a NumPy .npz file: {e}")
    return jax_to_torchvision(w, path)


# ---- the configuration, from the shapes --------------------------------------------


def config_of(tensors, path, heads):
    """torchvision's constructor values, read off the shapes."""
    C, Cin, P, P2 = tensors["conv_proj.weight"].shape
    T = tensors["encoder.pos_embedding"].shape[-2]
    side = math.isqrt(T - 1)
    if P != P2 or side * side != T - 1:
        fail(path, f"patch {P}x{P2} and {T} tokens: not a square grid of square patches")
    L = sum(1 for k in tensors if k.endswith(".ln_1.weight"))
    heads = heads or HEADS_BY_WIDTH.get(C)
    if heads is None:
        fail(path, f"width {C}: how many heads? (give --heads)")
    cfg = OrderedDict([
        ("image_size", side * P), ("patch_size", P), ("in_channels", Cin), ("hidden_dim", C),
        ("mlp_dim", tensors["encoder.layers.encoder_layer_0.mlp.0.weight"].shape[0]),
        ("num_layers", L), ("num_heads", heads),
        ("num_classes", tensors["heads.head.weight"].shape[0])])
    if C % heads != 0:
        fail(path, f"width {C} is not divisible by {heads} heads")
    return cfg


def class_names(K, names_file):
    if names_file:
        with open(names_file, encoding="utf-8") as f:
            names = [line.rstrip("\n") for line in f if line.strip()]
        if len(names) != K:
            fail(names_file, f"{len(names)} class names for a head of {K} classes")
        return names
    return imagenet_categories() if K == 1000 else [f"class {k}" for k in range(K)]


def convert(src, dst, heads=None, names_file=None, gelu=None):
    """Reads src (.pth or .npz), writes dst; returns the metadata."""
    jax = src.endswith(".npz")
    tensors = read_npz(src) if jax else read_pth(src)
    cfg = config_of(tensors, src, heads)
    names = class_names(cfg["num_classes"], names_file)
    if any("\n" in n for n in names):
        fail(src, "a class name with a newline")
    meta = OrderedDict(format="pt", model="vit")
    meta.update((k, str(v)) for k, v in cfg.items())
    if "heads.pre_logits.weight" in tensors:
        meta["representation_size"] = str(tensors["heads.pre_logits.weight"].shape[0])
    meta.update(pool="cls", gelu=gelu or ("tanh" if jax else "erf"),
                image_mean=JAX_MEAN if jax else IMAGENET_MEAN,
                image_std=JAX_STD if jax else IMAGENET_STD,
                resize_size="256", crop_size=str(cfg["image_size"]),
                source=os.path.basename(src)[:200], class_names="\n".join(names))
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    save_safetensors(dst, tensors, meta)
    count = sum(t.numel() for t in tensors.values())
    print(f"{dst}: ViT of {cfg['num_layers']} layers, width {cfg['hidden_dim']}, "
          f"{cfg['num_heads']} heads, MLP {cfg['mlp_dim']}, patch {cfg['patch_size']}, "
          f"{cfg['image_size']}x{cfg['image_size']} images, {cfg['num_classes']} classes, "
          f"{count:,} parameters, GELU {meta['gelu']}")
    return meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", help="torchvision state dict (.pth) or JAX checkpoint (.npz)")
    parser.add_argument("output", help="the safetensors file to write")
    parser.add_argument("--heads", type=int, help="attention heads (default: the paper's)")
    parser.add_argument("--names", help="class names, one per line (default: ImageNet's)")
    parser.add_argument("--gelu", choices=["erf", "tanh"],
                        help="the MLP's GELU (default: erf for .pth, tanh for .npz)")
    args = parser.parse_args()
    if not os.path.isfile(args.input):
        fail(args.input, "not found")
    convert(args.input, args.output, args.heads, args.names, args.gelu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
