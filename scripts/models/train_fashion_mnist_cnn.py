#!/usr/bin/env python3
"""Trains the small Fashion-MNIST CNN on CPU, deterministically, and exports it as ONNX (opset 13).

    /usr/bin/python3 scripts/models/train_fashion_mnist_cnn.py            # -> models/fashion_mnist_cnn.{onnx,json}

Architecture (channel counts are multiples of 16 to map onto the accelerator's 16-channel blocks):

    input  (1,1,28,28) float32, pixel/255 in [0,1] (see fashion_mnist.py)
    Conv 1->16 3x3 pad 1 + BatchNorm + ReLU, MaxPool 2x2/2     -> 16x14x14
    Conv 16->32 3x3 pad 1 + BatchNorm + ReLU, MaxPool 2x2/2    -> 32x7x7
    Conv 32->64 3x3 pad 1 + BatchNorm + ReLU, MaxPool 2x2/2    -> 64x3x3
    Flatten (576), Linear 576->64 + ReLU, Linear 64->10          -> logits (1,10)

Training: Adam, batch 128, cosine learning-rate decay, fixed seed, torch.use_deterministic_algorithms,
2 threads, no data augmentation. The model is exported in eval mode with its BatchNormalization nodes
kept (not folded into the convolutions), input `input` (1,1,28,28), output `logits` (1,10).
After export the ONNX file is checked with onnx.checker and run with the numpy reference interpreter
(onnx_ref.py) on the test images, to compare with PyTorch.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import fashion_mnist  # noqa: E402
import onnx_ref  # noqa: E402


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, 64), nn.ReLU(inplace=True),
                                        nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


ARCH_SUMMARY = [
    "Conv(1->16, 3x3, pad 1, no bias) + BatchNorm + ReLU, MaxPool 2x2/2 -> 16x14x14",
    "Conv(16->32, 3x3, pad 1, no bias) + BatchNorm + ReLU, MaxPool 2x2/2 -> 32x7x7",
    "Conv(32->64, 3x3, pad 1, no bias) + BatchNorm + ReLU, MaxPool 2x2/2 -> 64x3x3",
    "Flatten -> 576",
    "Linear(576->64) + ReLU",
    "Linear(64->10) -> logits",
]


def set_determinism(seed, threads):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


def train(args):
    set_determinism(args.seed, args.threads)
    xtr, ytr = fashion_mnist.load_preprocessed("train", data_dir=args.data_dir)
    xte, yte = fashion_mnist.load_preprocessed("test", data_dir=args.data_dir)
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr).long()
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte).long()

    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (xtr.shape[0] + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    history = []
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total_loss = 0.0
        te = time.perf_counter()
        for i in range(0, xtr.shape[0], args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss) * idx.shape[0]
        train_loss = total_loss / xtr.shape[0]
        acc = evaluate(model, xte_t, yte_t) if args.eval_every_epoch else None
        history.append({"epoch": epoch + 1, "train_loss": round(train_loss, 5),
                        "test_accuracy": acc, "seconds": round(time.perf_counter() - te, 1)})
        print(f"epoch {epoch + 1}/{args.epochs}: loss {train_loss:.4f}"
              + (f", test accuracy {acc:.4f}" if acc is not None else "")
              + f" ({time.perf_counter() - te:.1f} s)", flush=True)
    train_seconds = time.perf_counter() - t0
    model.eval()
    acc = evaluate(model, xte_t, yte_t)
    return model, acc, train_seconds, history, xte, yte


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # torch 1.13 folds BatchNormalization into the preceding Conv when training=EVAL (the
    # eval-mode "peephole" pass). PRESERVE with the model in eval mode exports the same inference
    # graph without that pass, so the BatchNormalization nodes stay in the ONNX graph.
    with warnings.catch_warnings():
        # the warning about constant folding in PRESERVE mode concerns models in training mode
        warnings.filterwarnings("ignore", message=".*constant folding.*")
        torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"],
                          output_names=["logits"], do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx_ref.fold_initializer_identities(onnx.load(path))
    onnx.save(m, path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    unsupported = sorted(set(ops) - onnx_ref.VTA_OPS)
    if unsupported:
        raise RuntimeError(f"exported graph has ops the VTA compiler does not import: {unsupported}")
    if any(n.op_type == "BatchNormalization" and
           any(a.name == "training_mode" and a.i == 1 for a in n.attribute) for n in m.graph.node):
        raise RuntimeError("exported BatchNormalization is in training mode")
    return m, ops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "fashion_mnist_cnn.onnx"))
    ap.add_argument("--json", default=None, help="metadata path (default: --out with .json)")
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every-epoch", action="store_true", help="print test accuracy after each epoch")
    ap.add_argument("--check-images", type=int, default=10000,
                    help="test images run through the ONNX file with onnx_ref.py (default all 10000, 0: skip)")
    ap.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DIR)
    args = ap.parse_args(argv)
    json_path = args.json or os.path.splitext(args.out)[0] + ".json"

    t_all = time.perf_counter()
    load_before = [round(v, 2) for v in os.getloadavg()]
    model, acc, train_seconds, history, xte, yte = train(args)
    m, ops = export(model, args.out)
    n_bn = ops.count("BatchNormalization")
    print(f"exported {args.out}: {len(ops)} nodes, ops {sorted(set(ops))}, "
          f"{n_bn} BatchNormalization nodes{' (exporter fused them)' if n_bn == 0 else ''}")

    check = None
    if args.check_images:
        n = args.check_images
        with torch.no_grad():
            ref = model(torch.from_numpy(xte[:n])).numpy()
        # the graph's batch is 1, but the interpreter does not enforce shapes: run 500 images at a time
        got = np.concatenate([onnx_ref.run(m, {"input": xte[i:min(i + 500, n)]})["logits"]
                              for i in range(0, n, 500)])
        diff = float(np.abs(got - ref).max())
        onnx_acc = float((got.argmax(1) == yte[:n]).mean())
        agree = float((got.argmax(1) == ref.argmax(1)).mean())
        print(f"ONNX (numpy reference) vs PyTorch on {n} test images: max abs logit diff {diff:.3g}, "
              f"top-1 agreement {agree:.4f}, ONNX accuracy {onnx_acc:.4f}")
        if diff > 1e-3 or agree < 1.0:
            print("error: ONNX graph does not reproduce the PyTorch model", file=sys.stderr)
            return 1
        check = {"images": n, "max_abs_logit_diff": diff, "top1_agreement": agree,
                 "accuracy_on_these_images": onnx_acc}

    with open(args.out, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    meta = {
        "model": os.path.basename(args.out),
        "sha256": sha,
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist), 60,000 train / 10,000 test",
        "preprocessing": "float32 pixel/255 in [0,1], NCHW (N,1,28,28), no mean/std normalisation",
        "input": {"name": "input", "shape": [1, 1, 28, 28], "dtype": "float32"},
        "output": {"name": "logits", "shape": [1, 10], "dtype": "float32"},
        "class_names": fashion_mnist.CLASS_NAMES,
        "architecture": ARCH_SUMMARY,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_opset": 13,
        "onnx_ops": sorted(set(ops)),
        "onnx_nodes": len(ops),
        "batchnorm_nodes": n_bn,
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch,
        "optimizer": f"Adam lr {args.lr}, cosine decay to 0 over all steps",
        "threads": args.threads,
        "deterministic": "torch.use_deterministic_algorithms(True), fixed seed, fixed shuffle generator",
        "float_test_accuracy": round(acc, 4),
        "training_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - t_all, 1),
        "load_average_before": load_before,          # 1/5/15-minute; timings grow with other load
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "history": history,
        "onnx_check": check,
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    with open(json_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {json_path}")
    print(f"training time {train_seconds:.1f} s ({args.epochs} epochs, {args.threads} threads)")
    print(f"float test accuracy: {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
