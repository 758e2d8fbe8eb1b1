// chargebook console: progressive enhancement only. Every page works without this file;
// with it, dangerous buttons ask first and live regions refresh themselves.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  // <form data-confirm="Question?">: ask before sending.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // <element data-live="URL">: every few seconds, ask URL for this element's fragment
  // (header X-Console-Partial: 1) and swap it in when it changed. The server answers
  // X-Console-Final: 1 when nothing will change any more (a booking that ended).
  document.querySelectorAll("[data-live]").forEach(function (element) {
    var url = element.getAttribute("data-live");
    var last = null;
    var busy = false;
    var timer = null;

    function stop(message) {
      window.clearInterval(timer);
      if (message) {
        var note = document.createElement("p");
        note.className = "warn";
        note.textContent = message;
        element.parentNode.insertBefore(note, element.nextSibling);
      }
    }

    function refresh() {
      if (busy || document.hidden) {
        return;
      }
      busy = true;
      window.fetch(url, {headers: {"X-Console-Partial": "1"}, credentials: "same-origin", cache: "no-store"})
        .then(function (response) {
          if (response.status === 401) {
            stop("Your session has ended: reload the page to sign in again.");
            return null;
          }
          if (response.headers.get("X-Console-Final") === "1") {
            stop(null);
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== last) {
            last = html;
            element.innerHTML = html;
            element.setAttribute("data-refreshed", new Date().toISOString());
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { busy = false; });
    }

    timer = window.setInterval(refresh, INTERVAL_MS);
  });
})();
