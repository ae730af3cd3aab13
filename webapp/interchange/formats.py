"""The exchange formats: how label rows are written out, and how each format is read back.

Each export takes `exchange.label_rows` and the taxonomy and returns the file's text; each
parser takes the text, the taxonomy and the annotator to use when the file names none, and
returns `exchange.Item`s or raises `exchange.ExchangeError` listing every problem.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from webapp.corpus.taxonomy import STANCES, Taxonomy
from webapp.interchange.transfer import (
    DOCUMENT_FIELDS,
    ExchangeError,
    Item,
    Label,
    check_label,
    collect,
    items_from_rows,
    optional_position,
    optional_text,
    passage_text,
    passages_from_rows,
)
from webapp.labels import validation
from webapp.store import jsonlines

CSV_COLUMNS = ("passage_id", "document", "position", "topic", "stance", "holder", "annotator", "updated",
               "text", *(f if f != "kind" else "document_kind" for f in DOCUMENT_FIELDS))
CSV_REQUIRED = ("document", "position", "topic", "stance", "annotator", "text")
# Label Studio control names: one multiple-choice "topic" field, then a stance and a holder
# field per topic, shown once that topic is ticked.
LS_TOPIC, LS_STANCE, LS_HOLDER, LS_TEXT = "topic", "stance_", "holder_", "text"


@dataclass(frozen=True)
class Format:
    """One exchange format: its file name ending, media type, writer and reader."""

    name: str
    title: str
    suffix: str
    mimetype: str
    export: Callable[[list[dict], Taxonomy], str]
    parse: Callable[[str, Taxonomy, str], list[Item]] | None


# CSV: one row per label, for spreadsheets, pandas and R.

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) in a holder
# would become a live link), so such cells get a leading ' as OWASP's CSV-injection advice says.
# Cells that already start with quotes before one of them get one more, so that `parse_csv` can
# take exactly one off and our own exports read back unchanged.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def export_csv(rows: list[dict], taxonomy: Taxonomy) -> str:
    """One row per label with its passage text and document metadata; topic '' means no topic applies.

    Cells a spreadsheet would run as a formula start with a ' (see `_FORMULA_START`).
    """
    cells = [{k: _csv_cell(v) for k, v in row.items()} for row in rows]
    # The csv module quotes a field only for the characters of its own line ending, and readers
    # end a row at a lone \r too: a passage holding one would start a new row unquoted.
    bare_cr = any(isinstance(v, str) and "\r" in v for row in cells for v in row.values())
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n" if bare_cr else "\n")
    writer.writeheader()
    writer.writerows(cells)
    return out.getvalue()


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def _csv_value(cell: object) -> object:
    """A cell as `export_csv` was given it: the ' it put before a formula-like value taken off."""
    return cell[1:] if isinstance(cell, str) and _NEUTRALISED.match(cell) else cell


