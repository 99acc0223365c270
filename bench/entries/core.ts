// What a CMS article needs: configuration, the buy button and the paid content.
import { attachContextRoot, define } from '../../src/components/define';
import { PaywallButtonElement } from '../../src/components/paywall-button';
import { PaywallConfigElement } from '../../src/components/paywall-config';
import { PaywallContentElement } from '../../src/components/paywall-content';
import { checkPageEarly } from '../../src/components/internal/early-checks';

attachContextRoot();
checkPageEarly();
define('paywall-config', PaywallConfigElement);
define('paywall-button', PaywallButtonElement);
define('paywall-content', PaywallContentElement);
