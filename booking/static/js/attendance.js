/* The attendance list without page reloads: each row's form is sent with fetch, the server answers
   with JSON (Accept: application/json), and the row shows its new state. Without this script the
   same forms work as plain POSTs. The CSRF token goes along in the form's hidden field. */
(function () {
  "use strict";

  if (!window.fetch || !window.FormData) {
    return;
  }

  function showError(row, text) {
    var error = row.querySelector("[data-row-error]");
    if (error) {
      error.textContent = text;
      error.hidden = false;
    }
  }

  function showTick(row, form, body) {
    var buttons = form.querySelectorAll("button[name='status']");
    Array.prototype.forEach.call(buttons, function (button) {
      button.setAttribute("aria-pressed", button.value === body.status ? "true" : "false");
    });
    var state = row.querySelector("[data-state]");
    if (state) {
      state.textContent = body.label;
    }
    var error = row.querySelector("[data-row-error]");
    if (error) {
      error.hidden = true;
      error.textContent = "";
    }
    Object.keys(body.counts || {}).forEach(function (name) {
      var count = document.querySelector("[data-count='" + name + "']");
      if (count) {
        count.textContent = String(body.counts[name]);
      }
    });
    var status = document.getElementById("roll-status");
    if (status) {
      status.textContent = body.message;
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!form.hasAttribute("data-attendance") || !submitter || submitter.name !== "status") {
      return;
    }
    event.preventDefault();
    var row = form.closest("[data-row]");
    var list = form.closest(".roll");
    var data = new FormData(form);
    data.append(submitter.name, submitter.value);
    row.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.status) {
          showTick(row, form, body);
        } else {
          showError(row, body.error || list.getAttribute("data-error"));
        }
      });
    }).catch(function () {
      showError(row, list.getAttribute("data-offline"));
    }).then(function () {
      row.removeAttribute("aria-busy");
    });
  });
}());
