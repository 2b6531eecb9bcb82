// One campaign steered from the page (/supervisor/campanhas/{id}): status, pacing, calling window,
// script, segments (order and weights), boosts (one account or in bulk with a count preview), holds,
// portfolio upload with progress and rejects, and the change history. Plain script, no build step;
// the DOM is built with createElement/textContent only. Every change calls the REST API with the
// session's CSRF token (window.cobra.fetch) and then reloads what it changed and the history.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var root, cid, base;
  var STATUS = { active: "ativa", paused: "pausada", stopped: "encerrada" };
  var HOLD = { deceased: "Falecido", dispute: "Contestação", lawyer: "Advogado", insolvency: "Insolvência" };
  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  var st = { segments: [], previewed: null };

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function showError(text) { $("error").textContent = text || ""; $("error").hidden = !text; }
  function showDone(text) { $("done").textContent = text || ""; $("done").hidden = !text; if (text) showError(""); }

  function api(method, url, body) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return window.cobra.fetch(url, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var err = (data && data.error) || {};
          var e = new Error(err.message || ("Erro " + resp.status + "."));
          e.status = resp.status; e.data = data;
          throw e;
        }
        return data;
      });
    }, function () { throw new Error("Sem conexão com o servidor; tente de novo."); });
  }

  // a change: call, say it worked or why not, then reload what may have changed
  function change(method, url, body, doneText, reload) {
    return api(method, url, body).then(function (data) {
      showDone(doneText);
      (reload || function () {})(data);
      loadHistory();
      return data;
    }, function (e) { showError(e.message); throw e; });
  }

  function list(text) {
    return String(text || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function money(text) {
    var t = String(text || "").trim();
    if (!t) return null;
    return t.replace(/\./g, "").replace(",", ".");
  }

  function brl(value) {
    return Number(value).toLocaleString("pt-BR", { style: "currency", currency: "BRL" });
  }

  function dateTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    // Brasília time and dd/mm/aaaa whatever the browser's time zone and language
    return d.toLocaleDateString("pt-BR", { timeZone: "America/Sao_Paulo", day: "2-digit", month: "2-digit", year: "numeric" }) +
      " " + d.toLocaleTimeString("pt-BR", { timeZone: "America/Sao_Paulo", hour: "2-digit", minute: "2-digit" });
  }

  // filter fields of a form → the API's filter object (only what was filled)
  function formFilter(form) {
    var f = {};
    ["buckets", "ufs", "tags_any", "ddds"].forEach(function (k) {
      if (form.elements[k] && list(form.elements[k].value).length) {
        f[k] = list(form.elements[k].value);
        if (k === "ufs") f[k] = f[k].map(function (u) { return u.toUpperCase(); });
      }
    });
    ["balance_min", "balance_max"].forEach(function (k) {
      if (form.elements[k] && money(form.elements[k].value) !== null) f[k] = money(form.elements[k].value);
    });
    return f;
  }

  function filterText(f) {
    var parts = [];
    if (f.buckets) parts.push("atraso " + f.buckets.join(", "));
    if (f.ufs) parts.push("UF " + f.ufs.join(", "));
    if (f.tags_any) parts.push("etiquetas " + f.tags_any.join(", "));
    if (f.balance_min) parts.push("saldo a partir de " + brl(f.balance_min));
    if (f.balance_max) parts.push("saldo até " + brl(f.balance_max));
    return parts.join("; ") || "todas as contas";
  }

  // ------------------------------------------------------------ status, pacing, window, script

  // a form the supervisor changed and has not saved yet
  function dirty(form) { return form.getAttribute("data-dirty") === "1"; }
  function trackEdits(form) {
    form.addEventListener("input", function () { form.setAttribute("data-dirty", "1"); });
    form.addEventListener("change", function () { form.setAttribute("data-dirty", "1"); });
  }
  function saved(form) { form.removeAttribute("data-dirty"); }

  function loadCampaign() {
    return api("GET", base).then(function (c) {
      root.setAttribute("data-status", c.status);
      $("status").textContent = STATUS[c.status] || c.status;
      $("status").setAttribute("data-status", c.status);
      root.querySelector("[data-action=start]").disabled = c.status === "active";
      root.querySelector("[data-action=pause]").disabled = c.status !== "active";
      root.querySelector("[data-action=stop]").disabled = c.status === "stopped";
      var w = $("window-form");
      // never overwrite what the supervisor is editing (refilled after they save)
      if (!w.contains(document.activeElement) && !dirty(w)) {
        w.elements.none.checked = !c.window_override;
        DAYS.forEach(function (d) { w.elements[d].value = (c.window_override && c.window_override[d]) || ""; });
      }
      var s = $("script-form").elements.key;
      if (document.activeElement !== s && !dirty($("script-form"))) s.value = c.script_key || "";
      root.setAttribute("data-script", c.script_key || "");
      return c;
    }, function (e) { showError(e.message); });
  }

  function loadPacing(keepForm) {
    return api("GET", base + "/pacing").then(function (p) {
      var f = $("pacing-form");
      if (!keepForm && !f.contains(document.activeElement) && !dirty(f)) {
        f.elements.mode.value = p.mode;
        f.elements.max_dial_level.value = p.max_dial_level;
        f.elements.abandon_cap.value = Math.round(p.abandon_cap * 1000) / 10;
        f.elements.amd_enabled.checked = !!p.amd_enabled;
      }
      var ab = p.abandons || {};
      $("pacing-live").textContent = "Agora: nível " + Number(p.dial_level).toLocaleString("pt-BR") +
        ", " + p.calls_in_flight + " chamadas em curso, abandono hoje " +
        ((ab.rate_today || 0) * 100).toLocaleString("pt-BR", { maximumFractionDigits: 1 }) + "%.";
    }, function () {});
  }

  function loadScripts() {
    return api("GET", "/api/v1/scripts").then(function (data) {
      var select = $("script-form").elements.key;
      (data.scripts || []).forEach(function (s) {
        select.appendChild(el("option", s.key, { value: s.key }));
      });
    }, function () {});
  }

  // ------------------------------------------------------------ segments

  function loadSegments() {
    return api("GET", base + "/segments").then(function (data) {
      st.segments = data.segments || [];
      renderSegments();
    }, function (e) { showError(e.message); });
  }

  function renderSegments() {
    var ol = $("segments");
    ol.textContent = "";
    st.segments.forEach(function (s, i) {
      var li = el("li", null, { "data-testid": "segment", "data-name": s.name });
      li.appendChild(el("strong", s.name, { "data-testid": "segment-title" }));
      li.appendChild(el("span", " · peso " + s.weight + " · " + filterText(s.filters || {}), { "class": "hint" }));
      var tools = el("span", null, { "class": "sv-tools" });
      var up = el("button", "↑", { type: "button", "class": "button ghost", "aria-label": "Subir " + s.name, "data-testid": "segment-up" });
      var down = el("button", "↓", { type: "button", "class": "button ghost", "aria-label": "Descer " + s.name, "data-testid": "segment-down" });
      var weight = el("button", "Peso", { type: "button", "class": "button ghost", "aria-label": "Mudar o peso de " + s.name });
      var del = el("button", "Excluir", { type: "button", "class": "button ghost sv-danger", "aria-label": "Excluir " + s.name });
      up.disabled = i === 0;
      down.disabled = i === st.segments.length - 1;
      up.addEventListener("click", function () { move(i, -1); });
      down.addEventListener("click", function () { move(i, 1); });
      weight.addEventListener("click", function () {
        var v = window.prompt("Novo peso de " + s.name + " (0 a 1000):", String(s.weight));
        if (v === null) return;
        var copy = st.segments.slice();
        copy[i] = Object.assign({}, s, { weight: Number(v) });
        saveSegments(copy, "Peso de " + s.name + " alterado.");
      });
      del.addEventListener("click", function () {
        if (!window.confirm("Excluir o segmento " + s.name + "?")) return;
        saveSegments(st.segments.filter(function (_, j) { return j !== i; }), "Segmento " + s.name + " excluído.");
      });
      [up, down, weight, del].forEach(function (b) { tools.appendChild(b); });
      li.appendChild(tools);
      ol.appendChild(li);
    });
    $("segments-empty").hidden = st.segments.length > 0;
  }

  function move(i, by) {
    var copy = st.segments.slice(), j = i + by;
    if (j < 0 || j >= copy.length) return;
    var t = copy[i]; copy[i] = copy[j]; copy[j] = t;
    saveSegments(copy, "Ordem dos segmentos salva.");
  }

  function saveSegments(segments, doneText) {
    root.classList.add("busy");
    var body = { segments: segments.map(function (s) { return { name: s.name, weight: s.weight, filters: s.filters || {} }; }) };
    return change("PUT", base + "/segments", body, doneText, function (data) {
      st.segments = data.segments || [];
      renderSegments();
    }).catch(function () {}).then(function () { root.classList.remove("busy"); });
  }

  // ------------------------------------------------------------ holds

  function loadHolds() {
    return api("GET", base + "/holds").then(function (data) {
      var body = $("holds");
      body.textContent = "";
      (data.items || []).forEach(function (h) {
        var tr = el("tr", null, { "data-testid": "hold", "data-hold-id": String(h.id) });
        tr.appendChild(el("td", h.external_id + " · " + h.customer_name));
        tr.appendChild(el("td", (HOLD[h.kind] || h.kind) + ": " + h.reason));
        tr.appendChild(el("td", dateTime(h.set_at)));
        tr.appendChild(el("td", h.until ? dateTime(h.until) : "—"));
        var td = el("td"), b = el("button", "Encerrar", { type: "button", "class": "button ghost" });
        b.addEventListener("click", function () {
          change("DELETE", base + "/holds/" + h.id, undefined, "Suspensão encerrada.", loadHolds).catch(function () {});
        });
        td.appendChild(b);
        tr.appendChild(td);
        body.appendChild(tr);
      });
      $("holds-empty").hidden = (data.items || []).length > 0;
    }, function () {});
  }

  // ------------------------------------------------------------ history

  function loadHistory() {
    return api("GET", base + "/history?limit=50").then(function (data) {
      var ul = $("history");
      ul.textContent = "";
      (data.items || []).forEach(function (h) {
        var li = el("li", null, { "data-testid": "history-item", "data-action": h.action });
        li.appendChild(el("span", dateTime(h.at) + " · " + (h.user_name || h.login || "sistema") + ": ", { "class": "hint" }));
        li.appendChild(el("span", h.summary));
        ul.appendChild(li);
      });
      $("history-empty").hidden = (data.items || []).length > 0;
    }, function () {});
  }

  // ------------------------------------------------------------ portfolio upload (XHR: fetch has no upload progress)

  function upload(form) {
    var file = form.elements.file.files[0];
    if (!file) return;
    var data = new FormData();
    data.append("file", file);
    if (form.elements.dry_run.checked) data.append("dry_run", "true");
    var bar = $("import-progress"), out = $("import-result");
    bar.hidden = false; bar.value = 0; out.hidden = true;
    $("rejects-table").hidden = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", base + "/import");
    xhr.setRequestHeader("X-CSRF-Token", window.cobra.csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) bar.value = Math.round(ev.loaded * 100 / ev.total);
    };
    xhr.onerror = function () { showError("Sem conexão com o servidor; tente de novo."); bar.hidden = true; };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      bar.value = 100;
      if (xhr.status !== 200) {
        showError(((body.error || {}).message) || ("Erro " + xhr.status + "."));
        return;
      }
      out.hidden = false;
      out.textContent = (body.dry_run ? "Conferência (nada gravado): " : "Importado: ") + body.rows + " linhas, " +
        body.imported_customers + " clientes novos, " + body.updated_customers + " atualizados, " +
        body.rejected_rows + " linhas rejeitadas; saldo total " + brl(body.balance_total) + ".";
      var rejects = body.rejects || [], tbody = $("rejects");
      tbody.textContent = "";
      rejects.forEach(function (r) {
        var tr = el("tr", null, { "data-testid": "reject" });
        tr.appendChild(el("td", r.linha));
        tr.appendChild(el("td", r.coluna || "—"));
        tr.appendChild(el("td", r.motivo));
        tbody.appendChild(tr);
      });
      $("rejects-table").hidden = rejects.length === 0;
      showDone("Arquivo processado.");
      loadHistory();
    };
    xhr.send(data);
  }

  // ------------------------------------------------------------ wiring

  function wire() {
    ["pacing-form", "window-form", "script-form"].forEach(function (id) { trackEdits($(id)); });
    root.querySelectorAll("[data-action]").forEach(function (b) {
      if (b.tagName !== "BUTTON") return;
      b.addEventListener("click", function () {
        var action = b.getAttribute("data-action");
        if (action === "stop" && !window.confirm("Encerrar a campanha? Ela sai da discagem até ser iniciada de novo.")) return;
        var text = { start: "Campanha iniciada.", pause: "Campanha pausada.", stop: "Campanha encerrada." }[action];
        change("POST", base + "/" + action, undefined, text, loadCampaign).catch(function () {});
      });
    });

    $("pacing-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target;
      change("PUT", base + "/pacing", {
        mode: f.elements.mode.value, max_dial_level: Number(f.elements.max_dial_level.value),
        abandon_cap: Number(f.elements.abandon_cap.value) / 100, amd_enabled: f.elements.amd_enabled.checked
      }, "Ritmo de discagem salvo.", function () { saved(f); loadPacing(true); }).catch(function () {});
    });

    $("window-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target, window_ = null;
      if (!f.elements.none.checked) {
        window_ = {};
        DAYS.forEach(function (d) { window_[d] = f.elements[d].value.trim() || null; });
      }
      change("PUT", base + "/window", { window: window_ }, "Horário da campanha salvo.", function () {
        saved(f);
        loadCampaign();
      }).catch(function () {});
    });

    $("script-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var form = ev.target, key = form.elements.key.value || null;
      change("PUT", base + "/script", { key: key }, "Roteiro da campanha salvo.", function () {
        saved(form);
        loadCampaign();
      }).catch(function () {});
    });

    $("segment-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target;
      var seg = { name: f.elements.name.value.trim(), weight: Number(f.elements.weight.value), filters: formFilter(f) };
      saveSegments(st.segments.concat([seg]), "Segmento " + seg.name + " adicionado.").then(function () {
        if ($("error").hidden) f.reset();
      });
    });

    $("boost-one-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target, boosts = {};
      boosts[f.elements.external_id.value.trim()] = Number(f.elements.boost.value);
      change("PUT", base + "/boosts", { boosts: boosts }, "Prioridade extra aplicada.").catch(function () {});
    });

    var bulk = $("boost-bulk-form");
    // any edit of the filter invalidates the count shown: preview again before applying
    bulk.addEventListener("input", function (ev) {
      if (ev.target.name === "boost") return;
      st.previewed = null;
      $("bulk-apply").disabled = true;
      $("bulk-count").textContent = "";
    });
    function preview(recount) {
      var flt = formFilter(bulk);
      api("POST", base + "/boosts/preview", { filter: flt }).then(function (data) {
        st.previewed = { filter: flt, count: data.count };
        $("bulk-count").textContent = data.count + (data.count === 1 ? " conta" : " contas") +
          (recount ? " (contagem atualizada)" : "");
        $("bulk-apply").disabled = data.count === 0;
        $("bulk-apply").textContent = "Aplicar a " + data.count + (data.count === 1 ? " conta" : " contas");
        if (!recount) showError("");
      }, function (e) { showError(e.message); });
    }
    $("bulk-preview").addEventListener("click", function () { preview(false); });
    bulk.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!st.previewed) return;
      var body = { filter: st.previewed.filter, boost: Number(bulk.elements.boost.value), expected_count: st.previewed.count };
      $("bulk-apply").disabled = true;
      change("POST", base + "/boosts/bulk", body, "Prioridade extra aplicada a " + st.previewed.count + " contas.")
        .then(function () { st.previewed = null; $("bulk-count").textContent = ""; }, function (e) {
          // the list changed since the preview: count again and let the supervisor confirm the new figure
          if (e.status === 409) preview(true);
        });
    });

    $("hold-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target;
      change("POST", base + "/holds", {
        external_id: f.elements.external_id.value.trim(), kind: f.elements.kind.value, reason: f.elements.reason.value.trim()
      }, "Cobrança suspensa.", function () { f.reset(); loadHolds(); }).catch(function () {});
    });

    $("import-form").addEventListener("submit", function (ev) { ev.preventDefault(); upload(ev.target); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = $("campaign");
    cid = root.getAttribute("data-campaign-id");
    base = "/api/v1/campaigns/" + cid;
    wire();
    // ready (for people and tests) once everything is on the page
    Promise.all([loadScripts().then(loadCampaign), loadPacing(), loadSegments(), loadHolds(), loadHistory()])
      .then(function () { root.setAttribute("data-ready", "1"); });
    // changes made elsewhere (the wallboard, the CLI, another supervisor) show within a few seconds
    setInterval(function () { loadCampaign(); loadPacing(); loadHistory(); }, 3000);
  });
})();
