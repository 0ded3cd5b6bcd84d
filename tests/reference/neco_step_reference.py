"""An independent Python implementation of ONE NeCo optimisation step (METHOD.md §2.3-2.6), for the
full-step parity test (make_neco_step_fixtures.py) and the step benchmark (time_neco_step.py).

Development-time only (not shipped); Debian's python3 + python3-torch 1.13 + python3-torchvision 0.14.
Nothing here shares code with core/. Pieces reused by import: the ViT layers of vit_reference.py, the
dense diffsort formulation of make_sort_fixtures.py (diffsort 0.2.0's published layers, METHOD.md §3)
and the similarity of make_neco_loss_fixtures.py; roi_align is torchvision's.

One step, in the reference's order (src/neco.py, METHOD.md §2.4-2.6):
  1. teacher forward on the global crops (no autograd: the student's gradient is the same),
  2. student forward on every crop, crops of equal size batched together (globals, then locals),
  3. queue update before the loss (when enabled),
  4. the loss: per global crop c and other crop v, RoI-Align both maps to their intersection, K^2
     reference patches (queue or in-batch permutation), cosine similarities, soft sort of each row
     with the student's / teacher's steepness, cross-entropy teacher -> student over the rank axis,
  5. backward, gradient norm, non-finite check,
  6. EMA teacher = m t + (1 - m) s with the student BEFORE this step's update,
  7. torch.optim.AdamW over four groups (backbone decay / no decay / head decay / no decay) with this
     step's cosine-scheduled lr and weight decay.

Randomness: one torch.Generator seeded with `seed + 3` draws, in this order, the queue picks (per
global crop) and then the references of every (c, v) pair (c outer, v inner, v != c) with
torch.randperm -- the call sequence of core's NecoStep, so the in-batch permutations are identical.

Parameter names are the C++ module's: `backbone.<DINOv2 name>`, `projection_head.{0,2,4}.{weight,bias}`.
Parameters keep their dtype (float64 for the golden step); the positional-embedding interpolation runs in
float32 as DINOv2 does (the CLS position stays in the parameter dtype, as in core: in float32 both are
the same).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402
from make_neco_loss_fixtures import similarities  # noqa: E402
from make_sort_fixtures import bitonic_layers, dense_matrices, odd_even_layers, relaxed_alpha  # noqa: E402

Tensor = torch.Tensor


# ----------------------------------------------------------------------------------------------
# configuration and schedules
# ----------------------------------------------------------------------------------------------
@dataclass
class StepSettings:
    head_hidden: int = 2048
    head_out: int = 256
    roi: int = 7                       # K
    student_steepness: float = 100.0
    teacher_steepness: float = 100.0
    network: str = "bitonic"
    log_floor: float = 1e-12           # core's documented floor (the reference has none)
    student_drop_path: float = 0.1
    use_queue: bool = True
    queue_length: int = 8192
    queue_rows_per_image: int = 10
    total_steps: int = 46200
    lr_backbone: float = 1e-5
    lr_head: float = 1e-4
    final_lr: float = 0.0
    wd_start: float = 0.04
    wd_end: float = 0.5
    momentum_start: float = 0.9995
    seed: int = 400


def cosine(start: float, end: float, t: int, total: int) -> float:
    """METHOD.md §2.6: end + (start - end) (1 + cos(pi t / T)) / 2; stays at `end` from T on."""
    if t >= total:
        return end
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * t / total))


def hyper_parameters(s: StepSettings, t: int) -> Dict[str, float]:
    return {"lr_backbone": cosine(s.lr_backbone, s.final_lr, t, s.total_steps),
            "lr_head": cosine(s.lr_head, s.final_lr, t, s.total_steps),
            "weight_decay": cosine(s.wd_start, s.wd_end, t, s.total_steps),
            "momentum": cosine(s.momentum_start, 1.0, t, s.total_steps)}


# ----------------------------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------------------------
def head_shapes(dim: int, s: StepSettings) -> "OrderedDict[str, tuple]":
    h, o = s.head_hidden, s.head_out
    return OrderedDict([("projection_head.0.weight", (h, dim)), ("projection_head.0.bias", (h,)),
                        ("projection_head.2.weight", (h, h)), ("projection_head.2.bias", (h,)),
                        ("projection_head.4.weight", (o, h)), ("projection_head.4.bias", (o,))])


def parameter_shapes(cfg: vr.ViTConfig, s: StepSettings) -> "OrderedDict[str, tuple]":
    shapes = OrderedDict(("backbone." + k, v) for k, v in vr.canonical_shapes(cfg).items())
    shapes.update(head_shapes(cfg.embed_dim, s))
    return shapes


def drop_path_rates(rate: float, depth: int) -> List[float]:
    """DINOv2: linspace(0, rate, depth) in float32 (the last block's 0.1 becomes 0.100000001 > 0.1)."""
    return [float(r) for r in torch.linspace(0, rate, depth, dtype=torch.float32)]


def _residual(x: Tensor, branch, rate: float, training: bool, gen: Optional[torch.Generator]) -> Tensor:
    if training and rate > 0.1:  # drop_add_residual_stochastic_depth: a random subset of the batch
        B = x.shape[0]
        keep = max(int(B * (1 - rate)), 1)
        idx = torch.randperm(B, generator=gen)[:keep]
        return torch.index_add(x.flatten(1), 0, idx, branch(x[idx]).flatten(1), alpha=B / keep).view_as(x)
    if training and rate > 0.0:  # per-sample DropPath
        mask = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype).bernoulli_(1 - rate, generator=gen)
        return x + branch(x) * mask / (1 - rate)
    return x + branch(x)


