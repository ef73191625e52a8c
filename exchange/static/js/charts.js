// Charts of a voucher programme's dashboard, drawn with the vendored Chart.js from the figures the
// page carries as JSON in the data-charts attribute of #voucher-charts (the CSP allows no inline
// script). The same figures are in the tables below the charts, so nothing is lost without this script.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("voucher-charts");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.dataset.charts);
  const locale = document.documentElement.lang || "zh-CN";
  const yuan = new Intl.NumberFormat(locale, {style: "currency", currency: "CNY", maximumFractionDigits: 0});
  const options = {
    responsive: true, maintainAspectRatio: false, animation: false,
    plugins: {legend: {display: false},
              tooltip: {callbacks: {label: (item) => `${item.dataset.label}: ${yuan.format(item.parsed.y)}`}}},
    scales: {y: {beginAtZero: true, ticks: {callback: (value) => yuan.format(value)}}},
  };
  // series: {labels, fen (integer fen per label), label}; money is drawn in yuan.
  const draw = (canvasId, type, series, look) => {
    const canvas = document.getElementById(canvasId);
    if (!canvas || !series) return;
    const dataset = {label: series.label, data: series.fen.map((fen) => fen / 100), ...look};
    new window.Chart(canvas, {type, data: {labels: series.labels, datasets: [dataset]}, options});
  };
  draw("burn-down-chart", "line", data.burnDown, {
    borderColor: "#1565c0", backgroundColor: "rgba(21, 101, 192, 0.15)", fill: true, stepped: true, pointRadius: 3});
  draw("by-region-chart", "bar", data.byRegion, {backgroundColor: ["#1565c0", "#2e7d32", "#ef6c00"]});
});
