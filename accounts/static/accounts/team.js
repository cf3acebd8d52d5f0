// Team page: the "Copy" button next to a one-time link. Without JavaScript the button stays
// hidden and the link can still be selected and copied by hand.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field) { return; }
    // The words come translated from the page (data-copied-text, data-by-hand-text).
    var copiedText = button.getAttribute("data-copied-text") || "Link copied.";
    var byHandText = button.getAttribute("data-by-hand-text") || "Press Ctrl+C (or ⌘C) to copy the selected link.";
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      var say = function (words) { if (status) { status.textContent = words; } };
      var byHand = function () {
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
        say(copied ? copiedText : byHandText);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { say(copiedText); }, byHand);
      } else {
        byHand();
      }
    });
  });
})();
