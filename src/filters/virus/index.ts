// The virus filters of this build: clamd scanning plus the attachment policy, in one "virus"
// filter. Registry wiring (filters/index.ts) and metric registry wiring (runtime) are elsewhere.
import type { Registry } from "prom-client";
import type { Filter } from "../../pipeline/types.ts";
import { virusFilter } from "./virus-filter.ts";
import { virusMetrics } from "./metrics.ts";

export { virusFilter, recipientResult, SCAN_HEADER } from "./virus-filter.ts";
export { virusMetrics, type VirusMetrics } from "./metrics.ts";
export { ClamdClient, endpointName, type ClamdEndpoint, type ScanOutcome } from "./clamd-client.ts";
export { ClamdError, ClamdUnavailableError } from "./errors.ts";
export { parseVirusOptions, type VirusOptions } from "./options.ts";
export {
  notificationsFor,
  sendNotifications,
  senderIsLocal,
  type OutgoingNotification,
  type VirusVerdictInfo,
} from "./notifications.ts";

/** Pass the runtime's registry to count scans and scanner outages at /metrics. */
export function virusFilters(opts: { registry?: Registry } = {}): Filter[] {
  return [virusFilter({ metrics: virusMetrics(opts.registry) })];
}
