"""Schema migrations, applied in order by `db.connect`."""

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
