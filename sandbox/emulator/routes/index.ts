import type { Handler, Params } from './context';
import * as p from './products';
import * as s from './submissions';

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

const ROUTES: Route[] = [];
function route(method: string, pattern: string, handler: Handler): void {
  ROUTES.push({ method, segments: pattern.split('/'), handler });
}

/** Submission calls shared by apps, flights and add-ons; rollout calls only exist for apps and flights. */
function submissionRoutes(base: string, rollout: boolean): void {
  route('POST', `${base}/submissions`, s.createSubmission);
  route('GET', `${base}/submissions/:submissionId`, s.getSubmission);
  route('PUT', `${base}/submissions/:submissionId`, s.updateSubmission);
  route('DELETE', `${base}/submissions/:submissionId`, s.deleteSubmission);
  route('POST', `${base}/submissions/:submissionId/commit`, s.commitSubmission);
  route('GET', `${base}/submissions/:submissionId/status`, s.getStatus);
  if (!rollout) return;
  route('GET', `${base}/submissions/:submissionId/packagerollout`, s.getRollout);
  route('POST', `${base}/submissions/:submissionId/updatepackagerolloutpercentage`, s.updateRolloutPercentage);
  route('POST', `${base}/submissions/:submissionId/haltpackagerollout`, s.haltRollout);
  route('POST', `${base}/submissions/:submissionId/finalizepackagerollout`, s.finalizeRollout);
}

route('GET', 'applications', p.listApplications);
route('GET', 'applications/:appId', p.getApplication);
route('GET', 'applications/:appId/listflights', p.listFlights);
route('GET', 'applications/:appId/listinappproducts', p.listAppInAppProducts);
route('POST', 'applications/:appId/flights', p.createFlight);
route('GET', 'applications/:appId/flights/:flightId', p.getFlight);
route('DELETE', 'applications/:appId/flights/:flightId', p.deleteFlight);
route('GET', 'inappproducts', p.listInAppProducts);
route('POST', 'inappproducts', p.createInAppProduct);
route('GET', 'inappproducts/:addOnId', p.getInAppProduct);
route('DELETE', 'inappproducts/:addOnId', p.deleteInAppProduct);
submissionRoutes('applications/:appId', true);
submissionRoutes('applications/:appId/flights/:flightId', true);
submissionRoutes('inappproducts/:addOnId', false);

export type RouteMatch = { handler: Handler; params: Params } | { methodNotAllowed: true } | undefined;

/** Matches a path below /v1.0/my/ (literal segments case-insensitively, as the service does). */
export function matchRoute(method: string, path: string): RouteMatch {
  const parts = path.split('/').filter(Boolean);
  let pathMatched = false;
  for (const r of ROUTES) {
    if (r.segments.length !== parts.length) continue;
    const params: Params = {};
    const ok = r.segments.every((seg, i) => {
      const part = parts[i] as string;
      if (seg.startsWith(':')) {
        params[seg.slice(1)] = decodeURIComponent(part);
        return true;
      }
      return seg === part.toLowerCase();
    });
    if (!ok) continue;
    if (r.method === method) return { handler: r.handler, params };
    pathMatched = true;
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
