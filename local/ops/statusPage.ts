/**
 * The status page served at `/`: one self-contained HTML document (no external assets) that polls `/status.json`
 * every second and draws throughput over the last minutes as an inline SVG chart, the totals, in-flight batches,
 * dead-letter counts per handler and each pool worker: busy or idle, the handler it runs (or last ran), batches served
 * and its DB connections (open, age, transactions served).
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Warren runner</title>
<style>
  :root { --bg: #0f172a; --panel: #1e293b; --text: #e2e8f0; --muted: #94a3b8; --ok: #22c55e; --bad: #ef4444; --accent: #38bdf8; --warn: #f59e0b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px; border-bottom: 1px solid #334155; }
  header h1 { margin: 0; font-size: 18px; }
  header .muted { color: var(--muted); }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
  .card, section { background: var(--panel); border-radius: 8px; padding: 12px 14px; }
  .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 26px; font-variant-numeric: tabular-nums; margin-top: 2px; }
  section h2 { margin: 0 0 8px; font-size: 14px; color: var(--muted); font-weight: 600; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #334155; }
  th:first-child, td:first-child { text-align: left; }
  th { color: var(--muted); font-weight: 500; }
  .up { color: var(--ok); } .down { color: var(--bad); } .dl { color: var(--warn); }
  svg { width: 100%; height: 220px; display: block; }
</style>
</head>
<body>
<header><h1>Warren runner</h1><span id="broker" class="muted">connecting...</span><span id="updated" class="muted"></span></header>
<main>
  <div class="cards">
    <div class="card"><div class="label">msg/s (5 s)</div><div class="value" id="rate">-</div></div>
    <div class="card"><div class="label">acked</div><div class="value" id="acked">-</div></div>
    <div class="card"><div class="label">in-flight batches</div><div class="value" id="inflight">-</div></div>
    <div class="card"><div class="label">dead-lettered</div><div class="value dl" id="deadlettered">-</div></div>
    <div class="card"><div class="label">duplicates</div><div class="value" id="deduplicated">-</div></div>
    <div class="card"><div class="label">failed batches</div><div class="value" id="failed">-</div></div>
    <div class="card"><div class="label">workers / db</div><div class="value" id="workers">-</div></div>
  </div>
  <section><h2>Throughput, acked messages per second (last <span id="window">5</span> min)</h2>
    <svg id="chart" viewBox="0 0 900 220" preserveAspectRatio="none" role="img" aria-label="throughput chart"></svg>
  </section>
  <section><h2>Handlers</h2><table id="handlers"><thead><tr><th>handler</th><th>shards</th><th>acked</th><th>committed</th>
    <th>duplicates</th><th>dead-lettered</th><th>failed batches</th><th>in-flight batches</th><th>in-flight messages</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Workers (the pool runs every handler; one MySQL connection per database each)</h2><table id="workertable"><thead><tr><th>worker</th><th>pid / thread</th><th>state</th>
    <th>handler</th><th>in flight</th><th>batches</th><th>db conns</th><th>db thread</th><th>connection age</th><th>served</th><th>connects</th><th>restarts</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => Number(n).toLocaleString('en-US');
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const age = (s) => s === null ? '-' : s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : (s / 3600).toFixed(1) + ' h';
const SVGNS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const node = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawChart(doc) {
  const svg = $('chart');
  const W = 900, H = 220, L = 48, B = 22, T = 10;
  const slots = 300;
  const points = doc.throughput.points.slice(-slots);
  const max = Math.max(10, ...points.map((p) => p.acked));
  const top = Math.pow(10, Math.floor(Math.log10(max))) * Math.ceil(max / Math.pow(10, Math.floor(Math.log10(max))));
  svg.replaceChildren();
  for (let i = 0; i <= 4; i += 1) {
    const y = T + ((H - B - T) * i) / 4;
    svg.append(el('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#334155', 'stroke-width': 1 }));
    svg.append(el('text', { x: L - 6, y: y + 4, fill: '#94a3b8', 'font-size': 11, 'text-anchor': 'end' }, fmt(Math.round(top * (1 - i / 4)))));
  }
  for (const [label, at] of [['-5 min', 0], ['-4', 60], ['-3', 120], ['-2', 180], ['-1', 240], ['now', 300]]) {
    svg.append(el('text', { x: L + ((W - L) * at) / slots, y: H - 6, fill: '#94a3b8', 'font-size': 11, 'text-anchor': at === 0 ? 'start' : at === 300 ? 'end' : 'middle' }, label));
  }
  const x = (i) => L + ((W - L) * (slots - points.length + i + 1)) / slots;
  const y = (v) => T + (H - B - T) * (1 - v / top);
  if (points.length > 0) {
    let line = 'M' + x(0) + ',' + y(points[0].acked);
    points.forEach((p, i) => { line += ' L' + x(i) + ',' + y(p.acked); });
    svg.append(el('path', { d: line + ' L' + x(points.length - 1) + ',' + y(0) + ' L' + x(0) + ',' + y(0) + ' Z', fill: 'rgba(56,189,248,0.25)', stroke: 'none' }));
    svg.append(el('path', { d: line, fill: 'none', stroke: '#38bdf8', 'stroke-width': 2 }));
    points.forEach((p, i) => { if (p.deadLettered > 0) svg.append(el('circle', { cx: x(i), cy: y(Math.min(top, p.deadLettered)), r: 3, fill: '#f59e0b' })); });
  }
}

function render(doc) {
  const t = doc.totals;
  $('rate').textContent = doc.messagesPerSecond.toFixed(1);
  $('acked').textContent = fmt(t.acked);
  $('inflight').textContent = fmt(doc.handlers.reduce((n, h) => n + h.inFlightBatches, 0)) + ' (' + fmt(t.inFlight) + ' msg)';
  $('deadlettered').textContent = fmt(t.deadLettered);
  $('deduplicated').textContent = fmt(t.deduplicated);
  $('failed').textContent = fmt(t.failedBatches);
  $('workers').textContent = t.workersAlive + '/' + t.workers + ' · ' + t.dbConnections;
  $('broker').innerHTML = t.brokerConnected ? '<span class="up">● broker connected</span>' : '<span class="down">● broker DOWN, reconnecting</span>';
  $('updated').textContent = 'up ' + age(doc.uptimeSeconds) + ' · ' + doc.time.slice(11, 19) + ' UTC';
  $('handlers').tBodies[0].innerHTML = doc.handlers.map((h) => '<tr><td>' + esc(h.name) + '</td><td>' + h.shards + '</td><td>' + fmt(h.acked) + '</td><td>' + fmt(h.committed) +
    '</td><td>' + fmt(h.deduplicated) + '</td><td class="dl">' + fmt(h.deadLettered) + '</td><td>' + fmt(h.failedBatches) + '</td><td>' + h.inFlightBatches + '</td><td>' + h.inFlightMessages + '</td></tr>').join('');
  $('workertable').tBodies[0].innerHTML = doc.workers.map((w) => '<tr><td>' + esc(w.id) + (w.group === 'shared' ? '' : ' <span class="muted">(dedicated)</span>') + '</td><td>' + (w.pid ?? (w.thread === null ? '-' : 'thread ' + w.thread)) + '</td><td class="' + (w.state === 'down' ? 'down' : 'up') + '">' +
    w.state + '</td><td>' + (w.handler === null ? '<span class="muted">-</span>' : w.state === 'busy' ? esc(w.handler) + ' <span class="muted">(' + esc(w.queue) + ')</span>' : '<span class="muted">' + esc(w.handler) + '</span>') +
    '</td><td>' + w.inFlightMessages + '</td><td>' + fmt(w.batches) + '</td><td>' + w.db.open + '</td><td>' + (w.db.connected ? w.db.threadId : '<span class="muted">none</span>') + '</td><td>' + age(w.db.ageSeconds) +
    '</td><td>' + fmt(w.db.served) + '</td><td>' + w.db.connects + '</td><td>' + w.restarts + '</td></tr>').join('');
  drawChart(doc);
}

async function refresh() {
  try {
    const res = await fetch('status.json', { cache: 'no-store' });
    render(await res.json());
  } catch (error) {
    $('broker').innerHTML = '<span class="down">● runner unreachable</span>';
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
