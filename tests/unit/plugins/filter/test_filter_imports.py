"""The collection's filters import its code when they run, never with their file: ansible-core imports
every filter file of a collection in each worker that uses any one of them (~125 ms of controller CPU
per host measured; docs/benchmarks.md, fleet)."""
import ast
import glob
import os

from ansible_collections.antsle.antman.tests.support.schema_files import ROOT


def module_level_imports(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def test_no_filter_file_imports_the_collection_s_code_at_module_level():
    files = sorted(glob.glob(os.path.join(ROOT, "plugins", "filter", "*.py")))
    assert len(files) >= 9
    found = {os.path.basename(path): name for path in files for name in module_level_imports(path)
             if name.startswith("ansible_collections.antsle.antman")}
    assert found == {}
