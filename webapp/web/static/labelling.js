// Keyboard labelling for the label widget (form.label-form). The keys come from the form's
// data-key-* attributes, which the server picks so they never clash with the topics' own keys.
// Listeners sit on the document, so a widget swapped in by htmx works without rebinding.
(function () {
  "use strict";

  const STANCES = ["favour", "neutral", "against"];

  function textField(el) {
    return el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type));
  }

  function rows(form) { return Array.from(form.querySelectorAll(".topic-row")); }
  function activeRow(form) { return form.querySelector(".topic-row.active"); }
  function stanceOf(row) {
    const checked = row.querySelector('input[type="radio"]:checked');
    return checked ? checked.value : "";
  }

  function refresh(form) {
    // Mirror the radios in classes, and say what Enter will save.
    let any = false;
    rows(form).forEach(function (row) {
      const on = stanceOf(row) !== "";
      row.classList.toggle("on", on);
      if (on) row.classList.remove("pending");
      any = any || on || row.classList.contains("pending");
    });
    form.classList.toggle("no-topic", !any);
  }

  function activate(form, row) {
    rows(form).forEach(function (r) { r.classList.toggle("active", r === row); });
    const holder = row.querySelector('input[name^="holder-"]');
    if (holder && !holder.value) {
      // Most passages speak in one voice: start from the holder already given on another topic.
      const other = rows(form).find(function (r) {
        return r !== row && stanceOf(r) && r.querySelector('input[name^="holder-"]').value;
      });
      if (other) holder.value = other.querySelector('input[name^="holder-"]').value;
    }
  }

  // A topic key selects its topic, keeping any stance it has, so a pre-filled suggestion is
  // accepted rather than wiped. Only on the topic already selected does the key drop it.
  function pick(form, row) {
    if (row === activeRow(form)) {
      row.querySelector('input[type="radio"][value=""]').checked = true;
      row.classList.remove("pending", "active");
    } else {
      if (!stanceOf(row)) row.classList.add("pending");
      activate(form, row);
    }
    say(form, "");
    refresh(form);
  }

  // Accepting takes the model's proposal as it stood, so it also undoes changes made to those topics.
  function acceptSuggestions(form) {
    form.querySelectorAll(".topic-row[data-suggested]").forEach(function (row) {
      row.querySelector('input[type="radio"][value="' + row.dataset.suggested + '"]').checked = true;
    });
    say(form, "");
    refresh(form);
  }

  // The holder key needs no topic key first when only one topic is chosen, as with a lone suggestion.
  function holderRow(form) {
    const chosen = rows(form).filter(function (r) { return stanceOf(r) || r.classList.contains("pending"); });
    return activeRow(form) || (chosen.length === 1 ? chosen[0] : null);
  }

  function setStance(form, stance) {
    const row = activeRow(form);
    if (!row) { say(form, "Press a topic key first, then the stance."); return; }
    row.querySelector('input[type="radio"][value="' + stance + '"]').checked = true;
    say(form, "");
    refresh(form);
  }

  function say(form, message) {
    const problem = form.querySelector(".problem");
    problem.textContent = message;
    problem.hidden = !message;
  }

  function click(selector) {
    const el = document.querySelector(selector);
    if (el) el.click();
  }

  document.addEventListener("keydown", function (event) {
    const form = document.querySelector("form.label-form");
    if (!form || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (document.getElementById("shortcuts").open) return;
    const target = event.target;
    if (textField(target)) return;
    const keys = form.dataset;
    const key = event.key;
    const row = rows(form).find(function (r) { return r.dataset.key && r.dataset.key === key; });
    const stance = STANCES.find(function (s) { return keys["key" + s[0].toUpperCase() + s.slice(1)] === key; });
    let handled = true;
    if (row) pick(form, row);
    else if (stance) setStance(form, stance);
    else if (key === keys.keyHolder) {
      const chosen = holderRow(form);
      if (chosen) {
        activate(form, chosen);
        chosen.querySelector('input[name^="holder-"]').focus();
      } else say(form, "Press a topic key first, then the holder key.");
    } else if (key === keys.keyAccept) acceptSuggestions(form);
    else if (key === "Enter" && !["BUTTON", "A", "SUMMARY"].includes(target.tagName)) form.requestSubmit();
    else if (key === keys.keySkip) click('[data-action="skip"]');
    else if (key === keys.keyUndo) click('[data-action="undo"]');
    else if (key === "?" && target.tagName === "INPUT") {
      // app.js leaves "?" alone while any input has focus; radios are not for typing.
      document.getElementById("shortcuts").showModal();
    } else handled = false;
    if (handled) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    const form = event.target.closest("form.label-form");
    if (!form || event.target.type !== "radio") return;
    const row = event.target.closest(".topic-row");
    if (event.target.value) activate(form, row);
    refresh(form);
  });

  // A click on a topic's controls selects it, but focus alone does not: Tab and Shift-Tab pass
  // through other topics on the way to the note or the save button, and must not retarget the
  // stance keys or copy a holder into them.
  document.addEventListener("click", function (event) {
    const form = event.target.closest && event.target.closest("form.label-form");
    const row = form && event.target.closest(".topic-row");
    if (row) activate(form, row);
  });

  // Capture phase, so a topic still waiting for its stance stops the save before htmx sends it.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches("form.label-form")) return;
    const waiting = form.querySelector(".topic-row.pending");
    if (waiting) {
      event.preventDefault();
      event.stopImmediatePropagation();
      // The message offers the stance keys and this topic's key, so both must act on this topic.
      activate(form, waiting);
      const name = waiting.querySelector(".topic-name strong").textContent;
      say(form, "Choose a stance for " + name + " (" + [form.dataset.keyFavour, form.dataset.keyNeutral,
        form.dataset.keyAgainst].join(" / ") + "), or press " + waiting.dataset.key + " again to drop it.");
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function () {
    const form = document.querySelector("form.label-form");
    if (form) refresh(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.querySelector("form.label-form");
    if (form) refresh(form);
  });
})();
