"""When an ACME certificate is due, and why (model/acme.py)."""
from ansible_collections.antsle.antman.plugins.module_utils.model.acme import due_certificates, due_reason

PROD = "https://acme-v02.api.letsencrypt.org/directory"
STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
RULE = {"name": "shop", "server_name": ["shop.example.com", "www.shop.example.com"],
        "issued": "/acme/issued/shop.pem", "certificate": "/acme/certs/shop.pem", "record": "/acme/issued/shop.directory"}
ISSUED = {"failed": False, "valid_at": {"renew": True}, "subject_alt_name": ["DNS:www.shop.example.com", "DNS:Shop.example.com"]}


def reason(info=None, served="a", recorded=PROD + "\n", directory=PROD, rule=None):
    return due_reason(rule or RULE, ISSUED if info is None else info, "a", served, recorded, directory, 30)


def test_a_certificate_that_matches_the_rule_and_the_directory_is_not_due():
    assert reason() is None


def test_none_issued_expiring_or_not_served():
    assert reason({"failed": False, "msg": "no such file"}) == "no certificate was issued yet"
    assert reason({"failed": True}) == "no certificate was issued yet"
    assert reason(dict(ISSUED, valid_at={"renew": False})) == "fewer than 30 days of validity remain"
    assert reason(served="b") == "the issued certificate is not the one served"


def test_a_name_added_to_the_rule_or_removed_from_it_makes_it_due():
    added = dict(RULE, server_name=RULE["server_name"] + ["api.shop.example.com"])
    assert reason(rule=added) == ("its names (shop.example.com, www.shop.example.com) are not the rule's "
                                  "(api.shop.example.com, shop.example.com, www.shop.example.com)")
    assert reason(rule=dict(RULE, server_name=["shop.example.com"])).startswith("its names (")
    ip_only = dict(ISSUED, subject_alt_name=["IP:10.0.0.1"])
    assert reason(ip_only).startswith("its names (none) are not the rule's")


def test_another_acme_directory_or_none_recorded_makes_it_due():
    assert reason(recorded=STAGING + "\n") == "it was issued by %s, not by %s" % (STAGING, PROD)
    assert reason(recorded=None) == "the ACME directory that issued it is not recorded"


def test_due_certificates_keeps_the_rule_and_adds_the_reason():
    other = dict(RULE, name="blog", server_name=["blog.example.com"], issued="/acme/issued/blog.pem",
                 certificate="/acme/certs/blog.pem")
    checksums = {"/acme/issued/shop.pem": "a", "/acme/certs/shop.pem": "a"}
    due = due_certificates([RULE, other], {"shop": ISSUED}, checksums, {"shop": STAGING}, PROD, 30)
    assert [(item["name"], item["reason"]) for item in due] == [
        ("shop", "it was issued by %s, not by %s" % (STAGING, PROD)), ("blog", "no certificate was issued yet")]
    assert due[0]["certificate"] == RULE["certificate"]
