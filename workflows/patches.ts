// The patch markers of the case workflow: each names a change to what it records in its history, so histories
// of every release still replay (test/replay.test.ts). Entries are never removed.
import { patched } from '@temporalio/workflow';

/**
 * Patches (see docs/releases.md#safe-deploys): each names a change to what the workflow records in its
 * history. Old histories replay without the marker and keep the old path until they continue as new.
 */
export const PATCHES = {
  /**
   * 0.2: messages go to Cordon's database outbox instead of being sent by the workflow; the case is archived
   * when it ends; a timer that fired is due even if its activation's clock reads early; 128 recent event IDs
   * and request keys are kept instead of 500.
   */
  release02: 'cordon-0.2-outbox-in-database',
  /**
   * 0.3: the case writes the account's restriction record (the hot-path check) itself whenever its status,
   * tier or openness changes; runs begun before record it only with their restriction changes, messages and end.
   */
  release03: 'cordon-0.3-restriction-record',
  /**
   * 0.4: an event ID another case of the account may have answered is looked up in Cordon's database before
   * anything is decided (a fresh run; an event the API looked up before this case began); the answers the case
   * stops remembering are written there first; a staff member's case opening whose requestId was used with
   * another body is refused; the case decides its rules version itself (RULES_PATCHES).
   */
  release04: 'cordon-0.4-seen-ids',
} as const;

/**
 * One marker per version of the case machine's rules, newest first. A case opening records the marker of the
 * newest rules this code knows; a replay finds it and follows the same rules. A constant would change under
 * replay when the code moves on, and the API's stamp (terms.rulesVersion) may name rules this worker has no code
 * for (a newer API deployed before the workers), so neither decides. A new rules version adds its entry first.
 */
export const RULES_PATCHES: readonly (readonly [version: number, patchId: string])[] = [
  // 5 (0.6): a break-glass may name the evidence version it was decided on (a bulk action's dry run).
  [5, 'cordon-rules-5'],
  // 4 (0.5): timeline entries are hash-chained as they are written; a case can be a second review.
  [4, 'cordon-rules-4'],
  [3, 'cordon-rules-3'],
];

/**
 * The rules a case opening now follows: live, the newest this code knows; in a replay, the one whose marker the
 * history holds. Entries are never removed, so a 0.4 history always finds its marker (the fallback is the API's
 * stamp, as before 0.4).
 */
export function rulesVersionOfCase(stamped: number | undefined): number | undefined {
  for (const [version, patchId] of RULES_PATCHES) if (patched(patchId)) return version;
  return stamped;
}
