"""Schema migrations, applied in order by `db.connect`.

sqlite-utils runs the steps a database has not recorded yet in the order they are defined here,
so definition order must be name order (tests/test_migrations.py holds it there): a new step goes
at the end with the next number.
"""

from sqlite_utils.migrations import Migrations

migrations = Migrations("counterpoint")


@migrations()
def m001_initial(db):
    """Documents, passages, topics and hand labels."""
    db["documents"].create(
        {
            "id": str,
            "title": str,
            "author": str,
            "outlet": str,
            "date": str,
            "date_note": str,
            "kind": str,
            "language": str,
            "url": str,
            "notes": str,
            "source_hash": str,
            "imported": str,
        },
        pk="id",
    )
    db["passages"].create(
        {
            "id": int,
            "document": str,
            "position": int,
            "kind": str,
            "text": str,
            "text_hash": str,
        },
        pk="id",
        foreign_keys=[("document", "documents", "id")],
        not_null={"document", "position", "kind", "text", "text_hash"},
    )
    db["passages"].create_index(["document", "position"], unique=True)
    db["passages"].create_index(["kind"])
    db["topics"].create(
        {
            "id": str,
            "name": str,
            "description": str,
            "target": str,
            "key": str,
            "favour": str,
            "neutral": str,
            "against": str,
            "sort": int,
        },
        pk="id",
    )
    # Labels are anchored on (document, position) and keep the text they were made on, so a
    # label survives a re-import that changes or drops its passage and can be flagged for
    # review instead of silently moving to different text. topic '' means "no topic applies".
    db["labels"].create(
        {
            "document": str,
            "position": int,
            "topic": str,
            "annotator": str,
            "stance": str,
            "holder": str,
            "updated": str,
            "text": str,
            "text_hash": str,
        },
        pk=("document", "position", "topic", "annotator"),
        not_null={"document", "position", "topic", "annotator", "updated", "text", "text_hash"},
    )
    db["labels"].create_index(["topic", "stance"])
    db["labels"].create_index(["holder"])


@migrations()
def m002_label_history_and_annotators(db):
    """Label change history, annotator accounts and failed-login records."""
    # One row per save of one annotator's labels on one passage; `before` and `after` are JSON
    # lists of that annotator's label rows, so undo can restore a passage exactly.
    db["label_changes"].create(
        {
            "id": int,
            "document": str,
            "position": int,
            "annotator": str,
            "at": str,
            "before": str,
            "after": str,
            "note": str,
            "undoes": int,
        },
        pk="id",
        not_null={"document", "position", "annotator", "at", "before", "after"},
    )
    db["label_changes"].create_index(["document", "position"])
    db["label_changes"].create_index(["annotator", "id"])
    db["annotators"].create(
        {"name": str, "password_hash": str, "created": str},
        pk="name",
        not_null={"password_hash", "created"},
    )
    # Kept in the database, not in memory, so the limit holds across worker processes.
    db["login_failures"].create({"username": str, "ip": str, "at": float}, not_null={"username", "ip", "at"})
    db["login_failures"].create_index(["username", "ip", "at"])


@migrations()
def m030_passages_fts(db):
    """Full-text index of passage text, kept in step by triggers."""
    # Porter stemming lets "deported" find "deportation"; diacritics are folded so "Kaboul"
    # and "Kâboul" meet.
    db["passages"].enable_fts(["text"], create_triggers=True, tokenize="porter unicode61 remove_diacritics 2")


