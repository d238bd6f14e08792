#!/usr/bin/env python3
"""Mutation testing of the sans-IO core and the engine against the unit tests (run by hand; too slow for CI).

    ~/.cache/livekit-pyweb/venv/bin/python build/mutate.py                  # _core, then _engine.py
    ~/.cache/livekit-pyweb/venv/bin/python build/mutate.py --module signal  # one module (repeatable)
    ~/.cache/livekit-pyweb/venv/bin/python build/mutate.py --module core    # all of _core only
    ~/.cache/livekit-pyweb/venv/bin/python build/mutate.py --module signal --list   # the mutants, no run

It prints the kill rate per module, for _core as a whole and for _engine.py, then every surviving mutant as
``path:line  change``. Survivors listed in ``build/mutation-explained.txt`` (equivalent, or not worth a test, with
the reason) are reported as "explained" instead.

How: each module is parsed, and every mutation point becomes one mutant (a copy of the module's source with one
change; the other lines keep their numbers). The operators:

* comparison swaps: ``==``/``!=``, ``is``/``is not``, ``in``/``not in``, ``<``→``<=``, ``<=``→``<``, ``>``→``>=``,
  ``>=``→``>``
* ``and``/``or`` swap; ``not x`` → ``x``; ``True``/``False`` swap
* a number ``n`` → ``n + 1``; a string ``s`` → ``"XX" + s + "XX"``
* ``return x`` → ``return None``
* in a function body, a call statement or an assignment → ``pass``

Not mutated: docstrings, annotations, decorators, the parts of f-strings (message text). A changed constant is shown
inside its short enclosing expression (``family[-1][2] → family[-2][2]``).

The project is copied into a temporary directory first (``--rev`` takes a commit instead of the working tree); the
working tree is never written. A baseline run of the unit tests (minus ``test_typing.py``, which runs mypy: static,
not behaviour) records which test file executes which line. Each mutant is written into the copy and the test files
that execute its line run with ``-x -q`` in a child forked from this process (pytest and its plugins are imported
once here; ``livekit_pyweb`` never is, so every child imports the mutated copy). A mutant that survives those files
is run against every test file before it counts as a survivor. A mutant that outlives its deadline (several times
the baseline duration of the tests it runs) is killed by timeout. The whole run is ``nice -n 19`` and uses one
worker: the machine is shared.

Test files that fail without any mutation (someone's work in progress) are left out, and the report says so. The
unmutated tests must also pass in a child of the warmed-up parent, or the run stops (``--no-warm`` skips the warm-up).

Why not mutmut: mutmut 3.8.1 runs on this layout (``source_paths = livekit_pyweb/``, ``only_mutate`` the targets,
in a copy), but it selects the mutant after module-level code has run, so functions called at import time keep
their original behaviour (false survivors, e.g. the defaults of ``join.timeouts()``), and it never mutates
module-level data (the join ``TRANSITIONS``, the simulcast presets, the User-Agent tables), which is much of what
_core knows about the protocol.

Exit status: 0, also with survivors (the report says what to do about them); 2 for a setup problem.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "livekit_pyweb/_core"
ENGINE = "livekit_pyweb/_engine.py"
EXPLAINED = ROOT / "build" / "mutation-explained.txt"
UNIT = "tests/unit"
# Not run against mutants: mypy is a static check (it would "kill" mutants by their types, not their behaviour).
EXCLUDED_TESTS = {"tests/unit/test_typing.py"}
COPIED = ("pyproject.toml", "livekit_pyweb", "tests")
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider"]
ALL_FILES = "<import>"  # coverage bucket for lines that run while tests are collected (module level)


# -- mutants -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository root
    line: int
    change: str  # "old → new" or "delete: stmt", as printed and as keyed in the explained file
    source: str  # the whole mutated module
    span: tuple[int, int]  # lines whose execution means the mutated code ran
    in_function: bool  # False: runs at import time, every test file counts

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


_SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
    ast.NotIn: ast.In, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
}

Path_ = tuple[tuple[str, int | None], ...]  # how to reach a node from the module: (field, index) steps


@dataclasses.dataclass
class _Point:
    path: Path_
    node: ast.expr | ast.stmt  # the node replaced
    make: Callable[[Any], ast.AST]  # the node (in a fresh parse) -> its replacement
    stmt: ast.stmt
    in_function: bool


def _node_at(tree: ast.AST, path: Path_) -> ast.AST:
    node = tree
    for field, index in path:
        node = getattr(node, field) if index is None else getattr(node, field)[index]
    return node


def _replace_at(tree: ast.AST, path: Path_, new: ast.AST) -> None:
    parent = _node_at(tree, path[:-1])
    field, index = path[-1]
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new


def _is_docstring(stmt: ast.AST, parent: ast.AST, index: int | None) -> bool:
    return (
        index == 0
        and isinstance(parent, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _swap_cmp(i: int) -> Callable[[Any], ast.AST]:
    def make(n: ast.Compare) -> ast.AST:
        n.ops[i] = _SWAP_CMP[type(n.ops[i])]()
        return n
    return make


def _flip_boolop(n: ast.BoolOp) -> ast.AST:
    n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
    return n


def _const(f: Callable[[Any], Any]) -> Callable[[Any], ast.AST]:
    return lambda n: ast.Constant(f(n.value))


def _points(tree: ast.Module) -> Iterator[_Point]:
    skip_fields = {"annotation", "returns", "decorator_list", "type_comment"}

    def walk(node: ast.AST, path: Path_, stmt: ast.stmt | None, in_function: bool) -> Iterator[_Point]:
        if isinstance(node, ast.JoinedStr):
            return
        if isinstance(node, ast.stmt):
            stmt = node

        def point(make: Callable[[Any], ast.AST]) -> _Point:
            assert stmt is not None and isinstance(node, (ast.expr, ast.stmt))
            return _Point(path, node, make, stmt, in_function)

        if isinstance(node, ast.Compare):
            yield from (point(_swap_cmp(i)) for i in range(len(node.ops)))
        elif isinstance(node, ast.BoolOp):
            yield point(_flip_boolop)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield point(lambda n: n.operand)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                yield point(_const(lambda v: not v))
            elif isinstance(node.value, (int, float)):
                yield point(_const(lambda v: v + 1))
            elif isinstance(node.value, str):
                yield point(_const(lambda v: f"XX{v}XX"))
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                yield point(lambda n: ast.Return(ast.Constant(None)))
        if in_function and isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
            value = node.value
            if isinstance(node, ast.Expr):  # a call statement, awaited or not
                deletable = isinstance(value.value if isinstance(value, ast.Await) else value, ast.Call)
            else:
                deletable = value is not None
            if deletable:
                yield point(lambda n: ast.Pass())

        is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for field, content in ast.iter_fields(node):
            if field in skip_fields:
                continue
            # A function's body runs when it is called; its default values when the def runs (maybe at import).
            inside = in_function or (is_def and field == "body")
            if isinstance(content, list):
                for i, child in enumerate(content):
                    if isinstance(child, ast.AST) and not _is_docstring(child, node, i):
                        yield from walk(child, (*path, (field, i)), stmt, inside)
            elif isinstance(content, ast.AST):
                yield from walk(content, (*path, (field, None)), stmt, inside)

    yield from walk(tree, (), None, False)


def _byte_offsets(source: str) -> list[int]:
    """Byte offset of each line start (ast columns are UTF-8 byte offsets)."""
    offsets, total = [0], 0
    for line in source.encode().splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _in_context(source: str, mutated: ast.Module, path: Path_, levels: int = 3, limit: int = 40) -> str | None:
    """A changed constant shown inside its enclosing expression (``family[-1][2] → family[-2][2]`` rather than
    ``1 → 2``): up to ``levels`` expressions up, as long as they stay short."""
    original = ast.parse(source)
    best = None
    for up in range(1, levels + 1):
        if len(path) < up or not isinstance(_node_at(original, path[:-up]), ast.expr):
            break
        before = _one_line(ast.unparse(_node_at(original, path[:-up])))
        if len(before) > limit:
            break
        best = f"{before} → {_one_line(ast.unparse(_node_at(mutated, path[:-up])))}"
    return best


def mutants_for(rel: str, source: str) -> tuple[list[Mutant], int]:
    """Every mutant of one module, and how many mutation points were dropped (a patch that did not re-parse to
    the intended tree; should be 0)."""
    tree = ast.parse(source)
    data = source.encode()
    offsets = _byte_offsets(source)
    original_dump = ast.dump(tree)
    seen = {original_dump}
    out: list[Mutant] = []
    dropped = 0
    for point in _points(tree):
        node = point.node
        fresh = ast.parse(source)
        new = point.make(_node_at(fresh, point.path))
        old_text = _one_line(ast.unparse(_node_at(ast.parse(source), point.path)))
        _replace_at(fresh, point.path, new)
        expected = ast.dump(fresh)
        if expected in seen:
            continue  # no change at all, or the same as another mutant
        seen.add(expected)
        assert node.end_lineno is not None and node.end_col_offset is not None
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        if isinstance(new, ast.stmt):
            # Keep the line count, so every other line keeps its number.
            replacement = ast.unparse(new) + "\n" * (node.end_lineno - node.lineno)
            change = f"delete: {old_text}" if isinstance(new, ast.Pass) else f"{old_text} → {ast.unparse(new)}"
        else:
            replacement = ast.unparse(new) if isinstance(new, ast.Constant) else f"({ast.unparse(new)})"
            change = f"{old_text} → {_one_line(ast.unparse(new))}"
            if isinstance(node, ast.Constant):
                change = _in_context(source, fresh, point.path) or change
        patched = (data[:start] + replacement.encode() + data[end:]).decode()
        try:
            ok = ast.dump(ast.parse(patched)) == expected
        except SyntaxError:
            ok = False
        if not ok:
            dropped += 1
            continue
        stmt = point.stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.While, ast.For,
                             ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try)) and stmt is not node:
            span = (stmt.lineno, node.end_lineno)  # in the header of a compound statement
        else:
            span = (stmt.lineno, stmt.end_lineno or stmt.lineno)
        out.append(Mutant(rel, node.lineno, change, patched, span, point.in_function))
    return out, dropped


# -- running tests in forked children ------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    status: str  # "killed", "timeout", "survived"
    seconds: float
    full_run: bool = False  # decided by the run against every test file


class Runner:
    def __init__(self, work: Path, log: Path) -> None:
        self.work = work
        self.log = log

    def run(self, test_files: list[str], timeout: float, plugin: object | None = None) -> tuple[int | None, float]:
        """pytest ``-x -q`` on ``test_files`` in a forked child in the work copy: (exit code or None on timeout,
        seconds)."""
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            code = 3
            try:
                os.setpgid(0, 0)
                fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                sys.dont_write_bytecode = True
                os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
                os.chdir(self.work)
                sys.path.insert(0, str(self.work))
                args = PYTEST_ARGS if plugin is None else [a for a in PYTEST_ARGS if a != "-x"]
                code = int(pytest.main([*args, *test_files], plugins=[plugin] if plugin else []))
                if plugin is not None:
                    plugin.save()  # type: ignore[attr-defined]
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001 - whatever happens, the parent only needs an exit code
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        deadline = started + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), time.monotonic() - started
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None, time.monotonic() - started
            time.sleep(0.01)


class Baseline:
    """A pytest plugin for the unmutated run: which test file executes which line of livekit_pyweb, how long each
    test file takes, which fail, and which third-party modules a run imports (for warming up the parent)."""

    def __init__(self, work: Path, out: Path) -> None:
        self.prefix = str(work / "livekit_pyweb") + os.sep
        self.work = work
        self.out = out
        self.bucket = ALL_FILES
        self.lines: dict[str, dict[str, set[int]]] = {}
        self.durations: dict[str, float] = {}
        self.failed: set[str] = set()
        self.started = time.monotonic()

    def _hit(self, filename: str, line: int) -> None:
        rel = os.path.relpath(filename, self.work)
        self.lines.setdefault(self.bucket, {}).setdefault(rel, set()).add(line)

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self._hit(frame.f_code.co_filename, frame.f_lineno)
        return self._local

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename.startswith(self.prefix):
            self._hit(frame.f_code.co_filename, frame.f_lineno)
            return self._local
        return None

    def pytest_configure(self, config: Any) -> None:
        sys.settrace(self._global)
        threading.settrace(self._global)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> None:
        self.bucket = item.nodeid.split("::")[0]
        self._t0 = time.monotonic()
        # Again for every test: an exception raised inside the trace function (pytest-timeout's alarm, Ctrl-C)
        # makes CPython drop it.
        sys.settrace(self._global)
        threading.settrace(self._global)

    def pytest_runtest_logreport(self, report: Any) -> None:
        test_file = report.nodeid.split("::")[0]
        if report.failed:
            self.failed.add(test_file)
        if report.when == "teardown":
            self.durations[test_file] = self.durations.get(test_file, 0.0) + time.monotonic() - self._t0
            self.bucket = ALL_FILES

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.failed.add(report.nodeid.split("::")[0])

    def save(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type,unused-ignore]
        # In import order, public names only (importing a C accelerator such as ``_asyncio`` before its package
        # breaks asyncio in the children).
        modules = [
            name for name, module in list(sys.modules.items())
            if getattr(module, "__file__", None)
            and not str(module.__file__).startswith(str(self.work))
            and not name.startswith("livekit")
            and not any(part.startswith("_") for part in name.split("."))
        ]
        data = {
            "lines": {b: {f: sorted(s) for f, s in files.items()} for b, files in self.lines.items()},
            "durations": self.durations,
            "failed": sorted(self.failed),
            "modules": modules,
            "total": time.monotonic() - self.started,
        }
        self.out.write_text(json.dumps(data))


# -- the explained list --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Explanation:
    where: str
    change: str
    why: str
    used: bool = False


def load_explained(path: Path) -> list[Explanation]:
    """``path:line | change | why`` per line; ``#`` comments."""
    out: list[Explanation] = []
    if not path.is_file():
        return out
    for raw in path.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split(" | ")
        if len(parts) < 3:
            raise SystemExit(f"{path}: expected 'path:line | change | why': {raw!r}")
        out.append(Explanation(parts[0].strip(), " | ".join(parts[1:-1]).strip(), parts[-1].strip()))
    return out


