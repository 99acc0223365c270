import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin, type ResolvedConfig } from 'vite';

const ENTRY = 'paywall-kit.js';
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Writes `integrity.json` beside the built modules (`{ version, files: { name: "sha384-…" } }`) and
 * prints the entry's hash, for the `<script type="module" src="…/kit/<version>/paywall-kit.js"
 * integrity="sha384-…" crossorigin>` tag merchants pin. It hashes the files as written to disk.
 */
function kitIntegrity(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'paywall-kit-integrity',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    writeBundle(output, bundle) {
      const dir = output.dir ?? config.build.outDir;
      const files: Record<string, string> = {};
      for (const name of Object.keys(bundle).filter((file) => file.endsWith('.js')).sort()) {
        files[name] = `sha384-${createHash('sha384').update(readFileSync(join(dir, name))).digest('base64')}`;
      }
      writeFileSync(join(dir, 'integrity.json'), `${JSON.stringify({ version, files }, null, 2)}\n`);
      config.logger.info(`paywall-kit ${version}: /kit/${version}/${ENTRY} integrity="${files[ENTRY]}"`);
    },
  };
}

/** The browser kit: one self-contained ES module that a `<script type="module">` tag can load. */
export default defineConfig({
  publicDir: false,
  plugins: [kitIntegrity()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => ENTRY },
    rolldownOptions: { output: { minify: true } },
  },
});
