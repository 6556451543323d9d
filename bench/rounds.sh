#!/usr/bin/env bash
# Alternates nninit's training benchmark (benches/train.rs) and the Python anchors
# (../shared/bench/anchors.sh mlp: PyTorch and NumPy) for a few rounds on this machine, and
# prints, for each workload, nninit's samples/s over PyTorch's and over NumPy's within each
# round, then the median of those per-round ratios. The host is shared: absolute figures drift
# from minute to minute, so only ratios taken within one round mean anything.
#
# usage: bench/rounds.sh [rounds=3] [repeats=5] [steps=200]
# Output lines: RATIO <net> <threads> batch=<B> vs <torch|numpy> <round ratios...> median=<m>
set -euo pipefail
rounds=${1:-3}; repeats=${2:-5}; steps=${3:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
# The anchors live beside the repository (../shared/bench); from a worktree one level deeper.
anchors=${NNINIT_ANCHORS:-}
for candidate in "$here/../shared/bench/anchors.sh" "$here/../../shared/bench/anchors.sh"; do
  if [ -z "$anchors" ] && [ -f "$candidate" ]; then anchors=$candidate; fi
done
[ -n "$anchors" ] || { echo "anchors.sh not found: set NNINIT_ANCHORS" >&2; exit 1; }
out=$(mktemp -d)
cd "$here"
cargo bench --bench train --no-run -q 2>/dev/null
echo "# $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cpus; $rounds rounds"
for round in $(seq 1 "$rounds"); do
  cargo bench -q --bench train -- "$repeats" "$steps" 2>/dev/null | tee "$out/nninit.$round"
  bash "$anchors" mlp | tee "$out/anchors.$round"
done
python3 - "$out" "$rounds" <<'PY'
import sys, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
def load(path):
    rates = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 7 and f[0] == "MLP":
            lib = next((name for name in ("nninit", "torch", "numpy") if f[1].startswith(name)), f[1])
            rates[(lib, f[2], f[3], f[4])] = float(f[5])
    return rates
per_round = [ {**load(f"{out}/nninit.{r}"), **load(f"{out}/anchors.{r}")} for r in range(1, rounds + 1)]
keys = sorted({k[1:] for k in per_round[0] if k[0] == "nninit"})
for key in keys:
    for peer in ("torch", "numpy"):
        ratios = [r[("nninit",) + key] / r[(peer,) + key] for r in per_round if (peer,) + key in r and ("nninit",) + key in r]
        if ratios:
            print(f"RATIO {key[0]} {key[1]} {key[2]} vs {peer} " + " ".join(f"{x:.2f}" for x in ratios) + f" median={statistics.median(ratios):.2f}")
PY
