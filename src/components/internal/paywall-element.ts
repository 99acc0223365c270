import { LitElement } from 'lit';
import { consume } from '@lit/context';
import { property, state } from 'lit/decorators.js';
import { paywallContext, type PaywallConfigValue } from '../../context/paywall-context';
import { messages, toLocale, type Locale, type Messages } from '../../i18n/messages';
import { PaywallServices } from '../../services/paywall-services';
import { PaywallErrorEvent } from '../../events/error';

/**
 * Unregistered base of every paywall element: finds its backend (own `backend` attribute, then the
 * nearest `<paywall-config>`, then `<meta name="paywall-backend">`), its services and its locale.
 */
export class PaywallElement extends LitElement {
  /** Base URL of the backend; overrides `<paywall-config>` and the page's meta tag. */
  @property({ reflect: true }) backend?: string;

  @consume({ context: paywallContext, subscribe: true })
  @state()
  protected config?: PaywallConfigValue;

  #configErrorLogged = false;

  protected get backendUrl(): string | null {
    const meta = this.ownerDocument.querySelector<HTMLMetaElement>('meta[name="paywall-backend"]')?.content;
    return this.backend || this.config?.backend || meta || null;
  }

  /** The shared services for this element's backend, or null with a configuration error shown. */
  protected get services(): PaywallServices | null {
    const backend = this.backendUrl;
    if (!backend) return null;
    try {
      return PaywallServices.for(backend, { storage: this.config?.storage ?? 'local', locale: () => this.locale });
    } catch {
      return null;
    }
  }

  protected get locale(): Locale {
    if (this.config?.locale) return this.config.locale;
    const lang = this.closest('[lang]')?.getAttribute('lang') ?? this.ownerDocument.documentElement.lang;
    return toLocale(lang || navigator.language);
  }

  protected get t(): Messages {
    return messages(this.locale);
  }

  /** The reason the element cannot work, shown in place and logged once; null when configured. */
  protected configurationProblem(): string | null {
    if (this.services) return null;
    const problem = this.backendUrl ? `invalid backend URL "${this.backendUrl}"` : 'no backend: add backend="…", a <paywall-config backend="…"> around it, or <meta name="paywall-backend" content="…">';
    if (!this.#configErrorLogged) {
      this.#configErrorLogged = true;
      console.error(`<${this.localName}>: ${problem}`, this);
      this.dispatchEvent(new PaywallErrorEvent('configuration_error', problem));
    }
    return problem;
  }
}
