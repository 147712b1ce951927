// SQLite's WAL checkpoints in a thread of their own. A checkpoint copies the WAL's pages into the database file
// and syncs it; run by SQLite itself it happens inside whichever commit crosses the threshold, and with libSQL's
// synchronous driver that commit, and so the API's event loop, waits for the copy and the fsync (measured: a
// large part of recording an event's features on the harmless path). Here a second connection, on a worker
// thread, checkpoints every few hundred milliseconds without waiting for readers or writers (PASSIVE), and the
// main connection's own automatic checkpoint stays as a backstop at a larger WAL, should the thread fall behind.
import { Worker } from 'node:worker_threads';

/** Pages in the WAL at which a connection checkpoints by itself (SQLite's default is 1,000 pages). */
export const BACKSTOP_WAL_PAGES = 10_000;

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Libsql = require(workerData.driver);
const db = new Libsql(workerData.file);
// [0]: 1 while a checkpoint runs; [1]: 1 once the process is exiting (no checkpoint starts after it).
const flags = new Int32Array(workerData.flags);
let stopped = false;
const checkpoint = () => {
  if (stopped) return;
  Atomics.store(flags, 0, 1);
  try {
    if (Atomics.load(flags, 1) === 1) return;
    // One row: busy (0 or 1), frames in the WAL, frames checkpointed.
    const began = Date.now();
    const row = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').raw().get();
    parentPort.postMessage({ frames: row[1], checkpointed: row[2], began });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  } finally {
    Atomics.store(flags, 0, 0);
    Atomics.notify(flags, 0);
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopped = true;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.postMessage({ stopped: true });
});
`;

/** One checkpoint: the WAL's frames, how many of them are in the database file, when it began (ms). */
export interface CheckpointFigures {
  frames: number;
  checkpointed: number;
  began: number;
}

export interface Checkpointer {
  /** The last checkpoint's figures, for tests and diagnostics. */
  last(): CheckpointFigures | undefined;
  /**
   * The next checkpoint that began at `after` or later (tests): one the thread took while the caller was still
   * writing may be waiting in the queue, and says nothing of what was written since.
   */
  next(after?: number): Promise<CheckpointFigures>;
  stop(): Promise<void>;
}

/** Each running thread's flags (see THREAD). */
const running = new Set<Int32Array>();

/**
 * A process that exits without closing its database (process.exit) ends the threads wherever they are; ended in
 * the middle of a checkpoint, libSQL's native finalizer aborts the process (SIGABRT, seen at a test process's
 * exit). So at exit no new checkpoint starts, and the exit waits (at most 2 s in all) for those running.
 */
function atExit(): void {
  for (const flags of running) Atomics.store(flags, 1, 1);
  const until = Date.now() + 2_000;
  for (const flags of running) Atomics.wait(flags, 0, 1, Math.max(0, until - Date.now()));
}

export function startCheckpointer(file: string, everyMs = 250): Checkpointer {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const thread = new Worker(THREAD, {
    eval: true,
    workerData: { file, everyMs, driver: require.resolve('libsql'), flags: flags.buffer },
  });
  running.add(flags);
  if (!process.listeners('exit').includes(atExit)) process.on('exit', atExit);
  // Never what keeps a process alive: closing the database stops it, and an exit ends it anyway.
  thread.unref();
  let last: CheckpointFigures | undefined;
  let waiters: { after: number; resolve: (r: CheckpointFigures) => void }[] = [];
  let stopped: (() => void) | undefined;
  thread.on('message', (m: Partial<CheckpointFigures> & { stopped?: boolean }) => {
    if (m.stopped) return stopped?.();
    if (m.frames === undefined) return; // a busy database or a passing error: the next turn tries again
    const figures = { frames: m.frames, checkpointed: m.checkpointed!, began: m.began! };
    last = figures;
    const due = waiters.filter((w) => figures.began >= w.after);
    waiters = waiters.filter((w) => figures.began < w.after);
    for (const w of due) w.resolve(figures);
  });
  // A thread that dies leaves the backstop: the main connection checkpoints by itself at a larger WAL.
  thread.on('error', () => undefined);
  let exited = false;
  thread.once('exit', () => {
    exited = true;
    running.delete(flags);
  });
  let stopping: Promise<void> | undefined;
  return {
    last: () => last,
    next: (after = 0) => new Promise((resolve) => waiters.push({ after, resolve })),
    // Once: a second call (a database closed twice) waits for the same end.
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (exited) return resolve();
        const done = () => resolve();
        stopped = done;
        thread.once('exit', done);
        thread.postMessage('stop');
      }).then(() => thread.terminate().then(() => undefined))),
  };
}
