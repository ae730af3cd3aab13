"""The `counterpoint` command, as a user runs it."""

import json

import click
import pytest

from webapp.cli import main


def all_commands(group: click.Group, prefix: tuple = ()):
    """Every command path under a click group."""
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in all_commands(main)], ids=" ".join)
def test_every_command_has_help_with_an_example(runner, path):
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_load_builds_the_database_and_says_what_it_loaded(runner, corpus):
    result = runner.invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded 5 documents (76 passages) and 68 labels" in result.output
    assert (corpus / "instance" / "counterpoint.db").exists()
    again = runner.invoke(main, ["--corpus", str(corpus), "load"])
    assert "Updated:" not in again.output


def test_load_reports_bad_label_files_with_line_numbers(runner, corpus):
    path = corpus / "labels" / "passages" / "003_bbfe681b051be986.txt.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["stance"] = "sceptical"
    lines[1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 1
    assert "003_bbfe681b051be986.txt.jsonl line 2: unknown stance 'sceptical'" in result.output


def test_load_reports_a_broken_taxonomy(runner, corpus):
    (corpus / "labels" / "taxonomy.toml").write_text("[[topics]]\nid = 'x'\n")
    result = runner.invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 1
    assert "missing 'name'" in result.output


def test_labels_export_rewrites_the_label_files_from_the_database(runner, corpus):
    runner.invoke(main, ["--corpus", str(corpus), "load"])
    target = corpus / "labels" / "passages" / "002_ce58d6deddc87eed.txt.jsonl"
    original = target.read_bytes()
    target.unlink()
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "export"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == original
