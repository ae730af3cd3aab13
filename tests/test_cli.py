"""The `counterpoint` command, as a user runs it."""

import json

import click
import pytest

from webapp.cli import main


def all_commands(group: click.Group, prefix: tuple = ()):
    """Every command and group under a click group, with the words that invoke it, the group first."""
    yield prefix, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(all_commands(main))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(("counterpoint", *path)))
def test_every_command_has_help_ending_in_an_example_of_itself(runner, path):
    command = COMMANDS[path]
    assert command.help and command.help.strip(), "no help text"
    last = command.help.strip().splitlines()[-1].strip()
    assert last.startswith("Example: "), "the help text must end with an example"
    # The example must use the command's current name: a rename cannot leave a stale one behind.
    assert " ".join(("counterpoint", *path)) in last
    assert [p.name for p in command.params if isinstance(p, click.Option) and not p.help] == []
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_only_the_app_level_verbs_stand_alone_and_everything_else_is_noun_then_verb():
    verbs = {name for name, command in main.commands.items() if not isinstance(command, click.Group)}
    # publish and brief turn the whole corpus (or a topic) into something to share, as the issue names them.
    assert verbs == {"init", "load", "run", "serve", "publish", "brief"}


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
    assert "003_bbfe681b051be986.txt.jsonl line 2: Unknown stance “sceptical”" in result.output


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


def test_an_import_whose_label_files_cannot_be_written_keeps_the_labels_and_says_how_to_catch_up(runner, corpus, tmp_path, monkeypatch):
    import csv
    import errno

    from webapp.labels import mirror
    from webapp.store.db import connect

    runner.invoke(main, ["--corpus", str(corpus), "load"])
    exported = tmp_path / "labels.csv"
    assert runner.invoke(main, ["--corpus", str(corpus), "exchange", "export", "--format", "csv", "-o", str(exported)]).exit_code == 0
    with exported.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = next(r for r in rows if r["stance"] == "favour")
    first["stance"], first["holder"] = "against", ""
    with (tmp_path / "one.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(first))
        writer.writeheader()
        writer.writerow(first)

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(mirror, "atomic_write", full)
    result = runner.invoke(main, ["--corpus", str(corpus), "exchange", "import", "--format", "csv", str(tmp_path / "one.csv")])
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, OSError)
    db = connect(corpus / "instance" / "counterpoint.db")
    stance = db.execute("SELECT stance FROM labels WHERE document = ? AND position = ? AND topic = ? AND annotator = ?",
                        [first["document"], int(first["position"]), first["topic"], first["annotator"]]).fetchone()[0]
    db.close()
    assert stance == "against"
