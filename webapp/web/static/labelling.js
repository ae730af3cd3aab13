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

  function toggle(form, row) {
    if (stanceOf(row) || row.classList.contains("pending")) {
      row.querySelector('input[type="radio"][value=""]').checked = true;
      row.classList.remove("pending", "active");
    } else {
      row.classList.add("pending");
      activate(form, row);
    }
    say(form, "");
    refresh(form);
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
    let handled = true;
    if (row) toggle(form, row);
    else if (STANCES.some(function (s) { return keys["key" + s[0].toUpperCase() + s.slice(1)] === key; })) {
      setStance(form, STANCES.find(function (s) { return keys["key" + s[0].toUpperCase() + s.slice(1)] === key; }));
    } else if (key === keys.keyHolder) {
      const active = activeRow(form);
      if (active) active.querySelector('input[name^="holder-"]').focus();
      else say(form, "Press a topic key first, then the holder key.");
    } else if (key === "Enter" && !["BUTTON", "A", "SUMMARY"].includes(target.tagName)) form.requestSubmit();
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

  document.addEventListener("focusin", function (event) {
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
