"""Where the role writes an order's HTTP-01 challenge files (filter lb_acme_challenges)."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_acme_challenges import FilterModule, lb_acme_challenges

RULE = {"name": "site", "challenge_root": "/srv/acme/challenge"}  # an item of the plan's acme.rules


def challenge(resource, value="token.thumbprint"):
    return {"http-01": {"resource": resource, "resource_value": value}}


def test_registered():
    assert FilterModule().filters() == {"lb_acme_challenges": lb_acme_challenges}


def test_one_file_per_identifier_under_the_rules_challenge_root():
    data = {"b.test": challenge(".well-known/acme-challenge/tokB", "b"),
            "a.test": challenge(".well-known/acme-challenge/tokA", "a")}
    assert lb_acme_challenges(data, RULE) == [
        {"identifier": "a.test", "path": "/srv/acme/challenge/.well-known/acme-challenge/tokA", "content": "a"},
        {"identifier": "b.test", "path": "/srv/acme/challenge/.well-known/acme-challenge/tokB", "content": "b"}]
    assert lb_acme_challenges({}, RULE) == [] and lb_acme_challenges(None, RULE) == []


def test_a_ca_answer_naming_another_file_fails():
    with pytest.raises(AnsibleFilterError, match="the CA's answer for rule site: .* is not an HTTP-01 challenge"):
        lb_acme_challenges({"a.test": challenge(".well-known/acme-challenge/../../private/site.key")}, RULE)
    with pytest.raises(AnsibleFilterError, match="not the challenge_data of an HTTP-01 order"):
        lb_acme_challenges({"a.test": {"dns-01": {}}}, RULE)
