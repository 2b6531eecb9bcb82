// The campaign list (/supervisor/campanhas): every campaign with its status, a link to its page and
// Iniciar / Pausar / Encerrar (the campaigns API, with the session's CSRF token). Refreshed every 2 s.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var STATUS = { active: "ativa", paused: "pausada", stopped: "encerrada" };
  var MODE = { predictive: "Preditivo", progressive: "Progressivo", preview: "Prévia", manual: "Manual" };

  function showError(text) { $("error").textContent = text || ""; $("error").hidden = !text; }

  function cell(tr, text, testid) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (testid) td.setAttribute("data-testid", testid);
    tr.appendChild(td);
    return td;
  }

  function action(id, verb) {
    if (verb === "stop" && !window.confirm("Encerrar a campanha? Ela sai da discagem até ser iniciada de novo.")) return;
    window.cobra.fetch("/api/v1/campaigns/" + id + "/" + verb, { method: "POST", headers: { "Accept": "application/json" } })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (!resp.ok) throw new Error(((data || {}).error || {}).message || ("Erro " + resp.status + "."));
          showError("");
          load();
        });
      })
      .catch(function (e) { showError(e.message); });
  }

  function render(items) {
    var body = $("campaigns");
    body.textContent = "";
    items.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-testid", "campaign-item");
      tr.setAttribute("data-campaign-id", String(c.id));
      tr.setAttribute("data-status", c.status);
      var name = document.createElement("td"), a = document.createElement("a");
      a.href = "/supervisor/campanhas/" + c.id;
      a.textContent = c.name;
      name.appendChild(a);
      tr.appendChild(name);
      cell(tr, STATUS[c.status] || c.status, "campaign-status");
      cell(tr, MODE[c.mode] || c.mode);
      cell(tr, c.in_flight);
      cell(tr, c.connects_last_hour);
      var actions = document.createElement("td");
      [["start", "Iniciar"], ["pause", "Pausar"], ["stop", "Encerrar"]].forEach(function (pair) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "button ghost";
        b.textContent = pair[1];
        b.disabled = (pair[0] === "start" && c.status === "active") || (pair[0] === "pause" && c.status !== "active") ||
          (pair[0] === "stop" && c.status === "stopped");
        b.addEventListener("click", function () { action(c.id, pair[0]); });
        actions.appendChild(b);
      });
      tr.appendChild(actions);
      body.appendChild(tr);
    });
    $("campaigns-empty").hidden = items.length > 0;
  }

  function load() {
    return window.cobra.fetch("/api/v1/campaigns", { headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.json(); })
      .then(function (data) { render(data.items || []); }, function () { showError("Sem conexão com o servidor."); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    load();
    setInterval(load, 2000);
  });
})();
