// The events the feature windows (core/feature-windows.ts) have recorded, by (accountId, eventId), so a retry is
// counted once. Exact: the IDs themselves are compared, a hash only finds them. Built for millions of events with
// nothing for the garbage collector to trace: each entry's two IDs are copied, character by character, into one
// growing byte array (a byte per character when every code unit is below 256, as IDs' printable ASCII is, else
// two); the entries, in the order recorded, sit in typed arrays; an open-addressing table of (hash, entry) pairs
// finds them (one cache line per look-up, nearly always). No string or object is kept per event.
//
// An entry may be forgotten once the clock is `keepMs` past its time: a retry is recognised only while the clock
// is less than that past the first occurrence. Entries are forgotten from the oldest recorded: one recorded late
// may outlive its time by the late tolerance until those before it go; the time test then says it is no longer a
// retry, as if it were gone.

const INITIAL = 1024;

export class RecordedEventIds {
  /**
   * Per entry, in the order recorded: the byte where its IDs start, and accountId's length · 2 + 1 when they take
   * two bytes a code unit (eventId's length follows from where the next entry starts). Entries below `head` are
   * forgotten; `end` is the next free one.
   */
  private entries = new Int32Array(INITIAL * 2);
  private times = new Float64Array(INITIAL);
  private head = 0;
  private end = 0;
  /** The IDs' bytes, entry after entry (accountId then eventId); `used` is the first free one. */
  private bytes = new Uint8Array(INITIAL * 32);
  private used = 0;
  /**
   * (hash, entry) pairs, linear probing; entry -1: empty. A pair whose entry is forgotten is a tombstone: probing
   * goes on past it, and a new entry may take its place. Twice as many pairs as entries have room.
   */
  private table = new Int32Array(2 * 2 * INITIAL).fill(-1);

  constructor(readonly keepMs: number) {}

  /** Entries kept (for memory figures). */
  get size(): number {
    return this.end - this.head;
  }

  /**
   * Records (accountId, eventId) at `t` unless it is a retry: the same IDs recorded last at a time the clock
   * (before this event) is less than keepMs past. Returns false for a retry.
   */
  add(accountId: string, eventId: string, t: number, clock: number): boolean {
    const units = accountId.length + eventId.length;
    // Room first (two bytes a character at most), so the probe's pair stays where it was found.
    if (this.end === this.times.length || this.used + 2 * units > this.bytes.length) this.makeRoom(2 * units);
    // One pass over the IDs: hashed (FNV-1a, a zero between them) and copied a byte a character past `used`
    // (kept only if the event is recorded; rewritten two bytes a character if any is past a byte).
    const bytes = this.bytes;
    const at = this.used;
    let h = 0x811c9dc5;
    let all = 0;
    for (let k = 0; k < accountId.length; k++) {
      const c = accountId.charCodeAt(k);
      h = Math.imul(h ^ c, 0x01000193);
      bytes[at + k] = c;
      all |= c;
    }
    h = Math.imul(h, 0x01000193);
    const eventAt = at + accountId.length;
    for (let k = 0; k < eventId.length; k++) {
      const c = eventId.charCodeAt(k);
      h = Math.imul(h ^ c, 0x01000193);
      bytes[eventAt + k] = c;
      all |= c;
    }
    h |= 0;
    const wide = all > 255;
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let free = -1;
    let p = h & mask;
    for (let i = table[2 * p + 1]!; i !== -1; p = (p + 1) & mask, i = table[2 * p + 1]!) {
      if (i < this.head) {
        if (free < 0) free = p;
      } else if (table[2 * p] === h && this.holds(i, accountId, eventId)) {
        if (this.times[i]! > clock - this.keepMs) return false;
        // Recorded too long ago: recorded anew, and this pair now names the new entry.
        free = p;
        break;
      }
    }
    if (free < 0) free = p;
    const i = this.end++;
    if (wide) {
      write2(bytes, at, accountId);
      write2(bytes, at + 2 * accountId.length, eventId);
    }
    this.used = at + units * (wide ? 2 : 1);
    this.entries[2 * i] = at;
    this.entries[2 * i + 1] = accountId.length * 2 + (wide ? 1 : 0);
    this.times[i] = t;
    table[2 * free] = h;
    table[2 * free + 1] = i;
    return true;
  }

  /** Whether entry i holds these two IDs. */
  private holds(i: number, accountId: string, eventId: string): boolean {
    const e = this.entries;
    const at = e[2 * i]!;
    const wide = e[2 * i + 1]! & 1;
    const accountLength = e[2 * i + 1]! >>> 1;
    const byteLength = (i + 1 < this.end ? e[2 * (i + 1)]! : this.used) - at;
    if (accountLength !== accountId.length || byteLength !== (accountLength + eventId.length) << wide)
      return false;
    return wide
      ? same2(this.bytes, at, accountId) && same2(this.bytes, at + 2 * accountLength, eventId)
      : same1(this.bytes, at, accountId) && same1(this.bytes, at + accountLength, eventId);
  }

  /** Forgets the oldest entries the clock is keepMs past. */
  expire(clock: number): void {
    const cut = clock - this.keepMs;
    let head = this.head;
    while (head < this.end && this.times[head]! <= cut) head++;
    this.head = head;
  }

  /**
   * Room for one more entry of `length` bytes: the forgotten entries compacted away, the arrays grown if they
   * would be more than half full, and the table rebuilt without tombstones.
   */
  private makeRoom(length: number): void {
    const from = this.head;
    const kept = this.end - from;
    const bytesFrom = kept > 0 ? this.entries[2 * from]! : this.used;
    const bytesKept = this.used - bytesFrom;
    let room = this.times.length;
    while (kept + 1 > room / 2) room *= 2;
    let byteRoom = this.bytes.length;
    while (bytesKept + length > byteRoom / 2) byteRoom *= 2;
    const entries = new Int32Array(room * 2);
    for (let i = 0; i < kept; i++) {
      entries[2 * i] = this.entries[2 * (from + i)]! - bytesFrom;
      entries[2 * i + 1] = this.entries[2 * (from + i) + 1]!;
    }
    const times = new Float64Array(room);
    times.set(this.times.subarray(from, this.end));
    if (byteRoom === this.bytes.length) this.bytes.copyWithin(0, bytesFrom, this.used);
    else {
      const bytes = new Uint8Array(byteRoom);
      bytes.set(this.bytes.subarray(bytesFrom, this.used));
      this.bytes = bytes;
    }
    // The table keeps, for each pair of IDs, only its newest entry: rebuilt from the old table's live pairs.
    const old = this.table;
    const table = new Int32Array(2 * 2 * room).fill(-1);
    const mask = 2 * room - 1;
    for (let q = 0; q < old.length; q += 2) {
      const i = old[q + 1]!;
      if (i < from) continue;
      let p = old[q]! & mask;
      while (table[2 * p + 1] !== -1) p = (p + 1) & mask;
      table[2 * p] = old[q]!;
      table[2 * p + 1] = i - from;
    }
    this.entries = entries;
    this.times = times;
    this.table = table;
    this.used = bytesKept;
    this.head = 0;
    this.end = kept;
  }
}

function write2(bytes: Uint8Array, at: number, s: string): void {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    bytes[at + 2 * k] = c & 0xff;
    bytes[at + 2 * k + 1] = c >>> 8;
  }
}

function same1(bytes: Uint8Array, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (bytes[at + k] !== s.charCodeAt(k)) return false;
  return true;
}

function same2(bytes: Uint8Array, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (bytes[at + 2 * k] !== (c & 0xff) || bytes[at + 2 * k + 1] !== c >>> 8) return false;
  }
  return true;
}
