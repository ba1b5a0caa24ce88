#!/usr/bin/env node
// Entry of the installed package: runs the compiled CLI. In a source checkout use `npm run dingops -- ...`.
import('../dist/core/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  });
