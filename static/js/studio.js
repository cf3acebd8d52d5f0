// Studio page behaviour: filter the model picker, roll a seed, show custom-size inputs, tick
// the elapsed time of jobs in flight. Everything works without this file; it only makes the
// forms quicker to use and the job cards' times move between their refreshes.
(function () {
  "use strict";

  function filterModels(input) {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var anyShown = false;
    document.querySelectorAll("[data-model-group]").forEach(function (group) {
      var groupShown = false;
      group.querySelectorAll(".model-card").forEach(function (card) {
        var text = card.getAttribute("data-search") || "";
        var show = words.every(function (word) { return text.indexOf(word) !== -1; });
        card.hidden = !show;
        groupShown = groupShown || show;
      });
      group.hidden = !groupShown;
      anyShown = anyShown || groupShown;
    });
    var none = document.querySelector("[data-filter-empty]");
    if (none) { none.hidden = anyShown; }
  }

  function rollSeed(button) {
    var input = document.getElementById(button.getAttribute("data-roll-for"));
    if (!input) { return; }
    var values = new Uint32Array(1);
    window.crypto.getRandomValues(values);
    input.value = String(values[0]);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function syncCustomSize(root) {
    root.querySelectorAll("[data-size-select]").forEach(function (select) {
      var custom = select.value === "custom";
      root.querySelectorAll('[data-custom-size-of="' + select.name + '"]').forEach(function (input) {
        var field = input.closest(".field");
        if (field) { field.hidden = !custom; }
      });
    });
  }

  // Job cards in flight: the elapsed time ticks here, not in the card's HTML, so an unchanged
  // card is the same bytes every second and the server answers 304 (studio/cards.py). Times
  // count on the server's clock: each card answer says what it is (X-Server-Time).
  var serverClockOffset = null;  // the server's clock minus this browser's, in ms

  function elapsedText(clock, seconds) {
    function fill(format, values) {
      return format.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
    }
    function twoDigits(number) { return (number < 10 ? "0" : "") + number; }
    if (seconds < 60) {
      var amount = seconds.toFixed(seconds < 10 ? 1 : 0).replace(".", clock.getAttribute("data-decimal") || ".");
      return fill(clock.getAttribute("data-seconds"), { seconds: amount });
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return fill(clock.getAttribute("data-minutes"), { minutes: minutes, seconds: twoDigits(Math.floor(seconds) % 60) });
    }
    return fill(clock.getAttribute("data-hours"), { hours: Math.floor(minutes / 60), minutes: twoDigits(minutes % 60) });
  }

  function tickJobClocks() {
    if (serverClockOffset === null) { return; }  // until then the server's own text stands
    var now = Date.now() + serverClockOffset;
    document.querySelectorAll("[data-elapsed-since]").forEach(function (clock) {
      var seconds = Math.max(0, (now - Number(clock.getAttribute("data-elapsed-since"))) / 1000);
      var text = elapsedText(clock, seconds);
      if (clock.textContent !== text) { clock.textContent = text; }
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var serverTime = xhr && Number(xhr.getResponseHeader("X-Server-Time"));
    if (serverTime) { serverClockOffset = serverTime - Date.now(); }
  });
  // A card swapped in (fresh or the browser's cached copy) shows the right time before it is painted.
  document.addEventListener("htmx:afterSwap", tickJobClocks);
  window.setInterval(tickJobClocks, 200);

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-filter-models]")) { filterModels(event.target); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-size-select]")) { syncCustomSize(event.target.form || document); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-roll-for]");
    if (button) { rollSeed(button); }
  });
  document.addEventListener("DOMContentLoaded", function () { syncCustomSize(document); });
  // The form is swapped in again after each Generate: keep its size inputs in step.
  document.addEventListener("htmx:afterSwap", function () { syncCustomSize(document); });
})();
