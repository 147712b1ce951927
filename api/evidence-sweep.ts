// Evidence files are personal data: kept while their case can still be read, and no longer. The sweep removes
// files that no case references (an upload whose action was refused, or whose process died before the action
// reached the case) and files of cases that are known nowhere any more (ended, and past the archive's keeping
// period). A file is only removed when that is certain: while Temporal or the database cannot answer for its
// case, it stays for the next sweep. It works through EvidenceStore.listBefore, so alike for the local folder,
// Cordon's database and an object store (docs/evidence-storage.md says how each lists its files).
import type { EvidenceStore } from '../infra/evidence-store';
import type { Logger } from '../infra/logger';
import type { CaseView } from '../core/contracts';
import { Problem } from '../web/problems';

/** Files younger than this are left alone: their action may still be on its way to the case. */
export const EVIDENCE_GRACE_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

export interface SweepResult {
  /** Files old enough to be looked at. */
  checked: number;
  /** Referenced by their case: kept. */
  kept: number;
  /** Referenced by no case, or their case is gone: removed. */
  removed: number;
  /** Their case could not be asked just now, or the file could not be read: kept for the next sweep. */
  deferred: number;
}

export interface SweepDeps {
  evidence: EvidenceStore;
  /**
   * The evidence references a case holds; null when no case of that ID is known any more. Throws when that
   * cannot be told now (Temporal or the database out of reach).
   */
  referencesOf(caseId: string): Promise<ReadonlySet<string> | null>;
  logger: Logger;
}

/** The references in a case's timeline: every appeal's and answer's evidence. */
export function evidenceReferences(view: Pick<CaseView, 'timeline'>): Set<string> {
  return new Set(
    view.timeline.flatMap((entry) => (Array.isArray(entry.evidence) ? entry.evidence.map(String) : [])),
  );
}

/** `referencesOf` over the API's view of a case: a 404 is a case known nowhere, anything else is "not now". */
export function referencesFromCases(getCase: (caseId: string) => Promise<CaseView>) {
  return async (caseId: string): Promise<ReadonlySet<string> | null> => {
    try {
      const view = await getCase(caseId);
      const refs = evidenceReferences(view);
      // A second review's files are kept under the ended case it reviews (the user's page knows only that one).
      if (!view.secondReviewCaseId) return refs;
      return new Set([...refs, ...evidenceReferences(await getCase(view.secondReviewCaseId))]);
    } catch (err) {
      if (err instanceof Problem && err.status === 404) return null;
      throw err;
    }
  };
}

export async function sweepEvidence(d: SweepDeps, now = Date.now()): Promise<SweepResult> {
  const result: SweepResult = { checked: 0, kept: 0, removed: 0, deferred: 0 };
  // One question per case, however many files it has.
  const known = new Map<string, ReadonlySet<string> | null | 'unknown'>();
  for await (const { ref, caseId } of d.evidence.listBefore(now - EVIDENCE_GRACE_MS)) {
    result.checked++;
    if (!caseId) {
      result.deferred++;
      continue;
    }
    let refs = known.get(caseId);
    if (refs === undefined) {
      refs = await d.referencesOf(caseId).catch((err: unknown) => {
        d.logger.warn('evidence sweep: case not checked, its files stay', {
          caseId,
          error: (err as Error).message,
        });
        return 'unknown' as const;
      });
      known.set(caseId, refs);
    }
    if (refs === 'unknown') result.deferred++;
    else if (refs?.has(ref)) result.kept++;
    else {
      await d.evidence.delete(ref);
      result.removed++;
      d.logger.info('evidence removed', {
        caseId,
        ref,
        why: refs ? 'not referenced by its case' : 'case gone',
      });
    }
  }
  return result;
}

export interface EvidenceSweeper {
  /** One sweep now (also what the hourly timer runs); `now` moves the clock, for tests and operators. */
  runOnce(now?: number): Promise<SweepResult>;
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

/** Sweeps hourly. Several API processes may sweep the same store: removal is idempotent. */
export function startEvidenceSweeper(d: SweepDeps): EvidenceSweeper {
  let running: Promise<SweepResult> | undefined;
  const runOnce = (now?: number): Promise<SweepResult> => {
    const sweep = (running ?? Promise.resolve()).catch(() => undefined).then(() => sweepEvidence(d, now));
    running = sweep;
    return sweep;
  };
  const timer = setInterval(() => {
    runOnce().then(
      (r) => r.removed && d.logger.info('evidence sweep', { ...r }),
      (err: unknown) => d.logger.warn('evidence sweep failed', { error: (err as Error).message }),
    );
  }, SWEEP_EVERY_MS);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
