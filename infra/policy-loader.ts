import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PolicySchema, type LoadedPolicy } from '../core/policy';

/** Reads and validates a policy file; the hash is over the validated content, so formatting does not count. */
export function loadPolicy(path: string): LoadedPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  return parsePolicy(raw, path);
}

export function parsePolicy(raw: unknown, origin = 'policy'): LoadedPolicy {
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid policy ${origin}: ${problems}`);
  }
  const hash = createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex').slice(0, 16);
  return { policy: parsed.data, hash };
}
