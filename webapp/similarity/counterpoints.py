"""Which passages are counterpoints to a passage: chosen by their labels, never by their words.

A counterpoint takes the opposite stance on a topic the passage takes a side on. Stances are
consensus stances by the one rule every page uses (labels/current.py), so a passage whose
annotators disagree counts with the stance the comparison shows. Similarity plays no part in
the choice, only in the order (index.counterpoints): a counterpoint that shares no word with
the passage is still one.

Favour and against are each other's opposite. Neutral has none: a neutral passage reports or
weighs views without holding one, so there is nothing to counter, and every stance on its
topic is already on the "Same topic" tab. A passage that is neutral on all its topics (or
unlabelled) has no counterpoints.
"""

from __future__ import annotations

from webapp.labels import current

OPPOSITE = {"favour": "against", "against": "favour"}

# The votes that count on one topic, of the passages with a vote for the wanted stance (only
# they can have it as consensus). Labels that do not count may pass the inner filter: it only
# spares the outer one (the rule) from reading every label of the topic, which at 100k passages
# took 0.1 s of CPU instead of 0.07.
_VOTES = f"""SELECT p.id, p.document, group_concat(l.stance)
    FROM labels l JOIN passages p ON {current.SAME_TEXT}
    WHERE p.kind = 'content' AND l.topic = :topic AND {current.NOT_OVERRULED}
    AND (l.document, l.position) IN (SELECT document, position FROM labels WHERE topic = :topic AND stance = :stance)
    GROUP BY l.document, l.position"""


def sides(db, passage_id: int) -> dict[str, str]:
    """The stance a counterpoint must take, per topic on which the passage takes a side."""
    stances = current.passage_stances(db, [passage_id]).get(passage_id, {})
    return {topic: OPPOSITE[stance] for topic, stance in stances.items() if stance in OPPOSITE}


def opposing(db, wanted: dict[str, str]) -> dict[int, str]:
    """Content passages whose consensus stance is the wanted one on a topic, with their documents."""
    found: dict[int, str] = {}
    for topic, stance in sorted(wanted.items()):
        for passage_id, document, votes in db.execute(_VOTES, {"topic": topic, "stance": stance}):
            if current.consensus(votes.split(","))[0] == stance:
                found[passage_id] = document
    return found
