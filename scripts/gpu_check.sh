#!/usr/bin/env bash
# GPU check of the LLM path (never needed by CI): TALLRec-256 of suites/llm.toml and ExplainRec
# full of suites/explainrec.toml on the default SmolLM2-135M-Instruct with device = "cuda"
# (bfloat16), then one line per model: AUC, fit seconds, latency, CUDA peak memory.
#   bash scripts/gpu_check.sh [OUT_DIR]     (default /tmp/gpu_check; needs scripts/setup.sh with
#                                            a CUDA torch build, README "GPU install")
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/gpu_check}
[ -x .venv/bin/python ] && source .venv/bin/activate
python - <<'PY'
import torch, sys
if not torch.cuda.is_available():
    sys.exit("gpu_check: torch sees no CUDA device (torch " + torch.__version__ + ")")
print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__,
      "| CUDA", torch.version.cuda)
PY
mkdir -p "$OUT"
cat > "$OUT/gpu_check.toml" <<'TOML'
name = "gpu_check"
description = "TALLRec-256 and ExplainRec full on SmolLM2-135M-Instruct, CUDA bf16"
seeds = [0]
tracks = ["tallrec", "efficiency"]

[[datasets]]
name = "ml-100k"
max_eval_users = 100

[[models]]
name = "tallrec"
label = "tallrec-256"
params = { shots = 256, min_steps = 16, device = "cuda", dtype = "bf16" }

[[models]]
name = "explainrec"
label = "explainrec-full"
params = { variant = "full", device = "cuda", dtype = "bf16" }

[tallrec]
# all 1,000 TALLRec test questions

[efficiency]
requests = 20
warmup = 3
TOML
start=$(date +%s)
recbench run "$OUT/gpu_check.toml" --out "$OUT/runs" --no-progress || true
echo "wall seconds: $(( $(date +%s) - start ))"
python - "$OUT/runs/gpu_check" <<'PY'
import json, sys
from pathlib import Path
for m in sorted(Path(sys.argv[1]).glob("*/*/seed-0")):
    if (m / "error.json").is_file():
        print(m.parent.name, "FAILED:", json.loads((m / "error.json").read_text()).get("error"))
        continue
    rows = {f"{r['track']}/{r['metric']}": r["value"]
            for r in json.loads((m / "metrics.json").read_text())["rows"]}
    print(f"{m.parent.name}: tallrec AUC {rows.get('tallrec/auc', float('nan')):.4f} | "
          f"fit {rows.get('efficiency/train_seconds', float('nan')):.1f} s | latency p50 "
          f"{rows.get('efficiency/latency_ms_p50', float('nan')):.1f} ms, p95 "
          f"{rows.get('efficiency/latency_ms_p95', float('nan')):.1f} ms | CUDA peak "
          f"{rows.get('efficiency/peak_memory_mb', float('nan')):.0f} MiB")
PY
