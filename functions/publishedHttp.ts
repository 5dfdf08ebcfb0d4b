/**
 * GET /api/products/{kind}/{id}/published[?applicationId=...]: a product's last published
 * submission, secrets removed, for `store-submitter pull`. The Store credential stays in the
 * app; callers need only the function key. Read only: nothing in the Store changes.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { config } from '../lib/config';
import { isStoreRequestError } from '../lib/errors';
import { ProductRouteError, productOfRoute } from '../lib/productRoute';
import { productFacts, publicSubmission } from '../lib/published';
import { redact } from '../lib/redact';
import { kindInfo, submissionIdIn } from '../lib/store/kinds';
import { storeClientFor } from '../lib/store/client';
import { answering, problem } from './answers';

/** The published submission of the product the route names, or the API's JSON error saying why there is none. */
export async function getPublished(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let ref;
  try {
    ref = productOfRoute(request.params.kind ?? '', request.params.id ?? '', request.query.get('applicationId'));
  } catch (e) {
    if (e instanceof ProductRouteError) return problem(e.status, e.code, e.message);
    throw e;
  }
  const store = storeClientFor(config().store, {
    logger: (line) =>
      context.log(
        redact(
          `published: ${line.method} ${line.path} -> ${line.status ?? line.error ?? 'no answer'} in ${line.durationMs} ms (MS-CorrelationId ${line.correlationId ?? 'none'})`,
        ),
      ),
  });
  const correlationIds: string[] = [];
  try {
    const product = await store.getProduct(ref);
    correlationIds.push(product.correlationId);
    const submissionId = submissionIdIn(product.value, kindInfo(ref.kind).publishedField);
    if (!submissionId)
      return problem(
        404,
        'NoPublishedSubmission',
        `The ${ref.kind === 'addon' ? 'add-on' : ref.kind} has no published submission yet: there is nothing to pull. Make its first submission in Partner Center.`,
        { correlationIds },
      );
    const submission = await store.getSubmission(ref, submissionId);
    correlationIds.push(submission.correlationId);
    return {
      status: 200,
      jsonBody: {
        product: productFacts(ref, product.value),
        submission: publicSubmission(submission.value),
        correlationIds,
      },
    };
  } catch (e) {
    if (!isStoreRequestError(e)) throw e;
    const ids = [...correlationIds, ...(e.correlationId ? [e.correlationId] : [])];
    if (e.status === 404)
      return problem(
        404,
        'ProductNotFound',
        `The Store has no ${ref.kind === 'addon' ? 'add-on' : ref.kind} by that id.`,
        {
          correlationIds: ids,
        },
      );
    if (e.status !== undefined && e.status < 500 && e.status !== 429 && e.status !== 408)
      return problem(502, 'StoreRefused', `The Store refused the call: ${e.message}`, {
        storeStatus: e.status,
        correlationIds: ids,
      });
    return problem(503, 'StoreUnavailable', `The Store did not answer; trying again later may help: ${e.message}`, {
      correlationIds: ids,
    });
  }
}

app.http('getPublished', {
  methods: ['GET'],
  route: 'products/{kind}/{id}/published',
  authLevel: 'function',
  handler: answering(getPublished),
});
