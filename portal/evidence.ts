// The files users send with an appeal or an answer: checked by their first bytes, kept encrypted in the evidence
// store (which the console reads for reviewers), and referred to from the action by reference only.
import { Problem } from '../web/problems';
import { devSecret } from '../infra/dev-secrets';
import {
  checkEvidenceFile,
  FileEvidenceStore,
  type EvidenceKey,
  type EvidenceStore,
} from '../infra/evidence-store';
import { MAX_FILE_BYTES, MAX_FILES, type ParsedForm } from './forms';

/** The evidence store the deps name, else files under the data folder (development: with a key of its own). */
export function evidenceStoreOf(deps: {
  evidence?: EvidenceStore;
  evidenceKeys?: readonly EvidenceKey[];
  dataDir: string;
  mode: 'development' | 'production';
}): EvidenceStore | undefined {
  if (deps.evidence) return deps.evidence;
  if (deps.evidenceKeys?.length) return new FileEvidenceStore(deps.dataDir, deps.evidenceKeys);
  return deps.mode === 'development'
    ? new FileEvidenceStore(deps.dataDir, [{ id: 'dev', key: devSecret(deps.dataDir, 'evidence-key') }])
    : undefined;
}

/** Checks the files, keeps them (encrypted) and answers their references; removes them if the action is refused. */
export async function withEvidence(
  evidence: EvidenceStore | undefined,
  caseId: string,
  parsed: ParsedForm,
  fail: (status: number, code: string) => never,
  send: (refs: string[]) => Promise<unknown>,
): Promise<void> {
  if (parsed.tooManyFiles || parsed.files.length > MAX_FILES) fail(413, 'FILE_COUNT');
  const checked = parsed.files.map((file) => {
    if (file.truncated) fail(413, 'FILE_SIZE');
    const check = checkEvidenceFile(file.name, file.content, MAX_FILE_BYTES);
    if (!check.ok) fail(check.why === 'SIZE' ? 413 : 400, check.why === 'SIZE' ? 'FILE_SIZE' : 'FILE_TYPE');
    return { file, type: check.ok ? check.type : ('text/plain' as const) };
  });
  if (checked.length && !evidence) fail(400, 'FILE_TYPE');
  const requestId = parsed.fields.requestId ?? '';
  const stored: { ref: string; created: boolean }[] = [];
  try {
    for (const [i, { file, type }] of checked.entries())
      stored.push(
        await evidence!.put(
          file.content,
          { type, caseId, name: file.name.slice(0, 255) },
          // A form sent twice (same request ID, same files) keeps the same references: one request.
          { idempotencyKey: `${caseId}|${requestId}|${i}` },
        ),
      );
    await send(stored.map((s) => s.ref));
  } catch (err) {
    // Only a refusal (4xx) is certain to have changed nothing. After anything else the action may have reached
    // the case, so the files stay: a retry with the same request ID finds them, and the evidence sweep removes
    // them later if no case holds them.
    if (err instanceof Problem && err.status < 500)
      await Promise.all(stored.filter((s) => s.created).map((s) => evidence!.delete(s.ref)));
    throw err;
  }
}
