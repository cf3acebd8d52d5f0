// Studio page behaviour: filter the model picker, roll a seed, show custom-size inputs.
// Everything works without this file; it only makes the forms quicker to use.
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
