// Telephony first: how fast the in-process webhook sender may start deliveries.
//
// The sender shares its process's event loop (and, on a small machine, the cores) with the telephony
// API. Every delivery costs CPU here (a POST, its signature, bookkeeping) and at the receiver; at full
// speed two deliveries per set_status halved the set_status throughput of a saturated 2-core server
// (bench/webhooks.ts). A live call waiting for get_data matters more than a billing system hearing about
// a disposition a minute later, so deliveries yield when the loop is busy:
//
// - Every `windowMs` the loop's utilization over the window (performance.eventLoopUtilization: the share
//   of time not spent waiting for I/O) is compared with two marks. At or above HIGH the start rate is
//   halved, never below `busyRate`; below LOW it is doubled, between the marks raised by a quarter, and
//   past the delivery ceiling it is no limit.
// - With the loop saturated by telephony the sender runs at `busyRate` (CRM_WEBHOOK_BUSY_RATE, a second:
//   delivery starts plus outbox rows fanned out into deliveries): events are never starved, and a backlog held during a peak is sent when the
//   peak passes (the outbox is on disk; its depth is the callcrm_webhook_outbox_pending metric). On a
//   loop that telephony leaves idle the sender settles around the marks, at most of its full speed.
//
// A sender in a process without telephony (CRM_WEBHOOK_SENDER=false on the API processes) is paced the
// same way against its own loop, which it alone keeps busy.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export const HIGH = 0.9;
export const LOW = 0.7;
/** A rate above this is no limit at all (the concurrency bound is then the only one). */
const UNLIMITED = 100_000;

export interface Pace {
  /** Counts a delivery start and answers true when one may start now; false: wait `untilNextWindow()` ms. */
  take(): boolean;
  /** Starts left in this window (Infinity: no limit); other paced work (the outbox fan-out) uses them too. */
  allowance(): number;
  /** Counts n units of other paced work (outbox rows fanned out) against the window. */
  charge(n: number): void;
  untilNextWindow(): number;
  /** The current start rate, deliveries a second (Infinity: no limit). */
  rate(): number;
  stop(): void;
}

export interface PaceOptions {
  /** Deliveries a second the sender keeps while the loop is saturated. */
  busyRate: number;
  windowMs?: number;
  /** The loop's utilization since the last call, 0..1 (tests give their own). */
  utilization?: () => number;
}

function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

export function startPace({ busyRate, windowMs = 100, utilization = loopUtilization() }: PaceOptions): Pace {
  let rate = Infinity;
  let started = 0;
  let windowStart = performance.now();
  const adjust = () => {
    const u = utilization();
    // The rate actually used in the window: halving an unused allowance would not slow anything down.
    const used = (started * 1000) / windowMs;
    if (u >= HIGH) rate = Math.max(busyRate, Math.min(rate, used) / 2);
    else if (rate !== Infinity) {
      // Below the high mark the rate climbs again: doubling on a loop mostly idle, by a quarter between
      // the marks (the sender's own deliveries count in the loop's use, so waiting for the low mark
      // could keep a backlog at the busy rate long after the peak).
      const next = rate * (u < LOW ? 2 : 1.25);
      rate = next > UNLIMITED ? Infinity : next;
    }
    started = 0;
    windowStart = performance.now();
  };
  const timer = setInterval(adjust, windowMs);
  timer.unref();
  const perWindow = () => Math.max(1, (rate * windowMs) / 1000);
  return {
    take() {
      if (rate !== Infinity && started >= perWindow()) return false;
      started++;
      return true;
    },
    allowance: () => (rate === Infinity ? Infinity : Math.max(0, Math.floor(perWindow() - started))),
    charge(n) {
      started += n;
    },
    untilNextWindow: () => Math.max(1, windowStart + windowMs - performance.now()),
    rate: () => rate,
    stop: () => clearInterval(timer),
  };
}
