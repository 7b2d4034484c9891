"""lb_host_info on a fake host: what the host's own nginx is, read only."""
import os

from ansible_collections.antsle.antman.plugins.module_utils.host.features import has_ipv6
from ansible_collections.antsle.antman.plugins.modules import lb_host_info

# antMan's own layout in short: its http settings, virtualhosts/*.conf, a default_server on 8000.
NGINX_CONF = """user nginx nginx;
# configur\xe9 par antMan
events {}
http {
    client_max_body_size 200m;
    log_format main '$remote_addr';
    include %(root)s/virtualhosts/*.conf;
}
"""
VHOSTS = {
    "ui.conf": "map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
               "server { listen 80; server_name myantsle.local; location / { proxy_pass http://127.0.0.1:3000; } }\n",
    "antlets.conf": "server { listen 8000 default_server; server_name _; return 404; }\n",
}


def antman_host(host):
    os.mkdir(os.path.join(host.root, "virtualhosts"))
    for name, text in VHOSTS.items():
        with open(os.path.join(host.root, "virtualhosts", name), "w") as handle:
            handle.write(text)
    with open(host.conf, "wb") as handle:
        handle.write((NGINX_CONF % {"root": host.root}).encode("latin-1"))


def test_reads_the_layout_the_defaults_and_what_nginx_is(host, run_module):
    antman_host(host)
    before = sorted(os.listdir(host.root))
    failed, result = run_module(lb_host_info.main, host.params(), check_mode=True)
    assert not failed and not result["changed"] and sorted(os.listdir(host.root)) == before
    vhosts = os.path.join(host.root, "virtualhosts")
    assert result["dropin"] == {"path": os.path.join(vhosts, "zz-antman.conf"), "auto": True, "included": True,
                                "include": "%s:7" % host.conf, "includes_rules": True}
    assert result["rules_included_by"] == []
    assert result["http_includes"] == [{"pattern": os.path.join(vhosts, "*.conf"), "file": host.conf, "line": 7}]
    # Every port the host listens on, with no port to ask about.
    assert result["host_ports"] == [80, 8000]
    assert result["default_servers"] == [
        {"port": 80, "file": os.path.join(vhosts, "ui.conf"), "line": 2, "server_name": ["myantsle.local"],
         "explicit": False, "stays": True},
        {"port": 8000, "file": os.path.join(vhosts, "antlets.conf"), "line": 1, "server_name": ["_"],
         "explicit": True, "stays": True}]
    assert not result["rules_included"]
    assert result["servers"][1] == {"file": os.path.join(vhosts, "ui.conf"), "line": 2,
                                    "server_name": ["myantsle.local"], "listen": ["*:80"]}
    assert result["http_settings"] == {"client_max_body_size": {"args": ["200m"], "file": host.conf, "line": 5}}
    assert [(n["kind"], n["name"]) for n in result["names"]] == [
        ("log_format", "main"), ("variable", "connection_upgrade")]
    assert (result["nginx"]["user"], result["nginx"]["group"]) == ("nginx", "nginx")
    assert result["nginx"]["pid_file"] == os.path.join(host.root, "nginx.pid")  # compiled-in (the fake's -V)
    assert result["ipv6"] is has_ipv6()
    assert len(result["notes"]) == 3 and result["notes"][0].startswith("drop-in %s/zz-antman.conf: nginx reads" % vhosts)
    assert "catch_all_ports" not in result and "rule_problems" not in result


def test_refuses_to_take_a_foreign_file_for_the_drop_in(host, run_module):
    antman_host(host)
    with open(os.path.join(host.root, "virtualhosts", "zz-antman.conf"), "w") as handle:
        handle.write("# someone else's\n")
    failed, result = run_module(lb_host_info.main, host.params())
    assert failed and "zz-antman.conf is where the role's drop-in would go" in result["msg"]


def test_the_role_s_options_are_not_the_module_s(host, run_module):
    """ports, rules, catch_all, keep_unlisted and remove_links are the role's questions, asked with
    its own module (__load_balancer.lb_host_facts); a user of lb_host_info never sets them."""
    antman_host(host)
    for option, value in (("ports", [80]), ("rules", []), ("catch_all", True), ("keep_unlisted", True),
                          ("remove_links", [])):
        failed, result = run_module(lb_host_info.main, host.params(**{option: value}))
        assert failed and option in result["msg"], (option, result["msg"])


def test_a_rules_directory_the_host_includes_itself_is_not_included_again_by_the_drop_in(host, run_module):
    """The line lb_rule asks for (added by hand) includes the rules directory:
    the drop-in must not include it too (nginx would read every rule twice: duplicate upstream). The
    drop-in's own include, once written, does not count as the host's."""
    antman_host(host)
    text = (NGINX_CONF % {"root": host.root}).replace(
        "    include %s/virtualhosts/*.conf;\n" % host.root,
        "    include %s/virtualhosts/*.conf;\n    include %s/*.conf;  # added by antsle.antman\n" % (host.root, host.rules_dir))
    with open(host.conf, "wb") as handle:
        handle.write(text.encode("latin-1"))
    failed, result = run_module(lb_host_info.main, host.params())
    assert not failed and result["dropin"]["includes_rules"] is False and result["rules_included"]
    assert result["rules_included_by"] == [{"file": host.conf, "line": 8}]
    assert "the host's configuration includes the rules directory itself (%s:8)" % host.conf in " ".join(result["notes"])
    with open(host.conf, "wb") as handle:
        handle.write((NGINX_CONF % {"root": host.root}).encode("latin-1"))
    with open(os.path.join(host.root, "virtualhosts", "zz-antman.conf"), "w") as handle:
        handle.write("# antsle.antman.load_balancer\ninclude %s/*.conf;\n" % host.rules_dir)
    failed, result = run_module(lb_host_info.main, host.params())
    assert not failed and result["dropin"]["includes_rules"] is True and result["rules_included_by"] == []


def test_bad_options_are_named(host, run_module):
    failed, result = run_module(lb_host_info.main, host.params(dropin_path="conf.d/x.conf"))
    assert failed and result["problems"] == [
        'dropin_path: "conf.d/x.conf" is not an absolute path of letters, digits and . _ - + @ (without . or .. '
        'components), nor auto']
