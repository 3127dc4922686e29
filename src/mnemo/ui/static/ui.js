// mnemo's web page: the few behaviours htmx does not have. No eval, no inline code:
// the page's Content-Security-Policy allows only this server's files.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');

  // Every htmx request carries the session's anti-forgery token.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  function say(text) {
    var messages = document.getElementById("messages");
    if (!messages) return;
    var p = document.createElement("p");
    p.className = "message error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    messages.replaceChildren(p);
  }

  document.addEventListener("htmx:sendError", function () {
    say("The server could not be reached: check the connection and try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    say("The server took too long to answer: try again.");
  });

  // Permanent actions ask first, in a <dialog> (Escape or Cancel closes it). A form
  // with data-confirm-choice="NAME" has its checkbox NAME offered in the dialog too.
  var dialog = document.getElementById("confirm");
  var choice = document.getElementById("confirm-choice");
  var choiceBox = document.getElementById("confirm-choice-box");
  var pending = null;

  function offered(form) {
    var name = form.getAttribute("data-confirm-choice");
    var box = name && form.elements.namedItem(name);
    return box instanceof HTMLInputElement && box.type === "checkbox" ? box : null;
  }
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
      if (form.dataset.confirmed === "1") {
        delete form.dataset.confirmed;
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      if (!dialog) return;
      pending = form;
      document.getElementById("confirm-text").textContent = form.getAttribute("data-confirm");
      document.getElementById("confirm-ok").textContent =
        form.getAttribute("data-confirm-button") || "Delete permanently";
      var box = offered(form);
      if (choice && choiceBox) {
        choice.hidden = !box;
        if (box) {
          var label = box.closest("label");
          document.getElementById("confirm-choice-text").textContent = label ? label.textContent.trim() : box.name;
          choiceBox.checked = box.checked;
        }
      }
      dialog.returnValue = "";
      dialog.showModal();
    },
    true
  );
  if (dialog) {
    dialog.addEventListener("close", function () {
      var form = pending;
      pending = null;
      if (form && dialog.returnValue === "ok") {
        var box = offered(form);
        if (box && choiceBox) box.checked = choiceBox.checked;
        form.dataset.confirmed = "1";
        form.requestSubmit();
      }
    });
  }

  // A form that worked is emptied for the next entry.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (event.detail.successful && elt instanceof HTMLFormElement && elt.hasAttribute("data-reset-on-success")) {
      elt.reset();
    }
  });

  // New content with [autofocus] (an inline edit) takes the focus.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    var target = elt.matches && elt.matches("[autofocus]") ? elt : elt.querySelector && elt.querySelector("[autofocus]");
    if (target && !target.closest("dialog")) target.focus();
  });

  // Escape in an inline edit cancels it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !(event.target instanceof Element)) return;
    var form = event.target.closest("form[data-escape-cancel]");
    var cancel = form && form.querySelector(".cancel");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });
})();
