import { defineConfig } from 'rolldown';

// The CLI ships bundled: every `runbox NAME CMD` pays for module loading, and
// one file loads some 20 ms faster than the ~40 it is made of. client-node goes
// into a chunk of its own, loaded only off the hot path. ink and react stay
// outside, loaded only to draw progress on a terminal.
//
// The sidecar ships as one self-contained file: `runbox create` stores it in a
// ConfigMap and runs it on a stock Node image, so there is no image to build.
// The controller ships the same way, from manifests/ (kustomize puts the
// bundle into a ConfigMap).
export default defineConfig([
  {
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
  },
  {
    input: { controller: 'controller/bundle.ts' },
    platform: 'node',
    external: [/^node:/],
    output: {
      dir: 'dist/controller',
      format: 'esm',
      entryFileNames: '[name].mjs',
      codeSplitting: false,
      cleanDir: true,
    },
  },
  {
    input: { sidecar: 'sidecar/main.ts' },
    platform: 'node',
    external: [/^node:/],
    output: {
      dir: 'dist/sidecar',
      format: 'esm',
      entryFileNames: '[name].mjs',
      codeSplitting: false,
      cleanDir: true,
    },
  },
]);
