"""scripts/sync_tree.py: the copy of the checkout that stages read while another one syncs it."""
import importlib.util
import os
import threading
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sync_tree.py"
spec = importlib.util.spec_from_file_location("sync_tree", SCRIPT)
sync_tree = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync_tree)


def make(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_copies_changes_and_removals_only(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    make(src, {"a.py": "a", "plugins/b.py": "b", "gone.txt": "g", "build/x": "x", ".venv-2.21/y": "y",
               "plugins/__pycache__/b.pyc": "c", "tests/output/z": "z"})
    assert sync_tree.sync(str(src), str(dest)) == (3, 0)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == ["a.py", "gone.txt", "plugins/b.py"]

    kept = (dest / "a.py").stat().st_ino
    make(dest, {".git/HEAD": "ref", "tests/output/venv": "v"})  # what a copy makes for itself
    (src / "gone.txt").unlink()
    make(src, {"plugins/b.py": "b, edited"})
    os.utime(src / "plugins/b.py", (1, 1))
    assert sync_tree.sync(str(src), str(dest)) == (1, 1)
    assert (dest / "plugins/b.py").read_text() == "b, edited"
    assert not (dest / "gone.txt").exists()
    assert (dest / "a.py").stat().st_ino == kept
    assert (dest / ".git/HEAD").exists() and (dest / "tests/output/venv").exists()
    assert sync_tree.sync(str(src), str(dest)) == (0, 0)


def test_a_reader_never_finds_a_file_missing(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    names = [f"plugins/modules/m{i}.py" for i in range(200)]
    make(src, {name: "v1" for name in names})
    sync_tree.sync(str(src), str(dest))
    make(src, {name: "v2, longer" for name in names})

    missing, done = [], threading.Event()

    def read():
        while not done.is_set():
            missing.extend(name for name in names if not (dest / name).exists())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert sync_tree.sync(str(src), str(dest)) == (200, 0)
    finally:
        done.set()
        reader.join()
    assert missing == []
    assert {(dest / name).read_text() for name in names} == {"v2, longer"}
