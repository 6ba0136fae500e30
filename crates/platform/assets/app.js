// Gonghui's only script. The Content-Security-Policy forbids inline
// scripts, so pages mark elements with data attributes instead:
//   <button data-print>           prints the page
//   <form data-confirm="…?">      asks before submitting
//   <a href="/fallback" data-back> goes back in history (the href without JS)
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-print],[data-back]");
  if (!t) return;
  if (t.hasAttribute("data-print")) {
    e.preventDefault();
    window.print();
  } else if (t.hasAttribute("data-back") && window.history.length > 1) {
    e.preventDefault();
    window.history.back();
  }
});
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
