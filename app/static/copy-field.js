// The copy control of a read-only field (the recovery token, shown once), built to work inside Jira's iframe:
// the asynchronous Clipboard API is often blocked there (no clipboard-write permission), so it falls back to
// selecting the text and document.execCommand("copy"), and when that is refused too it leaves the whole token
// selected and says which keys copy it. Without JavaScript the field itself is read-only and selectable.
(function () {
  "use strict";

  var COPIED = "Copied";
  var MANUAL = /Mac|iPhone|iPad/.test(navigator.platform || "") ? "Selected: press \u2318C to copy"
    : "Selected: press Ctrl+C to copy";

  function selectAll(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }

  function say(status, text) {
    if (!status) return;
    status.textContent = text;
    status.setAttribute("data-copy-result", text === COPIED ? "copied" : "manual");
  }

  function legacyCopy(field) {
    selectAll(field);
    try { return document.execCommand("copy") === true; } catch (e) { return false; }
  }

  function copy(field, status) {
    function fallback() { say(status, legacyCopy(field) ? COPIED : MANUAL); if (!field.matches(":focus")) selectAll(field); }
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { selectAll(field); say(status, COPIED); }, fallback);
    } else {
      fallback();
    }
  }

  document.querySelectorAll("[data-copy-field]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-field"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () { copy(field, status); });
    field.addEventListener("focus", function () { selectAll(field); });
    field.addEventListener("click", function () { selectAll(field); });
  });
})();
