import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const executablePath = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  // Loopback only; 127.0.0.2 keeps the dev server off other interfaces and stays a secure context.
  hostname: '127.0.0.2',
  concurrency: 2,
  // msw's worker must be served from the root so its scope covers the test pages (see toolchain.md).
  middleware: [
    (ctx, next) => { if (ctx.path === '/mockServiceWorker.js') ctx.url = '/public/mockServiceWorker.js'; return next(); },
    // Stand-in for the backend's hosted pages: services tests open popups there and post from inside them.
    (ctx, next) => { if (!ctx.path.startsWith('/hosted/')) return next(); ctx.type = 'html'; ctx.body = '<!doctype html><title>hosted page stand-in</title>'; },
  ],
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) })],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      },
      createPage: ({ context }) => context.newPage({ type: 'window' }),
    }),
  ],
  testFramework: { config: { timeout: 10000 } },
};
