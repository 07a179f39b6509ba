/** The throughput bench's tables: per scenario, one line per row with medians, spreads and paired ratios. */
import type { Row } from './programs.js';
import type { Sample } from './run_row.js';
import { pairedRatios, showSpread, spread } from './stats.js';

export interface ScenarioResult {
  title: string;
  /** 'pps' for UDP rows, 'bps' for TCP rows. */
  unit: 'pps' | 'bps';
  rows: readonly Row[];
  /** Per row id, one entry per repetition (undefined where it failed or was skipped). */
  samples: Map<string, (Sample | undefined)[]>;
  skipped: Map<string, string>;
}

const rateText = (unit: 'pps' | 'bps') => (x: number): string =>
  unit === 'pps' ? `${Math.round(x / 1000).toLocaleString('en-US')}k` : `${(x / 1e9).toFixed(2)}G`;
const kpps = (x: number): string => `${Math.round(x / 1000).toLocaleString('en-US')}k`;
const us = (x: number): string => x.toFixed(2);
const ratio = (x: number): string => `${x.toFixed(2)}x`;
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function column<K extends keyof Sample>(xs: readonly (Sample | undefined)[], key: K): (Sample[K] | undefined)[] {
  return xs.map((s) => s?.[key]);
}

const defined = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);

/** The per-scenario table: every row's figures over the repetitions. */
export function scenarioTable(r: ScenarioResult): string {
  const unitName = r.unit === 'pps' ? 'packets/s' : 'bits/s';
  const lines = [`${r.title}`, `  ${'program'.padEnd(44)} ${unitName.padEnd(24)} ${'offered packets/s'.padEnd(20)} ${'loss'.padEnd(20)} ${'µs CPU/packet'.padEnd(20)} ${'listener busy'.padEnd(20)} ratio to ref: rate, CPU${r.unit === 'pps' ? '/packet' : '/byte'}`];
  for (const row of r.rows) {
    const skip = r.skipped.get(row.id);
    if (skip !== undefined) {
      lines.push(`  ${row.label.padEnd(44)} skipped: ${skip}`);
      continue;
    }
    const xs = r.samples.get(row.id) ?? [];
    const ref = row.ref === undefined ? undefined : r.samples.get(row.ref);
    const refLabel = r.rows.find((x) => x.id === row.ref)?.label ?? '';
    let tail = '';
    if (ref) {
      const rates = pairedRatios(column(xs, 'rate'), column(ref, 'rate'));
      const cpus = pairedRatios(column(xs, 'cpuForRatio'), column(ref, 'cpuForRatio'));
      tail = `${showSpread(rates, ratio)}, ${showSpread(cpus, ratio)} (vs ${refLabel})`;
    }
    lines.push(`  ${row.label.padEnd(44)} ${showSpread(defined(column(xs, 'rate')), rateText(r.unit)).padEnd(24)} ${showSpread(defined(column(xs, 'offered')), kpps).padEnd(20)} ${showSpread(defined(column(xs, 'loss')), pct).padEnd(20)} ${showSpread(defined(column(xs, 'cpuUsPerPacket')), us).padEnd(20)} ${showSpread(defined(column(xs, 'busy')), pct).padEnd(20)} ${tail}`);
  }
  return lines.join('\n');
}

/** The compact summary: medians only, one line per row of every scenario. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const lines = [`${'scenario'.padEnd(10)} ${'program'.padEnd(44)} ${'rate'.padStart(9)} ${'offered'.padStart(8)} ${'loss'.padStart(7)} ${'µs/pkt'.padStart(7)} ${'×ref'.padStart(6)} ${'CPU×ref'.padStart(8)}`];
  for (const r of results) {
    const name = r.title.split(':')[0]!.slice(0, 10);
    for (const row of r.rows) {
      const skip = r.skipped.get(row.id);
      if (skip !== undefined) {
        lines.push(`${name.padEnd(10)} ${row.label.padEnd(44)} skipped`);
        continue;
      }
      const xs = r.samples.get(row.id) ?? [];
      const med = (k: 'rate' | 'offered' | 'loss' | 'cpuUsPerPacket'): number | undefined => {
        const v = defined(column(xs, k));
        return v.length ? spread(v).median : undefined;
      };
      const ref = row.ref === undefined ? undefined : r.samples.get(row.ref);
      const medRatio = (k: 'rate' | 'cpuForRatio'): string => {
        const v = ref ? pairedRatios(column(xs, k), column(ref, k)) : [];
        return v.length ? ratio(spread(v).median) : '';
      };
      const rate = med('rate');
      const offered = med('offered');
      const loss = med('loss');
      const cpu = med('cpuUsPerPacket');
      lines.push(`${name.padEnd(10)} ${row.label.padEnd(44)} ${(rate === undefined ? '–' : rateText(r.unit)(rate)).padStart(9)} ${(offered === undefined ? '' : kpps(offered)).padStart(8)} ${(loss === undefined ? '' : pct(loss)).padStart(7)} ${(cpu === undefined ? '' : us(cpu)).padStart(7)} ${medRatio('rate').padStart(6)} ${medRatio('cpuForRatio').padStart(8)}`);
    }
  }
  return lines.join('\n');
}
