import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageInfo } from '../config/version.js';

/**
 * `dingops plugin new <name> [--dir path]`: a plugin package that works out of the box: a
 * command, a card with a button and a config schema (`index.ts`), a test on `dingops/testing`,
 * `package.json` (dingops as a peer dependency), a strict `tsconfig.json`, a `bot.config.yaml`
 * that loads it, and a README. `npm install && npm test && npm start` then run it.
 */
export function pluginNew(args: string[], out: NodeJS.WritableStream = process.stdout): number {
  const name = args.find((a) => !a.startsWith('-'));
  if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
    process.stderr.write('usage: dingops plugin new <name>   (lower-case letters, digits and -)\n');
    return 2;
  }
  const dirFlag = args.indexOf('--dir');
  const dir = resolve((dirFlag >= 0 ? args[dirFlag + 1] : undefined) || name);
  if (existsSync(dir) && existsSync(join(dir, 'package.json'))) {
    process.stderr.write(`${dir} already has a package.json: choose another name or --dir\n`);
    return 1;
  }
  // The scaffold asks for a dingops compatible with this one.
  const { version } = packageInfo();
  // Until dingops is on the npm registry, point the scaffold at a packed tarball.
  const spec = process.env.DINGOPS_PACKAGE_SPEC ?? `^${version}`;
  const major =
    version.split('.')[0] === '0'
      ? `^${version.split('.').slice(0, 2).join('.')}`
      : `^${version.split('.')[0]}`;
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: `dingops-plugin-${name}`,
        version: '0.1.0',
        description: `A dingops plugin: ${name}`,
        type: 'module',
        main: 'index.ts',
        files: ['index.ts', 'README.md'],
        keywords: ['dingops-plugin'],
        // The dingops API this plugin was built for: dingops refuses to load it under another major.
        dingops: { api: major },
        scripts: {
          test: 'node --import tsx --test test/*.test.ts',
          typecheck: 'tsc --noEmit',
          start: 'dingops start --demo --config bot.config.yaml',
        },
        peerDependencies: { dingops: major },
        devDependencies: { dingops: spec, tsx: '^4.20.0', typescript: '^7.0.2', '@types/node': '^20.19.0' },
        // npm 11 runs dependencies' install scripts only when allowed: dingops needs SQLite's build.
        allowScripts: { 'better-sqlite3': true, esbuild: true },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          rootDir: '.',
          // The test imports ../index.ts as tsx runs it.
          allowImportingTsExtensions: true,
        },
        include: ['index.ts', 'test'],
      },
      null,
      2,
    )}\n`,
    'index.ts': indexTs(name),
    [`test/${name}.test.ts`]: testTs(name),
    'bot.config.yaml': `# Runs this plugin (npm start: on the embedded simulator while there are no DingTalk credentials).\nplugins:\n  ${name}:\n    from: .\n    greeting: Hello\n`,
    'README.md': readme(name),
    '.gitignore': 'node_modules\ndata\n',
  };
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  out.write(
    `Created the plugin '${name}' in ${dir}:\n${Object.keys(files)
      .map((f) => `  ${f}`)
      .join('\n')}\nNext: cd ${dir} && npm install && npm test && npm start\n`,
  );
  return 0;
}

function indexTs(name: string): string {
  return `import { card, defineCommand, definePlugin } from 'dingops';

export default definePlugin({
  name: '${name}',
  description: { en: 'The ${name} plugin', 'zh-CN': '${name} 插件' },
  // This plugin's section of bot.config.yaml (plugins.${name}), checked at start-up.
  config: (z) => z.strictObject({ greeting: z.string().min(1).default('Hello') }),
  i18n: {
    en: { description: 'Say hello', greeted: '{greeting}, {name}!', clicked: 'Clicked by {who}', button: 'Click me' },
    'zh-CN': { description: '打个招呼', greeted: '{greeting}，{name}！', clicked: '{who} 点了按钮', button: '点我' },
  },
  setup(ctx) {
    const greeting = (name: string, note?: string) =>
      card({
        title: ctx.t('greeted', { greeting: ctx.config.greeting, name }),
        status: 'info',
        body: note,
        buttons: [{ text: ctx.t('button'), action: { id: '${name}.click', params: { name } }, command: '${name} ' + name }],
      });

    ctx.actions.register({
      name: 'click',
      handler: ({ params, caller }) => ({ card: greeting(params.name ?? '?', ctx.t('clicked', { who: caller.nick })) }),
    });

    ctx.commands.register(
      defineCommand({
        name: '${name}',
        description: { key: '${name}.description' },
        args: [{ name: 'name', type: 'rest', required: false }],
        handler: ({ args, caller }) => greeting(args.name ?? caller.nick),
      }),
    );
  },
});
`;
}

function testTs(name: string): string {
  return `import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestBot, type TestBot } from 'dingops/testing';
import plugin from '../index.ts';

let tb: TestBot;
before(async () => {
  tb = await createTestBot({ plugins: [plugin], config: 'plugins:\\n  ${name}:\\n    greeting: Hi\\n' });
});
after(() => tb.stop());

test('answers with a card, and its button updates it', async () => {
  const reply = await tb.ask('${name} team', { group: 'ops' });
  assert.equal(reply.title, 'Hi, team!');
  const clicked = await tb.click(reply, 'Click me', { as: 'bob' });
  assert.match(clicked.content, /Clicked by bob/);
});
`;
}

function readme(name: string): string {
  return `# dingops-plugin-${name}

A [dingops](https://www.npmjs.com/package/dingops) plugin.

\`\`\`sh
npm install     # dingops, tsx and TypeScript
npm test        # node --test, on dingops/testing (a bot and an in-process DingTalk simulator)
npm start       # a bot with this plugin, on the embedded simulator (no DingTalk credentials needed)
\`\`\`

In a bot's \`bot.config.yaml\`:

\`\`\`yaml
plugins:
  ${name}:
    from: dingops-plugin-${name}    # the installed package (or a path to this folder)
    greeting: Hello
\`\`\`
`;
}