def parse_csv(text: str, taxonomy: Taxonomy, annotator: str) -> list[Item]:
    """Read label rows from CSV, one item per (passage, annotator)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    missing = [c for c in CSV_REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ExchangeError([f"line 1: missing column {missing[0]!r}; the header needs {', '.join(CSV_REQUIRED)}"])

    def parse(where: str, row: dict) -> Item:
        if None in row:
            raise ValueError("more fields than the header has")
        item = Item(where, row["annotator"] or annotator, passage_text(row["text"], "text"),
                    optional_text(row["document"], "document"), optional_position(row["position"]),
                    optional_text(row.get("updated"), "updated"))
        label = check_label(row["topic"], row["stance"], row.get("holder"), taxonomy)
        if label:
            item.labels.append(label)
        return item

    try:
        numbered = [(f"line {reader.line_num}", {k: _csv_value(v) for k, v in row.items()}) for row in reader]
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise ExchangeError([f"line {reader.line_num}: not readable as CSV ({exc}); check the quoting"]) from None
    rows = collect(numbered, parse)
    items: dict[tuple, Item] = {}
    problems = []
    for row in rows:
        item = items.setdefault((row.document, row.position, row.annotator), row)
        if item is not row:
            # A row without labels is that annotator's “no topic applies”.
            topics = [label.topic for label in item.labels] or [None]
            topics += [label.topic for label in row.labels] or [None]
            try:
                validation.check_no_topic_alone(topics)
            except validation.LabelError as exc:
                problems.append(f"{row.where}: {exc} ({item.where})")
            item.labels += row.labels
    if problems:
        raise ExchangeError(problems)
    return list(items.values())


# Label Studio: a task per passage, an annotation per annotator.

def export_labelstudio(rows: list[dict], taxonomy: Taxonomy) -> str:
    """Label Studio tasks with their annotations, to import into a project set up with `labelstudio_config`."""
    tasks = []
    for passage, items in passages_from_rows(rows):
        data = {"text": passage["text"], "document": passage["document"], "position": passage["position"],
                "passage_id": passage["passage_id"], "title": passage["title"] or "",
                "outlet": passage["outlet"] or "", "date": passage["date"] or "", "url": passage["url"] or ""}
        annotations = [
            {"created_username": item["annotator"], "created_at": item["updated"], "updated_at": item["updated"],
             "was_cancelled": False, "ground_truth": False, "result": _ls_result(item["labels"])}
            for item in items
        ]
        tasks.append({"data": data, "annotations": annotations})
    return json.dumps(tasks, ensure_ascii=False, indent=2) + "\n"


def _ls_result(labels: list[Label]) -> list[dict]:
    if not labels:
        return []

    def choice(name: str, value: dict, kind: str = "choices") -> dict:
        return {"id": name, "from_name": name, "to_name": LS_TEXT, "type": kind, "value": value}

    result = [choice(LS_TOPIC, {"choices": [label.topic for label in labels]})]
    for label in labels:
        result.append(choice(LS_STANCE + label.topic, {"choices": [label.stance]}))
        if label.holder:
            result.append(choice(LS_HOLDER + label.topic, {"text": [label.holder]}, "textarea"))
    return result


def labelstudio_config(taxonomy: Taxonomy) -> str:
    """The Label Studio labeling interface that matches `export_labelstudio`'s tasks."""
    lines = ["<View>", f'  <Text name="{LS_TEXT}" value="$text"/>',
             f'  <Choices name="{LS_TOPIC}" toName="{LS_TEXT}" choice="multiple" showInline="true">']
    lines += [f"    <Choice value={quoteattr(t.id)} hint={quoteattr(t.name)}/>" for t in taxonomy.topics]
    lines.append("  </Choices>")
    for t in taxonomy.topics:
        when = f'visibleWhen="choice-selected" whenTagName="{LS_TOPIC}" whenChoiceValue={quoteattr(t.id)}'
        lines.append(f"  <View {when}>")
        lines.append(f"    <Header value={quoteattr(t.name + ': ' + t.target)}/>")
        lines.append(f'    <Choices name="{LS_STANCE}{t.id}" toName="{LS_TEXT}" choice="single-radio" '
                     'showInline="true">')
        lines += [f"      <Choice value={quoteattr(s)} hint={quoteattr(t.label(s))}/>" for s in STANCES]
        lines.append("    </Choices>")
        lines.append(f'    <TextArea name="{LS_HOLDER}{t.id}" toName="{LS_TEXT}" maxSubmissions="1" '
                     f'placeholder="Whose view is this?"/>')
        lines.append("  </View>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def parse_labelstudio(text: str, taxonomy: Taxonomy, annotator: str) -> list[Item]:
    """Read a Label Studio JSON export (or import file): every annotation that was not cancelled."""
    data = _json(text)
    tasks = data if isinstance(data, list) else [data]
    entries = []
    for t, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("annotations", []), list):
            entries.append((f"task {t}", None))
            continue
        fields = task.get("data", task)
        for a, annotation in enumerate(task.get("annotations", []), start=1):
            entries.append((f"task {t} annotation {a}", (fields, annotation)))

    def parse(where: str, entry) -> Item | None:
        if entry is None:
            raise ValueError("a task must be a JSON object with a list of annotations")
        fields, annotation = entry
        if not isinstance(fields, dict) or not isinstance(annotation, dict):
            raise ValueError("a task's data and each annotation must be JSON objects")
        if annotation.get("was_cancelled"):
            return None
        item = Item(where, _ls_annotator(annotation, annotator), passage_text(fields.get("text"), "data.text"),
                    optional_text(fields.get("document"), "data.document"), optional_position(fields.get("position")),
                    optional_text(annotation.get("updated_at") or annotation.get("created_at"), "updated_at"))
        item.labels = _ls_labels(annotation.get("result"), taxonomy)
        return item

    return collect(entries, parse)


def _ls_annotator(annotation: dict, default: str) -> str:
    """Who made an annotation: Label Studio exports "email, id" in created_username."""
    name = annotation.get("created_username")
    if isinstance(name, str) and name.strip(" ,"):
        return name.split(",")[0].strip() or name.strip(" ,")
    user = annotation.get("completed_by")
    if isinstance(user, dict):
        user = user.get("email") or user.get("username") or user.get("id")
    if isinstance(user, str) and user.strip():
        return user.strip()
    if isinstance(user, int) and not isinstance(user, bool):
        return f"labelstudio-user-{user}"
    return default


def _ls_labels(result: object, taxonomy: Taxonomy) -> list[Label]:
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise ValueError("result must be a list of JSON objects")
    values = {r["from_name"]: r.get("value") for r in result if isinstance(r.get("from_name"), str)}
    topics = _ls_values(values.get(LS_TOPIC), "choices") or []
    labels = []
    for topic in topics:
        validation.check_topic(topic, taxonomy.ids)
        stances = _ls_values(values.get(LS_STANCE + topic), "choices") or [None]
        if len(stances) != 1:
            raise ValueError(f"topic {topic!r} has {len(stances)} stances in {LS_STANCE}{topic}; choose one")
        holder = _ls_values(values.get(LS_HOLDER + topic), "text")
        labels.append(check_label(topic, stances[0], "\n".join(map(str, holder)) if holder else None, taxonomy))
    return labels


