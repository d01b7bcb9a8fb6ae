// Small behaviours every page shares (no inline scripts: the CSP forbids them).
// A copy button beside each identifier puts the whole address or txid on the clipboard:
// identifiers wrap on screen and are never cut, so what is copied is what is shown.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    const btn = ev.target.closest ? ev.target.closest("button.copy[data-copy]") : null;
    if (!btn) return;
    const text = btn.getAttribute("data-copy") || "";
    const done = function () { btn.classList.add("copied"); btn.textContent = "✓";
      setTimeout(function () { btn.classList.remove("copied"); btn.textContent = "⧉"; }, 1200); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  });
})();
