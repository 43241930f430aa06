#!/usr/bin/python3
"""checkpoint_torch.py — the PyTorch side of the safetensors checkpoints.

    /usr/bin/python3 tools/checkpoint_torch.py write-fixture tests/fixtures
    /usr/bin/python3 tools/checkpoint_torch.py check CHECKPOINT [--predictions FILE]

write-fixture DIR
    A real torchvision VisionTransformer (28x28 images, P=7, 2 layers, 2 heads,
    C=16, MLP 32, 10 classes) with conv_proj taking one channel, random non-zero
    weights (the head too), saved as DIR/06_torchvision_tiny.safetensors with
    the configuration in its __metadata__; and its logits on the first four
    Fashion-MNIST test images, with those images as the model sees them, in
    DIR/06_torchvision_tiny_io.bin (the tests' reference format, tests/fixture.h).
    Then chapter 07's two models as tools/reference.py's modules, random
    weights (heads and gn3 scales too): a tiny Hybrid (stem: root 8, 7x7
    stride 2, one projected unit of width 4, stride 2, 2 groups -> a (16,4,4)
    map; encoder C=16, 2 heads, MLP 32, 2 layers) and a tiny Cnn (the same
    root, units of width 4 stride 1 and 8 stride 2), saved with the metadata
    the C program writes as DIR/07_hybrid_tiny.safetensors and
    DIR/07_cnn_tiny.safetensors, and the same four images with both models'
    logits (computed in float64, so the file is the same on every machine) in
    DIR/07_tiny_io.bin. The C tests open the checkpoints from the files alone
    and must give the same logits.

check CHECKPOINT [--predictions FILE] [--data DIR] [--tolerance T]
    Loads a checkpoint written by the C programs into the PyTorch module its
    metadata's "model" names, built from the rest of the metadata, with
    load_state_dict(strict=True), and prints its accuracy on the
    Fashion-MNIST test set: "vit" (or no "model") is torchvision's
    VisionTransformer (conv_proj given in_channels; a pre-logits layer if the
    metadata has representation_size); "hybrid" and "cnn" are
    tools/reference.py's Hybrid (the ResNet of "stem.<field>" in front of
    torchvision's VisionTransformer) and Cnn (the ResNet of "body.<field>",
    average pooling, a Linear head). A ViT or hybrid pooled by the mean of its
    tokens (pool=mean) is refused: torchvision reads the class token only.
    With --predictions (the CSV the C program writes:
    index,label,predicted,logit_0,...) it also prints how many predictions
    agree and the largest logit difference, and exits 1 if that difference is
    above the tolerance.

The format is read and written by hand (json, struct, numpy): an 8-byte
little-endian header length N, N bytes of JSON
    {"__metadata__": {"image_size": "28", ...},
     "class_token": {"dtype": "F32", "shape": [1, 1, 16], "data_offsets": [0, 64]}, ...}
padded with spaces to a multiple of 8, then the data; offsets count from the
start of the data. Needs only Debian's python3-torch, python3-torchvision and
python3-numpy (no safetensors package).
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  tools/reference.py: random weights, the tests' reference files

SEED = 1234
FIXTURE = "06_torchvision_tiny.safetensors"
FIXTURE_IO = "06_torchvision_tiny_io.bin"
MODELS_FIXTURE = {"hybrid": "07_hybrid_tiny.safetensors", "cnn": "07_cnn_tiny.safetensors"}
MODELS_FIXTURE_IO = "07_tiny_io.bin"
INT_KEYS = ["image_size", "patch_size", "in_channels", "hidden_dim", "mlp_dim", "num_layers",
            "num_heads", "num_classes"]
# src/resnet.c's resnet_config_fields: a ResNetConfig's metadata after "stem." or "body."
RESNET_KEYS = ["image_size", "in_channels", "root_width", "root_kernel", "root_stride", "groups",
               "num_stages"] + [f"stage{s}_{field}" for s in range(1, 5)
                                for field in ("units", "width", "stride")]
# Fashion-MNIST's pixel mean and standard deviation over the training set, in [0, 1]
FASHION_MEAN, FASHION_STD = "0.2860", "0.3530"
DATA_DIR = "/usr/share/datasets/fashion-mnist"


# ---- the safetensors format --------------------------------------------------------


def save_safetensors(path, tensors, metadata):
    """Writes tensors (name -> tensor) as F32 in order, with metadata (str -> str),
    under a temporary name, then renames it into place."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = OrderedDict(metadata)
    blobs, offset = [], 0
    for name, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data starts at a multiple of 8
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".tmp", path)
    print(f"{path}: {len(tensors)} tensors, {8 + len(text) + offset} bytes")


