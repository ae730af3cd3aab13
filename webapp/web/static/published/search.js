// Offline search of a published site: lunr.js over the index that `counterpoint publish` built
// (search-index.js sets window.COUNTERPOINT_SEARCH). Results are made with textContent only, so
// a passage's text is never read as HTML.
"use strict";
(function () {
  const data = window.COUNTERPOINT_SEARCH;
  const form = document.getElementById("search");
  const box = document.getElementById("q");
  const note = document.getElementById("search-note");
  const count = document.getElementById("search-count");
  const list = document.getElementById("search-hits");
  if (!data || !window.lunr || !form) return;
  const index = window.lunr.Index.load(data.index);
  const MAX = 50;

  function search(text) {
    // Terms go in one by one, not as lunr's query syntax, so that "a:b" or "~" in the box is just text.
    const tokens = window.lunr.tokenizer(text);
    if (!tokens.length) return [];
    return index.query(function (query) {
      query.term(tokens);
      query.term(tokens, { usePipeline: false, wildcard: window.lunr.Query.wildcard.TRAILING, boost: 0.1 });
    });
  }

  function hit(ref) {
    const [title, file, position, excerpt] = data.passages[ref];
    const item = document.createElement("li");
    item.className = "card hit";
    const source = item.appendChild(document.createElement("p"));
    source.className = "source";
    const link = source.appendChild(document.createElement("a"));
    link.className = "title";
    link.href = file + "#p-" + position;
    link.textContent = title;
    const where = source.appendChild(document.createElement("span"));
    where.className = "position";
    where.textContent = " passage " + position;
    const body = item.appendChild(document.createElement("p"));
    body.className = "text";
    body.textContent = excerpt;
    return item;
  }

  function show(text) {
    const found = text.trim() ? search(text) : [];
    list.replaceChildren(...found.slice(0, MAX).map(function (r) { return hit(r.ref); }));
    note.hidden = true;
    count.hidden = !text.trim();
    count.textContent = found.length === 0 ? "No passage matches “" + text.trim() + "”."
      : found.length + (found.length === 1 ? " passage" : " passages") + ", best matches first"
        + (found.length > MAX ? " (the first " + MAX + " shown)." : ".");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set("q", box.value);
    // A shareable address where the browser allows it; some refuse to change a file: URL.
    try { window.history.replaceState(null, "", url); } catch (error) { /* the results show all the same */ }
    show(box.value);
  });
  box.addEventListener("input", function () { show(box.value); });
  const asked = new URLSearchParams(window.location.search).get("q") || "";
  box.value = asked;
  note.hidden = true;
  if (asked) show(asked);
})();
