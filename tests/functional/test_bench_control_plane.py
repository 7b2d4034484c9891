"""The control-plane benchmark script runs and reports every number (values are not judged here)."""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def test_control_plane_benchmark_smoke(tmp_path):
    out = tmp_path / "cp.md"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "control_plane.py"), "--rules", "3",
                           "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout
    rows = [line for line in out.read_text().splitlines() if re.match(r"\| (from empty|no-op|one rule)", line)]
    assert len(rows) == 3
    assert "(3 changes)" in rows[0] and "(0 changes)" in rows[1] and "(1 changes)" in rows[2]
    for row in rows:
        assert len(re.findall(r"\d+\.\d+ s", row)) == 4 and len(re.findall(r"\d+x", row)) == 2
