// ikesim timeline: paints the plan that render/layout.rs computed (the JSON in
// #timeline-data) as SVG, one <svg> per shown segment; a collapsed segment is painted when
// it is first expanded. Every string from the plan goes in through textContent or
// setAttribute, never as markup: the plan's text may come from a real peer.
'use strict';
(function () {
  const errors = document.getElementById('script-errors');
  function report(text) {
    const li = document.createElement('li');
    li.textContent = String(text);
    errors.appendChild(li);
    errors.hidden = false;
  }
  // Script errors land in the DOM, where a reader (and the browser test) sees them.
  window.addEventListener('error', (e) => {
    report('error: ' + e.message + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', (e) => report('unhandled rejection: ' + e.reason));
  document.addEventListener('securitypolicyviolation', (e) => {
    report('blocked by the page\'s policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  const consoleError = console.error.bind(console);
  console.error = function (...args) {
    report('console.error: ' + args.join(' '));
    consoleError(...args);
  };

  const SVG = 'http://www.w3.org/2000/svg';
  const data = JSON.parse(document.getElementById('timeline-data').textContent);
  const originMs = Date.parse(data.origin);
  const lanes = data.lanes;
  const diagram = document.getElementById('diagram');
  const detail = document.getElementById('detail');
  const segmentsBox = document.getElementById('segments');
  const items = []; // [segment][item] → the plan's item, for the detail pane.
  let pinned = null;

  function svg(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const key of Object.keys(attrs)) node.setAttribute(key, String(attrs[key]));
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, str, cls, anchor) {
    const node = svg('text', { x: x, y: y }, parent);
    if (cls) node.setAttribute('class', cls);
    if (anchor) node.setAttribute('text-anchor', anchor);
    node.textContent = str;
    return node;
  }
  function html(name, cls, str, parent) {
    const node = document.createElement(name);
    if (cls) node.className = cls;
    if (str !== undefined) node.textContent = str;
    if (parent) parent.appendChild(node);
    return node;
  }
  function utc(us) {
    return new Date(originMs + us / 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
  }
  function two(n, width) {
    return String(n).padStart(width || 2, '0');
  }
  // The time axis: `2026-01-01 00:55:30.045` (the date on a segment's first tick) and the
  // offset since the origin, `+00:55:30.045` or `+3 d 04:00:00.000`.
  function tickText(us, full) {
    const iso = new Date(originMs + us / 1000).toISOString();
    const abs = full ? iso.slice(0, 10) + ' ' + iso.slice(11, 23) : iso.slice(11, 23);
    const ms = Math.floor(us / 1000);
    const s = Math.floor(ms / 1000);
    const m = Math.floor(s / 60);
    const h = Math.floor(m / 60);
    const d = Math.floor(h / 24);
    const clock = two(h % 24) + ':' + two(m % 60) + ':' + two(s % 60) + '.' + two(ms % 1000, 3);
    return [abs, d > 0 ? '+' + d + ' d ' + clock : '+' + clock];
  }
  function offset(us) {
    return '+' + (us / 1e6).toFixed(3) + ' s';
  }
  function clip(str, n) {
    return str.length > n ? str.slice(0, n - 1) + '…' : str;
  }
  // A record item carries only its JSON line (as the tunnel wrote it); its fields are read
  // from it once, when it is first painted or shown.
  function record(item) {
    if (!item.parsed) {
      try {
        item.parsed = JSON.parse(item.json);
      } catch (e) {
        item.parsed = { details: item.json, ike_phase1_state: '?', ike_phase2_state: '?' };
      }
    }
    return item.parsed;
  }
  function laneName(i) {
    return lanes[i] ? lanes[i].name : 'lane ' + i;
  }

  // The lane heads, sticky above the diagram.
  const heads = document.getElementById('lanes');
  heads.style.width = data.width + 'px';
  lanes.forEach((lane) => {
    const head = html('div', 'lane-head ' + lane.kind, undefined, heads);
    head.style.left = (lane.x - 150) + 'px';
    html('b', '', lane.name, head);
    html('span', '', lane.address, head);
    head.title = lane.name + ' ' + lane.address;
  });

  // One arrowhead per style, shared by every <svg> of the page.
  const defs = svg('svg', { width: 0, height: 0, 'aria-hidden': 'true' });
  defs.style.position = 'absolute';
  const markerDefs = svg('defs', {}, defs);
  for (const style of ['plain', 'reply', 'retx', 'dup', 'delayed']) {
    const marker = svg('marker', {
      id: 'head-' + style, viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse',
    }, markerDefs);
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'head ' + style }, marker);
  }
  document.body.insertBefore(defs, document.body.firstChild);

  function paintDatagram(g, d) {
    const x0 = lanes[d.from].x;
    const x1 = lanes[d.to].x;
    const shape = data.shapes[d.shape];
    const delay = d.delay !== undefined ? d.delay : 0;
    const delayed = d.delayed === true;
    const reply = d.reply === true;
    let style = reply ? 'reply' : 'plain';
    const classes = ['dg'];
    if (reply) classes.push('reply');
    if (d.tx > 1) { classes.push('retx'); style = 'retx'; }
    if (d.dup) { classes.push('dup'); style = 'dup'; }
    if (delayed) { classes.push('delayed'); style = 'delayed'; }
    if (d.lost !== undefined) classes.push('lost');
    g.setAttribute('class', classes.join(' '));
    let prefix = '';
    if (d.tx > 1) prefix += '↻ retransmission ' + (d.tx - 1) + ': ';
    if (d.dup) prefix += '⇉ duplicate: ';
    const mid = (x0 + x1) / 2;
    text(g, mid, d.y0 - 19, prefix + d.label, 'label', 'middle');
    if (shape.line) text(g, mid, d.y0 - 7, clip(shape.line, 52), 'payloads', 'middle');
    let x2 = x1;
    let y2 = d.y1;
    if (d.lost !== undefined) {
      x2 = mid;
      y2 = (d.y0 + d.y1) / 2;
      svg('line', { x1: x0, y1: d.y0, x2: x2, y2: y2, class: 'shaft' }, g);
      svg('path', { d: `M${x2 - 5},${y2 - 5} L${x2 + 5},${y2 + 5} M${x2 + 5},${y2 - 5} L${x2 - 5},${y2 + 5}`, class: 'cross' }, g);
      text(g, x2 + 9, y2 + 13, '✕ lost: ' + d.lost, 'lost-why');
    } else {
      svg('line', { x1: x0, y1: d.y0, x2: x1, y2: d.y1, class: 'shaft', 'marker-end': 'url(#head-' + style + ')' }, g);
      if (delayed) text(g, x1 + (x0 < x1 ? -8 : 8), d.y1 + 12, '◷ +' + (delay / 1000).toFixed(0) + ' ms', 'delay', x0 < x1 ? 'end' : 'start');
    }
    if (d.via !== undefined && lanes[d.via]) {
      const xv = lanes[d.via].x;
      if (d.lost === undefined || (xv - x0) * (x2 - xv) >= 0) {
        const yv = d.y0 + (y2 - d.y0) * (xv - x0) / ((x2 - x0) || 1);
        svg('circle', { cx: xv, cy: yv, r: 3, class: 'via' }, g);
      }
    }
    svg('line', { x1: x0, y1: d.y0, x2: x2, y2: y2, class: 'hit' }, g);
    let words = prefix + d.label + (shape.line ? ' ' + shape.line : '') + ', ' + laneName(d.from) + ' to ' + laneName(d.to);
    words += d.lost !== undefined ? ', lost: ' + d.lost : '';
    g.setAttribute('aria-label', words);
    svg('title', {}, g).textContent = words;
  }

  function paintMark(g, x, y, cls, str, full) {
    g.setAttribute('class', cls);
    if (cls === 'timer') svg('circle', { cx: x, cy: y, r: 4.5 }, g);
    else svg('rect', { x: x - 4, y: y - 4, width: 8, height: 8, transform: `rotate(45 ${x} ${y})` }, g);
    text(g, x + 10, y + 4, str);
    svg('rect', { x: x - 8, y: y - 8, width: Math.min(8 + str.length * 6.7, data.width - x) + 12, height: 16, class: 'hit' }, g);
    g.setAttribute('aria-label', full);
    svg('title', {}, g).textContent = full;
  }

  function paint(si) {
    const seg = data.segments[si];
    const root = svg('svg', { width: data.width, height: seg.height, class: 'ladder' });
    root.setAttribute('role', 'group');
    const laneGroup = svg('g', { 'aria-hidden': 'true' }, root);
    for (const lane of lanes) {
      svg('line', { x1: lane.x, y1: 0, x2: lane.x, y2: seg.height, class: 'lane-line ' + lane.kind }, laneGroup);
    }
    const tickGroup = svg('g', { 'aria-hidden': 'true' }, root);
    let lastMs = null;
    for (const item of seg.items) {
      if (item.k === 'g') continue;
      const ms = Math.floor(item.at / 1000);
      if (ms === lastMs) continue;
      const [abs, off] = tickText(item.at, lastMs === null);
      lastMs = ms;
      const t = text(tickGroup, 8, (item.k === 'd' ? item.y0 : item.y) + 4, abs + ' ', 'tick');
      svg('tspan', { class: 'off' }, t).textContent = off;
    }
    seg.items.forEach((item, ii) => {
      const g = svg('g', {}, root);
      if (item.k !== 'g') {
        g.setAttribute('tabindex', '0');
        g.setAttribute('role', 'button');
        g.setAttribute('data-item', si + ':' + ii);
      }
      if (item.k === 'd') {
        paintDatagram(g, item);
      } else if (item.k === 't') {
        paintMark(g, lanes[item.lane].x, item.y, 'timer', '◔ ' + item.timer + ' timer fired',
          item.timer + ' timer fired on ' + laneName(item.lane) + (item.sa ? ' (' + item.sa + ')' : ''));
      } else if (item.k === 'r') {
        const r = record(item);
        paintMark(g, lanes[item.lane].x, item.y, 'rec', '◆ ' + clip(r.details, 80),
          'AWS log record: ' + r.details + ' (phase 1 ' + r.ike_phase1_state + ', phase 2 ' + r.ike_phase2_state + ')');
      } else if (item.k === 'g') {
        g.setAttribute('class', 'gap');
        svg('line', { x1: lanes.length ? lanes[0].x - 40 : 0, y1: item.y - 4, x2: data.width - 40, y2: item.y - 4 }, g);
        text(g, 8, item.y, '⋮ ' + item.text);
      }
    });
    items[si] = seg.items;
    return root;
  }

  function barText(seg, open) {
    return (open ? '▾ ' : '▸ ') + seg.label + (open ? ' (click to collapse)' : ' (click to expand)');
  }

  function setOpen(section, open) {
    const si = Number(section.dataset.segment);
    const seg = data.segments[si];
    const bar = section.querySelector('.bar');
    let drawn = section.querySelector('svg');
    if (open && !drawn) {
      drawn = paint(si);
      section.appendChild(drawn);
    }
    if (drawn) drawn.style.display = open ? '' : 'none';
    bar.setAttribute('aria-expanded', open ? 'true' : 'false');
    bar.firstChild.textContent = barText(seg, open);
    section.classList.toggle('open', open);
  }

  data.segments.forEach((seg, si) => {
    const section = html('section', 'segment', undefined, segmentsBox);
    section.dataset.segment = String(si);
    if (seg.collapsed) {
      section.classList.add('collapsed');
      const bar = html('button', 'bar', undefined, section);
      bar.type = 'button';
      bar.setAttribute('aria-expanded', 'false');
      bar.appendChild(document.createTextNode(barText(seg, false)));
      html('span', 'when', utc(seg.from_us) + ' – ' + utc(seg.to_us), bar);
      bar.addEventListener('click', () => setOpen(section, !section.classList.contains('open')));
    } else {
      section.appendChild(paint(si));
    }
  });

  function expandAll() {
    document.querySelectorAll('section.collapsed').forEach((s) => setOpen(s, true));
  }
  document.getElementById('expand-all').addEventListener('click', expandAll);
  // FILE.html#expand-all opens with every stretch expanded (for printing a whole run).
  if (location.hash === '#expand-all') expandAll();
  document.getElementById('collapse-all').addEventListener('click', () => {
    document.querySelectorAll('section.collapsed').forEach((s) => setOpen(s, false));
  });

  // The detail pane.
  function dl(pairs, parent) {
    const list = html('dl', '', undefined, parent);
    for (const [k, v] of pairs) {
      html('dt', '', k, list);
      html('dd', '', v, list);
    }
  }
  function show(node) {
    const [si, ii] = node.dataset.item.split(':').map(Number);
    const item = items[si][ii];
    detail.replaceChildren();
    if (pinned === node) html('p', 'pinned', 'Kept (click again or press Escape to let go)', detail);
    if (item.k === 'd') {
      const shape = data.shapes[item.shape];
      html('h2', '', (item.tx > 1 ? '↻ ' : '') + item.label, detail);
      const fate = item.lost !== undefined
        ? 'lost (' + item.lost + ')'
        : 'delivered ' + utc(item.at + item.delay) + ' (after ' + (item.delay / 1000).toFixed(3) + ' ms)';
      dl([
        ['from', laneName(item.from) + ' ' + shape.src],
        ['to', laneName(item.to) + ' ' + shape.dst],
        ['via', item.via !== undefined ? laneName(item.via) : '—'],
        ['sent', utc(item.at) + ' (' + offset(item.at) + ')'],
        ['fate', fate],
        ['transmission', item.tx === 1 ? 'first' : 'retransmission ' + (item.tx - 1)],
        ['duplicate', item.dup ? 'yes: the extra copy a duplicating path made' : 'no'],
        ['length', shape.len + ' bytes'],
        ['SPIs', shape.spis],
        ['protection', shape.protection],
      ], detail);
      if (shape.line) html('pre', '', shape.line, detail);
      for (const pi of shape.payloads) {
        const p = data.payloads[pi];
        const [name, summary, more, encrypted] = [p.name, p.summary, p.detail, p.encrypted];
        const box = html('div', 'payload', undefined, detail);
        html('b', '', name, box);
        if (summary) box.appendChild(document.createTextNode(' ' + summary));
        if (encrypted) html('span', 'enc', ' (inside SK)', box);
        if (more) html('pre', '', more, box);
      }
    } else if (item.k === 'r') {
      const r = record(item);
      html('h2', '', 'AWS log record', detail);
      dl([
        ['lane', laneName(item.lane)],
        ['stream', data.streams[item.stream]],
        ['written', utc(item.at) + ' (' + offset(item.at) + ')'],
        ['details', r.details],
        ['phase 1', r.ike_phase1_state],
        ['phase 2', r.ike_phase2_state],
      ], detail);
      html('pre', '', item.json, detail);
    } else if (item.k === 't') {
      html('h2', '', '◔ ' + item.timer + ' timer fired', detail);
      dl([
        ['lane', laneName(item.lane)],
        ['SA', item.sa || '—'],
        ['at', utc(item.at) + ' (' + offset(item.at) + ')'],
      ], detail);
    }
  }
  function target(e) {
    return e.target instanceof Element ? e.target.closest('[data-item]') : null;
  }
  function pin(node) {
    if (pinned) pinned.classList.remove('selected');
    pinned = pinned === node ? null : node;
    if (pinned) pinned.classList.add('selected');
    show(node);
  }
  diagram.addEventListener('mouseover', (e) => {
    const node = target(e);
    if (node && !pinned) show(node);
  });
  diagram.addEventListener('focusin', (e) => {
    const node = target(e);
    if (node && !pinned) show(node);
  });
  diagram.addEventListener('click', (e) => {
    const node = target(e);
    if (node) pin(node);
  });
  diagram.addEventListener('keydown', (e) => {
    const node = target(e);
    if (node && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      pin(node);
    } else if (e.key === 'Escape' && pinned) {
      pinned.classList.remove('selected');
      const was = pinned;
      pinned = null;
      show(was);
    }
  });

  // FILE.html#show=SEGMENT:ITEM opens with that arrow, mark or record kept in the detail
  // pane (its stretch expanded): a link to one message.
  const wanted = /^#show=(\d+):(\d+)$/.exec(location.hash);
  if (wanted) {
    const section = segmentsBox.querySelector('section[data-segment="' + wanted[1] + '"]');
    if (section && section.classList.contains('collapsed')) setOpen(section, true);
    const node = diagram.querySelector('[data-item="' + wanted[1] + ':' + wanted[2] + '"]');
    if (node) {
      pin(node);
      node.focus();
    } else {
      report('#show: no item ' + wanted[1] + ':' + wanted[2] + ' on this page');
    }
  }

  // The ESP density bands (render/band.rs laid them out): one strip per tunnel and
  // direction, a bucket per column, shaded by its counts, its numbers in its tooltip.
  const espBox = document.getElementById('esp');
  if (espBox && data.esp) {
    const e = data.esp;
    const px = e.cell_px;
    const width = e.columns * px;
    for (const band of e.bands) {
      const box = html('div', 'esp-band', undefined, espBox);
      box.dataset.tunnel = String(band.tunnel + 1);
      box.dataset.direction = band.direction;
      html('p', 'esp-label', band.label, box);
      const strip = svg('svg', { class: 'esp', width: width, height: 18, role: 'img' }, box);
      strip.setAttribute('aria-label', band.label);
      svg('rect', { class: 'esp-bg', x: 0, y: 0, width: width, height: 18 }, strip);
      for (const c of band.cells) {
        const g = svg('g', { class: 'esp-cell', 'data-bucket': c.i }, strip);
        const tip = svg('title', {}, g);
        tip.textContent = c.tip;
        if (c.ok > 0) {
          svg('rect', { class: 'esp-ok', x: c.i * px, y: 0, width: px, height: 12, 'fill-opacity': c.ok }, g);
        }
        if (c.bad > 0) {
          svg('rect', {
            class: c.dropped ? 'esp-drop' : 'esp-lost',
            x: c.i * px, y: 12, width: px, height: 6, 'fill-opacity': c.bad,
          }, g);
        }
      }
    }
    const axis = svg('svg', { class: 'esp-axis', width: width + 80, height: 16 }, espBox);
    for (const [i, label] of e.ticks) {
      svg('line', { x1: i * px, y1: 0, x2: i * px, y2: 4 }, axis);
      text(axis, i * px, 14, label, null, i === 0 ? 'start' : 'middle');
    }
  }

  // How long the page took to open, for docs/timeline.md's figure and the browser test.
  const status = document.getElementById('render-status');
  const ms = performance.now();
  status.dataset.status = 'rendered';
  status.dataset.ms = ms.toFixed(1);
  const segments = data.segments.length;
  status.textContent = 'Drawn in ' + ms.toFixed(0) + ' ms (' + segments
    + (segments === 1 ? ' segment, ' : ' segments, ')
    + document.querySelectorAll('[data-item]').length + ' items shown).';
})();
