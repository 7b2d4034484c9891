"""The ACME layout of model/tls.py: the directories every ACME file needs and where a challenge file goes."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import (
    acme_account_key, acme_challenge_file, acme_directories, acme_files)

RULE = {"name": "site", "tls": {"acme": True, "acme_dir": "/srv/acme"}}


def test_every_file_of_a_rule_lies_in_a_directory_made_for_it():
    made = dict(acme_directories(["/srv/acme"], "/etc/antman/acme"))
    for path in list(acme_files(RULE).values()) + [acme_account_key("/etc/antman/acme")]:
        assert path.rsplit("/", 1)[0] in made or path in made, path
    assert made["/srv/acme"] == "0711" and made["/srv/acme/private"] == "0700"
    assert made["/srv/acme/challenge/.well-known/acme-challenge"] == "0755"
    # The account's directory: its root and private/ only, unless a rule uses it too.
    account = [path for path in made if path.startswith("/etc/antman/acme")]
    assert account == ["/etc/antman/acme", "/etc/antman/acme/private"]


def test_a_directory_two_rules_share_is_listed_once_parents_first():
    listed = [path for path, _mode in acme_directories(["/srv/acme", "/srv/acme"], "/srv/acme")]
    assert len(listed) == len(set(listed)) == 7
    assert listed == sorted(listed, key=lambda path: path.count("/"))


def test_a_challenge_file_goes_under_the_rules_challenge_root():
    assert acme_challenge_file(acme_files(RULE)["challenge_root"], ".well-known/acme-challenge/abc_DEF-123") == \
        "/srv/acme/challenge/.well-known/acme-challenge/abc_DEF-123"


@pytest.mark.parametrize("resource", [
    ".well-known/acme-challenge/../../private/site.key", ".well-known/acme-challenge/", "other/abc",
    ".well-known/acme-challenge/a b", ".well-known/acme-challenge/a/b", None])
def test_a_resource_other_than_a_token_is_refused(resource):
    with pytest.raises(FieldError, match="is not an HTTP-01 challenge resource"):
        acme_challenge_file("/srv/acme/challenge", resource)
