// Injected by browser-check's server into an SVG opened as a page of its own:
// finds text that overflows the box it sits in, leaves the picture, or runs
// into other text or into a line, and writes what it found into the document
// (a desc element with the id browser-check, one problem per line) for
// --dump-dom to read.
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const root = document.documentElement;
  const hidden = (el) => el.closest('defs, marker, symbol, clipPath, mask, title, desc');
  const label = (el) => JSON.stringify(el.textContent.trim().slice(0, 40));
  const rect = (el) => el.getBoundingClientRect();
  const area = (r) => Math.max(0, r.width) * Math.max(0, r.height);
  const inside = (x, y, r) => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
  const overlap = (a, b) => ({
    width: Math.min(a.right, b.right) - Math.max(a.left, b.left),
    height: Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top),
  });
  // The ink of a line of text is narrower than its box: glyph boxes include
  // the line's ascent and descent. Shrink vertically before testing contact.
  const ink = (r) => ({
    left: r.left + 1, right: r.right - 1,
    top: r.top + r.height * 0.22, bottom: r.bottom - r.height * 0.2,
  });
  const problems = [];
  const texts = [...document.querySelectorAll('text')].filter((t) => !hidden(t) && t.textContent.trim());
  const boxes = [...document.querySelectorAll('rect, circle, ellipse, polygon')]
    .filter((b) => !hidden(b))
    .map((b) => ({ el: b, r: rect(b) }));
  const picture = rect(root);
  // The boxes whose area holds a text's centre, smallest first.
  const container = (t) => {
    const r = rect(t);
    const cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
    return boxes.filter((b) => inside(cx, cy, b.r) && area(b.r) > area(r) * 0.5)
      .sort((a, b) => area(a.r) - area(b.r));
  };
  const filled = (el) => {
    const fill = getComputedStyle(el).fill;
    return fill !== 'none' && !/rgba\(.*,\s*0\)$/.test(fill);
  };
  const slack = 1.5;
  const leaving = new Set();
  for (const t of texts) {
    const r = rect(t);
    if (r.left < picture.left - slack || r.right > picture.right + slack ||
        r.top < picture.top - slack || r.bottom > picture.bottom + slack) {
      problems.push(`text ${label(t)} leaves the picture`);
      leaving.add(t);
      continue;
    }
    const around = container(t)[0];
    if (around) {
      const b = around.r;
      // Text needs air inside its box: 3 px on either side.
      const pad = 3;
      const out = Math.max(b.left + pad - r.left, r.right - (b.right - pad), b.top - ink(r).top, ink(r).bottom - b.bottom);
      if (out > 0.5) {
        problems.push(`text ${label(t)} overflows its ${around.el.tagName} by ${out.toFixed(1)} px`);
      }
    }
  }
  // A box the text is not in must not reach into it (the text would run
  // into the box's edge): only boxes that hold its centre may overlap it.
  for (const t of texts.filter((t) => !leaving.has(t))) {
    const mine = container(t);
    const r = ink(rect(t));
    for (const b of boxes) {
      if (mine.includes(b)) continue;
      // Two pixels of air between a text and a box it is not in.
      const near = { left: b.r.left - 2, right: b.r.right + 2, top: b.r.top - 2, bottom: b.r.bottom + 2 };
      const o = overlap(r, near);
      if (o.width > 0 && o.height > 0) {
        problems.push(`text ${label(t)} runs into a ${b.el.tagName} it is not in`);
      }
    }
  }
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const o = overlap(ink(rect(texts[i])), ink(rect(texts[j])));
      if (o.width > 1 && o.height > 1) {
        problems.push(`texts ${label(texts[i])} and ${label(texts[j])} overlap`);
      }
    }
  }
  const strokes = [...document.querySelectorAll('line, path, polyline')].filter((s) => {
    if (hidden(s)) return false;
    const style = getComputedStyle(s);
    return style.stroke !== 'none' && style.strokeWidth !== '0px' && style.visibility !== 'hidden';
  });
  for (const s of strokes) {
    const length = s.getTotalLength();
    const m = s.getScreenCTM();
    if (!m || !length) continue;
    const points = [];
    for (let d = 0; d <= length; d += 1.5) {
      const p = s.getPointAtLength(d);
      points.push({ x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f });
    }
    for (const t of texts) {
      // A stroke drawn before a filled box that holds the text lies beneath
      // the box (a grid line under a legend): it cannot touch the text.
      const under = (container(t) || []).some((b) =>
        filled(b.el) && (s.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING));
      const r = ink(rect(t));
      if (!under && points.some((p) => inside(p.x, p.y, r))) {
        problems.push(`a ${s.tagName} runs through text ${label(t)}`);
      }
    }
  }
  const report = document.createElementNS(NS, 'desc');
  report.setAttribute('id', 'browser-check');
  report.textContent = `checked ${texts.length} texts, ${strokes.length} strokes\n` + problems.join('\n');
  root.appendChild(report);
})();
