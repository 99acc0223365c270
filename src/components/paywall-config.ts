import { LitElement, css, html, type PropertyValues } from 'lit';
import { provide } from '@lit/context';
import { property, state } from 'lit/decorators.js';
import { configValue, isStorageKind, paywallContext, STORAGE_KINDS, type PaywallConfigValue } from '../context/paywall-context';

/**
 * Provides the backend, locale and session storage to every paywall element inside it.
 *
 * @tagname paywall-config
 * @summary Configuration for the paywall elements it contains.
 * @slot - The page content with paywall elements.
 */
export class PaywallConfigElement extends LitElement {
  static override styles = css`
    :host {
      display: contents;
    }
  `;

  /** Base URL of the backend, e.g. `https://pay.example`. */
  @property({ reflect: true }) backend?: string;

  /** `en` or `de`; defaults to the page's `lang`. */
  @property({ reflect: true }) locale?: string;

  /** Where the reader's session token is kept: `local` (default), `session` or `memory`. */
  @property({ reflect: true }) storage?: string;

  @provide({ context: paywallContext })
  @state()
  protected value: PaywallConfigValue = { backend: null, locale: null, storage: 'local' };

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('backend') || changed.has('locale') || changed.has('storage')) {
      if (this.storage && !isStorageKind(this.storage)) console.error(`<paywall-config>: storage="${this.storage}" is not one of ${STORAGE_KINDS.join(', ')}; using local`);
      this.value = configValue(this);
    }
  }

  protected override render() {
    return html`<slot></slot>`;
  }
}
