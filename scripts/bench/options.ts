// The command line of `npm run bench` (see the head of scripts/bench.ts).
import { envValue } from '../../infra/config-schema';

export interface Options {
  json: boolean;
  /** Open cases to hold for the memory figures; undefined: the speed figures. */
  open?: number;
  address?: string;
  n: number;
  concurrency: number;
  /**
   * The speed figures are measured in this many rounds, each taking its share of every series in turn, the order
   * reversed from one round to the next: a machine that slows down or speeds up meanwhile weighs on every series
   * alike instead of on whichever ran last.
   */
  rounds: number;
}

export function parseOptions(argv: string[]): Options {
  const o: Options = {
    json: false,
    n: envValue('BENCH_N'),
    concurrency: envValue('BENCH_CONCURRENCY'),
    rounds: 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      i++;
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--open') o.open = /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 10_000;
    else if (a.startsWith('--open=')) o.open = Number(a.slice('--open='.length));
    else if (a === '--address') o.address = value();
    else if (a === '--n') o.n = Number(value());
    else if (a === '--concurrency') o.concurrency = Number(value());
    else if (a === '--rounds') o.rounds = Number(value());
    else throw new Error(`unknown option ${a} (see the head of scripts/bench.ts)`);
  }
  for (const [name, v] of [
    ['n', o.n],
    ['concurrency', o.concurrency],
    ['rounds', o.rounds],
    ['open', o.open ?? 1],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return o;
}
