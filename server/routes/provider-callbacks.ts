import { Hono } from 'hono';
import type { AppEnv } from '../http/context';
import { CallbackRejected } from '../providers/payment-provider';
import { ProviderEventRejected } from '../providers/provider-event-processor';
import { limitBody } from '../http/body-limit';
import { MAX_CALLBACK_BYTES, readCallback } from '../providers/read-callback';
import type { ProviderCallbacksTable } from '../store/schema';
import type { Services } from '../services';

/**
 * `/callbacks/:provider`: Verotel postbacks, Paymentwall pingbacks. Every request is recorded raw
 * for audit with what it led to; the adapter verifies it, the processor applies its events once,
 * and the provider gets the answer it expects (a replay gets the same answer and changes nothing).
 */
export function providerCallbackRoutes({ providers, providerEvents, database, clock, logger }: Services) {
  return new Hono<AppEnv>()
    .use('/callbacks/*', limitBody(MAX_CALLBACK_BYTES, (c) => c.text('Payload too large', 413)))
    .on(['GET', 'POST'], '/callbacks/:provider', async (c) => {
      const name = c.req.param('provider');
      const provider = providers.get(name);
      if (!provider) return c.text('Not found', 404);
      const callback = await readCallback(c);
      const secrets = provider.secretParams ?? [];
      const record = async (outcome: ProviderCallbacksTable['outcome'], detail: string | null) => {
        await database.db.insertInto('provider_callbacks').values({
          provider: name, received_at: clock.now().getTime(), method: callback.method, query: redact(callback.url.search.replace(/^\?/, ''), secrets),
          body: callback.body === null ? null : redact(callback.body, secrets), remote_address: callback.remoteAddress, outcome, detail,
        }).execute();
      };
      let verdict;
      try {
        verdict = await provider.handleCallback(callback);
      } catch (error) {
        if (!(error instanceof CallbackRejected)) throw error;
        logger.warn({ provider: name, detail: error.detail }, 'provider callback rejected');
        await record('rejected', error.detail);
        return c.text(error.reply.body, error.reply.status);
      }
      try {
        const { applied, duplicates } = await providerEvents.apply(provider.name, verdict.events);
        await record(applied > 0 ? 'applied' : duplicates > 0 ? 'duplicate' : 'ignored', verdict.events.map((e) => e.kind).join(',') || null);
        // Not awaited: follow-up calls to the provider never delay its answer.
        if (applied > 0) provider.afterApplied?.(verdict);
      } catch (error) {
        if (!(error instanceof ProviderEventRejected)) throw error;
        logger.warn({ provider: name, code: error.code }, 'provider event rejected');
        await record('rejected', `${error.code}: ${error.message}`);
        return c.text(provider.errorReply.body, provider.errorReply.status);
      }
      return c.text(verdict.reply.body, verdict.reply.status);
    });
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
