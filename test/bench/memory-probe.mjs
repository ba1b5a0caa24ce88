// `node --import test/bench/memory-probe.mjs`: the benchmark's view inside the bot. On
// SIGUSR2 it writes where the process's memory is to MEMORY_PROBE_OUT (JSON): resident
// memory backed by files (the node executable, shared libraries) and anonymous, the V8 heap
// by space, and memory outside the heap. A listener and a few functions: nothing measurable.
import { readFileSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

process.on('SIGUSR2', () => {
  const out = process.env.MEMORY_PROBE_OUT;
  if (!out) return;
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  // Resident memory per mapped file (the executable, libraries, the SQLite addon).
  // and anonymous memory by kind: malloc's main heap ([heap]), the arenas malloc gives other
  // threads (64 MB reservations), and the rest (V8's heap pages, thread stacks, mmap'd buffers).
  const files = {};
  const anonymous = { mallocHeapMb: 0, mallocArenasMb: 0, otherMb: 0 };
  let file = '';
  let kind = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      file = m[3].startsWith('/') ? m[3] : '';
      const size = Number.parseInt(m[2], 16) - Number.parseInt(m[1], 16);
      kind = file
        ? ''
        : m[3] === '[heap]'
          ? 'mallocHeapMb'
          : m[3] === '' && size === 64 * 1048576
            ? 'mallocArenasMb'
            : m[3] === ''
              ? 'otherMb'
              : '';
    } else if (line.startsWith('Rss:')) {
      const k = Number(line.split(/\s+/)[1]);
      if (file) files[file] = (files[file] ?? 0) + k;
      else if (kind) anonymous[kind] += k / 1024;
    }
  }
  const usage = process.memoryUsage();
  writeFileSync(
    out,
    JSON.stringify({
      rssMb: mb(kb('Rss') * 1024),
      anonMb: mb(kb('Anonymous') * 1024),
      fileMb: mb((kb('Rss') - kb('Anonymous')) * 1024),
      files: Object.entries(files)
        .map(([name, k]) => ({ name, mb: mb(k * 1024) }))
        .filter((f) => f.mb >= 0.5)
        .sort((a, b) => b.mb - a.mb),
      heap: {
        usedMb: mb(usage.heapUsed),
        totalMb: mb(usage.heapTotal),
        spaces: Object.fromEntries(
          v8
            .getHeapSpaceStatistics()
            .filter((s) => s.physical_space_size > 0)
            .map((s) => [
              s.space_name,
              { residentMb: mb(s.physical_space_size), usedMb: mb(s.space_used_size) },
            ]),
        ),
      },
      externalMb: mb(usage.external),
      anonymous: Object.fromEntries(Object.entries(anonymous).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      threads: Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0),
    }),
  );
});