@migrations()
def m040_links_and_passage_changes(db):
    """Confirmed or dismissed links between passages, and a log of passage changes."""
    # Links, like labels, are anchored on (document, position) with the texts they were made
    # on, so they survive a rebuild and can be flagged when either text changes.
    db["links"].create(
        {
            "source_document": str,
            "source_position": int,
            "target_document": str,
            "target_position": int,
            "annotator": str,
            "relation": str,
            "note": str,
            "updated": str,
            "source_text": str,
            "target_text": str,
        },
        pk=("source_document", "source_position", "target_document", "target_position", "annotator"),
        not_null={"relation", "updated", "source_text", "target_text"},
    )
    db["links"].create_index(["target_document", "target_position"])
    # Every insert, update or delete of a passage appends its id here, whichever code path
    # wrote it, so each process's similarity index can catch up incrementally.
    db["passage_changes"].create({"seq": int, "passage_id": int}, pk="seq")
    for event, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        db.execute(
            f"CREATE TRIGGER passages_{event.lower()}_log AFTER {event} ON passages "
            f"BEGIN INSERT INTO passage_changes (passage_id) VALUES ({ref}.id); END"
        )


@migrations()
def m050_label_files_pending(db):
    """Documents whose label file may lag behind a committed label change."""
    # Written in the same transaction as the change and cleared once the file is rewritten, so a
    # crash or a full disk between the two leaves a record that `reconcile` can act on.
    db["label_files_pending"].create({"document": str, "change": int}, pk="document", not_null={"change"})


@migrations()
def m060_topics_version(db):
    """A counter that every change to the topics bumps, so processes can cache the taxonomy."""
    db["counters"].create({"name": str, "value": int}, pk="name")
    db["counters"].insert({"name": "topics", "value": 0})
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER topics_{event.lower()}_count AFTER {event} ON topics "
            "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'topics'; END"
        )


@migrations()
def m070_comparison_indexes(db):
    """Covering indexes for a topic's labels and their passages."""
    # A topic page reads every label of its topic; with these it never visits the tables
    # themselves, which made it about three times faster on a 10k-passage corpus.
    db["labels"].create_index(["topic", "document", "position", "text_hash", "annotator", "stance", "holder"])
    db["passages"].create_index(["document", "position", "text_hash", "kind"])


@migrations()
def m080_data_version(db):
    """A counter that every change to what the comparison shows bumps, for per-process caches."""
    db["counters"].insert({"name": "data", "value": 0}, replace=True)
    for table in ("documents", "passages", "labels", "links", "topics"):
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_data AFTER {event} ON {table} "
                "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'data'; END"
            )


@migrations()
def m090_links_file_pending(db):
    """How far labels/links.jsonl lags behind committed link changes."""
    # Every link change bumps `changes` in the transaction that makes it; rewriting the file
    # raises `written` to the count it read before reading the links. The file may lag while
    # changes > written, and since neither number ever goes back, a slow writer cannot clear the
    # mark of a change it did not see.
    db["links_file"].create({"id": int, "changes": int, "written": int}, pk="id", not_null={"changes", "written"})
    db["links_file"].insert({"id": 1, "changes": 0, "written": 0})


@migrations()
def m100_annotator_roles_and_sessions(db):
    """Which accounts may adjudicate, and a per-account counter that ends its sessions."""
    # Existing accounts start as ordinary annotators: adjudicating is granted, never assumed.
    db["annotators"].add_column("adjudicator", int, not_null_default=0)
    # A session remembers the generation it signed in under; signing out or changing the
    # password bumps it, so a copied cookie stops working on the server, not just in the browser.
    db["annotators"].add_column("session_generation", int, not_null_default=0)


