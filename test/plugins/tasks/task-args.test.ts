import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { tasksConfigSchema } from '../../../plugins/tasks/config.js';
import { buildArgv, buildEnv, checkValues, secretValues } from '../../../plugins/tasks/task-args.js';

function config(task: Record<string, unknown>) {
  return tasksConfigSchema.safeParse({ tasks: { t: task } });
}

function task(t: Record<string, unknown>) {
  const r = config(t);
  if (!r.success) throw new Error(r.error.message);
  return r.data.tasks.t!;
}

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof UserError ? String(err.vars.why) : `not a UserError: ${err}`;
  }
  return 'accepted';
};

describe('task arguments', () => {
  const files = task({
    command: ['cat', '--', '/srv/logs/{file}', '{follow}'],
    params: {
      file: { type: 'string', pattern: '.*' },
      follow: { type: 'boolean', flag: '-f' },
      n: { type: 'int', min: -5, max: 5 },
    },
  });

  it('refuses control characters, `..` segments and leading dashes whatever the pattern allows', () => {
    const base = { follow: false, n: 1 };
    expect(refused(() => checkValues(files, { ...base, file: 'a\nb' }))).toBe('control characters');
    expect(refused(() => checkValues(files, { ...base, file: 'a\rb' }))).toBe('control characters');
    expect(refused(() => checkValues(files, { ...base, file: 'x\u0000' }))).toBe('control characters');
    for (const v of ['..', '../etc/passwd', 'a/../../b', 'a\\..\\b', 'logs/..'])
      expect(refused(() => checkValues(files, { ...base, file: v }))).toBe('“..” path segments');
    for (const v of ['-rf', '--output=/x', '-'])
      expect(refused(() => checkValues(files, { ...base, file: v }))).toBe('a leading “-”');
    // Dots that are not a segment, and negative numbers, are fine.
    expect(checkValues(files, { ...base, file: 'app..log', n: -3 })).toEqual({
      file: 'app..log',
      follow: false,
      n: '-3',
    });
  });

  it('puts values into argv elements, never splitting or joining them, and booleans as their flag', () => {
    const values = checkValues(files, { file: 'a b;$(id)`x`|y', follow: true, n: 0 });
    expect(buildArgv(files, values)).toEqual(['cat', '--', '/srv/logs/a b;$(id)`x`|y', '-f']);
    expect(buildArgv(files, { ...values, follow: false })).toEqual(['cat', '--', '/srv/logs/a b;$(id)`x`|y']);
  });

  it('builds the environment from the task only: PATH of the task, allowed and set variables', () => {
    const t = task({
      command: ['env'],
      env: { allow: ['HOME', 'SECRETISH'], set: { MODE: 'safe', TOKEN: 'tok-123456' }, secret: ['TOKEN'] },
      path: '/opt/bin',
    });
    const env = buildEnv(t, {
      PATH: '/evil',
      HOME: '/home/bot',
      DINGTALK_CLIENT_SECRET: 'x',
      LD_PRELOAD: '/x.so',
    });
    expect(env).toEqual({
      PATH: '/opt/bin',
      LANG: 'C.UTF-8',
      HOME: '/home/bot',
      MODE: 'safe',
      TOKEN: 'tok-123456',
    });
    expect(secretValues(t, env)).toEqual(['tok-123456']);
  });

  it('rejects configurations that would be unsafe or cannot work', () => {
    const problems = (t: Record<string, unknown>) => {
      const r = config(t);
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(problems({ command: ['x', '{nope}'] })).toEqual(['unknown placeholder {nope} (params: none)']);
    expect(problems({ command: ['x'], env: { set: { PATH: '/tmp' } } })).toEqual([
      'PATH cannot be set for a task (use `path`)',
    ]);
    expect(problems({ command: ['x'], env: { allow: ['LD_PRELOAD'] } })).toEqual([
      'LD_PRELOAD cannot be set for a task (use `path`)',
    ]);
    expect(problems({ command: ['x', '--f={b}'], params: { b: { type: 'boolean', flag: '-b' } } })).toEqual([
      'a boolean param stands alone in the command: add "{b}" as an element',
    ]);
    expect(problems({ kind: 'agent', command: ['agent'] })).toEqual([
      'an agent task must name the users who may use it',
    ]);
    expect(problems({ command: ['x', '{s}'], params: { s: { type: 'string' } } }).length).toBe(1);
  });
});
