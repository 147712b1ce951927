// What the backtest's two threads share when the feature windows run apart from the scoring
// (lab/backtest-feature-thread.ts, lab/backtest-feature-worker.ts): batches of events, reduced to what the
// features read (IDs, type, occurredAt, the entities and attributes the policies' features name), written into
// shared memory by the thread that parses them; and each event's feature values, written back by the thread that
// keeps the windows. Two batches take turns, so one is filled while the other is computed.
import type { FeatureEvent, FeatureValues } from '../core/features';
import type { LoadedPolicy } from '../core/policy';

/** Events a batch holds at most. */
export const BATCH = 512;
/**
 * UTF-16 code units a batch holds; a batch is handed over early when the next event would not fit. (Small
 * batches: the parsed events wait for their values, and fewer waiting means fewer outlive a young collection.)
 */
const CHARS = BATCH * 512;

// A field: its tag, then (a string) where its code units start and how many, or (a number) the number.
const ABSENT = 0; // absent, null, an object or an array: no feature reads a value from them
const NUMBER = 1;
const STRING = 2;
const TRUE = 3;
const FALSE = 4;
const FIELD = 3;
/** accountId, eventId, type, occurredAt: the fields every event sends, before its entities and attributes. */
const FIXED = 4;

// Control words: batches handed over and computed (counts since the start), a failure, the worker started, and
// each batch's events and code units.
export const HANDED = 0;
export const DONE = 1;
export const FAILED = 2;
export const READY = 3;
const COUNT = 4;

/** What the features of the policies read from an event beyond its IDs, type and time. */
export interface Reads {
  entities: string[];
  attributes: string[];
  /** Each policy's feature names in declaration order (its values' order). */
  names: string[][];
}

export function readsOf(policies: readonly LoadedPolicy[]): Reads {
  const entities = new Set<string>();
  const attributes = new Set<string>();
  for (const p of policies)
    for (const f of Object.values(p.policy.features ?? {})) {
      for (const x of [f.by, f.field ?? 'account'])
        if (x.startsWith('entity:')) entities.add(x.slice(7));
        else if (x !== 'account') attributes.add(x);
    }
  return {
    entities: [...entities],
    attributes: [...attributes],
    names: policies.map((p) => Object.keys(p.policy.features ?? {})),
  };
}

/** The shared memory: made by the parsing thread, handed to the worker in its workerData. */
export interface Shared {
  control: SharedArrayBuffer;
  fields: [SharedArrayBuffer, SharedArrayBuffer];
  chars: [SharedArrayBuffer, SharedArrayBuffer];
  values: [SharedArrayBuffer, SharedArrayBuffer];
  /** Per event and policy, 1 when it has features (else scored without), then per feature 1 when present. */
  present: [SharedArrayBuffer, SharedArrayBuffer];
  /** A failure's message, as code units (its length in control word FAILED). */
  failure: SharedArrayBuffer;
}

export function sharedFor(reads: Reads): Shared {
  const perEvent = (FIXED + reads.entities.length + reads.attributes.length) * FIELD;
  const values = reads.names.reduce((n, names) => n + names.length, 0);
  const two = (bytes: number): [SharedArrayBuffer, SharedArrayBuffer] => [
    new SharedArrayBuffer(bytes),
    new SharedArrayBuffer(bytes),
  ];
  return {
    control: new SharedArrayBuffer(4 * (COUNT + 4)),
    fields: two(8 * BATCH * perEvent),
    chars: two(2 * CHARS),
    values: two(8 * BATCH * Math.max(1, values)),
    present: two(BATCH * (reads.names.length + values)),
    failure: new SharedArrayBuffer(2 * 4096),
  };
}

/** One side's typed views of the shared memory. */
export class Batches {
  readonly control: Int32Array;
  private readonly fields: Float64Array[];
  private readonly chars: Uint16Array[];
  private readonly values: Float64Array[];
  private readonly present: Uint8Array[];
  private readonly failure: Uint16Array;
  private readonly perEvent: number;
  private readonly valuesPerEvent: number;
  private readonly presentPerEvent: number;
  /** Where each policy's values begin within an event's share (the lengths of the policies before it). */
  private readonly policyOffset: number[];
  /** The batch being written (parsing side): its events and code units so far. */
  private count = 0;
  private used = 0;

