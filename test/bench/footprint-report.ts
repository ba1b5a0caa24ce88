import { type FootprintResult, type MemoryBreakdown, moduleCosts } from './footprint.js';

/** The footprint's rows of the benchmark table. */
export function footprintRows(fp: FootprintResult): Array<[string, string, string]> {
  const flags = fp.nodeFlags.length ? ` (node ${fp.nodeFlags.join(' ')}, as the container runs it)` : '';
  return [
    [
      'start to ready (process start to /readyz 200, Stream connected)',
      `${fp.readyMs} ms`,
      'target ≤ 1,000 ms',
    ],
    [
      `idle bot RSS (core, hello, faq, SQLite, Stream)${flags}`,
      `${fp.idleMb.toFixed(1)} MB`,
      `median 25-40 s after start; start-up peak ${fp.startupPeakMb.toFixed(1)} MB (target ≤ 75 MB)`,
    ],
    ...fp.loads.map((l): [string, string, string] => [
      `peak RSS under sustained chat, ${l.window} in flight (ping and hello <name>)`,
      `${l.peakMb.toFixed(1)} MB`,
      `${l.messages.toLocaleString('en-US')} messages in ${l.seconds} s (${l.perSecond.toLocaleString('en-US')} msg/s) (target ≤ 100 MB)`,
    ]),
  ];
}

/** Where the bot's memory goes: the probe's view from inside, and what each dependency costs alone. */
export function memoryBreakdown(fp: FootprintResult): string {
  return [
    ...describeMemory('Idle (at ~40 s)', fp.idle),
    ...describeMemory('Right after the chat load', fp.loaded),
    'Module graph, each imported alone into a bare node (RSS / V8 heap over bare node):',
    ...moduleCosts().map((c) => `  ${c.module}: +${c.rssMb} MB / +${c.heapMb} MB`),
  ].join('\n');
}

function describeMemory(when: string, m: MemoryBreakdown): string[] {
  const spaces = Object.entries(m.heap.spaces)
    .map(([name, s]) => `${name} ${s.residentMb} MB (${s.usedMb} used)`)
    .join(', ');
  const outside = Math.round((m.anonMb - m.heap.totalMb) * 10) / 10;
  return [
    `${when}: RSS ${m.rssMb} MB = ${m.fileMb} MB file-backed + ${m.anonMb} MB anonymous; ${m.threads} threads`,
    `  file-backed: ${m.files.map((f) => `${f.name.split('/').pop()} ${f.mb} MB`).join(', ')}`,
    `  V8 heap: ${m.heap.totalMb} MB (${m.heap.usedMb} MB used): ${spaces}`,
    `  outside the V8 heap: ${outside} MB anonymous: malloc ${m.mallocMb} MB (SQLite's page cache, V8's compiler zones), external buffers ${m.externalMb} MB, the rest thread stacks and V8's own`,
  ];
}
