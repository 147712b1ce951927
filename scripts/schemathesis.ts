// Schemathesis, the property-based tester of OpenAPI documents, from PyPI, in a virtual environment under .tools/
// (git-ignored), installed the first time it is needed. `npx tsx scripts/schemathesis.ts` installs it (CI does,
// before the tests); test/schemathesis.test.ts runs it against the API over real HTTP on 127.0.0.1.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from './temporal-tools';

const run = promisify(execFile);

/** The version tested; a change installs afresh into a folder of its own. */
export const SCHEMATHESIS_VERSION = '4.32.5';
export const SCHEMATHESIS_DIR = join(TOOLS_DIR, `schemathesis@${SCHEMATHESIS_VERSION}`);
/** The command line tool (`st run ...`). */
export const SCHEMATHESIS_BIN = join(SCHEMATHESIS_DIR, 'bin', 'schemathesis');
const PYTHON = join(SCHEMATHESIS_DIR, 'bin', 'python');

/** Why schemathesis cannot be had on this machine: its test skips with it (outside CI) instead of failing. */
export class SchemathesisUnavailable extends Error {}

async function installed(): Promise<boolean> {
  if (!existsSync(SCHEMATHESIS_BIN)) return false;
  return run(SCHEMATHESIS_BIN, ['--version'], { timeout: 60_000 }).then(
    ({ stdout }) => stdout.includes(SCHEMATHESIS_VERSION),
    () => false,
  );
}

/**
 * The schemathesis command, installing it when needed. Its own environment, without the system's packages: its
 * dependencies (hypothesis, jsonschema...) are pinned by its release, not by whatever the machine has.
 */
export async function ensureSchemathesis(log: (line: string) => void = () => undefined): Promise<string> {
  if (await installed()) return SCHEMATHESIS_BIN;
  const python = process.env.CORDON_PYTHON ?? 'python3';
  log(`installing schemathesis==${SCHEMATHESIS_VERSION} from PyPI into ${SCHEMATHESIS_DIR}`);
  try {
    await run(python, ['-m', 'venv', '--clear', SCHEMATHESIS_DIR], { timeout: 120_000 });
  } catch (err) {
    throw new SchemathesisUnavailable(
      `no Python virtual environment (${python} -m venv): ${(err as Error).message}`,
    );
  }
  try {
    await run(
      PYTHON,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `schemathesis==${SCHEMATHESIS_VERSION}`,
      ],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const last = (e.stderr ?? e.message).trim().split('\n').slice(-2).join(' ');
    throw new SchemathesisUnavailable(
      `pip could not install schemathesis==${SCHEMATHESIS_VERSION} (PyPI unreachable?): ${last}`,
    );
  }
  if (!(await installed()))
    throw new Error(`schemathesis was installed into ${SCHEMATHESIS_DIR} but does not run`);
  return SCHEMATHESIS_BIN;
}

if (require.main === module) {
  ensureSchemathesis((line) => process.stdout.write(`${line}\n`)).then(
    (bin) => process.stdout.write(`schemathesis is ready: ${bin}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
