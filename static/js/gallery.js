// Gallery behaviour: selection (click, shift-click, select all), confirmations, sensitive
// items revealed on click, copy buttons, and keyboard navigation on the detail page.
(function () {
  "use strict";
  var lastChecked = null;

  function boxes() { return Array.prototype.slice.call(document.querySelectorAll(".tile__select")); }

  function updateCount() {
    var counter = document.querySelector("[data-selected-count]");
    if (!counter) { return; }
    var n = boxes().filter(function (box) { return box.checked; }).length;
    // The words come translated from the page; "{n}" stands for the number.
    var words = n === 0 ? counter.getAttribute("data-text-none") || "Nothing selected"
      : n === 1 ? counter.getAttribute("data-text-one") || "{n} item selected"
      : counter.getAttribute("data-text-many") || "{n} items selected";
    counter.textContent = words.replace("{n}", n);
    // The actions show once something is selected (without this script they always show).
    var bar = counter.closest(".bulk__bar");
    if (bar) { bar.classList.toggle("bulk__bar--idle", n === 0); }
    document.querySelectorAll("[data-tile]").forEach(function (tile) {
      tile.classList.toggle("tile--selected", tile.querySelector(".tile__select").checked);
    });
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest(".tile__select");
    if (box) {
      // Shift-click selects the whole range since the last box clicked.
      if (event.shiftKey && lastChecked && lastChecked !== box) {
        var all = boxes(), from = all.indexOf(lastChecked), to = all.indexOf(box);
        all.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (b) { b.checked = box.checked; });
      }
      lastChecked = box;
      updateCount();
      return;
    }
    var selectAll = event.target.closest("[data-select-all]");
    if (selectAll) {
      boxes().forEach(function (b) { b.checked = selectAll.checked; });
      updateCount();
      return;
    }
    var confirmButton = event.target.closest("[data-confirm]");
    if (confirmButton && !window.confirm(confirmButton.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var hidden = event.target.closest(".tile__link--nsfw:not(.is-revealed), .detail__media--nsfw:not(.is-revealed)");
    if (hidden) {
      event.preventDefault();
      hidden.classList.add("is-revealed");
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var label = copy.textContent;
          copy.textContent = copy.getAttribute("data-copied-text") || "Copied";
          setTimeout(function () { copy.textContent = label; }, 1500);
        });
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    var nav = document.querySelector("[data-keyboard-nav]");
    if (!nav || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.target.closest("input, textarea, select, [contenteditable]")) { return; }
    var target = { ArrowLeft: "data-prev", ArrowRight: "data-next", Escape: "data-back" }[event.key];
    var url = target && nav.getAttribute(target);
    if (url) { window.location.assign(url); }
  });

  document.addEventListener("htmx:afterSwap", updateCount);
  document.addEventListener("DOMContentLoaded", updateCount);
})();
