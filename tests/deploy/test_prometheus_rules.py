"""The shipped Prometheus rules pass ``promtool check rules`` and their unit tests
(``promtool test rules``); a rules file that does not parse fails the check."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.peers.prometheus import RULES, ensure_promtool

TESTS = RULES.parent / "rules_test.yml"


def promtool(*args: str, cwd: Path = RULES.parent) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ensure_promtool(), *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_the_rules_pass_promtool_check() -> None:
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_rules_pass_their_unit_tests() -> None:
    done = promtool("test", "rules", str(TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_wrong_expectation_fails_the_unit_tests(tmp_path: Path) -> None:
    # The unit tests can fail: the same tests, one expected value changed.
    (tmp_path / "rules.yml").write_text(RULES.read_text())
    wrong = TESTS.read_text().replace("value: 0.75", "value: 0.7")
    assert wrong != TESTS.read_text()
    (tmp_path / "rules_test.yml").write_text(wrong)
    done = promtool("test", "rules", "rules_test.yml", cwd=tmp_path)
    assert done.returncode != 0
    assert "got:" in done.stdout + done.stderr


def test_a_broken_rule_fails_the_check(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text(RULES.read_text().replace("rate(", "rate((", 1))
    done = promtool("check", "rules", str(broken))
    assert done.returncode != 0
