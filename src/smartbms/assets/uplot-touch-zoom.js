/* Touch zoom for uPlot (smartbms's own plugin; uPlot 1.6 zooms by mouse drag only).

   On a touch screen, on the x scale, the same gestures as the mouse plus a pinch:
   - drag a finger sideways across the plot: a selection, zoomed to when the finger lifts;
   - pinch with two fingers: zoom around them, and move the window with them;
   - double-tap: show everything (as a mouse double-click does).
   A vertical swipe still scrolls the page (touch-action: pan-y), so a chart never traps it.
   The window stays inside the data and never narrower than `minSpan` (x units).
   Used by the app's history page and by report.html (inlined there). */
(function (root) {
  "use strict";

  var SLOP_PX = 8;          // movement that still counts as a tap, or not yet a direction
  var MIN_SELECT_PX = 10;   // a shorter selection is taken as a slip, not a zoom
  var DOUBLE_TAP_MS = 350;

  function uPlotTouchZoom(options) {
    var opts = options || {};

    function bounds(u) {
      if (opts.bounds) { return opts.bounds(u); }
      var xs = u.data[0];
      return [xs[0], xs[xs.length - 1]];
    }

    function show(u, min, max) {
      var b = bounds(u);
      var full = b[1] - b[0];
      var span = Math.min(Math.max(max - min, opts.minSpan || full / 1000), full);
      if (min < b[0]) { min = b[0]; }
      if (min + span > b[1]) { min = b[1] - span; }
      u.setScale("x", { min: min, max: min + span });
    }

    function reset(u) {
      if (opts.reset) { opts.reset(u); return; }
      var b = bounds(u);
      u.setScale("x", { min: b[0], max: b[1] });
    }

    function init(u) {
      var over = u.over;
      var rect = null;
      var mode = "none";    // "pending" (one finger, no direction yet), "select", "pinch"
      var x0 = 0, y0 = 0, x1 = 0, startMs = 0, lastTapMs = 0;
      var pinch = null;     // {mid, dist, min, max} when two fingers came down
      var frame = 0;

      over.style.touchAction = "pan-y";

      function local(touch) { return [touch.clientX - rect.left, touch.clientY - rect.top]; }

      function twoFingers(e) {
        var a = local(e.touches[0]);
        var b = local(e.touches[1]);
        return { mid: (a[0] + b[0]) / 2, dist: Math.max(Math.abs(a[0] - b[0]), 20) };
      }

      function hideSelect() { u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false); }

      over.addEventListener("touchstart", function (e) {
        rect = over.getBoundingClientRect();
        if (e.touches.length === 1) {
          var p = local(e.touches[0]);
          x0 = x1 = p[0];
          y0 = p[1];
          startMs = Date.now();
          mode = "pending";
        } else if (e.touches.length === 2) {
          hideSelect();
          var f = twoFingers(e);
          pinch = { mid: f.mid, dist: f.dist, min: u.scales.x.min, max: u.scales.x.max };
          mode = "pinch";
          e.preventDefault();
        }
      }, { passive: false });

      over.addEventListener("touchmove", function (e) {
        if (mode === "pending") {
          var p = local(e.touches[0]);
          var dx = Math.abs(p[0] - x0);
          var dy = Math.abs(p[1] - y0);
          if (dx > SLOP_PX && dx > dy) { mode = "select"; }
          else if (dy > SLOP_PX) { mode = "none"; return; }  // the page scrolls
          else { return; }
        }
        if (mode === "select") {
          e.preventDefault();
          x1 = Math.min(Math.max(local(e.touches[0])[0], 0), rect.width);
          u.setSelect({ left: Math.min(x0, x1), top: 0, width: Math.abs(x1 - x0),
            height: over.clientHeight }, false);
        } else if (mode === "pinch" && e.touches.length === 2) {
          e.preventDefault();
          var f = twoFingers(e);
          if (frame) { return; }
          frame = requestAnimationFrame(function () {
            frame = 0;
            var span = (pinch.max - pinch.min) * (pinch.dist / f.dist);
            var at = pinch.min + (pinch.mid / rect.width) * (pinch.max - pinch.min);
            var min = at - (f.mid / rect.width) * span;
            show(u, min, min + span);
          });
        }
      }, { passive: false });

      function end(e) {
        if (mode === "select") {
          var left = Math.min(x0, x1);
          var width = Math.abs(x1 - x0);
          hideSelect();
          if (width >= MIN_SELECT_PX) {
            show(u, u.posToVal(left, "x"), u.posToVal(left + width, "x"));
          }
          mode = "none";
        } else if (mode === "pending") {
          var now = Date.now();
          if (now - startMs < DOUBLE_TAP_MS && now - lastTapMs < DOUBLE_TAP_MS) {
            lastTapMs = 0;
            reset(u);
            e.preventDefault();  // no double-tap zoom of the page, no click
          } else {
            lastTapMs = now;
          }
          mode = "none";
        } else if (mode === "pinch" && e.touches.length < 2) {
          mode = "none";  // the window stays where the fingers left it
        }
      }

      over.addEventListener("touchend", end, { passive: false });
      over.addEventListener("touchcancel", function () { hideSelect(); mode = "none"; });
    }

    return { hooks: { init: init }, reset: reset };
  }

  root.uPlotTouchZoom = uPlotTouchZoom;
})(window);
