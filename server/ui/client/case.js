// Case page island: draws each control chart with uPlot (centre line, limits, zones, flagged points with their rule).
// The server-drawn SVG chart and the flagged-points table remain for readers without script.
(() => {
  const charts = document.querySelectorAll('.uplot-target[data-chart]');
  if (charts.length === 0 || typeof window.uPlot !== 'function') return;
  const uPlot = window.uPlot;
  const colours = { signal: '#0b5cad', limit: '#b42318', centre: '#1a7f37', flag: '#b42318' };

  const zonesPlugin = (limits) => ({
    hooks: {
      drawClear: (u) => {
        if (!limits || typeof limits.center !== 'number') return;
        const span = typeof limits.upper === 'number' ? limits.upper - limits.center : limits.center - limits.lower;
        if (!(span > 0)) return;
        const sigma = span / 3;
        const { ctx, bbox } = u;
        ctx.save();
        const shades = ['rgba(26,127,55,0.07)', 'rgba(191,135,0,0.08)', 'rgba(180,35,24,0.08)'];
        for (let k = 0; k < 3; k++) {
          for (const sign of [1, -1]) {
            const a = u.valToPos(limits.center + sign * k * sigma, 'y', true);
            const b = u.valToPos(limits.center + sign * (k + 1) * sigma, 'y', true);
            const top = Math.max(bbox.top, Math.min(a, b));
            const bottom = Math.min(bbox.top + bbox.height, Math.max(a, b));
            if (bottom > top) {
              ctx.fillStyle = shades[k];
              ctx.fillRect(bbox.left, top, bbox.width, bottom - top);
            }
          }
        }
        ctx.restore();
      },
    },
  });

  const flagsPlugin = (flags) => ({
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        const dpr = window.devicePixelRatio || 1;
        const labelled = new Set();
        ctx.save();
        for (const flag of flags) {
          const x = u.valToPos(flag.t, 'x', true);
          const y = u.valToPos(flag.v, 'y', true);
          ctx.beginPath();
          ctx.arc(x, y, 6 * dpr, 0, 2 * Math.PI);
          ctx.fillStyle = colours.flag;
          ctx.fill();
          ctx.lineWidth = 2 * dpr;
          ctx.strokeStyle = '#fff';
          ctx.stroke();
          if (labelled.has(flag.label)) continue;
          labelled.add(flag.label);
          ctx.font = `${12 * dpr}px system-ui, sans-serif`;
          ctx.textAlign = 'right';
          const ly = y + (labelled.size % 2 === 0 ? -10 : 18) * dpr;
          ctx.lineWidth = 4 * dpr;
          ctx.strokeStyle = 'rgba(255,255,255,0.9)';
          ctx.strokeText(flag.label, x - 9 * dpr, ly);
          ctx.fillStyle = colours.flag;
          ctx.fillText(flag.label, x - 9 * dpr, ly);
        }
        ctx.restore();
      },
    },
  });

  const draw = (target) => {
    let data;
    try {
      data = JSON.parse(target.dataset.chart);
    } catch {
      return null;
    }
    if (!data.t || data.t.length < 2) return null;
    const limits = data.limits;
    const flat = (value) => data.t.map(() => (typeof value === 'number' ? value : null));
    const values = [...data.v, ...data.flags.map((flag) => flag.v)].filter((v) => typeof v === 'number');
    for (const key of ['lower', 'center', 'upper'])
      if (limits && typeof limits[key] === 'number') values.push(limits[key]);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const pad = (hi - lo || 1) * 0.08;
    const width = () => Math.max(280, target.parentElement.clientWidth - 12);
    const options = {
      width: width(),
      height: window.innerWidth < 700 ? 220 : 280,
      scales: { x: { time: true }, y: { range: [lo - pad, hi + pad] } },
      series: [
        { label: 'time (local)' },
        { label: data.tag, stroke: colours.signal, width: 1.5, points: { show: false } },
        { label: 'UCL', stroke: colours.limit, dash: [6, 4], width: 1, points: { show: false } },
        { label: 'centre', stroke: colours.centre, dash: [2, 3], width: 1, points: { show: false } },
        { label: 'LCL', stroke: colours.limit, dash: [6, 4], width: 1, points: { show: false } },
      ],
      axes: [{}, { size: 64 }],
      plugins: [zonesPlugin(limits), flagsPlugin(data.flags)],
    };
    const plot = new uPlot(
      options,
      [data.t, data.v, flat(limits?.upper), flat(limits?.center), flat(limits?.lower)],
      target,
    );
    target.setAttribute('role', 'img');
    target.setAttribute(
      'aria-label',
      `Control chart of ${data.tag}, ${data.flags.length} flagged point(s); the flagged points are listed in the table below.`,
    );
    target.dataset.flagged = String(data.flags.length);
    const fallback = target.parentElement.querySelector('.chart-fallback');
    if (fallback) fallback.hidden = true;
    return { plot, width };
  };

  const plots = [...charts].map(draw).filter(Boolean);
  let pending = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const { plot, width } of plots) plot.setSize({ width: width(), height: plot.height });
    });
  });
})();

// "Edit instead" and links to #edit-capa open the CAPA editor and put the keyboard focus in it.
(() => {
  const openEditor = () => {
    const editor = document.getElementById('edit-capa');
    if (!editor || location.hash !== '#edit-capa') return;
    editor.open = true;
    editor.querySelector('textarea, input:not([type=hidden])')?.focus();
  };
  window.addEventListener('hashchange', openEditor);
  openEditor();
})();
