/* Drag and drop of a pipeline's stages: SortableJS fires "end" on the order form, which
   htmx posts (hx-trigger="end") and replaces with the saved order. */
(function () {
  "use strict";
  function bind(root) {
    if (typeof Sortable === "undefined") return;
    (root || document).querySelectorAll("[data-sortable]").forEach(function (list) {
      if (list.dataset.sortableBound) return;
      list.dataset.sortableBound = "1";
      Sortable.create(list, { handle: ".wasl-drag", animation: 150, draggable: ".wasl-stage" });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:afterSettle", function () { bind(document); });
})();
