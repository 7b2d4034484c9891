"""Following nginx's access log (health/log_follower.py): from its end at the start, complete lines
only (a half-written one waits for its end), in bounded blocks; logrotate's create (the renamed
file read to its end, what nginx wrote there before reopening included, then the new one from its
start) and copytruncate (from 0); a missing file counts nothing and is read from its start once it
appears; an overlong line is skipped."""
import os

from ansible_collections.antsle.antman.plugins.module_utils.health.log_follower import MAX_LINE, RECHECK, LogFollower


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def later(self):
        self.now += RECHECK + 0.01


def append(path, data):
    with open(path, "ab") as handle:
        handle.write(data)


def read(follower, limit=1 << 20):
    return b"".join(follower.blocks(limit))


def started(tmp_path, before=b"old 1\nold 2\n"):
    path = str(tmp_path / "access.log")
    append(path, before)
    clock = Clock()
    return path, clock, LogFollower(path, clock).start()


def test_it_starts_at_the_end_and_reads_what_comes_after(tmp_path):
    path, _clock, follower = started(tmp_path)
    assert read(follower) == b""
    append(path, b"new 1\nnew 2\n")
    assert read(follower) == b"new 1\nnew 2\n"
    assert read(follower) == b""
    follower.close()


def test_a_half_written_line_waits_for_its_end(tmp_path):
    path, _clock, follower = started(tmp_path)
    append(path, b"one\ntw")
    assert read(follower) == b"one\n"
    append(path, b"o\nthr")
    assert read(follower) == b"two\n"
    append(path, b"ee\n")
    assert read(follower) == b"three\n"
    follower.close()


def test_blocks_are_bounded_and_hold_complete_lines(tmp_path):
    path, _clock, follower = started(tmp_path, b"")
    append(path, b"".join(b"line %06d\n" % i for i in range(100000)))  # 1.2 MB
    first = b"".join(follower.blocks(65536))
    assert 0 < len(first) <= 65536 and first.endswith(b"\n")
    assert not follower.at_end()
    rest = read(follower, 1 << 24)
    assert (first + rest).count(b"\n") == 100000
    assert follower.at_end()
    follower.close()


def test_logrotate_create_finishes_the_old_file_then_reads_the_new_one(tmp_path):
    path, clock, follower = started(tmp_path)
    append(path, b"a\n")
    assert read(follower) == b"a\n"
    os.rename(path, path + ".1")
    append(path + ".1", b"b\n")  # nginx writes on until it reopens its logs
    clock.later()
    assert read(follower) == b"b\n"
    append(path + ".1", b"c\n")
    append(path, b"d\n")  # nginx reopened: the new file
    clock.later()
    assert read(follower) == b"c\nd\n"  # the old file to its end, RECHECK s after the switch was seen, then the new one
    assert follower.reopens == 1
    append(path + ".1", b"lost\n")
    append(path, b"e\n")
    assert read(follower) == b"e\n"
    follower.close()


def test_copytruncate_reads_the_emptied_file_from_its_start(tmp_path):
    path, clock, follower = started(tmp_path)
    append(path, b"a\nb\n")
    assert read(follower) == b"a\nb\n"
    with open(path, "r+b") as handle:
        handle.truncate(0)
    append(path, b"c\n")
    clock.later()
    assert read(follower) == b"c\n"
    assert follower.reopens == 1
    follower.close()


def test_a_missing_file_counts_nothing_and_is_read_from_its_start_once_it_appears(tmp_path):
    path = str(tmp_path / "access.log")
    clock = Clock()
    follower = LogFollower(path, clock).start()
    assert follower.problem and read(follower) == b""
    append(path, b"first\n")
    assert read(follower) == b""  # looked for again only after RECHECK s
    clock.later()
    assert read(follower) == b"first\n"
    os.unlink(path)
    clock.later()
    assert read(follower) == b""
    clock.later()
    assert read(follower) == b"" and follower.fd is None
    append(path, b"again\n")
    clock.later()
    assert read(follower) == b"again\n"
    follower.close()


def test_an_overlong_line_is_skipped_and_the_next_ones_read(tmp_path):
    path, _clock, follower = started(tmp_path, b"")
    append(path, b"x" * (MAX_LINE + 10))
    assert read(follower) == b""
    append(path, b"x" * 100 + b"\nnext\n")
    assert read(follower) == b"next\n"
    assert follower.skipped == 1
    follower.close()


def test_a_directory_is_no_log(tmp_path):
    follower = LogFollower(str(tmp_path), Clock()).start()
    assert follower.fd is None and follower.problem == "not a regular file"
    assert read(follower) == b""
