"""Base-configuration files change as one transaction: saved, replaced, restored exactly."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    ABSENT, FILE, LINK, FileChange, FileState, HostFiles, read_state)
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDirError


@pytest.fixture
def world(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "old.conf").write_bytes(b"old \xe9\n")
    os.chmod(str(tmp_path / "conf.d" / "old.conf"), 0o640)
    os.symlink("/usr/share/target", str(tmp_path / "link"))
    return tmp_path


def changes_for(world):
    old, link, new = (str(world / "conf.d" / "old.conf"), str(world / "link"), str(world / "conf.d" / "new.conf"))
    return [FileChange(read_state(old), FileState(old, FILE, b"replaced\n", 0o644), "updated"),
            FileChange(read_state(link), FileState(link, ABSENT), "removed"),
            FileChange(read_state(new), FileState(new, FILE, b"created\n", 0o600), "created")]


def test_apply_then_restore_puts_every_file_back_exactly(world):
    files = HostFiles(str(world / "antman.d"))
    before = {p: read_state(str(world / p)) for p in ("conf.d/old.conf", "link", "conf.d/new.conf")}
    changes = changes_for(world)
    files.begin(changes)
    assert files.interrupted()
    files.apply(changes)
    assert (world / "conf.d" / "old.conf").read_bytes() == b"replaced\n" and not os.path.lexists(str(world / "link"))
    assert oct(os.stat(str(world / "conf.d" / "new.conf")).st_mode & 0o777) == "0o600"
    assert files.restore() and not files.interrupted() and not os.path.exists(files.backup_dir)
    for path, state in before.items():
        now = read_state(str(world / path))
        assert now.same_as(state) and now.kind == state.kind and now.uid == state.uid, path
    assert oct(os.stat(str(world / "conf.d" / "old.conf")).st_mode & 0o777) == "0o640"
    assert os.readlink(str(world / "link")) == "/usr/share/target"


def test_check_mode_sees_what_recovery_will_restore(world):
    files = HostFiles(str(world / "antman.d"))
    changes = changes_for(world)
    files.begin(changes)
    files.apply(changes)  # and then the run died
    assert files.view(str(world / "conf.d" / "old.conf")).data == b"old \xe9\n"
    assert files.view(str(world / "link")).kind == LINK
    assert files.view(str(world / "conf.d" / "new.conf")).kind == ABSENT


def test_a_directory_that_is_not_there_is_named(world):
    missing = str(world / "nope" / "x.conf")
    change = FileChange(read_state(missing), FileState(missing, FILE, b"x", 0o644), "created")
    with pytest.raises(RulesDirError, match="directory .*nope does not exist"):
        HostFiles.apply([change])
