// Draws the OC curve from the JSON the page carries (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("oc-data");
  const canvas = document.getElementById("oc-chart");
  if (!data || !canvas || typeof Chart === "undefined") return;
  const oc = JSON.parse(data.textContent);
  const marker = (x, label, color) => ({
    label, data: [{ x, y: 0 }, { x, y: 1 }], borderColor: color, borderDash: [6, 4],
    pointRadius: 0, borderWidth: 1.5,
  });
  const datasets = [{
    label: "Probability of acceptance", data: oc.points, borderColor: "#0f5c8c",
    backgroundColor: "rgba(15, 92, 140, 0.08)", fill: true, pointRadius: 0, tension: 0.2,
  }, marker(oc.aql, `AQL ${oc.aql}`, "#1d7a46")];
  if (oc.lq10 !== null) datasets.push(marker(oc.lq10, `LQ10 ${oc.lq10.toFixed(1)}`, "#b3261e"));
  new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: `Lot quality (${oc.unit})` } },
        y: { min: 0, max: 1, title: { display: true, text: "Probability of acceptance" },
             ticks: { callback: (v) => `${Math.round(v * 100)} %` } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
});
