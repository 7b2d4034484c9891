"""No shell is ever started with user text: the collection's code is read (not run) and every
external command must be an argument list given to run_command (or the ``run`` callable that
wraps it); nothing may use a shell, os.system/popen/exec/spawn, subprocess directly, or eval. The
health agent's process script (roles/load_balancer/files/antman-health) holds its one runner."""
import ast
import os

import pytest

PLUGINS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plugins"))
SOURCES = sorted(os.path.join(directory, name) for directory, _unused, names in os.walk(PLUGINS)
                 for name in names if name.endswith(".py"))
FORBIDDEN_MODULES = {"subprocess", "commands", "pty", "popen2"}
FORBIDDEN_OS_CALLS = {"system", "popen", "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp",
                      "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
                      "spawnvpe", "posix_spawn", "posix_spawnp"}


# The health agent's process is not a module: it has no AnsibleModule.run_command, so its one runner
# (run_command there) calls subprocess.run with the argument list it is given, never a shell.
AGENT_SCRIPT = os.path.join(os.path.dirname(PLUGINS), "roles", "load_balancer", "files", "antman-health")


def parsed(path):
    with open(path) as handle:
        return ast.parse(handle.read(), path)


def list_names(function):
    """Names that every assignment in ``function`` binds to a list literal (also through tuple
    unpacking such as ``how, command = "signal", [...]``)."""
    bound, other = set(), set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts))
            for name, value in pairs:
                if isinstance(name, ast.Name):
                    (bound if isinstance(value, ast.List) else other).add(name.id)
    return bound - other


def keeps_a_runner(tree):
    """Whether a class here stores the command runner it is given as ``self.run`` (nginx.Nginx)."""
    return any(isinstance(node, ast.Attribute) and node.attr == "run" and isinstance(node.ctx, ast.Store)
               for node in ast.walk(tree))


def command_calls(tree):
    """(call, names bound to lists in its function) for every call of a command runner:
    ``run_command(...)`` anywhere, ``self.run(...)`` where ``self.run`` holds one."""
    runners = {"run_command", "run"} if keeps_a_runner(tree) else {"run_command"}
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        lists = list_names(function)
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in runners:
                    yield node, lists


def test_the_plugins_are_found():
    assert len(SOURCES) >= 15 and any(p.endswith(os.path.join("nginx", "control.py")) for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=[os.path.relpath(p, PLUGINS) for p in SOURCES])
def test_no_shell_no_subprocess_no_eval(path):
    tree = parsed(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_MODULES, ast.dump(node)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in FORBIDDEN_MODULES, node.module
        if isinstance(node, ast.keyword):
            assert node.arg not in ("shell", "use_unsafe_shell", "executable"), "%s:%d" % (path, node.value.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "os":
                assert func.attr not in FORBIDDEN_OS_CALLS, "%s:%d os.%s" % (path, node.lineno, func.attr)
            if isinstance(func, ast.Name):
                assert func.id not in ("eval", "exec", "compile"), "%s:%d" % (path, node.lineno)


@pytest.mark.parametrize("path", SOURCES, ids=[os.path.relpath(p, PLUGINS) for p in SOURCES])
def test_commands_are_argument_lists(path):
    for call, lists in command_calls(parsed(path)):
        assert call.args, "%s:%d: command given by keyword" % (path, call.lineno)
        command = call.args[0]
        assert isinstance(command, ast.List) or (isinstance(command, ast.Name) and command.id in lists), (
            "%s:%d: the command must be a list literal" % (path, call.lineno))


def test_the_command_check_sees_the_commands_nginx_runs():
    calls = list(command_calls(parsed(os.path.join(PLUGINS, "module_utils", "nginx", "control.py"))))
    assert len(calls) >= 4  # -V, -t, systemctl show, the reload command


def test_the_checks_catch_a_shell(tmp_path):
    bad = ast.parse("def f(module, name):\n    module.run_command('nginx -t ' + name, use_unsafe_shell=True)\n")
    ((call, lists),) = list(command_calls(bad))
    assert not isinstance(call.args[0], ast.List) and call.keywords[0].arg == "use_unsafe_shell"


def test_the_agent_s_one_subprocess_call_runs_the_argument_list_it_is_given():
    tree = parsed(AGENT_SCRIPT)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and getattr(node.func.value, "id", None) == "subprocess"]
    runner = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "run_command"][0]
    assert [c.func.attr for c in calls] == ["run"] and calls[0] in list(ast.walk(runner))
    assert calls[0].args[0].id == runner.args.args[0].arg  # its parameter, passed on as it is
    assert "shell" not in [k.arg for k in calls[0].keywords]
