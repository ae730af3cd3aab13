"""A JSONL batch of any size, imported in two streaming passes: check every line, then write by chunks.

The first pass (`scan`) keeps only what the whole file decides: document names, metadata,
passage counts and last lines (`batches.LineReader`). It also writes each line's checked
document, text and labels to a spool file. The second (`save`) reads the spool back and stores
complete documents a chunk at a time through `sources.store_documents` and `mirror.store`,
inside one transaction, copying them to a temporary seed file as it goes. A problem anywhere
rolls the transaction back and leaves seeds/ and labels/ as they were.
"""

from __future__ import annotations

import filecmp
import itertools
import marshal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from webapp.corpus import sources
from webapp.corpus.textfiles import BadInput, check_new_name, document_name
from webapp.labels import batches, mirror
from webapp.labels.records import FIELDS, LabelRecord
from webapp.store.db import bulk_cache
from webapp.store.files import WrittenFiles

# Passages stored per chunk: large enough that each bulk statement's fixed cost is spread thin,
# small enough that a chunk's texts and labels take a few megabytes.
CHUNK_PASSAGES = 10_000
# The progress callback is told of bytes read this many lines at a time, so drawing costs nothing.
PROGRESS_LINES = 1_000

Progress = Callable[[int], object]


def lines(path: Path, progress: Progress | None = None) -> Iterator[tuple[int, str]]:
    """Number and text of each line of a UTF-8 file, read one at a time and split at "\\n" only.

    Not text mode, whose newline translation would break a line at a bare "\\r" (JSON
    whitespace); `progress` is told how many bytes were read since it was last called.
    """
    offset = reported = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise BadInput(
                    f"{path.name} is not valid UTF-8 text: byte 0x{raw[exc.start]:02x} at position"
                    f" {offset + exc.start} cannot be decoded as UTF-8. Save the file as UTF-8 and try again."
                ) from None
            offset += len(raw)
            if progress and number % PROGRESS_LINES == 0:
                progress(offset - reported)
                reported = offset
            yield number, line[:-1] if line.endswith("\n") else line
    if progress:
        progress(offset - reported)


def scan(path: Path, reader: batches.LineReader, spool: Path, progress: Progress | None = None
         ) -> dict[str, dict[str, str]]:
    """Check every line of a batch file, keeping what each good line reads as in `spool` for `save`;
    each document's metadata, else BadInput naming file and lines."""
    with spool.open("wb") as out:
        for number, line in lines(path, progress):
            if (read := reader.read(number, line)) is not None:
                name, text, labels = read
                marshal.dump((number, name, text, [_fields(r) for r in labels]), out)
    try:
        return reader.finish()
    except BadInput as exc:
        raise BadInput(str(exc), [f"{path.name} {p}" for p in exc.problems]) from None


def _fields(record: LabelRecord) -> tuple:
    # A plain tuple in FIELDS order but the text, which is the line's own; marshal writes it and
    # LabelRecord(*fields, text) reads it back.
    return tuple(getattr(record, f) for f in FIELDS[:-1])


def _spooled(spool: Path, total: int, progress: Progress | None) -> Iterator[tuple[int, str, str, list[LabelRecord]]]:
    """The lines `scan` kept, in file order.

    Reading the spool back takes a fraction of parsing and checking the JSON again. Progress is
    told in bytes of the batch file (`total`), in proportion to the spool read so far.
    """
    size = spool.stat().st_size or 1
    reported = 0
    with spool.open("rb") as handle:
        for count in itertools.count(1):
            try:
                number, name, text, labels = marshal.load(handle)
            except EOFError:
                break
            if progress and count % PROGRESS_LINES == 0:
                done = handle.tell() * total // size
                progress(done - reported)
                reported = done
            yield number, name, text, [LabelRecord(*fields, text) for fields in labels]
    if progress:
        progress(total - reported)


