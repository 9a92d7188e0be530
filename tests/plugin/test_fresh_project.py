"""A POS developer's project outside this repo: pip install the package, copy the example, pytest.

This proves what an editable install in our own venv cannot: that the built
package ships the plugin (its ``pytest11`` entry point), the simulator and its
data files, and that ``examples/test_my_pos.py`` passes as a stranger runs it.

The package is built and installed afresh from a copy of this checkout on every
run. Its dependencies (and pytest) live in a venv kept in the user's cache
directory, keyed by the Python version and the dependency list, and made under
a file lock, so that only the first run on a machine pays for downloading them;
``TERMINAL_TEST_VENV`` points elsewhere (a CI cache, say). That venv is shared by
every checkout on the machine, so installing this checkout's package and running
the example against it happen under a second lock: two suites running at once
(two branches, say) each test their own package, never the other's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from filelock import FileLock
from platformdirs import user_cache_dir

REPO = Path(__file__).resolve().parents[2]
_SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "src", "simulator")
_BUILD_TOOLS = ("setuptools>=68", "wheel")


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return [*project["dependencies"], "pytest>=8", *_BUILD_TOOLS]


def _venv_path() -> Path:
    deps = _dependencies()
    key = hashlib.sha256(f"{sys.version}\n{deps}".encode()).hexdigest()[:16]
    root = Path(os.environ.get("TERMINAL_TEST_VENV") or user_cache_dir("terminal-tests"))
    return root / f"plugin-venv-{key}"


@pytest.fixture(scope="session")
def dependency_venv() -> Path:
    deps = _dependencies()
    venv = _venv_path()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv.with_suffix(".lock")), timeout=600):
        ready = venv / "ready"
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            _pip(venv, "install", "--quiet", *deps)
            ready.write_text(venv.name)
    return venv


def _pip(venv: Path, *args: str) -> None:
    run = subprocess.run([str(_venv_python(venv)), "-m", "pip", *args],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST", "TERMINAL_", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_the_example_passes_in_a_fresh_project_with_the_package_pip_installed(
    dependency_venv, tmp_path
):
    # Held from this checkout's install to the end of its run (see the module's docstring).
    with FileLock(str(dependency_venv.parent / f"{dependency_venv.name}.in-use.lock"), timeout=900):
        _install_and_run_the_example(dependency_venv, tmp_path)


def _install_and_run_the_example(dependency_venv: Path, tmp_path: Path) -> None:
    source = tmp_path / "terminal-src"
    source.mkdir()
    for name in _SHIPPED:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    # Not editable, from the local path: what `pip install ./terminal` does for a user.
    _pip(dependency_venv, "install", "--quiet", "--force-reinstall", "--no-deps",
         "--no-build-isolation", str(source))
    shutil.rmtree(source)  # the installed copy must stand on its own

    project = tmp_path / "my-pos"
    (project / "tests").mkdir(parents=True)
    shutil.copy2(REPO / "examples" / "test_my_pos.py", project / "tests" / "test_my_pos.py")
    python = str(_venv_python(dependency_venv))
    where = subprocess.run(
        [python, "-c",
         "import terminal, simulator; print(terminal.__file__); print(simulator.__file__)"],
        cwd=project, capture_output=True, text=True, env=_clean_env(), check=True,
    ).stdout
    imported = [Path(name).resolve() for name in where.splitlines()]
    assert len(imported) == 2, where
    # By ancestry, not by text: a checkout at /tmp/x is not the parent of /tmp/xhome/venv.
    assert not any(path.is_relative_to(REPO) for path in imported), imported
    assert all(path.is_relative_to(dependency_venv.resolve()) for path in imported), imported

    run = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, capture_output=True, text=True, env=_clean_env(), timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "4 passed" in run.stdout
