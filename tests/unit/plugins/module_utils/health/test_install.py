"""The health agent's installation (health/install.py): the code it imports copied exactly, runnable
by a Python without Ansible or the collection, idempotent, stale files removed."""
import os
import subprocess
import sys

from ansible.module_utils.parsing import convert_bool

from ansible_collections.antsle.antman.plugins.module_utils.health import install
from ansible_collections.antsle.antman.plugins.module_utils.model import fields
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION

SCRIPT = os.path.join(COLLECTION, "roles", "load_balancer", "files", install.SCRIPT)


def script():
    with open(SCRIPT, "rb") as handle:
        return handle.read()


def test_the_agent_s_code_is_what_it_imports_and_nothing_that_needs_ansible():
    files = install.agent_sources()
    base = "ansible_collections/antsle/antman/plugins/module_utils/"
    assert base + "health/agent.py" in files and base + "host/transaction.py" in files
    assert base + "modules/common.py" not in files and base + "model/ha.py" not in files  # modules need Ansible
    assert all(path.startswith(base) or path.endswith("__init__.py") for path in files)
    assert all(files[path] == b"" for path in files if path.endswith("__init__.py"))


def test_installed_it_runs_on_a_python_without_site_packages(tmp_path):
    lib = str(tmp_path / "lib")
    assert install.SCRIPT in install.install(lib, script())
    # -S: no site-packages (no Ansible, no other copy of the collection), as on a bare host
    done = subprocess.run([sys.executable, "-S", "-B", os.path.join(lib, install.SCRIPT), "--help"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False,
                          env=dict((k, v) for k, v in os.environ.items() if k != "PYTHONPATH"))
    assert done.returncode == 0 and "--rules-dir" in done.stdout, done.stderr
    assert not [d for d, _s, _n in os.walk(lib) if d.endswith("__pycache__")]


def test_install_is_idempotent_and_puts_back_what_differs(tmp_path):
    lib = str(tmp_path / "lib")
    first = install.install(lib, script())
    assert install.install(lib, script()) == []
    agent = os.path.join(lib, "ansible_collections/antsle/antman/plugins/module_utils/health/agent.py")
    stale = os.path.join(lib, "ansible_collections/antsle/antman/plugins/module_utils/gone/old.py")
    os.makedirs(os.path.dirname(stale))
    with open(stale, "w") as handle:
        handle.write("x = 1\n")
    with open(agent, "a") as handle:
        handle.write("# edited\n")
    os.makedirs(os.path.join(os.path.dirname(agent), "__pycache__"))  # Python's cache is not ours: ignored
    expected = sorted(["ansible_collections/antsle/antman/plugins/module_utils/gone/old.py",
                       "ansible_collections/antsle/antman/plugins/module_utils/health/agent.py"])
    assert install.install(lib, script(), check_mode=True) == expected
    assert os.path.exists(stale)  # check mode touches nothing
    assert install.install(lib, script()) == expected
    assert not os.path.exists(os.path.dirname(stale)) and install.install(lib, script()) == []
    assert len(first) == len(install.agent_sources()) + 1


def test_uninstall(tmp_path):
    lib = str(tmp_path / "lib")
    assert install.uninstall(lib) is False
    install.install(lib, script())
    assert install.uninstall(lib, check_mode=True) is True and os.path.isdir(lib)
    assert install.uninstall(lib) is True and not os.path.exists(lib)


def test_the_agent_s_booleans_are_ansible_s():
    assert (fields.BOOLEANS_TRUE, fields.BOOLEANS_FALSE) == (convert_bool.BOOLEANS_TRUE, convert_bool.BOOLEANS_FALSE)
    source = install.agent_sources()["ansible_collections/antsle/antman/plugins/module_utils/model/fields.py"].decode()
    namespace = {}
    exec(compile(source.replace("from ansible.module_utils.parsing", "from not_ansible.parsing"), "fields", "exec"), namespace)
    assert (namespace["BOOLEANS_TRUE"], namespace["BOOLEANS_FALSE"]) == (convert_bool.BOOLEANS_TRUE, convert_bool.BOOLEANS_FALSE)


def test_running_pid_is_only_the_agent(tmp_path):
    pid_file = str(tmp_path / "agent.pid")
    assert install.running_pid(pid_file) is None
    with open(pid_file, "w") as handle:
        handle.write("%d\n" % os.getpid())  # alive, but not the agent
    assert install.running_pid(pid_file) is None
    assert install.stop(pid_file) is False and not os.path.exists(pid_file)
