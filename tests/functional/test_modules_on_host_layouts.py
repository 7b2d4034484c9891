"""The modules on nginx layouts the collection did not write (tests/support/host_layouts.py), each
run by a private nginx: what lb_host_info reads from each; every module on the hand-written layout
(Latin-1 comments, relative include paths, a missing optional include directory); rules checked
against the host's own servers before anything is touched; a configuration nginx already rejects."""
import json

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError, Transaction
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_host_facts, lb_host_info
from ansible_collections.antsle.antman.tests.support.harness import get, run_command, run_playbook
from ansible_collections.antsle.antman.tests.support.host_layouts import LayoutWorld


class InfoModule:
    """What lb_host_info's body uses of AnsibleModule."""

    def __init__(self, body=lb_host_info, **params):
        self.params = dict((name, spec.get("default")) for name, spec in body.argument_spec().items())
        self.params.update(params)
        self.check_mode = False

    @staticmethod
    def run_command(args):
        return run_command(args)


@pytest.fixture
def worlds():
    started = []

    def start(name):
        world = LayoutWorld(name).start()
        started.append(world)
        return world

    yield start
    for world in started:
        world.stop()


def host_info(world, **params):
    params = dict(dict(rules_dir=world.rules_dir, nginx_binary=world.binary, nginx_conf=world.conf), **params)
    return lb_host_info.run(InfoModule(**params))


def host_facts(world, **params):
    """The role's own question (lb_host_facts): which of ``ports`` get a catch-all server."""
    params = dict(dict(rules_dir=world.rules_dir, nginx_binary=world.binary, nginx_conf=world.conf), **params)
    return lb_host_facts.run(InfoModule(body=lb_host_facts, **params))


LAYOUT_FACTS = {
    # layout: (drop-in, included through, {logical port: (file, explicit, stays)})
    "debian": ("/etc/nginx/conf.d/zz-antman.conf", "/etc/nginx/nginx.conf",
               {80: ("/etc/nginx/sites-enabled/default", True, True)}),
    "rhel": ("/etc/nginx/conf.d/zz-antman.conf", "/etc/nginx/nginx.conf", {80: ("/etc/nginx/nginx.conf", True, True)}),
    "antman": ("/etc/nginx/virtualhosts/zz-antman.conf", "/etc/nginx/nginx.conf",
               {80: ("/etc/nginx/virtualhosts/my-balanced-page.local.conf", False, True),
                8000: ("/etc/nginx/virtualhosts/antlets.conf", True, True)}),
    "hand": ("/etc/nginx/antman.conf", None,
             {80: ("/etc/nginx/servers.conf", False, True), 8080: ("/etc/nginx/sites/shop.site", True, True)}),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_FACTS))
def test_lb_host_info_reads_where_each_layout_reads_files_and_its_default_servers(worlds, name):
    world = worlds(name)
    dropin, through, defaults = LAYOUT_FACTS[name]
    ports = [world.port(p) for p in (80, 8000, 8080, 9090)]
    facts = host_info(world)
    assert facts["dropin"]["path"] == world.path(dropin) and facts["dropin"]["auto"]
    assert facts["dropin"]["included"] == (through is not None)
    if through:
        assert facts["dropin"]["include"].startswith(world.path(through) + ":")
    got = dict((d["port"], (d["file"], d["explicit"], d["stays"])) for d in facts["default_servers"])
    assert got == dict((world.port(p), (world.path(f), e, s)) for p, (f, e, s) in defaults.items())
    assert host_facts(world, ports=ports)["catch_all_ports"] == sorted(set(ports) - set(world.port(p) for p in defaults))
    assert not facts["rules_included"]
    nginx = facts["nginx"]
    assert nginx["running"] and nginx["master_pid"] == world.master_pid() and not nginx["systemd"]
    assert nginx["pid_file"].startswith(world.prefix) and nginx["version"].count(".") == 2
    # Removing Debian's default site link (as the role does) leaves port 80 to the blog, read after conf.d.
    if name == "debian":
        facts = host_facts(world, ports=ports, remove_links=[world.path("/etc/nginx/sites-enabled/default")])
        blog = [d for d in facts["default_servers"] if d["port"] == world.port(80)][0]
        assert blog["file"] == world.path("/etc/nginx/sites-enabled/blog") and not blog["explicit"] and not blog["stays"]
        assert world.port(80) in facts["catch_all_ports"]


