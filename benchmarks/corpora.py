"""Benchmark corpora written as Counterpoint corpus folders: Perspectrum and synthetic ones.

Each corpus is a folder with `labels/taxonomy.toml` and a JSON Lines file of pre-split,
labelled passages in the format `counterpoint documents import --jsonl` reads.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PERSPECTRUM = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "perspectrum"
STANCE = {"SUPPORT": "favour", "UNDERMINE": "against"}


def perspectrum_claims(data_dir: Path = PERSPECTRUM) -> tuple[list[dict], dict[int, str]]:
    """The claims and the perspective texts of the Perspectrum dataset."""
    claims = json.loads((data_dir / "perspectrum_with_answers_v1.0.json").read_text(encoding="utf-8"))
    pool = json.loads((data_dir / "perspective_pool_v1.0.json").read_text(encoding="utf-8"))
    return claims, {p["pId"]: p["text"] for p in pool}


def write_taxonomy(folder: Path, topics: list[tuple[str, str, str]]) -> None:
    """Write a taxonomy of (id, name, target) topics."""
    lines = []
    for topic_id, name, target in topics:
        lines += ["[[topics]]", f"id = {json.dumps(topic_id)}", f"name = {json.dumps(name)}",
                  f"target = {json.dumps(target)}", ""]
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    (folder / "labels" / "taxonomy.toml").write_text("\n".join(lines), encoding="utf-8")


def perspectrum_corpus(folder: Path) -> Path:
    """Every perspective as a passage; a claim is both a document and a topic (~11.8k passages)."""
    claims, texts = perspectrum_claims()
    write_taxonomy(folder, [(f"claim_{c['cId']}", c["text"][:80], c["text"]) for c in claims])
    path = folder / "passages.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for claim in claims:
            for cluster in claim["perspectives"]:
                for pid in cluster["pids"]:
                    out.write(json.dumps({
                        "document": f"claim-{claim['cId']}",
                        "title": claim["text"],
                        "outlet": claim.get("source", ""),
                        "text": texts[pid],
                        "labels": [{
                            "topic": f"claim_{claim['cId']}",
                            "stance": STANCE[cluster["stance_label_3"]],
                            "holder": claim.get("source", "") or None,
                            "annotator": "perspectrum",
                        }],
                    }, ensure_ascii=False) + "\n")
    return path


def synthetic_corpus(folder: Path, passages: int, documents: int, seed: int = 7) -> Path:
    """`passages` labelled passages over `documents` documents, built from Perspectrum sentences.

    Texts recombine two to five real perspectives so lengths and vocabulary look like prose;
    each passage gets one or two of eight topics with a random stance and one of 300 holders.
    """
    rng = random.Random(seed)
    _claims, texts = perspectrum_claims()
    sentences = list(texts.values())
    topics = [(f"topic_{i}", f"Topic {i}", f"Proposition number {i} is right.") for i in range(8)]
    write_taxonomy(folder, topics)
    holders = [f"Holder {i}" for i in range(300)]
    outlets = [f"Outlet {i}" for i in range(40)]
    path = folder / "passages.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(passages):
            doc = n * documents // passages
            chosen = rng.sample(topics, rng.choice((1, 1, 2)))
            out.write(json.dumps({
                "document": f"doc-{doc:05d}",
                "title": f"Synthetic document {doc}",
                "outlet": outlets[doc % len(outlets)],
                "date": f"20{15 + doc % 10}-{1 + doc % 12:02d}-{1 + doc % 28:02d}",
                "text": " ".join(rng.sample(sentences, rng.randint(2, 5))),
                "labels": [{
                    "topic": t[0],
                    "stance": rng.choice(("favour", "neutral", "against")),
                    "holder": rng.choice(holders),
                    "annotator": "synthetic",
                } for t in chosen],
            }, ensure_ascii=False) + "\n")
    return path
