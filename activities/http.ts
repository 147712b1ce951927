import { ApplicationFailure } from '@temporalio/common';
import { signedHeaders } from '../infra/hmac';
import { traceHeaders } from '../infra/trace-context';

export interface SignedPostResult {
  status: number;
  /** The receiver answered that it had already processed this idempotency key. */
  duplicate: boolean;
}

/**
 * POSTs a signed JSON body. A 4xx other than 408/409/429 cannot succeed on retry: non-retryable.
 * 409 from a deduplicating receiver means "already done with this key": success, not a failure.
 */
export async function signedPost(
  url: string,
  secret: string,
  payload: unknown,
  idempotencyKey: string,
  failureType: string,
  timeoutMs = 10_000,
): Promise<SignedPostResult> {
  const body = JSON.stringify(payload);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      // Inside a trace (a delivery's, an activity's) the receiver gets its traceparent: it may join the trace.
      headers: { ...signedHeaders(secret, body, idempotencyKey), ...traceHeaders() },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw ApplicationFailure.retryable(
      `${failureType}: receiver unreachable (${(err as Error).name})`,
      `${failureType}Unavailable`,
    );
  }
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return { status: response.status, duplicate: false };
  if (response.status === 409) return { status: response.status, duplicate: true };
  if (response.status >= 500 || response.status === 408 || response.status === 429)
    throw ApplicationFailure.retryable(
      `${failureType}: receiver answered ${response.status}`,
      `${failureType}Unavailable`,
    );
  throw ApplicationFailure.nonRetryable(
    `${failureType}: receiver refused with ${response.status}`,
    `${failureType}Rejected`,
  );
}
