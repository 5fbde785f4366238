import { defineConfig } from 'rolldown';

// The CLI ships as one bundle: every `runbox NAME CMD` pays for module loading,
// and one file loads some 20 ms faster than the ~40 it is made of. The heavy
// libraries of the slow paths (client-node, ink) stay outside, loaded on demand.
export default defineConfig({
  input: { runbox: 'src/cli/main.ts' },
  platform: 'node',
  external: [/^@kubernetes\/client-node/, /^ink/, /^react/, /^node:/],
  output: {
    dir: 'dist/cli',
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
    cleanDir: true,
  },
});