def backbone_patches(p: Dict[str, Tensor], cfg: vr.ViTConfig, x: Tensor, rates: List[float], training: bool,
                     gen: Optional[torch.Generator] = None):
    """DINOv2 forward (METHOD.md §2.3) -> patch tokens after the final norm (B, N, D) and the grid."""
    P = cfg.patch_size
    B, _, H, W = x.shape
    t = F.conv2d(x, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=P)
    gh, gw = t.shape[-2], t.shape[-1]
    t = torch.cat((p["cls_token"].expand(B, -1, -1), t.flatten(2).transpose(1, 2)), dim=1)
    pos = p["pos_embed"]
    if vr.needs_interpolation(pos, H, W, P):
        pos = torch.cat((pos[:, :1], vr.interpolate_patch_pos(pos[:, 1:], gh, gw, "offset").to(pos.dtype)), dim=1)
    t = t + pos
    for i in range(cfg.depth):
        b = f"blocks.{i}."

        def attn_branch(z, b=b):
            y, _ = vr.attention(vr.layer_norm(z, p[b + "norm1.weight"], p[b + "norm1.bias"], cfg.ln_eps), p,
                                b + "attn.", cfg)
            return y * p[b + "ls1.gamma"]

        def mlp_branch(z, b=b):
            y = vr.ffn(vr.layer_norm(z, p[b + "norm2.weight"], p[b + "norm2.bias"], cfg.ln_eps), p, b + "mlp.", cfg)
            return y * p[b + "ls2.gamma"]

        t = _residual(t, attn_branch, rates[i], training, gen)
        t = _residual(t, mlp_branch, rates[i], training, gen)
    t = vr.layer_norm(t, p["norm.weight"], p["norm.bias"], cfg.ln_eps)
    return t[:, 1 + cfg.num_registers:], (gh, gw)


def network_maps(params: Dict[str, Tensor], cfg: vr.ViTConfig, x: Tensor, rates: List[float], training: bool,
                 gen: Optional[torch.Generator] = None) -> Tensor:
    """Backbone + projection head (Linear, GELU, Linear, GELU, Linear; L2-normalised) -> (B, C, gh, gw)."""
    bb = {k[len("backbone."):]: v for k, v in params.items() if k.startswith("backbone.")}
    z, (gh, gw) = backbone_patches(bb, cfg, x, rates, training, gen)
    z = F.gelu(F.linear(z, params["projection_head.0.weight"], params["projection_head.0.bias"]))
    z = F.gelu(F.linear(z, params["projection_head.2.weight"], params["projection_head.2.bias"]))
    z = F.normalize(F.linear(z, params["projection_head.4.weight"], params["projection_head.4.bias"]), dim=-1)
    return z.transpose(1, 2).reshape(z.shape[0], z.shape[2], gh, gw)


def maps_of(params, cfg, crops: List[Tensor], rates, training, gen=None) -> List[Tensor]:
    """One call per run of equal-size crops (the reference batches globals and locals)."""
    out: List[Tensor] = []
    i = 0
    while i < len(crops):
        j = i + 1
        while j < len(crops) and crops[j].shape == crops[i].shape:
            j += 1
        out.extend(network_maps(params, cfg, torch.cat(crops[i:j]), rates, training, gen).chunk(j - i))
        i = j
    return out


