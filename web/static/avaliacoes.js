// The agent's "Avaliações" panel: the newest QA reviews of their calls (GET /api/v1/me/reviews).
// Self-contained (the desk's own script does not know it): it adds its panel to the desk's side column.
(function () {
  "use strict";
  var SHOWN = 5;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function brDate(iso) {
    var d = new Date(new Date(iso).getTime() - 3 * 3600 * 1000);  // Brasília, UTC-3
    return pad(d.getUTCDate()) + "/" + pad(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear();
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function render(list, items) {
    list.textContent = "";
    if (!items.length) {
      list.appendChild(el("li", "Nenhuma avaliação ainda.", "hint"));
      return;
    }
    items.slice(0, SHOWN).forEach(function (r) {
      var li = el("li");
      li.setAttribute("data-testid", "my-review");
      var head = el("strong", "Nota " + r.score.replace(".", ",") + (r.zeroed ? " (zerada: item crítico)" : ""));
      li.appendChild(head);
      li.appendChild(el("span", " · chamada de " + brDate(r.call_started_at) + " · " + r.reviewer_name, "hint"));
      var missed = (r.items || []).filter(function (i) { return r.answers[i.key] === false; });
      if (missed.length) {
        li.appendChild(el("div", "A melhorar: " + missed.map(function (i) { return i.label; }).join("; ")));
      }
      if (r.feedback) li.appendChild(el("div", "“" + r.feedback + "”"));
      list.appendChild(li);
    });
  }

  function load(list) {
    fetch("/api/v1/me/reviews", { credentials: "same-origin" }).then(function (resp) {
      return resp.ok ? resp.json() : { items: [] };
    }).then(function (body) { render(list, body.items); }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    var host = document.querySelector("aside.side") || document.querySelector("main");
    if (!host) return;
    var panel = el("section", null, "panel reviews");
    panel.setAttribute("aria-label", "Avaliações");
    panel.setAttribute("data-testid", "my-reviews");
    var title = el("h2", "Avaliações");
    var refresh = el("button", "Atualizar", "button ghost");
    refresh.type = "button";
    title.appendChild(document.createTextNode(" "));
    title.appendChild(refresh);
    var list = el("ul", null, "events");
    panel.appendChild(title);
    panel.appendChild(list);
    host.appendChild(panel);
    refresh.addEventListener("click", function () { load(list); });
    load(list);
  });
})();
