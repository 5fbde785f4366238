import { defineConfig } from 'rolldown';

// The CLI ships bundled: every `runbox NAME CMD` pays for module loading, and
// one file loads some 20 ms faster than the ~40 it is made of. client-node goes
// into a chunk of its own, loaded only off the hot path: bundled, its ~1000
// files load in half the time (runbox list: ~0.65 s instead of ~1.4 s). ink and
// react stay outside, loaded only to draw progress on a terminal.
export default defineConfig({
  input: { runbox: 'src/cli/main.ts' },
  platform: 'node',
  external: [/^ink/, /^react/, /^node:/],
  output: {
    dir: 'dist/cli',
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
    cleanDir: true,
  },
});
