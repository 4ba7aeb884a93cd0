"""From a wheel, in an empty directory: the demos and the license travel with the package."""
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_installs_and_runs_a_demo_from_an_empty_directory(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                            "--quiet", "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=600)
    if built.returncode:
        pytest.skip(f"cannot build a wheel here (no build backend?): {built.stderr[-300:]}")
    wheel = next((tmp_path / "dist").glob("glassnet-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "glassnet/demos/xor.py" in names and "glassnet/datasets/data/digits.csv.gz" in names
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)],
                         capture_output=True, text=True, timeout=600)
    if pip.returncode:
        pytest.skip(f"cannot install NumPy into a fresh venv here: {pip.stderr[-300:]}")
    empty = tmp_path / "empty"
    empty.mkdir()
    # a plain install, as a user has it (CI's GLASSNET_FAST=1 run would ask this venv for numba)
    env = {k: v for k, v in os.environ.items() if k != "GLASSNET_FAST"}
    demo = subprocess.run([str(venv / "bin" / "glassnet"), "demo", "xor", "--epochs", "300"],
                          cwd=empty, capture_output=True, text=True, timeout=300, env=env)
    assert demo.returncode == 0, demo.stderr
    assert "XOR with 2 inputs" in demo.stdout
    needs_extra = subprocess.run([str(venv / "bin" / "glassnet"), "demo", "grid-search"],
                                 cwd=empty, capture_output=True, text=True, timeout=300, env=env)
    assert needs_extra.returncode == 1
    assert needs_extra.stderr.strip() == ("glassnet: error: the demo 'grid-search' needs "
                                          'sklearn: pip install "glassnet[sklearn]"')
