// Progressive enhancement for a running restore: polls the progress endpoint with the page's context token and
// reloads the page (through its Refresh link) when the run leaves its live state. Without JavaScript, the
// Refresh link does the same by hand.
(function () {
  var box = document.getElementById("restore-progress");
  var me = document.currentScript;
  if (!box || !window.fetch || !me) return;
  var token = me.getAttribute("data-token");
  var live = box.getAttribute("data-run-status");
  function poll() {
    fetch(box.getAttribute("data-progress-url"), {headers: {"Authorization": "JWT " + token, "Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        var bar = box.querySelector("progress");
        if (p.total) { bar.max = p.total; bar.value = p.done; }
        box.querySelector('[data-testid="restore-step"]').textContent = p.step || "";
        if (p.status !== live) { box.querySelector('[data-testid="restore-refresh"]').click(); }
        else { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
