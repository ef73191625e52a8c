"""The semgrep rules kept in .semgrep/ find what they are written for, and nothing more
(scripts/test runs them, and bandit, over the code before pytest)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from exchange import PROJECT_ROOT
from tests.conftest import require_service

EXAMPLES = PROJECT_ROOT / ".semgrep" / "examples"
ANNOTATION = re.compile(r"ruleid:\s*([\w\-, ]+)")


def expected_findings() -> set[tuple[str, int, str]]:
    """(file, line, rule) for each rule named in a `ruleid:` comment, on the line after it."""
    expected = set()
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if match := ANNOTATION.search(line):
                    for rule in match.group(1).replace(",", " ").split():
                        expected.add((str(path.relative_to(EXAMPLES)), number + 1, rule))
    return expected


def test_each_rule_finds_its_examples_and_nothing_else():
    semgrep = shutil.which("semgrep", path=str(Path(sys.executable).parent))
    require_service(semgrep is not None, "semgrep (pip install -e '.[dev]')")
    scan = subprocess.run(
        [semgrep, "scan", "--metrics=off", "--disable-version-check", "--quiet", "--json",
         "--config", str(PROJECT_ROOT / ".semgrep" / "exchange.yml"), str(EXAMPLES)],
        capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(scan.stdout)

    assert report["errors"] == []
    found = {(str(Path(result["path"]).resolve().relative_to(EXAMPLES)), result["start"]["line"],
              result["check_id"].rsplit(".", 1)[-1]) for result in report["results"]}
    assert found == expected_findings()
