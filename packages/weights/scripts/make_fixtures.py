#!/usr/bin/python3
"""Golden checkpoints for @wider/weights, written by an independent (Python) implementation of the
manifest format, so the TypeScript loader is tested against the format, not against itself.

Run from packages/weights:  /usr/bin/python3 scripts/make_fixtures.py
Writes (small, committed; CI needs neither python nor torch):

test/fixtures/checkpoint-v2/  manifest.json + weights-<tag>.bin in format version 2:
    blobSha256 = sha256(blob); manifestSha256 = sha256 of the canonical JSON of the manifest without
    that field (keys sorted, no whitespace: json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False) -- the same text as canonicalJson for the ASCII/BMP keys and the plain
    numbers used here). Tensors from torch (float32 and int32, little-endian), groups
    "mean", "__proto__" (a name an object literal would lose) and "empty"; metadata with a
    "__proto__" key, a non-ASCII string, nested arrays.
test/fixtures/checkpoint-v2.expected.json  the same tensors and metadata as plain JSON.
test/fixtures/checkpoint-v1/  the same weights as format version 1 wrote them (sha256 over the blob
    only), which this version refuses as "written by an older version".
"""
import hashlib
import json
import os
import shutil

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "test", "fixtures")

torch.manual_seed(15)
tensors = [
    ("mean", "dense/kernel", torch.randn(2, 5, dtype=torch.float32)),
    ("mean", "dense/bias", torch.randn(5, dtype=torch.float32)),
    ("__proto__", "constructor", torch.tensor([7, -3], dtype=torch.int32)),
    ("__proto__", "__proto__", torch.randn(1, 2, 2, dtype=torch.float32)),
]
groups = ["mean", "__proto__", "empty"]
metadata = {"epoch": 10, "n": 1, "note": "caf\u00e9", "__proto__": {"x": 1}, "nested": [1, 0.5, None, True]}

entries = []
blob = b""
for group, name, t in tensors:
    data = t.contiguous().numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
    entries.append({
        "group": group,
        "name": name,
        "shape": list(t.shape),
        "dtype": "int32" if t.dtype == torch.int32 else "float32",
        "offset": len(blob),
        "bytes": len(data),
    })
    blob += data


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_dir(name, manifest, blob_name):
    d = os.path.join(FIXTURES, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, blob_name), "wb") as f:
        f.write(blob)
    with open(os.path.join(d, "manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


blob_sha = hashlib.sha256(blob).hexdigest()
v2 = {
    "format": "wider-weights",
    "version": 2,
    "blob": "weights-0123456789ab.bin",
    "blobBytes": len(blob),
    "blobSha256": blob_sha,
    "groups": groups,
    "tensors": entries,
    "metadata": metadata,
}
v2["manifestSha256"] = hashlib.sha256(canonical(v2).encode("utf-8")).hexdigest()
write_dir("checkpoint-v2", v2, v2["blob"])

v1 = {
    "format": "wider-weights",
    "version": 1,
    "blob": "weights-ba9876543210.bin",
    "blobBytes": len(blob),
    "sha256": blob_sha,
    "groups": groups,
    "tensors": entries,
    "metadata": metadata,
}
write_dir("checkpoint-v1", v1, v1["blob"])

expected = {
    "groups": groups,
    "tensors": [
        {"group": g, "name": n, "shape": list(t.shape), "dtype": e["dtype"], "values": t.flatten().tolist()}
        for (g, n, t), e in zip(tensors, entries)
    ],
    "metadata": metadata,
}
with open(os.path.join(FIXTURES, "checkpoint-v2.expected.json"), "w", encoding="utf-8") as f:
    f.write(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
print("wrote", FIXTURES)