  constructor(
    readonly reads: Reads,
    shared: Shared,
  ) {
    this.control = new Int32Array(shared.control);
    this.fields = shared.fields.map((b) => new Float64Array(b));
    this.chars = shared.chars.map((b) => new Uint16Array(b));
    this.values = shared.values.map((b) => new Float64Array(b));
    this.present = shared.present.map((b) => new Uint8Array(b));
    this.failure = new Uint16Array(shared.failure);
    this.perEvent = (FIXED + reads.entities.length + reads.attributes.length) * FIELD;
    this.valuesPerEvent = reads.names.reduce((n, names) => n + names.length, 0);
    this.presentPerEvent = reads.names.length + this.valuesPerEvent;
    this.policyOffset = reads.names.map((_, p) =>
      reads.names.slice(0, p).reduce((n, names) => n + names.length, 0),
    );
  }

  /** Events in the batch being written. */
  get size(): number {
    return this.count;
  }

  /**
   * Writes `e` as the next event of batch `b` (0 or 1); false, writing nothing, when the batch is full or its
   * code units would not hold it (then hand it over and write into the other one).
   */
  write(b: number, e: FeatureEvent): boolean {
    if (this.count === BATCH) return false;
    this.at = this.count * this.perEvent;
    this.writing = b;
    this.room = CHARS - this.used;
    let ok =
      this.putField(0, e.accountId) &&
      this.putField(1, e.eventId) &&
      this.putField(2, e.type) &&
      this.putField(3, e.occurredAt);
    const { entities, attributes } = this.reads;
    for (let k = 0; ok && k < entities.length; k++)
      ok = this.putField(FIXED + k, (e.entities as Record<string, unknown> | undefined)?.[entities[k]!]);
    for (let k = 0; ok && k < attributes.length; k++) {
      const name = attributes[k]!;
      ok = this.putField(
        FIXED + entities.length + k,
        Object.prototype.hasOwnProperty.call(e.attributes, name) ? e.attributes[name] : undefined,
      );
    }
    if (!ok) {
      if (this.count === 0) throw new Error('an event too large for the feature thread');
      return false;
    }
    this.count++;
    this.used = CHARS - this.room;
    return true;
  }

  /** The event being written: its batch, where its fields start, and the code units left for it. */
  private writing = 0;
  private at = 0;
  private room = 0;

  /** Writes field f of the event being written; false when its code units do not fit. */
  private putField(f: number, v: unknown): boolean {
    const fields = this.fields[this.writing]!;
    const i = this.at + f * FIELD;
    if (typeof v === 'string') {
      if (v.length > this.room) return false;
      const chars = this.chars[this.writing]!;
      const from = CHARS - this.room;
      fields[i] = STRING;
      fields[i + 1] = from;
      fields[i + 2] = v.length;
      for (let k = 0; k < v.length; k++) chars[from + k] = v.charCodeAt(k);
      this.room -= v.length;
    } else if (typeof v === 'number') {
      fields[i] = NUMBER;
      fields[i + 1] = v;
    } else fields[i] = v === true ? TRUE : v === false ? FALSE : ABSENT;
    return true;
  }

  /** Ends the batch being written: its number of events is set for the worker, and the next starts empty. */
  seal(b: number): void {
    this.control[COUNT + b] = this.count;
    this.control[COUNT + 2 + b] = this.used;
    this.count = 0;
    this.used = 0;
  }

  /**
   * Event i of batch b as the features read it (worker side, after begin(b)). Strings that may be kept (keys,
   * distinct values) are copied out; the IDs, type and time are cut from the batch's text and let go.
   */
  read(b: number, i: number): FeatureEvent {
    const at = i * this.perEvent;
    const entities: Record<string, unknown> = {};
    const attributes: Record<string, unknown> = {};
    const { entities: kinds, attributes: names } = this.reads;
    for (let k = 0; k < kinds.length; k++) {
      const v = this.field(b, at, FIXED + k);
      if (v !== undefined) entities[kinds[k]!] = v;
    }
    for (let k = 0; k < names.length; k++) {
      const v = this.field(b, at, FIXED + kinds.length + k);
      if (v !== undefined) attributes[names[k]!] = v;
    }
    return {
      accountId: this.field(b, at, 0) as string,
      eventId: this.passing(b, at, 1),
      type: this.passing(b, at, 2),
      occurredAt: this.passing(b, at, 3),
      attributes,
      entities,
    };
  }

