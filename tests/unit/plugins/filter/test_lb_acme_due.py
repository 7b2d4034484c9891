"""The role's ACME decision from its tasks' results (filter lb_acme_due)."""
import base64

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_acme_due import FilterModule, lb_acme_due

DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
RULE = {"name": "shop", "server_name": ["shop.example.com"], "issued": "/acme/issued/shop.pem",
        "certificate": "/acme/certs/shop.pem", "record": "/acme/issued/shop.directory"}
ISSUED = [{"item": RULE, "failed": False, "valid_at": {"renew": True}, "subject_alt_name": ["DNS:shop.example.com"]}]
FILES = [{"item": "/acme/issued/shop.pem", "stat": {"exists": True, "checksum": "c"}},
         {"item": "/acme/certs/shop.pem", "stat": {"exists": True, "checksum": "c"}}]


def record(text):
    return [{"item": RULE, "content": base64.b64encode(text.encode()).decode(), "encoding": "base64"}]


def test_registered():
    assert FilterModule().filters() == {"lb_acme_due": lb_acme_due}


def test_task_results_are_paired_by_rule_and_path():
    assert lb_acme_due([RULE], ISSUED, FILES, record(DIRECTORY + "\n"), DIRECTORY, 30) == []
    (due,) = lb_acme_due([RULE], ISSUED, FILES, record("https://acme-staging-v02.api.letsencrypt.org/directory\n"),
                         DIRECTORY, 30)
    assert due["name"] == "shop" and due["reason"].startswith("it was issued by https://acme-staging-v02")
    missing = [{"item": RULE, "failed": False, "msg": "file not found"}]
    (due,) = lb_acme_due([RULE], ISSUED, FILES, missing, DIRECTORY, 30)
    assert due["reason"] == "the ACME directory that issued it is not recorded"
    unread = [{"item": "/acme/issued/shop.pem", "stat": {"exists": False}}, FILES[1]]
    (due,) = lb_acme_due([RULE], ISSUED, unread, record(DIRECTORY), DIRECTORY, 30)
    assert due["reason"] == "the issued certificate is not the one served"


def test_results_of_other_tasks_are_refused():
    with pytest.raises(AnsibleFilterError, match="not those of the role's tasks"):
        lb_acme_due([RULE], [{"no": "item"}], FILES, [], DIRECTORY, 30)
