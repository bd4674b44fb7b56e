"""The structure rules of the code base, checked on every module of the product (not the tests):

- no module over 500 lines, no function over 60, no class over 250 (README "Layout");
- imports flow one way between playerseg's subpackages (the table below), and evaluation imports no playerseg;
- the two exception bases import nothing of the project;
- every package's __init__.py says what it owns and what it may import, and README's "Layout" lists every package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("playerseg", "evaluation", "benchmarks")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250

# What each part of playerseg may import from playerseg ("top" = the modules directly in playerseg/).
# Bottom to top: errors and progress_bars import nothing of the project; io; tracking; runs; autolabel; compare.
ALLOWED = {
    "errors": set(),
    "progress_bars": set(),
    "io": {"errors"},
    "tracking": {"errors", "io"},
    "runs": {"errors", "io", "tracking"},
    "synthetic": {"errors", "io"},
    "autolabel": {"errors", "io", "tracking", "runs"},
    "finetune": {"errors", "io", "tracking", "runs", "synthetic", "progress_bars"},
    "nano": {"errors", "io", "tracking", "runs", "synthetic", "finetune", "progress_bars"},
    "unet": {"errors", "io", "tracking", "finetune", "progress_bars"},
    "compare": {"errors", "io", "tracking", "runs", "autolabel", "progress_bars"},
    "bench": {"errors", "io", "tracking", "runs"},
    "evaluate": {"errors", "io", "tracking", "runs", "autolabel", "compare", "synthetic", "progress_bars"},
    "dataset": {"errors", "io", "runs"},
    "annotate": {"errors", "io", "tracking", "runs", "dataset"},
    "ui": {"errors", "io", "tracking", "runs", "autolabel", "compare", "synthetic", "evaluate", "annotate", "dataset"},
    "__main__": {
        "errors",
        "io",
        "tracking",
        "runs",
        "autolabel",
        "compare",
        "bench",
        "evaluate",
        "dataset",
        "progress_bars",
    },
}


def _product_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in PRODUCT:
        files.extend(sorted((ROOT / folder).rglob("*.py")))
    return files


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _part(path: Path) -> str:
    """playerseg/io/video.py -> "io"; playerseg/bench.py -> "bench"."""
    parts = path.relative_to(ROOT / "playerseg").parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def test_no_module_function_or_class_over_its_size_limit() -> None:
    too_big = []
    for path in _product_files():
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{_relative(path)}: module of {lines} lines (limit {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                size = node.end_lineno - node.lineno + 1
                is_class = isinstance(node, ast.ClassDef)
                limit = MAX_CLASS_LINES if is_class else MAX_FUNCTION_LINES
                if size > limit:
                    kind = "class" if is_class else "function"
                    too_big.append(
                        f"{_relative(path)}:{node.lineno}: {kind} {node.name} of {size} lines (limit {limit})"
                    )
    assert not too_big, "\n".join(too_big)


def test_playerseg_imports_flow_downwards() -> None:
    wrong = []
    for path in sorted((ROOT / "playerseg").rglob("*.py")):
        part = _part(path)
        if part == "__init__":
            continue
        allowed = ALLOWED[part] | {part}
        for module in _imported_modules(path):
            if module == "playerseg" or module.startswith("playerseg."):
                target = module.split(".")[1] if "." in module else "?"
                if target not in allowed:
                    wrong.append(f"{_relative(path)} imports {module} ({part} may import {sorted(ALLOWED[part])})")
    assert not wrong, "\n".join(wrong)


def test_every_part_of_playerseg_has_an_import_rule() -> None:
    parts = {_part(path) for path in (ROOT / "playerseg").rglob("*.py")} - {"__init__"}
    assert parts == set(ALLOWED), f"parts without a rule: {sorted(parts - set(ALLOWED))}"


def test_evaluation_imports_neither_playerseg_nor_gradio() -> None:
    wrong = [
        f"{_relative(path)} imports {module}"
        for path in sorted((ROOT / "evaluation").rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in {"playerseg", "gradio"}
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", ["playerseg/errors.py", "evaluation/errors.py"])
def test_the_exception_bases_import_nothing_of_the_project(module: str) -> None:
    imported = [name for name in _imported_modules(ROOT / module) if name.split(".")[0] in {"playerseg", "evaluation"}]
    assert imported == []


def _packages() -> list[Path]:
    inits = sorted((ROOT / "playerseg").rglob("__init__.py")) + [ROOT / "evaluation" / "__init__.py"]
    return [init.parent for init in inits]


def test_every_package_says_what_it_owns_and_may_import() -> None:
    silent = []
    for package in _packages():
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
        if not re.search(r"\bmay import\b|\bimports? (neither|nothing|only)\b", docstring, re.IGNORECASE):
            silent.append(_relative(package))
    assert not silent, f"packages whose __init__ docstring does not say what they may import: {silent}"


def test_readme_layout_lists_every_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [_relative(package) for package in _packages() if f"`{_relative(package)}/`" not in layout]
    assert not missing, f"README's Layout section does not list: {missing}"
