import { createContext } from '@lit/context';
import type { Locale } from '../i18n/messages';
import type { StorageKind } from '../services/session-store';

/** What `<paywall-config>` hands to the elements inside it. */
export interface PaywallConfigValue {
  backend: string | null;
  locale: Locale | null;
  storage: StorageKind;
}

// A global symbol key, so elements from a second copy of the kit on the page still find the provider.
export const paywallContext = createContext<PaywallConfigValue | undefined>(Symbol.for('paywall-kit.config'));