def test_lb_host_info_names_what_the_host_defines_and_sets(worlds):
    world = worlds("antman")
    facts = host_info(world)
    names = set((n["kind"], n["name"]) for n in facts["names"])
    assert names == {("log_format", "main"), ("zone", "ui_cache"), ("variable", "antlet_address"),
                     ("variable", "connection_upgrade"), ("upstream", "my-balanced-page")}
    assert facts["http_settings"]["client_max_body_size"]["args"] == ["200m"]
    assert world.port(80) in facts["host_ports"] and world.port(8000) in facts["host_ports"]
    hand = host_info(worlds("hand"))
    assert hand["http_settings"]["server_names_hash_bucket_size"]["args"] == ["128"]


def test_rules_are_checked_against_the_host_s_servers_before_anything_is_touched(worlds):
    """On antMan's layout: a rule on port 8000 (the host's default_server) by name is fine; one
    with TLS there and one taking the UI's name on port 80 are refused, naming the host's file,
    with every file as it was."""
    world = worlds("antman")
    world.include_rules_dir()
    transaction = Transaction(world.rules_dir, world.binary, world.conf, run_command, lock_timeout=30)

    def rule(name, port, **fields):
        return normalize_rule(dict(dict(name=name, server_name="%s.test" % name, server_port=world.port(port),
                                        upstreams=[{"address": world.antlets[110].address}]), **fields))

    files, answers = world.files(), world.answers()
    refused = [
        (rule("tls", 8000, tls={"certificate": "/etc/ssl/x.crt", "key": "/etc/ssl/x.key"}),
         "port %d is TLS in the rule but plain HTTP for the host's server in %s:6"
         % (world.port(8000), world.path("/etc/nginx/virtualhosts/antlets.conf"))),
        (rule("ui", 80, server_name="MyAntsle.local"),
         "server_name 'myantsle.local' on port %d is served by the host's server in %s:6"
         % (world.port(80), world.path("/etc/nginx/virtualhosts/ui.conf"))),
    ]
    for candidate, expected in refused:
        with pytest.raises(RuleError) as error:
            transaction.run(lambda have: {candidate["name"]: candidate})
        assert expected in str(error.value) and "rule '%s'" % candidate["name"] in str(error.value)
        assert world.files() == files and world.answers() == answers
    outcome = transaction.run(lambda have: {"beside": rule("beside", 8000)})
    assert outcome.changed and get(world.port(8000), "beside.test") == (200, "antlet110")
    assert world.answers() == answers


def test_every_module_on_a_hand_written_nginx_conf_with_latin1_and_relative_includes(worlds, tmp_path):
    """lb_host_info, lb_host_apply's base part (the drop-in beside nginx.conf and its one include line),
    lb_rule, lb_rules (merged, gathered, and parsed from the Latin-1 site file), lb_rule_info,
    through ansible-playbook as users run them; nginx.conf keeps every byte but gains one line."""
    world = worlds("hand")
    conf_before = open(world.conf, "rb").read()
    before = world.answers()
    dropin = world.path("/etc/nginx/antman.conf")
    play = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    antsle.antman.lb_host_info: &host {host}
    antsle.antman.__load_balancer.lb_host_apply: *host
    antsle.antman.lb_rule: *host
    antsle.antman.lb_rules: *host
    antsle.antman.lb_rule_info: *host
  tasks:
    - antsle.antman.lb_host_info:
      register: info
    - antsle.antman.__load_balancer.lb_host_apply:
        base:
          files: [{{path: "{{{{ info.dropin.path }}}}", content: "include {rules_dir}/*.conf;\\n"}}]
          includes: [{{path: "{{{{ info.dropin.path }}}}"}}]
      register: base
    - antsle.antman.lb_rule:
        name: shop2
        server_name: shop2.example.org
        server_port: {p9090}
        upstreams: [{{address: "{a110}"}}]
      register: rule
    - antsle.antman.lb_rules:
        config: [{{name: www2, server_name: www2.example.org, server_port: {p80}, upstreams: [{{address: "{a111}"}}]}}]
      register: merged
    - antsle.antman.lb_rule_info:
      register: listed
    - antsle.antman.lb_rules: {{state: gathered}}
      register: gathered
    - ansible.builtin.slurp: {{src: {site}}}
      register: site
    - antsle.antman.lb_rules:
        state: parsed
        running_config: "{{{{ site.content | b64decode(encoding='latin-1') }}}}"
      register: parsed
    - ansible.builtin.set_fact:
        result: {{info: "{{{{ info }}}}", base: "{{{{ base }}}}", rule: "{{{{ rule }}}}", merged: "{{{{ merged }}}}",
                 listed: "{{{{ listed }}}}", gathered: "{{{{ gathered }}}}", parsed: "{{{{ parsed }}}}"}}
