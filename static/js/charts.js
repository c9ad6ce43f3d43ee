/* Charts from JSON data islands (CSP: no inline scripts).
 *
 * Markup: <canvas data-chart="ID"> next to {{ data|json_script:"ID" }}, where data is
 * {type: "line"|"bar", labels: [...], datasets: [{label, data, color}], yTitle, max}.
 * A null value is drawn as a gap ("no data"), never as zero.
 * Chart.js is loaded on demand from this script tag's data-chartjs URL. Charts in
 * content swapped in by htmx are drawn too.
 */
(function () {
  "use strict";
  if (window.TrailwiseCharts) {
    window.TrailwiseCharts.renderAll(document);
    return;
  }
  var script = document.currentScript;
  var libraryUrl = script && script.dataset.chartjs;
  var libraryPromise = null;

  function loadLibrary() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (libraryPromise) return libraryPromise;
    libraryPromise = new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = libraryUrl;
      tag.onload = function () { resolve(window.Chart); };
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
    return libraryPromise;
  }

  function config(data) {
    var horizontalBars = data.type === "bar" && data.horizontal;
    var valueAxis = {
      beginAtZero: true,
      title: { display: !!data.yTitle, text: data.yTitle || "" },
    };
    if (data.max) valueAxis.max = data.max;
    return {
      type: data.type || "line",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set) {
          return {
            label: set.label,
            data: set.data,
            borderColor: set.color,
            backgroundColor: data.type === "bar" ? set.color : set.color + "22",
            borderWidth: 2,
            pointRadius: 3,
            tension: 0,
            spanGaps: false,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontalBars ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.raw;
                var shown = v === null || v === undefined ? "no data" : v + (data.max === 100 ? "%" : "");
                return ctx.dataset.label + ": " + shown;
              },
            },
          },
        },
        scales: horizontalBars ? { x: valueAxis } : { y: valueAxis },
      },
    };
  }

  function render(canvas) {
    if (canvas.dataset.chartReady) return;
    var island = document.getElementById(canvas.dataset.chart);
    if (!island) return;
    canvas.dataset.chartReady = "1";
    var data = JSON.parse(island.textContent);
    loadLibrary().then(function (Chart) {
      new Chart(canvas, config(data));
    });
  }

  function renderAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(render);
  }

  window.TrailwiseCharts = { renderAll: renderAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(document); });
  } else {
    renderAll(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) { renderAll(event.target); });
})();
