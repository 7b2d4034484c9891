import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDir, RulesDirError


def files(path):
    return dict((n, open(os.path.join(path, n), "rb").read()) for n in sorted(os.listdir(path)))


def test_staging_and_switching_keeps_the_old_generation_intact(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    with rules.locked(5):
        rules.ensure_layout()
        first = rules.stage({"a.conf": (b"A", 0o644), "b.conf": (b"B", 0o644)}, set())
        rules.point_to(first)
        second = rules.stage({"b.conf": (b"B2", 0o644), "c.conf": (b"C", 0o644)}, {"a.conf"})
        assert files(rules.path) == {"a.conf": b"A", "b.conf": b"B"}
        rules.point_to(second)
        assert files(rules.path) == {"b.conf": b"B2", "c.conf": b"C"}
        assert files(first) == {"a.conf": b"A", "b.conf": b"B"}
        rules.point_to(first)
        assert files(rules.path) == {"a.conf": b"A", "b.conf": b"B"}
    assert os.path.islink(rules.path)
    assert oct(os.stat(os.path.join(rules.path, "a.conf")).st_mode & 0o777) == "0o644"
    assert oct(os.stat(rules.path).st_mode & 0o777) == "0o755"


def test_unchanged_files_keep_their_inode(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    with rules.locked(5):
        rules.ensure_layout()
        rules.point_to(rules.stage({"keep.conf": (b"K", 0o644)}, set()))
        inode = os.stat(os.path.join(rules.path, "keep.conf")).st_ino
        rules.point_to(rules.stage({"new.conf": (b"N", 0o600)}, set()))
        assert os.stat(os.path.join(rules.path, "keep.conf")).st_ino == inode
        assert os.stat(os.path.join(rules.path, "new.conf")).st_mode & 0o777 == 0o600


def test_existing_plain_directory_is_adopted(tmp_path):
    plain = tmp_path / "antman.d"
    plain.mkdir()
    (plain / "hand.conf").write_text("x")
    rules = RulesDir(str(plain))
    with rules.locked(5):
        rules.ensure_layout()
    assert os.path.islink(str(plain)) and files(str(plain)) == {"hand.conf": b"x"}


def test_recover_switches_back_to_the_journalled_previous_generation(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    with rules.locked(5):
        rules.ensure_layout()
        old = rules.stage({"a.conf": (b"old", 0o644)}, set())
        rules.point_to(old)
        new = rules.stage({"a.conf": (b"new", 0o644)}, set())
        rules.write_journal(old, new)
        rules.point_to(new)
    with rules.locked(5):
        assert rules.recover()
        assert files(rules.path) == {"a.conf": b"old"}
        assert not os.path.exists(new) and not os.path.exists(rules.journal_path)
        assert not rules.recover()


def test_lock_is_exclusive(tmp_path):
    rules = RulesDir(str(tmp_path / "antman.d"))
    other = RulesDir(str(tmp_path / "antman.d"))
    with rules.locked(5):
        with pytest.raises(RulesDirError, match="another run"):
            with other.locked(0.2):
                pass


def test_unwritable_parent_is_a_clear_error(tmp_path):
    rules = RulesDir(str(tmp_path / "file" / "antman.d"))
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(RulesDirError, match="cannot use rules_dir"):
        with rules.locked(1):
            pass
