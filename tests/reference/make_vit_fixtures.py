#!/usr/bin/env python3
"""Deterministic generator of the ViT test fixtures (weights, reference outputs, checkpoint layouts).

Run from anywhere with Debian's python3 + python3-torch 1.13:

    /usr/bin/python3 tests/reference/make_vit_fixtures.py

Writes tests/data/vit/*.safetensors and tests/data/checkpoints/* (see tests/data/checkpoints/README.md).
Uses the minimal safetensors writer of fixture_io.py and its own reader (the `safetensors` package is not
required).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import struct
import sys
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixture_io  # noqa: E402
import vit_reference as vr  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
VIT_DIR = os.path.join(REPO, "tests", "data", "vit")
CKPT_DIR = os.path.join(REPO, "tests", "data", "checkpoints")

# (H, W, batch)
SIZES: List[Tuple[int, int, int]] = [(518, 518, 1), (224, 224, 2), (98, 98, 2), (224, 336, 2)]
MODES = ("offset", "antialias")
# Per-family overrides of SIZES (size budget): dino_v1_p8 at 518x518 would be a 64x64 grid (4096 tokens,
# ~1 MiB for the two modes); upsampling past 2x is already covered by dino_v1_p16 at 518 (14 -> 32).
FAMILY_SIZES: Dict[str, List[Tuple[int, int, int]]] = {
    "dino_v1_p8": [(224, 224, 2), (98, 98, 2), (224, 336, 2)],
}

FAMILIES: "OrderedDict[str, Tuple[int, vr.ViTConfig]]" = OrderedDict([
    ("dinov2", (1001, vr.ViTConfig(family="dinov2", patch_size=14, embed_dim=32, num_heads=2, depth=2,
                                   num_registers=0, layer_scale=True, mlp="gelu", pos_grid=37))),
    ("dinov2_reg4", (1002, vr.ViTConfig(family="dinov2_reg4", patch_size=14, embed_dim=32, num_heads=2, depth=2,
                                        num_registers=4, layer_scale=True, mlp="gelu", pos_grid=37))),
    ("dinov2_swiglu", (1003, vr.ViTConfig(family="dinov2_swiglu", patch_size=14, embed_dim=48, num_heads=3,
                                          depth=2, num_registers=0, layer_scale=True, mlp="swiglu",
                                          pos_grid=37))),
    ("dino_v1_p16", (1004, vr.ViTConfig(family="dino_v1_p16", patch_size=16, embed_dim=32, num_heads=2, depth=2,
                                        num_registers=0, layer_scale=False, mlp="gelu", pos_grid=14,
                                        has_mask_token=False, scale_q_first=False))),
    ("dino_v1_p8", (1005, vr.ViTConfig(family="dino_v1_p8", patch_size=8, embed_dim=32, num_heads=2, depth=2,
                                       num_registers=0, layer_scale=False, mlp="gelu", pos_grid=28,
                                       has_mask_token=False, scale_q_first=False))),
])


# ----------------------------------------------------------------------------------------------
# minimal safetensors writer / reader
# ----------------------------------------------------------------------------------------------
def write_safetensors(path: str, tensors: "OrderedDict[str, torch.Tensor]", metadata: Dict[str, str]) -> None:
    """Every fixture tensor of this generator is stored as float32 (little-endian, like all our targets)."""
    assert sys.byteorder == "little"
    fixture_io.write_safetensors(path, OrderedDict((k, t.detach().to(torch.float32).cpu()) for k, t in tensors.items()),
                                 metadata)


def read_safetensors(path: str) -> Tuple["OrderedDict[str, torch.Tensor]", Dict[str, str]]:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    expect = 0
    for name, info in header.items():
        assert info["dtype"] == "F32"
        b, e = info["data_offsets"]
        assert b == expect, f"{name}: non-contiguous data"
        expect = e
        t = torch.frombuffer(bytearray(raw[base + b:base + e]), dtype=torch.float32)
        out[name] = t.reshape(info["shape"]).clone()
    assert base + expect == len(raw), "trailing bytes"
    return out, meta


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def size_key(H: int, W: int) -> str:
    return f"{H}x{W}"


def modes_for(cfg: vr.ViTConfig, H: int, W: int) -> List[str]:
    M = cfg.pos_grid
    pe = torch.zeros(1, M * M + 1, 1)
    return list(MODES) if vr.needs_interpolation(pe, H, W, cfg.patch_size) else ["native"]


def expected_outputs(model: vr.ReferenceViT, cfg: vr.ViTConfig,
                     sizes=SIZES, detail_size=(224, 224)) -> "OrderedDict[str, torch.Tensor]":
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for H, W, B in sizes:
        x = vr.make_input(B, H, W)
        for mode in modes_for(cfg, H, W):
            run_mode = "offset" if mode == "native" else mode
            detail = (H, W) == tuple(detail_size)
            with torch.no_grad():
                r = model.forward(x, mode=run_mode, keep_blocks=detail, keep_attn=detail)
            if mode == "native":   # prove the mode really does not matter there
                with torch.no_grad():
                    r2 = model.forward(x, mode="antialias")
                assert torch.equal(r.patch, r2.patch)
            gh, gw = H // cfg.patch_size, W // cfg.patch_size
            assert r.grid == (gh, gw) and r.patch.shape == (B, gh * gw, cfg.embed_dim)
            k = f"{size_key(H, W)}.{mode}."
            out[k + "cls"] = r.cls
            out[k + "patch"] = r.patch
            if cfg.num_registers > 0:
                out[k + "reg"] = r.registers
            if detail:
                for i, t in enumerate(r.blocks):
                    out[k + f"block{i}"] = t
                out[k + "attn"] = r.attn_cls_to_patches
                assert r.attn_cls_to_patches.shape == (B, cfg.num_heads, gh * gw)
    return out


def expected_metadata(cfg: vr.ViTConfig, sizes=SIZES, extra: Dict[str, str] = None) -> Dict[str, str]:
    m = dict(cfg.metadata())
    m["formula"] = vr.INPUT_FORMULA
    m["torch_version"] = torch.__version__
    m["sizes"] = ",".join(f"{H}x{W}:B{B}" for H, W, B in sizes)
    m["modes"] = ("offset = bicubic scale_factor ((g+0.1)/M) align_corners=False no antialias; "
                  "antialias = bicubic size=(gh,gw) antialias=True; native = no interpolation "
                  "(npatch == N and H == W)")
    m["keys"] = ("{H}x{W}.{mode}.cls (B,D), .patch (B,N,D), .reg (B,R,D) if R>0; 224x224 only: "
                 ".block{i} raw block output before final norm (B,1+R+N,D), .attn last block CLS-query "
                 "softmax (over all tokens) restricted to patch keys (B,heads,N)")
    m["token_order"] = "CLS, REG x R, patches row-major"
    if extra:
        m.update(extra)
    return m


def torch_save(obj, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path)   # torch 1.13 default: zip container, pickle protocol 2


def projection_head(D: int, hidden: int = 64, out: int = 16) -> "OrderedDict[str, torch.Tensor]":
    h: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for idx, (i, o) in zip((0, 2, 4), ((D, hidden), (hidden, hidden), (hidden, out))):
        h[f"{idx}.weight"] = (torch.randn(o, i) / math.sqrt(i)).contiguous()
        h[f"{idx}.bias"] = (0.1 * torch.randn(o)).contiguous()
    return h


def dino_head(D: int, hidden: int = 64, bottleneck: int = 16, out_dim: int = 16) -> "OrderedDict[str, torch.Tensor]":
    h: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    for idx, (i, o) in zip((0, 2, 4), ((D, hidden), (hidden, hidden), (hidden, bottleneck))):
        h[f"mlp.{idx}.weight"] = (torch.randn(o, i) / math.sqrt(i)).contiguous()
        h[f"mlp.{idx}.bias"] = (0.1 * torch.randn(o)).contiguous()
    h["last_layer.weight_g"] = torch.ones(out_dim, 1)
    h["last_layer.weight_v"] = (torch.randn(out_dim, bottleneck) / math.sqrt(bottleneck)).contiguous()
    return h


def scaled(w: Dict[str, torch.Tensor], s: float) -> "OrderedDict[str, torch.Tensor]":
    return OrderedDict((k, (v * s).contiguous()) for k, v in w.items())


def prefixed(w: Dict[str, torch.Tensor], prefix: str) -> "OrderedDict[str, torch.Tensor]":
    return OrderedDict((prefix + k, v) for k, v in w.items())


# ----------------------------------------------------------------------------------------------
# self-checks of the reference implementation itself
# ----------------------------------------------------------------------------------------------
def cubic_a(x: float, a: float) -> float:
    x = abs(x)
    if x <= 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def manual_bicubic_1d_weights(n_in: int, n_out: int, scale_factor: float, antialias: bool):
    """Row-stochastic (n_out, n_in) matrix reproducing PyTorch's bicubic kernels (for self-checks).

    non-AA (upsample_bicubic2d, align_corners=False): src = (dst + 0.5) * (1/scale) - 0.5 with 1/scale taken
    from the user's scale_factor when given, A = -0.75, 4 taps, indices clamped to the border.
    AA (_upsample_bicubic2d_aa): PIL-style separable filter, A = -0.5, support 2*max(1, n_in/n_out),
    weights normalised to sum 1, no clamping (taps restricted to [0, n_in)).
    """
    W = torch.zeros(n_out, n_in, dtype=torch.float64)
    if not antialias:
        inv = 1.0 / scale_factor
        for d in range(n_out):
            src = (d + 0.5) * inv - 0.5
            i0 = math.floor(src)
            t = src - i0
            for k in range(-1, 3):
                idx = min(max(i0 + k, 0), n_in - 1)
                W[d, idx] += cubic_a(k - t, -0.75)
        return W
    scale = n_in / n_out
    support_scale = max(scale, 1.0)
    support = 2.0 * support_scale
    for d in range(n_out):
        center = scale * (d + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        ws = [cubic_a((j + xmin - center + 0.5) / support_scale, -0.5) for j in range(xmax - xmin)]
        tot = sum(ws)
        for j, wv in enumerate(ws):
            W[d, xmin + j] = wv / tot
    return W


def check_interpolation_semantics() -> None:
    torch.manual_seed(7)
    M = 37
    grid = torch.randn(1, 5, M, M)
    for (gh, gw) in ((16, 16), (7, 7), (16, 24), (32, 32), (36, 36), (40, 50)):
        for mode in ("offset", "antialias"):
            got = vr.interpolate_patch_pos(grid.permute(0, 2, 3, 1).reshape(1, M * M, 5), gh, gw, mode)
            got = got.reshape(1, gh, gw, 5).permute(0, 3, 1, 2).double()
            if mode == "offset":
                Wy = manual_bicubic_1d_weights(M, gh, (gh + 0.1) / M, False)
                Wx = manual_bicubic_1d_weights(M, gw, (gw + 0.1) / M, False)
            else:
                Wy = manual_bicubic_1d_weights(M, gh, gh / M, True)
                Wx = manual_bicubic_1d_weights(M, gw, gw / M, True)
            ref = torch.einsum("yi,ncij,xj->ncyx", Wy, grid.double(), Wx)
            err = (got - ref).abs().max().item()
            assert err < 2e-5, (gh, gw, mode, err)


def naive_forward(cfg: vr.ViTConfig, w: Dict[str, torch.Tensor], x: torch.Tensor, mode: str):
    """A second, deliberately different formulation (per-token loops over heads, explicit LN/GELU math)."""
    p = cfg.patch_size
    B, C, H, Wd = x.shape
    gh, gw = H // p, Wd // p
    D = cfg.embed_dim
    # patch embed via unfold
    patches = x[:, :, :gh * p, :gw * p].reshape(B, C, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5).reshape(B, gh * gw, C * p * p)
    tok = patches @ w["patch_embed.proj.weight"].reshape(D, -1).t() + w["patch_embed.proj.bias"]
    pe = w["pos_embed"]
    if vr.needs_interpolation(pe, H, Wd, p):
        pe = torch.cat((pe[:, :1], vr.interpolate_patch_pos(pe[:, 1:], gh, gw, mode)), 1)
    cls = w["cls_token"][0] + pe[0, :1]
    tok = tok + pe[0, 1:]
    seq = [torch.cat([cls, w["register_tokens"][0]] if cfg.num_registers else [cls], 0).expand(B, -1, -1), tok]
    z = torch.cat(seq, 1).double()
    wd = {k: v.double() for k, v in w.items()}

    def ln(t, g, b):
        mu = t.mean(-1, keepdim=True)
        var = ((t - mu) ** 2).mean(-1, keepdim=True)
        return (t - mu) / torch.sqrt(var + cfg.ln_eps) * g + b

    nh, hd = cfg.num_heads, D // cfg.num_heads
    for i in range(cfg.depth):
        b = f"blocks.{i}."
        h = ln(z, wd[b + "norm1.weight"], wd[b + "norm1.bias"])
        Wq = wd[b + "attn.qkv.weight"]
        bq = wd[b + "attn.qkv.bias"]
        heads = []
        for hh in range(nh):
            sl = slice(hh * hd, (hh + 1) * hd)
            q = h @ Wq[0 * D:1 * D][sl].t() + bq[0 * D:1 * D][sl]
            k = h @ Wq[1 * D:2 * D][sl].t() + bq[1 * D:2 * D][sl]
            v = h @ Wq[2 * D:3 * D][sl].t() + bq[2 * D:3 * D][sl]
            s = torch.einsum("btd,bsd->bts", q, k) / math.sqrt(hd)
            s = torch.exp(s - s.max(-1, keepdim=True).values)
            s = s / s.sum(-1, keepdim=True)
            heads.append(s @ v)
        a = torch.cat(heads, -1) @ wd[b + "attn.proj.weight"].t() + wd[b + "attn.proj.bias"]
        if cfg.layer_scale:
            a = a * wd[b + "ls1.gamma"]
        z = z + a
        h = ln(z, wd[b + "norm2.weight"], wd[b + "norm2.bias"])
        if cfg.mlp == "swiglu":
            u = h @ wd[b + "mlp.w12.weight"].t() + wd[b + "mlp.w12.bias"]
            hid = cfg.mlp_hidden
            u1, u2 = u[..., :hid], u[..., hid:]
            m = (u1 / (1 + torch.exp(-u1)) * u2) @ wd[b + "mlp.w3.weight"].t() + wd[b + "mlp.w3.bias"]
        else:
            u = h @ wd[b + "mlp.fc1.weight"].t() + wd[b + "mlp.fc1.bias"]
            u = 0.5 * u * (1 + torch.erf(u / math.sqrt(2.0)))
            m = u @ wd[b + "mlp.fc2.weight"].t() + wd[b + "mlp.fc2.bias"]
        if cfg.layer_scale:
            m = m * wd[b + "ls2.gamma"]
        z = z + m
    zn = ln(z, wd["norm.weight"], wd["norm.bias"])
    return zn


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item()


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    log = (lambda *a: None) if args.quiet else print

    written: List[str] = []

    def note(path: str) -> None:
        written.append(path)

    check_interpolation_semantics()
    log("interpolation semantics: OK (torch bicubic == manual A=-0.75 / PIL A=-0.5 AA kernels)")

    weights: Dict[str, "OrderedDict[str, torch.Tensor]"] = {}
    cfgs: Dict[str, vr.ViTConfig] = {}
    for fam, (seed, cfg) in FAMILIES.items():
        torch.manual_seed(seed)
        w = vr.random_canonical_weights(cfg)
        weights[fam], cfgs[fam] = w, cfg
        model = vr.ReferenceViT(cfg, w)

        # independent formulation check (float64 naive vs fp32 reference)
        for (H, W, B) in ((98, 98, 2), (224, 336, 1)):
            x = vr.make_input(B, H, W)
            for mode in ("offset", "antialias"):
                r = model.forward(x, mode=mode)
                zn = naive_forward(cfg, w, x, mode)
                R = cfg.num_registers
                err = max(max_abs(r.cls, zn[:, 0]), max_abs(r.patch, zn[:, 1 + R:]),
                          max_abs(r.registers, zn[:, 1:1 + R]) if R else 0.0)
                assert err < 2e-5, (fam, H, W, mode, err)

        p = os.path.join(VIT_DIR, f"{fam}.safetensors")
        write_safetensors(p, w, cfg.metadata())
        note(p)

        sizes = FAMILY_SIZES.get(fam, SIZES)
        exp = expected_outputs(model, cfg, sizes=sizes)
        stats = {k: float(v.std()) for k, v in exp.items() if k.endswith(".patch")}
        assert all(s > 0.3 for s in stats.values()), stats   # activations alive (LN output)
        p = os.path.join(VIT_DIR, f"{fam}_expected.safetensors")
        write_safetensors(p, exp, expected_metadata(cfg, sizes=sizes))
        note(p)
        log(f"{fam}: {len(w)} tensors, expected keys {len(exp)}; patch std "
            + ", ".join(f"{k.split('.')[0]}.{k.split('.')[1]}={v:.2f}" for k, v in stats.items()))

    # ---- invariant (3): grids for patch 14, offset mode
    cfg = cfgs["dinov2"]
    pe = weights["dinov2"]["pos_embed"]
    for (H, W), (gh, gw) in (((224, 224), (16, 16)), ((98, 98), (7, 7)), ((224, 336), (16, 24)),
                             ((448, 448), (32, 32)), ((504, 504), (36, 36))):
        out = vr.interpolate_pos_embed(pe, H, W, 14, "offset")
        assert out.shape == (1, 1 + gh * gw, cfg.embed_dim), (H, W, out.shape)
        assert torch.equal(out[:, :1], pe[:, :1])
    assert vr.interpolate_pos_embed(pe, 518, 518, 14, "offset") is pe
    # the original shortcut compares pixel sizes too: 518x520 -> 37x37 grid but still interpolated
    assert vr.needs_interpolation(pe, 518, 520, 14)
    assert not torch.equal(vr.interpolate_pos_embed(pe, 518, 520, 14, "offset"), pe)
    log("grids: 224->16x16, 98->7x7, 224x336->16x24 (offset): OK")

    # ---- checkpoints ----------------------------------------------------------------------
    os.makedirs(CKPT_DIR, exist_ok=True)

    # official DINOv2 layout (flat, canonical names)
    for fam in ("dinov2", "dinov2_reg4", "dinov2_swiglu"):
        p = os.path.join(CKPT_DIR, f"{fam}_official.pth")
        torch_save(OrderedDict(weights[fam]), p)
        note(p)

    # HF Dinov2WithRegistersModel (safetensors + config.json)
    cfg = cfgs["dinov2_reg4"]
    hf = vr.canonical_to_hf(weights["dinov2_reg4"], cfg)
    back = vr.hf_to_canonical(hf, cfg)                   # invariant (2): split/merge round trip
    assert list(back.keys()) == list(weights["dinov2_reg4"].keys())
    assert all(torch.equal(back[k], weights["dinov2_reg4"][k]) for k in back)
    for fam in ("dinov2", "dinov2_swiglu"):
        b2 = vr.hf_to_canonical(vr.canonical_to_hf(weights[fam], cfgs[fam]), cfgs[fam])
        assert list(b2.keys()) == list(weights[fam].keys()) and all(torch.equal(b2[k], weights[fam][k]) for k in b2)
    D = cfg.embed_dim
    q = hf["encoder.layer.1.attention.attention.key.weight"]
    assert torch.equal(q, weights["dinov2_reg4"]["blocks.1.attn.qkv.weight"][D:2 * D])
    log("HF qkv split/merge round trip: OK")
    p = os.path.join(CKPT_DIR, "dinov2_reg4_hf", "model.safetensors")
    write_safetensors(p, hf, {"format": "pt"})
    note(p)
    hf_cfg = OrderedDict([
        ("architectures", ["Dinov2WithRegistersModel"]),
        ("model_type", "dinov2_with_registers"),
        ("hidden_size", cfg.embed_dim),
        ("num_attention_heads", cfg.num_heads),
        ("num_hidden_layers", cfg.depth),
        ("mlp_ratio", 4),
        ("hidden_act", "gelu"),
        ("hidden_dropout_prob", 0.0),
        ("attention_probs_dropout_prob", 0.0),
        ("initializer_range", 0.02),
        ("layer_norm_eps", 1e-06),
        ("image_size", 518),
        ("patch_size", cfg.patch_size),
        ("num_channels", 3),
        ("qkv_bias", True),
        ("layerscale_value", 1.0),
        ("drop_path_rate", 0.0),
        ("use_swiglu_ffn", False),
        ("num_register_tokens", cfg.num_registers),
        ("apply_layernorm", True),
        ("reshape_hidden_states", True),
        ("torch_dtype", "float32"),
    ])
    p = os.path.join(CKPT_DIR, "dinov2_reg4_hf", "config.json")
    with open(p, "w") as f:
        json.dump(hf_cfg, f, indent=2)
        f.write("\n")
    note(p)

    # HF Dinov2Model (non-register) pytorch_model.bin
    p = os.path.join(CKPT_DIR, "dinov2_hf_pytorch_model.bin")
    torch_save(vr.canonical_to_hf(weights["dinov2"], cfgs["dinov2"]), p)
    note(p)

    # timm layouts + invariant (1)
    cfg = cfgs["dinov2_reg4"]
    tm = vr.canonical_to_timm(weights["dinov2_reg4"], cfg)
    assert tm["pos_embed"].shape == (1, 37 * 37, cfg.embed_dim) and tm["reg_token"].shape == (1, 4, cfg.embed_dim)
    assert "mask_token" not in tm and "register_tokens" not in tm
    model = vr.ReferenceViT(cfg, weights["dinov2_reg4"])
    x = vr.make_input(1, 518, 518)
    a, b = model.forward(x), vr.timm_forward(tm, cfg, x)
    e518 = max(max_abs(a.patch, b.patch), max_abs(a.cls, b.cls), max_abs(a.registers, b.registers))
    assert e518 <= 1e-6, e518
    x = vr.make_input(2, 224, 336)
    a, b = model.forward(x, mode="antialias"), vr.timm_forward(tm, cfg, x)
    e224 = max_abs(a.patch, b.patch)
    assert e224 <= 1e-5, e224
    tm0 = vr.canonical_to_timm(weights["dinov2"], cfgs["dinov2"])
    m0 = vr.ReferenceViT(cfgs["dinov2"], weights["dinov2"])
    x = vr.make_input(1, 518, 518)
    e0 = max_abs(m0.forward(x).patch, vr.timm_forward(tm0, cfgs["dinov2"], x).patch)
    assert e0 <= 1e-6, e0
    log(f"timm layout forward == canonical: 518 max err {e518:.2e} (reg4), {e0:.2e} (no reg); "
        f"224x336 antialias {e224:.2e}: OK")
    p = os.path.join(CKPT_DIR, "dinov2_reg4_timm.safetensors")
    write_safetensors(p, tm, {"format": "pt"})
    note(p)
    p = os.path.join(CKPT_DIR, "dinov2_timm.pth")
    torch_save(tm0, p)
    note(p)

    # NeCo Lightning checkpoint (student = dinov2_reg4 exactly, teacher = 0.5 x student)
    torch.manual_seed(3001)
    student = weights["dinov2_reg4"]
    teacher = scaled(student, 0.5)
    t_head = projection_head(cfg.embed_dim)          # teacher registered (and constructed) first
    s_head = projection_head(cfg.embed_dim)
    sd: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    sd.update(prefixed(teacher, "teacher."))
    sd.update(prefixed(t_head, "teacher.projection_head."))
    sd.update(prefixed(student, "model."))
    sd.update(prefixed(s_head, "model.projection_head."))
    p0 = student["cls_token"]
    ckpt = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": sd,
        "callbacks": {},
        "optimizer_states": [{
            "state": {0: {"step": torch.tensor(120.0),
                          "exp_avg": (0.01 * torch.randn_like(p0)).contiguous(),
                          "exp_avg_sq": (1e-4 * torch.rand_like(p0)).contiguous()}},
            "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.04,
                              "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                              "params": [0]}],
        }],
        "lr_schedulers": [],
        "hyper_parameters": argparse.Namespace(
            lr=1e-4, arch="vit-small", patch_size=14, num_registers=4, embed_dim=cfg.embed_dim,
            depth=cfg.depth, num_heads=cfg.num_heads, input_size=224, projection_hidden_dim=64,
            projection_feat_dim=16, teacher_momentum=0.9995, sort_net="bitonic", steepness=100.0,
            max_epochs=25, batch_size=64, num_workers=8),
    }
    p = os.path.join(CKPT_DIR, "neco_dinov2_reg4.ckpt")
    torch_save(ckpt, p)
    note(p)

    # released NeCo style: flat dinov2 keys + projection_head.*
    torch.manual_seed(3002)
    flat = OrderedDict(weights["dinov2"])
    flat.update(prefixed(projection_head(cfgs["dinov2"].embed_dim), "projection_head."))
    p = os.path.join(CKPT_DIR, "neco_dinov2_model.ckpt")
    torch_save(flat, p)
    note(p)

    # XR: dinov2_reg4 weights incl. register_tokens, run with 0 registers
    p = os.path.join(CKPT_DIR, "neco_dinov2r_xr_model.ckpt")
    torch_save(OrderedDict(weights["dinov2_reg4"]), p)
    note(p)
    xr_cfg = copy.deepcopy(cfgs["dinov2_reg4"])
    xr_cfg.num_registers = 0
    xr_cfg.family = "dinov2_xr"
    xr_w = OrderedDict((k, v) for k, v in weights["dinov2_reg4"].items() if k != "register_tokens")
    xr_model = vr.ReferenceViT(xr_cfg, xr_w)
    xr_sizes = [(224, 224, 2)]
    exp = expected_outputs(xr_model, xr_cfg, sizes=xr_sizes)
    assert set(k.split(".")[1] for k in exp) == {"offset", "antialias"}
    p = os.path.join(VIT_DIR, "dinov2_xr_expected.safetensors")
    write_safetensors(p, exp, expected_metadata(xr_cfg, sizes=xr_sizes, extra={
        "weights": "tests/data/vit/dinov2_reg4.safetensors (= checkpoints/neco_dinov2r_xr_model.ckpt) "
                   "with register_tokens dropped, run with 0 registers"}))
    note(p)

    # DINO v1 training checkpoint: teacher.backbone = dino_v1_p16 exactly, student = 0.5 x
    cfg = cfgs["dino_v1_p16"]
    v1 = weights["dino_v1_p16"]
    torch.manual_seed(3003)
    s_head = dino_head(cfg.embed_dim)
    t_head = dino_head(cfg.embed_dim)
    student_sd = OrderedDict()
    student_sd.update(prefixed(scaled(v1, 0.5), "module.backbone."))
    student_sd.update(prefixed(s_head, "module.head."))
    teacher_sd = OrderedDict()
    teacher_sd.update(prefixed(v1, "backbone."))
    teacher_sd.update(prefixed(t_head, "head."))
    train = {
        "student": student_sd,
        "teacher": teacher_sd,
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": []}]},
        "epoch": 100,
        "args": argparse.Namespace(arch="vit_small", patch_size=16, out_dim=16, norm_last_layer=True,
                                   momentum_teacher=0.996, use_bn_in_head=False, warmup_teacher_temp=0.04,
                                   teacher_temp=0.04, use_fp16=False, weight_decay=0.04, lr=0.0005,
                                   batch_size_per_gpu=64, epochs=100, global_crops_scale=(0.4, 1.0),
                                   local_crops_number=8, local_crops_scale=(0.05, 0.4), seed=0),
        "dino_loss": {"center": (0.1 * torch.randn(1, 16)).contiguous()},
    }
    p = os.path.join(CKPT_DIR, "dino_v1_p16_train.pth")
    torch_save(train, p)
    note(p)
    p = os.path.join(CKPT_DIR, "dino_v1_p16_ddp.pth")
    torch_save(prefixed(v1, "module."), p)
    note(p)
    p = os.path.join(CKPT_DIR, "dino_v1_p8_official.pth")
    torch_save(OrderedDict(weights["dino_v1_p8"]), p)
    note(p)

    # ---- read everything back --------------------------------------------------------------
    for fam, w in weights.items():
        got, meta = read_safetensors(os.path.join(VIT_DIR, f"{fam}.safetensors"))
        assert list(got) == list(w) and all(torch.equal(got[k], w[k]) for k in w)
        assert meta == cfgs[fam].metadata()
    got, _ = read_safetensors(os.path.join(CKPT_DIR, "dinov2_reg4_hf", "model.safetensors"))
    assert all(torch.equal(got[k], hf[k]) for k in hf)
    got, _ = read_safetensors(os.path.join(CKPT_DIR, "dinov2_reg4_timm.safetensors"))
    assert all(torch.equal(got[k], tm[k]) for k in tm)
    ck = torch.load(os.path.join(CKPT_DIR, "neco_dinov2_reg4.ckpt"))
    for k, v in student.items():
        assert torch.equal(ck["state_dict"]["model." + k], v)
        assert torch.equal(ck["state_dict"]["teacher." + k], 0.5 * v)
    assert next(iter(ck["state_dict"])).startswith("teacher.")
    tr = torch.load(os.path.join(CKPT_DIR, "dino_v1_p16_train.pth"))
    for k, v in v1.items():
        assert torch.equal(tr["teacher"]["backbone." + k], v)
        assert torch.equal(tr["student"]["module.backbone." + k], 0.5 * v)
    log("read-back: OK")

    total = 0
    for pth in written:
        sz = os.path.getsize(pth)
        total += sz
        log(f"  {os.path.relpath(pth, REPO):60s} {sz / 1024:9.1f} KiB")
    log(f"total {total / 1024 / 1024:.2f} MiB in {len(written)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
