/**
 * The worker's lifecycle, as an explicit state machine:
 *
 *   starting ──► running ──► draining ──► stopped
 *      │            │  ▲         │
 *      │            │  └─────────┘ (control plane lifts the drain)
 *      └────────────┴────────────┴──► failed   (unrecoverable: start failed, node revoked)
 *   starting/running/draining ──► stopped      (close())
 *
 * - starting: loading the credential, joining, first catalogue/settings fetch, binding sockets.
 * - running: serving sessions and opens.
 * - draining: existing attachments keep working; new sessions and opens get DRAINING. Entered
 *   when the control plane drains the node, or at the start of a graceful shutdown.
 * - stopped: everything closed. Terminal.
 * - failed: stopped because of an error (the reason is kept). Terminal.
 */
import { EventEmitter } from "node:events";

export type WorkerState = "starting" | "running" | "draining" | "stopped" | "failed";

const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  starting: ["running", "stopped", "failed"],
  running: ["draining", "stopped", "failed"],
  draining: ["running", "stopped", "failed"],
  stopped: [],
  failed: [],
};

export class InvalidTransitionError extends Error {
  constructor(readonly from: WorkerState, readonly to: WorkerState) {
    super(`worker cannot go from ${from} to ${to}`);
    this.name = "InvalidTransitionError";
  }
}

export class WorkerStateMachine extends EventEmitter<{ change: [to: WorkerState, from: WorkerState, reason: string] }> {
  private current: WorkerState = "starting";
  /** Why the worker is in its current state (shown by /healthz). */
  reason = "starting";

  get state(): WorkerState {
    return this.current;
  }

  /** True in the two terminal states. */
  get terminal(): boolean {
    return this.current === "stopped" || this.current === "failed";
  }

  /** Moves to `to`; a transition to the current state is a no-op. Throws on illegal moves. */
  transition(to: WorkerState, reason: string): void {
    if (to === this.current) return;
    if (!ALLOWED[this.current].includes(to)) throw new InvalidTransitionError(this.current, to);
    const from = this.current;
    this.current = to;
    this.reason = reason;
    this.emit("change", to, from, reason);
  }
}