def save(db, seeds_dir: Path, labels_dir: Path, path: Path, reader: batches.LineReader,
         metadata: dict[str, dict[str, str]], spool: Path, progress: Progress | None = None) -> batches.BatchSaved:
    """Import a batch file `scan` accepted into `spool`, with `reader`, its topics and labels, in one transaction.

    Writes `seeds/<file name>` unless a seed file holds the same documents already; then
    importing it again changes nothing. Documents already in the corpus from elsewhere are refused.
    """
    name = check_new_name(document_name(path.name, sources.PRESPLIT_SUFFIX))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / name
        try:
            batches.refuse_existing(db, seeds_dir, list(reader.counts))
        except BadInput:
            # Documents already in the corpus are refused unless a seed file holds this very batch,
            # which a first pass without writes finds out (importing the same file again is allowed).
            _copy(spool, reader, metadata, copy)
            if not batches.seed_file(seeds_dir, name, lambda p: filecmp.cmp(p, copy, shallow=False))[1]:
                raise
        read = _spooled(spool, path.stat().st_size, progress)
        return _write(db, seeds_dir, labels_dir, read, reader, metadata, copy)


def _copy(spool: Path, reader: batches.LineReader, metadata: dict[str, dict[str, str]], copy: Path) -> None:
    """Write the seed file a batch becomes to `copy`."""
    with copy.open("w", encoding="utf-8", newline="\n") as out:
        for documents, _labels in _chunks(_spooled(spool, 0, None), reader, metadata):
            out.write(sources.format_presplit(documents))


def _write(db, seeds_dir: Path, labels_dir: Path, read: Iterator, reader: batches.LineReader,
           metadata: dict[str, dict[str, str]], copy: Path) -> batches.BatchSaved:
    with bulk_cache(db), db.atomic(), WrittenFiles() as files:
        contents = batches.add_topics(db, labels_dir, reader.new_topics) if reader.new_topics else {}
        results, labelled, stored = [], set(), 0
        with copy.open("w", encoding="utf-8", newline="\n") as out:
            for documents, labels in _chunks(read, reader, metadata):
                results += sources.store_documents(db, documents)
                changed = batches.changed_labels(db, labels)
                mirror.store(db, changed)
                labelled.update(r.document for r in changed)
                stored += len(changed)
                out.write(sources.format_presplit(documents))
        seed, same = batches.seed_file(seeds_dir, copy.name, lambda p: filecmp.cmp(p, copy, shallow=False))
        if not same:
            contents = {seed: copy, **contents}
        # Seed, taxonomy and label files are written together, so a crash leaves all or none.
        files.write_many(batches.LabelFiles(db, labels_dir, labelled, contents))
    return batches.BatchSaved(seed.name, results, stored, tuple(reader.new_topics), batches.without_target(reader.new_topics))


def _chunks(read: Iterator[tuple[int, str, str, list[LabelRecord]]], scanned: batches.LineReader,
            metadata: dict[str, dict[str, str]]) -> Iterator[tuple[list[sources.SplitDocument], list[LabelRecord]]]:
    """Complete documents, in the order they first appear, a chunk of about CHUNK_PASSAGES passages at a time.

    A document is complete at its last line (which the first pass found), so a file whose
    documents are contiguous holds about one chunk in memory; one that interleaves them holds
    the documents still open. `scanned` is the first pass's reader, which knows the last lines.
    """
    open_documents: dict[str, tuple[list[str], list[LabelRecord]]] = {}
    done: set[str] = set()
    buffered = 0
    for number, name, text, labels in read:
        texts, records = open_documents.setdefault(name, ([], []))
        texts.append(text)
        records += labels
        buffered += 1
        if number == scanned.last_line[name]:
            done.add(name)
            if buffered >= CHUNK_PASSAGES and (ready := _leading(open_documents, done)):
                buffered -= sum(len(open_documents[d][0]) for d in ready)
                yield _documents(ready, open_documents, done, metadata)
    if open_documents:
        yield _documents(list(open_documents), open_documents, done, metadata)


def _leading(open_documents: dict, done: set[str]) -> list[str]:
    """The complete documents before the first incomplete one: they leave in first-appearance order,
    as `parse_jsonl` lists them."""
    ready = []
    for name in open_documents:
        if name not in done:
            break
        ready.append(name)
    return ready


def _documents(names: list[str], open_documents: dict, done: set[str], metadata: dict[str, dict[str, str]]
               ) -> tuple[list[sources.SplitDocument], list[LabelRecord]]:
    documents, labels = [], []
    for name in names:
        texts, records = open_documents.pop(name)
        done.discard(name)
        documents.append(sources.presplit_document(name, texts, metadata[name]))
        labels += records
    return documents, labels
