import { LitElement } from 'lit';
import { consume } from '@lit/context';
import { property, state } from 'lit/decorators.js';
import { paywallContext, type PaywallConfigValue } from '../../context/paywall-context';
import { messages, toLocale, type Locale, type Messages } from '../../i18n/messages';
import { PaywallServices } from '../../services/paywall-services';
import { PaywallErrorEvent } from '../../events/error';

/** Connected elements, re-rendered when a `lang` attribute changes (an app switching language). */
const connected = new Set<PaywallElement>();
let langObserver: MutationObserver | null = null;

function followLang(el: PaywallElement, follow: boolean) {
  if (follow) connected.add(el);
  else connected.delete(el);
  if (connected.size && !langObserver) {
    langObserver = new MutationObserver(() => connected.forEach((each) => each.requestUpdate()));
    langObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'], subtree: true });
  } else if (!connected.size && langObserver) {
    langObserver.disconnect();
    langObserver = null;
  }
}

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

  /** The problem last reported, so each one is logged once and a fixed one may be reported again. */
  #reported: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    followLang(this, true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    followLang(this, false);
  }

  protected get backendUrl(): string | null {
    // Asked on every update: the page-wide lookup only when neither attribute nor config says.
    return this.backend || this.config?.backend || this.ownerDocument.querySelector<HTMLMetaElement>('meta[name="paywall-backend"]')?.content || null;
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

  /**
   * Why the element cannot work (no or bad backend, else `attributeProblem`), or null. A new
   * problem is logged once and dispatched as `paywall-error`; call it from `willUpdate`, where
   * listeners have had their chance and nothing renders yet.
   */
  protected problem(attributeProblem: () => string | null = () => null): string | null {
    const problem = this.services
      ? attributeProblem()
      : this.backendUrl
        ? `invalid backend URL "${this.backendUrl}"`
        : 'no backend: add backend="…", a <paywall-config backend="…"> around it, or <meta name="paywall-backend" content="…">';
    if (problem && problem !== this.#reported) {
      console.error(`<${this.localName}>: ${problem}`, this);
      this.dispatchEvent(new PaywallErrorEvent('configuration_error', problem));
    }
    this.#reported = problem;
    return problem;
  }

  /** What a reader sees for a problem: the backend is missing, or the element is set up wrong. */
  protected problemText(): string {
    return this.services ? this.t.errors.configuration_error! : this.t.configError;
  }
}
