/* List pages: select-all, the selected count of the bulk toolbar, and resetting the
   quick-add form once its row is in the table. Event delegation survives htmx swaps. */
(function () {
  "use strict";

  function rowBoxes(table) {
    return Array.prototype.slice.call(table.querySelectorAll('input[name="ids"]:not(:disabled)'));
  }

  function refreshCount(table) {
    var label = table.querySelector("[data-selected-count]");
    if (!label) return;
    var chosen = rowBoxes(table).filter(function (box) { return box.checked; }).length;
    if (!label.dataset.idle) label.dataset.idle = label.textContent;
    label.textContent = chosen ? label.dataset.template.replace("{n}", chosen) : label.dataset.idle;
  }

  document.addEventListener("change", function (event) {
    var table = event.target.closest && event.target.closest("#list-table");
    if (!table) return;
    if (event.target.matches("[data-select-all]")) {
      rowBoxes(table).forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.matches("[data-select-all], input[name='ids']")) refreshCount(table);
  });

  document.body.addEventListener("list-row-added", function () {
    var form = document.getElementById("inline-create");
    if (!form) return;
    form.reset();
    var first = form.querySelector("input:not([type=hidden])");
    if (first) first.focus();
    var empty = document.getElementById("list-empty");
    if (empty) empty.remove();
  });
})();
