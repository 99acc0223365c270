import type { HostedPage } from './backend-client';
import type { HostedJourneys, JourneyOptions } from './hosted-journey';
import type { WalletStore } from './wallet-store';

/** The hosted journeys that charge nothing: sign-in (or sign-up) and a wallet top-up. */
export class AccountJourney {
  readonly #journeys: HostedJourneys;
  readonly #wallet: WalletStore;

  constructor(deps: { journeys: HostedJourneys; wallet: WalletStore }) {
    this.#journeys = deps.journeys;
    this.#wallet = deps.wallet;
  }

  /** Opens the hosted sign-in (or sign-up) window; call it inside a click. Resolves once signed in. */
  signIn(mode?: 'sign-in' | 'sign-up', options: JourneyOptions = {}): Promise<void> {
    const journeys = this.#journeys;
    const page: HostedPage = mode ?? (journeys.session.known ? 'sign-in' : 'sign-up');
    const running = journeys.join<void>(':sign-in');
    if (running) return running;
    const journey = journeys.begin(':sign-in', null, null, options);
    journey.openFirst('signing-in', journeys.client.hostedUrl(page));
    return journeys.run(journey, () => journey.startFirst());
  }

  /** Opens the hosted top-up window; call it inside a click. Resolves once topped up, with the balance reloaded. */
  topUp(options: JourneyOptions = {}): Promise<void> {
    const journeys = this.#journeys;
    const running = journeys.join<void>(':top-up');
    if (running) return running;
    const journey = journeys.begin(':top-up', null, null, options);
    const wallet = this.#wallet.wallet;
    journey.openFirst('topping-up', journeys.client.hostedUrl('top-up', wallet ? { currency: wallet.currency } : {}));
    return journeys.run(journey, async () => {
      await journey.startFirst();
      await this.#wallet.refresh(options.signal).catch(() => null);
    });
  }
}
