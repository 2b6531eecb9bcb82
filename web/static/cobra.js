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
  // Date fields are text in the Brazilian order (dd/mm/aaaa) whatever the browser's language: an
  // <input type="date"> shows mm/dd/yyyy in an English browser. The APIs take aaaa-mm-dd.
  function isoFromBr(text) {
    var m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(String(text || "").trim());
    if (!m) return null;
    var d = +m[1], mo = +m[2], y = +m[3];
    var probe = new Date(Date.UTC(y, mo - 1, d));
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null;
    return m[3] + "-" + m[2] + "-" + m[1];
  }
  function brFromIso(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : String(iso || "");
  }
  // typing digits writes the slashes: "05032026" → "05/03/2026"
  function maskDateBr(input) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(input.value)) { input.value = brFromIso(input.value); return; }  // pasted aaaa-mm-dd
    var digits = input.value.replace(/\D/g, "").slice(0, 8);
    var out = digits.slice(0, 2);
    if (digits.length > 2) out += "/" + digits.slice(2, 4);
    if (digits.length > 4) out += "/" + digits.slice(4);
    if (out !== input.value) input.value = out;
  }
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains("date-br") && ev.inputType && ev.inputType.indexOf("delete") !== 0) {
      maskDateBr(t);
    }
  });
  window.cobra = { csrfToken: csrfToken, fetch: cobraFetch, richText: richText, isoFromBr: isoFromBr, brFromIso: brFromIso };
  // the navigation bar marks the page it is on
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".mainnav a").forEach(function (a) {
      if (a.getAttribute("href") === location.pathname) a.setAttribute("aria-current", "page");
    });
  });
})();
