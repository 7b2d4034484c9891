"""host/units.py: systemd units' state from one `systemctl show`, as systemd_service judges it."""
import os

from ansible_collections.antsle.antman.plugins.module_utils.host import units

SHOW = ("LoadState=loaded\nActiveState=active\nFragmentPath=%(nginx)s\nUnitFileState=enabled\n\n"
        "LoadState=loaded\nActiveState=inactive\nFragmentPath=%(agent)s\nUnitFileState=disabled\n\n"
        "LoadState=not-found\nActiveState=inactive\nFragmentPath=\nUnitFileState=\n")


def with_systemd(monkeypatch, running=True):
    real = os.path.isdir
    monkeypatch.setattr(units.os.path, "isdir", lambda path: running if path == "/run/systemd/system" else real(path))


def test_each_unit_in_the_order_asked_from_one_call(monkeypatch, tmp_path):
    nginx, agent = tmp_path / "nginx.service", tmp_path / "antman-health.service"
    nginx.write_text("")
    agent.write_text("")
    with_systemd(monkeypatch)
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, SHOW % {"nginx": nginx, "agent": agent}, ""
    states = units.unit_states(run, ["nginx", "antman-health", "missing"])
    assert len(calls) == 1
    assert calls[0] == ["systemctl", "show", "--property=LoadState,ActiveState,UnitFileState,FragmentPath",
                        "--", "nginx", "antman-health", "missing"]
    assert states == {"nginx": {"installed": True, "enabled": True, "active": True},
                      "antman-health": {"installed": True, "enabled": False, "active": False},
                      "missing": {"installed": False, "enabled": False, "active": False}}


def test_a_unit_file_gone_since_systemd_loaded_it_is_not_installed(monkeypatch, tmp_path):
    with_systemd(monkeypatch)
    text = SHOW % {"nginx": tmp_path / "gone", "agent": tmp_path / "gone too"}
    states = units.unit_states(lambda argv: (0, text, ""), ["nginx", "antman-health", "missing"])
    assert [state["installed"] for state in states.values()] == [False, False, False]
    assert states["nginx"]["enabled"] and states["nginx"]["active"]


def test_without_systemd_or_an_answer_nothing_is_enabled_or_running(monkeypatch):
    with_systemd(monkeypatch, running=False)
    none = {"installed": False, "enabled": False, "active": False}

    def never(argv):
        raise AssertionError("systemctl asked where systemd does not run")
    assert units.unit_states(never, ["nginx"]) == {"nginx": none}
    with_systemd(monkeypatch)
    assert units.unit_states(lambda argv: (1, "", "Failed to connect to bus"), ["nginx"]) == {"nginx": none}
    assert units.unit_states(lambda argv: (0, "LoadState=loaded\n", ""), ["nginx", "antman-health"]) == \
        {"nginx": none, "antman-health": none}
