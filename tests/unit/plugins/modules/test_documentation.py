"""The DOCUMENTATION in the module files: the rule options generated from the schema are current
(``scripts/generate-schema-files.sh`` rewrites them), and every module documents exactly the
options its argument spec takes, with the same types, defaults and choices."""
import importlib
import os

import pytest
import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE_FIELDS, option_docs
from ansible_collections.antsle.antman.tests.support.schema_files import (
    ROOT, ROLE_SPECS, generated, module_documentation, module_files)

MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
FRAGMENTS = "ansible_collections.antsle.antman.plugins.doc_fragments."


def documentation(name):
    return yaml.safe_load(importlib.import_module("ansible_collections.antsle.antman.plugins.modules." + name).DOCUMENTATION)


def documented_options(name):
    """The module's options as ansible-doc shows them: its own and its fragments'."""
    doc = documentation(name)
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment", []):
        module, _dot, variable = fragment.replace("antsle.antman.", "").partition(".")
        text = getattr(importlib.import_module(FRAGMENTS + module).ModuleDocFragment, (variable or "documentation").upper())
        options.update(yaml.safe_load(text).get("options") or {})
    return options


def shape(options, key):
    """{option: (type, default, choices, elements, required, suboptions)} of docs (``suboptions``)
    or an argument spec (``options``)."""
    return dict((name, (spec.get("type", "str"), spec.get("default"), spec.get("choices"), spec.get("elements"),
                        bool(spec.get("required")), shape(spec.get(key) or {}, key)))
                for name, spec in options.items())


def test_generated_documentation_is_current():
    stale = [path for path, text in generated().items() if path != ROLE_SPECS
             and open(os.path.join(ROOT, path)).read() != text]
    assert not stale, "stale: run scripts/generate-schema-files.sh (%s)" % ", ".join(stale)


def test_the_modules_that_take_rule_fields_show_them_in_their_file():
    assert module_files() == ["plugins/modules/lb_rule.py", "plugins/modules/lb_rules.py"]
    assert documentation("lb_rule")["options"]["read_timeout"] == option_docs(RULE_FIELDS)["read_timeout"]
    config = documentation("lb_rules")["options"]["config"]["suboptions"]
    assert list(config) == [field.name for field in RULE_FIELDS]
    assert "O(config[].fail_timeout)" in " ".join(config["max_fails"]["description"])


def test_a_changed_field_makes_the_committed_copy_stale():
    with open(os.path.join(ROOT, "plugins", "modules", "lb_rule.py")) as handle:
        text = handle.read()
    assert module_documentation(text) == text
    edited = text.replace("      - Relative share of requests", "      - Share of requests", 1)
    assert edited != text and module_documentation(edited) == text
    with pytest.raises(ValueError, match="unknown generated block 'rules'"):
        module_documentation("  # BEGIN schema rules\n  # END schema rules\n")


@pytest.mark.parametrize("name", MODULES)
def test_every_module_documents_its_argument_spec(name):
    body = importlib.import_module("ansible_collections.antsle.antman.plugins.module_utils.modules." + name)
    assert shape(documented_options(name), "suboptions") == shape(body.argument_spec(), "options")