def load_safetensors(path):
    """(tensors name -> tensor, metadata str -> str); exits with a message on a bad file."""
    def fail(what):
        sys.exit(f"{path}: {what}")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail("too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        fail(f"header length {n} but only {len(data) - 8} bytes follow")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except ValueError as e:
        fail(f"bad header JSON: {e}")
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + n:]
    tensors = OrderedDict()
    for name, info in header.items():
        if info.get("dtype") != "F32":
            fail(f"tensor {name} is {info.get('dtype')}; only F32 is read here")
        begin, end = info["data_offsets"]
        shape = info["shape"]
        if end > len(buffer):
            fail(f"tensor {name}: data ends at byte {end} but the file holds {len(buffer)} bytes "
                 "of data (truncated?)")
        if not 0 <= begin <= end or end - begin != 4 * math.prod(shape):
            fail(f"tensor {name}: data_offsets [{begin}, {end}] do not fit shape {shape}")
        a = np.frombuffer(buffer, dtype="<f4", count=(end - begin) // 4, offset=begin)
        tensors[name] = torch.from_numpy(a.astype(np.float32).reshape(shape))
    return tensors, metadata


# ---- the model -----------------------------------------------------------------


def config_from(metadata, path, keys=INT_KEYS, prefix=""):
    """The integers under prefix + each of keys in a checkpoint's metadata, by key."""
    missing = [k for k in [prefix + k for k in keys] + ["image_mean", "image_std"]
               if k not in metadata]
    if missing:
        sys.exit(f"{path}: metadata lacks {', '.join(missing)}")
    try:
        return {k: int(metadata[prefix + k]) for k in keys}
    except ValueError as e:
        sys.exit(f"{path}: metadata: {e}")


def build_vit(cfg, representation_size=None):
    """torchvision's VisionTransformer, conv_proj taking cfg's in_channels."""
    vit = torchvision.models.VisionTransformer(
        image_size=cfg["image_size"], patch_size=cfg["patch_size"], num_layers=cfg["num_layers"],
        num_heads=cfg["num_heads"], hidden_dim=cfg["hidden_dim"], mlp_dim=cfg["mlp_dim"],
        num_classes=cfg["num_classes"], representation_size=representation_size)
    P = cfg["patch_size"]
    vit.conv_proj = nn.Conv2d(cfg["in_channels"], cfg["hidden_dim"], kernel_size=P, stride=P)
    return vit


def build_resnet(cfg):
    """tools/reference.py's ResNet of a ResNetConfig (RESNET_KEYS)."""
    stages = [tuple(cfg[f"stage{s}_{field}"] for field in ("units", "width", "stride"))
              for s in range(1, cfg["num_stages"] + 1)]
    return reference.ResNet(cfg["in_channels"], cfg["root_width"], cfg["root_kernel"],
                            cfg["root_stride"], cfg["groups"], stages)


def build_hybrid(stem_cfg, cfg, representation_size=None):
    """tools/reference.py's Hybrid: stem_cfg's ResNet, and cfg's encoder on its map."""
    return reference.Hybrid(build_resnet(stem_cfg), cfg["image_size"],
                            num_layers=cfg["num_layers"], num_heads=cfg["num_heads"],
                            hidden_dim=cfg["hidden_dim"], mlp_dim=cfg["mlp_dim"],
                            num_classes=cfg["num_classes"],
                            representation_size=representation_size)


def class_token_head(metadata, path):
    """The pre-logits width (or None) of a model classifying from its class token."""
    if metadata.get("pool", "cls") != "cls":
        sys.exit(f"{path}: pool {metadata['pool']}: torchvision's VisionTransformer "
                 "classifies from the class token only")
    pre = metadata.get("representation_size")  # the pre-logits layer's width, if there is one
    return None if pre is None else int(pre)


def build_model(metadata, path):
    """The module a checkpoint's metadata describes: (module, image channels,
    classes, a line saying what it is)."""
    kind = metadata.get("model", "vit")
    if kind == "cnn":
        body = config_from(metadata, path, RESNET_KEYS, "body.")
        K = config_from(metadata, path, ["num_classes"])["num_classes"]
        cnn = reference.Cnn(build_resnet(body), K)
        return cnn, body["in_channels"], K, \
            f"Cnn(ResNet of {body['num_stages']} stages to {cnn.body.out_channels} channels, " \
            f"{K} classes)"
    if kind not in ("vit", "hybrid"):
        sys.exit(f"{path}: model {kind!r}: expected vit, hybrid or cnn")
    cfg = config_from(metadata, path)
    pre = class_token_head(metadata, path)
    encoder = "torchvision " + torchvision.__version__ + " VisionTransformer(" + \
        ", ".join(f"{k}={v}" for k, v in cfg.items() if k != "in_channels") + \
        f"), conv_proj with in_channels={cfg['in_channels']}"
    if kind == "vit":
        return build_vit(cfg, pre), cfg["in_channels"], cfg["num_classes"], encoder
    stem = config_from(metadata, path, RESNET_KEYS, "stem.")
    hybrid = build_hybrid(stem, cfg, pre)
    S = stem["image_size"]
    side = hybrid.stem(torch.zeros(1, stem["in_channels"], S, S)).shape[-1]
    if cfg["patch_size"] != 1 or cfg["image_size"] != side or \
            cfg["in_channels"] != hybrid.stem.out_channels:
        sys.exit(f"{path}: the encoder takes {cfg['image_size']}x{cfg['image_size']} maps of "
                 f"{cfg['in_channels']} channels in patches of {cfg['patch_size']}, not the "
                 f"stem's {side}x{side} map of {hybrid.stem.out_channels} channels in 1x1 patches")
    return hybrid, stem["in_channels"], cfg["num_classes"], \
        f"Hybrid(ResNet stem of {stem['num_stages']} stages, {encoder})"


# ---- data ----------------------------------------------------------------------


def read_idx(path):
    """An IDX file (gzipped) as a uint8 numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 8:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != math.prod(dims):
        sys.exit(f"{path}: {body.size} bytes of data, the header says {math.prod(dims)}")
    return body.reshape(dims)


def fashion_test_set(directory):
    """(pixels (N,28,28) uint8, labels (N) int64) of the test split."""
    pixels = read_idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, "t10k-labels-idx1-ubyte.gz"))
    return pixels, labels.astype(np.int64)


def normalise(pixels, metadata, channels):
    """(pixel/255 - image_mean)/image_std as (N,Cin,H,W) float32 tensor.
    image_mean and image_std hold one number, or one per channel separated by commas."""
    mean = np.array([float(v) for v in metadata["image_mean"].split(",")], dtype=np.float32)
    std = np.array([float(v) for v in metadata["image_std"].split(",")], dtype=np.float32)
    x = pixels.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    x = np.broadcast_to(x, (x.shape[0], channels) + x.shape[2:])
    return torch.from_numpy(((x - mean[:, None, None]) / std[:, None, None]).astype(np.float32))


# ---- write-fixture -------------------------------------------------------------


def write_fixture(directory):
    torch.manual_seed(SEED)
    cfg = {"image_size": 28, "patch_size": 7, "in_channels": 1, "hidden_dim": 16, "mlp_dim": 32,
           "num_layers": 2, "num_heads": 2, "num_classes": 10}
    vit = reference.randomize(build_vit(cfg)).eval()  # the zero head too
    metadata = OrderedDict((k, str(v)) for k, v in cfg.items())
    metadata.update(image_mean=FASHION_MEAN, image_std=FASHION_STD)
    pixels, _ = fashion_test_set(DATA_DIR)
    images = normalise(pixels[:4], metadata, 1)
    with torch.no_grad():
        logits = vit(images)
    os.makedirs(directory, exist_ok=True)
    save_safetensors(os.path.join(directory, FIXTURE), vit.state_dict(), metadata)
    reference.write(directory, FIXTURE_IO, OrderedDict([("images", images), ("logits", logits)]))
    write_models_fixture(directory, images)


def resnet_config(**fields):
    """A ResNetConfig (RESNET_KEYS) of the fields given, the others 0."""
    return {k: fields.get(k, 0) for k in RESNET_KEYS}


def write_models_fixture(directory, images):
    """Chapter 07's tiny hybrid and CNN (the module's docstring), with the
    metadata checkpoint_save writes, and their logits on images in float64."""
    torch.manual_seed(SEED)
    root = dict(image_size=28, in_channels=1, root_width=8, root_kernel=7, root_stride=2, groups=2)
    stem = resnet_config(**root, num_stages=1, stage1_units=1, stage1_width=4, stage1_stride=2)
    body = resnet_config(**root, num_stages=2, stage1_units=1, stage1_width=4, stage1_stride=1,
                         stage2_units=1, stage2_width=8, stage2_stride=2)
    encoder = {"image_size": 4, "patch_size": 1, "in_channels": 16, "hidden_dim": 16,
               "mlp_dim": 32, "num_layers": 2, "num_heads": 2, "num_classes": 10}
    models = OrderedDict([
        ("hybrid", (build_hybrid(stem, encoder), "stem.", stem, {**encoder, "pool": "cls"})),
        ("cnn", (reference.Cnn(build_resnet(body), 10), "body.", body, {"num_classes": 10}))])
    io = OrderedDict(images=images)
    for kind, (model, prefix, resnet, rest) in models.items():
        model = reference.randomize(model).eval()
        metadata = OrderedDict(format="pt", model=kind)
        metadata.update((prefix + k, str(v)) for k, v in resnet.items())
        metadata.update((k, str(v)) for k, v in rest.items())
        metadata.update(image_mean=FASHION_MEAN, image_std=FASHION_STD)
        save_safetensors(os.path.join(directory, MODELS_FIXTURE[kind]), model.state_dict(),
                         metadata)
        with torch.no_grad():
            io[kind + ".logits"] = model.double()(images.double())
    reference.write(directory, MODELS_FIXTURE_IO, io)


# ---- check ---------------------------------------------------------------------


def read_predictions(path, count, classes):
    """The C program's CSV (index,label,predicted,logit_0,...; a header line allowed)
    as (indices, labels, predicted, logits)."""
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.strip().split(",")
            if number == 1 and not fields[0].isdigit():
                continue  # the header line
            if len(fields) != 3 + classes:
                sys.exit(f"{path}:{number}: {len(fields)} columns, expected {3 + classes}")
            rows.append(fields)
    if not rows:
        sys.exit(f"{path}: no predictions")
    table = np.array(rows, dtype=np.float64)
    index = table[:, 0].astype(np.int64)
    if index.min() < 0 or index.max() >= count:
        sys.exit(f"{path}: an index outside the test set's 0..{count - 1}")
    return index, table[:, 1].astype(np.int64), table[:, 2].astype(np.int64), table[:, 3:]


def check(args):
    tensors, metadata = load_safetensors(args.checkpoint)
    model, channels, classes, what = build_model(metadata, args.checkpoint)
    model.eval()
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        sys.exit(f"{args.checkpoint}: does not load into {type(model).__name__}: {e}")
    print(f"{args.checkpoint}: {len(tensors)} tensors loaded with strict=True into {what}")
    pixels, labels = fashion_test_set(args.data)
    images = normalise(pixels, metadata, channels)
    with torch.no_grad():
        logits = torch.cat([model(images[i:i + 500]) for i in range(0, len(images), 500)]).numpy()
    predicted = logits.argmax(axis=1)
    correct = int((predicted == labels).sum())
    print(f"test accuracy in PyTorch: {100.0 * correct / len(labels):.2f}% "
          f"({correct} of {len(labels)})")
    if args.predictions is None:
        return 0
    index, label, c_predicted, c_logits = read_predictions(args.predictions, len(labels), classes)
    if (label != labels[index]).any():
        sys.exit(f"{args.predictions}: labels differ from the test set's: another data set?")
    agree = int((c_predicted == predicted[index]).sum())
    diff = float(np.abs(c_logits - logits[index]).max())
    print(f"predictions: {agree} of {len(index)} agree with the C program's; "
          f"largest logit difference {diff:.3g}")
    return 0 if diff <= args.tolerance else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fixture = commands.add_parser("write-fixture", help="write the torchvision test fixture")
    fixture.add_argument("directory")
    checking = commands.add_parser("check", help="evaluate a C checkpoint in torchvision")
    checking.add_argument("checkpoint")
    checking.add_argument("--predictions", help="the CSV written by --predictions")
    checking.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR") or DATA_DIR,
                          help="Fashion-MNIST directory (default: %(default)s)")
    checking.add_argument("--tolerance", type=float, default=1e-3,
                          help="largest logit difference accepted (default: %(default)s)")
    args = parser.parse_args()
    torch.manual_seed(SEED)
    if args.command == "write-fixture":
        write_fixture(args.directory)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
