// Cobra's small shared helpers for pages. No build step: plain script, loaded with defer.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // fetch() that sends the session's CSRF token, as every state-changing request must
  function cobraFetch(url, options) {
    var opts = Object.assign({ credentials: "same-origin" }, options || {});
    var headers = new Headers(opts.headers || {});
    headers.set("X-CSRF-Token", csrfToken());
    opts.headers = headers;
    return fetch(url, opts);
  }
  // Script text as DOM nodes, never as HTML: the only markup is **negrito** and line breaks.
  // Everything else (a customer called "<img onerror=...>") stays literal text.
  function richText(el, value) {
    el.textContent = "";
    String(value == null ? "" : value).split("\n").forEach(function (line, i) {
      if (i > 0) el.appendChild(document.createElement("br"));
      line.split("**").forEach(function (part, j, parts) {
        if (!part) return;
        // odd pieces sit between a pair of ** (an unpaired trailing ** stays as it was written)
        if (j % 2 === 1 && j < parts.length - 1) {
          var strong = document.createElement("strong");
          strong.textContent = part;
          el.appendChild(strong);
        } else {
          el.appendChild(document.createTextNode(j % 2 === 1 ? "**" + part : part));
        }
      });
    });
  }
  window.cobra = { csrfToken: csrfToken, fetch: cobraFetch, richText: richText };
  // the navigation bar marks the page it is on
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".mainnav a").forEach(function (a) {
      if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
    });
  });
})();
