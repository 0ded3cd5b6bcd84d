#!/usr/bin/python3
"""Plots a run folder's curves as one SVG (standard library only; a development tool).

    scripts/plot-training.py RUN_DIR OUT.svg

Panels: training loss per step (and its 10-step moving average), held-out loss and student/teacher
ordering agreement from monitor.jsonl (neco.monitor_every), learning rates.
"""
import csv
import json
import math
import sys
from pathlib import Path

W, H, PAD = 360, 240, 48


def panel(x0, title, series, xlabel="step"):
    """series: list of (points, colour, label); returns SVG text for one panel at x offset x0."""
    pts = [p for s in series for p in s[0] if math.isfinite(p[1])]
    if not pts:
        return ""
    xmin, xmax = min(p[0] for p in pts), max(p[0] for p in pts)
    ymin, ymax = min(p[1] for p in pts), max(p[1] for p in pts)
    if ymax - ymin < 1e-12:
        ymax = ymin + 1
    margin = 0.05 * (ymax - ymin)
    ymin, ymax = ymin - margin, ymax + margin
    xmax = xmax if xmax > xmin else xmin + 1

    def sx(x):
        return x0 + PAD + (x - xmin) / (xmax - xmin) * (W - PAD - 10)

    def sy(y):
        return 30 + (ymax - y) / (ymax - ymin) * (H - 60)

    out = [f'<rect x="{x0 + PAD}" y="30" width="{W - PAD - 10}" height="{H - 60}" fill="none" stroke="#888"/>',
           f'<text x="{x0 + W / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>',
           f'<text x="{x0 + W / 2}" y="{H - 8}" text-anchor="middle" font-size="11">{xlabel}</text>']
    for i in range(5):
        y = ymin + (ymax - ymin) * i / 4
        out.append(f'<text x="{x0 + PAD - 4}" y="{sy(y) + 4:.1f}" text-anchor="end" font-size="10">{y:.3g}</text>')
    for i in range(5):
        x = xmin + (xmax - xmin) * i / 4
        out.append(f'<text x="{sx(x):.1f}" y="{H - 20}" text-anchor="middle" font-size="10">{x:.0f}</text>')
    for k, (points, colour, label) in enumerate(series):
        good = [p for p in points if math.isfinite(p[1])]
        if not good:
            continue
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(good))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.4"/>')
        if len(good) < 40:
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>' for x, y in good]
        out.append(f'<text x="{x0 + W - 14}" y="{46 + 14 * k}" text-anchor="end" font-size="11" fill="{colour}">{label}</text>')
    return "\n".join(out)


def main():
    run, target = Path(sys.argv[1]), Path(sys.argv[2])
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    loss = [(int(r["step"]), float(r["loss"]) if r["loss"] else float("nan")) for r in rows]
    smooth = []
    for i in range(len(loss)):
        window = [v for _, v in loss[max(0, i - 9):i + 1] if math.isfinite(v)]
        smooth.append((loss[i][0], sum(window) / len(window) if window else float("nan")))
    monitor = [json.loads(l) for l in open(run / "monitor.jsonl")] if (run / "monitor.jsonl").exists() else []
    held = [(m["step"], m["held_out_loss"]) for m in monitor if m["held_out_loss"] is not None]
    agree = [(m["step"], m["agreement"]) for m in monitor if m["agreement"] is not None]
    lr = [(int(r["step"]), float(r["lr_head"])) for r in rows]
    parts = [panel(0, "training loss", [(loss, "#c6c6e6", "per step"), (smooth, "#2a3d9c", "10-step mean")]),
             panel(W, "held-out loss", [(held, "#b03030", "monitor")]),
             panel(2 * W, "student/teacher ordering agreement", [(agree, "#20804a", "Spearman")]),
             panel(3 * W, "learning rate (head)", [(lr, "#806020", "lr_head")])]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{4 * W}" height="{H}" font-family="sans-serif">\n'
           f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")
    target.write_text(svg)


if __name__ == "__main__":
    main()
