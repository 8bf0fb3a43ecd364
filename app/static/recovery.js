// Progressive enhancement for the Disaster recovery page: focus on messages, Jira flags, fresh context tokens.
// (The token's copy control is copy-field.js.) Everything here is optional: every form posts and every
// confirmation works server-side without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Move focus to a message after an action so screen readers announce it.
  var notice = document.querySelector("[data-testid=notice]");
  if (notice) { notice.focus({ preventScroll: false }); }
  // A reload shouldn't repeat an old message: drop the message code from the address (the token stays).
  if (window.history && window.history.replaceState && window.URL) {
    var here = new URL(window.location.href);
    ["notice", "action", "state", "minutes"].forEach(function (k) { here.searchParams.delete(k); });
    if (here.href !== window.location.href) { window.history.replaceState(null, "", here.href); }
  }

  // Jira's bridge (all.js) loads asynchronously; show the notice as a Jira flag too when it is there.
  window.addEventListener("load", function () {
    if (!window.AP) { return; }
    if (notice && window.AP.flag) {
      var kind = notice.getAttribute("data-notice-kind");
      window.AP.flag.create({ title: "Disaster recovery", body: notice.textContent.trim(),
        type: kind === "error" ? "error" : (kind === "success" ? "success" : "info"), close: "auto" });
    }
    if (window.AP.resize) { window.AP.resize(); }
  });

  // Context tokens last minutes; a page left open swaps in a fresh one before its forms would be refused.
  var inputs = document.querySelectorAll("input[name=jwt]");
  if (inputs.length && window.fetch) {
    setInterval(function () {
      var holder = document.querySelector("[data-session-url]");
      fetch(holder ? holder.getAttribute("data-session-url") : "/admin/api/session",
            { headers: { Authorization: "JWT " + inputs[0].value } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.contextToken) {
            document.querySelectorAll("input[name=jwt]").forEach(function (i) { i.value = data.contextToken; });
          }
        })
        .catch(function () { /* the server-side refusal explains what to do */ });
    }, 10 * 60 * 1000);
  }
})();
