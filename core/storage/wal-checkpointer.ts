import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** How often writes are looked for and, when there were some, the log copied. */
  intervalMs?: number;
  /**
   * Log length (frames of one page, ~4 KB) above which the main thread finishes the
   * worker's checkpoint so the log starts over. SQLite reuses the log from its start only
   * when a write begins with every frame copied; under sustained writes the worker never
   * catches up with the frames appended while it copies, and the log would grow without
   * bound. The main thread is the writer, so its own checkpoint right after the worker's
   * copies just those last frames (a millisecond or two) and can never be starved.
   */
  restartFrames?: number;
  /** The worker ends after this long without writes (a thread costs ~9 MB of memory). */
  idleMs?: number;
  /** Where the worker loads better-sqlite3 from (tests point it elsewhere to make it fail). */
  driverPath?: string;
  /** Told when the worker failed and checkpoints went back to the writing thread. */
  onFallback?: (err: unknown) => void;
}

/**
 * The worker: copies the write-ahead log into the database file on request. CommonJS
 * source evaluated in the thread, so it loads the same way from sources under tsx/vitest
 * and from the built package.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// Copying the log reads each page once: no use for better-sqlite3's 16 MB cache.
db.pragma('cache_size = -512');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  parentPort.postMessage(db.pragma('wal_checkpoint(PASSIVE)')[0]);
});
`;

/** Frames in the log and frames copied to the database file by the last checkpoint. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Checkpoints a SQLite database in WAL mode from a worker thread instead of the thread
 * that writes. better-sqlite3 runs SQLite's automatic checkpoints inside the commit that
 * crosses the threshold, so every few hundred pages one of the bot's writes also copied
 * the log into the database and waited for the disk; on a busy bot that was a fifth of
 * the main thread's time. Here the main thread only appends to the log, and the worker
 * copies it a few times a second while there are writes, each page once however often it
 * changed in between. The worker starts on the first writes and ends after a quiet spell,
 * so an idle bot carries no extra thread. If the worker fails, SQLite's automatic
 * checkpoints come back on the main connection.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly totalChanges: SQLite.Statement;
  private seenChanges = 0;
  private lastWriteAt = 0;
  private inFlight = false;
  private closed = false;
  /** The worker's last result (for tests and diagnostics). */
  last: CheckpointResult | undefined;
  checkpoints = 0;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly file: string,
    private readonly options: WalCheckpointerOptions = {},
  ) {
    sqlite.pragma('wal_autocheckpoint = 0');
    // Rows changed on this connection since it opened: a counter SQLite keeps anyway.
    this.totalChanges = sqlite.prepare('select total_changes()').pluck();
    this.seenChanges = this.totalChanges.get() as number;
    this.timer = setInterval(() => this.tick(), options.intervalMs ?? 250);
    this.timer.unref();
  }

  /** True while the worker thread exists. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  private tick(): void {
    if (!this.sqlite.open) {
      // Closed without close() (a test, a crash path): nothing left to checkpoint.
      void this.close();
      return;
    }
    const changes = this.totalChanges.get() as number;
    if (changes !== this.seenChanges) {
      this.seenChanges = changes;
      this.lastWriteAt = Date.now();
      this.request();
    } else if (
      this.worker &&
      !this.inFlight &&
      Date.now() - this.lastWriteAt > (this.options.idleMs ?? 10_000)
    )
      this.endWorker();
  }

  /** Asks the worker for a checkpoint, starting it if needed; one request at a time. */
  private request(): void {
    if (this.inFlight || this.closed) return;
    const worker = this.worker ?? this.startWorker();
    if (!worker) return;
    this.inFlight = true;
    worker.postMessage('checkpoint');
  }

  private startWorker(): Worker | undefined {
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          file: this.file,
          driverPath: this.options.driverPath ?? createRequire(import.meta.url).resolve('better-sqlite3'),
        },
      });
      worker.unref();
      worker.on('message', (result: CheckpointResult) => this.onCheckpoint(result));
      worker.on('error', (err) => this.fallBack(err));
      worker.on('exit', () => {
        // An ended worker's exit can come after its successor took a request: that request
        // is still in flight (clearing it let the successor be ended as idle before it answered).
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.inFlight = false;
      });
      this.worker = worker;
      return worker;
    } catch (err) {
      this.fallBack(err);
      return undefined;
    }
  }

  private onCheckpoint(result: CheckpointResult): void {
    this.inFlight = false;
    this.last = result;
    this.checkpoints++;
    if (result.log > (this.options.restartFrames ?? 4000) && this.sqlite.open && !this.closed)
      this.last = (this.sqlite.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0];
  }

  private endWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Referenced while it closes: whoever awaits this (a store being closed at the end of a
    // CLI command) must not see the process exit under it with the work after it undone.
    worker.ref();
    worker.postMessage('close');
    return exited;
  }

  /** The worker failed: checkpoints go back to SQLite's automatic ones on this connection. */
  private fallBack(err: unknown): void {
    this.worker = undefined;
    this.inFlight = false;
    clearInterval(this.timer);
    if (this.closed) return;
    this.closed = true;
    // Small and frequent: a synchronous checkpoint of 200 pages is a short pause.
    if (this.sqlite.open) this.sqlite.pragma('wal_autocheckpoint = 200');
    this.options.onFallback?.(err);
  }

  /**
   * Ends the worker (waiting for a checkpoint in progress). Call before closing the main
   * connection, so that connection is the last one and SQLite checkpoints and removes the
   * log as it closes.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.endWorker();
  }
}
