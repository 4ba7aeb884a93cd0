#!/usr/bin/env bash
# Mutation testing (mutmut 3) on the modules a change touches, with their own test files.
#
#   tools/mutation.sh MODULE...        e.g. tools/mutation.sh datasets/files data export
#   tools/mutation.sh --changed [REF]  the modules changed since REF (default: main)
#   tools/mutation.sh --list           the modules it knows and the tests each one runs
#   tools/mutation.sh --survivors MODULE...   again, only the last run's survivors (after
#                                      you added tests for them; the score is updated)
#
# MODULE is a path under src/glassnet without ".py".  Each module runs in its own copy of
# the checkout under .mutation/MODULE (ignored by git) so that runs do not disturb the
# working tree; mutmut runs only the tests that reach each mutated function.  Afterwards
# it prints each module's score and its surviving mutants; `cd .mutation/MODULE &&
# mutmut show NAME` shows one as a diff.  Needs the mutation extra:
# pip install -e ".[test,mutation]".  Set JOBS (default 2) for more parallel workers, and
# MUTANTS to a glob of mutant names to run only some functions, e.g.
# MUTANTS='glassnet.cli.x_load_data*' tools/mutation.sh cli
# A whole-module run starts afresh; with MUTANTS, the other functions keep their verdicts.
# Each test has a time limit of TEST_TIMEOUT seconds (default 60; pytest-timeout, part of
# the mutation extra): a mutant that makes a test loop or hang fails that test (killed)
# instead of waiting for mutmut's own limit.  trainer mutates only its data path unless
# MUTANTS says otherwise (see default_mutants).
# Survivors that are judged harmless are listed in tools/mutation-survivors.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
JOBS="${JOBS:-2}"
# mutmut forks a worker per mutant from a process that has already run the tests; a fork
# does not inherit Dask's thread pool, so any .compute() in it waits forever (every
# DaskBatches mutant then "hung" and counted as killed).  Dask's synchronous scheduler has
# no threads to lose (the distributed test starts its own cluster).
export DASK_SCHEDULER="${DASK_SCHEDULER:-synchronous}"

# module -> the test files that exercise it (keep each set to what runs in seconds)
tests_for() {
  case "$1" in
    datasets/preprocessing) echo "tests/test_data_paths.py tests/test_user_paths.py tests/test_datasets.py tests/test_sklearn.py" ;;
    datasets/files)   echo "tests/test_blank_lines.py tests/test_csv_headers.py tests/test_files_module.py tests/test_data_paths.py tests/test_user_paths.py tests/test_datasets.py tests/test_own_data.py tests/test_untrusted_files.py tests/test_decompression.py" ;;
    datasets/stream)  echo "tests/test_blank_lines.py tests/test_csv_headers.py tests/test_data_paths.py tests/test_user_paths.py tests/test_own_data.py tests/test_untrusted_files.py" ;;
    datasets/catalog|datasets/toy|datasets/__init__) echo "tests/test_datasets.py tests/test_user_paths.py" ;;
    data)             echo "tests/test_blank_lines.py tests/test_data_paths.py tests/test_user_paths.py tests/test_own_data.py tests/test_dask.py" ;;
    export)           echo "tests/test_export.py tests/test_user_paths.py" ;;
    serialization)    echo "tests/test_model_files.py tests/test_serialization.py tests/test_untrusted_files.py tests/test_model.py tests/test_hostile_models.py tests/test_saving_files.py" ;;
    # test_faults is left out: its SIGINT test cannot run under mutmut
    callbacks)        echo "tests/test_callbacks_values.py tests/test_keras_callbacks.py tests/test_keras_habits.py tests/test_model.py" ;;
    cli)              echo "tests/test_cli_parser.py tests/test_smoke_values.py tests/test_cli.py tests/test_own_data.py" ;;
    report)           echo "tests/test_user_paths.py tests/test_trace.py" ;;
    # trainer: only the data path (batching, class_weight/sample_weight, validation_split and
    # validation_data, Steps); the rest of trainer.py is reached by every test and too slow:
    # run it with MUTANTS (the default below when MUTANTS is unset)
    trainer)          echo "tests/test_data_paths.py tests/test_user_paths.py tests/test_keras_habits.py tests/test_non_default_settings.py" ;;
    gradcheck)        echo "tests/test_user_paths.py tests/test_model.py tests/test_non_default_settings.py" ;;
    activations)      echo "tests/test_activations.py tests/test_export.py tests/test_user_paths.py" ;;
    *) return 1 ;;
  esac
}
KNOWN="datasets/preprocessing datasets/files datasets/stream datasets/catalog datasets/toy data
export serialization callbacks cli report gradcheck activations trainer"
# the functions of a module that are mutated when MUTANTS is not set (default: all of them)
default_mutants() {
  case "$1" in
    trainer) echo "glassnet.trainer.xǁTrainerǁ_fit_data__mutmut_* glassnet.trainer.xǁTrainerǁ_class_weights__mutmut_*
                   glassnet.trainer.xǁTrainerǁ_batches_for_evaluation__mutmut_* glassnet.trainer.xǁTrainerǁ_chunk__mutmut_*
                   glassnet.trainer.xǁBatchesǁ* glassnet.trainer.xǁStepsǁ* glassnet.trainer.x__validation_epochs__mutmut_*" ;;
  esac
}

