// Inactivity warning for signed-in pages. Sessions end after a period without requests;
// before that, a dialog offers to stay signed in, because people with spasms or tremor may
// type slowly. Without JavaScript the session still ends on time; nothing here is required.
(function () {
  "use strict";
  var body = document.body;
  var timeout = Number(body.dataset.sessionTimeout);
  var warning = Number(body.dataset.sessionWarning);
  var dialog = document.getElementById("session-warning");
  if (!timeout || !dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var form = dialog.querySelector("form");
  var warnTimer = null;
  var endTimer = null;

  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warnTimer = window.setTimeout(function () {
      dialog.showModal();
      document.getElementById("session-extend-button").focus();
    }, Math.max(0, timeout - warning) * 1000);
    endTimer = window.setTimeout(function () {
      window.location.assign(body.dataset.signInUrl + "?expired=1&next=" +
        encodeURIComponent(window.location.pathname));
    }, timeout * 1000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(body.dataset.sessionExtendUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status === 204) {
        dialog.close();
        schedule();
      } else {
        window.location.assign(body.dataset.signInUrl);
      }
    });
  });

  document.body.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
