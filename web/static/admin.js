// The admin page (/admin): create users, change them, disable/enable them, reset passwords,
// through /api/v1/users (CSRF header via cobra.fetch). DOM built with createElement/textContent.
(function () {
  "use strict";
  var ROLE_LABEL = {};
  var users = [];
  var editing = null;

  function $(sel) { return document.querySelector(sel); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function status(text, bad) {
    var s = $('[data-testid="admin-status"]');
    s.textContent = text;
    s.classList.toggle("ad-bad", !!bad);
  }
  function showPassword(login, password) {
    var box = $('[data-testid="shown-password"]');
    $('[data-testid="shown-password-who"]').textContent = "Senha de " + login + ":";
    $('[data-testid="shown-password-value"]').textContent = password;
    box.hidden = false;
  }
  function hidePassword() {
    var box = $('[data-testid="shown-password"]');
    $('[data-testid="shown-password-value"]').textContent = "";
    box.hidden = true;
  }
  // form.elements, not form.name: a control called "name" must not be confused with the form's own name
  function field(form, name) { return form.elements.namedItem(name); }
  function blankToNull(value) {
    var v = value.trim();
    return v === "" ? null : v;
  }
  // One answer of the API: the JSON body, or an Error carrying its pt-BR message and field
  function call(method, url, body) {
    var opts = { method: method, headers: { "Content-Type": "application/json" } };
    opts.body = JSON.stringify(body || {});
    return cobra.fetch(url, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var err = new Error((data.error && data.error.message) || ("Erro " + resp.status + "."));
          err.field = data.error && data.error.field;
          throw err;
        }
        return data;
      });
    });
  }
  function fail(form) {
    return function (err) {
      status(err.message, true);
      var input = form && err.field ? form.querySelector('[name="' + err.field + '"]') : null;
      if (input) input.focus();
    };
  }

  function actionButton(label, testid, handler) {
    var b = el("button", label, "button ghost");
    b.type = "button";
    b.setAttribute("data-testid", testid);
    b.addEventListener("click", handler);
    return b;
  }
  function row(u) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-user-id", String(u.id));
    tr.setAttribute("data-login", u.login);
    [u.login, u.name, u.role_label, u.extension || "—", u.endpoint || "—"].forEach(function (t) {
      tr.appendChild(el("td", t));
    });
    var st = el("td");
    st.appendChild(el("span", u.active ? "Ativo" : "Desativado", u.active ? "pill ok" : "pill off"));
    tr.appendChild(st);
    var actions = el("td", null, "ad-row-actions");
    actions.appendChild(actionButton("Alterar", "edit", function () { startEdit(u); }));
    actions.appendChild(actionButton(u.active ? "Desativar" : "Ativar", u.active ? "disable" : "enable",
      function () { setActive(u, !u.active); }));
    actions.appendChild(actionButton("Nova senha", "reset-password", function () { resetPassword(u); }));
    tr.appendChild(actions);
    return tr;
  }
  function render() {
    var body = $('[data-testid="users-table"] tbody');
    body.textContent = "";
    users.forEach(function (u) { body.appendChild(row(u)); });
    $('[data-testid="users-count"]').textContent = String(users.length);
  }
  function reload() {
    return fetch("/api/v1/users", { credentials: "same-origin" })
      .then(function (r) {
        // the admin changed their own phone or password: their session ended with the change
        if (r.status === 401) { location.href = "/login?next=/admin"; return { users: users }; }
        return r.json();
      })
      .then(function (data) {
        users = data.users || [];
        users.forEach(function (u) { ROLE_LABEL[u.role] = u.role_label; });
        render();
      });
  }
  function sessionsNote(n) {
    return n ? " " + n + " sessão(ões) aberta(s) encerrada(s)." : "";
  }

  function create(event) {
    event.preventDefault();
    var form = event.target;
    var body = {
      login: field(form, "login").value.trim(),
      role: field(form, "role").value,
      name: blankToNull(field(form, "name").value),
      extension: blankToNull(field(form, "extension").value),
      endpoint: blankToNull(field(form, "endpoint").value),
      password: field(form, "password").value === "" ? null : field(form, "password").value
    };
    call("POST", "/api/v1/users", body).then(function (data) {
      form.reset();
      status("Usuário " + data.user.login + " criado.", false);
      if (data.password) showPassword(data.user.login, data.password); else hidePassword();
      return reload();
    }).catch(fail(form));
  }
  function startEdit(u) {
    editing = u;
    var panel = $('[data-testid="edit-user"]');
    var form = panel.querySelector("form");
    $('[data-testid="edit-login"]').textContent = u.login;
    field(form, "name").value = u.name;
    field(form, "role").value = u.role;
    field(form, "extension").value = u.extension || "";
    field(form, "endpoint").value = u.endpoint || "";
    panel.hidden = false;
    field(form, "name").focus();
  }
  function stopEdit() {
    editing = null;
    $('[data-testid="edit-user"]').hidden = true;
  }
  function saveEdit(event) {
    event.preventDefault();
    if (!editing) return;
    var form = event.target;
    var u = editing;
    var body = {};
    var name = field(form, "name").value.trim();
    if (name !== u.name) body.name = name;
    if (field(form, "role").value !== u.role) body.role = field(form, "role").value;
    var ext = blankToNull(field(form, "extension").value), endpoint = blankToNull(field(form, "endpoint").value);
    if (ext !== u.extension) body.extension = ext;
    if (endpoint !== u.endpoint) body.endpoint = endpoint;
    if (Object.keys(body).length === 0) { status("Nada mudou.", false); stopEdit(); return; }
    call("PATCH", "/api/v1/users/" + u.id, body).then(function (data) {
      stopEdit();
      status("Usuário " + data.user.login + " alterado." + sessionsNote(data.sessions_ended), false);
      return reload();
    }).catch(fail(form));
  }
  function setActive(u, active) {
    call("PATCH", "/api/v1/users/" + u.id, { active: active }).then(function (data) {
      status("Usuário " + data.user.login + (active ? " ativado." : " desativado.") +
        sessionsNote(data.sessions_ended), false);
      return reload();
    }).catch(fail(null));
  }
  function resetPassword(u) {
    call("POST", "/api/v1/users/" + u.id + "/password", {}).then(function (data) {
      status("Nova senha de " + data.user.login + " gerada." + sessionsNote(data.sessions_ended), false);
      showPassword(data.user.login, data.password);
    }).catch(fail(null));
  }

  document.addEventListener("DOMContentLoaded", function () {
    $('[data-testid="new-user"]').addEventListener("submit", create);
    $('[data-testid="edit-user"] form').addEventListener("submit", saveEdit);
    $('[data-testid="edit-cancel"]').addEventListener("click", stopEdit);
    $('[data-testid="shown-password-close"]').addEventListener("click", hidePassword);
    reload().catch(function () { status("Não foi possível carregar os usuários; recarregue a página.", true); });
  });
})();
