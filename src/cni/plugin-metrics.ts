/**
 * The Docker plugin's Prometheus metrics (`ovnts docker-plugin --metrics`):
 * libnetwork calls by method (`NetworkDriver.Join`, `IpamDriver.RequestAddress`...)
 * and HTTP status, and their latency.
 */
import { counter, histogram, secondsSince, type MetricsScope } from '../lib/metrics.js';

/** Counts one answered call to `method` (the request path); `t0` a clockNow() reading from when it arrived. */
export type PluginCallRecorder = (method: string, status: number, t0: number) => void;

export function pluginCallMetrics(scope: MetricsScope): PluginCallRecorder {
  const calls = counter(scope, 'docker_plugin_requests_total', 'libnetwork plugin calls answered, by method and HTTP status.', [
    'method',
    'status',
  ]);
  const latency = histogram(scope, 'docker_plugin_request_duration_seconds', 'Time to answer a libnetwork plugin call, by method.', [
    'method',
  ]);
  return (path, status, t0) => {
    // Paths that name no method would each make a new series.
    const method = status === 404 || status === 405 ? 'other' : path;
    calls.inc({ method, status: String(status) });
    latency.observe({ method }, secondsSince(t0));
  };
}