""".format(host=json.dumps({"rules_dir": world.rules_dir, "nginx_conf": world.conf, "nginx_binary": world.binary}),
           p80=world.port(80), p9090=world.port(9090), a110=world.antlets[110].address,
           a111=world.antlets[111].address, rules_dir=world.rules_dir, site=world.path("/etc/nginx/sites/shop.site"))
    proc, result = run_playbook(play, tmp_path)
    assert result is not None and proc.returncode == 0, proc.stdout[-4000:]
    assert result["info"]["dropin"]["path"] == dropin and not result["info"]["dropin"]["included"]
    assert [c["path"] for c in result["base"]["base"]["changes"]] == [dropin, world.conf] and result["base"]["base"]["reloaded"]
    assert result["rule"]["changed"] and result["merged"]["changed"]
    assert [r["name"] for r in result["listed"]["rules"]] == ["shop2", "www2"] == [
        r["name"] for r in result["gathered"]["gathered"]]
    assert [r["name"] for r in result["parsed"]["parsed"]] == ["backend"]
    assert result["parsed"]["parsed"][0]["upstreams"][0]["address"] == world.ui.address
    conf_after = open(world.conf, "rb").read()
    added = b"    include %s;  # added by antsle.antman\n" % dropin.encode()
    assert conf_after == conf_before.replace(b"\n}\n", b"\n" + added + b"}\n") and b"\xe9crit" in conf_after
    assert world.answers() == before
    assert get(world.port(9090), "shop2.example.org") == (200, "antlet110")
    assert get(world.port(80), "www2.example.org") == (200, "antlet111")


def test_a_rules_directory_the_operator_includes_with_a_relative_path(worlds):
    """nginx.conf says ``include antman.d/*.conf;`` (relative to nginx.conf, as nginx reads it): the rule modules work."""
    world = worlds("hand")
    world.include_rules_dir(relative=True)
    before = world.answers()
    rule = normalize_rule({"name": "rel", "server_name": "rel.test", "server_port": world.port(9090),
                           "upstreams": [{"address": world.antlets[111].address}]})
    outcome = Transaction(world.rules_dir, world.binary, world.conf, run_command).run(lambda have: {"rel": rule})
    assert outcome.changed and outcome.reloaded and get(world.port(9090), "rel.test") == (200, "antlet111")
    assert world.answers() == before


def test_a_configuration_nginx_already_rejects_is_named_as_such_not_blamed_on_the_rules(worlds):
    world = worlds("antman")
    world.include_rules_dir()
    with open(world.path("/etc/nginx/virtualhosts/ui.conf"), "a") as handle:
        handle.write("gzip_of on;\n")
    files, answers = world.files(), world.answers()
    rule = normalize_rule({"name": "web", "server_name": "web.test", "server_port": world.port(9090),
                           "upstreams": [{"address": world.antlets[110].address}]})
    with pytest.raises(ApplyError) as error:
        Transaction(world.rules_dir, world.binary, world.conf, run_command).run(lambda have: {"web": rule})
    message = str(error.value)
    assert "invalid before" in message and 'unknown directive "gzip_of"' in message and "ui.conf" in message, message
    # The first change's rules directory, link and generation were put back to nothing, like every file.
    assert world.files() == files
    assert world.answers() == answers
