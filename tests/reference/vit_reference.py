"""Independent plain-torch reference implementation of the ViT backbones NeCo uses.

Development-time only (not shipped).  Written for Debian's python3 + python3-torch 1.13 (no SDPA, no
xformers, no timm/transformers/dinov2 packages).  It re-implements, from the original Python sources:

* facebookresearch/dinov2  dinov2/models/vision_transformer.py (DinoVisionTransformer, block_chunks=0),
  dinov2/layers/{attention,block,mlp,swiglu_ffn,layer_scale,patch_embed}.py
* facebookresearch/dino    vision_transformer.py (DINO v1: no LayerScale, no registers)
* huggingface transformers  Dinov2WithRegisters / Dinov2 (only the interpolation variants and key names)
* timm vision_transformer.py `_convert_dinov2` checkpoint filter (only the key layout)

The model is built from a dict of *canonical* tensors, i.e. official DINOv2 parameter names:

    cls_token (1,1,D), pos_embed (1,1+M*M,D), [register_tokens (1,R,D)], [mask_token (1,D)],
    patch_embed.proj.weight (D,3,p,p) / .bias (D),
    blocks.{i}.norm1.{weight,bias}, blocks.{i}.attn.qkv.{weight,bias} (3D,D)/(3D) [q;k;v],
    blocks.{i}.attn.proj.{weight,bias}, [blocks.{i}.ls1.gamma], blocks.{i}.norm2.{weight,bias},
    blocks.{i}.mlp.fc1.* / blocks.{i}.mlp.fc2.*   (GELU MLP)   or
    blocks.{i}.mlp.w12.* / blocks.{i}.mlp.w3.*    (SwiGLUFFNFused, ViT-g),
    [blocks.{i}.ls2.gamma], norm.{weight,bias}

Token order inside the network: [CLS, REG x R, patches row-major (y, x)].
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

Tensor = torch.Tensor

# Interpolation modes for the absolute position embedding (see interpolate_pos_embed).
INTERP_MODES = ("offset", "antialias", "size")


# ----------------------------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------------------------
@dataclass
class ViTConfig:
    patch_size: int = 14
    embed_dim: int = 384
    depth: int = 12
    num_heads: int = 6
    num_registers: int = 0
    layer_scale: bool = True          # DINOv2: True (ls1/ls2 gamma); DINO v1: False
    mlp: str = "gelu"                 # "gelu" (fc1 -> erf GELU -> fc2) or "swiglu" (w12 / w3)
    mlp_ratio: float = 4.0
    pos_grid: int = 37                # M: pos_embed holds 1 + M*M positions
    has_mask_token: bool = True       # DINOv2 checkpoints carry mask_token (unused at inference)
    ln_eps: float = 1e-6
    in_chans: int = 3
    # DINOv2's Attention multiplies q by the scale before q @ k^T; DINO v1 scales the product.
    # Mathematically identical, numerically differs in the last ulp only.
    scale_q_first: bool = True
    family: str = ""

    @property
    def head_dim(self) -> int:
        assert self.embed_dim % self.num_heads == 0
        return self.embed_dim // self.num_heads

    @property
    def mlp_hidden(self) -> int:
        """Hidden width of the FFN as DINOv2 builds it."""
        hidden = int(self.embed_dim * self.mlp_ratio)        # Block: mlp_hidden_dim = int(dim * mlp_ratio)
        if self.mlp == "swiglu":
            # SwiGLUFFNFused: hidden_features = (int(hidden_features * 2 / 3) + 7) // 8 * 8
            hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
        return hidden

    def metadata(self) -> Dict[str, str]:
        return {
            "family": self.family,
            "patch_size": str(self.patch_size),
            "embed_dim": str(self.embed_dim),
            "depth": str(self.depth),
            "num_heads": str(self.num_heads),
            "num_registers": str(self.num_registers),
            "layer_scale": "1" if self.layer_scale else "0",
            "mlp": self.mlp,
            "pos_grid": str(self.pos_grid),
        }


def swiglu_hidden(embed_dim: int, mlp_ratio: float = 4.0) -> int:
    return ViTConfig(embed_dim=embed_dim, num_heads=1, mlp="swiglu", mlp_ratio=mlp_ratio).mlp_hidden


# ----------------------------------------------------------------------------------------------
# canonical parameter layout
# ----------------------------------------------------------------------------------------------
def canonical_shapes(cfg: ViTConfig) -> "OrderedDict[str, Tuple[int, ...]]":
    """Parameter names and shapes in the order of DinoVisionTransformer.state_dict() (block_chunks=0).

    Module-level parameters first (cls_token, pos_embed, register_tokens, mask_token), then the children
    in registration order (patch_embed, blocks, norm).  Inside a block: norm1, attn.qkv, attn.proj, ls1,
    norm2, mlp, ls2.  DINO v1 has the same order without register_tokens / mask_token / ls*.
    """
    D, p, M = cfg.embed_dim, cfg.patch_size, cfg.pos_grid
    s: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    s["cls_token"] = (1, 1, D)
    s["pos_embed"] = (1, M * M + 1, D)
    if cfg.num_registers > 0:
        s["register_tokens"] = (1, cfg.num_registers, D)
    if cfg.has_mask_token:
        s["mask_token"] = (1, D)
    s["patch_embed.proj.weight"] = (D, cfg.in_chans, p, p)
    s["patch_embed.proj.bias"] = (D,)
    h = cfg.mlp_hidden
    for i in range(cfg.depth):
        b = f"blocks.{i}."
        s[b + "norm1.weight"] = (D,)
        s[b + "norm1.bias"] = (D,)
        s[b + "attn.qkv.weight"] = (3 * D, D)
        s[b + "attn.qkv.bias"] = (3 * D,)
        s[b + "attn.proj.weight"] = (D, D)
        s[b + "attn.proj.bias"] = (D,)
        if cfg.layer_scale:
            s[b + "ls1.gamma"] = (D,)
        s[b + "norm2.weight"] = (D,)
        s[b + "norm2.bias"] = (D,)
        if cfg.mlp == "swiglu":
            s[b + "mlp.w12.weight"] = (2 * h, D)
            s[b + "mlp.w12.bias"] = (2 * h,)
            s[b + "mlp.w3.weight"] = (D, h)
            s[b + "mlp.w3.bias"] = (D,)
        else:
            s[b + "mlp.fc1.weight"] = (h, D)
            s[b + "mlp.fc1.bias"] = (h,)
            s[b + "mlp.fc2.weight"] = (D, h)
            s[b + "mlp.fc2.bias"] = (D,)
        if cfg.layer_scale:
            s[b + "ls2.gamma"] = (D,)
    s["norm.weight"] = (D,)
    s["norm.bias"] = (D,)
    return s


def random_canonical_weights(cfg: ViTConfig) -> "OrderedDict[str, Tensor]":
    """Random but 'alive' weights, drawn from the global torch RNG in canonical order.

    LayerNorm weight 1 + 0.1 randn, every bias 0.1 randn, LayerScale gamma U(0.1, 1.0),
    cls/register/pos/mask tokens 0.5 randn, Linear/conv weights randn / sqrt(fan_in).
    """
    out: "OrderedDict[str, Tensor]" = OrderedDict()
    for name, shape in canonical_shapes(cfg).items():
        if name in ("cls_token", "pos_embed", "register_tokens", "mask_token"):
            t = 0.5 * torch.randn(shape)
        elif name.endswith("gamma"):
            t = torch.empty(shape).uniform_(0.1, 1.0)
        elif ("norm" in name.split(".")[-2]) and name.endswith("weight"):
            t = 1.0 + 0.1 * torch.randn(shape)
        elif name.endswith("bias"):
            t = 0.1 * torch.randn(shape)
        elif name.endswith("weight"):
            fan_in = int(math.prod(shape[1:]))
            t = torch.randn(shape) / math.sqrt(fan_in)
        else:  # pragma: no cover
            raise KeyError(name)
        out[name] = t.float().contiguous()
    return out


# ----------------------------------------------------------------------------------------------
# position embedding interpolation
# ----------------------------------------------------------------------------------------------
def pos_grid_for(H: int, W: int, patch: int) -> Tuple[int, int]:
    """Patch grid (rows, cols) produced by the stride-p conv (floors)."""
    return H // patch, W // patch


def needs_interpolation(pos_embed: Tensor, H: int, W: int, patch: int) -> bool:
    """DINOv2 / DINO v1 / HF shortcut: `if npatch == N and w == h: return self.pos_embed`.

    Note the original compares the *pixel* sizes (w == h) and the *token count*: a 518x520 input has the
    trained 37x37 grid but is still interpolated (with the offset mode that is not the identity).
    """
    gh, gw = pos_grid_for(H, W, patch)
    N = pos_embed.shape[1] - 1
    return not (gh * gw == N and H == W)


def interpolate_patch_pos(patch_pos: Tensor, gh: int, gw: int, mode: str) -> Tensor:
    """patch_pos: (1, M*M, D) -> (1, gh*gw, D), always computed in float32.

    mode "offset"   : DINOv2 non-register hub models / NeCo / DINO v1 / HF Dinov2 < ~4.44:
                      bicubic (A=-0.75), align_corners False, no antialias,
                      scale_factor=((gh+0.1)/M, (gw+0.1)/M) passed to the kernel (recompute_scale_factor
                      unset -> the kernel maps dst->src with 1/scale, not M/gh), output floor(M*scale)=g.
    mode "antialias": DINOv2 register hub models (interpolate_offset=0, antialias=True), HF
                      Dinov2WithRegisters, timm resample_abs_pos_embed: explicit size=(gh, gw),
                      bicubic, antialias=True (PyTorch's AA bicubic uses the PIL kernel A=-0.5).
    mode "size"     : HF Dinov2Model (recent transformers): explicit size=(gh, gw), bicubic,
                      align_corners False, NO antialias.  Not used by the fixtures.
    """
    D = patch_pos.shape[-1]
    N = patch_pos.shape[1]
    M = int(math.sqrt(N))
    assert M * M == N, "pos_embed grid must be square"
    grid = patch_pos.float().reshape(1, M, M, D).permute(0, 3, 1, 2)
    if mode == "offset":
        # DINOv2 (old): B, nc, w, h = x.shape  -> 'w' is the image HEIGHT, 'h' the WIDTH;
        # w0 = w // p + 0.1; scale_factor=(w0/sqrt(N), h0/sqrt(N)) -> (rows, cols) -> grid (H//p, W//p).
        sy = float((gh + 0.1) / M)
        sx = float((gw + 0.1) / M)
        out = F.interpolate(grid, scale_factor=(sy, sx), mode="bicubic", align_corners=False)
    elif mode == "antialias":
        out = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False, antialias=True)
    elif mode == "size":
        out = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
    else:
        raise ValueError(f"unknown interpolation mode {mode!r}")
    assert tuple(out.shape[-2:]) == (gh, gw), (tuple(out.shape), gh, gw)
    return out.permute(0, 2, 3, 1).reshape(1, gh * gw, D)


def interpolate_pos_embed(pos_embed: Tensor, H: int, W: int, patch: int, mode: str) -> Tensor:
    """(1, 1+M*M, D) -> (1, 1+gh*gw, D); CLS position kept as is; shortcut as the originals."""
    if not needs_interpolation(pos_embed, H, W, patch):
        return pos_embed
    gh, gw = pos_grid_for(H, W, patch)
    previous_dtype = pos_embed.dtype
    pe = pos_embed.float()
    patch_pos = interpolate_patch_pos(pe[:, 1:], gh, gw, mode)
    return torch.cat((pe[:, :1], patch_pos), dim=1).to(previous_dtype)


# ----------------------------------------------------------------------------------------------
# layers (functional)
# ----------------------------------------------------------------------------------------------
def layer_norm(x: Tensor, w: Tensor, b: Tensor, eps: float) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def attention(x: Tensor, p: Dict[str, Tensor], prefix: str, cfg: ViTConfig,
              want_probs: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
    B, T, C = x.shape
    nh = cfg.num_heads
    hd = C // nh
    scale = hd ** -0.5
    qkv = F.linear(x, p[prefix + "qkv.weight"], p[prefix + "qkv.bias"])
    qkv = qkv.reshape(B, T, 3, nh, hd).permute(2, 0, 3, 1, 4)
    if cfg.scale_q_first:                     # dinov2/layers/attention.py
        q, k, v = qkv[0] * scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
    else:                                     # dino/vision_transformer.py
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * scale
    attn = attn.softmax(dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(B, T, C)
    out = F.linear(out, p[prefix + "proj.weight"], p[prefix + "proj.bias"])
    return out, (attn if want_probs else None)


def ffn(x: Tensor, p: Dict[str, Tensor], prefix: str, cfg: ViTConfig) -> Tensor:
    if cfg.mlp == "swiglu":
        x12 = F.linear(x, p[prefix + "w12.weight"], p[prefix + "w12.bias"])
        x1, x2 = x12.chunk(2, dim=-1)
        return F.linear(F.silu(x1) * x2, p[prefix + "w3.weight"], p[prefix + "w3.bias"])
    h = F.linear(x, p[prefix + "fc1.weight"], p[prefix + "fc1.bias"])
    h = F.gelu(h)                             # nn.GELU() default: exact erf form
    return F.linear(h, p[prefix + "fc2.weight"], p[prefix + "fc2.bias"])


def block(x: Tensor, p: Dict[str, Tensor], i: int, cfg: ViTConfig,
          want_probs: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
    b = f"blocks.{i}."
    y, probs = attention(layer_norm(x, p[b + "norm1.weight"], p[b + "norm1.bias"], cfg.ln_eps),
                         p, b + "attn.", cfg, want_probs)
    if cfg.layer_scale:
        y = y * p[b + "ls1.gamma"]
    x = x + y
    y = ffn(layer_norm(x, p[b + "norm2.weight"], p[b + "norm2.bias"], cfg.ln_eps), p, b + "mlp.", cfg)
    if cfg.layer_scale:
        y = y * p[b + "ls2.gamma"]
    x = x + y
    return x, probs


# ----------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------
@dataclass
class ViTOutput:
    cls: Tensor                       # (B, D) after final norm
    registers: Tensor                 # (B, R, D) after final norm
    patch: Tensor                     # (B, N, D) after final norm
    blocks: List[Tensor] = field(default_factory=list)   # raw block outputs (B, T, D), before final norm
    attn_cls_to_patches: Optional[Tensor] = None         # last block, (B, heads, N)
    grid: Tuple[int, int] = (0, 0)


class ReferenceViT:
    """Plain tensor-dict ViT.  `weights` are canonical (official DINOv2-named) tensors."""

    def __init__(self, cfg: ViTConfig, weights: Dict[str, Tensor], strict: bool = True):
        expected = canonical_shapes(cfg)
        missing = [k for k in expected if k not in weights]
        unexpected = [k for k in weights if k not in expected]
        if missing or (strict and unexpected):
            raise KeyError(f"missing={missing} unexpected={unexpected}")
        for k, shape in expected.items():
            if tuple(weights[k].shape) != tuple(shape):
                raise ValueError(f"{k}: shape {tuple(weights[k].shape)} != {shape}")
        self.cfg = cfg
        self.p: Dict[str, Tensor] = {k: weights[k].detach().float().contiguous() for k in expected}

    def prepare_tokens(self, x: Tensor, mode: str) -> Tuple[Tensor, Tuple[int, int]]:
        cfg, p = self.cfg, self.p
        B, _, H, W = x.shape                  # the originals call these (B, nc, w, h)
        t = F.conv2d(x, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=cfg.patch_size)
        grid = (t.shape[-2], t.shape[-1])
        t = t.flatten(2).transpose(1, 2)      # (B, N, D), row-major
        t = torch.cat((p["cls_token"].expand(B, -1, -1), t), dim=1)
        t = t + interpolate_pos_embed(p["pos_embed"], H, W, cfg.patch_size, mode)
        if cfg.num_registers > 0:             # registers inserted after the pos-embed: no positions
            t = torch.cat((t[:, :1], p["register_tokens"].expand(B, -1, -1), t[:, 1:]), dim=1)
        return t, grid

    def forward(self, x: Tensor, mode: str = "offset", keep_blocks: bool = False,
                keep_attn: bool = False) -> ViTOutput:
        cfg = self.cfg
        t, grid = self.prepare_tokens(x, mode)
        blocks: List[Tensor] = []
        probs = None
        for i in range(cfg.depth):
            last = i == cfg.depth - 1
            t, pr = block(t, self.p, i, cfg, want_probs=keep_attn and last)
            if keep_blocks:
                blocks.append(t)
            if pr is not None:
                probs = pr
        xn = layer_norm(t, self.p["norm.weight"], self.p["norm.bias"], cfg.ln_eps)
        R = cfg.num_registers
        attn = None
        if probs is not None:
            # CLS query row; softmax was over ALL keys (CLS, registers, patches); keep patch columns.
            attn = probs[:, :, 0, 1 + R:].contiguous()
        return ViTOutput(cls=xn[:, 0].contiguous(), registers=xn[:, 1:1 + R].contiguous(),
                         patch=xn[:, 1 + R:].contiguous(), blocks=blocks, attn_cls_to_patches=attn,
                         grid=grid)

    __call__ = forward


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
INPUT_FORMULA = ("input[b,c,y,x] = float32(1.5 * sin(0.05*(y+1)*(c+1) + 0.031*x + 1.7*b + 0.3*c)), "
                 "evaluated in float64 left to right: ((((0.05*(y+1))*(c+1)) + 0.031*x) + 1.7*b) + 0.3*c, "
                 "then 1.5*sin(.), then cast to float32")


def make_input(B: int, H: int, W: int, C: int = 3) -> Tensor:
    f64 = torch.float64
    b = torch.arange(B, dtype=f64).view(B, 1, 1, 1)
    c = torch.arange(C, dtype=f64).view(1, C, 1, 1)
    y = torch.arange(H, dtype=f64).view(1, 1, H, 1)
    x = torch.arange(W, dtype=f64).view(1, 1, 1, W)
    arg = 0.05 * (y + 1.0) * (c + 1.0) + 0.031 * x + 1.7 * b + 0.3 * c
    return (1.5 * torch.sin(arg)).to(torch.float32).contiguous()


# ----------------------------------------------------------------------------------------------
# key-layout conversions (HF / timm); used by the fixture generator and its self-checks
# ----------------------------------------------------------------------------------------------
def canonical_to_hf(w: Dict[str, Tensor], cfg: ViTConfig) -> "OrderedDict[str, Tensor]":
    """HF Dinov2Model / Dinov2WithRegistersModel naming (state_dict order of the HF modules).

    SwiGLU would map to mlp.weights_in / mlp.weights_out in HF; only the GELU MLP is used here.
    """
    D = cfg.embed_dim
    o: "OrderedDict[str, Tensor]" = OrderedDict()
    o["embeddings.cls_token"] = w["cls_token"]
    if "mask_token" in w:
        o["embeddings.mask_token"] = w["mask_token"]
    if cfg.num_registers > 0:
        o["embeddings.register_tokens"] = w["register_tokens"]
    o["embeddings.position_embeddings"] = w["pos_embed"]
    o["embeddings.patch_embeddings.projection.weight"] = w["patch_embed.proj.weight"]
    o["embeddings.patch_embeddings.projection.bias"] = w["patch_embed.proj.bias"]
    for i in range(cfg.depth):
        s, d = f"blocks.{i}.", f"encoder.layer.{i}."
        o[d + "norm1.weight"] = w[s + "norm1.weight"]
        o[d + "norm1.bias"] = w[s + "norm1.bias"]
        qw, qb = w[s + "attn.qkv.weight"], w[s + "attn.qkv.bias"]
        for j, nm in enumerate(("query", "key", "value")):
            o[d + f"attention.attention.{nm}.weight"] = qw[j * D:(j + 1) * D].clone()
            o[d + f"attention.attention.{nm}.bias"] = qb[j * D:(j + 1) * D].clone()
        o[d + "attention.output.dense.weight"] = w[s + "attn.proj.weight"]
        o[d + "attention.output.dense.bias"] = w[s + "attn.proj.bias"]
        o[d + "layer_scale1.lambda1"] = w[s + "ls1.gamma"]
        o[d + "norm2.weight"] = w[s + "norm2.weight"]
        o[d + "norm2.bias"] = w[s + "norm2.bias"]
        if cfg.mlp == "swiglu":
            o[d + "mlp.weights_in.weight"] = w[s + "mlp.w12.weight"]
            o[d + "mlp.weights_in.bias"] = w[s + "mlp.w12.bias"]
            o[d + "mlp.weights_out.weight"] = w[s + "mlp.w3.weight"]
            o[d + "mlp.weights_out.bias"] = w[s + "mlp.w3.bias"]
        else:
            o[d + "mlp.fc1.weight"] = w[s + "mlp.fc1.weight"]
            o[d + "mlp.fc1.bias"] = w[s + "mlp.fc1.bias"]
            o[d + "mlp.fc2.weight"] = w[s + "mlp.fc2.weight"]
            o[d + "mlp.fc2.bias"] = w[s + "mlp.fc2.bias"]
        o[d + "layer_scale2.lambda1"] = w[s + "ls2.gamma"]
    o["layernorm.weight"] = w["norm.weight"]
    o["layernorm.bias"] = w["norm.bias"]
    return o


def hf_to_canonical(h: Dict[str, Tensor], cfg: ViTConfig) -> "OrderedDict[str, Tensor]":
    o: "OrderedDict[str, Tensor]" = OrderedDict()
    o["cls_token"] = h["embeddings.cls_token"]
    o["pos_embed"] = h["embeddings.position_embeddings"]
    if "embeddings.register_tokens" in h:
        o["register_tokens"] = h["embeddings.register_tokens"]
    if "embeddings.mask_token" in h:
        o["mask_token"] = h["embeddings.mask_token"]
    o["patch_embed.proj.weight"] = h["embeddings.patch_embeddings.projection.weight"]
    o["patch_embed.proj.bias"] = h["embeddings.patch_embeddings.projection.bias"]
    for i in range(cfg.depth):
        s, d = f"encoder.layer.{i}.", f"blocks.{i}."
        o[d + "norm1.weight"] = h[s + "norm1.weight"]
        o[d + "norm1.bias"] = h[s + "norm1.bias"]
        a = s + "attention.attention."
        o[d + "attn.qkv.weight"] = torch.cat([h[a + n + ".weight"] for n in ("query", "key", "value")], 0)
        o[d + "attn.qkv.bias"] = torch.cat([h[a + n + ".bias"] for n in ("query", "key", "value")], 0)
        o[d + "attn.proj.weight"] = h[s + "attention.output.dense.weight"]
        o[d + "attn.proj.bias"] = h[s + "attention.output.dense.bias"]
        o[d + "ls1.gamma"] = h[s + "layer_scale1.lambda1"]
        o[d + "norm2.weight"] = h[s + "norm2.weight"]
        o[d + "norm2.bias"] = h[s + "norm2.bias"]
        if s + "mlp.weights_in.weight" in h:
            o[d + "mlp.w12.weight"] = h[s + "mlp.weights_in.weight"]
            o[d + "mlp.w12.bias"] = h[s + "mlp.weights_in.bias"]
            o[d + "mlp.w3.weight"] = h[s + "mlp.weights_out.weight"]
            o[d + "mlp.w3.bias"] = h[s + "mlp.weights_out.bias"]
        else:
            o[d + "mlp.fc1.weight"] = h[s + "mlp.fc1.weight"]
            o[d + "mlp.fc1.bias"] = h[s + "mlp.fc1.bias"]
            o[d + "mlp.fc2.weight"] = h[s + "mlp.fc2.weight"]
            o[d + "mlp.fc2.bias"] = h[s + "mlp.fc2.bias"]
        o[d + "ls2.gamma"] = h[s + "layer_scale2.lambda1"]
    o["norm.weight"] = h["layernorm.weight"]
    o["norm.bias"] = h["layernorm.bias"]
    return o


def canonical_to_timm(w: Dict[str, Tensor], cfg: ViTConfig) -> "OrderedDict[str, Tensor]":
    """timm `_convert_dinov2`: drop mask_token; with registers: reg_token, CLS pos folded into cls_token,
    pos_embed = patch part only (no_embed_class=True); SwiGLU w12/w3 -> fc1/fc2.
    Output order follows timm's VisionTransformer.state_dict(): cls_token, reg_token, pos_embed, ..."""
    o: "OrderedDict[str, Tensor]" = OrderedDict()
    if cfg.num_registers > 0:
        o["cls_token"] = (w["cls_token"] + w["pos_embed"][:, 0]).contiguous()
        o["reg_token"] = w["register_tokens"]
        o["pos_embed"] = w["pos_embed"][:, 1:].contiguous()
    else:
        o["cls_token"] = w["cls_token"]
        o["pos_embed"] = w["pos_embed"]
    for k, v in w.items():
        if k in ("cls_token", "pos_embed", "register_tokens", "mask_token"):
            continue
        o[k.replace("mlp.w12.", "mlp.fc1.").replace("mlp.w3.", "mlp.fc2.")] = v
    return o


def timm_forward(t: Dict[str, Tensor], cfg: ViTConfig, x: Tensor) -> ViTOutput:
    """Own timm-style forward (dynamic_img_size, resample_abs_pos_embed: bicubic size + antialias).

    no_embed_class (register models): x = patches + pos_embed; x = cat(cls, reg, x).
    otherwise: x = cat(cls, patches) + pos_embed (prefix kept).
    """
    B, _, H, W = x.shape
    p = cfg.patch_size
    gh, gw = H // p, W // p
    z = F.conv2d(x, t["patch_embed.proj.weight"], t["patch_embed.proj.bias"], stride=p).flatten(2).transpose(1, 2)
    R = cfg.num_registers
    M = cfg.pos_grid

    def resample(pe: Tensor, n_prefix: int) -> Tensor:
        # timm: if num_new_tokens == num_pos_tokens and new_size[0] == new_size[1]: return posemb
        if gh * gw + n_prefix == pe.shape[1] and gh == gw:
            return pe
        prefix, body = pe[:, :n_prefix], pe[:, n_prefix:]
        body = interpolate_patch_pos(body, gh, gw, "antialias")
        return torch.cat((prefix, body), dim=1) if n_prefix else body

    if R > 0:
        z = z + resample(t["pos_embed"], 0)
        z = torch.cat((t["cls_token"].expand(B, -1, -1), t["reg_token"].expand(B, -1, -1), z), dim=1)
    else:
        z = torch.cat((t["cls_token"].expand(B, -1, -1), z), dim=1)
        z = z + resample(t["pos_embed"], 1)
    pw = {k.replace("mlp.fc1.", "mlp.w12.").replace("mlp.fc2.", "mlp.w3.") if cfg.mlp == "swiglu" else k: v
          for k, v in t.items()}
    for i in range(cfg.depth):
        z, _ = block(z, pw, i, cfg)
    zn = layer_norm(z, t["norm.weight"], t["norm.bias"], cfg.ln_eps)
    return ViTOutput(cls=zn[:, 0], registers=zn[:, 1:1 + R], patch=zn[:, 1 + R:], grid=(gh, gw))
