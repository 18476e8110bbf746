// recbench results site: metric-group tabs and sortable columns. No network, no libraries.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".tabs").forEach(function (box) {
    var buttons = box.querySelectorAll(".tablist button");
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        buttons.forEach(function (x) { x.classList.toggle("active", x === b); });
        box.querySelectorAll(".panel").forEach(function (p) {
          p.classList.toggle("active", p.id === b.dataset.panel);
        });
      });
    });
  });
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () { sortBy(table, th, col); });
    });
  });
});

function cellValue(row, col, text) {
  var cell = row.cells[col];
  if (!cell) { return null; }
  var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
  if (text) { return raw.toLowerCase(); }
  var x = parseFloat(raw);
  return isNaN(x) ? null : x;
}

function sortBy(table, th, col) {
  var text = th.dataset.type === "text";
  var best = parseInt(th.dataset.dir || "1", 10);
  // first click: best first; next clicks flip
  var asc = th.classList.contains("sorted-desc") || (!th.classList.contains("sorted-asc") &&
    (text || best < 0));
  if (th.classList.contains("sorted-asc")) { asc = false; }
  Array.prototype.forEach.call(th.parentNode.cells, function (h) {
    h.classList.remove("sorted-asc", "sorted-desc");
  });
  th.classList.add(asc ? "sorted-asc" : "sorted-desc");
  var body = table.tBodies[0];
  var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains("note-row"); });
  rows.sort(function (a, b) {
    var x = cellValue(a, col, text), y = cellValue(b, col, text);
    if (x === null && y === null) { return 0; }
    if (x === null) { return 1; }
    if (y === null) { return -1; }
    var c = x < y ? -1 : (x > y ? 1 : 0);
    return asc ? c : -c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  table.dataset.sortedBy = String(col);
}
