// The campaign list (/supervisor/campanhas): every campaign with its status, a link to its page, its
// mode (a selector: the pacing API) and Iniciar / Pausar / Encerrar (the campaigns API), with the
// session's CSRF token. Refreshed every 2 s.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var STATUS = { active: "ativa", paused: "pausada", stopped: "encerrada" };
  var MODE = { predictive: "Preditivo", progressive: "Progressivo", preview: "Prévia", manual: "Manual" };
  var busy = false;

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

  function setMode(id, mode) {
    busy = true;
    window.cobra.fetch("/api/v1/campaigns/" + id + "/pacing", {
      method: "PUT", headers: { "Accept": "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ mode: mode })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) throw new Error(((data || {}).error || {}).message || ("Erro " + resp.status + "."));
        showError("");
      });
    }).catch(function (e) { showError(e.message); }).then(function () { busy = false; load(); });
  }

  function render(items) {
    var body = $("campaigns");
    // a selector the supervisor is using is not rebuilt under their hand
    if (busy || (document.activeElement && body.contains(document.activeElement) &&
        document.activeElement.tagName === "SELECT")) return;
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
      var modeCell = document.createElement("td"), select = document.createElement("select");
      select.setAttribute("data-testid", "campaign-mode");
      select.setAttribute("aria-label", "Modo de discagem de " + c.name);
      Object.keys(MODE).forEach(function (m) {
        var opt = document.createElement("option");
        opt.value = m;
        opt.textContent = MODE[m];
        select.appendChild(opt);
      });
      select.value = c.mode;
      select.addEventListener("change", function () { setMode(c.id, select.value); });
      modeCell.appendChild(select);
      tr.appendChild(modeCell);
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
