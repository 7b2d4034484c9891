"""Generated rules, written as one rule set through the real transaction, accepted by a real
``nginx -t``; then read back unchanged. Upstream addresses are IP literals or localhost, so they
resolve on any machine. HYPOTHESIS_PROFILE=nightly runs many more rule sets."""
import shutil
import tempfile

from hypothesis import given
from hypothesis import strategies as st

from harness import NginxInstance

from ansible_collections.antsle.antman.plugins.module_utils.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.store import read_snapshot
from ansible_collections.antsle.antman.tests.support.rule_strategies import RESOLVABLE_ADDRESS, budget, rule_pair

RULES_PER_SET = 40
# nginx builds a server-name hash for a port that several server blocks share; its default bucket
# (64 bytes here) only holds exact names of up to 46 characters. 512 holds any valid name (253).
HASH_BUCKETS = "    server_names_hash_bucket_size 512;\n"


def made_distinct(pairs):
    """Canonical rules that can live together: names made unique with their index, and server
    names that another rule already has on the same port replaced by one of the rule's own."""
    owned, rules = set(), []
    for index, (raw, _unused) in enumerate(pairs):
        rule = normalize_rule(dict(raw, name="r%d-%s" % (index, raw["name"][:58])))
        names = [name for name in rule["server_name"] if (name, rule["server_port"]) not in owned]
        rule["server_name"] = names or ["r%d.generated.test" % index]
        owned |= set((name, rule["server_port"]) for name in rule["server_name"])
        rules.append(rule)
    return rules


# Ports from a small set, so that many server blocks share each (as rules on port 80 do).
RULE_SETS = st.lists(rule_pair(address=RESOLVABLE_ADDRESS, max_upstreams=4).map(
    lambda pair: (dict(pair[0], server_port=pair[1]["server_port"] % 3 + 8080), pair[1])),
    min_size=RULES_PER_SET, max_size=RULES_PER_SET).map(made_distinct)


@budget(3, shrink=False)
@given(RULE_SETS)
def test_generated_rule_sets_pass_nginx_t_and_read_back_unchanged(rules):
    prefix = tempfile.mkdtemp(prefix="antman-generated-")
    try:
        nginx = NginxInstance(prefix)
        with open(nginx.conf) as handle:
            text = handle.read().replace("http {\n", "http {\n" + HASH_BUCKETS, 1)
        with open(nginx.conf, "w") as handle:
            handle.write(text)
        desired = dict((rule["name"], rule) for rule in rules)
        outcome = nginx.applier(reload=False).run(lambda snapshot: desired)  # nginx -t, or ApplyError
        assert len(outcome.changes) == len(rules) == RULES_PER_SET
        snapshot = read_snapshot(nginx.rules_dir)
        assert snapshot.rules() == desired and not snapshot.unmanaged
        assert all(managed.in_sync for managed in snapshot.managed.values())
    finally:
        shutil.rmtree(prefix)
