#!/usr/bin/env node
// The runbox executable: hands argv and the process's streams to main and
// exits with what it returns (the remote command's own code, or 125).
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`runbox: needs Node.js 22.12 or newer, found ${process.versions.node}; install a current Node (e.g. 24 LTS)\n`);
  process.exit(125);
}

// Start-up is on the hot path of every command: reuse compiled code across runs.
module.enableCompileCache?.();
const { main, processIo } = await import('../dist/cli/runbox.mjs').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('runbox: the CLI is not built; run npm run build in the runbox checkout\n');
  process.exit(125);
});

const io = processIo();
const code = await main(process.argv.slice(2), io);
// Let stdout drain before exiting, so piped output is never cut short.
if (process.stdout.writableNeedDrain && !process.stdout.destroyed) await new Promise((r) => process.stdout.once('drain', r));
process.exit(code);
