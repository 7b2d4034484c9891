"""Generations of the rules directory: staged complete, switched by one link, stale ones removed."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.files import ABSENT, DIR, LINK, HostFileError, write_state
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDir


def files(path):
    return dict((n, open(os.path.join(path, n), "rb").read()) for n in sorted(os.listdir(path)))


def switch(rules, generation):
    write_state(rules.switch(generation).after)


def test_staging_and_switching_keeps_the_old_generation_intact(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    assert rules.state().kind == ABSENT
    first = rules.stage({"a.conf": (b"A", 0o644), "b.conf": (b"B", 0o644)}, set())
    switch(rules, first)
    second = rules.stage({"b.conf": (b"B2", 0o644), "c.conf": (b"C", 0o644)}, {"a.conf"})
    assert files(rules.path) == {"a.conf": b"A", "b.conf": b"B"}
    switch(rules, second)
    assert files(rules.path) == {"b.conf": b"B2", "c.conf": b"C"}
    assert files(first) == {"a.conf": b"A", "b.conf": b"B"}
    switch(rules, first)
    assert files(rules.path) == {"a.conf": b"A", "b.conf": b"B"}
    assert os.path.islink(rules.path) and os.readlink(rules.path) == os.path.basename(first)
    assert oct(os.stat(os.path.join(rules.path, "a.conf")).st_mode & 0o777) == "0o644"
    assert oct(os.stat(rules.path).st_mode & 0o777) == "0o755"
    rules.remove_stale()
    assert rules.generations() == [first]


def test_unchanged_files_keep_their_inode(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    switch(rules, rules.stage({"keep.conf": (b"K", 0o644)}, set()))
    inode = os.stat(os.path.join(rules.path, "keep.conf")).st_ino
    switch(rules, rules.stage({"new.conf": (b"N", 0o600)}, set()))
    assert os.stat(os.path.join(rules.path, "keep.conf")).st_ino == inode
    assert os.stat(os.path.join(rules.path, "new.conf")).st_mode & 0o777 == 0o600


def test_what_rules_dir_is_before_the_first_change(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    os.makedirs(rules.path)
    assert rules.state().kind == DIR and rules.directory(rules.state()) == rules.path
    os.rmdir(rules.path)
    os.symlink(str(tmp_path / "elsewhere"), rules.path)
    with pytest.raises(HostFileError, match="is a symbolic link to something that is not a directory"):
        rules.state()
    os.makedirs(str(tmp_path / "elsewhere"))
    assert rules.state().kind == LINK and rules.directory(rules.state()) == str(tmp_path / "elsewhere")
    os.unlink(rules.path)
    open(rules.path, "w").close()
    with pytest.raises(HostFileError, match="exists and is not a directory"):
        rules.state()
