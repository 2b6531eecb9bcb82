// /monitoria: filter the call records over GET /api/v1/calls, keyset "Mais", CSV export link.
// DOM built with createElement/textContent only (CSP, no innerHTML).
(function () {
  "use strict";
  var RESULTS = {
    connected: "Conectada", answered: "Atendida", machine: "Secretária eletrônica", abandoned: "Abandonada",
    busy: "Ocupado", no_answer: "Não atendeu", congestion: "Congestionamento", failed: "Falhou", cancelled: "Cancelada"
  };
  var FLAGS = {
    divida_antes_identidade: "Dívida antes da identificação", chamada_curta: "Chamada curta com contato",
    desconto_sem_aprovacao: "Desconto sem aprovação", promessa_acima_saldo: "Promessa acima do saldo"
  };
  var next = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function brTime(iso) {
    // Brasília is UTC-3 all year (no daylight saving since 2019)
    var d = new Date(new Date(iso).getTime() - 3 * 3600 * 1000);
    return pad(d.getUTCDate()) + "/" + pad(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear() + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
  function brl(text) {
    if (text == null) return "—";
    var parts = Number(text).toFixed(2).split(".");
    return "R$ " + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".") + "," + parts[1];
  }
  function talk(s) {
    if (s == null) return "—";
    return Math.floor(s / 60) + ":" + pad(s % 60);
  }
  function amount(value) { return value.replace(/\./g, "").replace(",", "."); }

  function params() {
    var form = document.getElementById("filters");
    var out = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !el.value) return;
      var value = el.name.indexOf("amount") >= 0 ? amount(el.value) : el.value;
      // dd/mm/aaaa on the page, aaaa-mm-dd on the API (a malformed date goes as typed: the API names it)
      if (el.classList.contains("date-br")) value = window.cobra.isoFromBr(value) || value;
      out.set(el.name, value);
    });
    return out;
  }

  function cell(tr, text, testid) {
    var td = document.createElement("td");
    td.textContent = text;
    if (testid) td.setAttribute("data-testid", testid);
    tr.appendChild(td);
    return td;
  }

  function row(item) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-testid", "call-row");
    tr.dataset.callId = item.id;
    cell(tr, brTime(item.started_at));
    cell(tr, item.agent || "—", "agent");
    cell(tr, item.campaign.name || String(item.campaign.id));
    cell(tr, item.customer || "—");
    cell(tr, item.phone);
    cell(tr, RESULTS[item.result] || item.result || "—");
    cell(tr, item.outcome || "—", "outcome");
    cell(tr, talk(item.talk_s));
    cell(tr, brl(item.amount));
    var flags = cell(tr, "");
    item.flags.forEach(function (code) {
      var span = document.createElement("span");
      span.className = "qa-flag";
      span.textContent = FLAGS[code] || code;
      flags.appendChild(span);
    });
    cell(tr, item.reviewed ? "Sim" : "Não", "reviewed");
    var open = document.createElement("a");
    open.href = "/monitoria/chamadas/" + encodeURIComponent(item.id);
    open.textContent = "Abrir";
    open.setAttribute("data-testid", "open-call");
    cell(tr, "").appendChild(open);
    return tr;
  }

  function load(append) {
    var status = document.getElementById("status");
    var query = params();
    document.getElementById("export").href = "/api/v1/calls.csv?" + query.toString();
    if (append && next) query.set("cursor", next);
    status.textContent = "Carregando…";
    window.cobra.fetch("/api/v1/calls?" + query.toString()).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (r) {
      var tbody = document.getElementById("calls");
      if (!r.ok) {
        status.textContent = r.body.error ? r.body.error.message : "Erro ao buscar as chamadas.";
        return;
      }
      if (!append) tbody.textContent = "";
      r.body.items.forEach(function (item) { tbody.appendChild(row(item)); });
      next = r.body.next;
      document.getElementById("more").hidden = !next;
      var shown = tbody.children.length;
      status.textContent = shown === 0 ? "Nenhuma chamada com estes filtros." :
        shown + (shown === 1 ? " chamada" : " chamadas") + (next ? " (há mais)" : "");
    }).catch(function () { status.textContent = "Sem conexão com o servidor."; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("filters");
    var initial = new URLSearchParams(location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !initial.get(el.name)) return;
      el.value = el.classList.contains("date-br") ? window.cobra.brFromIso(initial.get(el.name)) : initial.get(el.name);
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      history.replaceState(null, "", "/monitoria?" + params().toString());
      load(false);
    });
    document.getElementById("more").addEventListener("click", function () { load(true); });
    load(false);
  });
})();
