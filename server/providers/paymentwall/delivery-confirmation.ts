import type { Logger } from 'pino';
import type { Clock } from '../../clock';

/** Server-to-server calls to Paymentwall give up after this, so a slow API never holds a reader's request or a retry loop. */
export const API_TIMEOUT_MS = 10_000;

/** One delivered payment, as Paymentwall's Delivery Confirmation API describes it. */
export interface Delivery {
  /** The pingback's `ref`. */
  paymentId: string;
  /** Our checkout id (also the widget's ag_external_id). */
  checkoutId: string;
  isTest: boolean;
  email: string;
  description: string;
}

export interface DeliveryConfirmationOptions {
  apiBaseUrl: string;
  secretKey: string;
  clock: Clock;
  logger: Logger;
  /** Tries per status before giving up. */
  attempts: number;
  /** The wait after the first failure; it doubles after each further one. */
  firstRetryMs: number;
  wait?: (ms: number) => Promise<void>;
}

/** Paymentwall's datetime format: `2017/01/15 15:04:55 +0000` (we say UTC). */
function paymentwallTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getUTCFullYear()}/${p(at.getUTCMonth() + 1)}/${p(at.getUTCDate())} ${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())} +0000`;
}

const unrefWait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Tells Paymentwall that a digital payment was delivered: `order_placed`, then `delivered`,
 * each retried with exponential backoff while the API fails. It runs after the pingback is
 * answered and never throws: a failure is logged (never the key) and Paymentwall's own
 * reminders take over.
 */
export class DeliveryConfirmation {
  readonly #wait: (ms: number) => Promise<void>;

  constructor(private readonly options: DeliveryConfirmationOptions) {
    this.#wait = options.wait ?? unrefWait;
  }

  async confirm(delivery: Delivery): Promise<void> {
    for (const status of ['order_placed', 'delivered'] as const) {
      if (!(await this.#send(delivery, status))) return;
    }
  }

  async #send(delivery: Delivery, status: 'order_placed' | 'delivered'): Promise<boolean> {
    const { apiBaseUrl, secretKey, clock, logger, attempts, firstRetryMs } = this.options;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const now = paymentwallTime(clock.now());
      const body = new URLSearchParams({
        payment_id: delivery.paymentId,
        merchant_reference_id: delivery.checkoutId,
        type: 'digital',
        is_test: delivery.isTest ? '1' : '0',
        status,
        estimated_delivery_datetime: now,
        estimated_update_datetime: now,
        reason: 'null',
        refundable: 'true',
        attachments: 'null',
        details: `Access to ${delivery.description} is granted in the reader's account`,
        product_description: delivery.description,
        'shipping_address[email]': delivery.email,
      });
      let problem: string;
      try {
        const response = await fetch(`${apiBaseUrl}/api/delivery`, { method: 'POST', headers: { 'x-apikey': secretKey, 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(API_TIMEOUT_MS) });
        const answer = await response.text();
        if (response.ok && /"success"\s*:\s*1\b/.test(answer)) return true;
        problem = `HTTP ${response.status}: ${answer.slice(0, 200)}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      logger.warn({ provider: 'paymentwall', paymentId: delivery.paymentId, status, attempt, attempts, problem }, 'paymentwall delivery confirmation failed');
      if (attempt < attempts) await this.#wait(firstRetryMs * 2 ** (attempt - 1));
    }
    return false;
  }
}
