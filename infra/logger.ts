// Readable one-line logs by default, JSON lines with LOG_FORMAT=json. Callers pass IDs and codes, never
// personal data (no statements, answers or evidence).
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export function createLogger(component: string, options: { json?: boolean; level?: Level } = {}): Logger {
  const json = options.json ?? process.env.LOG_FORMAT === 'json';
  const min = ORDER[options.level ?? ((process.env.LOG_LEVEL as Level | undefined) || 'info')] ?? ORDER.info;
  const write = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    const line = json
      ? JSON.stringify({ time, level, component, msg, ...fields })
      : `${time} ${level.toUpperCase().padEnd(5)} [${component}] ${msg}${Object.entries(fields)
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('')}`;
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (c) => createLogger(`${component}:${c}`, options),
  };
}
