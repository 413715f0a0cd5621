// The mailing editor (templates/admin/mailing/edit.html), without inline scripts: the
// placeholders' « Insérer » buttons put one at the cursor of the subject or the text; the
// preview follows what is written (the form posted to the preview endpoint, CSRF token
// included, 400 ms after the last keystroke); a new kind of mailing brings its default
// text as long as the one shown was not changed. Without it, the page works as a form.
(function () {
  "use strict";

  var form = document.getElementById("mailing-editor");
  if (!form) return;
  var subject = form.querySelector("[data-placeholder-target='subject']");
  var body = form.querySelector("[data-placeholder-target='body']");
  var kind = form.querySelector("select[name='kind']");
  var chooser = document.getElementById("preview-address");
  var panel = document.getElementById("mailing-preview");
  var part = function (name) { return panel.querySelector("[data-preview='" + name + "']"); };
  var lastField = body;

  form.querySelectorAll("[data-without-script]").forEach(function (el) { el.hidden = true; });
  form.querySelectorAll("[data-with-script], [data-insert]").forEach(function (el) { el.hidden = false; });

  [subject, body].forEach(function (field) {
    if (field) field.addEventListener("focus", function () { lastField = field; });
  });

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) return;
    var field = button.getAttribute("data-block") === "true" ? body : lastField || body;
    var token = button.getAttribute("data-insert");
    var start = field.selectionStart, end = field.selectionEnd;
    if (typeof start !== "number") start = end = field.value.length;
    field.setRangeText(token, start, end, "end");
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // A new kind brings its default text, unless the writer changed the one shown.
  var defaults = JSON.parse(form.getAttribute("data-defaults") || "{}");
  var previousKind = kind ? kind.value : "";
  if (kind) {
    kind.addEventListener("change", function () {
      var before = defaults[previousKind], after = defaults[kind.value];
      if (before && after && subject.value === before.subject && body.value === before.body) {
        subject.value = after.subject;
        body.value = after.body;
      }
      previousKind = kind.value;
    });
  }

  var list = function (element, items) {
    element.textContent = "";
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      element.appendChild(li);
    });
  };

  var labels = function (errors) {
    return Object.keys(errors).reduce(function (all, field) {
      var label = field && form.querySelector("label[for='" + field + "']");
      var prefix = label ? label.firstChild.textContent.trim() + " : " : "";
      return all.concat(errors[field].map(function (message) { return prefix + message; }));
    }, []);
  };

  var show = function (data) {
    form.querySelectorAll("[data-placeholder]").forEach(function (item) {
      item.hidden = data.placeholders.indexOf(item.getAttribute("data-placeholder")) < 0;
    });
    list(part("errors"), data.ok ? [] : labels(data.errors || {}));
    if (!data.ok) {
      part("card").hidden = true;
      part("recipient").textContent = "";
      list(part("notes"), []);
      return;
    }
    part("card").hidden = false;
    part("subject").textContent = data.subject;
    part("body").innerHTML = data.html; // escaped by the server (text_to_html)
    part("recipient").textContent = panel.getAttribute("data-as").replace("%s", data.recipient_label);
    list(part("notes"), data.notes);
    chooser.textContent = "";
    data.choices.forEach(function (choice) {
      var option = new Option(choice.label, choice.address, false, choice.address === data.recipient);
      chooser.appendChild(option);
    });
  };

  var url = form.getAttribute("data-preview-url");
  var timer = null, asked = 0;
  var refresh = function () {
    var mine = ++asked;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (answer) {
        var json = (answer.headers.get("Content-Type") || "").indexOf("json") >= 0;
        return json ? answer.json() : null;
      })
      .then(function (data) { if (data && mine === asked) show(data); })
      .catch(function () { /* the « Prévisualiser » button still works */ });
  };
  var later = function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
