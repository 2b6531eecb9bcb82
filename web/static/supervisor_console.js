// The supervisor console (/supervisor): the wallboard (agents, campaigns, alerts) and the pending
// discount requests, live over /ws/supervisor. Plain script, no build step. Approval frames are
// numbered by the server; on reconnect we send the last seq seen and the server replays what we
// missed or sends a fresh snapshot. "floor" frames (seq 0) are the whole floor each time.
// Campaign buttons and listen/whisper/barge call the REST API with the session's CSRF token.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var STATUS = { approved: "aprovado", refused: "recusado", expired: "expirado" };
  var st = { ws: null, epoch: null, lastSeq: null, retry: 0, refs: 0, items: {}, me: null, floor: null,
    offsetMs: 0, agentRows: {}, campaignRows: {}, resultRows: {} };
  var STATE = { offline: "Desconectado", connecting: "Conectando", ready: "Disponível", reserved: "Reservado",
    on_call: "Em ligação", wrap_up: "Pós-atendimento", paused: "Em pausa" };
  var PAUSE = { banheiro: "Banheiro", lanche: "Lanche", treinamento: "Treinamento", feedback: "Feedback", outros: "Outros" };
  var CAMPAIGN_STATUS = { active: "ativa", paused: "pausada", stopped: "encerrada" };
  var MONITOR = { listen: "ouvindo", whisper: "sussurrando", barge: "em conferência" };
  var BASE_TITLE = document.title;

  function setConn(kind, text) {
    $("conn").setAttribute("data-conn", kind);
    $("conn-text").textContent = text;
  }

  function notice(text) {
    var el = $("notice");
    el.textContent = text || "";
    el.hidden = !text;
  }

  function time(iso) {
    try { return new Date(iso).toLocaleTimeString("pt-BR", { timeZone: "America/Sao_Paulo" }); } catch (e) { return iso; }
  }

  function sessionEnded(reason) {
    var text = reason || "Sua sessão foi encerrada. Entre de novo.";
    setConn("down", text);
    notice(text + " Abra a página de login para continuar.");
    document.body.setAttribute("data-session", "ended");
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/supervisor");
    st.ws = ws;
    setConn("connecting", "Conectando…");
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", last_seq: st.lastSeq, epoch: st.epoch }));
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.seq > 0) {
        if (st.lastSeq !== null && f.seq <= st.lastSeq) return;
        st.lastSeq = f.seq;
      }
      handle(f);
    };
    ws.onclose = function (ev) {
      if (st.ws !== ws) return;
      st.ws = null;
      // 1008: the session ended (logout, disabled, password or role changed): say why, never reconnect
      if (ev.code === 1008) { sessionEnded(ev.reason); return; }
      var delay = Math.min(10000, 500 * Math.pow(2, st.retry)) * (0.75 + Math.random() * 0.5);
      st.retry += 1;
      setConn("down", "Sem conexão: tentando de novo em " + Math.max(1, Math.round(delay / 1000)) + " s");
      setTimeout(connect, delay);
    };
  }

  function send(msg) {
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      notice("Sem conexão com o servidor: aguarde a reconexão e tente de novo.");
      return false;
    }
    st.refs += 1;
    msg.ref = "r" + st.refs;
    st.ws.send(JSON.stringify(msg));
    return true;
  }

  function handle(f) {
    switch (f.type) {
      case "hello":
        st.retry = 0;
        st.me = f.user_id;
        if (!f.resumed || f.epoch !== st.epoch) { st.lastSeq = null; }
        st.epoch = f.epoch;
        setConn("up", "Conectado");
        break;
      case "floor":
        floor(f);
        break;
      case "approvals":
        st.items = {};
        $("approvals").textContent = "";
        (f.requests || []).forEach(add);
        break;
      case "approval_opened":
        add(f.request);
        break;
      case "approval_resolved":
        resolve(f.request);
        break;
      case "ack":
        notice("");
        break;
      case "error":
        notice(f.message || "Erro.");
        Object.keys(st.items).forEach(function (id) { st.items[id].classList.remove("busy"); });
        break;
    }
    count();
  }

  function fill(node, r) {
    var offer = r.offer || {};
    var values = {
      agent_name: r.agent_name,
      customer_first_name: r.customer_first_name,
      requested_text: r.requested_text,
      agent_limit_text: r.agent_limit_text,
      supervisor_limit_text: r.supervisor_limit_text,
      offer_text: offer.text || "",
      expires_text: time(r.expires_at)
    };
    node.querySelectorAll("[data-f]").forEach(function (el) {
      el.textContent = values[el.getAttribute("data-f")] || "";
    });
  }

  function add(r) {
    if (!r || st.items[r.id]) return;
    var node = $("approval-tpl").content.firstElementChild.cloneNode(true);
    node.setAttribute("data-request-id", String(r.id));
    fill(node, r);
    var reason = node.querySelector(".sv-reason");
    node.querySelector(".sv-approve").addEventListener("click", function () { decide(r.id, "approve", reason.value, node); });
    node.querySelector(".sv-refuse").addEventListener("click", function () { decide(r.id, "refuse", reason.value, node); });
    st.items[r.id] = node;
    $("approvals").appendChild(node);
  }

  function decide(id, decision, reason, node) {
    var msg = { type: "decide", request_id: id, decision: decision };
    if (reason && reason.trim()) msg.reason = reason.trim();
    if (send(msg)) node.classList.add("busy");
  }

  function resolve(r) {
    var node = st.items[r.id];
    if (node) { node.remove(); delete st.items[r.id]; }
    var li = document.createElement("li");
    li.setAttribute("data-testid", "resolved");
    li.setAttribute("data-request-id", String(r.id));
    var who = r.decided_by_name ? " por " + r.decided_by_name : "";
    li.textContent = time(r.decided_at || r.created_at) + " · " + r.agent_name + " · " + r.customer_first_name + " · " +
      r.requested_text + ": " + (STATUS[r.status] || r.status) + who + (r.reason ? " (" + r.reason + ")" : "");
    $("recent").insertBefore(li, $("recent").firstChild);
  }

  function count() {
    var n = Object.keys(st.items).length;
    $("pending-count").textContent = String(n);
    $("empty").hidden = n > 0;
    // the title bar tells a supervisor looking at another tab that someone waits for them
    document.title = n > 0 ? "(" + n + ") " + BASE_TITLE : BASE_TITLE;
  }

  // ------------------------------------------------------------------ the wallboard

  function settings() {
    var wb = $("wallboard");
    return {
      pauseS: Number(wb.getAttribute("data-pause-alert-s")),
      wrapupS: Number(wb.getAttribute("data-wrapup-alert-s")),
      nearCap: Number(wb.getAttribute("data-abandon-near-cap"))
    };
  }

  function pct(x) {
    if (x === null || x === undefined) return "—";
    return (x * 100).toLocaleString("pt-BR", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
  }

  function num(x, digits) {
    if (x === null || x === undefined) return "—";
    return Number(x).toLocaleString("pt-BR", { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 });
  }

  function serverNow() { return Date.now() + st.offsetMs; }

  function elapsed(sinceIso) {
    var s = Math.max(0, Math.floor((serverNow() - Date.parse(sinceIso)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return { seconds: s, text: (h > 0 ? h + ":" + mm : mm) + ":" + ss };
  }

  function setFields(node, values) {
    node.querySelectorAll("[data-f]").forEach(function (el) {
      var k = el.getAttribute("data-f");
      if (k in values) el.textContent = values[k] === null || values[k] === undefined ? "—" : String(values[k]);
    });
  }

  function floor(f) {
    if (f.at) st.offsetMs = Date.parse(f.at) - Date.now();
    st.floor = f;
    noteReleases(f.agents || []);
    $("no-dialer").hidden = f.dialer !== false;
    renderAgents(f.agents || []);
    renderCampaigns(f.campaigns || []);
    renderResults(f.campaigns || []);
    tick();
  }

  function renderAgents(agents) {
    var body = $("agents"), seen = {};
    agents.forEach(function (a, i) {
      var row = st.agentRows[a.user_id];
      if (!row) {
        row = $("agent-tpl").content.firstElementChild.cloneNode(true);
        row.setAttribute("data-user-id", String(a.user_id));
        row.querySelectorAll("[data-mode]").forEach(function (b) {
          b.addEventListener("click", function () { monitor(a.user_id, b.getAttribute("data-mode")); });
        });
        row.querySelector(".sv-stop-monitor").addEventListener("click", stopMonitor);
        st.agentRows[a.user_id] = row;
      }
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
      seen[a.user_id] = true;
      row.setAttribute("data-login", a.login || "");
      row.setAttribute("data-state", a.state);
      row.querySelector(".sv-state").setAttribute("data-state", a.state);
      var mine = a.monitored_by !== null && a.monitored_by === st.me;
      setFields(row, {
        name: a.name, login: a.login ? "(" + a.login + ")" : "", state: STATE[a.state] || a.state,
        campaign: a.campaign,
        on_call: a.on_call && a.identity === "liberada_sem_verificacao"
          ? a.on_call + " · identidade liberada sem verificação"
          : a.on_call && a.identity === "bloqueada" ? a.on_call + " · verificação de identidade bloqueada" : a.on_call,
        pause_reason: a.pause_reason ? (PAUSE[a.pause_reason] || a.pause_reason) : null,
        calls_today: a.calls_today, contacts_today: a.contacts_today,
        monitored: a.monitored_by === null ? "" :
          (mine ? "Você está " : (a.monitored_by_login || "Supervisor") + " está ") + (MONITOR[a.monitor_mode] || "")
      });
      // the override's reason (free text, possibly long) is a tooltip: it must not stretch the row
      var customer = row.querySelector("[data-f=on_call]");
      if (a.on_call && a.identity === "liberada_sem_verificacao") {
        customer.title = "Motivo da liberação: " + (a.identity_override_reason || "sem motivo");
      } else {
        customer.removeAttribute("title");
      }
      row.querySelector("[data-testid=phone-ok]").hidden = !a.phone_connected;
      row.querySelector("[data-testid=phone-down]").hidden = a.phone_connected;
      row.querySelectorAll("[data-mode]").forEach(function (b) { b.hidden = a.monitored_by !== null || !a.phone_connected; });
      row.querySelector(".sv-stop-monitor").hidden = !mine;
    });
    Object.keys(st.agentRows).forEach(function (id) {
      if (!seen[id]) { st.agentRows[id].remove(); delete st.agentRows[id]; }
    });
    $("agents-empty").hidden = agents.length > 0;
  }

  function renderCampaigns(campaigns) {
    var body = $("campaigns"), seen = {};
    campaigns.forEach(function (c, i) {
      var row = st.campaignRows[c.id];
      if (!row) {
        row = $("campaign-tpl").content.firstElementChild.cloneNode(true);
        row.setAttribute("data-campaign-id", String(c.id));
        row.querySelector(".sv-campaign-link").setAttribute("href", "/supervisor/campanhas/" + c.id);
        row.querySelectorAll("[data-action]").forEach(function (b) {
          b.addEventListener("click", function () { campaignAction(c.id, b.getAttribute("data-action"), row); });
        });
        var select = row.querySelector(".sv-mode");
        select.addEventListener("change", function () { setMode(c.id, select.value, row); });
        st.campaignRows[c.id] = row;
      }
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
      seen[c.id] = true;
      row.setAttribute("data-status", c.status);
      row.querySelector(".sv-status").setAttribute("data-status", c.status);
      setFields(row, {
        name: c.name, status: CAMPAIGN_STATUS[c.status] || c.status,
        dial_level: num(c.dial_level, 2) + " (máx. " + num(c.max_dial_level, 1) + ")",
        ringing: c.ringing, waiting: c.waiting, talking: c.talking,
        abandon_today: pct(c.abandon_rate_today) + " / teto " + pct(c.abandon_cap),
        abandon_30d: pct(c.abandon_rate_30d) + " / teto " + pct(c.abandon_cap),
        connects_last_hour: c.connects_last_hour
      });
      var select = row.querySelector(".sv-mode");
      if (document.activeElement !== select && !row.classList.contains("busy")) select.value = c.mode;
      row.querySelector("[data-action=start]").disabled = c.status === "active";
      row.querySelector("[data-action=pause]").disabled = c.status !== "active";
      row.querySelector("[data-action=stop]").disabled = c.status === "stopped";
      row.classList.toggle("sv-near-cap", nearCap(c));
    });
    Object.keys(st.campaignRows).forEach(function (id) {
      if (!seen[id]) { st.campaignRows[id].remove(); delete st.campaignRows[id]; }
    });
    $("campaigns-empty").hidden = campaigns.length > 0;
  }

  // today's results per campaign: a second table, so the operational one stays readable
  function renderResults(campaigns) {
    var body = $("results"), seen = {};
    campaigns.forEach(function (c, i) {
      var row = st.resultRows[c.id];
      if (!row) {
        row = $("results-tpl").content.firstElementChild.cloneNode(true);
        row.setAttribute("data-campaign-id", String(c.id));
        st.resultRows[c.id] = row;
      }
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
      seen[c.id] = true;
      var known = c.agreements_today !== null && c.agreements_today !== undefined;
      setFields(row, {
        name: c.name,
        short_share: pct(c.short_call_share_today),
        right_party: c.right_party_today,
        promises: c.promises_today,
        agreements: c.agreements_today,
        agreed: known ? brl(c.amount_agreed_today) : null
      });
      sparkline(row.querySelector(".sv-spark-cell"), c.connects_by_slot || []);
    });
    Object.keys(st.resultRows).forEach(function (id) {
      if (!seen[id]) { st.resultRows[id].remove(); delete st.resultRows[id]; }
    });
  }

  function brl(value) {
    return Number(value || 0).toLocaleString("pt-BR", { style: "currency", currency: "BRL" });
  }

  // the last hour's connects per 5 minutes as an inline SVG polyline (built with DOM APIs; redrawn only on change)
  var SVG = "http://www.w3.org/2000/svg";
  function sparkline(cell, counts) {
    var key = counts.join(",");
    if (cell.getAttribute("data-counts") === key) return;
    cell.setAttribute("data-counts", key);
    cell.textContent = "";
    var w = 96, h = 22, max = Math.max.apply(null, counts.concat([1]));
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "sv-spark");
    svg.setAttribute("width", String(w));
    svg.setAttribute("height", String(h));
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("role", "img");
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    svg.setAttribute("aria-label", total + " contatos na última hora, por 5 minutos: " + counts.join(", "));
    var points = counts.map(function (n, i) {
      var x = counts.length > 1 ? (i * (w - 2)) / (counts.length - 1) + 1 : w / 2;
      var y = h - 1 - (n / max) * (h - 2);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    var line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    svg.appendChild(line);
    cell.appendChild(svg);
  }

  // the floor-wide change history (audit log), refreshed every few seconds
  function loadHistory() {
    window.cobra.fetch("/api/v1/floor/history?limit=30", { headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : { items: [] }; })
      .then(function (data) {
        var ul = $("floor-history");
        ul.textContent = "";
        (data.items || []).forEach(function (h) {
          var li = document.createElement("li");
          li.setAttribute("data-testid", "floor-history-item");
          var head = document.createElement("span");
          head.className = "hint";
          head.textContent = time(h.at) + " · " + (h.user_name || h.login || "sistema") + (h.campaign ? " · " + h.campaign : "") + ": ";
          li.appendChild(head);
          li.appendChild(document.createTextNode(h.summary));
          ul.appendChild(li);
        });
        $("floor-history-empty").hidden = (data.items || []).length > 0;
      }, function () {});
  }

  function nearCap(c) {
    var limit = c.abandon_cap * settings().nearCap;
    return c.abandon_cap > 0 && ((c.abandon_rate_today || 0) >= limit || (c.abandon_rate_30d || 0) >= limit);
  }

  // Alerts of one kind from two agents (or campaigns) on are shown as one group: how many, then
  // the newest few (ALERT_LIMIT) and "ver mais" for the rest, so ten agents releasing calls
  // don't push every other alert off the board. Kinds in the order a supervisor acts on them.
  var ALERT_LIMIT = 3;
  var ALERT_KINDS = ["ami", "phone", "identity_override", "identity_locked", "abandon", "wrapup", "pause"];
  var ALERT_GROUP = {
    ami: function (n) { return n + " alertas da central telefônica"; },
    phone: function (n) { return n + " operadores com o telefone desconectado"; },
    identity_override: function (n) { return n + " operadores liberaram a chamada sem verificar a identidade"; },
    identity_locked: function (n) { return n + " operadores com a verificação de identidade bloqueada"; },
    abandon: function (n) { return n + " campanhas com abandono perto do teto"; },
    wrapup: function (n) { return n + " operadores em pós-atendimento há muito tempo"; },
    pause: function (n) { return n + " operadores em pausa há muito tempo"; }
  };
  // identity releases seen by this page, per agent: how many and when the last one was seen. Counted
  // on each floor frame when the call on the agent's screen turns "liberada" (the state stays so
  // through wrap-up, and goes back to none or "pendente" with the next call): one per call.
  var released = {};
  var lastIdentity = {};
  var openGroups = {};

  function noteReleases(agents) {
    agents.forEach(function (a) {
      var now = a.identity === "liberada_sem_verificacao";
      if (now && lastIdentity[a.user_id] !== a.identity) {
        var r = released[a.user_id] || (released[a.user_id] = { count: 0, at: 0 });
        r.count += 1;
        r.at = serverNow();
      }
      lastIdentity[a.user_id] = a.identity;
    });
  }

  function alertsNow(f, cfg) {
    var out = [], now = serverNow();
    // title: a detail (an override's reason) shown as a tooltip on a lone alert, so it never stretches the row
    function add(kind, at, text, item, title) { out.push({ kind: kind, at: at, text: text, item: item || text, title: title }); }
    if (f.dialer !== false && !f.link_up) add("ami", now, "Sem conexão com a central telefônica (AMI): a discagem está parada.");
    (f.agents || []).forEach(function (a) {
      var t = elapsed(a.since), since = Date.parse(a.since);
      if (a.state === "paused" && t.seconds >= cfg.pauseS) add("pause", since, a.name + " está em pausa há " + t.text + ".", a.name + ": " + t.text);
      if (a.state === "wrap_up" && t.seconds >= cfg.wrapupS) {
        add("wrapup", since, a.name + " está em pós-atendimento há " + t.text + ".", a.name + ": " + t.text);
      }
      // the identity check of the call on the agent's screen (issue 11): a release without a match, or a lock
      if (a.identity === "liberada_sem_verificacao") {
        var r = released[a.user_id] || { count: 1, at: since }, reason = a.identity_override_reason || "sem motivo";
        add("identity_override", r.at, a.name + " liberou a chamada sem verificar a identidade.",
          a.name + (r.count > 1 ? " (" + r.count + "×)" : "") + ": " + reason, "Motivo: " + reason);
      }
      if (a.identity === "bloqueada") {
        add("identity_locked", since, a.name + ": verificação de identidade bloqueada (3 respostas erradas).", a.name);
      }
      // offline agents have no phone by definition (logged out, or the floor already took them off)
      if (!a.phone_connected && a.state !== "offline" && a.state !== "connecting") {
        add("phone", since, "Telefone de " + a.name + " desconectado.", a.name);
      }
    });
    (f.campaigns || []).forEach(function (c) {
      if (nearCap(c)) {
        var rate = pct(Math.max(c.abandon_rate_today || 0, c.abandon_rate_30d || 0));
        add("abandon", 0, "Campanha " + c.name + ": abandono " + rate + " perto do teto de " + pct(c.abandon_cap) + ".",
          c.name + ": " + rate + " (teto " + pct(c.abandon_cap) + ")");
      }
    });
    return out;
  }

  function alertGroup(kind, items) {
    var li = document.createElement("li"), head = document.createElement("span"), ul = document.createElement("ul");
    li.className = "sv-alert-group";
    li.setAttribute("data-testid", "alert-group");
    li.setAttribute("data-kind", kind);
    head.className = "sv-alert-head";
    head.textContent = ALERT_GROUP[kind](items.length);
    li.appendChild(head);
    ul.className = "sv-alert-items";
    var open = openGroups[kind], shown = open ? items : items.slice(0, ALERT_LIMIT);
    shown.forEach(function (a) {
      var item = document.createElement("li");
      item.setAttribute("data-testid", "alert-item");
      item.textContent = a.item;
      ul.appendChild(item);
    });
    li.appendChild(ul);
    if (items.length > ALERT_LIMIT) {
      var more = document.createElement("button");
      more.type = "button";
      more.className = "sv-alert-more";
      more.setAttribute("data-testid", "alert-more");
      more.textContent = open ? "mostrar menos" : "ver mais " + (items.length - ALERT_LIMIT);
      more.addEventListener("click", function () { openGroups[kind] = !openGroups[kind]; tick(); });
      li.appendChild(more);
    }
    return li;
  }

  // once a second: the timers, and the alerts that depend on time
  function tick() {
    var f = st.floor;
    if (!f) return;
    (f.agents || []).forEach(function (a) {
      var row = st.agentRows[a.user_id];
      if (row) row.querySelector("[data-f=timer]").textContent = elapsed(a.since).text;
    });
    var alerts = alertsNow(f, settings()), list = $("alerts");
    list.textContent = "";
    ALERT_KINDS.forEach(function (kind) {
      var items = alerts.filter(function (a) { return a.kind === kind; });
      items.sort(function (x, y) { return y.at - x.at; });  // newest first
      if (items.length > 1) { list.appendChild(alertGroup(kind, items)); return; }
      items.forEach(function (a) {
        var li = document.createElement("li");
        li.setAttribute("data-testid", "alert");
        li.setAttribute("data-kind", kind);
        li.textContent = a.text;
        if (a.title) { li.title = a.title; li.className = "has-detail"; }
        list.appendChild(li);
      });
      if (!items.length) delete openGroups[kind];
    });
    $("alert-count").textContent = String(alerts.length);
    $("alerts-empty").hidden = alerts.length > 0;
  }

  function showError(text) {
    var el = $("sv-error");
    el.textContent = text || "";
    el.hidden = !text;
  }

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
          throw new Error(err.message || ("Erro " + resp.status + "."));
        }
        showError("");
        return data;
      });
    }, function () { throw new Error("Sem conexão com o servidor; tente de novo."); });
  }

  function campaignAction(id, action, row) {
    if (action === "stop" && !window.confirm("Encerrar a campanha? Ela sai da discagem até ser iniciada de novo.")) return;
    row.classList.add("busy");
    api("POST", "/api/v1/campaigns/" + id + "/" + action)
      .catch(function (e) { showError(e.message); })
      .then(function () { row.classList.remove("busy"); loadHistory(); });
  }

  function setMode(id, mode, row) {
    row.classList.add("busy");
    api("PUT", "/api/v1/campaigns/" + id + "/pacing", { mode: mode })
      .catch(function (e) { showError(e.message); })
      .then(function () { row.classList.remove("busy"); loadHistory(); });
  }

  function monitor(agentId, mode) {
    api("POST", "/api/v1/floor/monitor", { agent_id: agentId, mode: mode })
      .then(function () { showError(""); }, function (e) { showError(e.message); });
  }

  function stopMonitor() {
    api("POST", "/api/v1/floor/monitor/stop").catch(function (e) { showError(e.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    count();
    connect();
    setInterval(tick, 1000);
    loadHistory();
    setInterval(loadHistory, 3000);
  });
})();
