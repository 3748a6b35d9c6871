"""The C extensions under AddressSanitizer and UndefinedBehaviorSanitizer, for the tests that run them so.

Owns: building an instrumented copy of one of the package's C files (:func:`build`: gcc
``-fsanitize=address,undefined``, into the test's ``tmp_path``; the test is skipped, saying
why, where gcc, the Python headers or the sanitizer runtimes are missing), running a driver
script in a subprocess that has the runtimes preloaded (:func:`run`: the interpreter itself
is not instrumented, so ``LD_PRELOAD`` must bring them in first; ``PYTHONMALLOC=malloc`` so
that every object -- each bytes buffer the reader scans -- is its own malloc block with
redzones around it, not a slice of a pymalloc arena where a stray read goes unseen), and
checking that the run was clean (:func:`assert_clean`). On the driver's side,
:func:`load_as` loads the instrumented build under the module's real name, so that the
package's own import of it finds that one.

Does not own: what is driven (``tests/dump/test_native_sanitized.py``,
``tests/phase6/test_compact_sanitized.py``: each test file is also its own driver), the
normal build (setup.py).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CFLAGS = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined",
          "-shared", "-fPIC"]
FINDINGS = ("ERROR: AddressSanitizer", "runtime error:")


def runtimes() -> list[str]:
    """The ASan and UBSan runtime libraries gcc links against (skips the test where there are none)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: the sanitizer builds need it")
    found = []
    for lib in ("libasan.so", "libubsan.so"):
        out = subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True, text=True, check=False)
        path = out.stdout.strip()
        # gcc prints the bare name back when it does not have the library
        if out.returncode != 0 or not os.path.isabs(path) or not os.path.exists(path):
            pytest.skip(f"gcc has no {lib} (install libasan / libubsan, e.g. the gcc package's sanitizer runtimes)")
        found.append(os.path.realpath(path))
    return found


def build(source: str, module: str, tmp_path: Path) -> Path:
    """``source`` (relative to the repository) compiled with the sanitizers, as the extension
    ``module`` (its last dotted part is the file's stem, which the loader needs) in ``tmp_path``."""
    runtimes()
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        pytest.skip(f"no Python.h in {include}: the Python headers are needed to build the extension")
    out = tmp_path / (module.rpartition(".")[2] + importlib.machinery.EXTENSION_SUFFIXES[0])
    cmd = ["gcc", *CFLAGS, f"-I{include}", str(ROOT / source), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 and "cannot find" in done.stderr and "san" in done.stderr:
        pytest.skip(f"gcc cannot link with -fsanitize=address here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr}"
    return out


def run(driver: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python driver args...`` with the sanitizer runtimes preloaded; ``tests/`` on the path."""
    env = dict(os.environ)
    env.update(
        LD_PRELOAD=":".join(runtimes()),
        # CPython does not free everything at exit, by design: leaks are not what is checked
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=97",
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98",
        PYTHONMALLOC="malloc",
        PYTHONPATH=os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        CHATMIGRATE_PURE_PYTHON="0",
        PYTHONFAULTHANDLER="1",
    )
    return subprocess.run([sys.executable, str(driver), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    """The driver exited 0 and no sanitizer reported anything."""
    found = [f for f in FINDINGS if f in done.stderr]
    assert done.returncode == 0 and not found, (
        f"exit {done.returncode}, sanitizer findings {found}\n--- stdout\n{done.stdout[-3000:]}\n"
        f"--- stderr\n{done.stderr[-12000:]}"
    )


def load_as(name: str, path: str) -> ModuleType:
    """In the driver: load the extension at ``path`` as the module ``name`` (before its package
    is imported, so that the package's ``from . import <it>`` gets this one)."""
    assert name not in sys.modules, f"{name} was imported before the sanitized build was loaded"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
