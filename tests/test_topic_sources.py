"""A topic's sources when documents change: the source menu and the per-source bars follow at once.

Both are kept per worker beyond a label save (the menu by its content, document titles until a
document changes), so these check that what is kept never outlives the documents it shows.
"""

from conftest import soup

from webapp.labels.build import build

TOPIC = "/topics/deportation"
DOC = "002_ce58d6deddc87eed.txt"
OLD = "Taliban Urges Pakistan Not To Unilaterally Repatriate Afghan Migrants"
NEW = "Kabul's Envoys: A New Title"


def menu(page) -> dict[str, str]:
    """The source menu's options: value -> text."""
    return {o["value"]: o.get_text(" ", strip=True) for o in page.select("select#document option")}


def bars(page) -> list[str]:
    """The source names of the per-source stance bars, after "All sources"."""
    return [name.get_text(strip=True) for name in page.select(".summary .summary-row .name")][1:]


def test_a_retitled_source_shows_its_new_title_in_the_menu_and_the_bars(client, db, corpus):
    before = soup(client.get(TOPIC))
    assert OLD in menu(before)[DOC] and OLD in bars(before)
    sources = corpus / "seeds" / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(f'title = "{OLD}"', f'title = "{NEW}"'),
                       encoding="utf-8")
    build(db, corpus / "seeds", corpus / "labels")
    after = soup(client.get(TOPIC))
    assert NEW in menu(after)[DOC]
    assert NEW in bars(after) and OLD not in bars(after)
    assert OLD not in after.get_text()


def test_the_chosen_source_is_selected_and_the_unfiltered_menu_selects_none(client):
    chosen = soup(client.get(f"{TOPIC}?document={DOC}"))
    assert [o["value"] for o in chosen.select("select#document option[selected]")] == [DOC]
    unfiltered = soup(client.get(TOPIC))
    assert unfiltered.select("select#document option[selected]") == []
    assert len(menu(unfiltered)) == len(menu(chosen))
