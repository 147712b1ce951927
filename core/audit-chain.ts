// The audit chain: each timeline entry of a case opened under rules 4 is hashed as it is written, and each hash
// covers the one before it, so an entry changed, removed, reordered or added afterwards breaks every hash from
// there on. What a hash covers is the entry's chained form: its time, actor, type and the details that are codes,
// numbers, flags, times and IDs, in RFC 8785 canonical JSON; anything written in words (a statement, an answer, a
// rationale, a question, evidence references) enters only by its own SHA-256, kept on the entry as `digests`.
// Erasing the words (infra/erasure-strip.ts) so leaves every hash verifiable. docs/audit.md has the whole scheme.
// Pure and sandbox-safe: the workflow runs it (through core/case-step.ts); the API, the CLI and tests read it.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { TimelineEntry } from './case-types';

/** Names the scheme: part of every chain's first "previous hash", so a later scheme cannot be mistaken for it. */
export const AUDIT_SCHEME = 'cordon-audit-1';
/** The rules version from which a case's entries are chained as they are written (release 0.5). */
export const AUDIT_CHAIN_RULES = 4;

/**
 * Details chained as they are: codes, numbers, flags, times and IDs (and only when a scalar or a list of
 * scalars). An erasure keeps exactly these (infra/erasure-strip.ts builds its list from this one): a detail chained
 * in clear that an erasure removed would break the chain.
 */
export const CHAINED_IN_CLEAR: ReadonlySet<string> = new Set([
  'eventId',
  'eventType',
  'tier',
  'score',
  'reasons',
  'reasonCodes',
  'policyVersion',
  'unavailableSources',
  'method',
  'passed',
  'takeover',
  'from',
  'to',
  'holder',
  'decision',
  'approve',
  'action',
  'outcome',
  'reviewDueAt',
  'deadline',
  'lockoutCount',
  'decidedBy',
  'evidenceVersion',
  'lockout',
  'template',
  'channel',
  'channels',
  'event',
  'effect',
  'status',
  'assignee',
  'escalated',
  'approvalDueAt',
  // A second review's links to the case it reviews again (IDs).
  'previousCaseId',
  'fromCaseId',
  // A rule guard's trip (its rule's ID, counts and what it does).
  'ruleId',
  'hourCount',
  'baselinePerHour',
  'onTrip',
]);

/** A code as the case machine writes them (RELEASED's reason is IDLE); a retraction's reason is free text. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** What the chain adds to an entry, and what an erasure adds (both outside what a hash covers). */
const CHAIN_FIELDS: ReadonlySet<string> = new Set(['hash', 'digests', 'erasedFields']);
/** What every entry has, chained as it is. */
const FIXED_FIELDS: ReadonlySet<string> = new Set(['at', 'actor', 'type']);

/** An entry as chained: what its hash covers and what an export shows. */
export interface ChainedEntry {
  at: string;
  actor: { kind: string; id: string };
  type: string;
  /** Each detail written in words, by the SHA-256 (hex) of its canonical JSON. */
  digests?: Record<string, string>;
  [detail: string]: unknown;
}

/**
 * RFC 8785 (JCS) canonical JSON: object members sorted by their names' UTF-16 code units, no whitespace,
 * numbers as ECMAScript writes them, strings escaped as JSON.stringify escapes them. Only JSON values: a number
 * that is not finite, or anything JSON has no form for, throws (members that are undefined are left out, as
 * JSON.stringify leaves them out).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new TypeError('canonical JSON has no form for a number that is not finite');
    return JSON.stringify(value); // ECMAScript's Number::toString, -0 as 0: what RFC 8785 prescribes
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // Array.prototype.sort's default order compares UTF-16 code units, as RFC 8785 requires.
    const names = Object.keys(object)
      .filter((k) => object[k] !== undefined)
      .sort();
    return `{${names.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
}

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** The digest a detail written in words enters the chain by: the SHA-256 of its canonical JSON. */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** The first entry's "previous hash": binds the chain to its case (a chain moved to another case fails). */
export function genesisOf(caseId: string): string {
  return sha256Hex(`${AUDIT_SCHEME}:${caseId}`);
}

