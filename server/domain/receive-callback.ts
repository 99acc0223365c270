import type { Logger } from 'pino';
import type { ProviderCallbacksTable } from '../store/schema';
import type { CallbackLog } from './callback-log';
import { CallbackRejected, type CallbackVerdict, type PaymentProvider, type ProviderCallback, type ProviderReply } from '../providers/payment-provider';
import { ProviderEventRejected, type ProviderEventProcessor } from './provider-event-processor';

export interface CallbackDeps {
  providerEvents: ProviderEventProcessor;
  callbackLog: CallbackLog;
  logger: Logger;
}

/**
 * One request from a provider, a server-to-server callback or the reader's signed return: `verify`
 * (the adapter) says what it means, the processor applies its events once, and it is recorded raw
 * for audit with what it led to, a refusal logged too. Gives the answer the provider expects, or
 * null when `verify` found nothing to verify (a return without provider data: nothing is recorded).
 */
export async function receiveCallback(
  { providerEvents, callbackLog, logger }: CallbackDeps,
  provider: PaymentProvider,
  callback: ProviderCallback,
  verify: (callback: ProviderCallback) => Promise<CallbackVerdict | null>,
): Promise<ProviderReply | null> {
  const secrets = provider.secretParams ?? [];
  const record = (outcome: ProviderCallbacksTable['outcome'], detail: string | null) => callbackLog.record({
    provider: provider.name, method: callback.method, query: redact(callback.url.search.replace(/^\?/, ''), secrets),
    body: callback.body === null ? null : redact(callback.body, secrets), remote_address: callback.remoteAddress, outcome, detail,
  });
  let verdict;
  try {
    verdict = await verify(callback);
  } catch (error) {
    if (!(error instanceof CallbackRejected)) throw error;
    logger.warn({ provider: provider.name, path: callback.url.pathname, detail: error.detail }, 'provider callback rejected');
    await record('rejected', error.detail);
    return error.reply;
  }
  if (!verdict) return null;
  try {
    const { applied, duplicates } = await providerEvents.apply(provider.name, verdict.events);
    await record(applied > 0 ? 'applied' : duplicates > 0 ? 'duplicate' : 'ignored', verdict.events.map((e) => e.kind).join(',') || null);
    // Not awaited: follow-up calls to the provider never delay its answer.
    if (applied > 0) provider.afterApplied?.(verdict);
  } catch (error) {
    if (!(error instanceof ProviderEventRejected)) throw error;
    logger.warn({ provider: provider.name, path: callback.url.pathname, code: error.code }, 'provider event rejected');
    await record('rejected', `${error.code}: ${error.message}`);
    return provider.errorReply;
  }
  return verdict.reply;
}

/** A query string or form body as received, with the values of `secrets` replaced (the rest keeps its exact encoding). */
function redact(encoded: string, secrets: readonly string[]): string {
  if (!secrets.length) return encoded;
  return encoded.split('&').map((pair) => {
    const name = pair.split('=', 1)[0]!;
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // Not valid percent-encoding: compare the name as it is.
    }
    return secrets.includes(decoded) ? `${name}=[redacted]` : pair;
  }).join('&');
}
