/**
 * The IPAM's Prometheus metrics (`ovnts ipam --metrics`): requests by method,
 * route (the route's pattern, so ids do not make new series; `unmatched` for
 * paths no route serves) and status, and their latency, from a fastify
 * `onResponse` hook.
 */
import type { FastifyInstance } from 'fastify';
import { counter, histogram, type MetricsScope } from '../lib/metrics.js';

export function instrumentIpam(app: FastifyInstance, scope: MetricsScope): void {
  const requests = counter(scope, 'ipam_requests_total', 'Neutron API (and Keystone) requests answered, by method, route and status.', [
    'method',
    'route',
    'status',
  ]);
  const latency = histogram(
    scope,
    'ipam_request_duration_seconds',
    'Time from a request received to its response sent, by method and route.',
    ['method', 'route'],
  );
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    done();
  });
}
