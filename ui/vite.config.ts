import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// Tauri loads the built files from ui/dist; in development it points its webview at
// the dev server on port 1420 (src-tauri/tauri.conf.json), so the port must not move.
export default defineConfig(({ mode }) => ({
  plugins: [svelte(), svelteTesting()],
  base: './',
  clearScreen: false,
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  server: {
    port: 1420,
    strictPort: true,
    host: false,
    watch: { ignored: ['**/src-tauri/**'] },
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The Linux webview is WebKitGTK 2.4x (Safari 15-era engine).
    target: ['es2021', 'safari15'],
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
}));