def _ls_values(value: object, key: str) -> list | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get(key), list):
        raise ValueError(f'a result value must be an object with a "{key}" list')
    return value[key]


# doccano and Prodigy: JSON Lines, one line per (passage, annotator).

def export_doccano(rows: list[dict], taxonomy: Taxonomy) -> str:
    """doccano text classification JSONL: labels as "topic:stance", holders and anchors as extra fields."""
    return _jsonl(
        {"text": item["text"], "label": [f"{lb.topic}:{lb.stance}" for lb in item["labels"]],
         **_anchor(item), "annotator": item["annotator"], "updated": item["updated"], "holders": _holders(item)}
        for item in items_from_rows(rows)
    )


def parse_doccano(text: str, taxonomy: Taxonomy, annotator: str) -> list[Item]:
    """Read doccano text classification JSONL whose labels are "topic:stance"."""
    def parse(where: str, obj: dict) -> Item:
        labels = obj.get("label", obj.get("labels", []))
        if not isinstance(labels, list) or not all(isinstance(lb, str) for lb in labels):
            raise ValueError('"label" must be a list of "topic:stance" strings')
        return _line_item(where, obj, annotator, obj.get("annotator"), labels, taxonomy)

    return collect(_json_lines(text), parse)


def export_prodigy(rows: list[dict], taxonomy: Taxonomy) -> str:
    """Prodigy choice-interface tasks: an option per topic and stance, the chosen ones accepted."""
    options = [{"id": f"{t.id}:{s}", "text": f"{t.name}: {t.label(s)}"} for t in taxonomy.topics for s in STANCES]
    return _jsonl(
        {"text": item["text"], "options": options, "accept": [f"{lb.topic}:{lb.stance}" for lb in item["labels"]],
         "answer": "accept", "_view_id": "choice", "_annotator_id": item["annotator"],
         "_session_id": item["annotator"], "meta": _anchor(item), "updated": item["updated"],
         "holders": _holders(item)}
        for item in items_from_rows(rows)
    )


def parse_prodigy(text: str, taxonomy: Taxonomy, annotator: str) -> list[Item]:
    """Read Prodigy choice tasks: accepted answers only; option ids are "topic:stance"."""
    def parse(where: str, obj: dict) -> Item | None:
        if obj.get("answer", "accept") != "accept":
            return None
        accept = obj.get("accept", [])
        if not isinstance(accept, list) or not all(isinstance(a, str) for a in accept):
            raise ValueError('"accept" must be a list of "topic:stance" option ids')
        meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
        who = obj.get("_annotator_id") or obj.get("_session_id")
        return _line_item(where, {**obj, **meta}, annotator, who, accept, taxonomy)

    return collect(_json_lines(text), parse)


def _anchor(item: dict) -> dict:
    return {"document": item["document"], "position": item["position"], "passage_id": item["passage_id"]}


def _holders(item: dict) -> dict:
    return {lb.topic: lb.holder for lb in item["labels"] if lb.holder}


def _line_item(where: str, obj: dict, default: str, who: object, pairs: list[str], taxonomy: Taxonomy) -> Item:
    holders = obj.get("holders") or {}
    if not isinstance(holders, dict):
        raise ValueError('"holders" must be an object of topic: holder')
    item = Item(where, who if isinstance(who, str) and who.strip() else default, passage_text(obj.get("text"), "text"),
                optional_text(obj.get("document"), "document"), optional_position(obj.get("position")),
                optional_text(obj.get("updated"), "updated"))
    for pair in pairs:
        topic, colon, stance = pair.rpartition(":")
        if not colon or not topic:
            raise ValueError(f"label {pair!r} is not of the form topic:stance")
        item.labels.append(check_label(topic, stance, holders.get(topic), taxonomy))
    return item


def _jsonl(objects) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)


def _json(text: str):
    try:
        jsonlines.check_json(text)
        return json.loads(text)
    except jsonlines.JsonTextError as exc:
        raise ExchangeError([str(exc)]) from None
    except json.JSONDecodeError as exc:
        raise ExchangeError([f"line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})"]) from None


def _json_lines(text: str) -> list[tuple[str, dict | ValueError]]:
    """The JSON object on each non-blank line, or the line's problem for `collect` to report."""
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): see labels.records
        if not line.strip():
            continue
        try:
            jsonlines.check_line(line)
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            obj = ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})")
        except jsonlines.JsonTextError as exc:
            obj = exc
        if not isinstance(obj, (dict, ValueError)):
            obj = ValueError("a line must hold a JSON object")
        entries.append((f"line {number}", obj))
    return entries


FORMATS = {
    f.name: f
    for f in (
        Format("csv", "CSV", ".csv", "text/csv", export_csv, parse_csv),
        Format("labelstudio", "Label Studio JSON", ".json", "application/json", export_labelstudio, parse_labelstudio),
        Format("doccano", "doccano JSONL", ".jsonl", "application/jsonl", export_doccano, parse_doccano),
        Format("prodigy", "Prodigy JSONL", ".jsonl", "application/jsonl", export_prodigy, parse_prodigy),
    )
}
