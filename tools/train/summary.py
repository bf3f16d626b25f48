#!/usr/bin/python3
"""Prints the results table of docs/MODELS.md from models/trained/*/metrics.json.
usage: /usr/bin/python3 tools/train/summary.py [models/trained]"""
import json
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "models", "trained")
print("| model | test windows | accuracy | majority baseline | macro-F1 (baseline) | log-loss (prior) | epochs (best) | stopped by | engine parity max abs diff |")
print("|---|---|---|---|---|---|---|---|---|")
for name in ("lstm_attn_s", "convlstm", "transformer_s"):
    p = os.path.join(d, name, "metrics.json")
    if not os.path.exists(p):
        continue
    m = json.load(open(p))
    t, tr, par = m["test"], m["training"], m.get("engine_parity", {})
    print(f"| {name} | {t['n']:,} | {t['accuracy']:.4f} | {t['baseline_majority_accuracy']:.4f} (`{t['baseline_majority_class']}`) | "
          f"{t['macro_f1']:.4f} ({t['baseline_majority_macro_f1']:.4f}) | {t['log_loss']:.4f} ({t['baseline_prior_log_loss']:.4f}) | "
          f"{tr['epochs_run']} ({tr['best_epoch']}) | {tr['stopped_by']} | "
          f"{par.get('max_abs_diff', float('nan')):.1e} on {par.get('windows', 0):,} |")