# ----------------------------------------------------------------------------------------------
# sort and loss
# ----------------------------------------------------------------------------------------------
class DenseSorter:
    """diffsort's dense layers (make_sort_fixtures.soft_sort), the matrices built once as DiffSortNet does."""

    def __init__(self, n: int, network: str, dtype):
        layers = bitonic_layers(n) if network == "bitonic" else odd_even_layers(n)
        self.n = n
        self.layers = [tuple(m.to(dtype) for m in mats) for mats in dense_matrices(layers, n)]

    def __call__(self, x: Tensor, steepness: float) -> Tensor:
        n = self.n
        X = torch.eye(n, dtype=x.dtype).expand(x.shape[0], n, n)
        for split_a, split_b, comb_min, comb_max in self.layers:
            a, b = x @ split_a.t(), x @ split_b.t()
            alpha = relaxed_alpha(a, b, "cauchy", steepness)
            x = (alpha * a + (1 - alpha) * b) @ comb_min.t() + ((1 - alpha) * a + alpha * b) @ comb_max.t()
            aX, bX = X @ split_a.t(), X @ split_b.t()
            al = alpha.unsqueeze(1)
            X = ((1 - al) * aX + al * bX) @ comb_max.t() + (al * aX + (1 - al) * bX) @ comb_min.t()
        return X  # X[row, e, r]: weight of reference e at ascending rank r


def patch_rows(aligned: Tensor) -> Tensor:
    """(B, C, K, K) -> (B, K^2, C), rows in (y, x) order."""
    return aligned.flatten(2).transpose(1, 2)


def token_boxes(pixel_boxes: Tensor, patch: int) -> Tensor:
    """(B, 4) boxes in crop pixels -> roi_align rows [image, x1, y1, x2, y2] in token units."""
    B = pixel_boxes.shape[0]
    return torch.cat((torch.arange(B, dtype=pixel_boxes.dtype).unsqueeze(1), pixel_boxes / patch), dim=1)


class ReferenceQueue:
    """METHOD.md §2.5: one FIFO per global crop, newest first; one fill counter advanced by n per push."""

    def __init__(self, crops: int, length: int, dim: int):
        self.rows = torch.zeros(crops, length, dim)
        self.length = length
        self.fill = 0

    def push(self, c: int, rows: Tensor) -> None:
        n = min(rows.shape[0], self.length)
        q = self.rows[c]
        q[n:] = q[:self.length - n].clone()
        q[:n] = rows[:n].to(q.dtype)
        self.fill = min(self.length, self.fill + n)

    def sample(self, c: int, count: int, gen: torch.Generator) -> Tensor:
        pos = torch.randperm(self.length, generator=gen)[:count] % self.fill
        return self.rows[c][pos]


