#!/usr/bin/env python3
"""Writes a deterministic tree of N files totalling about SIZE bytes.

Usage: make-tree.py DIR FILES TOTAL_BYTES [SEED]

Sizes follow a spread like an ESP's or a closure's: many small files and a
few large ones. Contents are pseudo-random (incompressible) from SEED.
"""
import os
import random
import sys

root, count, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
weights = [rng.paretovariate(1.2) for _ in range(count)]
scale = total / sum(weights)
block = rng.randbytes(1 << 20)
for i, w in enumerate(weights):
    size = int(w * scale)
    d = os.path.join(root, f"dir-{i % 37:02d}", f"sub-{i % 5}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file-{i:05d}.bin"), "wb") as f:
        offset = (i * 7919) % len(block)
        while size > 0:
            chunk = block[offset:offset + size]
            f.write(chunk)
            size -= len(chunk)
            offset = 0
