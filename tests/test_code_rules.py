"""The rules that check themselves, run by the one test command.

Each tool runs as a subprocess of this interpreter, from the repository root, with its
configuration in ``pyproject.toml``; a failure prints the tool's own report.

- ``ruff check`` over ``src/``, ``tests/`` and ``bench/``: pycodestyle, pyflakes, import
  sorting, bugbear and pyupgrade;
- ``mypy`` in strict mode over ``src/``;
- ``lint-imports``: the import contracts (no cycles, the layers, what each package must not
  import).

Two rules no tool checks are checked here: every ``# type: ignore[code]`` says why on its
line, and no database session or ``Database`` is typed ``Any``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "chargebook"
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _run(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )


def test_ruff() -> None:
    _run("-m", "ruff", "check", "--no-cache", "src", "tests", "bench")


def test_mypy_strict() -> None:
    _run("-m", "mypy")


def test_import_contracts() -> None:
    _run("-c", LINT_IMPORTS, "--no-cache")


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def unexplained_ignores(text: str) -> list[int]:
    """Line numbers of ``# type: ignore`` comments without a code, or without a reason after
    it in a comment of its own (``# type: ignore[code]  # why``)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason = match["rest"].strip().lstrip("#").strip()
        if not match["codes"] or not match["rest"].strip().startswith("#") or not reason:
            found.append(number)
    return found


def test_the_ignore_finder_sees_a_bare_ignore() -> None:
    assert unexplained_ignores("x = f()  # type: ignore[no-any-return]\n") == [1]
    assert unexplained_ignores("x = f()  # type: ignore\n") == [1]
    assert unexplained_ignores("x = f()  # type: ignore  # why\n") == [1]
    assert unexplained_ignores("x = f()  # type: ignore[misc]  # a dynamic enum\n") == []


def test_every_type_ignore_says_why() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources()
        for number in unexplained_ignores(path.read_text())
    ]
    assert bare == [], "say why beside each `# type: ignore[code]`:\n" + "\n".join(bare)


SESSION_NAMES = {"session", "db", "database", "conn", "connection", "uow"}


def any_typed_sessions(tree: ast.AST) -> list[str]:
    """Parameters named like a session or database whose annotation is ``Any`` or ``object``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        for arg in params:
            note = arg.annotation
            name = note.id if isinstance(note, ast.Name) else getattr(note, "attr", None)
            if arg.arg in SESSION_NAMES and name in {"Any", "object"}:
                found.append(f"{node.name}({arg.arg})")
    return found


def test_the_session_finder_sees_an_any_session() -> None:
    tree = ast.parse("async def f(session: Any, db: typing.Any, n: Any) -> None: ...")
    assert any_typed_sessions(tree) == ["f(session)", "f(db)"]


def test_no_database_session_is_typed_any() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {where}"
        for path in _sources()
        for where in any_typed_sessions(ast.parse(path.read_text()))
    ]
    assert found == [], "type sessions as AsyncSession, databases as Database:\n" + "\n".join(found)


def _contract(name_start: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


def test_the_domain_contract_names_every_package() -> None:
    """A package added beside the others is forbidden to the domain too: the forbidden list
    is every top-level module of chargebook but the domain."""
    top = {
        f"chargebook.{p.stem if p.suffix else p.name}"
        for p in SRC.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and any(p.glob("*.py")))
    }
    forbidden = set(_contract("domain imports nothing of ours")["forbidden_modules"])
    assert forbidden == top - {"chargebook.domain"}
