import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite WAL checkpoints on a worker thread with its own connection. better-sqlite3 is
 * synchronous, so an automatic checkpoint (which syncs the database file to disk) would stall
 * the bot's event loop for as long as the disk takes; a PASSIVE checkpoint from another
 * connection does the same work without blocking the writer.
 */
export function startCheckpointer(file: string, intervalMs = 1000): { stop(): Promise<void> } {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file, { fileMustExist: true });
    db.pragma('busy_timeout = 1000');
    const timer = setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, workerData.intervalMs);
    parentPort.on('message', () => { clearInterval(timer); try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} db.close(); parentPort.close(); });
  `;
  const worker = new Worker(source, {
    eval: true,
    workerData: { file, intervalMs, module: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  worker.unref();
  worker.on('error', () => undefined);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate().then(() => resolve()), 2000).unref();
      }),
  };
}
