// The dashboard's charts, drawn with the vendored ECharts from the JSON the page carries.
(function () {
  "use strict";
  function draw() {
    var data = JSON.parse(document.getElementById("dash-data").textContent);
    var zh = document.documentElement.lang === "zh-CN";
    var t = function (zhText, en) { return zh ? zhText : en; };
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var c = echarts.init(el, null, { renderer: "svg" });
      c.setOption(option);
      window.addEventListener("resize", function () { c.resize(); });
      el.dataset.ready = "1";
    }
    chart("chart-volumes", {
      tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 10, bottom: 30 },
      xAxis: { type: "category", data: data.volumes.days }, yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: t("服务单", "requests"), data: data.volumes.tickets }]
    });
    var months = data.surveys.map(function (r) { return r.period; });
    chart("chart-surveys", {
      tooltip: { trigger: "axis" }, legend: {}, grid: { left: 40, right: 40, top: 30, bottom: 30 },
      xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", min: 1, max: 5, name: "CSAT" }, { type: "value", min: -100, max: 100, name: "NPS" }],
      series: [
        { type: "line", name: "CSAT", data: data.surveys.map(function (r) { return r.csat_mean; }) },
        { type: "line", name: "NPS", yAxisIndex: 1, data: data.surveys.map(function (r) { return r.nps; }) }
      ]
    });
    if (data.sla) {
      var clocks = Object.keys(data.sla.clocks);
      var names = { first_response: t("首次答复", "first response"), onsite: t("上门", "on site"),
                    resolution: t("解决", "resolution") };
      var part = function (key, label, color) {
        return { type: "bar", stack: "all", name: label, itemStyle: { color: color },
                 data: clocks.map(function (c) { return data.sla.clocks[c][key]; }) };
      };
      chart("chart-sla", {
        tooltip: { trigger: "axis" }, legend: {}, grid: { left: 90, right: 10, top: 30, bottom: 30 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: clocks.map(function (c) { return names[c] || c; }) },
        series: [part("met", t("达成", "met"), "#2b8a3e"), part("missed", t("超时", "missed"), "#c92a2a"),
                 part("running", t("仍在计时", "still running"), "#adb5bd")]
      });
    }
    var intents = Object.keys(data.fairness.time_to_human);
    chart("chart-fairness", {
      tooltip: {}, grid: { left: 90, right: 10, top: 10, bottom: 30 },
      xAxis: { type: "value" }, yAxis: { type: "category", data: intents },
      series: [{ type: "bar", data: intents.map(function (i) { return data.fairness.time_to_human[i].median_s || 0; }) }]
    });
    var dot = function (name, points, color) {
      return { type: "scatter", name: name, data: points, symbolSize: 3, itemStyle: { color: color } };
    };
    chart("chart-coverage", {
      tooltip: {}, legend: {}, grid: { left: 40, right: 10, top: 30, bottom: 30 },
      xAxis: { type: "value", min: 73, max: 135, name: "E" }, yAxis: { type: "value", min: 17, max: 54, name: "N" },
      series: [
        dot(t("已覆盖", "covered"), data.coverage.covered, "#2b8a3e"),
        dot(t("部分覆盖", "in part"), data.coverage.partial, "#e8a317"),
        dot(t("未覆盖", "not covered"), data.coverage.uncovered, "#c0c4cc")
      ]
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
