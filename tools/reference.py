#!/usr/bin/python3
"""reference.py — writes the PyTorch reference values the C tests compare against.

    /usr/bin/python3 tools/reference.py tests/fixtures      (what `make reference` runs)
    /usr/bin/python3 tools/reference.py tests/fixtures 10_probe.bin    (only that file)

Every layer of chapters 02-05 is run here with torch's OWN modules and
functions (nn.Linear, nn.Conv2d, F.unfold, F.softmax, nn.MultiheadAttention,
nn.LayerNorm, nn.GELU, and an encoder assembled from them exactly as
torchvision's VisionTransformer is), on small seeded random inputs with random
non-trivial weights (LayerNorm weights and every bias included, so a transposed
or ignored tensor cannot pass). Weights are kept in PyTorch's layouts, which
the C code uses unchanged. For chapter 06, torchvision's VisionTransformer
itself (with a one-channel conv_proj) gives the whole model's loss and the
autograd gradients of every parameter and of the images. For chapter 07,
the layers of a ResNet stem and of a CNN (F.conv2d, the paper's weight
standardisation in torch ops, nn.GroupNorm, F.relu, F.max_pool2d,
adaptive_avg_pool2d, and a whole ResNet root), in float64, with autograd's
gradients of every input and parameter; src/resnet.h's whole ResNet as a
module of those, loaded with the same weights by name; and the whole hybrid
(that ResNet in front of torchvision's VisionTransformer) and CNN (that ResNet,
average pooling, nn.Linear), with the loss's gradient of every parameter, in
float64. For chapter 08, nn.Conv2d with padding_mode='circular' and the
circular padding itself (F.pad(..., mode='circular')), in float64. For chapter 09,
NumPy's principal components (np.cov, np.linalg.eigh) of a small set of vectors.
For chapter 10, torchvision's own interpolate_embeddings on grids of position
embeddings and a tiny VisionTransformer rebuilt with them for 42x42 images; and
the paper's few-shot linear probe (regularised least squares) in NumPy; torch's
bilinear resampling and torch.optim.SGD with momentum.
For chapter 11, GELU's tanh form (nn.GELU(approximate='tanh')), and
torchvision's preset for ImageNet weights (PIL's bilinear resize, the centre
crop, the normalisation) on small PIL images; and a small ViT in the paper's JAX
layout converted by tools/convert_weights.py, with its logits in NumPy.
For chapter 12, masked patch prediction's loss on a tiny ViT with a fixed
corruption, and autograd's gradients of every parameter and the mask token.
Needs Debian's
python3-torch (1.13), python3-torchvision and python3-numpy.

The files (little-endian; the same text is in tests/fixture.h and
docs/reference-format.md):

    magic     8 bytes  "VITREF1\\n"
    count     u32      number of tensors
    count times:
      name_len  u32     1..127
      name      name_len bytes of ASCII, no NUL
      ndim      u32     1..4
      dims      ndim u32, each >= 1
      data      float32 x product(dims), row-major

and nothing after the last tensor. Same seed, same bytes: running this twice
gives identical files.
"""

import math
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

MAGIC = b"VITREF1\n"
SEED = 1234
LN_EPS = 1e-6


# ---- the file format ------------------------------------------------------------


def encode(tensors):
    """The bytes of a reference file holding tensors (name -> tensor), in order."""
    out = bytearray(MAGIC)
    out += struct.pack("<I", len(tensors))
    for name, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy()
        key = name.encode("ascii")
        assert 1 <= len(key) <= 127, name
        assert 1 <= a.ndim <= 4 and all(d >= 1 for d in a.shape), (name, a.shape)
        out += struct.pack("<I", len(key)) + key
        out += struct.pack("<I", a.ndim) + struct.pack(f"<{a.ndim}I", *a.shape)
        out += a.astype("<f4").tobytes()
    return bytes(out)


# The files to write: all of them, or those named after the directory.
ONLY = set()


def write(directory, filename, tensors):
    """Writes one reference file under a temporary name, then renames it;
    nothing when other files were named on the command line."""
    if ONLY and filename not in ONLY:
        return
    path = os.path.join(directory, filename)
    data = encode(tensors)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    print(f"{path}: {len(tensors)} tensors, {len(data)} bytes")


# ---- random weights -------------------------------------------------------------


@torch.no_grad()
def randomize(module):
    """Replaces every parameter by random values nobody could guess: matrices
    and convolution kernels scaled by 1/sqrt(fan_in), LayerNorm and GroupNorm
    weights around 1 (a ResNet unit's last GroupNorm too, which the paper
    starts at 0), biases around 0."""
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and name == "weight":
                p.copy_(1.0 + 0.5 * torch.randn_like(p))
            elif p.dim() >= 2 and name != "pos_embedding" and name != "class_token":
                p.copy_(torch.randn_like(p) / math.sqrt(p[0].numel()))
            else:
                p.copy_(0.5 * torch.randn_like(p))
    return module


# ---- torchvision's encoder, rebuilt from torch modules ------------------------
# The same classes, attribute names and forward passes as
# torchvision/models/vision_transformer.py (0.14), so state_dict() gives
# torchvision's parameter names; dropout is 0 and there is no head.


class MLPBlock(nn.Sequential):
    """Linear, GELU, Dropout, Linear, Dropout: parameters mlp.0.* and mlp.3.*."""

    def __init__(self, in_dim, mlp_dim):
        super().__init__(
            nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(0.0),
            nn.Linear(mlp_dim, in_dim), nn.Dropout(0.0))


class EncoderBlock(nn.Module):
    """torchvision's pre-LN block: x + MHA(LN1(x)), then + MLP(LN2(.))."""

    def __init__(self, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=LN_EPS)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=0.0,
                                                    batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=LN_EPS)
        self.mlp = MLPBlock(hidden_dim, mlp_dim)

    def forward(self, input):
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x)
        x = x + input
        y = self.ln_2(x)
        y = self.mlp(y)
        return x + y


class Encoder(nn.Module):
    """Position embedding, the blocks encoder_layer_0.., a final LayerNorm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim))
        self.dropout = nn.Dropout(0.0)
        layers = OrderedDict()
        for i in range(num_layers):
            layers[f"encoder_layer_{i}"] = EncoderBlock(num_heads, hidden_dim, mlp_dim)
        self.layers = nn.Sequential(layers)
        self.ln = nn.LayerNorm(hidden_dim, eps=LN_EPS)

    def forward(self, input):
        input = input + self.pos_embedding
        return self.ln(self.layers(self.dropout(input)))


class TinyVit(nn.Module):
    """torchvision's VisionTransformer up to the encoder output (no heads)."""

    def __init__(self, image_size, patch_size, in_channels, num_layers, num_heads, hidden_dim,
                 mlp_dim):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch_size,
                                   stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim)

    def process_input(self, x):
        n = x.shape[0]
        x = self.conv_proj(x)                                   # (B,C,H/P,W/P)
        return x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)  # (B,N,C)

    def forward(self, x):
        x = self.process_input(x)
        batch_class_token = self.class_token.expand(x.shape[0], -1, -1)
        return self.encoder(torch.cat([batch_class_token, x], dim=1))


