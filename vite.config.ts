import { defineConfig } from 'vite';

/** The browser kit: one self-contained ES module that a `<script type="module">` tag can load. */
export default defineConfig({
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'paywall-kit.js' },
    rolldownOptions: { output: { minify: true } },
  },
});
