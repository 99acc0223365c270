import { configAround } from '../../context/paywall-context';
import { PaywallServices } from '../../services/paywall-services';
import { backendOf, localeOf, servicesOf } from './paywall-element';

/**
 * Queues the access checks of the paywall elements already in the page before they upgrade, as
 * each would (its backend, storage and locale, and the fragment a `<paywall-content>` shows), and
 * sends them: hundreds of elements take a while to construct, and the answer, which brings the
 * paid fragments along, need not wait for them. Each element's own check then joins this one.
 */
export function checkPageEarly(root: ParentNode = document): void {
  for (const el of root.querySelectorAll('paywall-content[product], paywall-button[product]:not([offer])')) {
    const config = configAround(el);
    const services = servicesOf(backendOf(el, el.getAttribute('backend'), config), { storage: config?.storage, locale: () => localeOf(el, config) });
    const shown = el.localName === 'paywall-content' && !el.hasAttribute('inline') && !el.hasAttribute('src');
    services?.entitlements.check(el.getAttribute('product')!, { content: shown }).catch(() => undefined);
  }
  PaywallServices.sendQueuedChecks();
}
