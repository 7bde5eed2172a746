/* Wasl's shell behaviour: the global search box and notices after htmx writes. */
(function () {
  "use strict";

  // htmx settles a swapped element that keeps its id by giving it the old element's style
  // for a moment, then the new one: that wipes the `display: none` Alpine's x-show has just
  // set, and closed popovers (column chooser, saved views, date pickers) showed open.
  if (window.htmx) window.htmx.config.attributesToSettle = ["class", "width", "height"];

  // Global search: arrows move between the input and the results, Escape closes them.
  function searchLinks(box) { return Array.prototype.slice.call(box.querySelectorAll("a.wasl-hit")); }
  document.addEventListener("keydown", function (event) {
    var input = document.getElementById("global-search");
    var box = document.getElementById("global-search-results");
    if (!input || !box) return;
    var inSearch = event.target === input || box.contains(event.target);
    if (!inSearch) return;
    var links = searchLinks(box);
    var index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && links.length) {
      event.preventDefault();
      if (index <= 0) input.focus(); else links[index - 1].focus();
    } else if (event.key === "Escape") {
      box.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
      input.focus();
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "global-search-results") {
      var input = document.getElementById("global-search");
      if (input) input.setAttribute("aria-expanded", searchLinks(event.target).length ? "true" : "false");
    }
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("global-search-results");
    var form = document.getElementById("global-search-form");
    if (box && form && !form.contains(event.target)) box.innerHTML = "";
  });

  // A write answers `HX-Trigger: {"wasl:notice": {"message": "…", "level": "success"}}`.
  document.body.addEventListener("wasl:notice", function (event) {
    var detail = event.detail || {};
    var region = document.getElementById("wasl-notices");
    if (!region || !detail.message) return;
    var note = document.createElement("div");
    note.className = "alert alert-" + (detail.level || "success") + " shadow-sm py-2 mb-2";
    note.setAttribute("role", "status");
    note.textContent = detail.message;
    region.appendChild(note);
    setTimeout(function () { note.remove(); }, 4000);
  });

  // Errors from htmx requests are shown rather than silently dropped.
  document.body.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("wasl-notices");
    if (!region) return;
    var note = document.createElement("div");
    note.className = "alert alert-danger shadow-sm py-2 mb-2";
    note.setAttribute("role", "alert");
    note.textContent = region.dataset.errorText || "Error";
    region.appendChild(note);
    setTimeout(function () { note.remove(); }, 6000);
  });
})();
