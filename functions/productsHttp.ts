/**
 * A product's package rollout, outside any run: GET /api/products/{kind}/{id}/rollout reads
 * it, POST changes it ({"percentage": N}, {"halt": true} or {"finalize": true}). The Store
 * credential stays in the app; callers need only the function key.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { config } from '../lib/config';
import { isStoreRequestError } from '../lib/errors';
import { redact } from '../lib/redact';
import {
  RolloutRequestError,
  changeRollout,
  describeChange,
  readRollout,
  rolloutChangeOf,
  type RolloutView,
} from '../lib/rollout';
import { ProductRouteError, productOfRoute } from '../lib/productRoute';
import { storeClientFor, type StoreClient } from '../lib/store/client';
import type { ProductRef } from '../lib/store/kinds';
import { answering, problem } from './answers';

function storeFor(context: InvocationContext): StoreClient {
  return storeClientFor(config().store, {
    logger: (line) =>
      context.log(
        redact(
          `rollout: ${line.method} ${line.path} -> ${line.status ?? line.error ?? 'no answer'} in ${line.durationMs} ms (MS-CorrelationId ${line.correlationId ?? 'none'})`,
        ),
      ),
  });
}

/** The answer: the rollout, and where it came from. */
function shown(rollout: RolloutView): HttpResponseInit {
  return { status: 200, jsonBody: rollout };
}

/** Our refusals and the Store's own errors as the API's JSON errors, each with the Store call's correlation id. */
async function answered(run: () => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ProductRouteError) return problem(e.status, e.code, e.message);
    if (e instanceof RolloutRequestError)
      return problem(e.status, e.code, e.message, e.correlationId ? { correlationId: e.correlationId } : {});
    if (isStoreRequestError(e) && e.status !== undefined && e.status < 500 && e.status !== 429)
      return problem(502, 'StoreRefused', `The Store refused the call: ${e.message}`, {
        storeStatus: e.status,
        ...(e.correlationId ? { correlationId: e.correlationId } : {}),
      });
    if (isStoreRequestError(e))
      return problem(503, 'StoreUnavailable', `The Store did not answer; trying again later may help: ${e.message}`, {
        ...(e.correlationId ? { correlationId: e.correlationId } : {}),
      });
    throw e;
  }
}

/** The app or flight the route names: add-ons have no package rollout. */
function productOf(request: HttpRequest): ProductRef {
  return productOfRoute(request.params.kind ?? '', request.params.id ?? '', request.query.get('applicationId'), [
    'app',
    'flight',
  ]);
}

/** GET /api/products/{kind}/{id}/rollout[?applicationId=...]: the rollout of the published submission. */
export async function getRollout(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answered(async () => {
    return shown(await readRollout(storeFor(context), productOf(request)));
  });
}

/** POST /api/products/{kind}/{id}/rollout[?applicationId=...] with {"percentage": N} | {"halt": true} | {"finalize": true}. */
export async function postRollout(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return answered(async () => {
    const product = productOf(request);
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      body = undefined;
    }
    const change = rolloutChangeOf(body);
    const rollout = await changeRollout(storeFor(context), product, change);
    context.log(
      `rollout of submission ${rollout.submissionId}: ${describeChange(change)} -> ${rollout.status} ${rollout.percentage}% (MS-CorrelationId ${rollout.correlationIds.at(-1) ?? 'none'})`,
    );
    return shown(rollout);
  });
}

app.http('getRollout', {
  methods: ['GET'],
  route: 'products/{kind}/{id}/rollout',
  authLevel: 'function',
  handler: answering(getRollout),
});

app.http('postRollout', {
  methods: ['POST'],
  route: 'products/{kind}/{id}/rollout',
  authLevel: 'function',
  handler: answering(postRollout),
});
