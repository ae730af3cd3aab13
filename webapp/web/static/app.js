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
