// What `npm run bench` prints: the progress line on stderr, figures with their targets (ratio and PASS/FAIL),
// and the table they make.
import type { Run } from './load';

/** One line that rewrites itself on a terminal; on a pipe, one line when a phase starts. */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private label = '';
  private last = 0;
  phase(label: string): void {
    this.end();
    this.label = label;
    if (!this.tty) process.stderr.write(`[bench] ${label}...\n`);
  }
  tick(done: number, total: number): void {
    const now = Date.now();
    if (!this.tty || (now - this.last < 200 && done < total)) return;
    this.last = now;
    process.stderr.write(`\r\x1b[2K[bench] ${this.label}: ${done}/${total}`);
  }
  end(): void {
    if (this.tty && this.label) process.stderr.write('\r\x1b[2K');
    this.label = '';
  }
}

export const quantile = (ms: number[], p: number): number => {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
export const p50 = (r: Run) => quantile(r.latencies, 0.5);
export const p95 = (r: Run) => quantile(r.latencies, 0.95);
export const p99 = (r: Run) => quantile(r.latencies, 0.99);

export const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** A run in figures, for the JSON document and the notes. */
export const summary = (r: Run) => ({
  n: r.latencies.length,
  perSecond: round(r.perSecond),
  p50: round(p50(r), 2),
  p95: round(p95(r), 2),
  p99: round(p99(r), 2),
});

export interface Figure {
  /** The targets it belongs to (a heading in the table). */
  group: string;
  figure: string;
  unit: string;
  /** What it is compared with, measured in the same run. */
  floor?: number;
  floorName?: string;
  cordon: number;
  target: string;
  /** cordon / floor where there is a floor. */
  ratio?: number;
  pass?: boolean;
}

/** A figure held to a multiple of what it is compared with (lowerIsBetter: at most, else at least). */
export function vsFloor(
  group: string,
  figure: string,
  unit: string,
  floor: { value: number; name: string },
  cordon: number,
  bound: number,
  lowerIsBetter: boolean,
): Figure {
  const ratio = cordon / floor.value;
  return {
    group,
    figure,
    unit,
    floor: floor.value,
    floorName: floor.name,
    cordon,
    ratio,
    target: `${lowerIsBetter ? '≤' : '≥'} ${bound}× ${floor.name}`,
    pass: lowerIsBetter ? ratio <= bound : ratio >= bound,
  };
}

/** A figure held to a fixed bound, shown beside a floor when there is one. */
export function absolute(
  group: string,
  figure: string,
  unit: string,
  cordon: number,
  bound: number,
  atMost: boolean,
  floor?: { value: number; name: string },
): Figure {
  return {
    group,
    figure,
    unit,
    floor: floor?.value,
    floorName: floor?.name,
    cordon,
    ratio: floor === undefined ? undefined : cordon / floor.value,
    target: `${atMost ? '≤' : '≥'} ${bound} ${unit}`,
    pass: atMost ? cordon <= bound : cordon >= bound,
  };
}

const grouped = (x: number) => round(x).toLocaleString('en');

export function table(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.figure,
    f.floor === undefined ? '—' : `${grouped(f.floor)} ${f.unit}${f.floorName ? ` (${f.floorName})` : ''}`,
    `${grouped(f.cordon)} ${f.unit}`,
    f.ratio === undefined ? '' : `${round(f.ratio, 2)}×`,
    f.target,
    f.pass === undefined ? '' : f.pass ? 'PASS' : 'FAIL',
  ]);
  const head = ['figure', 'compared with', 'cordon', 'ratio', 'target', ''];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))];
  figures.forEach((f, i) => {
    if (i === 0 || figures[i - 1]!.group !== f.group) out.push(`${i === 0 ? '' : '\n'}${f.group}`);
    out.push(line(rows[i]!));
  });
  return out.join('\n');
}

export const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
