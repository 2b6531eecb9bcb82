// /monitoria/chamadas/{id}: the scoring form posts the review (JSON, CSRF header) and reloads the page.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("score-form");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = document.getElementById("score-status");
      var answers = {};
      form.querySelectorAll(".qa-score-item").forEach(function (div) {
        var picked = div.querySelector("input:checked");
        var value = picked ? picked.value : "null";
        answers[div.dataset.item] = value === "true" ? true : value === "false" ? false : null;
      });
      var body = { scorecard: form.dataset.scorecard, answers: answers,
                   feedback: document.getElementById("feedback").value || null };
      status.textContent = "Salvando…";
      window.cobra.fetch("/api/v1/calls/" + encodeURIComponent(form.dataset.callId) + "/reviews", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      }).then(function (resp) {
        return resp.json().then(function (b) { return { ok: resp.ok, body: b }; });
      }).then(function (r) {
        if (!r.ok) {
          status.textContent = r.body.error ? r.body.error.message : "Não foi possível salvar.";
          return;
        }
        status.textContent = "Avaliação salva: nota " + r.body.score.replace(".", ",");
        location.reload();
      }).catch(function () { status.textContent = "Sem conexão com o servidor."; });
    });
  });
})();
