import type { EmulatorCore } from '../core';
import { type Reply, apiError, json, notFound } from '../http';
import type { Product } from '../state';

/** One API request, as the handlers see it. */
export interface ApiContext {
  core: EmulatorCore;
  method: string;
  query: URLSearchParams;
  /** The tenant of the bearer token. */
  tenantId: string;
  /** The JSON body; undefined when there is none. Throws 400 when it is not JSON. */
  body(): Promise<unknown>;
}

export type Params = Record<string, string>;
export type Handler = (ctx: ApiContext, params: Params) => Reply | Promise<Reply>;

/**
 * The product named by the path: an app, a flight of it, or an add-on. An app using features the
 * API does not support answers 409 to every call on it, its flights included.
 */
export function productFrom(ctx: ApiContext, params: Params): Product {
  const { store } = ctx.core;
  if (params.appId !== undefined) {
    const app = store.application(params.appId);
    if (!app) throw notFound();
    if (app.unsupportedFeatures) {
      throw apiError(
        409,
        'InvalidState',
        'The application uses Partner Center features that are not supported by the submission API. Use Partner Center for this app.',
        'application',
      );
    }
    if (params.flightId === undefined) return app;
    const flight = store.flight(app.id, params.flightId);
    if (!flight) throw notFound();
    return flight;
  }
  const addOn = params.addOnId !== undefined ? store.addOn(params.addOnId) : undefined;
  if (!addOn) throw notFound();
  if (addOn.unsupportedFeatures) {
    // Store-managed consumables are not supported by the API: 409 (create-and-manage-submissions-using-windows-store-services.md).
    throw apiError(
      409,
      'InvalidState',
      'The add-on uses Partner Center features that are not supported by the submission API. Use Partner Center for this add-on.',
      'inappproduct',
    );
  }
  return addOn;
}

/**
 * `{value, totalCount, @nextLink?}` for `top` and `skip`. The next link is relative to
 * /v1.0/my/ and written as the docs show it: `inappproducts/?skip=5&top=5`.
 */
export function page(
  ctx: ApiContext,
  items: unknown[],
  path: string,
  options: { notFoundWhenEmpty?: boolean; allWithoutTop?: boolean } = {},
): Reply {
  if (options.notFoundWhenEmpty && items.length === 0) throw notFound();
  const number = (name: string, fallback: number): number => {
    const raw = ctx.query.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || (name === 'top' && value === 0)) {
      throw apiError(
        400,
        'InvalidParameterValue',
        `The value '${raw}' is not valid for the parameter '${name}'.`,
        name,
      );
    }
    return value;
  };
  const top = number('top', options.allWithoutTop ? Math.max(1, items.length) : ctx.core.config.defaultPageSize);
  const skip = number('skip', 0);
  const body: Record<string, unknown> = { value: items.slice(skip, skip + top), totalCount: items.length };
  if (skip + top < items.length) body['@nextLink'] = `${path}/?skip=${skip + top}&top=${top}`;
  return json(200, body);
}