if [ "${1:-}" = "--list" ]; then
  for m in $KNOWN; do printf '%-24s %s\n' "$m" "$(tests_for "$m")"; done
  exit 0
fi
if [ "${1:-}" = "--changed" ]; then
  ref="${2:-main}"
  set -- $(git diff --name-only "$ref" -- 'src/glassnet/*.py' | sed -n 's|^src/glassnet/\(.*\)\.py$|\1|p')
  [ $# -gt 0 ] || { echo "no module under src/glassnet changed since $ref"; exit 0; }
fi
SURVIVORS=0
if [ "${1:-}" = "--survivors" ]; then SURVIVORS=1; shift; fi
[ $# -gt 0 ] || { sed -n '2,23p' "$0"; exit 2; }

for module in "$@"; do
  tests=$(tests_for "$module") || {
    echo "tools/mutation.sh: no test files listed for $module; add it to tests_for" >&2; exit 2; }
  existing=""
  for t in $tests; do [ -f "$t" ] && existing="$existing $t"; done
  work="$ROOT/.mutation/$module"
  mkdir -p "$work"
  # a fresh copy of the sources and tests (mutmut keeps its results in $work/mutants)
  rm -rf "$work/src" "$work/tests"
  cp -r src tests README.md "$work/"
  "$PYTHON" - "$work/pyproject.toml" "src/glassnet/$module.py" "${TEST_TIMEOUT:-60}" $existing <<'EOF'
import importlib.util, json, re, sys
target, module, timeout, tests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
text = open("pyproject.toml").read()
extra = (f"only_mutate = {json.dumps([module])}\n"
         f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n")
assert "[tool.mutmut]\n" in text, "pyproject.toml has no [tool.mutmut] table"
text = text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + extra, 1)
if importlib.util.find_spec("pytest_timeout"):       # a time limit for each test
    text, n = re.subn(r"^(pytest_add_cli_args = \[.*)\]$",
                      rf'\1, "-p", "timeout", "--timeout={int(timeout)}"]', text, count=1,
                      flags=re.M)
    assert n == 1, "pyproject.toml has no pytest_add_cli_args line"
else:
    print("tools/mutation.sh: pytest-timeout is not installed: a hanging mutant waits for "
          "mutmut's own limit (pip install -e '.[test,mutation]')", file=sys.stderr)
open(target, "w").write(text)
EOF
  names="${MUTANTS:-$(default_mutants "$module")}"
  if [ "$SURVIVORS" = 1 ]; then
    [ -f "$work/results.txt" ] || { echo "no earlier run of $module to take survivors from"; exit 2; }
    names=$(sed -n 's/^ *\([^ ]*__mutmut_[0-9]*\): \(survived\|no tests\)$/\1/p' "$work/results.txt")
    [ -n "$names" ] || { echo "$module: no survivors left"; continue; }
    cp "$work/results.txt" "$work/results-before.txt"
    rm -rf "$work/mutants"        # fresh statistics: the new tests must reach the mutants
  else
    rm -f "$work/results-before.txt"
    # a whole module: a fresh run (mutmut keeps the verdicts of an earlier run of the same
    # source, so without this, tests added since would not count); with MUTANTS, the other
    # functions keep their verdicts, so that groups of functions add up to the module
    [ -n "${MUTANTS:-}" ] || rm -rf "$work/mutants"
  fi
  echo "== mutating src/glassnet/$module.py with$existing"
  started=$(date +%s)
  commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo "+changes")
  # mutmut puts the mutated copy first on the tests' path; subprocesses the tests start
  # (the command line, in empty directories where mutmut finds no configuration) import the
  # unmutated copy, not whatever glassnet is installed: only in-process tests kill mutants
  (cd "$work" && PYTHONPATH="$work/src" "$PYTHON" -m mutmut run --max-children "$JOBS" $names \
     >"$work/run.log" 2>&1) || { tail -30 "$work/run.log"; echo "mutmut failed for $module"; exit 1; }
  (cd "$work" && "$PYTHON" -m mutmut results --all true >"$work/results.txt" 2>&1 || true)
  "$PYTHON" - "$work/results.txt" "$module" "$(( $(date +%s) - started ))" \
      "$commit" "$work/results-before.txt" <<'EOF'
import collections, os, re, sys
path, module, seconds, commit, before = sys.argv[1:]

def read(path):
    found = {}
    for line in open(path):
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found

status = read(path)
if os.path.exists(before):          # a --survivors run: the rest keep their earlier verdict
    merged = read(before)
    merged.update({k: v for k, v in status.items() if v != "not checked"})
    status = merged
    with open(path, "w") as out:
        out.writelines(f"    {k}: {v}\n" for k, v in sorted(status.items()))
counts = collections.Counter(status.values())
killed = counts.get("killed", 0) + counts.get("caught by type check", 0)
tested = killed + counts.get("survived", 0) + counts.get("timeout", 0)
score = 100.0 * (killed + counts.get("timeout", 0)) / tested if tested else float("nan")
print(f"{module}: {len(status)} mutants, score {score:.1f}% "
      f"({dict(sorted(counts.items()))}) in {seconds} s on commit {commit}")
for name, s in sorted(status.items()):
    if s in ("survived", "no tests"):
        print(f"    {s:9s} {name}")
EOF
done
