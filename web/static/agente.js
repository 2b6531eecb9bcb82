// The agent desktop (/agente): one websocket, frames numbered by the server, resume on reconnect.
// Plain script, no build step. Everything the agent reads is formatted by the server (pt-BR);
// the page is keyboard-first: after every submit the focus goes back to the page, so digits
// choose outcomes again (see the "?" overlay for every key).
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var BUSY = { reserved: 1, on_call: 1, wrap_up: 1 };
  var OFFERS_SHOWN = 4;  // cash + the first plans; "ver parcelas" shows the rest

  var st = {
    ws: null, epoch: null, lastSeq: null, retry: 0, timer: null,
    state: "offline", since: null, skewMs: 0,
    pop: null, phase: null, ended: false, identity: null,
    outcome: null, keys: {}, refs: 0, pending: {},
    script: null, captureFor: null, quote: null, selected: null, approval: null, pix: null, promisePix: null,
    allOffers: false, tab: "debts", day: null
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
    setConn("connecting", "Conectando ao servidor…");
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
      setConn("down", "Sem conexão com o servidor: tentando de novo em " + secs + " s");
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

  // back to the page: digits choose outcomes again (never leave the focus in a field after a submit)
  function toPage() {
    var a = document.activeElement;
    if (a && a !== document.body && a.blur) a.blur();
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
          st.ended = false; st.phase = null; st.identity = null; st.allOffers = false;
          st.script = null; st.captureFor = null; st.quote = null; st.selected = null; st.approval = null;
          st.pix = null; st.promisePix = null;
          resetForm(); showTab("debts");
          $("identity-answer").value = ""; $("override-reason").value = ""; $("override-form").hidden = true;
          logEvent("Chamada: " + f.summary.greeting_name);
        }
        renderPop(); renderIdentity();
        renderScript(); renderOffers(); renderApproval(); renderPix();
        break;
      case "identity":
        if (st.pop && st.pop.call_id === f.call_id) {
          var before = st.identity;
          st.identity = f.identity;
          if (f.identity.status === "verificada" || f.identity.status === "liberada_sem_verificacao") toPage();
          renderIdentity();
          if (f.identity.message) {
            logEvent(f.identity.message, f.identity.status === "pendente" || f.identity.status === "bloqueada");
            if (f.identity.status === "pendente" && before && f.identity.attempts_left < before.attempts_left) {
              $("identity-answer").select();  // a wrong answer: ready to type the next one
            }
          }
        }
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
          renderOffers(); renderPop();
        }
        break;
      case "pix":
        if (st.pop && st.pop.call_id === f.call_id) { st.promisePix = f.pix; renderPix(); }
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
        logEvent("Chamada encerrada: " + f.label);
        break;
      case "my_day":
        st.day = f;
        renderDay();
        break;
      case "ack":
        var what = st.pending[f.ref];
        delete st.pending[f.ref];
        if (what === "dispose" || f.of === "dispose") {
          logEvent(f.detail.duplicate ? "Resultado já estava registrado" : "Resultado registrado");
          notice(f.detail.duplicate ? "Este resultado já estava registrado." : "Resultado registrado.", "info");
          toPage();
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
    var input = f.field ? fieldInput(f.field) : null;
    if (input) {
      input.classList.add("invalid");
      if (input.closest && input.closest("#dispose-form")) {
        $("dispose-error").textContent = msg;
        $("dispose-error").hidden = false;
        // a refused field takes the keyboard, its text selected: typing replaces it
        if (input.tagName === "INPUT" || input.tagName === "TEXTAREA") { input.focus(); input.select(); }
      }
    }
    if (f.code === "identity_refused") { $("identity-status").textContent = msg; }
    notice(msg);
    logEvent(msg, true);
  }

  function fieldInput(field) {
    return {
      promise_amount: $("promise-amount"), promise_date: $("promise-date"),
      callback_at: $("callback-date"), notes: $("notes"), code: document.querySelector(".outcome"),
      answer: $("identity-answer"), reason: $("override-reason"), method: $("identity-method")
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
    $("tabs-box").hidden = !d;
    document.querySelectorAll(".after-id").forEach(function (e) { e.hidden = !d; });
    if (!d) return;
    text("pop-cpf", d.masked_cpf);
    // one set of money words: the debts table reads the same figures as the calculator and the script
    var byContract = {};
    if (st.quote) st.quote.contracts.forEach(function (c) { byContract[c.contract] = c; });
    text("pop-total", st.quote ? st.quote.debt.figures.total_text : d.total_balance);
    fillTable("debts", d.debts.map(function (x) {
      var q = byContract[x.contract];
      return [[x.contract, "nowrap"], [x.creditor + (x.product ? " · " + x.product : "")], [x.due_date],
        [x.days_past_due + (x.days_past_due === 1 ? " dia" : " dias"), "num" + (x.days_past_due > 0 ? " late" : "")],
        [q ? q.figures.principal_text : x.balance, "num"], [q ? q.figures.charges_text : "—", "num"],
        [q ? q.figures.total_text : "—", "num"]];
    }), 7, "Nenhuma dívida em aberto.");
    var f = st.quote ? st.quote.debt.figures : null;
    text("debts-principal", f ? f.principal_text : d.total_balance);
    text("debts-charges", f ? f.charges_text : "—");
    text("debts-total", f ? f.total_text : "—");
    fillTable("promises", d.promises.map(function (x) {
      return [[x.created_at], [x.due], [x.amount, "num"], [x.kept]];
    }), 4, "Nenhuma promessa registrada.");
    fillTable("history", d.attempts.map(function (x) {
      return [[x.at], [x.result], [x.agent_name], [x.outcome], [x.notes]];
    }), 5, "Primeiro contato com este cliente.");
  }

  function renderIdentity() {
    var idv = st.identity;
    var released = !!(st.pop && st.pop.details);
    $("identity").hidden = !st.pop || released;
    if (!st.pop || released) return;
    var sel = $("identity-method");
    var current = sel.value;
    sel.textContent = "";
    var methods = idv ? idv.methods : [];
    methods.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m[0]; o.textContent = m[1];
      sel.appendChild(o);
    });
    if (current && methods.some(function (m) { return m[0] === current; })) sel.value = current;
    maskFor();
    var locked = !!idv && idv.status === "bloqueada";
    var none = !methods.length;
    $("identity-answer").disabled = locked || none;
    $("btn-verify").disabled = locked || none;
    sel.disabled = locked || none;
    var status = !idv ? "Aguardando…"
      : none ? "Sem dados no cadastro para verificar: libere com justificativa se a pessoa for o titular."
      : idv.message || (idv.label + ". Tentativas restantes: " + idv.attempts_left + ".");
    $("identity-status").textContent = status;
    $("identity-status").setAttribute("data-status", idv ? idv.status : "");
  }

  function maskFor() {
    var m = $("identity-method").value;
    var input = $("identity-answer");
    input.placeholder = m === "data_nascimento" ? "dd/mm/aaaa" : m === "cpf" ? "3 dígitos" : "resposta da pessoa";
    input.setAttribute("inputmode", m === "outra" ? "text" : "numeric");
    input.setAttribute("data-mask", m === "data_nascimento" ? "date" : m === "cpf" ? "cpf3" : "");
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
    sc.choices.forEach(function (c, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button choice-btn";
      if (i < 9) {
        var k = document.createElement("kbd");
        k.textContent = "Alt+" + (i + 1);
        b.appendChild(k);
      }
      var span = document.createElement("span");
      span.textContent = c.label + (c.capture_key ? " …" : "");
      b.appendChild(span);
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
      if (st.captureFor !== c.id) {
        // this choice records a value: ask for it right here, Enter (or the same choice again) sends it
        st.captureFor = c.id; renderScript();
        var field = c.options.length ? $("script-capture-select") : $("script-capture-value");
        field.focus();
        notice("Registre \"" + c.label + "\" no campo que apareceu e tecle Enter.", "info");
        return;
      }
      var value = c.options.length ? $("script-capture-select").value : $("script-capture-value").value.trim();
      if (!value) {
        $("script-capture-value").classList.add("invalid"); $("script-capture-value").focus();
        notice("Digite o valor pedido antes de seguir o roteiro.");
        return;
      }
      msg.capture = value;
    }
    send(msg);
    toPage();
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

  function chooseOffer(o) {
    var q = st.quote;
    st.selected = { kind: o.kind, installments: o.kind === "a_vista" ? null : o.installments_count, discount_pct: q.discount_pct, text: o.text };
    var msg = { type: "simulate_offer", call_id: st.pop.call_id, discount_pct: q.discount_pct };
    if (st.selected.installments) msg.installments = st.selected.installments;
    send(msg);  // the server keeps the choice for the script and answers with the Pix of its first payment
    renderOffers();
    toPage();
  }

  function renderOffers() {
    var q = st.quote;
    $("tab-offers").disabled = !q;
    if (!q) { if (st.tab === "offers") showTab("debts"); return; }
    fillTable("offers-breakdown", q.debt.lines.map(function (l) { return [[l[0]], [l[2], "num money"]]; }), 2, "—");
    text("offers-total", q.debt.figures.total_text);
    var list = $("offer-list");
    list.textContent = "";
    q.offers.forEach(function (o, i) {
      var chosen = st.selected && st.selected.kind === o.kind && (o.kind === "a_vista" || st.selected.installments === o.installments_count);
      if (i >= OFFERS_SHOWN && !st.allOffers && !chosen) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "offer";
      b.setAttribute("role", "radio");
      var id = o.kind === "a_vista" ? "a_vista" : "parcelado-" + o.installments_count;
      b.setAttribute("data-testid", "offer-" + id);
      b.setAttribute("data-index", String(i + 1));
      b.setAttribute("aria-checked", chosen ? "true" : "false");
      if (i < 9) {
        var k = document.createElement("kbd");
        k.textContent = "⇧" + (i + 1);
        b.appendChild(k);
      }
      var span = document.createElement("span");
      span.textContent = o.text;
      b.appendChild(span);
      b.addEventListener("click", function () { chooseOffer(o); });
      list.appendChild(b);
    });
    var hidden = q.offers.length - OFFERS_SHOWN;
    $("btn-more-offers").hidden = hidden <= 0;
    $("btn-more-offers").textContent = st.allOffers ? "ver menos" : "ver parcelas (mais " + hidden + " opções)";
    var lim = q.limits;
    $("offers-limits").textContent = "Desconto aplicado: " + pct(q.discount_pct) + ". Sua alçada: até " + pct(lim.agent_pct) +
      "; com aprovação do supervisor: até " + pct(lim.supervisor_pct) + ".";
    if (document.activeElement !== $("discount-pct")) $("discount-pct").value = String(q.discount_pct).replace(".", ",");
    $("chosen-offer").textContent = st.selected ? st.selected.text + " (desconto " + pct(st.selected.discount_pct) + ")" : "Nenhuma oferta escolhida.";
    $("promise-limits").textContent = q.promise ? q.promise.text : "";
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
    el.textContent = a.message;  // the server's message already names who decided and why
    el.setAttribute("data-status", a.status);
  }

  function showPix(p, box, qrBox, payload, amountId) {
    box.hidden = !p;
    if (!p) return;
    if (amountId) text(amountId, p.amount);
    // the server's SVG as an image: an <img> never runs script, whatever the SVG holds
    var img = qrBox.querySelector("img");
    if (!img) { img = document.createElement("img"); img.alt = "QR Code Pix"; qrBox.appendChild(img); }
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(p.svg);
    payload.value = p.payload;
  }

  function renderPix() {
    showPix(st.pix, $("pix"), $("pix-qr"), $("pix-payload"), "pix-amount");
    showPix(st.promisePix, $("promise-pix"), $("promise-pix-qr"), $("promise-pix-payload"), null);
  }

  function simulate() {
    if (!st.pop || !st.quote) return;
    var v = discountValue();
    if (v === null) { $("discount-pct").classList.add("invalid"); notice("Informe o desconto em %, por exemplo 12,5."); return; }
    $("discount-pct").classList.remove("invalid");
    var msg = { type: "simulate_offer", call_id: st.pop.call_id, discount_pct: v };
    if (st.selected && st.selected.installments) msg.installments = st.selected.installments;
    send(msg);
    toPage();
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
    toPage();
  }

  function showTab(name) {
    var b = document.querySelector('.tab[data-tab="' + name + '"]');
    if (!b) return;
    if (b.disabled) { notice(name === "offers" ? "As ofertas aparecem depois da verificação de identidade." : "Aba indisponível agora."); return; }
    st.tab = name;
    document.querySelectorAll(".tab").forEach(function (t) { t.setAttribute("aria-selected", t === b ? "true" : "false"); });
    document.querySelectorAll(".tab-panel").forEach(function (p) { p.hidden = p.getAttribute("data-panel") !== name; });
  }

  function clearPop() {
    st.pop = null; st.phase = null; st.ended = false; st.identity = null;
    st.script = null; st.captureFor = null; st.quote = null; st.selected = null; st.approval = null;
    st.pix = null; st.promisePix = null;
    renderScript(); renderOffers(); renderApproval(); renderPix();
    resetForm();
    renderPop(); renderIdentity();
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
    var canDispose = up && !!callId && s === "wrap_up";
    document.querySelectorAll(".outcome").forEach(function (b) { b.disabled = !callId; });
    $("btn-dispose").disabled = !canDispose || !st.outcome;
    $("btn-dispose").title = !callId ? "Nenhuma chamada na tela" : s !== "wrap_up" ? "Desligue (F9) antes de registrar" :
      !st.outcome ? "Escolha o resultado (1–9, 0)" : "";
    window.cobra.richText($("pop-empty-hint"), s === "ready" ? "Você está **Disponível**: aguarde a próxima chamada."
      : s === "paused" ? "Você está em pausa. Clique em **Disponível** (F2) para voltar."
      : s === "connecting" ? "Atenda o seu telefone para entrar na fila de chamadas."
      : "Clique em **Disponível** (F2) para receber chamadas. A ficha do cliente aparece aqui assim que ele atender.");
  }

  function renderDay() {
    var d = st.day;
    if (!d) return;
    $("my-day-line").textContent = d.line;
    $("my-day").title = d.line + " (tecla M: detalhes)";
    var list = $("day-callbacks");
    list.textContent = "";
    if (!d.callbacks.length) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = "Nenhum retorno agendado para você.";
      list.appendChild(none);
    }
    d.callbacks.forEach(function (c) {
      var li = document.createElement("li");
      if (c.overdue) li.className = "late";
      var t = document.createElement("time");
      t.textContent = c.at;
      var span = document.createElement("span");
      span.textContent = c.customer + (c.overdue ? " (atrasado)" : "") + (c.notes ? " · " + c.notes : "");
      li.appendChild(t); li.appendChild(span);
      list.appendChild(li);
    });
    var dl = $("day-figures");
    dl.textContent = "";
    d.figures.forEach(function (pair) {
      var div = document.createElement("div");
      var dt = document.createElement("dt"); dt.textContent = pair[0];
      var dd = document.createElement("dd"); dd.textContent = pair[1];
      div.appendChild(dt); div.appendChild(dd); dl.appendChild(div);
    });
  }

  function toggleDay() {
    var open = $("my-day-panel").hidden;
    $("my-day-panel").hidden = !open;
    $("my-day").setAttribute("aria-expanded", open ? "true" : "false");
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
    // the server's clock (the one the pop, the timers and "Meu dia" use; the demo's may be moved) in
    // Brasília time, as every other time on the desk, whatever the browser's clock and time zone
    var now = new Date(Date.now() + st.skewMs);
    t.textContent = now.toLocaleTimeString("pt-BR", { timeZone: "America/Sao_Paulo", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    var span = document.createElement("span");
    span.textContent = msg;
    li.appendChild(t); li.appendChild(span);
    var list = $("events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }

  // ------------------------------------------------------------------ identity

  function verifyIdentity(ev) {
    if (ev) ev.preventDefault();
    if (!st.pop) return notice("Nenhuma chamada na tela.");
    var method = $("identity-method").value;
    var answer = $("identity-answer").value.trim();
    if (!method) return notice("Não há dados no cadastro para verificar; libere com justificativa se for o titular.");
    if (method === "data_nascimento" && parseDate(answer) === null) {
      $("identity-answer").classList.add("invalid");
      return notice("Digite a data de nascimento como dd/mm/aaaa (por exemplo 07/03/1985).");
    }
    if (method === "cpf" && !/^\d{3}$/.test(answer)) {
      $("identity-answer").classList.add("invalid");
      return notice("Digite os 3 primeiros dígitos do CPF.");
    }
    if (!answer) return notice("Digite a resposta da pessoa.");
    $("identity-answer").classList.remove("invalid");
    send({ type: "verify_identity", call_id: st.pop.call_id, method: method, answer: answer });
  }

  function overrideIdentity(ev) {
    if (ev) ev.preventDefault();
    if (!st.pop) return;
    var reason = $("override-reason").value.trim();
    if (reason.length < 10) {
      $("override-reason").classList.add("invalid");
      return notice("Escreva o motivo (pelo menos 10 caracteres): o supervisor vê e fica registrado.");
    }
    send({ type: "override_identity", call_id: st.pop.call_id, reason: reason });
    toPage();
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

  function pickOutcome(code) {
    if (!st.pop) return notice("Nenhuma chamada na tela: não há resultado a registrar.");
    if (code === "ACORDO" && !st.pop.details) {
      notice("Acordo só depois da verificação de identidade (F4).");
    } else if (code === "ACORDO" && !st.quote) {
      notice("Não há ofertas para este cliente: o acordo não pode ser fechado.");
    }
    chooseOutcome(code);
    // the outcome's own fields take the typing now (the first one), else the page keeps the keys
    var first = { PROMESSA: "promise-amount", RETORNAR: "callback-date" }[code];
    if (first) $(first).focus();
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

  // "dd/mm/aaaa" → "aaaa-mm-dd"; null unless it is a real calendar date
  function parseDate(value) {
    var m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value || "");
    if (!m) return null;
    var d = Number(m[1]), mo = Number(m[2]), y = Number(m[3]);
    var probe = new Date(Date.UTC(y, mo - 1, d));
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null;
    return m[3] + "-" + m[2] + "-" + m[1];
  }

  function parseTime(value) {
    var m = /^(\d{2}):(\d{2})$/.exec(value || "");
    return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? value : null;
  }

  // typing-time masks: digits only, the separators put in as the agent types
  function maskDate(input) {
    var digits = input.value.replace(/\D/g, "").slice(0, 8);
    var out = digits.slice(0, 2);
    if (digits.length > 2) out += "/" + digits.slice(2, 4);
    if (digits.length > 4) out += "/" + digits.slice(4);
    input.value = out;
  }

  function maskTime(input) {
    var digits = input.value.replace(/\D/g, "").slice(0, 4);
    input.value = digits.length > 2 ? digits.slice(0, 2) + ":" + digits.slice(2) : digits;
  }

  function formError(input, msg) {
    input.classList.add("invalid");
    input.focus();
    $("dispose-error").textContent = msg;
    $("dispose-error").hidden = false;
    notice(msg);
  }

  // São Paulo has had no daylight saving time since 2019: Brasília is UTC-3
  function brasiliaIso(isoDate, hhmm) { return isoDate + "T" + hhmm + ":00-03:00"; }

  function submitDisposition(ev) {
    if (ev) ev.preventDefault();
    document.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
    $("dispose-error").hidden = true;
    if (!st.pop) return notice("Nenhuma chamada na tela: não há resultado a registrar.");
    if (!st.ws || st.ws.readyState !== WebSocket.OPEN) return notice("Sem conexão com o servidor: aguarde a reconexão e tente de novo.");
    if (st.state !== "wrap_up") return notice("A chamada ainda está em andamento: desligue (F9) e então registre o resultado.");
    if (!st.outcome) return notice("Escolha o resultado antes de registrar (teclas 1–9 e 0).");
    var callId = st.pop.call_id;
    // one idempotency key per call: a retry after a lost connection cannot store twice
    var key = st.keys[callId] || (st.keys[callId] = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : callId + "-" + Date.now());
    var msg = { type: "dispose", call_id: callId, code: st.outcome, client_key: key };
    if (st.outcome === "PROMESSA") {
      var amount = parseAmount($("promise-amount").value);
      if (amount === null) return formError($("promise-amount"), "Informe o valor prometido, por exemplo 1.234,56.");
      var day = parseDate($("promise-date").value);
      if (day === null) return formError($("promise-date"), "Informe a data do pagamento como dd/mm/aaaa.");
      msg.promise_amount = amount;
      msg.promise_date = day;
    }
    if (st.outcome === "ACORDO") {
      if (!st.pop.details) return notice("Acordo só depois da verificação de identidade.");
      if (!st.selected) { showTab("offers"); return notice("Escolha a oferta do acordo na aba Ofertas (Shift+número)."); }
      msg.agreement = { kind: st.selected.kind, discount_pct: st.selected.discount_pct };
      if (st.selected.installments) msg.agreement.installments = st.selected.installments;
    }
    if (st.outcome === "RETORNAR") {
      var cbDay = parseDate($("callback-date").value);
      if (cbDay === null) return formError($("callback-date"), "Informe a data do retorno como dd/mm/aaaa.");
      var cbTime = parseTime($("callback-time").value);
      if (cbTime === null) return formError($("callback-time"), "Informe a hora do retorno como hh:mm (Brasília).");
      msg.callback_at = brasiliaIso(cbDay, cbTime);
      msg.callback_own = document.querySelector('input[name="callback-own"]:checked').value === "own";
    }
    var notes = $("notes").value.trim();
    if (notes) msg.notes = notes;
    if ($("pause-after").value) msg.pause_after = $("pause-after").value;
    send(msg);
    toPage();
  }

  // ------------------------------------------------------------------ wiring

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  function click(id) {
    var b = $(id);
    if (!b) return;
    if (b.disabled) { notice(refusal(id)); return; }
    b.click();
  }

  // why a key did nothing, in words
  function refusal(id) {
    var s = st.state;
    if (id === "btn-ready") return s === "ready" ? "Você já está Disponível." : "Disponível só fora de chamada (ou em pausa).";
    if (id === "btn-pause") return BUSY[s] && s !== "wrap_up" ? "Pausa só depois de terminar a chamada." : "Pausa indisponível agora.";
    if (id === "btn-dial") return "Ligar só numa prévia (a ficha aparece antes da ligação).";
    if (id === "btn-hangup") return st.pop ? "A chamada já terminou." : "Nenhuma chamada em andamento.";
    return "Ação indisponível agora.";
  }

  function helpOpen(open) {
    $("help").hidden = !open;
    if (open) $("btn-help-close").focus(); else toPage();
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("btn-ready").addEventListener("click", function () { send({ type: "set_state", state: "ready" }); toPage(); });
    $("btn-pause").addEventListener("click", function () {
      send({ type: "set_state", state: "pause", reason: $("pause-reason").value });
      toPage();
    });
    $("identity-form").addEventListener("submit", verifyIdentity);
    $("override-form").addEventListener("submit", overrideIdentity);
    $("identity-method").addEventListener("change", function () { $("identity-answer").value = ""; maskFor(); $("identity-answer").focus(); });
    $("identity-answer").addEventListener("input", function (ev) {
      var mask = ev.target.getAttribute("data-mask");
      if (mask === "date") maskDate(ev.target);
      if (mask === "cpf3") ev.target.value = ev.target.value.replace(/\D/g, "").slice(0, 3);
    });
    $("btn-override-open").addEventListener("click", function () {
      $("override-form").hidden = !$("override-form").hidden;
      if (!$("override-form").hidden) $("override-reason").focus();
    });
    $("btn-dial").addEventListener("click", function () { if (st.pop) send({ type: "dial", call_id: st.pop.call_id }); toPage(); });
    $("btn-hangup").addEventListener("click", function () { if (st.pop) send({ type: "hangup", call_id: st.pop.call_id }); toPage(); });
    document.querySelectorAll(".outcome").forEach(function (b) {
      b.addEventListener("click", function () { pickOutcome(b.getAttribute("data-code")); });
    });
    document.querySelectorAll(".tab").forEach(function (b) {
      b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
    });
    document.querySelectorAll(".date-input").forEach(function (i) { i.addEventListener("input", function () { maskDate(i); }); });
    document.querySelectorAll(".time-input").forEach(function (i) { i.addEventListener("input", function () { maskTime(i); }); });
    $("dispose-form").addEventListener("submit", submitDisposition);
    $("btn-simulate").addEventListener("click", simulate);
    $("btn-approval").addEventListener("click", requestApproval);
    $("btn-more-offers").addEventListener("click", function () { st.allOffers = !st.allOffers; renderOffers(); });
    $("discount-pct").addEventListener("input", renderApprovalButton);
    $("script-capture-value").addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.ctrlKey) { ev.preventDefault(); sendCapture(); }
    });
    $("script-capture-select").addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.ctrlKey) { ev.preventDefault(); sendCapture(); }
    });
    $("btn-promise-pix").addEventListener("click", function () {
      var amount = parseAmount($("promise-amount").value);
      if (amount === null) return formError($("promise-amount"), "Informe o valor prometido, por exemplo 1.234,56.");
      if (!st.pop || !st.pop.details) return notice("O Pix só depois da verificação de identidade.");
      send({ type: "pix_code", call_id: st.pop.call_id, amount: amount });
    });
    $("my-day").addEventListener("click", toggleDay);
    $("btn-help").addEventListener("click", function () { helpOpen(true); });
    $("btn-help-close").addEventListener("click", function () { helpOpen(false); });

    function sendCapture() {
      var c = st.script && st.script.choices.filter(function (x) { return x.id === st.captureFor; })[0];
      if (c) takeChoice(c);
    }

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
      if (!$("help").hidden) {
        if (ev.key === "Escape" || ev.key === "?") { ev.preventDefault(); helpOpen(false); }
        return;
      }
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitDisposition(); return; }
      if (ev.key === "Escape") { toPage(); return; }
      var fkeys = { F2: "btn-ready", F3: "btn-pause", F8: "btn-dial", F9: "btn-hangup" };
      if (fkeys[ev.key]) { ev.preventDefault(); click(fkeys[ev.key]); return; }
      if (ev.key === "F4") {
        ev.preventDefault();
        if (!st.pop) notice("Nenhuma chamada na tela.");
        else if (st.pop.details) notice("A identidade já foi verificada nesta chamada.");
        else $("identity-answer").focus();
        return;
      }
      var digit = /^Digit([0-9])$/.exec(ev.code || "");
      if (digit && ev.altKey && !ev.ctrlKey) {  // Alt+n: the script's choice n
        ev.preventDefault();
        var choice = st.script && st.script.choices[Number(digit[1]) - 1];
        if (choice) takeChoice(choice); else notice("O roteiro não tem a escolha " + digit[1] + " neste passo.");
        return;
      }
      if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (digit && ev.shiftKey) {  // Shift+n: offer n
        ev.preventDefault();
        var offer = st.quote && st.quote.offers[Number(digit[1]) - 1];
        if (!st.quote) notice("As ofertas aparecem depois da verificação de identidade.");
        else if (offer) { showTab("offers"); chooseOffer(offer); }
        else notice("Não há oferta " + digit[1] + ".");
        return;
      }
      if (ev.key === "?") { ev.preventDefault(); helpOpen(true); return; }
      var tabs = { d: "debts", o: "offers", p: "promises", h: "history" };
      var k = (ev.key || "").toLowerCase();
      if (tabs[k]) {
        ev.preventDefault();
        if (!st.pop || !st.pop.details) notice("Dívidas, ofertas e histórico só depois da verificação de identidade.");
        else showTab(tabs[k]);
        return;
      }
      if (k === "m") { ev.preventDefault(); toggleDay(); return; }
      var b = document.querySelector('.outcome[data-key="' + ev.key + '"]');
      if (b) {
        ev.preventDefault();
        if (b.disabled) notice("Nenhuma chamada na tela: não há resultado a escolher.");
        else pickOutcome(b.getAttribute("data-code"));
      }
    });

    setInterval(tick, 1000);
    render();
    connect();
  });

  window.cobraDesk = { state: function () { return st; } };
})();
