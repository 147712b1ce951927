// What a file a user sends may be: its type told by its first bytes, its extension agreeing, within the limit.
import type { EvidenceType } from './types';

/** The extensions each type may come with. */
const EXTENSIONS: Record<EvidenceType, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'application/pdf': ['pdf'],
  'text/plain': ['txt'],
};

/** The type the first bytes say, or null. Text is valid UTF-8 without control characters other than spacing. */
export function sniffType(content: Buffer): EvidenceType | null {
  const starts = (bytes: number[]) => bytes.every((b, i) => content[i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  if (content.length === 0) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? null : 'text/plain';
}

export type FileCheck = { ok: true; type: EvidenceType } | { ok: false; why: 'TYPE' | 'SIZE' | 'EMPTY' };

/** A file may be kept when its bytes are one of the types, its name's extension agrees, and it fits the limit. */
export function checkEvidenceFile(name: string, content: Buffer, maxBytes: number): FileCheck {
  if (content.length === 0) return { ok: false, why: 'EMPTY' };
  if (content.length > maxBytes) return { ok: false, why: 'SIZE' };
  const type = sniffType(content);
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase();
  if (!type || !ext || !EXTENSIONS[type].includes(ext)) return { ok: false, why: 'TYPE' };
  return { ok: true, type };
}
