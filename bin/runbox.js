#!/usr/bin/env node
// The runbox executable: hands argv and the process's streams to main and
// exits with what it returns (the remote command's own code, or 125).
import module from 'node:module';

// Start-up is on the hot path of every command: reuse compiled code across runs.
module.enableCompileCache?.();
const { main, processIo } = await import('../dist/cli/runbox.mjs');

const io = processIo();
const code = await main(process.argv.slice(2), io);
// Let stdout drain before exiting, so piped output is never cut short.
if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once('drain', r));
process.exit(code);
