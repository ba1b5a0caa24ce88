#!/usr/bin/env node
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configCheck } from './config-check.js';
import { configSchema } from './config-schema.js';
import { start } from './start.js';

const USAGE = `dingops — ChatOps bot framework for DingTalk

Usage:
  dingops start [--config file] [--demo]      run the bot (--demo: on the embedded simulator when there are no credentials)
  dingops register [--config file]            what to paste into DingTalk's console, checked
  dingops sim [--port 4010] [--org file]      a standalone DingTalk simulator
  dingops chat [--as alice] [--group ops] [--sim URL]   chat with the bot through the simulator
  dingops doctor [--json] [--fresh] [--only id,...]   check the bot and the DingTalk app (exit 0 ok, 1 warnings, 2 errors)
  dingops config check [file]                 validate a config file (exit 0 valid, 1 invalid)
  dingops config schema                       print the config JSON Schema (for editor completion)
  dingops plugin new <name> [--dir path]      create a plugin package (command, card, config, test)
  dingops help [command]                      this text, or a command's

Every command takes --help. Environment: DINGOPS_CONFIG, DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET,
DINGTALK_API_BASE, DINGTALK_OAPI_BASE, DINGOPS_PORT, DINGOPS_HOST, DINGOPS_STATUS_TOKEN,
DINGOPS_STORAGE_URL, DINGOPS_LOG_LEVEL, DINGOPS_LOCALE override the config file (\`dingops config check\` shows where each value came from).`;

/** Each command's own usage, for `dingops <command> --help`. */
const HELP: Record<string, string> = {
  start: `Usage: dingops start [--config file] [--demo] [--sim-port 4010]

Runs the bot. It connects to DingTalk with dingtalk.clientId and dingtalk.clientSecret (or
DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET); without them it exits 1, unless --demo asks
for the embedded simulator (what \`npm start\` does), where status and /readyz say "demo".

  --config, -c   config file (default: DINGOPS_CONFIG, else ./bot.config.yaml, else defaults)
  --demo         no credentials: run against the embedded simulator instead of refusing
  --sim-port     the embedded simulator's port (default 4010, or DINGOPS_SIM_PORT)`,
  register: `Usage: dingops register [--config file]

Stream mode: checks that DingTalk's gateway accepts the credentials. HTTP mode: prints the URLs
to paste into the developer console, then calls the running bot as DingTalk would.`,
  sim: `Usage: dingops sim [--port 4010] [--host 127.0.0.1] [--org file]

A standalone DingTalk simulator (Stream gateway, OpenAPI, HTTP callbacks, test API).`,
  chat: `Usage: dingops chat [--as alice] [--group ops] [--sim URL]

A terminal DingTalk: say something as a user of the simulator's org, in a group or a DM.
Bot cards show numbered buttons (type the number to click); /as bob, /group ops, /dm, /quit.
With piped input, each line is sent after the reply to the one before, and the end exits 0.

  --as      the user who speaks (default alice)
  --group   a group title (default: a direct message to the bot)
  --sim     the simulator's URL (default DINGOPS_SIM_URL, else http://127.0.0.1:4010)`,
  doctor: `Usage: dingops doctor [--config file] [--json] [--fresh] [--only id,...]

Checks the config, storage, clock, credentials, connection, permissions, groups, people and
quota, and the plugins' own checks. Asks the running bot when there is one. Exit 0 all ok,
1 warnings, 2 errors.

  --json    machine-readable results
  --fresh   run the DingTalk probes again instead of using results from the last 10 minutes
  --only    only these checks (ids or id prefixes, comma-separated)`,
  plugin: `Usage: dingops plugin new <name> [--dir path]

Creates a plugin package in ./<name> (or --dir): index.ts with a command, a card with a button
and a config schema; a test on dingops/testing (node --test); package.json with dingops as a
peer dependency; a strict tsconfig.json; a bot.config.yaml that loads it; a README.
Then: cd <name> && npm install && npm test && npm start`,
  config: `Usage: dingops config check [file]
       dingops config schema

check    validates a config file (every problem at once, with line numbers) and shows where
         each value came from: the file (and line), an environment variable, or a default
schema   prints the config's JSON Schema (for editor completion)`,
};

function wantsHelp(args: Array<string | undefined>): boolean {
  return args.some((a) => a === '--help' || a === '-h');
}

/** Runs one CLI command; resolves to the exit code (long-running commands resolve when they stop). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  const args = [sub, ...rest].filter((x): x is string => x !== undefined);
  if (cmd && HELP[cmd] && wantsHelp(args)) {
    process.stdout.write(`${HELP[cmd]}\n`);
    return 0;
  }
  switch (cmd) {
    case 'start':
      return start(args);
    case 'register':
      return (await import('./register.js')).register(args);
    case 'sim':
      return (await import('./sim.js')).simCommand(args);
    case 'chat': {
      const { values } = parseArgs({
        args,
        options: {
          as: { type: 'string', default: 'alice' },
          group: { type: 'string' },
          sim: { type: 'string', default: process.env.DINGOPS_SIM_URL ?? 'http://127.0.0.1:4010' },
        },
      });
      // Loaded here, not at the top: it brings readline, which a running bot never needs.
      const { runChat } = await import('./chat-client.js');
      await runChat({ sim: values.sim, user: values.as, group: values.group });
      return 0;
    }
    case 'doctor':
      return (await import('./doctor.js')).doctor(args);
    case 'plugin':
      if (sub === 'new') return (await import('./plugin-new.js')).pluginNew(rest);
      process.stderr.write(`unknown: dingops plugin ${sub ?? ''}\n${HELP.plugin}\n`);
      return 2;
    case 'config':
      if (sub === 'check') return configCheck(rest);
      if (sub === 'schema') return configSchema(rest);
      process.stderr.write(`unknown: dingops config ${sub ?? ''}\n${HELP.config}\n`);
      return 2;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${(sub && HELP[sub]) || USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
  }
}

/**
 * Ends the process with the command's code. A failed command closed what it opened, but a
 * library may still hold a socket or timer: after a short grace the process exits anyway,
 * so a fatal start-up error never leaves a process hanging.
 */
export function exitWith(code: number): void {
  process.exitCode = code;
  if (code !== 0) setTimeout(() => process.exit(code), 500).unref();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(exitWith, (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWith(1);
  });
}
