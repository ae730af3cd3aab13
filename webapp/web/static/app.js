// Keyboard shortcuts. Loaded as a file so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  let pendingG = false;

  function typing(event) {
    const el = event.target;
    return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
  }

  function cycleView() {
    const radios = Array.from(document.querySelectorAll('#filters input[name="view"]'));
    if (!radios.length) return;
    const next = radios[(radios.findIndex((r) => r.checked) + 1) % radios.length];
    next.checked = true;
    next.dispatchEvent(new Event("change", { bubbles: true }));
    if (!window.htmx) next.form.submit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const dialog = document.getElementById("shortcuts");
    if (event.key === "Escape" && typing(event)) { event.target.blur(); return; }
    if (typing(event)) return;
    if (event.key === "?") {
      dialog.open ? dialog.close() : dialog.showModal();
      event.preventDefault();
      return;
    }
    if (pendingG) {
      pendingG = false;
      if (event.key === "h") window.location.assign(document.querySelector("header.site .brand").href);
      return;
    }
    if (event.key === "g") { pendingG = true; return; }
    if (event.key === "/") {
      const search = document.getElementById("q");
      if (search) { search.focus(); event.preventDefault(); }
      return;
    }
    if (event.key === "v") { cycleView(); return; }
    if (/^[1-9]$/.test(event.key)) {
      const links = document.querySelectorAll(".matrix .topic-link");
      const link = links[Number(event.key) - 1];
      if (link) link.click();
    }
  });
})();

// Failed htmx requests. htmx 2 swaps nothing on a 4xx or 5xx answer, and a dropped connection
// gives no answer at all, so without this the page just stays put. The server sends htmx its
// message as plain text (errors.py); other answers are read for the message they carry.
(function () {
  "use strict";
  const MAX_LENGTH = 600;
  const UNREACHABLE = "Counterpoint could not be reached, or it closed the connection before answering " +
    "(an upload over the size limit can end this way). Check that it is running, then try again.";

  function region() {
    return document.getElementById("request-error");
  }

  function htmlMessage(body) {
    const page = new DOMParser().parseFromString(body, "text/html");
    const found = page.querySelector(".error-text") || page.querySelector("main [role=alert]") ||
      page.querySelector("title");
    return found ? found.textContent : "";
  }

  function jsonMessage(body) {
    try {
      return String(JSON.parse(body).error || "");
    } catch (e) {
      return "";
    }
  }

  function messageOf(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    const body = xhr.responseText || "";
    let message = "";
    if (type.startsWith("text/plain")) message = body;
    else if (type.startsWith("text/html")) message = htmlMessage(body);
    else if (type.includes("json")) message = jsonMessage(body);
    message = message.trim().replace(/\s+/g, " ").slice(0, MAX_LENGTH);
    return message || `The server answered ${xhr.status} ${xhr.statusText}.`.replace(" .", ".");
  }

  function show(message) {
    const el = region();
    if (!el) return;
    el.textContent = message;
    el.className = "error";
    el.scrollIntoView({ block: "nearest" });
  }

  function clear() {
    const el = region();
    if (el && el.textContent) {
      el.textContent = "";
      el.className = "";
    }
  }

  document.addEventListener("htmx:beforeRequest", clear);
  document.addEventListener("htmx:responseError", (event) => show(messageOf(event.detail.xhr)));
  document.addEventListener("htmx:sendError", () => show(UNREACHABLE));
})();

// Selects marked data-commit-choice send their choice once it is made, not while the person looks
// through the options: htmx listens for the `commit` event sent here. Chromium on Linux and Windows
// changes a closed select, and fires `change`, at every arrow key, so a request on `change` went
// out at the first arrow and re-rendered the add-document preview before the kind wanted was
// reached. A change made by a key press waits for Enter or for leaving the select, and Escape
// takes it back; a change made in the open list (mouse, or Enter there) is sent at once.
(function commitChoices() {
  "use strict";
  let browsing = null; // the select whose value the key press being handled may change
  let pressed = null; // what the pointer press being handled went down on

  function choiceSelect(event) {
    const el = event.target;
    return el instanceof HTMLSelectElement && el.hasAttribute("data-commit-choice") ? el : null;
  }

  function rendered(select) {
    return Array.from(select.options).find((option) => option.defaultSelected) || select.options[0];
  }

  function changed(select) {
    return select.selectedIndex >= 0 && select.options[select.selectedIndex] !== rendered(select);
  }

  function commit(select) {
    if (changed(select)) select.dispatchEvent(new Event("commit"));
  }

  // Capturing, to act before the keyboard shortcuts above blur a select on Escape.
  document.addEventListener("keydown", (event) => {
    const select = choiceSelect(event);
    if (!select) return;
    if (event.key === "Enter" && changed(select)) {
      event.preventDefault(); // Chromium would open the list instead
      commit(select);
    } else if (event.key === "Escape") {
      rendered(select).selected = true;
    } else if (event.key !== "Tab") {
      // The browser changes the value, and fires `change`, before this key press's task ends.
      browsing = select;
      setTimeout(() => { browsing = null; });
    }
  }, true);

  document.addEventListener("change", (event) => {
    const select = choiceSelect(event);
    if (select && select !== browsing) commit(select);
  });

  document.addEventListener("pointerdown", (event) => {
    pressed = event.target;
    setTimeout(() => { pressed = null; });
  }, true);

  // A press on one of the form's buttons sends the form, this choice included. Sending it now as
  // well would swap in a new form under the pointer, and the button would never get its click.
  document.addEventListener("focusout", (event) => {
    const select = choiceSelect(event);
    const button = pressed instanceof Element ? pressed.closest("button, input[type=submit]") : null;
    if (select && !(button && button.form === select.form)) commit(select);
  });
})();

// A form marked data-keep-scroll keeps the page where it was when htmx swaps in a new one. htmx
// inserts the new form before removing the old, and Chromium's scroll anchoring follows the old
// one down, so the page jumped by a form's height. An error in the new form is brought into view
// instead: it is printed at the top of the form, maybe far above the control that was used.
(function keepScrollAcrossSwaps() {
  "use strict";
  let kept = null;

  document.addEventListener("htmx:beforeSwap", (event) => {
    kept = event.detail.target.hasAttribute("data-keep-scroll") ? [window.scrollX, window.scrollY] : null;
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (!kept || !event.target.hasAttribute("data-keep-scroll")) return;
    window.scrollTo(kept[0], kept[1]);
    kept = null;
    const error = event.target.querySelector("[role=alert]");
    if (error) error.scrollIntoView({ block: "nearest" });
  });
})();

// Back and forward show the data as it is now. htmx keeps no page snapshots (historyCacheSize 0
// in base.html), so stepping back to a URL it pushed reloads the page, and the server answers
// that reload with 304 when nothing changed (caching.py). A page the browser restores whole from
// its back/forward cache runs no script and asks the server nothing, so it would show what it
// showed when it was left: reload it too. Reloading costs a 304 when the page is still current.
(function freshAfterHistory() {
  "use strict";
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
})();
