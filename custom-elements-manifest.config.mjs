/**
 * Documents every element from its JSDoc (@tagname, @slot, @csspart, @cssprop, @fires) into
 * dist/custom-elements.json, for docs and editor completion.
 */
export default {
  globs: ['src/components/*.ts', 'src/components/internal/paywall-element.ts'],
  exclude: ['src/components/define.ts', 'src/components/register.ts'],
  outdir: 'dist',
  litelement: true,
  plugins: [
    {
      name: 'paywall-events-only',
      // The analyzer also guesses events from `dispatchEvent(new X(code, …))` arguments; keep the documented `paywall-*` ones.
      packageLinkPhase({ customElementsManifest }) {
        for (const mod of customElementsManifest.modules) {
          for (const declaration of mod.declarations ?? []) {
            if (declaration.events) declaration.events = declaration.events.filter((event) => event.name?.startsWith('paywall-'));
          }
        }
      },
    },
  ],
};
