import { attachContextRoot, define } from './define';
import { PaywallButtonElement } from './paywall-button';
import { PaywallConfigElement } from './paywall-config';
import { PaywallContentElement } from './paywall-content';
import { WalletBalanceElement } from './wallet-balance';

attachContextRoot();
define('paywall-config', PaywallConfigElement);
define('paywall-button', PaywallButtonElement);
define('paywall-content', PaywallContentElement);
define('wallet-balance', WalletBalanceElement);

declare global {
  interface HTMLElementTagNameMap {
    'paywall-config': PaywallConfigElement;
    'paywall-button': PaywallButtonElement;
    'paywall-content': PaywallContentElement;
    'wallet-balance': WalletBalanceElement;
  }
}
