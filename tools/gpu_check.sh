#!/usr/bin/env bash
# The GPU checks in one call, for the GPU machine (CI has no GPU; see CONTRIBUTING.md):
# the CUDA tests (tests/test_cuda.py, pytest -m cuda) and the GPU benchmark with PyTorch's
# anchors measured in the same process.  Needs CuPy, PyTorch with CUDA, pytest, and for the
# anchors the folder holding gpu_anchor.py (ANCHORS, default .gpu_anchors: a copy of
# ../shared/gpu); Fashion-MNIST's IDX files in GLASSNET_FASHION_MNIST (default .fashion) for
# the accuracy row.  Logs go to $OUT (default /tmp/gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export GLASSNET_FASHION_MNIST="${GLASSNET_FASHION_MNIST:-$PWD/.fashion}"
OUT="${OUT:-/tmp/gpu-check}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import numpy, cupy, torch; print("numpy", numpy.__version__, "| cupy", cupy.__version__, "| torch", torch.__version__, torch.version.cuda)'
echo "== GPU tests"
timeout "${TEST_TIMEOUT:-240}" python3 -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda.py \
  >"$OUT/gpu-tests.log" 2>&1
echo "pytest exit: $?"
grep -E "passed|failed|error" "$OUT/gpu-tests.log" | tail -3
grep -E "^(FAILED|ERROR)" "$OUT/gpu-tests.log" | head -30
echo "== GPU benchmark"
timeout "${BENCH_TIMEOUT:-240}" python3 benchmarks/bench.py --device cuda \
  --anchors "${ANCHORS:-.gpu_anchors}" --profile "$OUT/gpu-profile.txt" 2>&1 \
  | tee "$OUT/gpu-bench.log"
