// /monitoria/ficha: edit the scorecard's items and save it with PUT /api/v1/scorecards/{key}.
(function () {
  "use strict";
  function slug(text, taken) {
    var base = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 30) || "item";
    if (!/^[a-z]/.test(base)) base = "i_" + base;
    var key = base, n = 2;
    while (taken[key]) { key = base + "_" + n; n += 1; }
    return key;
  }
  function itemRow() {
    var div = document.createElement("div");
    div.className = "qa-card-item";
    var label = document.createElement("input");
    label.type = "text"; label.className = "label"; label.maxLength = 200; label.setAttribute("aria-label", "Item");
    var weight = document.createElement("input");
    weight.type = "number"; weight.className = "weight"; weight.min = "1"; weight.max = "100"; weight.value = "10";
    weight.setAttribute("aria-label", "Peso");
    var crit = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox"; box.className = "critical";
    crit.appendChild(box); crit.appendChild(document.createTextNode(" crítico"));
    var remove = document.createElement("button");
    remove.type = "button"; remove.className = "button ghost remove"; remove.textContent = "Remover";
    [label, weight, crit, remove].forEach(function (el) { div.appendChild(el); });
    return div;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("card-form");
    var list = document.getElementById("card-items");
    list.addEventListener("click", function (ev) {
      if (ev.target.classList.contains("remove")) ev.target.closest(".qa-card-item").remove();
    });
    document.getElementById("add-item").addEventListener("click", function () {
      var row = itemRow();
      list.appendChild(row);
      row.querySelector(".label").focus();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = document.getElementById("card-status");
      var taken = {};
      var items = [];
      list.querySelectorAll(".qa-card-item").forEach(function (div) {
        var label = div.querySelector(".label").value.trim();
        var key = div.dataset.key || slug(label, taken);
        taken[key] = true;
        items.push({ key: key, label: label, weight: parseInt(div.querySelector(".weight").value, 10) || 0,
                     critical: div.querySelector(".critical").checked });
      });
      var body = { name: document.getElementById("card-name").value.trim(), items: items };
      window.cobra.fetch("/api/v1/scorecards/" + encodeURIComponent(form.dataset.key), {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      }).then(function (resp) {
        return resp.json().then(function (b) { return { ok: resp.ok, body: b }; });
      }).then(function (r) {
        status.textContent = r.ok ? "Ficha salva." : (r.body.error ? r.body.error.message : "Não foi possível salvar.");
        if (r.ok) {
          list.querySelectorAll(".qa-card-item").forEach(function (div, i) { div.dataset.key = r.body.items[i].key; });
        }
      }).catch(function () { status.textContent = "Sem conexão com o servidor."; });
    });
  });
})();
