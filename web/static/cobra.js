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
  window.cobra = { csrfToken: csrfToken, fetch: cobraFetch };
  // the navigation bar marks the page it is on
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".mainnav a").forEach(function (a) {
      if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
    });
  });
})();
