// Loaded only by the pages of a published site (counterpoint publish), before htmx reads the page.
// Browsers refuse htmx's requests for file: URLs, so a site opened from disk follows its links as
// plain page loads; from a web server, htmx's boosted links work as in the app.
"use strict";
if (window.location.protocol === "file:") {
  document.body.setAttribute("hx-boost", "false");
}