def explain(mutant: Mutant, explained: list[Explanation], all_changes: dict[tuple[str, str], int]) -> str | None:
    for e in explained:
        if e.where == mutant.where and e.change == mutant.change:
            e.used = True
            return e.why
    # The line moved (someone edited the module): still recognised when the change is unique in that file.
    for e in explained:
        if e.where.rsplit(":", 1)[0] == mutant.path and e.change == mutant.change \
                and all_changes[(mutant.path, mutant.change)] == 1:
            e.used = True
            return f"{e.why}  [listed at line {e.where.rsplit(':', 1)[1]}]"
    return None


# -- main ----------------------------------------------------------------------------------------------------


def _targets(names: list[str]) -> list[str]:
    core = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / CORE).glob("*.py") if p.name != "__init__.py"
    )
    if not names:
        return [*core, ENGINE]
    out: list[str] = []
    for name in names:
        stem = name.removesuffix(".py").split("/")[-1]
        if stem in ("core", "_core"):
            out += core
        elif stem in ("engine", "_engine"):
            out.append(ENGINE)
        elif f"{CORE}/{stem}.py" in core:
            out.append(f"{CORE}/{stem}.py")
        else:
            raise SystemExit(f"unknown module {name!r}: one of core, engine, {', '.join(Path(c).stem for c in core)}")
    return list(dict.fromkeys(out))


