/** The bench's outputs: the table on stdout, `latest.json`, and the bar chart `latest.svg` (hand-written SVG). */
import type { Profile, RatioDefinition } from './contenders.js';
import type { ContenderResult } from './runContender.js';

export interface RatioResult {
  readonly name: string;
  readonly value: number | null;
  /** The target in this profile, or null (diagnostic). */
  readonly target: number | null;
  /** True when the value must be at most the target. */
  readonly atMost: boolean;
  readonly met: boolean | null;
}

/** Each line of `ratios` for the results of one run in `profile` with W = `workers`. */
export function computeRatios(results: readonly ContenderResult[], ratios: readonly RatioDefinition[], profile: Profile, workers: number): RatioResult[] {
  return ratios.map((r) => {
    const metric = r.metric ?? 'messagesPerSecond';
    const figure = (name: string) => results.find((c) => c.name === name)?.[metric] ?? undefined;
    const of = figure(r.of);
    const over = r.over === undefined ? 1 : figure(r.over);
    const value = of === undefined || over === undefined || over === 0 ? null : Math.round((of / over) * 100) / 100;
    const applies = r.profiles === undefined || r.profiles.includes(profile);
    const target = !applies || r.target === undefined ? null : typeof r.target === 'number' ? r.target : r.target({ workers });
    const atMost = r.atMost === true;
    return { name: r.name, value, target, atMost, met: value === null || target === null ? null : atMost ? value <= target : value >= target };
  });
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A fixed-width table of the results (also valid Markdown). */
export function formatTable(results: readonly ContenderResult[]): string {
  const head = ['contender', 'msg/s', 'p50 ms', 'p99 ms', 'latency at', 'DB conns (own)', 'RSS MB', 'worker RSS MB', 'total RSS MB', 'CPU ms/msg app+db+mq+proxy'];
  const rows = results.map((r) => [
    r.name,
    String(r.messagesPerSecond),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    `${r.latencyRate}/s`,
    // The server's count is server-wide; when others connected meanwhile, the contender's own count follows.
    r.connectionsOpened === r.clientConnects ? String(r.connectionsOpened) : `${r.connectionsOpened} (${r.clientConnects})`,
    r.peakRssMb.toFixed(0),
    r.workerPeakRssMb === null ? '-' : r.workerPeakRssMb.toFixed(0),
    r.totalPeakRssMb.toFixed(0),
    [r.cpuMsPerMessage.contender, r.cpuMsPerMessage.mariadb, r.cpuMsPerMessage.rabbitmq, r.cpuMsPerMessage.proxy].map((v) => v.toFixed(2)).join(' + '),
  ]);
  return markdownTable(head, rows);
}

/** What each message costs the database (server counters) and the memory and connections of the process tree. */
export function formatCostTable(results: readonly ContenderResult[]): string {
  const head = ['contender', 'statements/msg', 'commits/msg', 'data fsyncs/msg', 'handlers', 'DB threads (peak)', 'tree RSS MB peak', 'tree RSS MB mean', 'proxy one-way ms'];
  const rows = results.map((r) => [
    r.name,
    r.statementsPerMessage.toFixed(2),
    r.commitsPerMessage === null ? '-' : r.commitsPerMessage.toFixed(2),
    r.dataFsyncsPerMessage.toFixed(2),
    String(r.handlers),
    `${r.dbThreadsSeen} (${r.dbThreadsPeak})`,
    r.treeRssPeakMb.toFixed(0),
    r.treeRssMeanMb.toFixed(0),
    r.proxyDelay === null ? '-' : r.proxyDelay.meanOneWayMs.toFixed(2),
  ]);
  return markdownTable(head, rows);
}

function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => pad(c, widths[i] ?? 0, i > 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i > 0 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The targets table (Markdown): each line's value, its target in this profile and whether it was met. */
export function formatRatios(ratios: readonly RatioResult[]): string {
  const rows = ratios.map((r) => [
    r.name,
    r.value === null ? 'n/a' : String(r.value),
    r.target === null ? '-' : `${r.atMost ? '<=' : '>='} ${r.target}`,
    r.met !== null ? (r.met ? 'met' : 'MISSED') : r.target === null ? 'diagnostic' : 'not run',
  ]);
  return markdownTable(['ratio', 'value', 'target', ''], rows);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A horizontal bar chart of messages/s per contender on a log scale (the contenders span 100 to 40,000 msg/s), with
 * gridlines at the powers of ten and the value at the end of each bar.
 */
export function barChartSvg(results: readonly ContenderResult[], subtitle: string): string {
  const width = 760;
  const left = 110;
  const right = 90;
  const top = 64;
  const bar = 26;
  const gap = 10;
  const height = top + results.length * (bar + gap) + 34;
  const floor = 10;
  const maxExp = Math.max(3, Math.ceil(Math.log10(Math.max(floor, ...results.map((r) => r.messagesPerSecond)))));
  const x = (value: number) => left + ((Math.log10(Math.max(floor, value)) - 1) / (maxExp - 1)) * (width - left - right);
  const colour = (name: string) => (name === 'warren' || name.startsWith('warren-') || ['noop', 'batch', 'many'].includes(name) ? '#d9822b' : '#7a8a99');
  const grid: string[] = [];
  for (let e = 1; e <= maxExp; e += 1) {
    const gx = x(10 ** e).toFixed(1);
    grid.push(`  <line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 28}" stroke="#dddddd"/>`);
    grid.push(`  <text x="${gx}" y="${height - 12}" text-anchor="middle" fill="#555555">${(10 ** e).toLocaleString('en-US')}</text>`);
  }
  const bars = results.map((r, i) => {
    const y = top + i * (bar + gap);
    const end = x(r.messagesPerSecond);
    return [
      `  <text x="${left - 8}" y="${y + bar / 2 + 5}" text-anchor="end">${escapeXml(r.name)}</text>`,
      `  <rect x="${left}" y="${y}" width="${Math.max(1, end - left).toFixed(1)}" height="${bar}" fill="${colour(r.name)}"/>`,
      `  <text x="${(end + 6).toFixed(1)}" y="${y + bar / 2 + 5}">${r.messagesPerSecond.toLocaleString('en-US')}</text>`,
    ].join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `  <rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `  <text x="${left}" y="22" font-size="16" font-weight="bold">Messages per second (log scale, higher is better)</text>`,
    `  <text x="${left}" y="40" fill="#555555">${escapeXml(subtitle)}</text>`,
    ...grid,
    ...bars,
    `  <line x1="${left}" y1="${top - 6}" x2="${left}" y2="${height - 28}" stroke="#333333"/>`,
    '</svg>',
    '',
  ].join('\n');
}
