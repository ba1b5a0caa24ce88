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
  // Resident memory per mapped file (the executable, libraries, the SQLite addon), and of
  // the anonymous memory, malloc's main heap ([heap]).
  const files = {};
  let mallocKb = 0;
  let name = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) name = m[1];
    else if (line.startsWith('Rss:')) {
      const resident = Number(line.split(/\s+/)[1]);
      if (name.startsWith('/')) files[name] = (files[name] ?? 0) + resident;
      else if (name === '[heap]') mallocKb += resident;
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
      mallocMb: mb(mallocKb * 1024),
      threads: Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0),
    }),
  );
});
