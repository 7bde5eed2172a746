/* Report charts (Chart.js from static vendor/chart): right-to-left aware, in the page's
   font and the user's digits. A chart is a <canvas data-chart="<id of its JSON>">, the JSON
   being {kind, labels, datasets: [{label, data, kind?}]}; a spark line is a
   <canvas class="wasl-spark" data-spark="[numbers]">. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-wasl-print]");
    if (button) window.print();
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-wasl-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  if (typeof Chart === "undefined") return;

  var root = document.documentElement;
  var rtl = root.dir === "rtl";
  var lang = (root.lang || "en").split("-")[0];
  var nativeDigits = root.dataset.digits === "native";
  var DIGITS = { fa: "۰۱۲۳۴۵۶۷۸۹", ar: "٠١٢٣٤٥٦٧٨٩" };
  var locale = nativeDigits && DIGITS[lang]
    ? (lang === "fa" ? "fa-IR" : "ar-SA-u-nu-arab")
    : (lang === "en" ? "en-GB" : lang + "-u-nu-latn");
  var full = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  var compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
  var PALETTE = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#198754",
                 "#0dcaf0", "#ffc107", "#d63384", "#6c757d"];
  var printing = window.matchMedia && window.matchMedia("print").matches;

  function localDigits(text) {
    var table = nativeDigits && DIGITS[lang];
    if (!table) return String(text);
    return String(text).replace(/[0-9]/g, function (d) { return table[d]; });
  }

  var bodyFont = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.family = rtl ? 'Vazirmatn, "Noto Sans Arabic", Tahoma, sans-serif' : bodyFont;
  Chart.defaults.locale = locale;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = printing ? false : { duration: 250 };
  Chart.defaults.plugins.legend.rtl = rtl;
  Chart.defaults.plugins.legend.textDirection = rtl ? "rtl" : "ltr";
  Chart.defaults.plugins.tooltip.rtl = rtl;
  Chart.defaults.plugins.tooltip.textDirection = rtl ? "rtl" : "ltr";

  function colour(index, alpha) {
    var hex = PALETTE[index % PALETTE.length];
    if (alpha === undefined) return hex;
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function categoryTicks() {
    return {
      autoSkip: true,
      maxRotation: 0,
      callback: function (value) { return localDigits(this.getLabelForValue(value)); },
    };
  }

  function valueTicks() {
    return { callback: function (value) { return compact.format(value); } };
  }

  function tooltip() {
    return {
      callbacks: {
        title: function (items) { return items.length ? localDigits(items[0].label) : ""; },
        label: function (item) {
          var value = item.raw === null || item.raw === undefined ? "—" : full.format(item.raw);
          return (item.dataset.label ? item.dataset.label + ": " : "") + value;
        },
      },
    };
  }

  function configFor(spec) {
    var kind = spec.kind || "bar";
    var horizontal = kind === "funnel";
    var stacked = kind === "stacked-bar";
    var type = kind === "line" ? "line" : kind === "doughnut" ? "doughnut" : "bar";
    var several = (spec.datasets || []).length > 1;
    var datasets = (spec.datasets || []).map(function (d, i) {
      var own = d.kind === "line" ? "line" : d.kind === "bar" ? "bar" : undefined;
      var line = (own || type) === "line";
      var set = {
        label: d.label || "",
        data: d.data || [],
        borderWidth: line ? 2 : 1,
        tension: 0.25,
        pointRadius: line ? 2 : 0,
      };
      if (own && own !== type) set.type = own;
      if (type === "doughnut") {
        set.backgroundColor = set.data.map(function (_v, j) { return colour(j); });
      } else {
        set.backgroundColor = colour(i, line ? 0.15 : 0.75);
        set.borderColor = colour(i);
        set.fill = line && !several;
      }
      return set;
    });
    var labels = (spec.labels || []).map(String);
    var config = {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        plugins: {
          legend: { display: several || type === "doughnut", position: "bottom" },
          tooltip: tooltip(),
        },
      },
    };
    if (type === "doughnut") {
      config.data.labels = labels.map(localDigits);
      return config;
    }
    var category = Object.assign({ grid: { display: false } }, { ticks: categoryTicks() });
    var value = { beginAtZero: true, ticks: valueTicks() };
    if (horizontal) {
      config.options.indexAxis = "y";
      // Bars grow from the reading start: the right edge in Persian and Arabic.
      config.options.scales = {
        x: Object.assign(value, { reverse: rtl, stacked: stacked }),
        y: Object.assign(category, { position: rtl ? "right" : "left", stacked: stacked }),
      };
    } else {
      // Time and stages read right to left in Persian and Arabic: the x axis is reversed
      // and the value axis stands on the right.
      config.options.scales = {
        x: Object.assign(category, { reverse: rtl, stacked: stacked }),
        y: Object.assign(value, { position: rtl ? "right" : "left", stacked: stacked }),
      };
    }
    return config;
  }

  function draw(canvas) {
    if (Chart.getChart(canvas)) return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    try {
      new Chart(canvas, configFor(JSON.parse(source.textContent)));
    } catch (error) {
      canvas.replaceWith(document.createTextNode(""));
      if (window.console) window.console.error(error);
    }
  }

  function spark(canvas) {
    if (Chart.getChart(canvas)) return;
    var values;
    try { values = JSON.parse(canvas.dataset.spark || "[]"); } catch (e) { return; }
    if (!values.length) return;
    var up = values[values.length - 1] >= values[0];
    new Chart(canvas, {
      type: "line",
      data: {
        labels: values.map(function (_v, i) { return i; }),
        datasets: [{
          data: values,
          borderColor: up ? "#198754" : "#dc3545",
          backgroundColor: up ? "rgba(25,135,84,.12)" : "rgba(220,53,69,.12)",
          borderWidth: 1.5,
          // A dot on the latest value: the line starts from it, and a lone value shows.
          pointRadius: values.map(function (_v, i) { return i === values.length - 1 ? 2 : 0; }),
          pointBackgroundColor: up ? "#198754" : "#dc3545",
          tension: 0.3,
          fill: true,
        }],
      },
      options: {
        responsive: true,
        animation: false,
        events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false, reverse: rtl }, y: { display: false } },
      },
    });
  }

  function drawAll(scope) {
    (scope || document).querySelectorAll("canvas[data-chart]").forEach(draw);
    (scope || document).querySelectorAll("canvas.wasl-spark").forEach(spark);
  }

  function resizeAll() {
    Object.values(Chart.instances).forEach(function (chart) { chart.resize(); });
  }

  drawAll(document);
  // Chart cards loaded after the page (htmx) are drawn as they arrive.
  document.body.addEventListener("htmx:load", function (event) { drawAll(event.target); });
  // Charts are sized for the screen; printing lays the page out for A4 first.
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  if (window.matchMedia) {
    var printMedia = window.matchMedia("print");
    if (printMedia.addEventListener) printMedia.addEventListener("change", resizeAll);
  }
})();
