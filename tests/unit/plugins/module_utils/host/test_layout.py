"""The host's own nginx and how the collection fits into it: the drop-in's place, default servers
per port, notes, and rules checked against the host's servers."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.layout import HostLayout, LayoutError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import ConfScan

DEBIANISH = "events {}\nhttp {\n    include %(root)s/conf.d/*.conf;\n    include %(root)s/sites-enabled/*;\n}\n"


def host(root, conf, files=None, removed=(), rules_dir=None):
    """A HostLayout of ``conf`` (text, %(root)s replaced) and ``files`` {relative path: text}."""
    root = str(root)
    for relative, text in (files or {}).items():
        path = os.path.join(root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text % {"root": root} if "%(root)s" in text else text)
    with open(os.path.join(root, "nginx.conf"), "w") as handle:
        handle.write(conf % {"root": root})
    return HostLayout(ConfScan(os.path.join(root, "nginx.conf")), rules_dir or os.path.join(root, "antman.d"),
                      [os.path.join(root, r) for r in removed])


def rule(name, port=80, **fields):
    return normalize_rule(dict(dict(name=name, server_name="%s.test" % name, server_port=port,
                                    upstreams=[{"address": "10.0.0.1"}]), **fields))


def test_the_drop_in_goes_to_the_first_directory_http_includes_with_a_glob(tmp_path):
    layout = host(tmp_path, DEBIANISH, {"conf.d/.keep": "", "sites-enabled/default": "server { listen 80 default_server; }\n"})
    dropin = layout.dropin()
    assert dropin.path == str(tmp_path / "conf.d" / "zz-antman.conf") and dropin.auto and dropin.included
    assert dropin.site.where == "%s:3" % (tmp_path / "nginx.conf") and dropin.position == 0


def test_missing_directories_globs_that_do_not_match_and_the_rules_directory_are_skipped(tmp_path):
    conf = ("events {}\nhttp {\n    include %(root)s/optional.d/*.conf;\n    include %(root)s/antman.d/*.conf;\n"
            "    include %(root)s/sites/*.site;\n    include %(root)s/vhosts/*.conf;\n}\n")
    layout = host(tmp_path, conf, {"antman.d/.keep": "", "sites/a.site": "", "vhosts/.keep": ""})
    assert layout.dropin().path == str(tmp_path / "vhosts" / "zz-antman.conf")


def test_without_such_a_glob_the_drop_in_goes_beside_nginx_conf_with_an_include_line_after_the_host_s_servers(tmp_path):
    conf = "events {}\nhttp {\n    include servers.conf;\n    server { listen 81; }\n}\n"
    layout = host(tmp_path, conf, {"servers.conf": "server { listen 80; }\n"})
    dropin = layout.dropin()
    assert dropin.path == str(tmp_path / "antman.conf") and not dropin.included and dropin.position == 2


def test_zz_sorts_after_the_host_s_files_so_their_implicit_defaults_stay(tmp_path):
    conf = "events {}\nhttp {\n    include %(root)s/vhosts/*.conf;\n}\n"
    layout = host(tmp_path, conf, {"vhosts/ui.conf": "server { listen 80; server_name ui; }\n",
                                   "vhosts/zzz-late.conf": "server { listen 8080; server_name late; }\n"})
    dropin = layout.dropin()
    assert dropin.position == 1  # after ui.conf, before zzz-late.conf
    (ui, late) = layout.port_defaults([80, 8080], dropin.position)
    assert (ui.port, ui.explicit, ui.stays) == (80, False, True)
    assert (late.port, late.explicit, late.stays) == (8080, False, False)


def test_a_drop_in_an_older_release_wrote_as_antman_conf_is_kept_and_a_foreign_file_is_never_taken(tmp_path):
    conf = "events {}\nhttp {\n    include %(root)s/conf.d/*.conf;\n}\n"
    layout = host(tmp_path, conf, {"conf.d/antman.conf": "# Ansible managed\n# antsle.antman.load_balancer: http-level\n"})
    assert layout.dropin().path == str(tmp_path / "conf.d" / "antman.conf")
    other = tmp_path / "other"
    other.mkdir()
    layout = host(other, conf, {"conf.d/antman.conf": "# another tool's antman.conf\n"})
    assert layout.dropin().path == str(other / "conf.d" / "zz-antman.conf")  # not the other tool's file
    (other / "conf.d" / "zz-antman.conf").write_text("server { listen 80; }\n")
    with pytest.raises(LayoutError, match="zz-antman.conf is where the role's drop-in would go, but the collection did not"):
        host(other, conf).dropin()


def test_an_explicit_path_wins_included_or_not(tmp_path):
    layout = host(tmp_path, DEBIANISH, {"conf.d/.keep": "", "sites-enabled/.keep": ""})
    mine = layout.dropin(str(tmp_path / "sites-enabled" / "lb.conf"))
    assert not mine.auto and mine.included and mine.site.line == 4
    elsewhere = layout.dropin("/opt/lb/lb.conf")
    assert not elsewhere.included and elsewhere.position == 0


def test_explicit_default_servers_stay_and_servers_in_removed_links_or_collection_files_do_not_count(tmp_path):
    files = {"conf.d/zz-antman.conf": "# antsle.antman.load_balancer\nserver { listen 9090 default_server; }\n",
             "sites-enabled/default": "server { listen 80 default_server; }\n",
             "sites-enabled/blog": "server { listen 80; listen 443 ssl default_server; server_name blog.example; }\n"}
    layout = host(tmp_path, DEBIANISH, files)
    dropin = layout.dropin()
    defaults = dict((d.port, d) for d in layout.port_defaults([80, 443, 9090], dropin.position))
    assert sorted(defaults) == [80, 443]  # 9090's default_server is the collection's own
    assert defaults[80].server.path.endswith("default") and defaults[80].explicit and defaults[80].stays
    assert defaults[443].server.path.endswith("blog") and defaults[443].explicit
    without = host(tmp_path, DEBIANISH, removed=["sites-enabled/default"])
    (blog, tls) = without.port_defaults([80, 443], without.dropin().position)
    assert (blog.port, blog.explicit, blog.stays) == (80, False, False)  # sites-enabled is read after conf.d


def test_notes_say_once_per_port_what_stays_and_what_changes(tmp_path):
    files = {"conf.d/.keep": "", "sites-enabled/a": "server { listen 8000 default_server; server_name _; }\n",
             "sites-enabled/b": "server { listen 80; server_name b.example; }\nserver { listen 127.0.0.1:81; }\n"}
    layout = host(tmp_path, DEBIANISH, files)
    ports = [80, 81, 8000, 9090]
    notes = layout.notes(ports, layout.port_defaults(ports, layout.dropin().position))
    assert len(notes) == 4
    assert notes[0].startswith("port 80: the host's server in %s:1 (server_name b.example) was nginx's default only "
                               "because nginx read it first" % (tmp_path / "sites-enabled" / "b"))
    assert "the catch-all server now answers names no server has" in notes[0]
    assert notes[1].startswith("port 81: the host's server in")  # read after, no default_server
    assert notes[2].startswith("port 8000: the host's own default_server in %s:1 (server_name _) stays"
                               % (tmp_path / "sites-enabled" / "a"))
    assert notes[3] == ("port 81: the host's server in %s:2 listens on 127.0.0.1:81 only; requests to that address "
                        "reach the host's servers there, never a rule" % (tmp_path / "sites-enabled" / "b"))


HOST_SERVERS = """events {}
http {
    upstream antman_Web { server 10.0.0.1; }
    proxy_cache_path /tmp/c keys_zone=antman_cache:1m;
    server { listen 80; server_name exact.example *.wild.example www.trailing.*; }
    server { listen 80; server_name ~^(?<antlet>[a-z]+)[0-9]+\\.local$ "~*^UPPER\\.example$" "~(?!bad"; }
    server { listen 443 ssl; server_name secure.example; }
    server { listen 2222; server_name ssh; }
}
"""


@pytest.mark.parametrize("server_name, found", [
    ("exact.example", "already has server_name exact.example"),
    ("a.wild.example", "answers it with server_name *.wild.example"),
    ("www.trailing.org", "answers it with server_name www.trailing.*"),
    ("myantsle102.local", "answers it with server_name ~^(?<antlet>[a-z]+)[0-9]+\\.local$"),
    ("upper.example", "answers it with server_name ~*^upper\\.example$"),
    ("*.wild.example", "already has server_name *.wild.example"),
    ("other.example", None),
    ("*.exact.example", None),  # the host's exact name still wins for itself
    ("102.local", None),
])
def test_a_rule_never_takes_a_name_a_host_server_answers_on_its_port(tmp_path, server_name, found):
    layout = host(tmp_path, HOST_SERVERS)
    problems = layout.rule_problems([rule("r", 80, server_name=server_name)])
    if found is None:
        assert problems == []
    else:
        (problem,) = problems
        assert problem == ("rule 'r': server_name '%s' on port 80 is served by the host's server in %s:%d (which %s); "
                           "a rule would take it over" % (server_name, tmp_path / "nginx.conf",
                                                          5 if "antlet" not in found and "upper" not in found else 6,
                                                          found))
    assert layout.rule_problems([rule("r", 8080, server_name=server_name)]) == []  # another port: no one's name


def test_tls_tcp_ports_upstream_and_zone_names_and_only_changing_rules_are_checked(tmp_path):
    layout = host(tmp_path, HOST_SERVERS)
    conf = tmp_path / "nginx.conf"
    tls = {"certificate": "/etc/ssl/a.crt", "key": "/etc/ssl/a.key"}
    assert layout.rule_problems([rule("plain", 443)]) == [
        "rule 'plain': port 443 is plain HTTP in the rule but TLS for the host's server in %s:7; nginx has one ssl "
        "setting per port" % conf]
    assert layout.rule_problems([rule("secure", 80, tls=tls, server_port=80)])[0].startswith(
        "rule 'secure': port 80 is TLS in the rule but plain HTTP for the host's server in %s:5" % conf)
    assert layout.rule_problems([rule("redirect", 8443, tls=tls, redirect_http=True)]) == []
    (taken,) = layout.rule_problems([rule("redirect", 8443, tls=tls, redirect_http=True, server_name="exact.example")])
    assert taken.startswith("rule 'redirect': server_name 'exact.example' on port 80 is served by")  # its port-80 server
    assert layout.rule_problems([rule("ok", 443, tls=tls)]) == []
    tcp = normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.0.0.1:22"}]})
    assert layout.rule_problems([tcp]) == ["rule 'ssh': tcp port 2222 is used by the host's http server in %s:8" % conf]
    assert layout.rule_problems([rule("web", 8080)]) == [
        "rule 'web': its nginx upstream antman_web is already defined by the host in %s:3" % conf]
    assert layout.rule_problems([rule("cache", 8080)]) == [
        "rule 'cache': its nginx zone antman_cache is already defined by the host in %s:4" % conf]
    assert layout.rule_problems([rule("web", 8080), rule("plain", 443)], changing={"other"}) == []


def test_ports_without_a_default_server_outside_the_rules_are_named_with_the_rule_that_answers_there(tmp_path):
    """A host whose nginx only includes the rules (module-only): a port no server outside the rules
    directory is the default of gets a note naming the rule nginx reads first there; the role's
    catch-all (default_server, in a file the collection wrote) or a host server read before the rules
    is a default; ports the rules already had before the change are not named again."""
    conf = ("events {}\nhttp {\n    server { listen 8000; server_name ui; }\n    include %(root)s/antman.d/*.conf;\n"
            "    include %(root)s/conf.d/*.conf;\n}\n")
    dropin = "# antsle.antman.load_balancer\nserver { listen 8443 default_server; return 421; }\n"
    layout = host(tmp_path, conf, {"conf.d/zz-antman.conf": dropin, "conf.d/late.conf": "server { listen 9000; }\n"})
    assert layout.ports_without_default([80, 8000, 8443, 9000]) == [80, 9000]
    rules = [rule("web"), rule("api"), rule("ui2", 8000), rule("tls", 8443), rule("late", 9000)]
    notes = layout.catch_all_notes(rules, before={})
    assert [note.split(":")[0] for note in notes] == ["port 80 has no default server", "port 9000 has no default server"]
    assert "with rule 'api' (the first it reads on that port)" in notes[0] and "'listen 80 default_server;'" in notes[0]
    before = dict((r["name"], r) for r in rules)
    assert layout.catch_all_notes(rules, before) == []
    moved = [rule("web", 9100)] + rules[1:]
    assert [note.split(":")[0] for note in layout.catch_all_notes(moved, before)] == ["port 9100 has no default server"]
