import { ContextRoot } from '@lit/context';

export const KIT_VERSION = '0.1.0';

const versionKey = Symbol.for('paywall-kit.version');
const rootKey = Symbol.for('paywall-kit.context-root');

type Registered = CustomElementConstructor & { [versionKey]?: string };

/**
 * Registers an element unless the tag is taken, so a page that loads the kit twice (an embed and
 * a plugin, say) keeps working; warns when the two copies differ in version.
 */
export function define(tag: string, element: CustomElementConstructor): void {
  const existing = customElements.get(tag) as Registered | undefined;
  if (existing) {
    if (existing[versionKey] !== KIT_VERSION) {
      console.warn(`paywall-kit ${KIT_VERSION}: <${tag}> is already defined by version ${existing[versionKey] ?? 'unknown'}; keeping that one.`);
    }
    return;
  }
  (element as Registered)[versionKey] = KIT_VERSION;
  customElements.define(tag, element);
}

/** Elements that upgrade before their `<paywall-config>` still receive its context. */
export function attachContextRoot(): void {
  const root = document.documentElement as HTMLElement & { [rootKey]?: ContextRoot };
  if (root[rootKey]) return;
  root[rootKey] = new ContextRoot();
  root[rootKey].attach(root);
}
