/** Codes the kit itself produces (status 0); every other code is the server's `error.code`. */
export type ClientErrorCode =
  | 'network_error'
  | 'invalid_response'
  | 'aborted'
  | 'popup_closed'
  | 'popup_blocked'
  | 'purchase_in_progress'
  | 'configuration_error';

export interface BackendErrorDetails {
  /** HTTP status; 0 for errors that happen in the browser. */
  status?: number;
  signInUrl?: string;
  topUpUrl?: string;
  missing?: number;
  /** `cancel_at_provider`: the payment provider's page where the reader cancels. */
  cancelUrl?: string;
  cause?: unknown;
}

/**
 * The one error type the services throw. Callers branch on `code` (the server's machine-readable
 * code, or one of {@link ClientErrorCode}), never on `message`.
 */
export class BackendError extends Error {
  readonly code: string;
  readonly status: number;
  readonly signInUrl?: string;
  readonly topUpUrl?: string;
  readonly cancelUrl?: string;
  readonly missing?: number;

  constructor(code: string, message: string, details: BackendErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BackendError';
    this.code = code;
    this.status = details.status ?? 0;
    if (details.signInUrl !== undefined) this.signInUrl = details.signInUrl;
    if (details.topUpUrl !== undefined) this.topUpUrl = details.topUpUrl;
    if (details.missing !== undefined) this.missing = details.missing;
    // Only a web page: the link is shown to the reader.
    if (details.cancelUrl !== undefined && /^https?:\/\//.test(details.cancelUrl)) this.cancelUrl = details.cancelUrl;
  }
}

/** True for a BackendError, also one thrown by a second copy of the kit on the page. */
export function isBackendError(error: unknown, code?: string): error is BackendError {
  const candidate = error as BackendError | null;
  return (
    (error instanceof BackendError || (candidate instanceof Error && candidate.name === 'BackendError' && typeof candidate.code === 'string')) &&
    (code === undefined || candidate!.code === code)
  );
}

/** The DOMException an aborted signal carries, turned into the kit's error. */
export function abortError(signal?: AbortSignal): BackendError {
  return new BackendError('aborted', 'The request was cancelled.', { cause: signal?.reason });
}

/** Wraps anything thrown into a BackendError, keeping BackendErrors as they are. */
export function toBackendError(error: unknown, signal?: AbortSignal): BackendError {
  if (isBackendError(error)) return error;
  if (signal?.aborted || (error instanceof DOMException && error.name === 'AbortError')) return abortError(signal);
  return new BackendError('network_error', 'The payment service could not be reached. Check the connection and try again.', { cause: error });
}
