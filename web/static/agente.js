// The agent desktop (/agente): one websocket, frames numbered by the server, resume on reconnect.
// Plain script, no build step. Everything the agent reads is formatted by the server (pt-BR).
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var BUSY = { reserved: 1, on_call: 1, wrap_up: 1 };

  var st = {
    ws: null, epoch: null, lastSeq: null, retry: 0, timer: null,
    state: "offline", since: null, skewMs: 0,
    pop: null, phase: null, ended: false,
    outcome: null, keys: {}, refs: 0, pending: {},
    script: null, captureFor: null, quote: null, selected: null, approval: null, pix: null
  };

  // ------------------------------------------------------------------ connection

  function setConn(kind, text) {
    $("conn").setAttribute("data-conn", kind);
    $("conn-text").textContent = text;
  }

  function sessionEnded(reason) {
    var text = reason || "Sua sessão foi encerrada. Entre de novo.";
    setConn("down", text);
    notice(text + " Abra a página de login para continuar.");
    document.body.setAttribute("data-session", "ended");
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/agente");
    st.ws = ws;
    setConn("connecting", "Conectando…");
    ws.onopen = function () {
      // the server replays what we missed since lastSeq, or sends a fresh snapshot
      ws.send(JSON.stringify({ type: "hello", last_seq: st.lastSeq, epoch: st.epoch }));
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.seq > 0) {
        if (st.lastSeq !== null && f.seq <= st.lastSeq) return; // already seen (another replay)
        st.lastSeq = f.seq;
      }
      handle(f);
    };
    ws.onclose = function (ev) {
      if (st.ws !== ws) return;
      st.ws = null;
      render();
      // 1008: the session ended (logout, disabled, password or role changed): say why, never reconnect
      if (ev.code === 1008 || ev.code === 4001) { sessionEnded(ev.reason); return; }
      var delay = Math.min(10000, 500 * Math.pow(2, st.retry)) * (0.75 + Math.random() * 0.5);
      st.retry += 1;
      var secs = Math.max(1, Math.round(delay / 1000));
      setConn("down", "Sem conexão: tentando de novo em " + secs + " s");
      setTimeout(connect, delay);
    };
  }

  function send(msg) {
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) {
      notice("Sem conexão com o servidor: aguarde a reconexão e tente de novo.");
      return null;
    }
    st.refs += 1;
    msg.ref = "r" + st.refs;
    st.pending[msg.ref] = msg.type;
    st.ws.send(JSON.stringify(msg));
    return msg.ref;
  }

  // ------------------------------------------------------------------ frames

  function handle(f) {
    switch (f.type) {
      case "hello":
        st.retry = 0;
        if (!f.resumed || f.epoch !== st.epoch) { st.lastSeq = null; }
        st.epoch = f.epoch;
        st.skewMs = Date.parse(f.server_time) - Date.now();
        setConn("up", f.resumed ? "Conectado (retomado)" : "Conectado");
        break;
      case "agent_state":
        var prev = st.state;
        st.state = f.state;
        st.since = Date.parse(f.since);
        $("agent-state").textContent = f.label;
        $("agent-state").setAttribute("data-state", f.state);
        if (!BUSY[f.state] && f.state !== prev) { clearPop(); }
        if (f.state !== prev) logEvent(f.label);
        break;
      case "screen_pop":
        var fresh = !st.pop || st.pop.call_id !== f.call_id;
        st.pop = f;
        if (fresh) {
          st.ended = false; st.phase = null;
          st.script = null; st.captureFor = null; st.quote = null; st.selected = null; st.approval = null; st.pix = null;
          resetForm(); logEvent("Chamada: " + f.summary.greeting_name);
        }
        renderPop();
        renderScript(); renderOffers(); renderApproval(); renderPix();
        break;
      case "call_state":
        if (st.pop && st.pop.call_id === f.call_id) {
          st.phase = f.phase;
          $("call-phase").textContent = f.label;
          $("call-phase").setAttribute("data-phase", f.phase);
        }
        break;
      case "script":
        if (st.pop && st.pop.call_id === f.call_id) {
          st.script = f;
          st.captureFor = null;
          if (f.outcome) chooseOutcome(f.outcome);
          renderScript();
        }
        break;
      case "offers":
        if (st.pop && st.pop.call_id === f.call_id) {
          st.quote = f.quote;
          st.pix = f.pix;
          keepSelection();
          renderOffers();
        }
        break;
      case "pix":
        if (st.pop && st.pop.call_id === f.call_id) { st.pix = f.pix; renderPix(); }
        break;
      case "approval_result":
        if (!st.pop || st.pop.call_id !== f.call_id) break;  // a late answer about an earlier call
        st.approval = f;
        renderApproval();
        logEvent(f.message);
        if (f.status !== "pending") notice(f.message, f.allowed ? "info" : null);
        break;
      case "call_ended":
        if (st.pop && st.pop.call_id === f.call_id) {
          st.ended = true;
          st.phase = "ended";
          $("call-phase").textContent = "Encerrada: " + f.label;
          $("call-phase").setAttribute("data-phase", "ended");
        }
        logEvent("Chamada encerrada (" + f.label + ")");
        break;
      case "ack":
        var what = st.pending[f.ref];
        delete st.pending[f.ref];
        if (what === "dispose" || f.of === "dispose") {
          logEvent(f.detail.duplicate ? "Resultado já estava registrado" : "Resultado registrado");
          notice(f.detail.duplicate ? "Este resultado já estava registrado." : "Resultado registrado.", "info");
        }
        break;
      case "error":
        if (f.ref) delete st.pending[f.ref];
        if (f.code === "supervisor_talking" || f.code === "supervisor_left") {
          // a notice, not an error: a supervisor whispers to (or barges in on) this agent, or stopped
          notice(f.message, "info");
          logEvent(f.message);
          break;
        }
        showError(f);
        break;
    }
    render();
  }

  function showError(f) {
    var msg = f.message;
    if (f.field) {
      var input = fieldInput(f.field);
      if (input) { input.classList.add("invalid"); input.focus(); }
      $("dispose-error").textContent = msg;
      $("dispose-error").hidden = false;
    }
    notice(msg);
    logEvent(msg, true);
  }

  function fieldInput(field) {
    return {
      promise_amount: $("promise-amount"), promise_date: $("promise-date"),
      callback_at: $("callback-date"), notes: $("notes"), code: document.querySelector(".outcome")
    }[field] || null;
  }

  // ------------------------------------------------------------------ rendering

  function text(id, value) { $(id).textContent = value == null || value === "" ? "—" : value; }

  function cell(row, value, cls) {
    var td = document.createElement("td");
    td.textContent = value == null || value === "" ? "—" : value;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function fillTable(id, rows, cols, emptyText) {
    var body = $(id);
    body.textContent = "";
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = cols;
      td.className = "empty";
      td.textContent = emptyText;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (c) { cell(tr, c[0], c[1]); });
      body.appendChild(tr);
    });
  }

  function renderPop() {
    var p = st.pop;
    $("pop-empty").hidden = !!p;
    $("pop-body").hidden = !p;
    if (!p) return;
    var s = p.summary;
    text("pop-campaign", p.campaign_name);
    text("pop-greeting", p.details ? p.details.full_name : s.greeting_name);
    text("pop-phone", s.phone_masked);
    text("pop-local", s.local_time);
    text("pop-attempts", s.attempts_today + " / " + s.attempts_7d);
    var win = $("pop-window");
    win.textContent = s.window_open == null ? "—" : (s.window_open ? "Dentro do horário" : "Fora do horário");
    win.className = s.window_open ? "window-open" : "window-closed";
    win.title = s.window_message || "";
    $("pop-flags").hidden = !s.flags.length;
    $("pop-flags").textContent = s.flags.length ? "Atenção: " + s.flags.join(", ") : "";
    var d = p.details;
    $("gate").hidden = !!d;
    $("details").hidden = !d;
    if (!d) return;
    text("pop-cpf", d.masked_cpf);
    text("pop-uf", d.uf);
    text("pop-total", d.total_balance);
    fillTable("debts", d.debts.map(function (x) {
      return [[x.contract, "nowrap"], [x.creditor], [x.product], [x.due_date],
        [x.days_past_due + (x.days_past_due === 1 ? " dia" : " dias"), "num" + (x.days_past_due > 0 ? " late" : "")], [x.original_amount, "num"], [x.balance, "num"]];
    }), 7, "Nenhuma dívida em aberto.");
    fillTable("promises", d.promises.map(function (x) {
      return [[x.created_at], [x.due], [x.amount, "num"], [x.kept]];
    }), 4, "Nenhuma promessa registrada.");
    fillTable("history", d.attempts.map(function (x) {
      return [[x.at], [x.result], [x.agent_name], [x.outcome], [x.notes]];
    }), 5, "Primeiro contato com este cliente.");
  }

  // ------------------------------------------------------------------ script and offers

  function renderScript() {
    var sc = st.script;
    $("script").hidden = !sc || !st.pop;
    if (!sc) return;
    $("script-title").textContent = sc.title;
    // plain text from the server, shown as text (only **negrito** and line breaks become nodes)
    window.cobra.richText($("script-text"), sc.text || (sc.outcome ? "Roteiro concluído: registre o resultado ao lado." : ""));
    var box = $("script-choices");
    box.textContent = "";
    sc.choices.forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button";
      b.textContent = c.label;
      b.setAttribute("data-choice", c.id);
      b.setAttribute("data-testid", "choice-" + c.id);
      b.addEventListener("click", function () { takeChoice(c); });
      box.appendChild(b);
    });
    var cap = sc.choices.filter(function (c) { return c.id === st.captureFor; })[0];
    $("script-capture").hidden = !cap;
    if (cap) {
      $("script-capture-label").textContent = "Registre: " + cap.label;
      var sel = $("script-capture-select");
      sel.hidden = !cap.options.length;
      $("script-capture-value").hidden = !!cap.options.length;
      sel.textContent = "";
      cap.options.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o[0]; opt.textContent = o[1];
        sel.appendChild(opt);
      });
    }
  }

  function takeChoice(c) {
    if (!st.pop) return;
    var msg = { type: "script_step", call_id: st.pop.call_id, choice: c.id };
    if (c.capture_key) {
      if (st.captureFor !== c.id) { st.captureFor = c.id; renderScript(); return; } // first click: ask for the value
      var value = c.options.length ? $("script-capture-select").value : $("script-capture-value").value.trim();
      if (!value) { $("script-capture-value").classList.add("invalid"); $("script-capture-value").focus(); return; }
      msg.capture = value;
    }
    send(msg);
  }

  function pct(value) { return String(value).replace(".", ",") + "%"; }

  function keepSelection() {
    var q = st.quote;
    var sel = st.selected;
    var found = sel && q.offers.filter(function (o) {
      return o.kind === sel.kind && (o.kind === "a_vista" || o.installments_count === sel.installments);
    })[0];
    if (!found) found = q.offers[0];
    st.selected = found ? { kind: found.kind, installments: found.kind === "a_vista" ? null : found.installments_count,
      discount_pct: q.discount_pct, text: found.text } : null;
  }

  function renderOffers() {
    var q = st.quote;
    $("offers").hidden = !q || !st.pop || !st.pop.details;
    if (!q) return;
    $("offers-bucket").textContent = "(faixa " + q.bucket + ", " + q.days_overdue + " dias de atraso)";
    fillTable("offers-breakdown", q.debt.lines.map(function (l) { return [[l[0]], [l[2], "num money"]]; }), 2, "—");
    text("offers-total", q.debt.total_text);
    var list = $("offer-list");
    list.textContent = "";
    q.offers.forEach(function (o) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "offer";
      b.setAttribute("role", "radio");
      var id = o.kind === "a_vista" ? "a_vista" : "parcelado-" + o.installments_count;
      b.setAttribute("data-testid", "offer-" + id);
      var chosen = st.selected && st.selected.kind === o.kind && (o.kind === "a_vista" || st.selected.installments === o.installments_count);
      b.setAttribute("aria-checked", chosen ? "true" : "false");
      b.textContent = o.text;
      b.addEventListener("click", function () {
        st.selected = { kind: o.kind, installments: o.kind === "a_vista" ? null : o.installments_count, discount_pct: q.discount_pct, text: o.text };
        var msg = { type: "simulate_offer", call_id: st.pop.call_id, discount_pct: q.discount_pct };
        if (st.selected.installments) msg.installments = st.selected.installments;
        send(msg);  // the server keeps the choice for the script and answers with the Pix of its first payment
        renderOffers();
      });
      list.appendChild(b);
    });
    var lim = q.limits;
    $("offers-limits").textContent = "Desconto aplicado: " + pct(q.discount_pct) + ". Sua alçada: até " + pct(lim.agent_pct) +
      "; com aprovação do supervisor: até " + pct(lim.supervisor_pct) + ".";
    if (document.activeElement !== $("discount-pct")) $("discount-pct").value = String(q.discount_pct).replace(".", ",");
    $("chosen-offer").textContent = st.selected ? st.selected.text + " (desconto " + pct(st.selected.discount_pct) + ")" : "Escolha uma oferta na calculadora.";
    renderApprovalButton();
    renderPix();
  }

  function discountValue() {
    var t = ($("discount-pct").value || "").replace(/\s|%/g, "").replace(",", ".");
    return /^\d{1,3}(\.\d{1,2})?$/.test(t) ? t : null;
  }

  function renderApprovalButton() {
    var q = st.quote, v = discountValue();
    var need = !!q && v !== null && Number(v) > Number(q.limits.agent_pct) && Number(v) <= Number(q.limits.supervisor_pct);
    $("btn-approval").hidden = !need;
  }

  function renderApproval() {
    var a = st.approval, el = $("approval-status");
    el.hidden = !a;
    if (!a) return;
    el.textContent = a.message + (a.decided_by_name ? " (" + a.decided_by_name + ")" : "");
    el.setAttribute("data-status", a.status);
  }

  function renderPix() {
    var p = st.pix;
    $("pix").hidden = !p;
    if (!p) return;
    text("pix-amount", p.amount);
    // the server's SVG as an image: an <img> never runs script, whatever the SVG holds
    var qr = $("pix-qr"), img = qr.querySelector("img");
    if (!img) { img = document.createElement("img"); img.alt = "QR Code Pix"; qr.appendChild(img); }
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(p.svg);
    $("pix-payload").value = p.payload;
  }

  function simulate() {
    if (!st.pop || !st.quote) return;
    var v = discountValue();
    if (v === null) { $("discount-pct").classList.add("invalid"); notice("Informe o desconto em %, por exemplo 12,5."); return; }
    $("discount-pct").classList.remove("invalid");
    var msg = { type: "simulate_offer", call_id: st.pop.call_id, discount_pct: v };
    if (st.selected && st.selected.installments) msg.installments = st.selected.installments;
    send(msg);
  }

  function requestApproval() {
    if (!st.pop) return;
    var v = discountValue();
    if (v === null) return;
    var msg = { type: "request_approval", call_id: st.pop.call_id, discount_pct: v };
    if (st.selected && st.selected.installments) { msg.kind = "parcelado"; msg.installments = st.selected.installments; }
    st.approval = { status: "pending", message: "Enviando o pedido ao supervisor…" };
    renderApproval();
    send(msg);
  }

  function clearPop() {
    st.pop = null; st.phase = null; st.ended = false;
    st.script = null; st.captureFor = null; st.quote = null; st.selected = null; st.approval = null; st.pix = null;
    renderScript(); renderOffers(); renderApproval(); renderPix();
    resetForm();
    renderPop();
  }

  function render() {
    var up = !!st.ws && st.ws.readyState === WebSocket.OPEN;
    var s = st.state;
    $("btn-ready").disabled = !up || !(s === "offline" || s === "paused");
    $("btn-pause").disabled = !up || !(s === "ready" || s === "wrap_up" || s === "connecting");
    $("pause-reason").disabled = $("btn-pause").disabled;
    var callId = st.pop && st.pop.call_id;
    $("btn-dial").disabled = !up || !callId || st.phase !== "preview";
    $("btn-hangup").disabled = !up || !callId || st.ended || !(st.phase === "connected" || st.phase === "connecting" || st.phase === "dialing");
    $("btn-identity").disabled = !up || !callId || (st.pop && !!st.pop.details);
    var canDispose = up && !!callId && s === "wrap_up";
    document.querySelectorAll(".outcome").forEach(function (b) { b.disabled = !callId; });
    $("btn-dispose").disabled = !canDispose || !st.outcome;
    window.cobra.richText($("pop-empty-hint"), s === "ready" ? "Você está **Disponível**: aguarde a próxima chamada."
      : s === "paused" ? "Você está em pausa. Clique em **Disponível** para voltar."
      : s === "connecting" ? "Atenda o seu telefone para entrar na fila de chamadas."
      : "Clique em **Disponível** para receber chamadas. A ficha do cliente aparece aqui assim que ele atender.");
  }

  function tick() {
    if (st.since == null) { $("state-timer").textContent = "00:00"; return; }
    var secs = Math.max(0, Math.floor((Date.now() + st.skewMs - st.since) / 1000));
    var h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), sec = secs % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    $("state-timer").textContent = (h ? h + ":" : "") + pad(m) + ":" + pad(sec);
  }

  var noticeTimer = null;
  function notice(msg, kind) {
    var n = $("notice");
    n.textContent = msg;
    n.className = "notice-bar" + (kind === "info" ? " info" : "");
    n.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { n.hidden = true; }, kind === "info" ? 4000 : 8000);
  }

  function logEvent(msg, isErr) {
    var li = document.createElement("li");
    if (isErr) li.className = "err";
    var t = document.createElement("time");
    var now = new Date();
    t.textContent = now.toLocaleTimeString("pt-BR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    var span = document.createElement("span");
    span.textContent = msg;
    li.appendChild(t); li.appendChild(span);
    var list = $("events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }

  // ------------------------------------------------------------------ disposition form

  function chooseOutcome(code) {
    st.outcome = code;
    document.querySelectorAll(".outcome").forEach(function (b) {
      b.setAttribute("aria-checked", b.getAttribute("data-code") === code ? "true" : "false");
    });
    document.querySelectorAll(".fields").forEach(function (f) { f.hidden = f.getAttribute("data-for") !== code; });
    $("dispose-error").hidden = true;
    render();
  }

  function resetForm() {
    st.outcome = null;
    $("dispose-form").reset();
    document.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
    chooseOutcome(null);
  }

  // "1.234,56" or "150" → "1234.56"; null when it is not an amount
  function parseAmount(textValue) {
    var t = (textValue || "").replace(/\s|R\$/g, "");
    if (!/^\d{1,3}(\.\d{3})*(,\d{1,2})?$|^\d+(,\d{1,2})?$/.test(t)) return null;
    return t.replace(/\./g, "").replace(",", ".");
  }

  function formError(input, msg) {
    input.classList.add("invalid");
    input.focus();
    $("dispose-error").textContent = msg;
    $("dispose-error").hidden = false;
  }

  function submitDisposition(ev) {
    if (ev) ev.preventDefault();
    if ($("btn-dispose").disabled) return;
    document.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
    $("dispose-error").hidden = true;
    var callId = st.pop.call_id;
    // one idempotency key per call: a retry after a lost connection cannot store twice
    var key = st.keys[callId] || (st.keys[callId] = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : callId + "-" + Date.now());
    var msg = { type: "dispose", call_id: callId, code: st.outcome, client_key: key };
    if (st.outcome === "PROMESSA") {
      var amount = parseAmount($("promise-amount").value);
      if (amount === null) return formError($("promise-amount"), "Informe o valor prometido, por exemplo 1.234,56.");
      if (!$("promise-date").value) return formError($("promise-date"), "Informe a data do pagamento.");
      msg.promise_amount = amount;
      msg.promise_date = $("promise-date").value;
    }
    if (st.outcome === "ACORDO") {
      if (!st.selected) return formError($("discount-pct"), "Escolha a oferta do acordo na calculadora.");
      msg.agreement = { kind: st.selected.kind, discount_pct: st.selected.discount_pct };
      if (st.selected.installments) msg.agreement.installments = st.selected.installments;
    }
    if (st.outcome === "RETORNAR") {
      if (!$("callback-date").value || !$("callback-time").value) return formError($("callback-date"), "Informe a data e a hora do retorno.");
      msg.callback_at = new Date($("callback-date").value + "T" + $("callback-time").value).toISOString();
      msg.callback_own = document.querySelector('input[name="callback-own"]:checked').value === "own";
    }
    var notes = $("notes").value.trim();
    if (notes) msg.notes = notes;
    if ($("pause-after").value) msg.pause_after = $("pause-after").value;
    send(msg);
  }

  // ------------------------------------------------------------------ wiring

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  function click(id) { var b = $(id); if (b && !b.disabled) b.click(); }

  document.addEventListener("DOMContentLoaded", function () {
    $("btn-ready").addEventListener("click", function () { send({ type: "set_state", state: "ready" }); });
    $("btn-pause").addEventListener("click", function () {
      send({ type: "set_state", state: "pause", reason: $("pause-reason").value });
    });
    $("btn-identity").addEventListener("click", function () {
      if (st.pop) send({ type: "confirm_identity", call_id: st.pop.call_id });
    });
    $("btn-dial").addEventListener("click", function () { if (st.pop) send({ type: "dial", call_id: st.pop.call_id }); });
    $("btn-hangup").addEventListener("click", function () { if (st.pop) send({ type: "hangup", call_id: st.pop.call_id }); });
    document.querySelectorAll(".outcome").forEach(function (b) {
      b.addEventListener("click", function () { chooseOutcome(b.getAttribute("data-code")); });
    });
    $("dispose-form").addEventListener("submit", submitDisposition);
    $("btn-simulate").addEventListener("click", simulate);
    $("btn-approval").addEventListener("click", requestApproval);
    $("discount-pct").addEventListener("input", renderApprovalButton);
    $("btn-promise-pix").addEventListener("click", function () {
      var amount = parseAmount($("promise-amount").value);
      if (amount === null) return formError($("promise-amount"), "Informe o valor prometido, por exemplo 1.234,56.");
      if (st.pop) send({ type: "pix_code", call_id: st.pop.call_id, amount: amount });
    });

    // Leaving Cobra also leaves the dialer (the phone leg is hung up), unless a call is open
    var logout = document.querySelector('form[action="/logout"]');
    if (logout) {
      logout.addEventListener("submit", function (ev) {
        if (BUSY[st.state]) {
          ev.preventDefault();
          notice("Termine a chamada e registre o resultado antes de sair.");
          return;
        }
        if (st.state !== "offline" && st.ws && st.ws.readyState === WebSocket.OPEN) {
          ev.preventDefault();
          send({ type: "logout" });
          setTimeout(function () { logout.submit(); }, 300);
        }
      });
    }

    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitDisposition(); return; }
      var fkeys = { F2: "btn-ready", F3: "btn-pause", F4: "btn-identity", F8: "btn-dial", F9: "btn-hangup" };
      if (fkeys[ev.key]) { ev.preventDefault(); click(fkeys[ev.key]); return; }
      if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var b = document.querySelector('.outcome[data-key="' + ev.key + '"]');
      if (b && !b.disabled) { ev.preventDefault(); b.click(); }
    });

    setInterval(tick, 1000);
    render();
    connect();
  });

  window.cobraDesk = { state: function () { return st; } };
})();
