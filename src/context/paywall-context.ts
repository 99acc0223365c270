import { createContext } from '@lit/context';
import { toLocale, type Locale } from '../i18n/messages';
import type { StorageKind } from '../services/session-store';

export const STORAGE_KINDS: readonly StorageKind[] = ['local', 'session', 'memory'];

/** What `<paywall-config>` hands to the elements inside it. */
export interface PaywallConfigValue {
  backend: string | null;
  locale: Locale | null;
  storage: StorageKind;
}

/** The value of a `<paywall-config>` with these attributes; an unknown storage is local. */
export function configValue(attributes: { backend?: string | null | undefined; locale?: string | null | undefined; storage?: string | null | undefined }): PaywallConfigValue {
  const { backend, locale, storage } = attributes;
  return {
    backend: backend?.trim() || null,
    locale: locale ? toLocale(locale) : null,
    storage: storage && isStorageKind(storage) ? storage : 'local',
  };
}

export function isStorageKind(storage: string): storage is StorageKind {
  return STORAGE_KINDS.includes(storage as StorageKind);
}

/** The config attributes of the `<paywall-config>` around `el` in its tree, if any (also before it upgrades). */
export function configAround(el: Element): PaywallConfigValue | undefined {
  const config = el.closest('paywall-config');
  return config ? configValue({ backend: config.getAttribute('backend'), locale: config.getAttribute('locale'), storage: config.getAttribute('storage') }) : undefined;
}

// A global symbol key, so elements from a second copy of the kit on the page still find the provider.
export const paywallContext = createContext<PaywallConfigValue | undefined>(Symbol.for('paywall-kit.config'));
