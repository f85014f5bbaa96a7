/* smartbms report: uPlot charts on one linked time axis (zoom by dragging or pinching, double-click
   or double-tap resets, hover shows every value), read from the JSON in #report-data. No network;
   no library but uPlot and our touch zoom plugin (smartbms/assets/uplot-touch-zoom.js). */
(function () {
  "use strict";
  var spec = JSON.parse(document.getElementById("report-data").textContent);
  var FONT_PX = 12;
  var FONT = FONT_PX + "px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
  var SMALL = "11px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
  var clock = spec.clock;
  var DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var charts = [];
  var syncing = false;
  window.smartbmsReport = { axisFontPx: FONT_PX, legendFontPx: 12, charts: charts };

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function dayName(day) {
    return clock.weekday0 === null ? "day " + (day + 1) : DAYS[(clock.weekday0 + day) % 7];
  }

  /* Time since the start as a wall clock reads it: 'Fri 16:00', 'day 1 16:00:05'. */
  function clockText(t, seconds, withDay) {
    var total = Math.floor(clock.tod + t + 1e-6);
    var day = Math.floor(total / 86400);
    var rest = total - day * 86400;
    var text = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60));
    if (seconds) { text += ":" + pad(rest % 60); }
    return withDay ? dayName(day) + " " + text : text;
  }
  window.smartbmsReport.clockText = clockText;

  var INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
    43200, 86400, 172800, 259200, 604800, 1209600, 2592000];

  function timeSplits(u, axisIdx, min, max) {
    var width = u.bbox.width / (window.devicePixelRatio || 1);
    var incr = INCRS[INCRS.length - 1];
    for (var i = 0; i < INCRS.length; i++) {
      var c = INCRS[i];
      var labelPx = c >= 86400 ? 62 : spec.multiDay ? 110 : c < 60 ? 80 : 58;
      if (((max - min) / c) * labelPx <= width) { incr = c; break; }
    }
    u._incr = incr;
    var splits = [];
    var first = Math.ceil((min + clock.tod) / incr) * incr - clock.tod;
    var half = (incr >= 86400 ? 62 : spec.multiDay ? 110 : incr < 60 ? 80 : 58) / 2;
    var room = ((max - min) / width) * half;  // a label centred on its tick must fit the chart
    for (var t = first; t <= max + 1e-9; t += incr) {
      if (t <= max - room) { splits.push(t); }
    }
    return splits;
  }

  function timeValues(u, splits) {
    var incr = u._incr || 3600;
    return splits.map(function (t) {
      if (incr >= 86400) { return dayName(Math.floor((clock.tod + t + 1e-6) / 86400)); }
      return clockText(t, incr < 60, spec.multiDay);
    });
  }

  /* Every chart's y axis is this wide, so that the time axes line up from chart to chart. */
  var Y_AXIS_PX = 70;

  /* One x array for a panel: the union of its series' times, the start and the end. */
  function join(panel) {
    var seen = new Map();
    seen.set(0, true);
    seen.set(spec.end, true);
    panel.series.forEach(function (s) { s.t.forEach(function (t) { seen.set(t, true); }); });
    var xs = Array.from(seen.keys()).sort(function (a, b) { return a - b; });
    var at = new Map();
    xs.forEach(function (x, i) { at.set(x, i); });
    var data = [xs];
    panel.series.forEach(function (s) {
      var ys = new Array(xs.length).fill(null);
      for (var i = 0; i < s.t.length; i++) { ys[at.get(s.t[i])] = s.v[i]; }
      data.push(ys);
    });
    return data;
  }

  /* The value at or before index i (the trace holds a value until the next sample). */
  function nearest(values, i) {
    for (var k = i; k >= 0; k--) { if (values[k] !== null) { return values[k]; } }
    for (var j = i + 1; j < values.length; j++) { if (values[j] !== null) { return values[j]; } }
    return null;
  }

  function number(v, unit) {
    if (v === null || v === undefined) { return "–"; }
    var a = Math.abs(v);
    var text = a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : a >= 1 ? v.toFixed(3) :
      a >= 0.001 || a === 0 ? v.toFixed(4) : v.toExponential(2);
    return text + " " + unit;
  }

  function drawMarkers(u, withLabels) {
    var ctx = u.ctx;
    var top = u.bbox.top;
    var bottom = u.bbox.top + u.bbox.height;
    var pr = window.devicePixelRatio || 1;
    var taken = [];
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    spec.markers.forEach(function (m) {
      if (m.t < u.scales.x.min || m.t > u.scales.x.max) { return; }
      var x = Math.round(u.valToPos(m.t, "x", true));
      ctx.strokeStyle = m.colour;
      ctx.globalAlpha = 0.6;
      ctx.lineWidth = pr;
      ctx.setLineDash([4 * pr, 3 * pr]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      if (!withLabels) { return; }
      ctx.globalAlpha = 1;
      ctx.font = SMALL.replace("11px", 11 * pr + "px");
      var w = ctx.measureText(m.label).width + 6 * pr;
      var left = x + w < u.bbox.left + u.bbox.width ? x + 3 * pr : x - w;
      for (var row = 0; row < 3; row++) {
        var y = top + (4 + row * 14) * pr;
        var free = taken.every(function (r) { return r[2] !== row || left + w < r[0] || left > r[1]; });
        if (free) {
          taken.push([left, left + w, row]);
          ctx.fillStyle = "rgba(255,255,255,0.85)";
          ctx.fillRect(left - 2 * pr, y - pr, w, 13 * pr);
          ctx.fillStyle = m.colour;
          ctx.textAlign = "left";
          ctx.textBaseline = "top";
          ctx.fillText(m.label, left, y);
          break;
        }
      }
    });
    ctx.restore();
  }

  function drawRefs(u, refs) {
    var ctx = u.ctx;
    var pr = window.devicePixelRatio || 1;
    ctx.save();
    refs.forEach(function (r) {
      if (r.y < u.scales.y.min || r.y > u.scales.y.max) { return; }
      var y = Math.round(u.valToPos(r.y, "y", true));
      ctx.strokeStyle = r.colour;
      ctx.lineWidth = pr;
      ctx.setLineDash([6 * pr, 4 * pr]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.font = SMALL.replace("11px", 11 * pr + "px");
      ctx.fillStyle = r.colour;
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      ctx.fillText(r.label, u.bbox.left + u.bbox.width - 4 * pr, y - 2 * pr);
    });
    ctx.restore();
  }

  function linkZoom(u, key) {
    if (key !== "x" || syncing) { return; }
    syncing = true;
    var min = u.scales.x.min;
    var max = u.scales.x.max;
    charts.forEach(function (other) {
      if (other !== u && (other.scales.x.min !== min || other.scales.x.max !== max)) {
        other.setScale("x", { min: min, max: max });
      }
    });
    syncing = false;
  }

  /* The data's range, at least soft_span wide, with the thresholds, padded, within the limits. */
  function yRange(panel) {
    return function (u, lo, hi) {
      if (lo === null || hi === null) {
        return [panel.y_min === null ? 0 : panel.y_min, panel.y_max === null ? 1 : panel.y_max];
      }
      panel.refs.forEach(function (r) { lo = Math.min(lo, r.y); hi = Math.max(hi, r.y); });
      if (hi - lo < panel.soft_span) {
        var mid = (hi + lo) / 2;
        lo = mid - panel.soft_span / 2;
        hi = mid + panel.soft_span / 2;
      }
      if (hi === lo) { hi = lo + 1; }
      var padding = (hi - lo) * 0.06;
      lo -= padding;
      hi += padding;
      if (panel.y_min !== null && lo < panel.y_min) { hi += panel.y_min - lo; lo = panel.y_min; }
      if (panel.y_max !== null && hi > panel.y_max) { lo -= hi - panel.y_max; hi = panel.y_max; }
      if (panel.y_min !== null) { lo = Math.max(lo, panel.y_min); }
      return [lo, hi];
    };
  }

  /* An asinh axis labels zero and the powers of ten only ('10 mA', '1 A', '-100 A'). */
  function asinhFilter(u, splits) {
    var near = u.scales.y.asinh * 5;  // inside the linear zone labels would overlap zero's
    return splits.map(function (v) {
      if (v === 0) { return v; }
      var e = Math.log10(Math.abs(v));
      return Math.abs(e - Math.round(e)) < 1e-9 && Math.abs(v) > near ? v : null;
    });
  }

  function ampsText(v) {
    if (v === 0) { return "0"; }
    var a = Math.abs(v);
    if (a < 1) { return +(v * 1000).toPrecision(3) + " mA"; }
    return +v.toPrecision(4) + " A";
  }

  function showAll() {
    if (charts.length) { charts[0].setScale("x", { min: 0, max: spec.end }); }
  }

  function common(el, height, hooks) {
    return {
      plugins: [uPlotTouchZoom({ reset: showAll, bounds: function () { return [0, spec.end]; } })],
      width: Math.max(el.clientWidth, 200),
      height: height,
      cursor: { sync: { key: "smartbms", setSeries: false }, drag: { x: true, y: false } },
      hooks: hooks,
      axes: [
        { font: FONT, size: 34, space: 80, splits: timeSplits, values: timeValues,
          stroke: "#1f2328", grid: { stroke: "#e6e9ed", width: 1 }, ticks: { stroke: "#c6ccd2" } },
      ],
      scales: { x: { time: false } },
    };
  }

  function makePanel(panel, index) {
    var el = document.getElementById("chart-" + panel.key);
    if (!el) { return; }
    var height = el.clientWidth < 500 ? 210 : 250;
    var opts = common(el, height, {
      draw: [function (u) { drawRefs(u, panel.refs); drawMarkers(u, index === 0); }],
      setScale: [linkZoom],
    });
    opts.series = [{ label: "time", value: function (u, v) { return v === null ? "–" : clockText(v, true, true); } }];
    panel.series.forEach(function (s, i) {
      opts.series.push({
        label: s.label,
        stroke: s.colour,
        width: s.width,
        dash: s.dash.length ? s.dash : undefined,
        spanGaps: true,
        points: { show: false },
        value: function (u, v, sidx, idx) {
          return number(v === null && idx !== null ? nearest(u.data[sidx], idx) : v, panel.unit);
        },
      });
    });
    var y = { auto: true, range: yRange(panel) };
    var axis = {
      font: FONT, size: Y_AXIS_PX - 16, stroke: "#1f2328", label: panel.unit, labelFont: FONT,
      labelSize: 16, grid: { stroke: "#e6e9ed", width: 1 }, ticks: { stroke: "#c6ccd2" },
    };
    if (panel.asinh !== null) {
      y = { distr: 4, asinh: panel.asinh };
      axis.filter = asinhFilter;
      axis.grid.filter = asinhFilter;
      axis.ticks.filter = asinhFilter;
      axis.values = function (u, splits) {
        return splits.map(function (v) { return v === null ? "" : ampsText(v); });
      };
    }
    opts.scales.y = y;
    opts.axes.push(axis);
    charts.push(new uPlot(opts, join(panel), el));
  }

  function drawStrip(u) {
    var ctx = u.ctx;
    var pr = window.devicePixelRatio || 1;
    var rows = spec.strip;
    var rowH = u.bbox.height / Math.max(rows.length, 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    rows.forEach(function (row, i) {
      // each row: its name on a line of its own, the bar under it (nothing hides the bar)
      var top = u.bbox.top + i * rowH;
      ctx.fillStyle = i % 2 ? "#f6f8fa" : "#ffffff";
      ctx.fillRect(u.bbox.left, top, u.bbox.width, rowH);
      var barTop = top + rowH * 0.5;
      var barH = rowH * 0.4;
      row.spans.forEach(function (s) {
        if (s[1] < u.scales.x.min || s[0] > u.scales.x.max) { return; }
        var a = u.valToPos(s[0], "x", true);
        var b = Math.max(u.valToPos(s[1], "x", true), a + pr);
        ctx.globalAlpha = s[2] === 2 ? 0.4 : 0.9;
        ctx.fillStyle = row.colour;
        ctx.fillRect(a, barTop, b - a, barH);
      });
      ctx.globalAlpha = 1;
      ctx.font = SMALL.replace("11px", 11 * pr + "px");
      ctx.fillStyle = "#1f2328";
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.fillText(row.label, u.bbox.left + 4 * pr, top + 1 * pr);
    });
    ctx.restore();
    drawMarkers(u, false);
  }

  function makeStrip() {
    var el = document.getElementById("chart-strip");
    if (!el || !spec.strip.length) { return; }
    var opts = common(el, spec.strip.length * 30 + 40, { draw: [drawStrip], setScale: [linkZoom] });
    opts.legend = { show: false };
    opts.series = [{}, { label: "", stroke: "transparent", spanGaps: true, points: { show: false } }];
    opts.scales.y = { range: [0, 1] };
    opts.axes.push({ size: Y_AXIS_PX, values: function (u, splits) {
      return splits.map(function () { return ""; });
    }, grid: { show: false }, ticks: { show: false } });
    charts.push(new uPlot(opts, [[0, spec.end], [null, null]], el));
  }

  spec.panels.forEach(makePanel);
  makeStrip();

  var reset = document.getElementById("zoom-reset");
  if (reset) {
    reset.addEventListener("click", showAll);
  }

  /* The day table as a table where it fits, else as one card per day (CSS: .stacked). */
  function fitDays() {
    var table = document.querySelector("table.days");
    if (!table) { return; }
    table.classList.remove("stacked");
    table.classList.toggle("stacked", table.offsetWidth > table.parentNode.clientWidth + 1);
  }
  fitDays();

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { cancelAnimationFrame(pending); }
    pending = requestAnimationFrame(function () {
      fitDays();
      charts.forEach(function (u) {
        var width = Math.max(u.root.parentNode.clientWidth, 200);
        if (width !== u.width) { u.setSize({ width: width, height: u.height }); }
      });
    });
  });
})();
