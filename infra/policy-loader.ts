import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { windowProblems } from '../core/features';
import { PolicySchema, type LoadedPolicy } from '../core/policy';

/**
 * Reads and validates a policy file; the hash is over the validated content, so formatting does not count. With
 * `eventIdDays` (the deployment's CORDON_EVENT_ID_DAYS), a feature window longer than the event-ID window is
 * refused too: a retry older than that would be counted again.
 */
export function loadPolicy(path: string, eventIdDays?: number): LoadedPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  const loaded = parsePolicy(raw, path);
  if (eventIdDays !== undefined) {
    const problems = windowProblems(loaded.policy.features, eventIdDays);
    if (problems.length)
      throw new Error(
        `invalid policy ${path}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
      );
  }
  return loaded;
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
