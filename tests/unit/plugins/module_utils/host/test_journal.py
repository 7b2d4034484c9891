"""The one journal: every path a change touches saved first, put back exactly by a rollback or by
the next run's recovery, seen as recovery will leave it by check mode; the one lock."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    ABSENT, DIR, FILE, LINK, FileChange, FileState, HostFileError, read_state)
from ansible_collections.antsle.antman.plugins.module_utils.host.journal import Journal
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDir


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


def everything(root):
    """Every path under ``root`` with its kind, mode and bytes or target."""
    found = {}
    for directory, dirs, names in os.walk(str(root)):
        for name in dirs + names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            content = os.readlink(path) if os.path.islink(path) else (
                open(path, "rb").read() if os.path.isfile(path) else None)
            found[os.path.relpath(path, str(root))] = (info.st_mode, info.st_uid, content)
    return found


def test_apply_then_restore_puts_every_file_back_exactly(world):
    journal = Journal(str(world / "antman.d"))
    before = everything(world)
    changes = changes_for(world)
    journal.begin(changes)
    assert journal.interrupted() and oct(os.stat(journal.path).st_mode & 0o777) == "0o600"
    journal.apply(changes)
    assert (world / "conf.d" / "old.conf").read_bytes() == b"replaced\n" and not os.path.lexists(str(world / "link"))
    assert oct(os.stat(str(world / "conf.d" / "new.conf")).st_mode & 0o777) == "0o600"
    assert journal.restore() and not journal.interrupted()
    assert everything(world) == before  # modes, owners, bytes, the link; no journal or backup left
    assert not journal.restore()


def test_check_mode_sees_what_recovery_will_restore(world):
    journal = Journal(str(world / "antman.d"))
    changes = changes_for(world)
    journal.begin(changes)
    journal.apply(changes)  # and then the run died
    assert journal.view(str(world / "conf.d" / "old.conf")).data == b"old \xe9\n"
    assert journal.view(str(world / "link")).kind == LINK
    assert journal.view(str(world / "conf.d" / "new.conf")).kind == ABSENT
    assert journal.saved(str(world / "elsewhere")) is None


def test_a_restore_only_rewrites_what_differs(world):
    """A run that died after journaling and before changing anything: nothing is rewritten (a full
    disk could not take a temporary file), the same inode stays."""
    journal = Journal(str(world / "antman.d"))
    inode = os.stat(str(world / "conf.d" / "old.conf")).st_ino
    journal.begin(changes_for(world))
    assert journal.restore()
    assert os.stat(str(world / "conf.d" / "old.conf")).st_ino == inode


def test_a_plain_rules_directory_is_moved_aside_and_put_back(world):
    """The first change adopts a plain rules directory: moved aside (kept), a link in its place;
    rolled back, the directory is back with the same inode and files."""
    rules = RulesDir(str(world / "antman.d"))
    os.makedirs(rules.path)
    (world / "antman.d" / "hand.conf").write_bytes(b"# by hand\n")
    before, inode = everything(world), os.stat(rules.path).st_ino
    journal = Journal(rules.path)
    staged = rules.stage({"web.conf": (b"W", 0o644)}, set())
    change = rules.switch(staged)
    assert change.before.kind == DIR
    journal.begin([change])
    journal.apply([change])
    assert os.path.islink(rules.path) and sorted(os.listdir(rules.path)) == ["hand.conf", "web.conf"]
    assert rules.directory(journal.view(rules.path)) == os.path.join(journal.backup_dir, "0")
    assert journal.restore()
    rules.remove_stale()
    assert everything(world) == before and os.stat(rules.path).st_ino == inode


def test_a_link_to_the_operator_s_directory_is_put_back_and_the_directory_kept(world):
    """rules_dir may be a link the operator made to a directory of theirs: the change replaces the
    link, a rollback puts the same link back, a finished change leaves their directory alone."""
    (world / "mine").mkdir()
    (world / "mine" / "hand.conf").write_bytes(b"# by hand\n")
    os.symlink(str(world / "mine"), str(world / "antman.d"))
    rules, journal = RulesDir(str(world / "antman.d")), Journal(str(world / "antman.d"))
    before = everything(world)
    for finish in (False, True):
        change = rules.switch(rules.stage({"web.conf": (b"W", 0o644)}, set()))
        journal.begin([change])
        journal.apply([change])
        if finish:
            journal.finish()
        else:
            journal.restore()
        rules.remove_stale()
        if not finish:
            assert everything(world) == before
    assert os.readlink(rules.path).startswith(".antman.d.gen-") and sorted(os.listdir(rules.path)) == ["hand.conf", "web.conf"]
    assert everything(world / "mine") == dict((k[len("mine/"):], v) for k, v in before.items() if k.startswith("mine/"))


def test_leftovers_of_a_run_that_died_before_journaling_are_removed(world):
    journal = Journal(str(world / "antman.d"))
    os.mkdir(journal.backup_dir)
    open(journal.path + ".tmp", "w").close()
    assert not journal.restore()
    assert not os.path.exists(journal.backup_dir) and not os.path.exists(journal.path + ".tmp")


def test_lock_is_exclusive(tmp_path):
    journal, other = Journal(str(tmp_path / "antman.d")), Journal(str(tmp_path / "antman.d"))
    with journal.locked(5):
        with pytest.raises(HostFileError, match="another run"):
            with other.locked(0.2):
                pass
    assert oct(os.stat(journal.lock_path).st_mode & 0o777) == "0o600"


def test_unwritable_parent_is_a_clear_error(tmp_path):
    journal = Journal(str(tmp_path / "file" / "antman.d"))
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(HostFileError, match="cannot use rules_dir .*its parent .* exists and is not a directory"):
        with journal.locked(1):
            pass
