#!/usr/bin/env python3
"""Fashion-MNIST reader (IDX format, gzip-compressed) and .npy exporter.

Only numpy is needed. The data files are those of the Debian package
`dataset-fashion-mnist`, installed in /usr/share/datasets/fashion-mnist:

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60,000 images)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10,000 images)

Preprocessing (the same one train_fashion_mnist_cnn.py trains with):
    image = uint8 pixel / 255.0  ->  float32 in [0, 1], layout NCHW (N, 1, 28, 28).
No mean/std normalisation is applied. Labels are int32 in 0..9.

Library use:
    from fashion_mnist import load, preprocess
    images_u8, labels = load("test")            # (N,28,28) uint8, (N,) int32
    x = preprocess(images_u8)                   # (N,1,28,28) float32 in [0,1]

CLI:
    fashion_mnist.py export --split test --count 10000 --out-images X.npy --out-labels Y.npy
    fashion_mnist.py export --split train --count 256 --offset 0 --out-images calib.npy
"""

import argparse
import gzip
import os
import sys

import numpy as np

DEFAULT_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

_PREFIX = {"train": "train", "test": "t10k"}

# IDX element type codes -> numpy big-endian dtypes
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Reads an IDX file (optionally .gz) and returns a numpy array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{type_code:02x}")
    dtype = _IDX_TYPES[type_code]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(dims)) if dims else 1
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path}: size {len(data)} does not match header (expected {expected})")
    arr = np.frombuffer(data, dtype=dtype, offset=header, count=count).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def paths(split, data_dir=DEFAULT_DIR):
    if split not in _PREFIX:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    p = _PREFIX[split]
    return (os.path.join(data_dir, f"{p}-images-idx3-ubyte.gz"),
            os.path.join(data_dir, f"{p}-labels-idx1-ubyte.gz"))


def load(split, data_dir=DEFAULT_DIR):
    """Returns (images uint8 (N,28,28), labels int32 (N,)) for split 'train' or 'test'."""
    img_path, lbl_path = paths(split, data_dir)
    images = read_idx(img_path)
    labels = read_idx(lbl_path).astype(np.int32)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"unexpected shapes {images.shape} / {labels.shape}")
    return images, labels


def preprocess(images_u8):
    """uint8 (N,28,28) -> float32 (N,1,28,28) in [0,1] (pixel / 255)."""
    x = np.asarray(images_u8, dtype=np.float32) / np.float32(255.0)
    return x.reshape(x.shape[0], 1, x.shape[-2], x.shape[-1])


def load_preprocessed(split, offset=0, count=None, data_dir=DEFAULT_DIR):
    """Returns (float32 (N,1,28,28), int32 (N,)) for images [offset, offset+count)."""
    images, labels = load(split, data_dir)
    total = images.shape[0]
    if offset < 0 or offset > total:
        raise ValueError(f"offset {offset} outside 0..{total}")
    end = total if count is None else offset + count
    if count is not None and (count < 0 or end > total):
        raise ValueError(f"offset {offset} + count {count} exceeds the {total} images of '{split}'")
    return preprocess(images[offset:end]), labels[offset:end].copy()


def _cmd_export(args):
    x, y = load_preprocessed(args.split, args.offset, args.count, args.data_dir)
    if not args.out_images and not args.out_labels:
        print("export: nothing to write (give --out-images and/or --out-labels)", file=sys.stderr)
        return 2
    for path, arr in ((args.out_images, x), (args.out_labels, y)):
        if path:
            d = os.path.dirname(os.path.abspath(path))
            os.makedirs(d, exist_ok=True)
            np.save(path, arr)
    print(f"exported {x.shape[0]} {args.split} images [{args.offset}, {args.offset + x.shape[0]}): "
          f"images {x.shape} {x.dtype} -> {args.out_images or '-'}, "
          f"labels {y.shape} {y.dtype} -> {args.out_labels or '-'}")
    return 0


def _cmd_info(args):
    for split in ("train", "test"):
        images, labels = load(split, args.data_dir)
        counts = np.bincount(labels, minlength=10)
        print(f"{split}: {images.shape[0]} images {images.shape[1]}x{images.shape[2]}, "
              f"per-class counts {counts.tolist()}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=DEFAULT_DIR,
                    help="folder with the IDX .gz files (default: %(default)s, or $FASHION_MNIST_DIR)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="write a slice of a split as .npy (float32 NCHW in [0,1], int32 labels)")
    ex.add_argument("--split", choices=["train", "test"], default="test")
    ex.add_argument("--offset", type=int, default=0, help="first image index (default 0)")
    ex.add_argument("--count", type=int, default=None, help="number of images (default: all from offset)")
    ex.add_argument("--out-images", help="output .npy for images, float32 (N,1,28,28)")
    ex.add_argument("--out-labels", help="output .npy for labels, int32 (N,)")
    ex.set_defaults(func=_cmd_export)
    info = sub.add_parser("info", help="print the split sizes and class counts")
    info.set_defaults(func=_cmd_info)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError) as e:
        print(f"fashion_mnist: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
