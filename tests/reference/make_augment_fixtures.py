#!/usr/bin/env python3
"""Golden values for the photometric operations from torchvision.transforms.functional (tensor path),
float64, on a small random image.

    /usr/bin/python3 tests/reference/make_augment_fixtures.py

Writes tests/data/train/augment_golden.safetensors: `image` (3, 9, 11) in [0, 1], `grayscale`, and for
each factor list entry `brightness_<i>`, `contrast_<i>`, `saturation_<i>`, `hue_<i>`; metadata lists the
factors (`brightness`, `contrast`, `saturation`, `hue`: comma-separated, in order).
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

import torch
import torchvision.transforms.functional as TF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import write_safetensors  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "train", "augment_golden.safetensors")

FACTORS = {
    "brightness": [0.2, 0.7, 1.0, 1.8],
    "contrast": [0.2, 1.3, 1.8],
    "saturation": [0.2, 1.0, 1.8],
    "hue": [-0.2, -0.05, 0.0, 0.13, 0.2],
}


def main() -> None:
    gen = torch.Generator().manual_seed(20261130)
    image = torch.rand(3, 9, 11, generator=gen, dtype=torch.float64)
    image[:, 0, 0] = 0.5  # a gray pixel (saturation 0, hue undefined)
    image[:, 0, 1] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)  # pure red
    tensors = OrderedDict(image=image, grayscale=TF.rgb_to_grayscale(image))
    ops = {"brightness": TF.adjust_brightness, "contrast": TF.adjust_contrast,
           "saturation": TF.adjust_saturation, "hue": TF.adjust_hue}
    for name, values in FACTORS.items():
        for i, v in enumerate(values):
            tensors[f"{name}_{i}"] = ops[name](image, v)
    import torchvision

    meta = {k: ",".join(repr(x) for x in v) for k, v in FACTORS.items()}
    meta.update(generator="tests/reference/make_augment_fixtures.py", torchvision=torchvision.__version__)
    write_safetensors(OUT, tensors, meta)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
