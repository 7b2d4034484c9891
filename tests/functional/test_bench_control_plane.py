"""The control-plane benchmark script runs and reports every number (values are not judged here)."""
import re
import subprocess

from ansible_collections.antsle.antman.tests.support.paths import child_env, tool


def test_control_plane_benchmark_smoke(tmp_path):
    out = tmp_path / "cp.md"
    proc = subprocess.run(tool("bench.control_plane", "--rules", 3, "--out", out), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, env=child_env(), check=False)
    assert proc.returncode == 0, proc.stdout
    rows = [line for line in out.read_text().splitlines() if re.match(r"\| (from empty|no-op|one rule)", line)]
    assert len(rows) == 3
    assert "(3 changes)" in rows[0] and "(0 changes)" in rows[1] and "(1 changes)" in rows[2]
    for row in rows:
        assert len(re.findall(r"\d+\.\d+ s", row)) == 4 and len(re.findall(r"\d+x", row)) == 2
