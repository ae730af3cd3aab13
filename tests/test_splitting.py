"""The splitter finds paragraphs and tells content from page furniture."""

from pathlib import Path

import pytest

from webapp.corpus import splitting
from webapp.corpus.splitting import split

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def kinds_of(name: str) -> dict[int, str]:
    """Positions and kinds of one seed document's passages."""
    return {p.position: p.kind for p in split((SEEDS / name).read_text(encoding="utf-8"))}


@pytest.mark.parametrize(
    ("document", "position", "kind", "start"),
    [
        ("000_26419f1f75a7eb13.txt", 0, splitting.HEADING, "OP-ED: Collaborating"),
        ("000_26419f1f75a7eb13.txt", 1, splitting.BYLINE, "By Mehdi Kassou"),
        ("000_26419f1f75a7eb13.txt", 13, splitting.AUTHOR_BLURB, "Mehdi Kassou is Director"),
        ("000_26419f1f75a7eb13.txt", 14, splitting.AUTHOR_BLURB, "This op-ed was originally"),
        ("000_26419f1f75a7eb13.txt", 15, splitting.DISCLAIMER, "Legal Disclaimer:"),
        ("000_26419f1f75a7eb13.txt", 16, splitting.DISCLAIMER, "EIN Presswire provides"),
        ("001_f899d59df6dd666f.txt", 0, splitting.HEADING, "The Taliban and International"),
        ("001_f899d59df6dd666f.txt", 1, splitting.REPEATED, "The Taliban regime in Afghanistan"),
        ("001_f899d59df6dd666f.txt", 10, splitting.BYLINE, "Georgi Asatrian"),
        ("001_f899d59df6dd666f.txt", 12, splitting.AUTHOR_BLURB, "Georgi Asatryan, associate"),
        ("002_ce58d6deddc87eed.txt", 0, splitting.NAVIGATION, "Home Neighbours"),
        ("002_ce58d6deddc87eed.txt", 2, splitting.CAPTION, "Afghan refugees in Pakistan"),
        ("002_ce58d6deddc87eed.txt", 10, splitting.NAVIGATION, "Nitin A Gokhale WhatsApp"),
        ("003_bbfe681b051be986.txt", 1, splitting.AD, "Advertisment"),
        ("003_bbfe681b051be986.txt", 2, splitting.HEADING, "Escalating Crisis"),
        ("003_bbfe681b051be986.txt", 7, splitting.HEADING, "Looking Forward"),
        ("004_1cda40431279602b.txt", 0, splitting.HEADING, "Afghanistan: Unexpected offer"),
    ],
)
def test_each_kind_of_page_furniture_in_the_seeds_is_recognised(document, position, kind, start):
    passage = split((SEEDS / document).read_text(encoding="utf-8"))[position]
    assert passage.text.startswith(start)
    assert passage.kind == kind
    assert not passage.is_content


def test_the_body_of_every_seed_is_content():
    kinds = kinds_of("004_1cda40431279602b.txt")
    assert [k for pos, k in kinds.items() if pos > 0] == [splitting.CONTENT] * 20
    assert kinds_of("001_f899d59df6dd666f.txt")[2] == splitting.CONTENT


def test_a_standfirst_repeated_by_the_next_paragraph_is_kept_but_marked():
    text = "Title\n\n" + "A long standfirst that the body repeats, word for word, at its start.\n\n"
    text += "A long standfirst that the body repeats, word for word, at its start. And then more."
    assert [p.kind for p in split(text)] == [splitting.HEADING, splitting.REPEATED, splitting.CONTENT]


def test_a_paragraph_repeated_later_is_marked_repeated():
    para = "Officials said the plan would go ahead despite the objections raised last week."
    passages = split(f"{para}\n\nSomething else entirely happened in the meantime, they said.\n\n{para}")
    assert [p.kind for p in passages] == [splitting.CONTENT, splitting.CONTENT, splitting.REPEATED]


BODY = "European officials met Taliban representatives in Kabul last week. The talks were technical."


def kind_among_prose(line: str) -> str:
    """The kind a line gets below a title and a byline, with the body of an article after it."""
    body = [f"{BODY} Paragraph {n}." for n in range(5)]
    return split("\n\n".join(["Talks in Kabul", "By Jane Doe", BODY, line, *body]))[3].kind


@pytest.mark.parametrize(
    ("furniture", "prose", "kind"),
    [
        (
            ["- 7 Hours ago", "7 Hours ago", "- 2 days ago", "Updated 3 min ago", "Posted: an hour ago"],
            ["Talks ended 7 hours ago.", "Two days ago, the border reopened.", "Hours ago, nobody knew."],
            splitting.BYLINE,
        ),
        (
            ["- Web Desk", "News Desk", "Staff Reporter", "Our Correspondent", "- By AFP", "AFP / Reuters",
             "Web Desk | 7 hours ago"],
            ["The news desk was told to stand down.", "Web Desk editors confirmed the story.",
             "Staff reporters walked out over pay.", "Reuters reported the deal on Monday.",
             "AFP said the figures were provisional."],
            splitting.BYLINE,
        ),
        (
            ["-", "•", "—", "* * *"],
            ["- The talks resume on Monday.", "- 5 people were killed.", "-5°C overnight, and colder tomorrow.",
             "Yes.", "Why?"],
            splitting.NAVIGATION,
        ),
    ],
    ids=["time since publication", "desk, staff and agency credits", "lone dashes and bullets"],
)
def test_news_page_furniture_is_not_content_but_short_sentences_like_it_are(furniture, prose, kind):
    assert {line: kind_among_prose(line) for line in furniture} == dict.fromkeys(furniture, kind)
    assert {line: kind_among_prose(line) for line in prose} == dict.fromkeys(prose, splitting.CONTENT)


def test_hard_wrapped_paragraphs_are_joined_and_blank_lines_separate_them():
    text = (
        "The first paragraph is wrapped at a fixed width like an email or a\n"
        "plain text file, and continues on this line before it ends here.\n"
        "\n"
        "The second paragraph is also wrapped the same way in the source file,\n"
        "so the splitter must join its lines back into one passage of text.\n"
    )
    passages = split(text)
    assert len(passages) == 2
    assert passages[0].text.endswith("before it ends here.")
    assert "\n" not in passages[1].text


def test_one_paragraph_per_line_without_blank_lines():
    text = "First paragraph is a full sentence of prose.\nSecond one is as well, and it ends.\n"
    assert [p.text for p in split(text)] == [
        "First paragraph is a full sentence of prose.",
        "Second one is as well, and it ends.",
    ]


def test_positions_count_every_passage_and_hashes_follow_the_text():
    passages = split("Heading\n\nBody text of the article, a full sentence.\n")
    assert [p.position for p in passages] == [0, 1]
    assert passages[1].text_hash == splitting.text_hash("Body text of the article, a full sentence.")
    assert passages[0].text_hash != passages[1].text_hash


def test_windows_line_endings_and_odd_whitespace_are_normalised():
    passages = split("One sentence here, with\u00a0a non-breaking space.\r\n\r\nAnother full sentence here.\r\n")
    assert [p.text for p in passages] == ["One sentence here, with a non-breaking space.", "Another full sentence here."]


def test_empty_text_has_no_passages():
    assert split("") == []
    assert split("\n \n\t\n") == []
