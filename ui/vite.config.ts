import { defineConfig } from 'vite';

// Relative asset paths: the same build is served by the local API and loaded by the desktop shell.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
