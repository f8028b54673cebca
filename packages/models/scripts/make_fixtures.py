#!/usr/bin/python3
"""Parameter counts of @wider/models' networks, built independently in PyTorch (Debian python3-torch 1.13).

Run from packages/models:  /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/param_counts.json (small, committed; the tests only read it).

The paper models follow the SWA authors' definitions (github.com/timgaripov/swa, models/):
  - VGG-16 (cfg D: 13 3x3 convs with bias, 5 max-pools, classifier Dropout-512-ReLU-Dropout-512-ReLU-classes),
    with and without BatchNorm2d after every conv (the conv keeps its bias).
  - PreResNet-110 and PreResNet-164: depth >= 44 selects the *bottleneck* block (1x1, 3x3, 1x1, expansion 4,
    pre-activation), n = (depth - 2) / 9 blocks per stage: 12 for 110, 18 for 164. Convs without bias,
    stride on the 3x3 conv, 1x1 projection of the raw block input when shape changes, final BN-ReLU-avgpool-fc.
  - WideResNet-28-10: n = (28 - 4) / 6 = 4 wide basic blocks per stage, widths 160/320/640, convs with bias,
    stride on the second 3x3 conv, 1x1 projection with bias, final BN-ReLU-avgpool-fc.
The small models mirror the TypeScript defaults (src/small/*.ts).

For every model x classes the fixture records trainable parameters (sum of numel over parameters), BatchNorm
buffer elements (running_mean + running_var; tfjs calls them moving_mean / moving_variance), the number of
BatchNorm layers (PyTorch also keeps one int64 num_batches_tracked scalar per BN layer, tfjs has no
equivalent), and the number of conv, linear and BN layers, so a test can check structure as well as size.
The logits shape for a batch of 2 is checked by a forward pass here (torch.no_grad, eval mode).
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "param_counts.json")


# ------------------------------------------------------------------------------------------------
# paper models
# ------------------------------------------------------------------------------------------------

def vgg16(classes, batch_norm):
    plan = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    features, c = [], 3
    for v in plan:
        if v == "M":
            features.append(nn.MaxPool2d(2, 2))
            continue
        features.append(nn.Conv2d(c, v, 3, padding=1))
        if batch_norm:
            features.append(nn.BatchNorm2d(v))
        features.append(nn.ReLU())
        c = v
    return nn.Sequential(
        *features,
        nn.Flatten(),
        nn.Dropout(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, classes),
    )


class PreActBottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = 4 * width
        self.pre = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, cout, 1, bias=False),
        )
        project = stride != 1 or cin != cout
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if project else None

    def forward(self, x):
        y = self.body(self.pre(x))
        return y + (x if self.shortcut is None else self.shortcut(x))


class PaperPreResNet(nn.Module):
    def __init__(self, depth, classes):
        super().__init__()
        assert depth >= 44 and (depth - 2) % 9 == 0
        n = (depth - 2) // 9
        blocks, c = [nn.Conv2d(3, 16, 3, padding=1, bias=False)], 16
        for width, stride in [(16, 1), (32, 2), (64, 2)]:
            for j in range(n):
                blocks.append(PreActBottleneck(c, width, stride if j == 0 else 1))
                c = 4 * width
        self.features = nn.Sequential(*blocks, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride, dropout):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(),
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.Dropout(dropout),
            nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, stride=stride, padding=1),
        )
        project = stride != 1 or cin != cout
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if project else None

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


class WideResNet(nn.Module):
    def __init__(self, depth, k, classes, dropout=0.0):
        super().__init__()
        n = (depth - 4) // 6
        layers, c = [nn.Conv2d(3, 16, 3, padding=1)], 16
        for width, stride in [(16 * k, 1), (32 * k, 2), (64 * k, 2)]:
            for j in range(n):
                layers.append(WideBlock(c, width, stride if j == 0 else 1, dropout))
                c = width
        self.features = nn.Sequential(*layers, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


# ------------------------------------------------------------------------------------------------
# small models (defaults of src/small/*.ts)
# ------------------------------------------------------------------------------------------------

def mlp(shape, classes, hidden):
    h, w, c = shape
    layers, d = [nn.Flatten()], h * w * c
    for u in hidden:
        layers += [nn.Linear(d, u), nn.ReLU()]
        d = u
    return nn.Sequential(*layers, nn.Linear(d, classes))


def cnn(shape, classes, filters, dense, batch_norm):
    h, w, c = shape
    layers = []
    for f in filters:
        layers.append(nn.Conv2d(c, f, 3))
        if batch_norm:
            layers.append(nn.BatchNorm2d(f))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        h, w, c = (h - 2) // 2, (w - 2) // 2, f
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(h * w * c, dense), nn.ReLU(),
                         nn.Linear(dense, classes))


def small_vgg(shape, classes, blocks, dense):
    h, w, c = shape
    layers = []
    for block in blocks:
        for f in block:
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU()]
            c = f
        layers.append(nn.MaxPool2d(2))
        h, w = h // 2, w // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(h * w * c, dense), nn.ReLU(),
                         nn.Linear(dense, classes))


class SmallPreActBlock(nn.Module):
    """BN-ReLU-conv3x3 twice; the projection (1x1, on the pre-activated input) when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        )
        project = stride != 1 or cin != cout
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if project else None

    def forward(self, x):
        p = self.pre(x)
        return self.body(p) + (x if self.shortcut is None else self.shortcut(p))