@migrations()
def m110_consensus(db):
    """Each passage's consensus on each topic and its counts, kept in step on write (labels/consensus.py)."""
    for statement in (
        "CREATE TABLE consensus (document TEXT NOT NULL, position INTEGER NOT NULL, topic TEXT NOT NULL, "
        "passage INTEGER NOT NULL, stance TEXT NOT NULL, contested INTEGER NOT NULL, holder TEXT NOT NULL, "
        "date TEXT NOT NULL, PRIMARY KEY (document, position, topic)) WITHOUT ROWID",
        # One per order and filter of a topic page: stance columns, holder rows and filter, source
        # rows and filter (within a document, stance then date order).
        "CREATE INDEX consensus_by_stance ON consensus (topic, stance, date DESC, document, position)",
        "CREATE INDEX consensus_by_holder ON consensus (topic, holder, stance, date DESC, document, position)",
        # Covering for the counts under a text or holder filter, which visit every row of a topic.
        "CREATE INDEX consensus_by_topic ON consensus (topic, document, stance, date DESC, position, passage, holder)",
        "CREATE INDEX consensus_by_passage ON consensus (passage, topic)",
        "CREATE TABLE consensus_counts (topic TEXT NOT NULL, stance TEXT NOT NULL, document TEXT NOT NULL, "
        "n INTEGER NOT NULL, PRIMARY KEY (topic, stance, document)) WITHOUT ROWID",
        "CREATE INDEX consensus_counts_by_document ON consensus_counts (document)",
        "CREATE TABLE consensus_documents (document TEXT PRIMARY KEY, content INTEGER NOT NULL, "
        "labelled INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE TABLE consensus_pending (document TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (document, "
        "position)) WITHOUT ROWID",
    ):
        db.execute(statement)
    # Whatever code path writes, the places it touched are noted here in its own transaction. Not
    # OR IGNORE: the outer statement's conflict policy (an upsert's) would override the trigger's.
    mark = """INSERT INTO consensus_pending (document, position) SELECT {0}.document, {0}.position
        WHERE NOT EXISTS (SELECT 1 FROM consensus_pending c WHERE c.document = {0}.document
        AND c.position = {0}.position);"""
    for table in ("labels", "passages"):
        for event, refs in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            body = " ".join(mark.format(r) for r in refs)
            db.execute(f"CREATE TRIGGER {table}_{event.lower()}_consensus AFTER {event} ON {table} BEGIN {body} END")
    for event, ref in (("UPDATE", "NEW"), ("DELETE", "OLD")):
        db.execute(
            f"CREATE TRIGGER documents_{event.lower()}_consensus AFTER {event} ON documents BEGIN "
            "INSERT INTO consensus_pending (document, position) SELECT p.document, p.position FROM passages p "
            f"WHERE p.document = {ref}.id AND NOT EXISTS (SELECT 1 FROM consensus_pending c "
            "WHERE c.document = p.document AND c.position = p.position); END"
        )
    db.execute("INSERT INTO consensus_pending (document, position) SELECT document, position FROM passages")


@migrations()
def m120_argument_corrections(db):
    """People's corrections to a topic's key arguments, in log order, and how far labels/arguments.jsonl lags."""
    # Anchored like links on (document, position) with the texts they were made on, so they survive
    # a rebuild and are left out once a text changes. The id is the order the log replays in.
    db["argument_corrections"].create(
        {
            "id": int,
            "topic": str,
            "action": str,
            "document": str,
            "position": int,
            "text": str,
            "to_document": str,
            "to_position": int,
            "to_text": str,
            "name": str,
            "annotator": str,
            "updated": str,
        },
        pk="id",
        not_null={"topic", "action", "document", "position", "text", "to_document", "to_position", "to_text",
                  "name", "annotator", "updated"},
    )
    db["argument_corrections"].create_index(["topic", "id"])
    # Key arguments are a page of the data like any other, so their caches must see a correction.
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER argument_corrections_{event.lower()}_data AFTER {event} ON argument_corrections "
            "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'data'; END"
        )
    # As links_file (m090): changes counted in each change's transaction, written raised by an export.
    db["argument_corrections_file"].create(
        {"id": int, "changes": int, "written": int}, pk="id", not_null={"changes", "written"}
    )
    db["argument_corrections_file"].insert({"id": 1, "changes": 0, "written": 0})


@migrations()
def m130_documents_version(db):
    """A counter that only changes to documents bump, so their titles outlive the label saves that bump `data`."""
    db["counters"].insert({"name": "documents", "value": 0}, replace=True)
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER documents_{event.lower()}_documents AFTER {event} ON documents "
            "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'documents'; END"
        )
