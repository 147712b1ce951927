// Seals evidence files written before 0.5 (CEV1, under the codec-derived keys) again under their account's data
// key (CEV2), in place and under the same reference, so erasing an account makes those files unreadable too.
// Part of `npm run keys -- reencrypt`; a file already in CEV2, or whose case names no account, is left alone.
import { parseCaseId } from '../../core/contracts';
import { evidenceHeader } from './seal';
import type { EvidenceSealer } from './sealer';
import type { ResealableEvidence } from './types';

export interface ResealProgress {
  checked: number;
  resealed: number;
  /** References whose file does not open with the configured keys: left as they are. */
  unreadable: string[];
}

export async function resealEvidence(
  store: ResealableEvidence,
  sealer: EvidenceSealer,
  o: { onProgress?: (p: ResealProgress) => void; every?: number } = {},
): Promise<ResealProgress> {
  const progress: ResealProgress = { checked: 0, resealed: 0, unreadable: [] };
  for await (const ref of store.allRefs()) {
    progress.checked++;
    const file = await store.getSealed(ref);
    if (file && evidenceHeader(file)?.format === 1) {
      let opened;
      try {
        opened = await sealer.open(ref, file);
      } catch {
        progress.unreadable.push(ref);
        continue;
      }
      if (parseCaseId(opened.meta.caseId)) {
        const again = await sealer.seal(ref, opened.content, opened.meta);
        if (await store.replaceSealed(ref, again, file)) progress.resealed++;
      }
    }
    if (progress.checked % (o.every ?? 100) === 0) o.onProgress?.(progress);
  }
  o.onProgress?.(progress);
  return progress;
}
