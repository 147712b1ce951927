// Small I/O helpers shared by the commands.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { LoadedPolicy } from '../core/policy';
import { parseConfig } from '../infra/config';
import { loadPolicy } from '../infra/policy-loader';

/** A failure the command reports in one line and exits 1 for (a file or policy that cannot be read). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The policy file to use: the option, else CORDON_POLICY_FILE (as the API reads it), else this project's
 * policy/default.json wherever the command runs from.
 */
export function policyPath(option?: string): string {
  if (option) return option;
  if (process.env.CORDON_POLICY_FILE) return parseConfig().policyFile;
  return resolve(__dirname, '..', 'policy', 'default.json');
}

export function readPolicy(path: string): LoadedPolicy {
  try {
    return loadPolicy(path);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not JSON: ${(err as Error).message}`);
  }
}

/** Writes respecting back-pressure (a pipe into `head` or a slow disk). */
export async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function parseNumber(name: string, min: number, max = Infinity, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new CliError(
        `--${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`,
      );
    return n;
  };
}
