import { PaywallServices } from '../services/paywall-services';
import { attachContextRoot, define } from './define';
import { checkPageEarly } from './internal/early-checks';
import { PaywallButtonElement } from './paywall-button';
import { PaywallConfigElement } from './paywall-config';
import { PaywallContentElement } from './paywall-content';
import { ScaHandlerElement } from './sca-handler';
import { SubscribeFormElement } from './subscribe-form';
import { WalletBalanceElement } from './wallet-balance';
import { WalletConnectElement } from './wallet-connect';

attachContextRoot();
checkPageEarly();
define('paywall-config', PaywallConfigElement);
define('paywall-button', PaywallButtonElement);
define('paywall-content', PaywallContentElement);
define('wallet-balance', WalletBalanceElement);
define('subscribe-form', SubscribeFormElement);
define('sca-handler', ScaHandlerElement);
define('wallet-connect', WalletConnectElement);
// Elements the early pass could not see (in shadow roots, or buying signed offers) upgraded just
// now and queued their checks: they go out before their first render rather than after it.
PaywallServices.sendQueuedChecks();

declare global {
  interface HTMLElementTagNameMap {
    'paywall-config': PaywallConfigElement;
    'paywall-button': PaywallButtonElement;
    'paywall-content': PaywallContentElement;
    'wallet-balance': WalletBalanceElement;
    'subscribe-form': SubscribeFormElement;
    'sca-handler': ScaHandlerElement;
    'wallet-connect': WalletConnectElement;
  }
}