# ----------------------------------------------------------------------------------------------
# the step
# ----------------------------------------------------------------------------------------------
class NecoStepReference:
    def __init__(self, cfg: vr.ViTConfig, settings: StepSettings, student: Dict[str, Tensor],
                 teacher: Dict[str, Tensor], dtype=torch.float64):
        self.cfg, self.s = cfg, settings
        names = list(parameter_shapes(cfg, settings))
        self.student = OrderedDict((k, student[k].detach().to(dtype).clone().requires_grad_(True)) for k in names)
        self.teacher = OrderedDict((k, teacher[k].detach().to(dtype).clone()) for k in names)
        self.rates = drop_path_rates(settings.student_drop_path, cfg.depth)
        self.sorter = DenseSorter(settings.roi * settings.roi, settings.network, dtype)
        self.gen = torch.Generator().manual_seed(settings.seed + 3)
        self.drop_gen = torch.Generator().manual_seed(settings.seed + 4)
        self.queue = ReferenceQueue(2, settings.queue_length, settings.head_out) if settings.use_queue else None
        # mask_token (2-D, decayed group 0) never gets a gradient: AdamW skips it entirely
        groups: List[List[Tensor]] = [[], [], [], []]
        for name, p in self.student.items():
            head = name.startswith("projection_head.")
            no_decay = name.endswith(".bias") or p.dim() == 1
            groups[(2 if head else 0) + (1 if no_decay else 0)].append(p)
        self.optimizer = torch.optim.AdamW([{"params": g} for g in groups], lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                           weight_decay=0.0, foreach=False)
        self.t = 0

    def references(self, c: int, teacher_aligned: Tensor) -> Tensor:
        B, C = teacher_aligned.shape[0], teacher_aligned.shape[1]
        M = self.s.roi * self.s.roi
        if self.queue is not None and self.queue.fill > 0:
            return self.queue.sample(c, B * M, self.gen).reshape(B, M, C)
        rows = patch_rows(teacher_aligned).reshape(-1, C)
        return rows[torch.randperm(rows.shape[0], generator=self.gen)].reshape(B, M, C)

    def loss(self, s_maps: List[Tensor], t_maps: List[Tensor], in_global: Tensor, in_crop: Tensor, timing: dict):
        G, V, K, P = len(t_maps), len(s_maps), self.s.roi, self.cfg.patch_size
        total = 0
        for c in range(G):
            loss_c = 0
            for v in range(V):
                if v == c:
                    continue
                with torch.no_grad():  # roi_align(maps, rois, K, spatial_scale 1, sampling_ratio -1, aligned)
                    t_rois = token_boxes(in_global[:, c, v].to(t_maps[c].dtype), P)
                    t_al = roi_align(t_maps[c], t_rois, K, 1.0, -1, True)
                s_al = roi_align(s_maps[v], token_boxes(in_crop[:, v, c].to(s_maps[v].dtype), P), K, 1.0, -1, True)
                ref = self.references(c, t_al).to(s_al.dtype)
                with torch.no_grad():
                    t_sims = similarities(patch_rows(t_al), ref, "cosine")
                s_sims = similarities(patch_rows(s_al), ref, "cosine")
                t0 = time.perf_counter()  # the sorts and the cross-entropy, as core's sortMs
                with torch.no_grad():
                    q = self.sorter(t_sims, self.s.teacher_steepness)
                p = self.sorter(s_sims, self.s.student_steepness)
                # -sum_r q log p, mean over (image, reference e, source patch)
                sub = (-(q * torch.log(p.clamp_min(self.s.log_floor))).sum(-1)).mean()
                timing["sort_ms"] = timing.get("sort_ms", 0.0) + (time.perf_counter() - t0) * 1e3
                loss_c = loss_c + sub
            total = total + loss_c / (V - 1)
        return total / G

    def step(self, crops: List[Tensor], in_global: Tensor, in_crop: Tensor) -> dict:
        """Runs step self.t and advances it; returns the loss, gradient norm, hyper-parameters, times (ms)."""
        G = in_global.shape[1]
        h = hyper_parameters(self.s, self.t)
        r = {"step": self.t, "hyper": h}
        clock = time.perf_counter
        t0 = clock()
        with torch.no_grad():
            t_maps = maps_of(self.teacher, self.cfg, crops[:G], self.rates, training=False)
        s_maps = maps_of(self.student, self.cfg, crops, self.rates, training=True, gen=self.drop_gen)
        if self.queue is not None:
            with torch.no_grad():
                for c, m in enumerate(t_maps):
                    rows = m.permute(0, 2, 3, 1).reshape(-1, m.shape[1])
                    n = min(self.s.queue_rows_per_image * m.shape[0], self.s.queue_length, rows.shape[0])
                    self.queue.push(c, rows[torch.randperm(rows.shape[0], generator=self.gen)[:n]])
        r["forward_ms"] = (clock() - t0) * 1e3
        t0 = clock()
        timing: dict = {}
        loss = self.loss(s_maps, t_maps, in_global, in_crop, timing)
        r["loss"] = loss.item()
        r["loss_ms"] = (clock() - t0) * 1e3
        r["sort_ms"] = timing.get("sort_ms", 0.0)
        self.optimizer.zero_grad()
        self.t += 1
        if not math.isfinite(r["loss"]):
            r["skipped"] = True
            return r
        t0 = clock()
        loss.backward()
        sq = sum(float((p.grad.double() ** 2).sum()) for p in self.student.values() if p.grad is not None)
        r["grad_norm"] = math.sqrt(sq)
        r["backward_ms"] = (clock() - t0) * 1e3
        if not math.isfinite(r["grad_norm"]):
            self.optimizer.zero_grad()
            r["skipped"] = True
            return r
        r["skipped"] = False
        t0 = clock()
        m = h["momentum"]
        with torch.no_grad():  # the student BEFORE this step's update (the reference's one-step lag)
            for name, tp in self.teacher.items():
                tp.mul_(m).add_(self.student[name].detach(), alpha=1.0 - m)
        r["ema_ms"] = (clock() - t0) * 1e3
        t0 = clock()
        for i, group in enumerate(self.optimizer.param_groups):
            group["lr"] = h["lr_backbone"] if i < 2 else h["lr_head"]
            group["weight_decay"] = h["weight_decay"] if i % 2 == 0 else 0.0
        self.optimizer.step()
        r["optimizer_ms"] = (clock() - t0) * 1e3
        return r
