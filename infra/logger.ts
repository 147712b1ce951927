// Logs through pino: JSON lines in production (or with LOG_FORMAT=json), readable one-line records in
// development. Every line carries its component and, inside an HTTP request, the request's ID (from an
// AsyncLocalStorage context, so no call site has to pass it), and inside a recorded trace (infra/tracing.ts) its
// `trace_id` and `span_id`. Callers pass IDs and codes, never personal data (no statements, answers or evidence).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { envValue } from './config-schema';
import { traceFields } from './trace-context';

type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

/** The context of the work in hand (an HTTP request): its fields join every log line written meanwhile. */
export const logContext = new AsyncLocalStorage<Record<string, string>>();

const LEVEL_NAMES: Record<number, string> = { 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR' };
const RESERVED = new Set(['level', 'time', 'component', 'msg', 'pid', 'hostname']);

/** `<time> <LEVEL> [component] message key=value…`, as a person reads a terminal. */
function readableStream(out: NodeJS.WriteStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) {
        const r = JSON.parse(text) as Record<string, unknown>;
        const fields = Object.entries(r)
          .filter(([k]) => !RESERVED.has(k))
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('');
        const level = (LEVEL_NAMES[r.level as number] ?? 'INFO').padEnd(5);
        out.write(`${String(r.time)} ${level} [${String(r.component)}] ${String(r.msg)}${fields}\n`);
      }
      done();
    },
  });
}

export function createLogger(component: string, options: { json?: boolean; level?: Level } = {}): Logger {
  const json =
    options.json ?? (process.env.LOG_FORMAT === 'json' || process.env.CORDON_MODE === 'production');
  const level = options.level ?? envValue('LOG_LEVEL');
  const options_: pino.LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const request = logContext.getStore();
      const traced = traceFields();
      return traced ? { ...request, ...traced } : (request ?? {});
    },
  };
  const root = json
    ? // JSON lines on stdout, levels by name, for a log collector.
      pino({ ...options_, formatters: { level: (label) => ({ level: label }) } }, process.stdout)
    : // Readable: warnings and errors to stderr, the rest to stdout (dedupe: each line to one stream only).
      pino(
        options_,
        pino.multistream(
          [
            { level: 'debug', stream: readableStream(process.stdout) },
            { level: 'warn', stream: readableStream(process.stderr) },
          ],
          { dedupe: true },
        ),
      );
  return wrap(root, component);
}

function wrap(root: pino.Logger, component: string): Logger {
  const p = root.child({ component });
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (c) => wrap(root, `${component}:${c}`),
  };
}
