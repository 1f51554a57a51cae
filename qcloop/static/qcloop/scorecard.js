// Draws each factory's p-chart on the supplier scorecard from the JSON the page carries (no
// inline script: the CSP forbids it). The centre line is flat, the control limits are stepped
// (each month has its own, from its own sample size) and a month out of control is drawn red.
// The text above each chart names the same months for readers without JS.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("scorecard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const inControl = "#0f5c8c";
  const outOfControl = "#b3261e";
  const limitColour = "rgba(154, 91, 0, 0.85)";

  const datasets = (chart, cls) => [
    {
      label: `${cls === "all" ? "All classes" : cls} per 100 units`,
      data: chart.rates,
      borderColor: inControl,
      backgroundColor: chart.out.map((out) => (out ? outOfControl : inControl)),
      pointBackgroundColor: chart.out.map((out) => (out ? outOfControl : inControl)),
      pointBorderColor: chart.out.map((out) => (out ? outOfControl : inControl)),
      pointRadius: chart.out.map((out) => (out ? 6 : 3)),
      pointStyle: chart.out.map((out) => (out ? "rectRot" : "circle")),
      borderWidth: 2,
      tension: 0,
    },
    {
      label: "Upper control limit",
      data: chart.upper,
      borderColor: limitColour,
      borderWidth: 1.5,
      pointRadius: 0,
      stepped: "middle",
      fill: false,
    },
    {
      label: "Lower control limit",
      data: chart.lower,
      borderColor: limitColour,
      borderWidth: 1.5,
      borderDash: [2, 2],
      pointRadius: 0,
      stepped: "middle",
      fill: false,
    },
    {
      label: `Centre ${chart.centre.toFixed(2)}`,
      data: chart.labels.map(() => chart.centre),
      borderColor: "#1b2430",
      borderWidth: 1.5,
      borderDash: [6, 3],
      pointRadius: 0,
      fill: false,
    },
  ];

  const tooltip = (chart) => ({
    callbacks: {
      afterBody: (items) => {
        const i = items[0].dataIndex;
        const lines = [`${chart.found[i]} defects in ${chart.units[i]} units`];
        if (chart.out[i]) lines.push("Out of control");
        return lines;
      },
    },
  });

  const charts = [];
  for (const factory of data.factories) {
    const canvas = document.getElementById(`pchart-${factory.id}`);
    if (!canvas) continue;
    const chart = factory.charts.all;
    const drawn = new Chart(canvas, {
      type: "line",
      data: { labels: chart.labels, datasets: datasets(chart, "all") },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" }, tooltip: tooltip(chart) },
        scales: {
          y: { beginAtZero: true, title: { display: true, text: "defects per 100 units" } },
        },
      },
    });
    canvas.dataset.drawn = "true";
    charts.push({ factory, drawn });
  }

  const control = document.getElementById("pchart-class-control");
  const select = document.getElementById("pchart-class");
  if (control && select && charts.length) {
    control.hidden = false;
    select.addEventListener("change", () => {
      for (const { factory, drawn } of charts) {
        const chart = factory.charts[select.value];
        drawn.data.labels = chart.labels;
        drawn.data.datasets = datasets(chart, select.value);
        drawn.options.plugins.tooltip = tooltip(chart);
        drawn.update();
      }
    });
  }
});
