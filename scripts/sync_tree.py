"""Make DEST a copy of the checkout (or tree) SRC, for scripts/lib.sh's sync_tree.

Stages that run side by side read the same copy while another one syncs it (the demo's setup.sh
beside the docs lint), so a file of DEST is never missing or half written: a changed file is
written beside its place and renamed over it; a file whose size and modification time match is
left alone (rsync's quick check); a file SRC no longer has is removed. What the checkout keeps
for itself (build output, venvs, caches, git) is not copied; what a copy makes for itself (its git
repository, ansible-test's output, caches) is not removed.
"""
import os
import shutil
import sys
import tempfile

# Paths relative to SRC's top that are never copied (and, in DEST, never removed).
SKIP_TOP = {"build", ".git", "tests/output", "collections", ".hypothesis", ".pytest_cache", "docs/build"}
SKIP_ANYWHERE = {"__pycache__"}


def skipped(rel):
    name = os.path.basename(rel)
    return (rel in SKIP_TOP or name in SKIP_ANYWHERE or name.endswith(".pyc")
            or (os.sep not in rel and name.startswith(".venv")))


def walk(top):
    """Relative paths of the files (and symlinks) under top, skipped paths left out."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = "" if rel_dir == "." else rel_dir
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = [d for d in dirnames if d not in links and not skipped(os.path.join(rel_dir, d))]
        found.update(rel for rel in (os.path.join(rel_dir, name) for name in filenames + links) if not skipped(rel))
    return found


def same(src, dest):
    if os.path.islink(src) or os.path.islink(dest):
        return os.path.islink(src) and os.path.islink(dest) and os.readlink(src) == os.readlink(dest)
    try:
        a, b = os.stat(src), os.stat(dest)
    except FileNotFoundError:
        return False
    return (a.st_size, int(a.st_mtime), a.st_mode) == (b.st_size, int(b.st_mtime), b.st_mode)


def place(src, dest):
    """dest becomes a copy of src, in one rename."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sync-", dir=os.path.dirname(dest))
    os.close(fd)
    try:
        if os.path.islink(src):
            os.unlink(tmp)
            os.symlink(os.readlink(src), tmp)
        else:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def sync(src, dest):
    """Return (copied, removed) counts."""
    wanted = walk(src)
    copied = removed = 0
    for rel in sorted(wanted):
        if not same(os.path.join(src, rel), os.path.join(dest, rel)):
            place(os.path.join(src, rel), os.path.join(dest, rel))
            copied += 1
    for rel in walk(dest) - wanted if os.path.isdir(dest) else ():
        os.unlink(os.path.join(dest, rel))
        removed += 1
    return copied, removed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sync_tree.py SRC DEST")
    sync(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
