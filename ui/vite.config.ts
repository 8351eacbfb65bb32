import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The SDK's browser entry, compiled from its TypeScript source as part of this build (tsconfig.json
// maps the same name for type checking): the dashboard needs no built SDK and always runs the SDK
// as it is in this tree. Type-checking that source needs sdk/js's npm packages (the `ws` types),
// which scripts/setup.sh installs before anything is built.
const sdk = fileURLToPath(new URL('../sdk/js/src/browser.ts', import.meta.url));

// Relative asset paths: the same build is served by the local API and loaded by the desktop shell.
export default defineConfig({
  base: './',
  plugins: [svelte()],
  resolve: { alias: { '@payaiml/lightning-js': sdk } },
  // The dev server may serve the SDK's source from outside ui/.
  server: { fs: { allow: ['.', '../sdk/js/src'] } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  test: { include: ['src/**/*.test.ts'] },
});
