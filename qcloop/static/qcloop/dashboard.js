// Draws the program dashboard's charts from the JSON the page carries (no inline script: the
// CSP forbids it). The tables under each chart hold the same figures for readers without JS.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#0f5c8c", "#b3261e", "#1d7a46", "#9a5b00", "#6a3a9c", "#5d6b7a"];
  const common = {
    animation: false,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom" } },
  };
  const perHundred = { beginAtZero: true, title: { display: true, text: "defects per 100 units" } };

  const suppliersCanvas = document.getElementById("chart-suppliers");
  let suppliersChart = null;
  const supplierDatasets = (cls) => data.suppliers.map((series, i) => ({
    label: series.name,
    data: series[cls],
    borderColor: series.program ? "#1b2430" : palette[i % palette.length],
    backgroundColor: series.program ? "#1b2430" : palette[i % palette.length],
    borderWidth: series.program ? 3 : 1.5,
    borderDash: series.program ? [6, 3] : [],
    spanGaps: true,
    tension: 0,
  }));
  if (suppliersCanvas) {
    suppliersChart = new Chart(suppliersCanvas, {
      type: "line",
      data: { labels: data.months, datasets: supplierDatasets("major") },
      options: { ...common, scales: { y: perHundred } },
    });
    const control = document.getElementById("trend-class-control");
    const select = document.getElementById("trend-class");
    if (control && select) {
      control.hidden = false;
      select.addEventListener("change", () => {
        suppliersChart.data.datasets = supplierDatasets(select.value);
        suppliersChart.update();
      });
    }
  }

  const programCanvas = document.getElementById("chart-program");
  if (programCanvas) {
    const band = (values, label, fill) => ({
      label, data: values, borderColor: "rgba(15, 92, 140, 0.25)", borderWidth: 1,
      backgroundColor: "rgba(15, 92, 140, 0.12)", pointRadius: 0, fill, spanGaps: true,
    });
    const major = data.program.major;
    new Chart(programCanvas, {
      type: "line",
      data: {
        labels: data.months,
        datasets: [
          band(major.low, "major 95 % low", false),
          band(major.high, "major 95 % high", "-1"),
          { label: "Major per 100", data: major.rate, borderColor: "#0f5c8c",
            backgroundColor: "#0f5c8c", spanGaps: true, tension: 0 },
          { label: "Minor per 100", data: data.program.minor.rate, borderColor: "#9a5b00",
            backgroundColor: "#9a5b00", spanGaps: true, tension: 0 },
          { label: "Critical defects (count)", data: data.program.critical, type: "bar",
            yAxisID: "count", backgroundColor: "rgba(179, 38, 30, 0.55)" },
        ],
      },
      options: {
        ...common,
        scales: {
          y: perHundred,
          count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                   ticks: { precision: 0 }, title: { display: true, text: "critical defects" } },
        },
        plugins: { legend: { position: "bottom",
          labels: { filter: (item) => !item.text.includes("95 %") } } },
      },
    });
  }

  const eventsCanvas = document.getElementById("chart-events");
  if (eventsCanvas) {
    new Chart(eventsCanvas, {
      type: "bar",
      data: {
        labels: data.months,
        datasets: [
          { label: "Escalations raised", data: data.escalations, backgroundColor: "#b3261e" },
          { label: "Trend flags raised", data: data.flags, backgroundColor: "#9a5b00" },
        ],
      },
      options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
});
