// Runs one task program for the bot, and makes sure nothing of it outlives the bot.
//
// The bot starts this script as the leader of a new process group, with the program's argv
// after `--` and a fourth pipe (fd 3) it keeps open for as long as it lives. The program runs
// in this same group. When the bot ends, however it ends (SIGKILL included, which nothing can
// catch), the kernel closes its end of fd 3: this script then stops the whole group (TERM,
// KILL after the grace period), so no task process runs on untracked. Otherwise it only
// passes the program's exit on: the same code, or the same signal.
//
// Plain JavaScript with no imports but Node's own: it is copied beside the built plugin and
// started by path, in the sources and in the build alike.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';

const dash = process.argv.indexOf('--');
const [program, ...args] = dash < 0 ? [] : process.argv.slice(dash + 1);
const graceMs = Number(process.env.DINGOPS_TASK_GRACE_MS ?? 3000);
if (!program) {
  process.stderr.write('supervisor: no program after --\n');
  process.exit(2);
}

// The program's environment is the task's only: our own control variable goes no further.
const env = { ...process.env };
delete env.DINGOPS_TASK_GRACE_MS;

const child = spawn(program, args, { stdio: ['inherit', 'inherit', 'inherit'], env, shell: false });

let stopping = false;
function stopGroup() {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {}
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {}
  }, graceMs).unref();
}

// The group's TERM reaches this script too: it stays until the program is gone.
process.on('SIGTERM', () => {});

const lifeline = new Socket({ fd: 3, readable: true, writable: true });
lifeline.on('data', () => {});
lifeline.on('end', stopGroup);
lifeline.on('error', stopGroup);

// A program that cannot start (ENOENT, EACCES) is told to the bot on the lifeline.
child.once('error', (err) => {
  lifeline.end(`spawn-error ${err.code ?? err.message}\n`, () => process.exit(127));
  setTimeout(() => process.exit(127), 1000).unref();
});
child.once('exit', (code, signal) => {
  lifeline.destroy();
  if (signal) {
    process.removeAllListeners('SIGTERM');
    process.kill(process.pid, signal);
    // A signal this process ignores by default: say it as a code instead.
    setTimeout(() => process.exit(128), 100).unref();
  } else process.exit(code ?? 1);
});
