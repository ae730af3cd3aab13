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
