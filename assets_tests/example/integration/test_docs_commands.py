"""Every command line in the README and ``docs/`` is one a reader can run as written: its program,
subcommand and options exist, the files and folders it names exist, and the job it names is a job
of the code location it names. (The commands themselves run elsewhere: ``data-platform run`` and
``pytest`` in ``.ci/run``, the others in the tests named in ``docs/testing.md``.) The docs describe
the repository as shipped, example included, so this test goes with the example."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import itertools
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_platform.cli import build_parser
from data_platform.settings import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
PROGRAMS = {"python3", "python", "dagster", "data-platform", "bash", "pytest", "ruff"}
INLINE = re.compile(r"`((?:[A-Z_]+=\S+ )*(?:python3 -m uv run|dagster|bash \.ci/) [^`]*)`")
"""a command quoted in the text (a bare `data-platform` names the program)"""
DAGSTER = str(Path(sys.executable).with_name("dagster"))


@dataclass(frozen=True)
class Command:
    where: str
    """file:line of the command in the docs"""
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {shlex.join(self.words)}"


def documented_commands() -> list[Command]:
    """The command lines of the docs' fenced blocks (continuation lines joined, ``for`` loops
    expanded, ``&&`` chains split, environment assignments and comments dropped)."""
    found = []
    for document in DOCUMENTS:
        in_block, loop, pending, start = False, None, "", 0
        for number, line in enumerate(document.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_block, loop = not in_block, None
                continue
            if not in_block:
                for span in INLINE.findall(line):
                    found.extend(Command(f"{document.relative_to(REPO_ROOT)}:{number}", tuple(c)) for c in commands_of(span))
                continue
            if match := re.match(r"\s*for (\w+) in ([^;]+); do\s*$", line):
                loop = (match[1], match[2].split())
                continue
            if line.strip() == "done":
                loop = None
                continue
            if not pending:
                start = number
            pending += line.rstrip("\\") + " "
            if line.endswith("\\"):
                continue
            text, pending = pending, ""
            for expanded in [text.replace(f"${loop[0]}", value) for value in loop[1]] if loop else [text]:
                found.extend(Command(f"{document.relative_to(REPO_ROOT)}:{start}", tuple(c)) for c in commands_of(expanded))
    return found


def commands_of(text: str) -> list[list[str]]:
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return []  # not a command (a diagram, a tree)
    commands = []
    for part in " ".join(shlex.quote(w) for w in words).split(" '&&' ") if "&&" in words else [shlex.join(words)]:
        command = shlex.split(part)
        while command and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", command[0]):
            command.pop(0)
        if command and command[0] in PROGRAMS:
            commands.append(command)
    return commands


COMMANDS = documented_commands()


def test_the_docs_hold_the_commands_a_reader_runs():
    programs = {c.words[0] for c in COMMANDS}
    assert {"python3", "dagster", "bash"} <= programs, programs
    assert any("data-platform" in c.words for c in COMMANDS), "the README's data-platform commands are found"


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_a_documented_command_names_what_exists(command: Command):
    words = list(command.words)
    if words[:3] == ["python3", "-m", "pip"]:
        assert words[3] == "install" and all("==" in w for w in words[4:] if not w.startswith("-")), f"{command}: pip pins its version"
        return
    if words[:3] == ["python3", "-m", "uv"]:
        words = words[3:]
        if words[0] == "sync":
            assert set(words[1:]) <= {"--locked", "--quiet"}, command
            return
        assert words.pop(0) == "run", command
        while words and words[0].startswith("-"):
            option = words.pop(0)
            assert option in ("--locked", "--quiet", "--extra"), f"{command}: uv run {option}"
            if option == "--extra":
                assert words.pop(0) in optional_dependency_groups(), command
    check(command, words)


def check(command: Command, words: list[str]) -> None:
    program, arguments = words[0], words[1:]
    if program == "data-platform":
        try:
            build_parser().parse_args(arguments)
        except SystemExit as error:
            pytest.fail(f"{command}: data-platform refuses these arguments ({error})")
    elif program in ("python", "python3"):
        assert arguments[0] == "-m", command
        module = arguments[1]
        assert importlib.util.find_spec(module), f"{command}: no module {module}"
        found = importlib.util.find_spec(module)
        runs = f"{module}.__main__" if found and found.submodule_search_locations else module  # a package runs its __main__
        parser = getattr(importlib.import_module(runs), "build_parser", None)
        if parser:
            try:
                parser().parse_args(arguments[2:])
            except SystemExit as error:
                pytest.fail(f"{command}: {module} refuses these arguments ({error})")
    elif program == "dagster":
        dagster(command, arguments)
    elif program == "bash":
        assert (REPO_ROOT / arguments[0]).is_file(), f"{command}: no {arguments[0]}"
    elif program in ("pytest", "ruff"):
        paths = [a for a in arguments if "/" in a or (REPO_ROOT / a).exists()]
        for path in paths:
            assert (REPO_ROOT / path.split("::")[0]).exists(), f"{command}: no {path}"
        if program == "ruff":
            assert arguments[0] in ("check", "format") and paths, command


def dagster(command: Command, arguments: list[str]) -> None:
    subcommand = [a for a in arguments[:2] if not a.startswith("-")]
    help_text = dagster_help(tuple(subcommand))
    options = {a.split("=")[0] for a in arguments if a.startswith("-")}
    for option in options:
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", help_text), f"{command}: `dagster {' '.join(subcommand)}` has no {option}"
    named = dict(itertools.pairwise(arguments))
    for option in ("-f", "-w"):
        if option in named:
            assert (REPO_ROOT / named[option]).is_file(), f"{command}: no {named[option]}"
    if "-j" in named:
        assert named["-j"] in location_jobs(named["-f"]), f"{command}: {named['-f']} has no job {named['-j']}"


@functools.cache
def dagster_help(subcommand: tuple[str, ...]) -> str:
    shown = subprocess.run([DAGSTER, *subcommand, "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, f"`dagster {' '.join(subcommand)}` is no dagster command: {shown.stderr[-500:]}"
    return shown.stdout


@functools.cache
def location_jobs(location: str) -> set[str]:
    defs = runpy.run_path(str(REPO_ROOT / location))["defs"]
    defs = defs() if callable(defs) else defs
    return {job.name for job in defs.get_repository_def().get_all_jobs()}


@functools.cache
def optional_dependency_groups() -> set[str]:
    import tomllib

    return set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
