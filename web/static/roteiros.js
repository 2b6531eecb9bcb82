// The script editor page (/supervisor/roteiros): validate, preview and publish through the REST API.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function post(url, body) {
    return window.cobra.fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }
  function say(text) { $("status").textContent = text; }
  function showErrors(errors) {
    var ul = $("errors");
    ul.textContent = "";
    (errors || []).forEach(function (e) {
      var li = document.createElement("li");
      if (e.line) {
        // a button that takes the editor to the line, selected, so the fix starts there
        var go = document.createElement("button");
        go.type = "button";
        go.className = "rt-line";
        go.setAttribute("data-testid", "error-line");
        go.textContent = "Linha " + e.line;
        go.addEventListener("click", function () { goToLine(e.line); });
        li.appendChild(go);
        li.appendChild(document.createTextNode((e.step ? " (passo " + e.step + ")" : "") + ": " + e.message));
      } else {
        li.textContent = (e.step ? "Passo " + e.step + ": " : "") + e.message;
      }
      ul.appendChild(li);
    });
    ul.hidden = !errors || errors.length === 0;
  }
  function goToLine(line) {
    var editor = $("yaml"), lines = editor.value.split("\n");
    var n = Math.min(Math.max(line, 1), lines.length);
    var start = 0;
    for (var i = 0; i < n - 1; i++) { start += lines[i].length + 1; }
    editor.focus();
    editor.setSelectionRange(start, start + lines[n - 1].length);
    // put the line in view: the textarea scrolls by pixels, one line is its line-height
    var lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
    editor.scrollTop = Math.max(0, (n - 3) * lineHeight);
  }
  function fillSteps(steps) {
    var sel = $("step"), current = sel.value;
    sel.textContent = "";
    steps.forEach(function (s) {
      var o = document.createElement("option");
      o.value = s; o.textContent = s; sel.appendChild(o);
    });
    if (steps.indexOf(current) >= 0) { sel.value = current; }
  }
  function validate() {
    return post("/api/v1/scripts/validate", { yaml: $("yaml").value }).then(function (r) {
      if (r.status !== 200) { say(r.body.error.message); return; }
      showErrors(r.body.errors);
      if (r.body.ok) { fillSteps(r.body.steps); say("Roteiro válido."); }
      else { say(r.body.errors.length + " problema(s) encontrado(s)."); }
    });
  }
  function preview() {
    post("/api/v1/scripts/preview", {
      yaml: $("yaml").value, step: $("step").value, identity_confirmed: $("identity").checked
    }).then(function (r) {
      if (r.status !== 200) { say(r.body.error.message); showErrors(r.body.errors); $("preview-box").hidden = true; return; }
      showErrors([]);
      $("preview-title").textContent = r.body.title;
      window.cobra.richText($("preview-text"), r.body.text); // as the agent page shows it: text, never HTML
      var ul = $("preview-choices");
      ul.textContent = "";
      r.body.choices.forEach(function (c) {
        var li = document.createElement("li");
        li.textContent = c.label + (c.next ? " → " + c.next : " ⇒ " + c.dispose);
        ul.appendChild(li);
      });
      $("preview-box").hidden = false;
      say("");
    });
  }
  function publish() {
    var text = $("yaml").value, m = /^id:\s*([a-z][a-z0-9_]*)\s*$/m.exec(text);
    if (!m) { say("O roteiro precisa de um 'id' para ser publicado."); return; }
    post("/api/v1/scripts/" + encodeURIComponent(m[1]) + "/versions", { yaml: text }).then(function (r) {
      if (r.status === 201) { showErrors([]); say("Publicado: " + r.body.key + " v" + r.body.version + "."); window.location.reload(); }
      else { showErrors(r.body.errors); say(r.body.error.message); }
    });
  }
  function loadVersion(ev) {
    ev.preventDefault();
    var a = ev.currentTarget;
    fetch("/api/v1/scripts/" + encodeURIComponent(a.dataset.key) + "/versions/" + a.dataset.version, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { $("yaml").value = j.yaml; say("Carregado: " + j.key + " v" + j.version + "."); validate(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    $("validate").addEventListener("click", validate);
    $("preview").addEventListener("click", preview);
    $("publish").addEventListener("click", publish);
    Array.prototype.forEach.call(document.querySelectorAll(".rt-load"), function (a) { a.addEventListener("click", loadVersion); });
    validate();
  });
})();
