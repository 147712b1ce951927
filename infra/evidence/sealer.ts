// How a store seals and opens files. Two ways, one interface:
//   AccountSealer  what the API uses: each file under the data key of its case's account (CEV2), so erasing the
//                  account makes its files unreadable everywhere; files sealed before 0.5 (CEV1) still open.
//   KeySealer      the codec-derived keys only (CEV1): the format 0.4 wrote, and what a store made with a plain
//                  key list (tools, tests) keeps writing.
// References are keyed MACs under the codec-derived keys either way (seal.ts evidenceRef).
import { parseCaseId } from '../../core/contracts';
import type { DataKeys } from '../data-keys';
import {
  caseIdOf,
  evidenceHeader,
  openEvidence,
  openEvidenceForAccount,
  sealEvidence,
  sealEvidenceForAccount,
} from './seal';
import type { EvidenceKey, EvidenceMeta, StoredEvidence } from './types';

export interface EvidenceSealer {
  /** The codec-derived keys: references, and files sealed before 0.5. */
  readonly keys: readonly EvidenceKey[];
  seal(ref: string, content: Buffer, meta: EvidenceMeta): Promise<Buffer>;
  /** Throws (naming the reference only) when the file does not open. */
  open(ref: string, file: Buffer): Promise<StoredEvidence>;
  /** The case a file was sent for; undefined when the file cannot tell. */
  caseIdOf(ref: string, file: Buffer): Promise<string | undefined>;
}

export class KeySealer implements EvidenceSealer {
  constructor(readonly keys: readonly EvidenceKey[]) {
    if (!keys.length) throw new Error('the evidence store needs at least one key');
  }

  async seal(ref: string, content: Buffer, meta: EvidenceMeta): Promise<Buffer> {
    return sealEvidence(this.keys, ref, content, meta);
  }

  async open(ref: string, file: Buffer): Promise<StoredEvidence> {
    if (evidenceHeader(file)?.format === 2)
      throw new Error(
        `evidence ${ref} is sealed with an account's data key: open it with Cordon's database keys`,
      );
    return openEvidence(this.keys, ref, file);
  }

  async caseIdOf(ref: string, file: Buffer): Promise<string | undefined> {
    return evidenceHeader(file)?.format === 2 ? evidenceHeader(file)!.caseId : caseIdOf(this.keys, ref, file);
  }
}

export class AccountSealer extends KeySealer {
  constructor(
    keys: readonly EvidenceKey[],
    private readonly dataKeys: DataKeys,
  ) {
    super(keys);
  }

  override async seal(ref: string, content: Buffer, meta: EvidenceMeta): Promise<Buffer> {
    const account = parseCaseId(meta.caseId)?.accountId;
    // A file for something that is not a case belongs to no account's erasure: the codec-derived keys do.
    if (!account) return super.seal(ref, content, meta);
    return sealEvidenceForAccount(await this.dataKeys.current(account), ref, content, meta);
  }

  override async open(ref: string, file: Buffer): Promise<StoredEvidence> {
    const header = evidenceHeader(file);
    if (header?.format !== 2) return super.open(ref, file);
    const account = parseCaseId(header.caseId ?? '')?.accountId;
    if (!account) throw new Error(`evidence ${ref} is not an evidence file`);
    return openEvidenceForAccount(await this.dataKeys.byId(account, header.keyId), ref, file);
  }
}

/** A store's sealer from what it was given: a sealer, or a plain key list (CEV1). */
export function sealerOf(keys: readonly EvidenceKey[] | EvidenceSealer): EvidenceSealer {
  return 'seal' in keys ? keys : new KeySealer(keys);
}
