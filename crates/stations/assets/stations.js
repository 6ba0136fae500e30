// "附近的驿站": asks the phone for its position (WGS-84, what browser
// geolocation gives) and reloads the page with it. The page works without
// this script too: choose a street/township instead. Served as a file
// because the Content-Security-Policy allows no inline script.
(function () {
  var btn = document.getElementById("locate");
  if (!btn) return;
  var msg = document.getElementById("locate-msg");
  var say = function (attr) {
    if (msg) msg.textContent = btn.getAttribute(attr) || "";
  };
  if (!("geolocation" in navigator)) {
    say("data-unsupported");
    btn.disabled = true;
    return;
  }
  btn.addEventListener("click", function (e) {
    e.preventDefault();
    say("data-locating");
    btn.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        var kind = document.getElementById("kind");
        var q = "lat=" + pos.coords.latitude.toFixed(6) +
          "&lng=" + pos.coords.longitude.toFixed(6);
        if (kind && kind.value) q += "&kind=" + encodeURIComponent(kind.value);
        window.location.href = "/stations/near?" + q + "#hits";
      },
      function () {
        btn.disabled = false;
        say("data-denied");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
