"""A path's state, read and written in one step."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    ABSENT, FILE, LINK, FileState, HostFileError, read_state, temporary_path, write_state)


def test_a_file_a_link_and_nothing_are_read_and_written_back(tmp_path):
    path, link = str(tmp_path / "a.conf"), str(tmp_path / "link")
    write_state(FileState(path, FILE, b"x \xe9\n", 0o640))
    write_state(FileState(link, LINK, target="/usr/share/target"))
    state = read_state(path)
    assert (state.kind, state.data, oct(state.mode), state.uid) == (FILE, b"x \xe9\n", "0o640", os.getuid())
    assert read_state(link).target == "/usr/share/target" and read_state(link).same_as(FileState(link, LINK, target="/usr/share/target"))
    write_state(FileState(path, ABSENT))
    assert read_state(path).kind == ABSENT and not os.path.lexists(temporary_path(path))
    assert sorted(os.listdir(str(tmp_path))) == ["link"]


def test_a_directory_that_is_not_there_is_named(tmp_path):
    missing = str(tmp_path / "nope" / "x.conf")
    with pytest.raises(HostFileError, match="directory .*nope does not exist"):
        write_state(FileState(missing, FILE, b"x", 0o644))


def test_a_directory_is_never_read_as_a_file(tmp_path):
    with pytest.raises(HostFileError, match="neither a regular file nor a symbolic link"):
        read_state(str(tmp_path))