# ---- chapter 02: embedding ------------------------------------------------------


def posemb_sincos_2d(h, w, width, temperature=10_000.0):
    """big_vision's posemb_sincos_2d (vit.py) in torch, in float64:
    [sin(x w_i) | cos(x w_i) | sin(y w_i) | cos(y w_i)], w_i = T^(-i/(C/4-1))."""
    assert width % 4 == 0
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                          torch.arange(w, dtype=torch.float64), indexing="ij")
    omega = torch.arange(width // 4, dtype=torch.float64) / (width // 4 - 1)
    omega = 1.0 / (temperature ** omega)
    y = torch.einsum("m,d->md", y.flatten(), omega)
    x = torch.einsum("m,d->md", x.flatten(), omega)
    return torch.cat([torch.sin(x), torch.cos(x), torch.sin(y), torch.cos(y)], dim=1)


def embedding():
    t = OrderedDict()
    # nn.Linear, with and without a bias: x (R,IN) -> (R,OUT)
    lin = randomize(nn.Linear(12, 5))
    x = torch.randn(6, 12)
    t.update({"linear.x": x, "linear.weight": lin.weight, "linear.bias": lin.bias,
              "linear.out": lin(x)})
    lin = randomize(nn.Linear(12, 5, bias=False))
    t.update({"linear_nobias.weight": lin.weight, "linear_nobias.out": lin(x)})
    # nn.Conv2d with K=3, stride 2, padding 1 on a 7x9 image
    conv = randomize(nn.Conv2d(3, 4, kernel_size=3, stride=2, padding=1))
    images = torch.randn(2, 3, 7, 9)
    t.update({"conv2d.images": images, "conv2d.weight": conv.weight,
              "conv2d.bias": conv.bias, "conv2d.out": conv(images)})
    # the patch embedding: Conv2d with kernel = stride = P = 4 on 8x12 images,
    # torch's unfold order for the patch rows, and the conv output as (B,N,C)
    P = 4
    conv = randomize(nn.Conv2d(2, 6, kernel_size=P, stride=P))
    images = torch.randn(2, 2, 8, 12)
    out = conv(images)                                        # (B,C,2,3)
    patch_emb = out.flatten(2).transpose(1, 2)                # (B,N,C)
    t.update({"patch.images": images,
              "patch.patches": F.unfold(images, P, stride=P).transpose(1, 2),
              "patch.weight": conv.weight, "patch.bias": conv.bias,
              "patch.conv_out": out, "patch.embedding": patch_emb})
    # class token in front, position embedding added: (B,N,C) -> (B,T,C)
    B, N, C = patch_emb.shape
    class_token = 0.5 * torch.randn(C)
    pos = 0.5 * torch.randn(N + 1, C)
    tokens = torch.cat([class_token.expand(B, 1, C), patch_emb], dim=1) + pos
    t.update({"tokens.class_token": class_token, "tokens.pos": pos, "tokens.out": tokens})
    # fixed 2D sin-cos position embeddings on a 3 x 5 grid, width 16
    t["sincos.pos"] = posemb_sincos_2d(3, 5, 16)
    # cosine similarity of every row with every other
    x = torch.randn(6, 5)
    t.update({"cosine.x": x,
              "cosine.sim": F.cosine_similarity(x[:, None, :], x[None, :, :], dim=-1)})
    return t


# ---- chapter 03: attention ------------------------------------------------------


def attention():
    t = OrderedDict()
    # softmax over rows, one of them far above and one far below zero
    x = 3.0 * torch.randn(4, 9)
    x[2] += 100.0
    x[3] -= 100.0
    t.update({"softmax.x": x, "softmax.out": F.softmax(x, dim=-1)})
    # scaled dot-product attention of one head: q, k, v (B,T,hs)
    B, T, hs = 2, 6, 4
    q, k, v = torch.randn(B, T, hs), torch.randn(B, T, hs), torch.randn(B, T, hs)
    att = F.softmax(q @ k.transpose(1, 2) / math.sqrt(hs), dim=-1)   # (B,T,T)
    t.update({"attention.q": q, "attention.k": k, "attention.v": v,
              "attention.att": att, "attention.out": att @ v})
    return t


# ---- chapter 04: multi-head attention -------------------------------------------


def multihead():
    B, T, C, NH = 2, 6, 12, 3
    mha = randomize(nn.MultiheadAttention(C, NH, batch_first=True)).eval()
    x = torch.randn(B, T, C)
    out, att = mha(x, x, x, need_weights=True, average_attn_weights=False)
    # the input projection and the heads side by side, for debugging
    qkv = F.linear(x, mha.in_proj_weight, mha.in_proj_bias)            # (B,T,3C)
    v = qkv[:, :, 2 * C:].reshape(B, T, NH, C // NH).transpose(1, 2)   # (B,NH,T,hs)
    concat = (att @ v).transpose(1, 2).reshape(B, T, C)
    return OrderedDict([
        ("mha.x", x), ("mha.in_proj_weight", mha.in_proj_weight),
        ("mha.in_proj_bias", mha.in_proj_bias), ("mha.out_proj.weight", mha.out_proj.weight),
        ("mha.out_proj.bias", mha.out_proj.bias), ("mha.qkv", qkv), ("mha.att", att),
        ("mha.concat", concat), ("mha.out", out)])


# ---- chapter 05: the encoder ----------------------------------------------------


def keep(seen, name):
    """A forward hook (or pre-hook) that keeps the first output (or input) of a
    module in seen[name]."""
    def hook(module, inputs, output=None):
        if name not in seen:
            seen[name] = inputs[0] if output is None else output
    return hook


def block_tensors(B, T, C, NH, MLP):
    """One EncoderBlock on x (B,T,C): its parameters under torchvision's names
    prefixed "block.", and the input and every intermediate the C block keeps
    (its BlockActivations) prefixed "block_acts."."""
    block = randomize(EncoderBlock(NH, C, MLP)).eval()
    x = torch.randn(B, T, C)
    seen = {}
    for name in ["ln_1", "self_attention", "ln_2", "mlp.0", "mlp.1", "mlp.3"]:
        block.get_submodule(name).register_forward_hook(keep(seen, name))
    out = block(x)
    attn_out = seen["self_attention"][0]
    _, att = block.self_attention(seen["ln_1"], seen["ln_1"], seen["ln_1"],
                                  need_weights=True, average_attn_weights=False)
    t = OrderedDict(("block." + k, v) for k, v in block.state_dict().items())
    acts = {"x": x, "ln1": seen["ln_1"], "att": att, "attn_out": attn_out, "res1": x + attn_out,
            "ln2": seen["ln_2"], "fc1": seen["mlp.0"], "gelu": seen["mlp.1"],
            "fc2": seen["mlp.3"], "out": out}
    t.update(("block_acts." + k, v) for k, v in acts.items())
    return t


def encoder_layers():
    t = OrderedDict()
    # nn.LayerNorm(eps=1e-6) on rows far from zero mean, and one of variance
    # about 1e-4, where eps changes 1/std by half a percent; torch's own row
    # means and 1/std. (Not mean 3 with variance 1e-4: there float32 itself
    # loses five digits to cancellation, in torch as in C.)
    ln = randomize(nn.LayerNorm(10, eps=LN_EPS))
    x = 2.0 * torch.randn(6, 10) + 3.0
    x[5] = 0.01 * torch.randn(10)
    out, mean, rstd = torch.native_layer_norm(x, [10], ln.weight, ln.bias, LN_EPS)
    assert torch.equal(out, ln(x))
    t.update({"layernorm.x": x, "layernorm.weight": ln.weight, "layernorm.bias": ln.bias,
              "layernorm.out": out, "layernorm.mean": mean.flatten(),
              "layernorm.rstd": rstd.flatten()})
    # nn.GELU(), exact (erf), from -8 to 8 and some random values
    x = torch.cat([torch.linspace(-8.0, 8.0, 65), 2.0 * torch.randn(31)])
    t.update({"gelu.x": x, "gelu.out": nn.GELU()(x)})
    # the MLP: Linear, GELU, Linear (torchvision's MLPBlock)
    mlp = randomize(MLPBlock(8, 12)).eval()
    x = torch.randn(5, 8)
    hidden = mlp[0](x)
    t.update({"mlp.x": x, "mlp.0.weight": mlp[0].weight, "mlp.0.bias": mlp[0].bias,
              "mlp.3.weight": mlp[3].weight, "mlp.3.bias": mlp[3].bias,
              "mlp.fc1": hidden, "mlp.gelu": mlp[1](hidden), "mlp.out": mlp(x)})
    # one pre-LN block: B=2, T=5, C=16, NH=4, MLP=32
    t.update(block_tensors(2, 5, 16, 4, 32))
    return t


def tiny_encoder():
    """The whole encoder on images (2,1,28,28): P=7, C=16, NH=2, MLP=32, L=2.
    Returns (parameters under torchvision's names, inputs and outputs)."""
    vit = randomize(TinyVit(28, 7, 1, num_layers=2, num_heads=2, hidden_dim=16,
                            mlp_dim=32)).eval()
    images = torch.randn(2, 1, 28, 28)
    seen = {}
    vit.encoder.layers.register_forward_pre_hook(keep(seen, "tokens"))
    for name, layer in vit.encoder.layers.named_children():
        layer.register_forward_hook(keep(seen, name))
    out = vit(images)
    params = OrderedDict(vit.state_dict())
    params["class_token"] = params["class_token"].reshape(-1)              # (C)
    params["encoder.pos_embedding"] = params["encoder.pos_embedding"][0]   # (T,C)
    io = OrderedDict([("images", images),
                      ("patches", F.unfold(images, 7, stride=7).transpose(1, 2)),
                      ("patch_emb", vit.process_input(images)),
                      ("tokens", seen["tokens"])])
    for name, _ in vit.encoder.layers.named_children():
        io[name] = seen[name]
    io["out"] = out
    return params, io


# ---- chapter 06: the whole model's gradients --------------------------------


class MeanPoolVit(torchvision.models.VisionTransformer):
    """torchvision's model with the mean of the patch tokens, not the class
    token, going into the head."""

    def forward(self, x):
        x = self._process_input(x)
        batch_class_token = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(torch.cat([batch_class_token, x], dim=1))
        return self.heads(x[:, 1:].mean(dim=1))


def whole_model_gradients(mean_pool, pre_logits):
    """torchvision's VisionTransformer on images (3,1,28,28): P=7, C=16, NH=2,
    MLP=32, L=2, K=10, conv_proj given one input channel, random weights (the
    head too), cross-entropy with label smoothing 0.1. The forward and backward
    passes run in float64 on the float32 values stored, so the reference is
    exact to float32. Returns the parameters under torchvision's names, the
    images, labels (as floats), logits, loss, and "grad.<name>" for every
    parameter and "grad.images"."""
    C = 16
    model = MeanPoolVit if mean_pool else torchvision.models.VisionTransformer
    vit = model(image_size=28, patch_size=7, num_layers=2, num_heads=2, hidden_dim=C,
                mlp_dim=32, num_classes=10, representation_size=C if pre_logits else None)
    vit.conv_proj = nn.Conv2d(1, C, kernel_size=7, stride=7)
    vit = randomize(vit).eval()
    images = torch.randn(3, 1, 28, 28)
    labels = torch.randint(0, 10, (3,))
    t, x = loss_and_gradients(vit, images, labels)
    t["grad.images"] = x.grad
    return t


def c_shape(name, t):
    """A parameter in the C model's shape: the class token is (C), the positions (T,C)."""
    return t.reshape(-1) if name == "class_token" else \
        t[0] if name == "encoder.pos_embedding" else t


def loss_and_gradients(model, images, labels):
    """Runs model (its float32 weights) in float64 on images with
    cross-entropy and label smoothing 0.1, then autograd. Returns the
    parameters under their names in the C model's shapes, the images, labels
    (as floats), logits, loss and "grad.<name>" for every parameter; and the
    images in float64, whose .grad is theirs."""
    model = model.double()
    x = images.double().requires_grad_()
    logits = model(x)
    loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    loss.backward()
    t = OrderedDict((name, c_shape(name, p)) for name, p in model.named_parameters())
    t.update([("images", images), ("labels", labels.float()), ("logits", logits),
              ("loss", loss.reshape(1))])
    t.update(("grad." + name, c_shape(name, p.grad)) for name, p in model.named_parameters())
    return t, x


# ---- chapter 07: the layers of a ResNet stem and of a CNN -------------------
# Each layer runs in float64 on float32 values stored, so the reference is
# exact to float32, and its gradients are autograd's for the loss
# L = sum(out * dout), dout a random tensor stored beside them.

WS_EPS = 1e-5  # the paper's code: vit_jax/models_resnet.py, weight_standardize(..., eps=1e-5)
GN_EPS = 1e-6  # the paper's code uses flax's nn.GroupNorm, whose default epsilon is 1e-6


def weight_standardize(w, eps=WS_EPS):
    """vit_jax's weight_standardize over each output channel's (Cin,K,K)
    weights, in torch ops: subtract the mean, divide by the biased standard
    deviation plus eps (outside the square root)."""
    w = w - w.mean(dim=(1, 2, 3), keepdim=True)
    return w / (w.std(dim=(1, 2, 3), unbiased=False, keepdim=True) + eps)


def with_gradients(prefix, inputs, forward, keep=()):
    """Runs forward(**inputs) in float64 with every input requiring a gradient,
    then L = sum(out * dout).backward(). Returns prefix.<input>, prefix.out,
    prefix.dout and prefix.grad.<input> for every input, and prefix.<name> and
    prefix.grad.<name> for each name in keep: intermediates forward returned
    in a dict beside out, whose gradients are kept too."""
    xs = OrderedDict((k, v.double().requires_grad_()) for k, v in inputs.items())
    out, seen = forward(**xs)
    for name in keep:
        seen[name].retain_grad()
    dout = torch.randn(out.shape)
    (out * dout.double()).sum().backward()
    t = OrderedDict((f"{prefix}.{k}", v) for k, v in inputs.items())
    t.update([(f"{prefix}.out", out), (f"{prefix}.dout", dout)])
    t.update((f"{prefix}.grad.{k}", x.grad) for k, x in xs.items())
    for name in keep:
        t[f"{prefix}.{name}"] = seen[name]
        t[f"{prefix}.grad.{name}"] = seen[name].grad
    for name, v in seen.items():
        if name not in keep:
            t[f"{prefix}.{name}"] = v
    return t


def conv_case(name, B, Cin, H, W, Cout, K, stride, pad, bias):
    """F.conv2d with random weights (1/sqrt(fan_in)) and, if bias, a random bias."""
    inputs = OrderedDict([("x", torch.randn(B, Cin, H, W)),
                          ("weight", torch.randn(Cout, Cin, K, K) / math.sqrt(Cin * K * K))])
    if bias:
        inputs["bias"] = 0.5 * torch.randn(Cout)

    def forward(x, weight, bias=None):
        return F.conv2d(x, weight, bias, stride=stride, padding=pad), {}

    return with_gradients(name, inputs, forward)


def stdconv_case():
    """A StdConv: 3x3, stride 1, padding 1, no bias (as the paper's), on weights
    whose channels have different means and scales; channel 3's standard
    deviation is about 2e-5, where eps = 1e-5 changes wstd by a third. The
    standardised weight and its gradient are kept ("wstd", "grad.wstd"), and
    each channel's biased standard deviation ("std")."""
    Cout, Cin, K = 4, 3, 3
    w = torch.randn(Cout, Cin, K, K) * torch.tensor([0.3, 0.05, 1.0, 2e-5]).reshape(-1, 1, 1, 1)
    w += torch.tensor([0.1, -0.2, 0.0, 0.5]).reshape(-1, 1, 1, 1)
    inputs = OrderedDict([("x", torch.randn(2, Cin, 6, 7)), ("weight", w)])

    def forward(x, weight):
        wstd = weight_standardize(weight)
        std = weight.std(dim=(1, 2, 3), unbiased=False)
        return F.conv2d(x, wstd, None, stride=1, padding=1), {"wstd": wstd, "std": std}

    return with_gradients("stdconv", inputs, forward, keep=("wstd",))


def groupnorm_case():
    """nn.GroupNorm(3, 6, eps=1e-6) with a random affine, on groups with
    different means and scales, one of standard deviation 1e-3 (variance 1e-6,
    where eps changes 1/std by a third); torch's own group means and 1/std."""
    B, C, H, W, G = 2, 6, 3, 4, 3
    gn = nn.GroupNorm(G, C, eps=GN_EPS)
    x = torch.randn(B, C, H, W) * torch.tensor([1.0, 1.0, 3.0, 3.0, 1e-3, 1e-3]).reshape(1, C, 1, 1)
    x += torch.tensor([2.0, 2.0, -1.0, -1.0, 0.0, 0.0]).reshape(1, C, 1, 1)
    inputs = OrderedDict([("x", x), ("weight", 1.0 + 0.5 * torch.randn(C)),
                          ("bias", 0.5 * torch.randn(C))])

    def forward(x, weight, bias):
        with torch.no_grad():
            gn.weight.copy_(weight)
            gn.bias.copy_(bias)
        out = F.group_norm(x, G, weight, bias, GN_EPS)
        assert torch.equal(out, gn.double()(x))
        _, mean, rstd = torch.native_group_norm(x, weight, bias, B, C, H * W, G, GN_EPS)
        return out, {"mean": mean.reshape(B, G), "rstd": rstd.reshape(B, G)}

    return with_gradients("groupnorm", inputs, forward)


def maxpool_case(name, x, K, stride, pad):
    """F.max_pool2d and its indices (y*W + x within each plane, as floats)."""
    def forward(x):
        out, argmax = F.max_pool2d(x, K, stride=stride, padding=pad, return_indices=True)
        return out, {"argmax": argmax.double()}

    return with_gradients(name, OrderedDict([("x", x)]), forward)


def stem_case():
    """A ResNet root as the paper's hybrid has it, on 2 images 1x16x16:
    StdConv 7x7 stride 2 padding 3 to 8 channels (no bias), GroupNorm with 4
    groups, ReLU, max pooling 3x3 stride 2 padding 1, then global average
    pooling to (B,C). (The paper's code pads "SAME", which for stride 2 on an
    even size pads one pixel less above and left; here padding is symmetric, as
    torch's.)"""
    C, G = 8, 4
    inputs = OrderedDict([("x", torch.randn(2, 1, 16, 16)),
                          ("conv.weight", torch.randn(C, 1, 7, 7) / 7.0),
                          ("gn.weight", 1.0 + 0.5 * torch.randn(C)),
                          ("gn.bias", 0.5 * torch.randn(C))])

    def forward(**p):
        conv = F.conv2d(p["x"], weight_standardize(p["conv.weight"]), None, stride=2, padding=3)
        gn = F.group_norm(conv, G, p["gn.weight"], p["gn.bias"], GN_EPS)
        pooled = F.max_pool2d(F.relu(gn), 3, stride=2, padding=1)
        return F.adaptive_avg_pool2d(pooled, 1).flatten(1), {"conv": conv, "pool": pooled}

    return with_gradients("stem", inputs, forward)


def resnet_layers():
    t = OrderedDict()
    # the convolution: the ResNet's kernels, strides and paddings, with and without bias
    for args in [("conv_3x3_s2_p1", 2, 3, 7, 9, 4, 3, 2, 1, True),
                 ("conv_3x3_s1_p1", 2, 3, 5, 6, 2, 3, 1, 1, False),
                 ("conv_7x7_s2_p3", 1, 2, 11, 10, 3, 7, 2, 3, False),
                 ("conv_1x1_s1_p0", 2, 5, 3, 4, 6, 1, 1, 0, True),
                 ("conv_1x1_s2_p0", 2, 4, 6, 5, 3, 1, 2, 0, False)]:
        t.update(conv_case(*args))
    t.update(stdconv_case())
    t.update(groupnorm_case())
    # ReLU on values of both signs and some exact zeros (whose gradient torch makes 0)
    x = torch.randn(40)
    x[::7] = 0.0
    t.update(with_gradients("relu", OrderedDict([("x", x)]), lambda x: (F.relu(x), {})))
    # max pooling: the root's 3x3 stride 2 padding 1, and 2x2 stride 2 on small
    # integers, where most windows hold ties (torch keeps the first maximum)
    t.update(maxpool_case("maxpool", torch.randn(2, 3, 7, 8), 3, 2, 1))
    t.update(maxpool_case("maxpool_ties", torch.randint(0, 3, (1, 2, 6, 7)).float(), 3, 2, 1))
    t.update(maxpool_case("maxpool_2x2", torch.randn(1, 2, 6, 5), 2, 2, 0))
    # global average pooling: (B,C,H,W) -> (B,C)
    t.update(with_gradients("avgpool", OrderedDict([("x", torch.randn(2, 3, 5, 4))]),
                            lambda x: (F.adaptive_avg_pool2d(x, 1).flatten(1), {})))
    t.update(stem_case())
    return t


# ---- chapter 07: the ResNet of the hybrid and of the CNN (src/resnet.h) -------
# torch's own nn.Conv2d (its weight standardised by the paper's formula first),
# nn.GroupNorm with the paper's eps, F.relu and F.max_pool2d, arranged as the
# paper's code arranges them (vit_jax/models_vit.py's root, models_resnet.py's
# units), with the module names that src/resnet.c lists its parameters under.


class StdConv2d(nn.Conv2d):
    """nn.Conv2d whose weight goes through weight_standardize first (no bias)."""

    def forward(self, x):
        return F.conv2d(x, weight_standardize(self.weight), None, self.stride, self.padding)


class ResNetRoot(nn.Module):
    def __init__(self, in_channels, width, kernel, stride, groups):
        super().__init__()
        self.conv = StdConv2d(in_channels, width, kernel, stride=stride, padding=kernel // 2,
                              bias=False)
        self.gn = nn.GroupNorm(groups, width, eps=GN_EPS)

    def forward(self, x):
        return F.max_pool2d(F.relu(self.gn(self.conv(x))), 3, stride=2, padding=1)


class ResNetUnit(nn.Module):
    """The bottleneck unit: 1x1, 3x3 (with the stride), 1x1 to 4 * width, each
    followed by GroupNorm; a projection shortcut when the shape changes."""

    def __init__(self, in_channels, width, stride, groups):
        super().__init__()
        self.conv1 = StdConv2d(in_channels, width, 1, bias=False)
        self.gn1 = nn.GroupNorm(groups, width, eps=GN_EPS)
        self.conv2 = StdConv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.gn2 = nn.GroupNorm(groups, width, eps=GN_EPS)
        self.conv3 = StdConv2d(width, 4 * width, 1, bias=False)
        self.gn3 = nn.GroupNorm(groups, 4 * width, eps=GN_EPS)
        self.proj = None
        if in_channels != 4 * width or stride != 1:
            self.proj = nn.Sequential(OrderedDict([
                ("conv", StdConv2d(in_channels, 4 * width, 1, stride=stride, bias=False)),
                ("gn", nn.GroupNorm(groups, 4 * width, eps=GN_EPS))]))

    def forward(self, x):
        y = F.relu(self.gn1(self.conv1(x)))
        y = F.relu(self.gn2(self.conv2(y)))
        y = self.gn3(self.conv3(y))
        return F.relu((x if self.proj is None else self.proj(x)) + y)


class ResNetStage(nn.Module):
    def __init__(self, in_channels, units, width, stride, groups):
        super().__init__()
        self.units = nn.ModuleList(
            ResNetUnit(in_channels if i == 0 else 4 * width, width, stride if i == 0 else 1,
                       groups) for i in range(units))

    def forward(self, x):
        for unit in self.units:
            x = unit(x)
        return x


class ResNet(nn.Module):
    """src/resnet.h's ResNetConfig as a module: stages is a list of (units, width, stride)."""

    def __init__(self, in_channels, root_width, root_kernel, root_stride, groups, stages):
        super().__init__()
        self.root = ResNetRoot(in_channels, root_width, root_kernel, root_stride, groups)
        self.stages = nn.ModuleList()
        channels = root_width
        for units, width, stride in stages:
            self.stages.append(ResNetStage(channels, units, width, stride, groups))
            channels = 4 * width
        self.out_channels = channels

    def forward(self, x):
        x = self.root(x)
        for stage in self.stages:
            x = stage(x)
        return x


def resnet_whole():
    """A small ResNet (tests/test_07_resnet_torch.c's configuration): 2 images
    2x12x12; root 8 channels, 7x7 stride 2 (-> 6x6), pool (-> 3x3); stage 1:
    one unit of width 4, stride 1 (projection 8 -> 16); stage 2: two units of
    width 8, stride 2 (projection, then identity) -> (32,2,2); GroupNorm with 4
    groups. Random weights (convolutions 1/sqrt(fan_in), GroupNorm scales
    around 1, shifts around 0: gn3's too, which the paper starts at 0), run in
    float64 on the float32 values stored; autograd's gradients of
    sum(out * dout) for every parameter ("grad.<name>") and the images."""
    net = randomize(ResNet(2, 8, 7, 2, 4, [(1, 4, 1), (2, 8, 2)]))
    x = torch.randn(2, 2, 12, 12)
    t = OrderedDict(("resnet." + name, p.detach().clone()) for name, p in net.named_parameters())
    net.double()
    xd = x.double().requires_grad_()
    out = net(xd)
    dout = torch.randn(out.shape)
    (out * dout.double()).sum().backward()
    t.update([("x", x), ("out", out), ("dout", dout), ("grad.x", xd.grad)])
    t.update(("grad.resnet." + name, p.grad) for name, p in net.named_parameters())
    return t


# ---- chapter 07: the hybrid and the CNN, whole (src/hybrid.h, src/cnn.h) -------
# The ResNet above in front of torchvision's VisionTransformer, and with a
# linear classifier on its pooled map: the modules whose state_dict names are
# those of hybrid_build's and cnn_build's lists, and which
# tools/checkpoint_torch.py builds from a checkpoint's metadata.


class Hybrid(torchvision.models.VisionTransformer):
    """The paper's hybrid: stem (a ResNet) gives a (Cmap, side, side) map, and
    torchvision's VisionTransformer takes it in 1x1 patches (image_size =
    side, conv_proj from Cmap channels). encoder: VisionTransformer's other
    arguments (num_layers, num_heads, hidden_dim, mlp_dim, num_classes, ...)."""

    def __init__(self, stem, side, **encoder):
        super().__init__(image_size=side, patch_size=1, **encoder)
        self.conv_proj = nn.Conv2d(stem.out_channels, self.hidden_dim, kernel_size=1)
        self.stem = stem

    def forward(self, x):
        return super().forward(self.stem(x))


class Cnn(nn.Module):
    """body (a ResNet), the mean of each channel's map, head = nn.Linear."""

    def __init__(self, body, num_classes):
        super().__init__()
        self.body = body
        self.head = nn.Linear(body.out_channels, num_classes)

    def forward(self, x):
        return self.head(self.body(x).mean(dim=(2, 3)))


def hybrid_gradients():
    """A tiny hybrid on 3 images 1x16x16: a stem of root 8 channels (7x7
    stride 2 -> 8x8, pool -> 4x4) and one projected unit of width 4, stride
    2 -> (16,2,2), GroupNorm with 2 groups: 4 tokens and the class token;
    an encoder of C=16, 2 heads, MLP 32, 2 layers; 10 classes. Random weights
    (randomize: the head and gn3's scales too), cross-entropy with label
    smoothing 0.1, in float64 (loss_and_gradients)."""
    stem = ResNet(1, 8, 7, 2, 2, [(1, 4, 2)])
    hybrid = randomize(Hybrid(stem, 2, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                              num_classes=10)).eval()
    images = torch.randn(3, 1, 16, 16)
    labels = torch.randint(0, 10, (3,))
    return loss_and_gradients(hybrid, images, labels)[0]


def cnn_gradients():
    """A tiny CNN on 3 images 1x16x16: root 8 channels (7x7 stride 2 -> 8x8,
    pool -> 4x4); stage 1: one unit of width 4, stride 1 (a projection, 8 ->
    16 channels); stage 2: two units of width 8, stride 2 (a projection, then
    an identity shortcut) -> (32,2,2); GroupNorm with 2 groups; the mean of
    each channel, a linear head to 10 classes. Random weights, loss and
    gradients as hybrid_gradients'."""
    cnn = randomize(Cnn(ResNet(1, 8, 7, 2, 2, [(1, 4, 1), (2, 8, 2)]), 10)).eval()
    images = torch.randn(3, 1, 16, 16)
    labels = torch.randint(0, 10, (3,))
    return loss_and_gradients(cnn, images, labels)[0]


# ---- chapter 08: the convolution with circular padding -------------------------


def conv_circular():
    """nn.Conv2d(..., padding_mode='circular') in float64 on 2 images 2x8x9
    (H != W, so that rows and columns cannot be swapped unseen) with 3 output
    channels: 3x3 stride 1 padding 1 with a bias, 5x5 stride 2 padding 2
    without; random weights (1/sqrt(fan_in)). Each case keeps x, weight, bias,
    the padded input F.pad(x, (pad,)*4, mode='circular') ("padded") and out."""
    B, Cin, H, W, Cout = 2, 2, 8, 9, 3
    t = OrderedDict()
    for name, K, stride, pad, bias in [("circular_3x3_s1_p1", 3, 1, 1, True),
                                       ("circular_5x5_s2_p2", 5, 2, 2, False)]:
        conv = nn.Conv2d(Cin, Cout, K, stride=stride, padding=pad, padding_mode="circular",
                         bias=bias).double()
        x = torch.randn(B, Cin, H, W)
        t[f"{name}.x"] = x
        t[f"{name}.weight"] = torch.randn(Cout, Cin, K, K) / math.sqrt(Cin * K * K)
        conv.weight.copy_(t[f"{name}.weight"])
        if bias:
            t[f"{name}.bias"] = 0.5 * torch.randn(Cout)
            conv.bias.copy_(t[f"{name}.bias"])
        t[f"{name}.padded"] = F.pad(x.double(), (pad,) * 4, mode="circular")
        t[f"{name}.out"] = conv(x.double())
    return t


# ---- chapter 09: principal components ---------------------------------------------


def pca():
    """Principal components with NumPy, in float64: 40 vectors of 12 numbers
    (X = Z A + noise, Z (40,4), so four directions carry most of the variance
    and the eigenvalues are distinct), centred, np.cov (divides by n - 1),
    np.linalg.eigh, sorted by decreasing eigenvalue. Keeps "pca.x" (40,12),
    "pca.components" (12,12), row k the k-th component (sign as eigh gives it:
    the C code may return -v) and "pca.variance" (12)."""
    import numpy as np
    rng = np.random.default_rng(SEED)
    n, d, k = 40, 12, 4
    x = rng.standard_normal((n, k)) @ (3.0 * rng.standard_normal((k, d)))
    x = (x + 0.3 * rng.standard_normal((n, d)) + 2.0).astype(np.float32).astype(np.float64)
    w, v = np.linalg.eigh(np.cov(x, rowvar=False))
    order = np.argsort(w)[::-1]
    t = OrderedDict()
    t["pca.x"] = torch.from_numpy(x)
    t["pca.components"] = torch.from_numpy(np.ascontiguousarray(v[:, order].T))
    t["pca.variance"] = torch.from_numpy(np.ascontiguousarray(w[order]))
    return t


# ---- chapter 10: position embeddings at another resolution; the few-shot probe -------


def interpolation():
    """torchvision's own interpolate_embeddings (bicubic, align_corners=True),
    in float32 as on a float32 state dict: for grids g -> n of width 5, random
    "g<g>_n<n>.pos" (1+g*g,5) and its "g<g>_n<n>.out" (1+n*n,5); up, down, the
    same grid (left as it is), from one position, and to one. Then a tiny
    torchvision VisionTransformer for 28x28 images (P=7, C=16, 2 heads, MLP 32,
    2 layers, 10 classes, one-channel conv_proj, random weights, the head too):
    its parameters "vit.<name>" (class token (C), positions (T,C)), its state
    dict through interpolate_embeddings(42, 7) loaded into a VisionTransformer
    for 42x42 images: the positions it got, "vit42.pos_embedding" (37,16), and
    its "logits" (2,10), in float64, on random "images" (2,1,42,42)."""
    from torchvision.models.vision_transformer import interpolate_embeddings
    P = 7
    t = OrderedDict()
    for g, n in [(4, 6), (4, 8), (3, 7), (5, 3), (4, 4), (1, 3), (4, 1), (2, 5)]:
        pos = torch.randn(1, 1 + g * g, 5)
        state = interpolate_embeddings(n * P, P, OrderedDict([("encoder.pos_embedding", pos.clone())]))
        t[f"g{g}_n{n}.pos"] = pos[0]
        t[f"g{g}_n{n}.out"] = state["encoder.pos_embedding"][0]

    def tiny(image_size):
        vit = torchvision.models.VisionTransformer(
            image_size=image_size, patch_size=P, num_layers=2, num_heads=2, hidden_dim=16,
            mlp_dim=32, num_classes=10)
        vit.conv_proj = nn.Conv2d(1, 16, kernel_size=P, stride=P)
        return vit

    vit = randomize(tiny(28)).eval()
    state = interpolate_embeddings(42, P, OrderedDict(vit.state_dict()))
    big = tiny(42)
    big.load_state_dict(state)
    images = torch.randn(2, 1, 42, 42)
    logits = big.double().eval()(images.double())
    t.update(("vit." + name, c_shape(name, p)) for name, p in vit.named_parameters())
    t["vit42.pos_embedding"] = state["encoder.pos_embedding"][0]
    t["images"] = images
    t["logits"] = logits
    return t


def linear_probe():
    """The paper's few-shot probe (big_vision's evaluators/fewshot_lsr.py) in
    NumPy, float64: features standardised by the training set's mean and
    standard deviation (population) plus 1e-5, a bias column of 100, targets
    2*one_hot - 1, W = solve(X^T X + l2 I, X^T Y). Two cases: "probe" (40
    images, 8 features of unequal scales and offsets, 3 classes, l2 = 2) and
    "fewshot" (6 images, fewer than the features, l2 = 1024). Each keeps
    "<case>.x" (n,8), "<case>.labels" (as floats), "<case>.l2" (1), the
    "<case>.mean" and "<case>.std" (8), "<case>.w" (9,3), and on 20 test
    vectors "<case>.test_x" and their "<case>.scores" (20,3)."""
    import numpy as np
    rng = np.random.default_rng(SEED)
    t = OrderedDict()
    D, K = 8, 3
    scale = np.exp(rng.standard_normal(D))  # features of unequal sizes
    offset = 5.0 * rng.standard_normal(D)
    centres = 1.5 * rng.standard_normal((K, D))

    def draw(labels):
        z = centres[labels] + rng.standard_normal((len(labels), D))
        return (z * scale + offset).astype(np.float32).astype(np.float64)

    for case, n, l2 in [("probe", 40, 2.0), ("fewshot", 6, 1024.0)]:
        labels = np.arange(n) % K
        x, test_x = draw(labels), draw(rng.integers(0, K, 20))
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-5

        def design(v):
            return np.hstack([(v - mean) / std, np.full((len(v), 1), 100.0)])

        X, Y = design(x), 2.0 * np.eye(K)[labels] - 1.0
        w = np.linalg.solve(X.T @ X + l2 * np.eye(D + 1), X.T @ Y)
        for name, v in [("x", x), ("labels", labels.astype(np.float64)), ("l2", np.array([l2])),
                        ("mean", mean), ("std", std), ("w", w), ("test_x", test_x),
                        ("scores", design(test_x) @ w)]:
            t[f"{case}.{name}"] = torch.from_numpy(np.ascontiguousarray(v))
    return t


def resample_and_sgd():
    """Two pieces of chapter 10's fine-tuning. torch's bilinear resampling
    (interpolate, mode="bilinear", align_corners=False), in float64, of a
    random "bilinear.in" (5,7) to "bilinear.up" (9,11), to "bilinear.same"
    (5,7) and to "bilinear.down" (3,4), and of a random 28x28 picture in [0, 1]
    "bilinear.in28" to "bilinear.up42" (42,42) and "bilinear.up56" (56,56).
    Then torch.optim.SGD (momentum 0.9, lr 0.1, no dampening, no weight decay)
    over three steps on random "sgd.params" (6) with the gradients
    "sgd.grads" (3,6), one row a step: the parameters after them, "sgd.after" (6)."""
    import torch.nn.functional as F
    t = OrderedDict()

    def up(x, size):
        return F.interpolate(x[None, None].double(), size=size, mode="bilinear",
                             align_corners=False)[0, 0]

    x = torch.randn(5, 7)
    t["bilinear.in"] = x
    for name, size in [("up", (9, 11)), ("same", (5, 7)), ("down", (3, 4))]:
        t[f"bilinear.{name}"] = up(x, size)
    x28 = torch.rand(28, 28)
    t["bilinear.in28"] = x28
    t["bilinear.up42"] = up(x28, (42, 42))
    t["bilinear.up56"] = up(x28, (56, 56))
    params, grads = torch.randn(6), torch.randn(3, 6)
    p = params.clone().requires_grad_(True)
    sgd = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    for g in grads:
        p.grad = g.clone()
        sgd.step()
    t["sgd.params"], t["sgd.grads"], t["sgd.after"] = params, grads, p.detach()
    return t


# ---- chapter 11: pretrained ViT-B/16 ----------------------------------------------


def gelu_tanh():
    """torch's GELU in its tanh form (nn.GELU(approximate='tanh'), the form the
    paper's JAX checkpoints were trained with) on x (200) spread over [-8, 8],
    its output "gelu_tanh.out", and autograd's gradient "gelu_tanh.dx" of
    sum(out * r) for random r; and the exact form "gelu_erf.out" beside it."""
    x = torch.cat([torch.linspace(-8.0, 8.0, 100), 3.0 * torch.randn(100)]).requires_grad_()
    r = torch.randn(200)
    out = nn.GELU(approximate="tanh")(x)
    (dx,) = torch.autograd.grad((out * r).sum(), x)
    return OrderedDict([("gelu_tanh.x", x), ("gelu_tanh.r", r), ("gelu_tanh.out", out),
                        ("gelu_tanh.dx", dx), ("gelu_erf.out", nn.GELU()(x))])


# The preprocessing cases: (name, width, height, channels, resize, crop). The
# first shrinks by 300/256 as on scikit-image's cat (451x300); then a strong
# shrink, an enlargement, a size already right, a crop offset of 9.5 (Python
# rounds it to 10), a tall image, a gray one.
PREPROCESS_CASES = [("cat_scale", 45, 30, 3, 26, 24), ("shrink", 64, 40, 3, 12, 10),
                    ("enlarge", 9, 13, 3, 20, 18), ("same", 20, 20, 3, 20, 16),
                    ("half", 35, 20, 3, 20, 16), ("tall", 23, 50, 3, 17, 15),
                    ("gray", 31, 22, 1, 12, 11)]


def preprocess():
    """torchvision's preset (transforms._presets.ImageClassification, the class
    ViT_B_16_Weights.IMAGENET1K_V1.transforms() makes) on PIL images: for each
    case of PREPROCESS_CASES, the image "<case>.pixels" (H,W,ch) as floats
    0..255 (random smooth colours and noise), PIL's resize of its shorter side
    (BILINEAR) "<case>.resized" (h,w,ch) and the centre crop "<case>.cropped",
    both as floats 0..255, and the preset's output "<case>.out" (ch,crop,crop)
    with ImageNet's mean and std (a gray image: the mean of the three, as one
    channel)."""
    import numpy as np
    from PIL import Image
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF
    from torchvision.transforms._presets import ImageClassification
    rng = np.random.default_rng(SEED)
    t = OrderedDict()
    for name, W, H, ch, resize, crop in PREPROCESS_CASES:
        y, x = np.mgrid[0:H, 0:W]
        smooth = np.stack([127 + 100 * np.sin(x / (2 + c) + y / (3 + c) + c) for c in range(ch)], -1)
        pixels = np.clip(smooth + rng.normal(0, 30, smooth.shape), 0, 255).astype(np.uint8)
        img = Image.fromarray(pixels[:, :, 0] if ch == 1 else pixels, "L" if ch == 1 else "RGB")
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        if ch == 1:
            mean, std = [sum(mean) / 3], [sum(std) / 3]
        preset = ImageClassification(crop_size=crop, resize_size=resize, mean=mean, std=std)
        resized = TF.resize(img, [resize], interpolation=InterpolationMode.BILINEAR)
        cropped = TF.center_crop(resized, [crop])

        def planes(im):
            return torch.from_numpy(np.asarray(im, dtype=np.float32).reshape(im.size[1], im.size[0], ch))

        t[f"{name}.pixels"] = torch.from_numpy(pixels.astype(np.float32).reshape(H, W, ch))
        t[f"{name}.resized"] = planes(resized)
        t[f"{name}.cropped"] = planes(cropped)
        t[f"{name}.mean"] = torch.tensor(mean)
        t[f"{name}.std"] = torch.tensor(std)
        t[f"{name}.out"] = preset(img)
    return t


def pretrained_tiny(directory):
    """A small ViT of B/16's structure in the paper's JAX layout (tools/check_pretrained.py's:
    32x32 RGB, patch 8, width 48, 3 heads, MLP 96, 2 layers, a pre-logits layer, 10
    classes; random arrays), converted by tools/convert_weights.py into
    11_tiny_jax.safetensors with the first ten ImageNet class names; and in
    11_tiny_jax_io.bin three normalised "images" (3,3,32,32) and the "logits" (3,10)
    NumPy computes from the JAX layout itself, in float64 (GELU's tanh form)."""
    import tempfile
    import numpy as np
    import check_pretrained as cp
    import convert_weights
    rng = np.random.default_rng(SEED)
    w = cp.jax_arrays(rng)
    half = np.array([0.5, 0.5, 0.5])
    images = cp.test_images(3, cp.S, half, half, rng)
    model = "11_tiny_jax.safetensors"
    if not ONLY or model in ONLY:
        with tempfile.TemporaryDirectory() as tmp:
            npz, names = os.path.join(tmp, "vit_jax_tiny.npz"), os.path.join(tmp, "names.txt")
            np.savez(npz, **w)
            with open(names, "w") as f:
                f.write("\n".join(convert_weights.imagenet_categories()[:cp.K]) + "\n")
            convert_weights.convert(npz, os.path.join(directory, model), heads=cp.NH,
                                    names_file=names)
    write(directory, "11_tiny_jax_io.bin",
          OrderedDict([("images", torch.from_numpy(images)),
                       ("logits", torch.from_numpy(cp.jax_forward(w, images)))]))


# ---- chapter 12: masked patch prediction ------------------------------------


def masked_patch():
    """Chapter 12's pretext task on a tiny ViT (TinyVit: 3 images 1x28x28, P=7
    so N=16 patches, C=16, 2 heads, MLP 32, 2 blocks) with a [mask] embedding
    "mask_token" (C) and a linear head "mpp_head" to the 8 levels of a
    patch's mean intensity. Pixels are whole numbers 0..255 (each patch with
    its own brightness, so the targets spread over the levels), normalised
    with Fashion-MNIST's mean and std ("normalization" (2)). A fixed
    corruption pattern: "fate" (B,N) 0 clean, 1 masked, 2 replaced by patch
    "source" (B,N) of the same image, 3 kept; 8 of 16 corrupted per image,
    every kind in every image. "targets" (B,N): floor(8 * the patch's mean of
    pixel/255), at most 7, in integers. The loss: cross-entropy over the
    corrupted patches' output tokens (in order: image, then patch); run in
    float64 on the float32 values stored, with autograd's gradient of every
    parameter ("grad.<name>"), "logits" (R,8) and "loss" (1)."""
    B, S, P, C, K = 3, 28, 7, 16, 8
    G = S // P
    N = G * G
    mean, std = 0.2860, 0.3530
    vit = randomize(TinyVit(S, P, 1, 2, 2, C, 32))
    mask_token = nn.Parameter(0.5 * torch.randn(C))
    head = randomize(nn.Linear(C, K))
    brightness = torch.rand(B, 1, G, G).repeat_interleave(P, 2).repeat_interleave(P, 3)
    pixels = (torch.rand(B, 1, S, S) * 2 * brightness).clamp(max=1.0).mul(255).round()
    images = ((pixels / 255 - mean) / std).float()
    sums = pixels.reshape(B, G, P, G, P).sum(dim=(2, 4)).reshape(B, N).long()
    targets = (sums * 8 // (255 * P * P)).clamp(max=7)
    fate = torch.zeros(B, N, dtype=torch.long)
    source = torch.arange(N).repeat(B, 1)
    for b in range(B):
        order = torch.randperm(N)
        for i, kind in enumerate([1, 1, 1, 1, 1, 2, 2, 3]):
            fate[b, order[i]] = kind
            if kind == 2:
                other = int(torch.randint(0, N - 1, ()))
                source[b, order[i]] = other + (other >= order[i])
    vit, head = vit.double(), head.double()
    mask64 = mask_token.detach().double().requires_grad_()
    emb = vit.process_input(images.double())                               # (B,N,C)
    taken = torch.gather(emb, 1, source.unsqueeze(-1).expand(-1, -1, C))
    corrupted = torch.where((fate == 1).unsqueeze(-1), mask64.expand(B, N, C), taken)
    cls = vit.class_token.expand(B, -1, -1)
    out = vit.encoder(torch.cat([cls, corrupted], dim=1))                  # (B,T,C)
    chosen = fate > 0
    logits = head(out[:, 1:][chosen])                                      # (R,K)
    loss = F.cross_entropy(logits, targets[chosen])
    loss.backward()
    named = list(vit.named_parameters()) + [("mpp_head." + n, p) for n, p in
                                            head.named_parameters()]
    t = OrderedDict((name, c_shape(name, p).float()) for name, p in named)
    t["mask_token"] = mask_token.detach()
    t.update([("images", images), ("normalization", torch.tensor([mean, std])),
              ("fate", fate.float()), ("source", source.float()), ("targets", targets.float()),
              ("logits", logits.detach().float()), ("loss", loss.detach().reshape(1).float())])
    t.update(("grad." + name, c_shape(name, p.grad).float()) for name, p in named)
    t["grad.mask_token"] = mask64.grad.float()
    return t


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: reference.py OUTPUT_DIR [FILE...]  (FILE: only these, e.g. 10_probe.bin)")
    directory = sys.argv[1]
    ONLY.update(sys.argv[2:])
    os.makedirs(directory, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    # in eval mode without gradients, nn.MultiheadAttention with an even number
    # of heads takes torch's fused path: still torch's own, rounded a little
    # differently
    with torch.no_grad():
        for filename, make in [("02_embedding.bin", embedding), ("03_attention.bin", attention),
                               ("04_multihead.bin", multihead), ("05_encoder.bin", encoder_layers)]:
            torch.manual_seed(SEED)
            write(directory, filename, make())
        torch.manual_seed(SEED)
        params, io = tiny_encoder()
        write(directory, "05_tiny_encoder_params.bin", params)
        write(directory, "05_tiny_encoder_io.bin", io)
    for filename, mean_pool, pre_logits in [("06_gradients.bin", False, False),
                                            ("06_gradients_mean_pre_logits.bin", True, True)]:
        torch.manual_seed(SEED)
        write(directory, filename, whole_model_gradients(mean_pool, pre_logits))
    torch.manual_seed(SEED)
    write(directory, "07_layers.bin", resnet_layers())
    torch.manual_seed(SEED)
    write(directory, "07_resnet.bin", resnet_whole())
    for filename, make in [("07_hybrid_gradients.bin", hybrid_gradients),
                           ("07_cnn_gradients.bin", cnn_gradients)]:
        torch.manual_seed(SEED)
        write(directory, filename, make())
    with torch.no_grad():
        torch.manual_seed(SEED)
        write(directory, "08_conv_circular.bin", conv_circular())
    write(directory, "09_pca.bin", pca())
    with torch.no_grad():
        torch.manual_seed(SEED)
        write(directory, "10_interpolate.bin", interpolation())
    write(directory, "10_probe.bin", linear_probe())
    torch.manual_seed(SEED)
    write(directory, "10_finetune.bin", resample_and_sgd())
    torch.manual_seed(SEED)
    write(directory, "11_gelu_tanh.bin", gelu_tanh())
    write(directory, "11_preprocess.bin", preprocess())
    pretrained_tiny(directory)
    torch.manual_seed(SEED)
    write(directory, "12_masked_patch.bin", masked_patch())


if __name__ == "__main__":
    main()
