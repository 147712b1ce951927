// Options of `npm run chaos`, from the command line.
import { resolve } from 'node:path';

export interface ChaosOptions {
  /** Cases to drive through their lifecycle. */
  cases: number;
  /** The worker is SIGKILLed after a random wait in this range (ms), again and again. */
  killEveryMs: [number, number];
  /** Hard stop: the run ends (and fails if unfinished) after this many minutes, whatever happens. */
  minutes: number;
  /** Print the report as one JSON line on stdout (the table goes to stderr). */
  json: boolean;
  /** Accounts driven at once. */
  concurrency: number;
  /** The API is restarted (alternately SIGTERM and SIGKILL) after a random wait in this range (ms). */
  apiRestartEveryMs: [number, number];
  /** How long the messaging receiver is down (first half answering 503, then refusing connections). */
  messagingDownMs: number;
  /** Dev server restarts on its SQLite file during the run. */
  serverRestarts: number;
  /** Share of successful requests the driver deliberately sends a second time with the same key. */
  resendRate: number;
  /** Share of receiver requests answered 503 before, or cut off after, being processed. */
  flakyRate: number;
  /** Seed of the case plan (which flows, in which order). */
  seed: number;
  /** Keep the data folder (Temporal and Cordon SQLite files, process logs) even after a clean run. */
  keep: boolean;
  /** Another workflows module to bundle instead of workflows/ (to try a workflow change under chaos). */
  workflowsPath?: string;
  /** Busy processes beside the run for its whole length (0: none): the run on a loaded machine. */
  cpuLoad: number;
}

export const DEFAULTS: ChaosOptions = {
  cases: 1000,
  killEveryMs: [15_000, 30_000],
  minutes: 10,
  json: false,
  concurrency: 64,
  apiRestartEveryMs: [45_000, 75_000],
  messagingDownMs: 30_000,
  serverRestarts: 1,
  resendRate: 0.05,
  flakyRate: 0.01,
  seed: 1,
  keep: false,
  cpuLoad: 0,
};

export const USAGE = `npm run chaos -- [options]

  --cases N                  cases to drive (default ${DEFAULTS.cases})
  --kill-every-ms MIN-MAX    SIGKILL the worker every MIN..MAX ms (default ${DEFAULTS.killEveryMs.join('-')})
  --minutes M                hard stop after M minutes (default ${DEFAULTS.minutes})
  --json                     the report as one JSON line on stdout
  --concurrency N            accounts driven at once (default ${DEFAULTS.concurrency})
  --api-restart-every-ms MIN-MAX
                             restart the API every MIN..MAX ms (default ${DEFAULTS.apiRestartEveryMs.join('-')})
  --messaging-down-ms MS     messaging receiver outage (default ${DEFAULTS.messagingDownMs})
  --server-restarts N        dev server restarts on its SQLite file (default ${DEFAULTS.serverRestarts})
  --resend-rate R            share of requests deliberately resent with the same key (default ${DEFAULTS.resendRate})
  --flaky-rate R             share of receiver calls answered 503 or cut off (default ${DEFAULTS.flakyRate})
  --seed N                   seed of the case plan (default ${DEFAULTS.seed})
  --keep                     keep the data folder and logs after a clean run
  --workflows-path FILE      bundle this workflows module instead of workflows/ (to try a change under chaos)
  --cpu-load N               N processes keep a core busy each for the whole run (default 0; the release
                             gate runs with 2 on this project's 2 cores)
`;

function range(flag: string, text: string | undefined): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text ?? '');
  if (!match) throw new Error(`${flag} expects MIN-MAX in milliseconds, e.g. 15000-30000`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 1000 || max < min) throw new Error(`${flag}: need 1000 <= MIN <= MAX`);
  return [min, max];
}

function number(flag: string, text: string | undefined, min: number, max: number, integer = true): number {
  const value = Number(text);
  if (
    text === undefined ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  )
    throw new Error(`${flag} expects ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return value;
}

/** Parses argv (without node and the script); throws with a message naming the flag on bad input. */
export function parseOptions(argv: string[]): ChaosOptions | 'help' {
  const o: ChaosOptions = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--cases':
        o.cases = number(flag, value(), 1, 100_000);
        break;
      case '--kill-every-ms':
        o.killEveryMs = range(flag, value());
        break;
      case '--minutes':
        o.minutes = number(flag, value(), 1, 120, false);
        break;
      case '--json':
        o.json = true;
        break;
      case '--concurrency':
        o.concurrency = number(flag, value(), 1, 1_000);
        break;
      case '--api-restart-every-ms':
        o.apiRestartEveryMs = range(flag, value());
        break;
      case '--messaging-down-ms':
        o.messagingDownMs = number(flag, value(), 0, 600_000);
        break;
      case '--server-restarts':
        o.serverRestarts = number(flag, value(), 0, 10);
        break;
      case '--resend-rate':
        o.resendRate = number(flag, value(), 0, 1, false);
        break;
      case '--flaky-rate':
        o.flakyRate = number(flag, value(), 0, 0.5, false);
        break;
      case '--seed':
        o.seed = number(flag, value(), 0, 2 ** 31);
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--cpu-load':
        o.cpuLoad = number(flag, value(), 0, 16);
        break;
      case '--workflows-path': {
        const path = value();
        if (!path) throw new Error(`${flag} expects a file`);
        o.workflowsPath = resolve(path);
        break;
      }
      default:
        throw new Error(`unknown option ${flag}\n\n${USAGE}`);
    }
  }
  return o;
}

/** A small seeded generator (mulberry32): the same seed gives the same case plan. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function between([min, max]: [number, number]): number {
  return min + Math.random() * (max - min);
}
