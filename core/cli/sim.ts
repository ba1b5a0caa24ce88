import { parseArgs } from 'node:util';
import { startSimulator } from '../../simulator/index.js';
import { sandboxLine } from './sandbox-line.js';

/** `dingops sim [--port 4010] [--host 127.0.0.1] [--org file]`: a standalone simulator. */
export async function simCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      org: { type: 'string' },
    },
  });
  const sim = await startSimulator({ port: Number(values.port), host: values.host, org: values.org });
  process.stdout.write(`simulator listening on ${sim.url}\n${sandboxLine(sim.url)}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}
