// Behaviour of the back office without inline scripts (the Content-Security-Policy allows
// only scripts served by the site): confirmations, Flask-Admin's batch actions, links that
// only open menus, Select2's nameless links, the live counts of a mailing being sent, a refused
// form brought into view.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm], [data-fa-action], a[href='#'], a[href^='javascript:']");
    if (!target) return;
    if (target.matches("a[href='#'], a[href^='javascript:']")) event.preventDefault();
    if (target.hasAttribute("data-confirm") && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
    if (target.hasAttribute("data-fa-action") && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(target.getAttribute("data-fa-action"));
    }
  }, true);

  // Flask-Admin's list checkboxes have only a title: give it to assistive technologies.
  document.querySelectorAll("input.action-checkbox, input.action-rowtoggle").forEach(function (box) {
    if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", box.title);
  });

  // A form the domain refused: each message is tied to its field (Flask-Admin's forms print
  // it under the field without saying so to assistive technologies), and the first field in
  // error — else the form's message — is focused and brought into view.
  document.querySelectorAll(".is-invalid").forEach(function (control, index) {
    var group = control.closest(".form-group");
    var feedback = group && group.querySelector(".invalid-feedback");
    if (!feedback) return;
    if (!feedback.id) feedback.id = (control.id || "field-" + index) + "-error";
    var described = (control.getAttribute("aria-describedby") || "").split(" ");
    if (described.indexOf(feedback.id) < 0) {
      control.setAttribute("aria-describedby", described.concat(feedback.id).join(" ").trim());
    }
    control.setAttribute("aria-invalid", "true");
  });
  var refused = document.querySelector("main .is-invalid, main [data-refused]");
  if (refused) {
    refused.scrollIntoView({ block: "center" });
    refused.focus({ preventScroll: true });
  }

  // Select2's little "×" that removes a chosen value is a nameless link out of the tab
  // order (the keyboard removes with Backspace): hide it from assistive technologies too.
  var hideRemovers = function () {
    document.querySelectorAll("a.select2-search-choice-close:not([aria-hidden])").forEach(function (link) {
      link.setAttribute("aria-hidden", "true");
    });
  };
  hideRemovers();
  if (document.querySelector(".select2-container, select[data-role=select2]")) {
    new MutationObserver(hideRemovers).observe(document.body, { childList: true, subtree: true });
  }

  // A mailing being sent: its counts refresh every 2 seconds, the page reloads when it ends.
  var counts = document.querySelector("[data-counts-url]");
  if (counts) {
    var url = counts.getAttribute("data-counts-url");
    var tick = function () {
      fetch(url, { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (data) {
          if (!data) return;
          Object.keys(data.counts).forEach(function (key) {
            var cell = document.querySelector('[data-count="' + key + '"]');
            if (cell) cell.textContent = data.counts[key];
          });
          if (data.status === "sent" || data.status === "cancelled") {
            window.location.reload();
            return;
          }
          window.setTimeout(tick, 2000);
        });
    };
    window.setTimeout(tick, 2000);
  }
})();