def _snapshot(rev: str | None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="livekit-pyweb-mutate-"))
    if rev is None:
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
            else:
                shutil.copy2(src, work / name)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *COPIED], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    return work


def _describe_source(rev: str | None) -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True).stdout.strip()

    if rev is not None:
        return f"commit {git('rev-parse', '--short', rev)}"
    dirty = git("status", "--porcelain", "--", *COPIED)
    return f"the working tree at {git('rev-parse', '--short', 'HEAD')}" + (
        f" with uncommitted changes in {len(dirty.splitlines())} file(s)" if dirty else "")


def _range(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", default=[],
                    help="a _core module (signal, join, ...), 'core' or 'engine'; repeatable; default: all")
    ap.add_argument("--lines", type=_range, help="only mutants on these lines, e.g. 80-95 (with one --module)")
    ap.add_argument("--rev", help="mutate this commit (git archive) instead of the working tree")
    ap.add_argument("--list", action="store_true", help="print the mutants and stop")
    ap.add_argument("--timeout-factor", type=float, default=4.0,
                    help="a mutant's deadline, as a multiple of its tests' baseline time (at least 20 s)")
    ap.add_argument("--explained", type=Path, default=EXPLAINED, help="the explained-survivors list")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    ap.add_argument("--no-warm", action="store_true",
                    help="do not pre-import pytest and its plugins here (slower; for when forking a warm process breaks)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per mutant")
    args = ap.parse_args()

    current = os.nice(0)
    if current < 19:
        os.nice(19 - current)

    targets = _targets(args.module)
    t_start = time.monotonic()
    if not args.list:
        print(f"mutating {_describe_source(args.rev)}; niceness {os.nice(0)}, one worker", flush=True)
    work = _snapshot(args.rev)
    try:
        return _run(args, targets, work, t_start)
    finally:
        if args.keep:
            print(f"work copy kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, targets: list[str], work: Path, t_start: float) -> int:
    originals = {t: (work / t).read_text() for t in targets}
    by_module: dict[str, list[Mutant]] = {}
    for t in targets:
        mutants, dropped = mutants_for(t, originals[t])
        if dropped:
            print(f"warning: {t}: {dropped} mutation point(s) could not be patched into the source; skipped")
        if args.lines:
            mutants = [m for m in mutants if args.lines[0] <= m.line <= args.lines[1]]
        by_module[t] = mutants
    if args.list:
        for t, mutants in by_module.items():
            for m in mutants:
                print(f"{m.where}  {m.change}")
        print(f"{sum(len(m) for m in by_module.values())} mutants")
        return 0

    if "livekit_pyweb" in sys.modules:
        print("error: livekit_pyweb is imported in the parent; children would not see the mutants")
        return 2
    log = work / ".mutate-child.log"
    runner = Runner(work, log)
    test_files = sorted(
        str(p.relative_to(work)) for p in (work / UNIT).glob("test_*.py")
        if str(p.relative_to(work)) not in EXCLUDED_TESTS
    )
    # Baseline: the unmutated copy, with the line recorder.
    baseline_json = work / ".mutate-baseline.json"
    code, seconds = runner.run(test_files, timeout=600, plugin=Baseline(work, baseline_json))
    if code not in (0, 1) or not baseline_json.is_file():
        print(f"error: the baseline run of the unit tests ended with code {code}; see {log} (use --keep)")
        args.keep = True
        return 2
    base = json.loads(baseline_json.read_text())
    if base["failed"]:
        print("warning: these test files fail without any mutation and are left out (the kill rate is a lower "
              f"bound): {', '.join(base['failed'])}")
    test_files = [f for f in test_files if f not in base["failed"]]
    if not test_files:
        print("error: no passing unit test file")
        return 2
    overhead: float = max(0.3, base["total"] - sum(base["durations"].values()))
    # Warm this process with what a test run imports (pytest, plugins, protobuf), never livekit_pyweb.
    if not args.no_warm:
        for name in base["modules"]:
            with contextlib.suppress(BaseException):
                importlib.import_module(name)
    if any(name == "livekit_pyweb" or name.startswith("livekit_pyweb.") for name in sys.modules):
        print("error: warming up imported livekit_pyweb; children would not see the mutants")
        return 2
    # The unmutated copy must pass in a child of this (warmed) process too, or every mutant would look killed.
    code, _ = runner.run(test_files, timeout=600)
    if code != 0:
        print(f"error: the unmutated tests fail when forked from this process (code {code}); see {log}"
              + ("" if args.no_warm else "; try --no-warm"))
        args.keep = True
        return 2
    lines: dict[str, dict[str, set[int]]] = {
        b: {f: set(s) for f, s in files.items()} for b, files in base["lines"].items()
    }
    at_import = lines.get(ALL_FILES, {})
    print(f"baseline: {len(test_files)} unit test files pass in {seconds:.1f} s; "
          f"{sum(len(m) for m in by_module.values())} mutants in {len(targets)} modules")

    def selection(m: Mutant) -> list[str]:
        span = set(range(m.span[0], m.span[1] + 1))
        if not m.in_function or span & at_import.get(m.path, set()):
            chosen = list(test_files)
        else:
            chosen = [f for f in test_files if span & lines.get(f, {}).get(m.path, set())]
        stem = Path(m.path).stem.lstrip("_")
        # Quick and close tests first: with -x the first failure ends the run.
        return sorted(chosen, key=lambda f: (stem not in f, base["durations"].get(f, 1.0)))

    durations: dict[str, float] = base["durations"]

    def deadline(files: list[str]) -> float:
        return max(20.0, float(args.timeout_factor) * (overhead + sum(durations.get(f, 1.0) for f in files)))

    results: dict[str, list[tuple[Mutant, Outcome]]] = {}
    for t, mutants in by_module.items():
        results[t] = []
        path = work / t
        if not args.verbose:
            print(f"{t}: ", end="", flush=True)
        for m in mutants:
            path.write_text(m.source)
            try:
                files = selection(m)
                outcome = Outcome("survived", 0.0)
                if files:
                    code, secs = runner.run(files, deadline(files))
                    outcome = Outcome("timeout" if code is None else "survived" if code == 0 else "killed", secs)
                if outcome.status == "survived" and files != test_files:
                    code, secs = runner.run(test_files, deadline(test_files))
                    status = "timeout" if code is None else "survived" if code == 0 else "killed"
                    outcome = Outcome(status, outcome.seconds + secs, full_run=True)
            finally:
                path.write_text(originals[t])
            results[t].append((m, outcome))
            if args.verbose:
                print(f"  {outcome.status:8} {outcome.seconds:5.1f}s  {m.where}  {m.change}", flush=True)
            else:
                print({"killed": ".", "timeout": "T", "survived": "S"}[outcome.status], end="", flush=True)
        if not args.verbose:
            print(flush=True)
    _report(args, results, lines, at_import, time.monotonic() - t_start)
    return 0


def _report(args: argparse.Namespace, results: dict[str, list[tuple[Mutant, Outcome]]],
            lines: dict[str, dict[str, set[int]]], at_import: dict[str, set[int]], elapsed: float) -> None:
    explained = load_explained(args.explained)
    counts: dict[tuple[str, str], int] = {}
    for outcomes in results.values():
        for m, _ in outcomes:
            counts[(m.path, m.change)] = counts.get((m.path, m.change), 0) + 1
    survivors: list[tuple[Mutant, str | None]] = []
    rows: list[tuple[str, int, int, int, int, int]] = []
    for t, outcomes in results.items():
        n = len(outcomes)
        killed = sum(o.status == "killed" for _, o in outcomes)
        timeout = sum(o.status == "timeout" for _, o in outcomes)
        module_explained = 0
        for m, o in outcomes:
            if o.status == "survived":
                why = explain(m, explained, counts)
                module_explained += why is not None
                survivors.append((m, why))
        rows.append((t, n, killed, timeout, n - killed - timeout, module_explained))
    core_rows = [r for r in rows if r[0].startswith(CORE)]
    if len(core_rows) > 1:
        n, k, to, sv, ex = (sum(column) for column in zip(*(r[1:] for r in core_rows)))
        rows.insert(len(core_rows), ("_core total", n, k, to, sv, ex))

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:5.1f}%" if b else "   - "

    print()
    print(f"{'module':36} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'explained':>9}"
          f" {'kill rate':>9} {'+explained':>10}")
    for name, n, k, to, s, e in rows:
        if name == "_core total":
            print("-" * 99)
        elif name == ENGINE and core_rows:
            print()
        label = name.removeprefix("livekit_pyweb/")
        print(f"{label:36} {n:7} {k:6} {to:7} {s:8} {e:9} {pct(k + to, n):>9} {pct(k + to + e, n):>10}")
    open_survivors = [(m, w) for m, w in survivors if w is None]
    if open_survivors:
        print(f"\nSurviving mutants ({len(open_survivors)}):")
        for m, _ in open_survivors:
            span = set(range(m.span[0], m.span[1] + 1))
            executed = (not m.in_function or span & at_import.get(m.path, set())
                        or any(span & files.get(m.path, set()) for files in lines.values()))
            note = "" if executed else "   [no unit test executes this line]"
            print(f"  {m.where}  {m.change}{note}")
    done = [(m, w) for m, w in survivors if w is not None]
    if done:
        print(f"\nExplained survivors ({len(done)}, from {args.explained.relative_to(ROOT)}):")
        for m, why in done:
            print(f"  {m.where}  {m.change}  -- {why}")
    mutated = set(results)
    stale = [e for e in explained if not e.used and e.where.rsplit(":", 1)[0] in mutated and not args.lines]
    if stale:
        print(f"\nExplained entries that match no survivor (killed now, or the code changed): {len(stale)}")
        for entry in stale:
            print(f"  {entry.where} | {entry.change}")
    print(f"\nkill rate = (killed + timeout) / mutants; ran {elapsed / 60:.1f} min")


if __name__ == "__main__":
    sys.exit(main())
