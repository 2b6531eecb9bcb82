// The KPI page: reads the filters, asks /api/v1/kpis, draws the table and one SVG bar chart per KPI.
// Everything is built with DOM APIs (createElement / createElementNS / textContent): no HTML strings.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // field, title, kind (pct: a fraction shown as %, money, num, int); the numbers come from the API,
  // their pt-BR text from its "display" object, so the page and the CSV agree
  var KPIS = [
    ["attempts", "Tentativas", "int", "Chamadas discadas (sem as canceladas pelo próprio discador)."],
    ["live_answers", "Atendidas por pessoa", "int", "Atendidas e encerradas, sem as caixas postais detectadas."],
    ["contacts", "Contatos com operador", "int", "Chamadas conectadas a um operador."],
    ["right_party", "Contatos com o devedor (CPC)", "int", "Contatos com identidade confirmada ou resultado que exige falar com o devedor."],
    ["right_party_rate", "Taxa de CPC", "pct", "CPC ÷ contatos com operador."],
    ["promise_rate", "Taxa de promessa (por CPC)", "pct", "Promessas de pagamento ÷ CPC."],
    ["agreement_rate", "Taxa de acordo (por CPC)", "pct", "Acordos fechados ÷ CPC."],
    ["promises_kept_rate", "Promessas cumpridas", "pct", "Cumpridas ÷ (cumpridas + quebradas); as que ainda vencem ficam fora."],
    ["negotiated", "Valor negociado", "money", "Total dos acordos + valores prometidos."],
    ["recovered", "Valor recuperado", "money", "O que já foi pago desses acordos e promessas."],
    ["aht_s", "Tempo médio de atendimento (s)", "num", "(Conversa + pós-atendimento) ÷ contatos encerrados."],
    ["occupancy", "Ocupação", "pct", "(Em ligação + pós-atendimento) ÷ tempo logado fora de pausa."],
    ["abandon_rate", "Taxa de abandono", "pct", "Atendidas por pessoa sem operador a tempo ÷ atendidas por pessoa."],
    ["short_call_share", "Chamadas curtas (≤ 6 s)", "pct", "Chamadas completadas de até 6 s ÷ completadas (Anatel)."],
    ["contacts_per_agent_hour", "Contatos por operador-hora", "num", "Contatos ÷ horas logadas fora de pausa."]
  ];
  var TABLE = [
    ["attempts", "Tentativas"], ["live_answers", "Atendidas"], ["abandon_rate", "Abandono"],
    ["contacts", "Contatos"], ["right_party", "CPC"], ["right_party_rate", "Taxa CPC"],
    ["promises", "Promessas"], ["promise_rate", "Taxa promessa"], ["agreements", "Acordos"],
    ["agreement_rate", "Taxa acordo"], ["promises_kept", "Promessas cumpridas"], ["negotiated", "Negociado"],
    ["recovered", "Recuperado"], ["aht_s", "TMA (s)"], ["short_call_share", "Curtas"], ["occupancy", "Ocupação"],
    ["contacts_per_agent_hour", "Contatos/hora"], ["reasons_company", "Motivos empresa"],
    ["reasons_financial", "Motivos financeiros"]
  ];
  var GROUP = { day: "Dia", agent: "Operador", campaign: "Campanha" };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }
  function numeric(v) {
    if (v == null) return null;
    var n = typeof v === "string" ? parseFloat(v) : v;
    return isFinite(n) ? n : null;
  }

  // A horizontal bar chart: one bar per item {label, value, text, cls}
  function barChart(items, title) {
    var labelW = 210, barW = 260, textW = 110, rowH = 22, top = 4;
    var width = labelW + barW + textW;
    var height = top * 2 + Math.max(1, items.length) * rowH;
    var max = 0;
    items.forEach(function (it) { if (it.value != null && it.value > max) max = it.value; });
    // drawn at its natural size (text stays readable), shrunk by CSS only on narrow screens
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img", "aria-label": title,
                             "data-testid": "chart-svg" });
    chart.appendChild(svg("title", {}, title));
    chart.appendChild(svg("line", { x1: labelW, x2: labelW, y1: 0, y2: height, "class": "axis" }));
    items.forEach(function (it, i) {
      var y = top + i * rowH;
      var label = it.label.length > 28 ? it.label.slice(0, 27) + "…" : it.label;
      chart.appendChild(svg("text", { x: labelW - 6, y: y + rowH * 0.65, "text-anchor": "end" }, label));
      var w = it.value == null || max <= 0 ? 0 : Math.max(1, Math.round((it.value / max) * barW));
      var bar = svg("rect", { x: labelW, y: y + 3, width: w, height: rowH - 6, "class": "bar" + (it.cls ? " " + it.cls : ""),
                              "data-value": it.value == null ? "" : String(it.value) });
      bar.appendChild(svg("title", {}, it.label + ": " + it.text));
      chart.appendChild(bar);
      chart.appendChild(svg("text", { x: labelW + w + 6, y: y + rowH * 0.65 }, it.text));
    });
    return chart;
  }

  function card(title, subtitle, chart, testid, definition) {
    var box = el("section", null, "panel kpi-chart");
    box.setAttribute("data-testid", testid);
    box.appendChild(el("h3", title));
    if (definition) box.appendChild(el("p", definition, "kpi-definition"));
    if (subtitle) box.appendChild(el("p", subtitle, "kpi-total"));
    box.appendChild(chart);
    return box;
  }

  function drawTable(data) {
    var table = document.getElementById("kpi-table");
    table.textContent = "";
    var head = el("thead"), tr = el("tr");
    tr.appendChild(el("th", GROUP[data.by] || "Grupo"));
    TABLE.forEach(function (c) { tr.appendChild(el("th", c[1], "num")); });
    head.appendChild(tr);
    table.appendChild(head);
    var body = el("tbody");
    data.rows.forEach(function (row) {
      var line = el("tr");
      line.appendChild(el("td", row.label));
      TABLE.forEach(function (c) { line.appendChild(el("td", row.display[c[0]], "num")); });
      body.appendChild(line);
    });
    var total = el("tr", null, "total");
    total.setAttribute("data-testid", "kpi-total-row");
    total.appendChild(el("td", "Total"));
    TABLE.forEach(function (c) { total.appendChild(el("td", data.total.display[c[0]], "num")); });
    body.appendChild(total);
    table.appendChild(body);
  }

  function drawReasons(data) {
    var box = document.getElementById("kpi-reasons");
    box.textContent = "";
    var r = data.reasons;
    var all = r.company_caused + r.financial + r.unclassified;
    if (!all) {
      box.appendChild(el("p", "Nenhum motivo registrado no período.", "hint"));
      return;
    }
    var pct = function (n) { return (100 * n / all).toFixed(1).replace(".", ",") + " %"; };
    var split = [
      { label: "Causados pela empresa", value: r.company_caused, text: r.company_caused + " (" + pct(r.company_caused) + ")", cls: "company" },
      { label: "Financeiros do cliente", value: r.financial, text: r.financial + " (" + pct(r.financial) + ")" }
    ];
    if (r.unclassified) split.push({ label: "Não classificados", value: r.unclassified, text: String(r.unclassified), cls: "unknown" });
    box.appendChild(card("Empresa × financeiro", all + " chamadas com motivo", barChart(split, "Motivos: empresa × financeiro"), "chart-reasons-split"));
    var items = r.items.map(function (i) {
      return { label: i.label, value: i.calls, text: String(i.calls),
               cls: i.company_caused === true ? "company" : (i.company_caused === null ? "unknown" : "") };
    });
    box.appendChild(card("Por motivo", null, barChart(items, "Chamadas por motivo"), "chart-reasons-items"));
  }

  function drawCharts(data) {
    var box = document.getElementById("kpi-charts");
    box.textContent = "";
    KPIS.forEach(function (k) {
      var items = data.rows.map(function (row) {
        return { label: row.label, value: numeric(row[k[0]]), text: row.display[k[0]] };
      });
      var subtitle = "Total: " + data.total.display[k[0]];
      box.appendChild(card(k[1], subtitle, barChart(items, k[1]), "chart-" + k[0], k[3]));
    });
  }

  function params(form) {
    var q = new URLSearchParams();
    ["from", "to", "by", "campaign"].forEach(function (name) {
      var v = form.elements[name].value;
      // the dates are typed dd/mm/aaaa; the API takes aaaa-mm-dd (a malformed one goes as typed: the API names it)
      if (v && (name === "from" || name === "to")) v = window.cobra.isoFromBr(v) || v;
      if (v) q.set(name, v);
    });
    return q.toString();
  }

  function load(form) {
    var query = params(form);
    var status = document.getElementById("kpi-status");
    var error = document.getElementById("kpi-error");
    document.getElementById("kpi-export").setAttribute("href", "/api/v1/kpis.csv?" + query);
    status.textContent = "Carregando…";
    error.hidden = true;
    fetch("/api/v1/kpis?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
      })
      .then(function (res) {
        if (!res.ok) throw new Error(res.body && res.body.error ? res.body.error.message : "Erro ao carregar.");
        var data = res.body;
        drawTable(data);
        drawReasons(data);
        drawCharts(data);
        status.textContent = data.rows.length
          ? data.rows.length + " grupo(s) de " + data.from.split("-").reverse().join("/") + " a " + data.to.split("-").reverse().join("/") + "."
          : "Nenhuma chamada no período.";
        status.setAttribute("data-state", "ready");
      })
      .catch(function (e) {
        error.textContent = e.message;
        error.hidden = false;
        status.textContent = "";
        status.setAttribute("data-state", "error");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("kpi-filters");
    if (!form) return;
    form.addEventListener("submit", function (ev) { ev.preventDefault(); load(form); });
    load(form);
  });
})();
