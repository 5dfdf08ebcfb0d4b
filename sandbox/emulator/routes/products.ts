import { randomUUID } from 'node:crypto';
import { type Reply, apiError, empty, isRecord, json, notFound } from '../http';
import { type AddOn, type Flight, newStoreId } from '../state';
import { type ApiContext, type Handler, page, productFrom } from './context';

export const listApplications: Handler = (ctx) => {
  const apps = [...ctx.core.store.applications.values()].map((a) => ctx.core.store.renderApplication(a));
  return page(ctx, apps, 'applications');
};

export const getApplication: Handler = (ctx, params) => {
  const app = productFrom(ctx, { appId: params.appId as string });
  if (app.kind !== 'application') throw notFound();
  return json(200, ctx.core.store.renderApplication(app));
};

export const listFlights: Handler = (ctx, params) => {
  const app = productFrom(ctx, { appId: params.appId as string });
  const flights = ctx.core.store
    .flightsOf(app.kind === 'application' ? app.id : '')
    .map((f) => ctx.core.store.renderFlight(f));
  // "404: No package flights were found." (get-flights-for-an-app.md)
  return page(ctx, flights, `applications/${params.appId}/listflights`, { notFoundWhenEmpty: true });
};

export const listAppInAppProducts: Handler = (ctx, params) => {
  const app = productFrom(ctx, { appId: params.appId as string });
  const ids = ctx.core.store.addOnsOf(app.kind === 'application' ? app.id : '').map((a) => ({ inAppProductId: a.id }));
  // "404: No add-ons were found." (get-add-ons-for-an-app.md)
  return page(ctx, ids, `applications/${params.appId}/listinappproducts`, { notFoundWhenEmpty: true });
};

export const createFlight: Handler = async (ctx, params) => {
  const app = productFrom(ctx, { appId: params.appId as string });
  if (app.kind !== 'application') throw notFound();
  const body = (await ctx.body()) ?? {};
  if (!isRecord(body))
    throw apiError(400, 'InvalidParameterValue', 'The request body must be a JSON object.', 'flight');
  const { friendlyName, groupIds, rankHigherThan } = body;
  if (friendlyName !== undefined && (typeof friendlyName !== 'string' || friendlyName.trim() === '')) {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'friendlyName': expected a non-empty string.",
      'friendlyName',
    );
  }
  if (
    groupIds !== undefined &&
    !(Array.isArray(groupIds) && groupIds.every((g) => typeof g === 'string' || typeof g === 'number'))
  ) {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'groupIds': expected an array of group ids.",
      'groupIds',
    );
  }
  if (rankHigherThan !== undefined && rankHigherThan !== null && typeof rankHigherThan !== 'string') {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'rankHigherThan': expected a flight name.",
      'rankHigherThan',
    );
  }
  const siblings = ctx.core.store.flightsOf(app.id);
  const name = friendlyName ?? `Flight ${siblings.length + 1}`;
  if (siblings.some((f) => f.friendlyName.toLowerCase() === name.toLowerCase())) {
    throw apiError(409, 'InvalidState', `A flight named '${name}' already exists for this application.`, 'flight');
  }
  const flight: Flight = {
    kind: 'flight',
    flightId: randomUUID(),
    applicationId: app.id,
    friendlyName: name,
    groupIds: ((groupIds as unknown[] | undefined) ?? []).map(String),
    rankHigherThan: (rankHigherThan as string | undefined) ?? null,
    submissionCount: 0,
  };
  ctx.core.store.flights.set(flight.flightId, flight);
  return json(200, {
    flightId: flight.flightId,
    friendlyName: flight.friendlyName,
    groupIds: flight.groupIds,
    rankHigherThan: flight.rankHigherThan,
  });
};

export const getFlight: Handler = (ctx, params) => {
  const flight = productFrom(ctx, params) as Flight;
  return json(200, ctx.core.store.renderFlight(flight));
};

export const deleteFlight: Handler = (ctx, params) => {
  const flight = productFrom(ctx, params) as Flight;
  return deleteProduct(ctx, flight.flightId, ctx.core.store.flights);
};

export const listInAppProducts: Handler = (ctx) => {
  const addOns = [...ctx.core.store.addOns.values()].map((a) => ctx.core.store.renderAddOn(a));
  // "If you call this method without parameters, the response contains data for all add-ons";
  // "404: No add-ons were found." (get-all-add-ons.md)
  return page(ctx, addOns, 'inappproducts', { notFoundWhenEmpty: true, allWithoutTop: true });
};

export const createInAppProduct: Handler = async (ctx) => {
  const body = await ctx.body();
  if (!isRecord(body))
    throw apiError(400, 'InvalidParameterValue', 'The request body must be a JSON object.', 'inappproduct');
  const { applicationIds, productId, productType } = body;
  if (!Array.isArray(applicationIds) || applicationIds.length !== 1 || typeof applicationIds[0] !== 'string') {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'applicationIds': exactly one application id is required.",
      'applicationIds',
    );
  }
  if (typeof productId !== 'string' || !/^[\w.-]{1,50}$/.test(productId)) {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'productId': expected 1 to 50 letters, digits, '.', '_' or '-'.",
      'productId',
    );
  }
  if (productType !== 'Durable' && productType !== 'Consumable') {
    throw apiError(
      400,
      'InvalidParameterValue',
      "Invalid value for 'productType': expected Durable or Consumable.",
      'productType',
    );
  }
  const app = productFrom(ctx, { appId: applicationIds[0] });
  if (app.kind !== 'application') throw notFound();
  if (ctx.core.store.addOnsOf(app.id).some((a) => a.productId.toLowerCase() === productId.toLowerCase())) {
    throw apiError(
      409,
      'InvalidState',
      `An add-on with product id '${productId}' already exists for this application.`,
      'inappproduct',
    );
  }
  let id = newStoreId();
  while (ctx.core.store.addOn(id) || ctx.core.store.application(id)) id = newStoreId();
  const addOn: AddOn = {
    kind: 'inappproduct',
    id,
    productId,
    productType,
    applicationIds: [app.id],
    unsupportedFeatures: false,
    submissionCount: 0,
  };
  ctx.core.store.addOns.set(id, addOn);
  return json(200, ctx.core.store.renderAddOn(addOn));
};

export const getInAppProduct: Handler = (ctx, params) => {
  const addOn = productFrom(ctx, params) as AddOn;
  return json(200, ctx.core.store.renderAddOn(addOn));
};

export const deleteInAppProduct: Handler = (ctx, params) => {
  const addOn = productFrom(ctx, params) as AddOn;
  return deleteProduct(ctx, addOn.id, ctx.core.store.addOns);
};

/** A flight or an add-on gone from its table, and its submissions with it: 204, no body. */
function deleteProduct(ctx: ApiContext, id: string, table: Map<string, unknown>): Reply {
  for (const sub of [...ctx.core.store.submissions.values()]) {
    if (sub.productId === id) ctx.core.discardSubmission(sub);
  }
  table.delete(id);
  return empty(204);
}
