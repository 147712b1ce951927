// A real S3-compatible server for the evidence store's tests: moto's server, from PyPI, in a virtual
// environment under .tools/ (git-ignored), installed the first time it is needed. `npx tsx scripts/moto.ts`
// installs it (CI does, before the tests); test/helpers/s3.ts starts it on a free port of 127.0.0.1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from './temporal-tools';

const run = promisify(execFile);

/** The version tested; a change installs afresh into a folder of its own. */
export const MOTO_VERSION = '5.2.1';
export const MOTO_DIR = join(TOOLS_DIR, `moto@${MOTO_VERSION}`);
const PYTHON = join(MOTO_DIR, 'bin', 'python');

/** Why moto cannot be had on this machine: the tests skip with it (outside CI) instead of failing. */
export class MotoUnavailable extends Error {}

async function importable(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  return run(PYTHON, ['-c', 'import moto.server, flask, werkzeug'], { timeout: 60_000 }).then(
    () => true,
    () => false,
  );
}

/**
 * The virtual environment's python with moto's server importable, installing it when needed. It sees the
 * system's packages, so a machine that has moto already installs nothing; pip's own configuration applies.
 */
export async function ensureMoto(log: (line: string) => void = () => undefined): Promise<string> {
  if (await importable()) return PYTHON;
  const python = process.env.CORDON_PYTHON ?? 'python3';
  log(`installing moto[server]==${MOTO_VERSION} from PyPI into ${MOTO_DIR}`);
  try {
    await run(python, ['-m', 'venv', '--system-site-packages', MOTO_DIR], { timeout: 120_000 });
  } catch (err) {
    throw new MotoUnavailable(`no Python virtual environment (${python} -m venv): ${(err as Error).message}`);
  }
  try {
    await run(
      PYTHON,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const last = (e.stderr ?? e.message).trim().split('\n').slice(-2).join(' ');
    throw new MotoUnavailable(
      `pip could not install moto[server]==${MOTO_VERSION} (PyPI unreachable?): ${last}`,
    );
  }
  if (!(await importable())) throw new Error(`moto was installed into ${MOTO_DIR} but does not import`);
  return PYTHON;
}

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** moto's server on 127.0.0.1:port, once it answers. */
export async function startMoto(port: number): Promise<MotoServer> {
  const python = await ensureMoto();
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto's server exited while starting:\n${output}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto's server did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

if (require.main === module) {
  ensureMoto((line) => process.stdout.write(`${line}\n`)).then(
    (python) => process.stdout.write(`moto's server is ready: ${python} -m moto.server\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
