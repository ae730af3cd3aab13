// The brief's "Print / PDF" button: shown only when this script runs, since without it the button would do nothing.
(function () {
  "use strict";
  function reveal() {
    document.querySelectorAll(".print-brief").forEach(function (button) { button.hidden = false; });
  }
  reveal();
  // htmx runs this file again after each boosted visit to a brief; one click handler is enough.
  if (window.counterpointBriefPrint) return;
  window.counterpointBriefPrint = true;
  document.addEventListener("htmx:load", reveal);
  document.addEventListener("click", function (event) {
    if (event.target.closest(".print-brief")) window.print();
  });
})();
