import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunSpec {
  /** argv[0] is the program; no shell is ever involved. */
  argv: string[];
  cwd?: string;
  /** The whole environment of the child (already scrubbed by the caller). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Output kept (bytes); the rest is counted and marked as truncated. */
  outputLimit: number;
  /** Between TERM and KILL when stopping the process group. */
  graceMs?: number;
  /** Written to the program's standard input, which is then closed (agent prompts). */
  stdin?: string;
  /** Each chunk of output as it comes (stdout and stderr interleaved). */
  onOutput?: (chunk: string) => void;
}

export type RunEnd = 'succeeded' | 'failed' | 'timed-out' | 'cancelled' | 'error';

export interface RunResult {
  end: RunEnd;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  output: string;
  /** Bytes of output beyond `outputLimit` that were dropped. */
  droppedBytes: number;
  /** Why it could not start (ENOENT, EACCES...), for `error`. */
  error?: string;
}

export interface RunningTask {
  pid: number | undefined;
  done: Promise<RunResult>;
  /** Stops the whole process group: TERM, then KILL after the grace period. */
  cancel(): void;
}

/**
 * Runs one program in its own process group (so a timeout or cancel reaches every child
 * it started), with the given environment only, collecting output up to a limit.
 */
export function runTask(spec: RunSpec): RunningTask {
  const started = Date.now();
  const grace = spec.graceMs ?? 3000;
  let child: ChildProcess;
  let stopReason: 'timed-out' | 'cancelled' | undefined;
  let output = '';
  let kept = 0;
  let dropped = 0;
  const take = (buf: Buffer) => {
    const room = spec.outputLimit - kept;
    const part = room > 0 ? buf.subarray(0, room) : Buffer.alloc(0);
    dropped += buf.length - part.length;
    kept += part.length;
    const text = part.toString('utf8');
    if (text) {
      output += text;
      spec.onOutput?.(text);
    }
  };
  const stopGroup = (reason: 'timed-out' | 'cancelled') => {
    // The leader may have exited while its children still run: the group is signalled anyway.
    if (stopReason) return;
    stopReason = reason;
    signalGroup(child, 'SIGTERM');
    setTimeout(() => signalGroup(child, 'SIGKILL'), grace).unref();
  };
  const [program] = spec.argv;
  if (program === undefined) return failed(new Error('the task has no command'), started);
  let spawnError: string | undefined;
  try {
    // The supervisor leads the task's process group and ends it when this process ends,
    // however it ends (supervisor.mjs): a killed bot leaves no task running untracked.
    child = spawn(process.execPath, [SUPERVISOR, '--', ...spec.argv], {
      cwd: spec.cwd,
      env: { ...spec.env, DINGOPS_TASK_GRACE_MS: String(grace) },
      shell: false,
      detached: true,
      stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    return failed(err, started);
  }
  // The lifeline: held open for as long as this process lives; the supervisor says on it
  // when the program could not start.
  const lifeline = child.stdio[3] as import('node:stream').Duplex | undefined;
  lifeline?.on('error', () => undefined);
  lifeline?.on('data', (d: Buffer) => {
    const m = /^spawn-error (\S+)/.exec(d.toString('utf8'));
    if (m) spawnError = m[1];
  });
  if (spec.stdin !== undefined) {
    // A program that exits without reading its input must not crash the bot (EPIPE).
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(spec.stdin);
  }
  const timer = setTimeout(() => stopGroup('timed-out'), spec.timeoutMs);
  timer.unref();
  // Both are pipes (stdio above), so both exist.
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const done = new Promise<RunResult>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ...failedResult(err, started), output, droppedBytes: dropped });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Nothing a task started outlives it (a background child would escape timeouts and cancel).
      signalGroup(child, 'SIGKILL');
      lifeline?.destroy();
      if (spawnError)
        return resolve({ ...failedResult({ code: spawnError }, started), output, droppedBytes: dropped });
      resolve({
        end: stopReason ?? (code === 0 ? 'succeeded' : 'failed'),
        exitCode: code,
        signal,
        durationMs: Date.now() - started,
        output,
        droppedBytes: dropped,
      });
    });
  });
  return { pid: child.pid, done, cancel: () => stopGroup('cancelled') };
}

/** The task supervisor, beside this module in the sources and in the build (deploy/bundle.mjs copies it). */
const SUPERVISOR = fileURLToPath(new URL('./supervisor.mjs', import.meta.url));

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function failedResult(err: unknown, started: number): RunResult {
  return {
    end: 'error',
    exitCode: null,
    signal: null,
    durationMs: Date.now() - started,
    output: '',
    droppedBytes: 0,
    error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
  };
}

function failed(err: unknown, started: number): RunningTask {
  return { pid: undefined, done: Promise.resolve(failedResult(err, started)), cancel: () => undefined };
}