class SmallPreResNet(nn.Module):
    def __init__(self, shape, classes, widths, blocks_per_stage):
        super().__init__()
        c = shape[2]
        layers = [nn.Conv2d(c, widths[0], 3, padding=1, bias=False)]
        c = widths[0]
        for k, width in enumerate(widths):
            for j in range(blocks_per_stage):
                stride = 2 if (k > 0 and j == 0) else 1
                layers.append(SmallPreActBlock(c, width, stride))
                c = width
        self.features = nn.Sequential(*layers, nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


# ------------------------------------------------------------------------------------------------
# counting
# ------------------------------------------------------------------------------------------------

def count(model, shape):
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    model.eval()
    with torch.no_grad():
        h, w, c = shape
        logits = model(torch.zeros(2, c, h, w))
    return {
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "bnBuffers": sum(b.running_mean.numel() + b.running_var.numel() for b in bns),
        "bnLayers": len(bns),
        "convLayers": sum(1 for m in model.modules() if isinstance(m, nn.Conv2d)),
        "denseLayers": sum(1 for m in model.modules() if isinstance(m, nn.Linear)),
        "logitsShape": list(logits.shape),
    }


MNIST = [28, 28, 1]
CIFAR = [32, 32, 3]

# (fixture key, spec the TypeScript side builds, torch constructor)
CASES = []
for classes in (10, 100):
    CASES += [
        ({"kind": "mlp", "classes": classes}, MNIST, lambda k: mlp(MNIST, k, [512, 256])),
        ({"kind": "mlp", "classes": classes, "hidden": [256, 128]}, MNIST,
         lambda k: mlp(MNIST, k, [256, 128])),
        ({"kind": "cnn", "classes": classes}, MNIST, lambda k: cnn(MNIST, k, [32, 64], 128, False)),
        ({"kind": "cnn", "classes": classes, "batchNorm": True}, MNIST,
         lambda k: cnn(MNIST, k, [32, 64], 128, True)),
        ({"kind": "vgg", "classes": classes}, MNIST,
         lambda k: small_vgg(MNIST, k, [[16, 16], [32, 32], [64]], 64)),
        ({"kind": "vgg", "classes": classes, "inputShape": CIFAR}, CIFAR,
         lambda k: small_vgg(CIFAR, k, [[16, 16], [32, 32], [64]], 64)),
        ({"kind": "preresnet", "classes": classes}, MNIST,
         lambda k: SmallPreResNet(MNIST, k, [16, 32, 64], 1)),
        ({"kind": "preresnet", "classes": classes, "inputShape": CIFAR, "blocksPerStage": 2}, CIFAR,
         lambda k: SmallPreResNet(CIFAR, k, [16, 32, 64], 2)),
        ({"kind": "vgg16", "classes": classes}, CIFAR, lambda k: vgg16(k, False)),
        ({"kind": "vgg16bn", "classes": classes}, CIFAR, lambda k: vgg16(k, True)),
        ({"kind": "preresnet110", "classes": classes}, CIFAR, lambda k: PaperPreResNet(110, k)),
        ({"kind": "preresnet164", "classes": classes}, CIFAR, lambda k: PaperPreResNet(164, k)),
        ({"kind": "wrn28x10", "classes": classes}, CIFAR, lambda k: WideResNet(28, 10, k)),
    ]


def main():
    torch.manual_seed(1)
    rows = []
    for spec, shape, make in CASES:
        counts = count(make(spec["classes"]), shape)
        rows.append({"spec": spec, **counts})
        print(f'{json.dumps(spec):80s} trainable {counts["trainable"]:>10,d}  bn buffers {counts["bnBuffers"]:>7,d}')
    doc = {
        "generator": "scripts/make_fixtures.py",
        "torch": torch.__version__,
        "models": rows,
    }
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, OUT)


if __name__ == "__main__":
    main()
