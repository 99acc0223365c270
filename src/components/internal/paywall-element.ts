import { LitElement } from 'lit';
import { consume } from '@lit/context';
import { property, state } from 'lit/decorators.js';
import { paywallContext, type PaywallConfigValue } from '../../context/paywall-context';
import { errorText, messages, toLocale, type Locale, type Messages } from '../../i18n/messages';
import { abortError, isBackendError, type BackendError } from '../../services/backend-error';
import { PaywallServices } from '../../services/paywall-services';
import type { StorageKind } from '../../services/session-store';
import { PaywallErrorEvent } from '../../events/error';

/** A failure as the reader is told of it. */
export interface Failure {
  /** The server's or the kit's code; `generic` for anything else thrown. */
  code: string;
  /** What to tell the reader, in the element's language. */
  message: string;
  /** The reader closed the hosted window: nothing happened, nothing was charged. */
  closed: boolean;
  error: BackendError | null;
}

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

/** An element's backend: its own attribute, then its `<paywall-config>`'s, then the page's meta tag. */
export function backendOf(el: Element, own: string | null | undefined, config: PaywallConfigValue | undefined): string | null {
  // Asked on every update: the page-wide lookup only when neither attribute nor config says.
  return own || config?.backend || el.ownerDocument.querySelector<HTMLMetaElement>('meta[name="paywall-backend"]')?.content || null;
}

/** An element's locale: its `<paywall-config>`'s, then the nearest `lang`, then the browser's. */
export function localeOf(el: Element, config: PaywallConfigValue | undefined): Locale {
  if (config?.locale) return config.locale;
  const lang = el.closest('[lang]')?.getAttribute('lang') ?? el.ownerDocument.documentElement.lang;
  return toLocale(lang || navigator.language);
}

/** The shared services of an element's backend, or null for none or a bad URL. */
export function servicesOf(backend: string | null, { storage = 'local', locale }: { storage?: StorageKind | undefined; locale: () => Locale }): PaywallServices | null {
  if (!backend) return null;
  try {
    return PaywallServices.for(backend, { storage, locale });
  } catch {
    return null;
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
    return backendOf(this, this.backend, this.config);
  }

  /** The shared services for this element's backend, or null with a configuration error shown. */
  protected get services(): PaywallServices | null {
    return servicesOf(this.backendUrl, { storage: this.config?.storage, locale: () => this.locale });
  }

  protected get locale(): Locale {
    return localeOf(this, this.config);
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

  /**
   * The one failure policy of the elements. Says nothing (null) for a cancelled request and for a
   * blocked window (the page is leaving for the hosted page in this tab); otherwise dispatches
   * `paywall-error` (for a window closed by hand only with `closedIsError`: for some elements that
   * is news, not an error) and returns what to tell the reader, for the element to show.
   */
  protected fail(error: unknown, { product, closedIsError = true }: { product?: string | null | undefined; closedIsError?: boolean } = {}): Failure | null {
    const known = isBackendError(error) ? error : error instanceof DOMException && error.name === 'AbortError' ? abortError() : null;
    const code = known?.code ?? 'generic';
    if (code === 'aborted' || code === 'popup_blocked') return null;
    const message = errorText(this.locale, code, error instanceof Error ? error.message : undefined);
    const closed = code === 'popup_closed';
    if (!closed || closedIsError) this.reportError(code, message, product);
    return { code, message, closed, error: known };
  }

  /** Dispatches `paywall-error` with what the reader is told. */
  protected reportError(code: string, message: string, product?: string | null): void {
    this.dispatchEvent(new PaywallErrorEvent(code, message, product ?? undefined));
  }

  /** What a reader sees for a problem: the backend is missing, or the element is set up wrong. */
  protected problemText(): string {
    return this.services ? this.t.errors.configuration_error! : this.t.configError;
  }
}