  /** The batch's code units as one string (worker side, once a batch): where the strings not kept are cut. */
  private text = '';
  private readonly plain = new Uint16Array(CHARS);
  private readonly utf16 = new TextDecoder('utf-16le');

  /** Starts reading batch b (worker side): its number of events. */
  begin(b: number): number {
    // TextDecoder does not read shared memory: a copy of the batch's code units first.
    const used = this.control[COUNT + 2 + b]!;
    this.plain.set(this.chars[b]!.subarray(0, used));
    this.text = this.utf16.decode(this.plain.subarray(0, used));
    return this.control[COUNT + b]!;
  }

  /**
   * String field f (always a string: an ID, the type, the time), cut from the batch's text: cheap, but it
   * holds the batch's text while it lives, so only for strings nobody keeps (the retry memory copies the IDs).
   */
  private passing(b: number, at: number, f: number): string {
    const fields = this.fields[b]!;
    const j = at + f * FIELD;
    return this.text.substring(fields[j + 1]!, fields[j + 1]! + fields[j + 2]!);
  }

  /** Field f of the event whose fields start at `at` in batch b. */
  private field(b: number, at: number, f: number): unknown {
    const fields = this.fields[b]!;
    const j = at + f * FIELD;
    switch (fields[j]) {
      case STRING: {
        const from = fields[j + 1]!;
        // (apply reads any array-like: the code units, copied into a string of their own)
        return String.fromCharCode.apply(
          null,
          this.chars[b]!.subarray(from, from + fields[j + 2]!) as unknown as number[],
        );
      }
      case NUMBER:
        return fields[j + 1];
      case TRUE:
        return true;
      case FALSE:
        return false;
      default:
        return undefined;
    }
  }

  /** Writes policy p's values for event i of batch b (undefined: the event is scored without features). */
  put(b: number, i: number, p: number, values: FeatureValues | undefined): void {
    const present = this.present[b]!;
    const out = this.values[b]!;
    const names = this.reads.names[p]!;
    const v = i * this.valuesPerEvent + this.policyOffset[p]!;
    const q = i * this.presentPerEvent + this.reads.names.length + this.policyOffset[p]!;
    present[i * this.presentPerEvent + p] = values === undefined ? 0 : 1;
    if (values === undefined) return;
    for (let k = 0; k < names.length; k++) {
      const value = values[names[k]!];
      present[q + k] = value === undefined ? 0 : 1;
      if (value !== undefined) out[v + k] = value;
    }
  }

  /** Policy p's values for event i of batch b, as FeatureWindows.valuesFor gave them (parsing side). */
  get(b: number, i: number, p: number): FeatureValues | undefined {
    const present = this.present[b]!;
    if (!present[i * this.presentPerEvent + p]) return undefined;
    const values = this.values[b]!;
    const names = this.reads.names[p]!;
    const v = i * this.valuesPerEvent + this.policyOffset[p]!;
    const q = i * this.presentPerEvent + this.reads.names.length + this.policyOffset[p]!;
    const out: FeatureValues = {};
    for (let k = 0; k < names.length; k++) if (present[q + k]) out[names[k]!] = values[v + k]!;
    return out;
  }

  /** Records a failure of the worker for the other side to throw. */
  fail(message: string): void {
    const text = message.slice(0, this.failure.length);
    for (let k = 0; k < text.length; k++) this.failure[k] = text.charCodeAt(k);
    Atomics.store(this.control, FAILED, text.length + 1);
    Atomics.notify(this.control, DONE);
  }

  /** The worker's failure, if it failed. */
  failed(): string | undefined {
    const n = Atomics.load(this.control, FAILED);
    if (n === 0) return undefined;
    return String.fromCharCode.apply(null, [...this.failure.subarray(0, n - 1)]);
  }
}
