// The supervisor console (/supervisor): pending discount requests, live over /ws/supervisor.
// Plain script, no build step. Frames are numbered by the server; on reconnect we send the
// last seq seen and the server replays what we missed or sends a fresh snapshot.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var STATUS = { approved: "aprovado", refused: "recusado", expired: "expirado" };
  var st = { ws: null, epoch: null, lastSeq: null, retry: 0, refs: 0, items: {} };

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
    try { return new Date(iso).toLocaleTimeString("pt-BR"); } catch (e) { return iso; }
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
        if (!f.resumed || f.epoch !== st.epoch) { st.lastSeq = null; }
        st.epoch = f.epoch;
        setConn("up", "Conectado");
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
  }

  document.addEventListener("DOMContentLoaded", function () { count(); connect(); });
})();
