#!/usr/bin/env node
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runChat } from './chat-client.js';
import { configCheck } from './config-check.js';
import { configSchema } from './config-schema.js';
import { start } from './start.js';

const USAGE = `dingops — ChatOps bot framework for DingTalk

Usage:
  dingops start [--config bot.config.yaml]    run the bot
  dingops register [--config file]            what to paste into DingTalk's console, checked
  dingops sim [--port 4010] [--org file]      a standalone DingTalk simulator
  dingops chat [--as alice] [--group ops] [--sim URL]   chat with the bot through the simulator
  dingops doctor [--json] [--fresh] [--only id,...]   check the bot and the DingTalk app (exit 0 ok, 1 warnings, 2 errors)
  dingops config check [file]                 validate a config file (exit 0 valid, 1 invalid)
  dingops config schema                       print the config JSON Schema (for editor completion)
  dingops help                                this text

Environment: DINGOPS_CONFIG, DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET, DINGTALK_API_BASE,
DINGOPS_PORT, DINGOPS_STORAGE_URL, DINGOPS_LOG_LEVEL, DINGOPS_LOCALE override the config file.`;

/** Runs one CLI command; resolves to the exit code (long-running commands resolve when they stop). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return start([sub, ...rest].filter((x): x is string => x !== undefined));
    case 'register':
      return (await import('./register.js')).register(
        [sub, ...rest].filter((x): x is string => x !== undefined),
      );
    case 'sim':
      return (await import('./sim.js')).simCommand(
        [sub, ...rest].filter((x): x is string => x !== undefined),
      );
    case 'chat': {
      const { values } = parseArgs({
        args: [sub, ...rest].filter((x): x is string => x !== undefined),
        options: {
          as: { type: 'string', default: 'alice' },
          group: { type: 'string' },
          sim: { type: 'string', default: process.env.DINGOPS_SIM_URL ?? 'http://127.0.0.1:4010' },
        },
      });
      await runChat({ sim: values.sim, user: values.as, group: values.group });
      return 0;
    }
    case 'doctor':
      return (await import('./doctor.js')).doctor([sub, ...rest].filter((x): x is string => x !== undefined));
    case 'config':
      if (sub === 'check') return configCheck(rest);
      if (sub === 'schema') return configSchema(rest);
      process.stderr.write(`unknown: dingops config ${sub ?? ''}\n${USAGE}\n`);
      return 2;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
