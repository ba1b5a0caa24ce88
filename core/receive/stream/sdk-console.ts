import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

type Method = 'log' | 'info' | 'warn' | 'error';
const LEVEL: Record<Method, 'info' | 'warn' | 'error'> = {
  log: 'info',
  info: 'info',
  warn: 'warn',
  error: 'error',
};

let installed: { originals: Record<Method, (...args: unknown[]) => void>; loggers: Logger[] } | undefined;

/**
 * Work the SDK does for our client: its `connect` and `disconnect` run inside, and so do the
 * socket callbacks they set up (an async context follows the resources made in it). In the
 * built bot the SDK is bundled into our chunks, so its call stacks no longer name it.
 */
const sdkWork = new AsyncLocalStorage<true>();

/** Runs the SDK's `fn` so that what it prints, now or from what it sets up, is the SDK's. */
export function asSdk<T>(fn: () => T): T {
  return sdkWork.run(true, fn);
}

/**
 * The official `dingtalk-stream` SDK writes to the console (`connect success`,
 * `Disconnecting.`, errors) instead of taking a logger, which puts raw lines into the bot's
 * JSON log and over the terminal chat's prompt. While a Stream client runs, console calls
 * made by the SDK's own code (inside `asSdk`, or told by the call stack from the sources) go
 * to the bot's logger instead; everything else still reaches the console. Returns the undo.
 */
export function routeSdkConsole(log: Logger): () => void {
  if (!installed) {
    const originals = {} as Record<Method, (...args: unknown[]) => void>;
    const state = { originals, loggers: [] as Logger[] };
    for (const method of Object.keys(LEVEL) as Method[]) {
      originals[method] = console[method];
      console[method] = (...args: unknown[]) => {
        const target = state.loggers.at(-1);
        // The logger already names the component (the transport's child logger).
        if (target && (sdkWork.getStore() || new Error().stack?.includes('dingtalk-stream')))
          target[LEVEL[method]](args.map(text).join(' ').trim());
        else originals[method].apply(console, args);
      };
    }
    installed = state;
  }
  const state = installed;
  state.loggers.push(log);
  return () => {
    const i = state.loggers.lastIndexOf(log);
    if (i >= 0) state.loggers.splice(i, 1);
    if (!state.loggers.length && installed === state) {
      for (const method of Object.keys(LEVEL) as Method[]) console[method] = state.originals[method];
      installed = undefined;
    }
  };
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.message;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