/** An entry's hash: SHA-256 over the previous hash (64 hex characters) followed by the entry's canonical JSON. */
export function hashOf(previous: string, chained: ChainedEntry): string {
  return sha256Hex(previous + canonicalJson(chained));
}

const plainValue = (v: unknown): boolean => {
  const scalar = (x: unknown) =>
    x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  return scalar(v) || (Array.isArray(v) && v.every(scalar));
};

/** Whether a detail is chained as it is (else by its digest). */
export function chainedInClear(key: string, value: unknown): boolean {
  if (key === 'reason') return typeof value === 'string' && CODE.test(value);
  return CHAINED_IN_CLEAR.has(key) && plainValue(value);
}

export function isDigestMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string' && HEX64.test(v))
  );
}

/**
 * The chained form of a stored entry: its details without the words its digests stand for, and without what the
 * chain and an erasure add. The same for an entry before and after an erasure.
 */
export function chainedFormOf(entry: TimelineEntry): ChainedEntry {
  const digests = isDigestMap(entry.digests) ? entry.digests : {};
  const chained: ChainedEntry = {
    at: entry.at,
    actor: { kind: entry.actor.kind, id: entry.actor.id },
    type: entry.type,
  };
  for (const [key, value] of Object.entries(entry)) {
    if (FIXED_FIELDS.has(key) || CHAIN_FIELDS.has(key)) continue;
    if (Object.hasOwn(digests, key) || value === undefined) continue;
    chained[key] = value;
  }
  if (Object.keys(digests).length) chained.digests = { ...digests };
  return chained;
}

/**
 * An entry as JSON will carry it (the workflow's state crosses continue-as-new and queries as JSON), with each
 * detail written in words digested. What the chain adds or an erasure marks is left as it is.
 */
export function withDigests(entry: TimelineEntry): TimelineEntry {
  const stored = JSON.parse(JSON.stringify(entry)) as TimelineEntry;
  const digests: Record<string, string> = {};
  for (const [key, value] of Object.entries(stored))
    if (!FIXED_FIELDS.has(key) && !CHAIN_FIELDS.has(key) && !chainedInClear(key, value))
      digests[key] = digestOf(value);
  if (Object.keys(digests).length) stored.digests = digests;
  return stored;
}

/** An entry as the timeline keeps it under rules 4: with its digests, and its hash after the previous one. */
export function chainEntry(previous: string, entry: TimelineEntry): TimelineEntry {
  const stored = withDigests(entry);
  stored.hash = hashOf(previous, chainedFormOf(stored));
  return stored;
}

/** The hash the next entry of this timeline follows: the last entry's, or the case's genesis. */
export function headOf(caseId: string, timeline: readonly TimelineEntry[]): string {
  const last = timeline[timeline.length - 1];
  return typeof last?.hash === 'string' ? last.hash : genesisOf(caseId);
}

export type ChainCheck =
  | { ok: true; headHash: string; entryCount: number }
  /** index: the first entry whose hash does not follow (entries.length when only the count is wrong). */
  | { ok: false; index: number; reason: string };

/**
 * Recomputes a chain from its case's genesis: the first entry whose listed hash is not the hash of what it says
 * after the entries before it is named. The caller compares the result with the head it trusts.
 */
export function checkChain(
  caseId: string,
  entries: readonly { entry: ChainedEntry; hash: unknown }[],
): ChainCheck {
  let previous = genesisOf(caseId);
  for (const [index, { entry, hash }] of entries.entries()) {
    let computed: string;
    try {
      computed = hashOf(previous, entry);
    } catch {
      return { ok: false, index, reason: 'its content is not JSON that can be hashed' };
    }
    if (typeof hash !== 'string' || !HEX64.test(hash))
      return { ok: false, index, reason: 'it carries no hash' };
    if (computed !== hash)
      return {
        ok: false,
        index,
        reason:
          'its hash is not that of its content after the entries before it (changed, removed, reordered or added)',
      };
    previous = computed;
  }
  return { ok: true, headHash: previous, entryCount: entries.length };
}
