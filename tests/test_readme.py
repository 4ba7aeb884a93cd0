"""The README's command-line block runs as pasted, line by line, in an empty directory."""
import os
import pathlib
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _cli_block():
    text = README.read_text()
    block = text.split("<!-- cli-block -->\n```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_cli_block_runs_as_pasted(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep
           + os.environ.get("PATH", "")}
    lines = _cli_block()
    assert len(lines) >= 10
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=300, executable="/bin/bash")
        assert result.returncode == 0, f"{line}\n{result.stderr}"
    for made in ("model.glassnet", "xor.glassnet", "csv.glassnet", "confusion.png",
                 "regions.png", "predictions.csv", "model.onnx", "report.html", "cubic.png"):
        assert (tmp_path / made).stat().st_size > 0, made
