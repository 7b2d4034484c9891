"""Where the collection and its test tools are, and how to start a tool as a child process.

The tools are modules of the importable packages ``ansible_collections.antsle.antman.tests.support``
and ``ansible_collections.antsle.antman.bench``: they are run as ``python -m ...`` with the
directory holding ``ansible_collections`` on PYTHONPATH (scripts/lib.sh's ``pymod`` does that),
never by editing sys.path.
"""
import os
import sys

PACKAGE = "ansible_collections.antsle.antman"
# .../ansible_collections/antsle/antman, and the directory holding ansible_collections.
COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COLLECTIONS = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))


def child_env(env=None):
    """The environment for a child Python process that imports the collection from where this one does."""
    env = dict(os.environ if env is None else env)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if COLLECTIONS not in paths:
        env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS] + paths)
    return env


def tool(dotted, *args):
    """The command that runs the tool module ``dotted`` (e.g. ``tests.support.backend``) of the collection."""
    return [sys.executable, "-m", "%s.%s" % (PACKAGE, dotted)] + [str(a) for a in args]
